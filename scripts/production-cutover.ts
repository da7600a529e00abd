// make production-cutover: the gateway stops tolerating identity headers sent by clients
// (CLIENT_INTERNAL_ID_MODE=reject: 400 instead of drop-and-count), through a normal deploy of the
// image production runs, and only when the last 7 days show no such header (FORCE=1 overrides,
// and asks first). MODE=ignore goes back. Every later deploy keeps the mode (identity-mode.ts).

import { make } from './lib/cli.ts';
import { isTrue } from './lib/confirm.ts';
import { failureReason } from './lib/exec.ts';
import { configVar, runtimeVar } from './lib/command.ts';
import { runIfMain } from './lib/engine.ts';
import { checkMode, lastClientIdentityHeader, readDeployedMode, readModeFromState } from './lib/identity-mode.ts';
import { repoInfra } from './lib/infra.ts';
import { apiFailure, parsePromResponse, queryCommands, readAccessToken } from './lib/monitoring.ts';
import { defineRunbook, StepFailure, type StepContext } from './lib/runbook.ts';

const DEPLOYED_IMAGE_TAG = runtimeVar('DEPLOYED_IMAGE_TAG');
const readImageTag = repoInfra.outputRaw('image_tag').captureInto(DEPLOYED_IMAGE_TAG);
const readMode = readDeployedMode(repoInfra.outputRaw);
const count7d = queryCommands.clientIdentityHeaders7d!;
const MODE = configVar('MODE');
const deployWithMode = make('production-deploy').withEnv({ CLIENT_INTERNAL_ID_MODE: MODE, IMAGE_TAG: DEPLOYED_IMAGE_TAG });

const target = (ctx: StepContext) => ctx.value(MODE);

/** How many identity headers clients sent in 7 days, and when the last one came; null when unreadable. */
async function evidence(ctx: StepContext): Promise<{ count: number | null; last: string; why?: string }> {
  const token = await ctx.attempt(readAccessToken);
  const [counted, last] = await Promise.all([token.ok ? ctx.attempt(count7d) : Promise.resolve(null), ctx.attempt(lastClientIdentityHeader)]);
  const lastSent = last.ok ? last.stdout.trim() || 'none in 30 days' : 'unknown';
  if (!counted) return { count: null, last: lastSent, why: `no access token: ${failureReason(token)}` };
  if (!counted.ok) return { count: null, last: lastSent, why: apiFailure(counted.stdout, counted.stderr, counted.exitCode) };
  try {
    return { count: Math.round(parsePromResponse(counted.stdout).reduce((sum, s) => sum + s.value, 0)), last: lastSent };
  } catch (error) {
    return { count: null, last: lastSent, why: (error as Error).message };
  }
}

export const cutover = defineRunbook({
  id: 'cutover',
  title: 'Switch client identity headers to reject',
  make: 'production-cutover',
  params: [
    { name: 'MODE', description: 'reject (default): clients sending x-internal-id and the like get 400; ignore: go back to dropping and counting them.', example: '', default: 'reject', check: checkMode },
    { name: 'FORCE', description: 'Set to 1 to switch to reject although clients sent identity headers in the last 7 days (asks first).', example: '', check: (v) => (/^[01]$/.test(v) ? null : 'expected 1 or 0') },
  ],
  steps: [
    { id: 'tofu-init', title: 'Initialise OpenTofu with the state bucket', commands: [repoInfra.init] },
    {
      id: 'deployed',
      title: 'Read the image tag and the mode production runs',
      commands: [readImageTag, readMode],
      async run(ctx) {
        await ctx.run(readImageTag);
        const { mode: now } = await readModeFromState(ctx, readMode);
        ctx.state.set('unchanged', now === target(ctx));
        return { note: `${ctx.value(DEPLOYED_IMAGE_TAG)}, mode ${now}${now === target(ctx) ? ` (already ${now})` : ` -> ${target(ctx)}`}` };
      },
    },
    {
      id: 'evidence',
      title: 'Check that no client sent an identity header in 7 days',
      commands: [readAccessToken, count7d, lastClientIdentityHeader],
      skipIf: (ctx) => (ctx.state.get('unchanged') ? 'production already runs this mode' : target(ctx) === 'ignore' ? 'going back to ignore needs no evidence' : null),
      async run(ctx) {
        const { count, last, why } = await evidence(ctx);
        const force = isTrue(ctx.config.get('FORCE'));
        if (count === 0) return { note: `none in 7 days (last: ${last})` };
        const found = count === null ? `the 7-day count could not be read (${why})` : `clients sent ${count} identity header${count === 1 ? '' : 's'} in the last 7 days (last: ${last})`;
        if (!force) {
          throw new StepFailure(
            `${found}; with reject they would get 400. Find and fix those clients (make production-status, and the gateway's client_identity_header log lines say which header), then run this again; FORCE=1 switches anyway and asks first.`,
          );
        }
        await ctx.confirm(`${found}. Switch to reject anyway, so those requests get 400?`);
        return { status: 'warn', note: `forced: ${found}` };
      },
    },
    {
      id: 'deploy',
      title: 'Deploy the image production runs with the new mode',
      commands: [deployWithMode],
      skipIf: (ctx) => (ctx.state.get('unchanged') ? 'production already runs this mode' : null),
    },
  ],
});

runIfMain(import.meta.url, cutover);
