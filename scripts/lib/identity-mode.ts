// What the gateway does with an identity header a client sends (CLIENT_INTERNAL_ID_MODE): ignore
// or reject. Production remembers it in the state (output client_internal_id_mode), and every
// plan passes it back as TF_VAR_client_internal_id_mode, so a deploy, a rollback or a cost
// estimate never silently undoes a cutover. An environment variable rather than -var: a
// configuration from before the variable existed (a rollback to an old commit) ignores it
// instead of failing on an undeclared variable.

import { gcloud } from './cli.ts';
import { runtimeVar, type Command } from './command.ts';
import { PROJECT_ID } from './gcp.ts';
import type { VarSpec } from './env-schema.ts';
import { failureReason } from './exec.ts';
import { sourceOf } from './paths.ts';
import { StepFailure, type Step, type StepContext } from './runbook.ts';

export const MODES = ['ignore', 'reject'] as const;
export type IdentityMode = (typeof MODES)[number];

/** The gateway's own default, and what a state without the output runs. */
export const DEFAULT_MODE: IdentityMode = 'ignore';

export const IDENTITY_MODE = runtimeVar('CLIENT_INTERNAL_ID_MODE');
export const identityModeEnv = { TF_VAR_client_internal_id_mode: IDENTITY_MODE };

/** The newest gateway log line saying a client sent an identity header (30 days of logs are kept). */
export const lastClientIdentityHeader = gcloud`logging read ${'resource.type="cloud_run_revision" AND resource.labels.service_name="gateway" AND jsonPayload.event="client_identity_header"'} --project ${PROJECT_ID} --freshness=30d --limit=1 --format=${'value(timestamp)'}`;

export const checkMode = (v: string) => ((MODES as readonly string[]).includes(v) ? null : 'expected ignore or reject');

/** The deploy's parameter: set only by make production-cutover (or by hand, with the same effect). */
export const IDENTITY_MODE_PARAM: VarSpec = {
  name: 'CLIENT_INTERNAL_ID_MODE',
  description: 'Switch the gateway to ignore or reject client-sent identity headers in this deploy (make production-cutover sets it); unset keeps the mode production runs.',
  example: '',
  check: checkMode,
};

/** `tofu output` of an initialised configuration directory (the repository's, or a rollback worktree's). */
export const readDeployedMode = (output: (name: string) => Command) => output('client_internal_id_mode').captureInto(IDENTITY_MODE).allowExitCodes(1);

/** A step that fills IDENTITY_MODE: the parameter when given, else what the state records, else the default. */
export function keepIdentityModeStep(read: Command): Step {
  return {
    id: 'identity-mode',
    title: 'Keep the identity header mode production runs',
    code: sourceOf(import.meta.url),
    commands: [read],
    async run(ctx) {
      const asked = ctx.config.get('CLIENT_INTERNAL_ID_MODE');
      if (asked) {
        ctx.setValue(IDENTITY_MODE, asked);
        return { note: `${asked} (asked for)` };
      }
      const { mode, recorded } = await readModeFromState(ctx, read);
      return { note: recorded ? mode : `${mode} (the state records no mode yet)` };
    },
  };
}

/** Fill IDENTITY_MODE from the state; a state without the output runs the default. */
export async function readModeFromState(ctx: StepContext, read: Command): Promise<{ mode: string; recorded: boolean }> {
  const r = await ctx.run(read);
  if (r.exitCode === 0 && ctx.value(IDENTITY_MODE)) return { mode: ctx.value(IDENTITY_MODE), recorded: true };
  if (r.exitCode === 0 || /Output "client_internal_id_mode" not found|no outputs/i.test(r.stderr + r.stdout)) {
    ctx.setValue(IDENTITY_MODE, DEFAULT_MODE);
    return { mode: DEFAULT_MODE, recorded: false };
  }
  throw new StepFailure(`could not read the mode production runs from the state: ${failureReason(r)}`, r);
}
