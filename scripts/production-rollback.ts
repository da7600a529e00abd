// make production-rollback [BACKUP=<id>]: when a deploy went wrong. Once the backup is chosen it
// takes the deploy lock, before it changes anything, so no deploy pins, routes or applies while
// it runs. First the fast path: every service's traffic back to its previous revision (make
// production-rollback-traffic, inside this run's lock). Then the infrastructure: the
// configuration of the commit that produced the chosen backup, checked out in a temporary
// worktree, planned and applied against the live state. Pushing old state is a different
// recovery (make production-restore-state), for lost or corrupted state only.

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, make } from './lib/cli.ts';
import { runtimeVar } from './lib/command.ts';
import { planHasChanges, planReviewApplySteps, routeLatestStep, verifyStep } from './lib/apply-steps.ts';
import { DEPLOY_LOCK_GENERATION, releaseLockStep, takeLockStep } from './lib/deploy-lock.ts';
import { runIfMain } from './lib/engine.ts';
import { GIT_COMMIT, infraCommands, INFRA_DIR, TFVARS_FILE } from './lib/infra.ts';
import { repoRoot } from './lib/paths.ts';
import { defineRunbook, StepFailure, UsageFailure } from './lib/runbook.ts';
import { backupDir, BACKUP_ID_PATTERN, checkBackupId, downloadManifest, listOldPlaceBackups, listRemoteBackups, manifestPath, readManifest, remoteBackupsUrl } from './lib/state-backups.ts';
import { backupsTable, reportOldPlace, syncManifests } from './production-backups.ts';
import { keepIdentityModeStep, readDeployedMode } from './lib/identity-mode.ts';

const ROLLBACK_WORKTREE = runtimeVar('ROLLBACK_WORKTREE');
const ROLLBACK_COMMIT = runtimeVar('ROLLBACK_COMMIT');
const ROLLBACK_IMAGE_TAG = runtimeVar('ROLLBACK_IMAGE_TAG');
const TFVARS = runtimeVar('TFVARS');

// Inside this run's lock: the traffic runbook checks it is this lock, and leaves it to this run.
const trafficBack = make('production-rollback-traffic').withEnv({ DEPLOY_LOCK_HELD: DEPLOY_LOCK_GENERATION, YES: '1' });
const addWorktree = git`worktree add --detach ${ROLLBACK_WORKTREE} ${ROLLBACK_COMMIT}`;
const removeWorktree = git`worktree remove --force ${ROLLBACK_WORKTREE}`;
const worktreeInfra = infraCommands({ worktree: ROLLBACK_WORKTREE, tfvars: TFVARS }, ROLLBACK_IMAGE_TAG);

export const rollback = defineRunbook({
  id: 'rollback',
  title: 'Roll back',
  make: 'production-rollback',
  params: [
    {
      name: 'BACKUP',
      description: 'Id of the state backup to roll back to (make production-backups lists them); asked for when unset.',
      example: '',
      check: (v) => (BACKUP_ID_PATTERN.test(v) ? null : 'expected an id such as 20261122T010203Z-serial-42'),
    },
  ],
  steps: [
    {
      id: 'choose',
      title: 'Choose the backup to roll back to',
      commands: [listRemoteBackups, downloadManifest, listOldPlaceBackups],
      async run(ctx) {
        const dir = backupDir(ctx.config);
        const remote = await syncManifests(ctx);
        const oldPlace = await reportOldPlace(ctx);
        let id = ctx.config.get('BACKUP');
        if (!id) {
          ctx.print(backupsTable(dir, remote));
          id = (await ctx.ask('Backup id to roll back to: '))?.trim();
          if (!id) throw new UsageFailure('choose a backup: run again with BACKUP=<id> from the list above');
        }
        // Typed at the prompt or given as BACKUP=: it becomes a path, so it is checked first.
        checkBackupId(id);
        const file = join(repoRoot, manifestPath(dir, id));
        if (!existsSync(file)) {
          throw new UsageFailure(
            `there is no backup ${id} in ${remoteBackupsUrl(ctx.config)} or ${dir}/; make production-backups lists them` +
              (oldPlace ? ' (if it is at the old place, move it as shown above first)' : ''),
          );
        }
        const manifest = readManifest(dir, id);
        if (!manifest.state_commit || !manifest.state_image_tag) {
          throw new StepFailure(
            `backup ${id} does not record the commit and image tag that produced it, so its configuration cannot be re-applied. ` +
              'Roll back by deploying a known commit instead: git checkout <commit> && make production-deploy IMAGE_TAG=<tag>',
          );
        }
        ctx.setValue(ROLLBACK_COMMIT, manifest.state_commit);
        ctx.setValue(GIT_COMMIT, manifest.state_commit);
        ctx.setValue(ROLLBACK_IMAGE_TAG, manifest.state_image_tag);
        ctx.setValue(ROLLBACK_WORKTREE, join(tmpdir(), `mindmirror-rollback-${manifest.id}`));
        ctx.setValue(TFVARS, join(repoRoot, INFRA_DIR, TFVARS_FILE));
        await ctx.confirm(
          `Roll production back to backup ${manifest.id}: traffic to the previous revisions now, then re-apply commit ${manifest.state_commit.slice(0, 12)} with image ${manifest.state_image_tag}?`,
        );
        return { note: `${manifest.id}: commit ${manifest.state_commit.slice(0, 12)}, image ${manifest.state_image_tag}` };
      },
    },
    // Before the first traffic change: a deploy must not pin or route traffic while this moves it.
    takeLockStep((v) => `rolling back to ${v('BACKUP') || 'a chosen backup'}`),
    { id: 'traffic', title: 'Route traffic back to the previous revisions', commands: [trafficBack] },
    { id: 'backup', title: 'Back up the state', commands: [make('production-backup-state')] },
    {
      id: 'worktree',
      title: 'Check out the backup’s configuration in a worktree',
      commands: [removeWorktree, addWorktree],
      async run(ctx) {
        // A worktree left by an interrupted rollback would make `worktree add` refuse.
        if (existsSync(ctx.value(ROLLBACK_WORKTREE))) await ctx.run(removeWorktree);
        await ctx.run(addWorktree);
        ctx.state.set('worktree', true);
      },
    },
    { id: 'tofu-init', title: 'Initialise OpenTofu in the worktree', commands: [worktreeInfra.init] },
    // A rollback fixes a release; it keeps the identity header mode production runs now.
    keepIdentityModeStep(readDeployedMode(worktreeInfra.outputRaw)),
    ...planReviewApplySteps(worktreeInfra, 'Re-apply this configuration to production?'),
    { ...routeLatestStep, skipIf: (ctx) => (planHasChanges(ctx) ? null : 'nothing was re-applied: the traffic rollback stands') },
    verifyStep,
    {
      id: 'cleanup',
      title: 'Remove the worktree',
      commands: [removeWorktree],
      always: true,
      skipIf: (ctx) => (ctx.state.get('worktree') ? null : 'no worktree was made'),
    },
    releaseLockStep,
  ],
});

runIfMain(import.meta.url, rollback);
