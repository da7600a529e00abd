// The deploy lock: an object in the state bucket created only if absent (generation match 0),
// so two deploys or rollbacks can never run at once, and released only by its holder
// (generation match on delete). Shared by every runbook that changes production.
//
// A runbook that runs another as one of its steps while it holds the lock (make
// production-rollback runs make production-rollback-traffic) hands it the lock's generation as
// DEPLOY_LOCK_HELD: the inner run checks that the lock is still that one, and neither takes it
// (it would find it taken) nor releases it (its caller still needs it).

import { hostname, userInfo } from 'node:os';
import { gcloud } from './cli.ts';
import { runtimeVar } from './command.ts';
import type { VarSpec } from './env-schema.ts';
import { STATE_BUCKET, STATE_PREFIX } from './gcp.ts';
import { sourceOf } from './paths.ts';

import { StepFailure, type Step, type StepContext } from './runbook.ts';

export const DEPLOY_LOCK_INFO = runtimeVar('DEPLOY_LOCK_INFO');
export const DEPLOY_LOCK_GENERATION = runtimeVar('DEPLOY_LOCK_GENERATION');

const takeLock = gcloud`storage cp - gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock --if-generation-match=0`.withStdin(DEPLOY_LOCK_INFO).allowExitCodes(1);
const readLock = gcloud`storage cat gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock`;
const lockGeneration = gcloud`storage objects describe gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock --format=${'value(generation)'}`.captureInto(DEPLOY_LOCK_GENERATION);
const releaseLock = gcloud`storage rm gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock --if-generation-match=${DEPLOY_LOCK_GENERATION}`;

/** The parameter a runbook declares when it may run inside a caller's lock (see above). */
export const DEPLOY_LOCK_HELD: VarSpec = {
  name: 'DEPLOY_LOCK_HELD',
  description:
    'Set by a runbook that holds the deploy lock and runs this one as a step (make production-rollback): the generation of that lock. ' +
    'This run then checks the lock is still that one, and neither takes nor releases it. Leave it unset to take the lock.',
  example: '',
  check: (v) => (/^[1-9][0-9]*$/.test(v) ? null : 'expected the generation of the deploy lock the caller holds (its DEPLOY_LOCK_GENERATION, a number)'),
};

/** Who holds the lock, as its object says, or why that cannot be read. */
async function holderOf(ctx: StepContext): Promise<string> {
  const holder = await ctx.attempt(readLock);
  return holder.exitCode === 0 ? holder.stdout.trim() : 'nobody could be read from it';
}

/** With DEPLOY_LOCK_HELD: check the caller's lock is the one in the bucket, and leave it to the caller. */
async function joinCallersLock(ctx: StepContext, held: string): Promise<{ note: string }> {
  const found = await ctx.attempt(lockGeneration);
  if (found.exitCode !== 0) {
    throw new StepFailure(
      `DEPLOY_LOCK_HELD=${held} says the run that started this one holds the deploy lock, but there is no lock to hold. ` +
        'Unset DEPLOY_LOCK_HELD to take the lock here, or run the outer runbook again.',
      found,
    );
  }
  if (found.stdout.trim() !== held) {
    throw new StepFailure(
      `DEPLOY_LOCK_HELD=${held} says the run that started this one holds the deploy lock, but the lock is another one (generation ${found.stdout.trim()}), held by: ${await holderOf(ctx)}. ` +
        'Wait for that run to finish, then unset DEPLOY_LOCK_HELD and run again.',
    );
  }
  ctx.state.set('lockHeldByCaller', true);
  return { note: 'held by the run that started this one' };
}

/**
 * Take the lock, or stop at once naming whoever holds it. `purpose` goes into the lock. With
 * `joinable`, the runbook must declare DEPLOY_LOCK_HELD: set, the caller's lock is used instead.
 */
export function takeLockStep(purpose: (value: (name: string) => string) => string, opts: { joinable?: boolean } = {}): Step {
  return {
    id: 'lock',
    code: sourceOf(import.meta.url),
    title: 'Take the deploy lock',
    commands: [takeLock, readLock, lockGeneration],
    async run(ctx) {
      const held = opts.joinable ? ctx.config.get(DEPLOY_LOCK_HELD.name) : undefined;
      if (held) return joinCallersLock(ctx, held);
      ctx.setValue(DEPLOY_LOCK_INFO, `${userInfo().username}@${hostname()} ${purpose((n) => ctx.config.get(n) ?? '')} since ${new Date().toISOString()}`);
      const taken = await ctx.run(takeLock);
      if (taken.exitCode !== 0) {
        const holder = await ctx.attempt(readLock);
        throw new StepFailure(
          holder.exitCode === 0
            ? `another deploy or rollback holds the lock: ${holder.stdout.trim()}. Wait for it to finish; if its owner is gone, remove the stale lock as the runbook shows, then run again.`
            : `could not take the deploy lock: ${taken.stderr.trim().split('\n')[0]}`,
          taken,
        );
      }
      await ctx.run(lockGeneration);
      ctx.state.set('locked', true);
    },
  };
}

/** Release the lock this run took; runs after failures and interrupts too. */
export const releaseLockStep: Step = {
  id: 'unlock',
  code: sourceOf(import.meta.url),
  title: 'Release the deploy lock',
  commands: [releaseLock],
  always: true,
  skipIf: (ctx) =>
    ctx.state.get('locked') ? null : ctx.state.get('lockHeldByCaller') ? 'the run that started this one holds the lock and releases it' : 'this run does not hold the lock',
};
