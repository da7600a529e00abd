// Keep a Secret Manager secret at a value without ever printing it: create the secret if it is
// missing, read the current version into memory (masked from then on), and add a new version
// only when the value differs. Values travel on stdin, never on a command line.

import { gcloud } from './cli.ts';
import { runtimeVar, type Command, type Var } from './command.ts';
import { PROJECT_ID } from './gcp.ts';
import type { StepContext } from './runbook.ts';

export interface SecretCommands {
  readonly name: string;
  readonly describe: Command;
  readonly create: Command;
  readonly current: Command;
  readonly add: Command;
  /** The value to store; set it with ctx.setValue before storeIfChanged. */
  readonly next: Var;
}

const shellName = (secret: string) => secret.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

export function secretCommands(name: string): SecretCommands {
  const next = runtimeVar(`NEW_${shellName(name)}`, true);
  const current = runtimeVar(`CURRENT_${shellName(name)}`, true);
  return {
    name,
    describe: gcloud`secrets describe ${name} --project ${PROJECT_ID} --format=${'value(name)'}`.allowExitCodes(1),
    create: gcloud`secrets create ${name} --project ${PROJECT_ID} --replication-policy=automatic`,
    current: gcloud`secrets versions access latest --secret=${name} --project ${PROJECT_ID}`.captureInto(current).allowExitCodes(1),
    add: gcloud`secrets versions add ${name} --project ${PROJECT_ID} --data-file=-`.withStdin(next),
    next,
  };
}

export interface SecretVersionInfo {
  /** The version number, as gcloud's commands take it. */
  id: string;
  state: string;
  createTime: string;
}

/** `gcloud secrets versions list --format=json`, newest (highest number) first. */
export function parseVersionList(json: string): SecretVersionInfo[] {
  return (JSON.parse(json) as { name: string; state: string; createTime: string }[])
    .map((v) => ({ id: v.name.split('/').pop()!, state: v.state, createTime: v.createTime }))
    .sort((a, b) => Number(b.id) - Number(a.id));
}

export type StoreResult = 'created' | 'updated' | 'unchanged';

/** Make `secret` hold `value`; returns what had to be done. */
export async function storeIfChanged(ctx: StepContext, secret: SecretCommands, value: string): Promise<StoreResult> {
  ctx.setValue(secret.next, value, true);
  const described = await ctx.run(secret.describe);
  let created = false;
  if (described.exitCode !== 0) {
    await ctx.run(secret.create);
    created = true;
  }
  if (!created) {
    const current = await ctx.run(secret.current);
    // Compare the exact bytes gcloud printed: a value may legitimately end in whitespace.
    if (current.exitCode === 0 && current.stdout === value) return 'unchanged';
  }
  await ctx.run(secret.add);
  return created ? 'created' : 'updated';
}

/** Whether a secret already has a value (to tell "keep it" from "it was never set"). */
export async function hasValue(ctx: StepContext, secret: SecretCommands): Promise<boolean> {
  const described = await ctx.run(secret.describe);
  if (described.exitCode !== 0) return false;
  return (await ctx.run(secret.current)).exitCode === 0;
}
