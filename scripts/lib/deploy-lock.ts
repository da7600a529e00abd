// The deploy lock: an object in the state bucket created only if absent (generation match 0),
// so two deploys or rollbacks can never run at once, and released only by its holder
// (generation match on delete). Shared by every runbook that changes production.

import { hostname, userInfo } from 'node:os';
import { gcloud } from './cli.ts';
import { runtimeVar } from './command.ts';
import { STATE_BUCKET, STATE_PREFIX } from './gcp.ts';
import { StepFailure, type Step } from './runbook.ts';

export const DEPLOY_LOCK_INFO = runtimeVar('DEPLOY_LOCK_INFO');
export const DEPLOY_LOCK_GENERATION = runtimeVar('DEPLOY_LOCK_GENERATION');

const takeLock = gcloud`storage cp - gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock --if-generation-match=0`.withStdin(DEPLOY_LOCK_INFO).allowExitCodes(1);
const readLock = gcloud`storage cat gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock`;
const lockGeneration = gcloud`storage objects describe gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock --format=${'value(generation)'}`.captureInto(DEPLOY_LOCK_GENERATION);
const releaseLock = gcloud`storage rm gs://${STATE_BUCKET}/${STATE_PREFIX}/deploy.lock --if-generation-match=${DEPLOY_LOCK_GENERATION}`;

/** Take the lock, or stop at once naming whoever holds it. `purpose` goes into the lock. */
export function takeLockStep(purpose: (value: (name: string) => string) => string): Step {
  return {
    id: 'lock',
    title: 'Take the deploy lock',
    commands: [takeLock, readLock, lockGeneration],
    async run(ctx) {
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
  title: 'Release the deploy lock',
  commands: [releaseLock],
  always: true,
  skipIf: (ctx) => (ctx.state.get('locked') ? null : 'this run does not hold the lock'),
};
