// make production-backup-state: pull the current OpenTofu state into a local, owner-only backup
// with a manifest, and copy both to this environment's place in the state bucket
// (gs://$STATE_BUCKET/$STATE_PREFIX/backups/). Every deploy takes one first.

import { runIfMain } from './lib/engine.ts';
import { gitCommit, GIT_COMMIT, repoInfra } from './lib/infra.ts';
import { defineRunbook } from './lib/runbook.ts';
import { BACKUP_FILE, BACKUP_MANIFEST, backupDir, finishBackup, manifestPath, PULLED_FILE, pulledPath, pullState, uploadBackup, uploadManifest } from './lib/state-backups.ts';

export const backupState = defineRunbook({
  id: 'backup-state',
  title: 'Back up the state',
  make: 'production-backup-state',
  steps: [
    { id: 'tofu-init', title: 'Initialise OpenTofu with the state bucket', commands: [repoInfra.init] },
    { id: 'commit', title: 'Record the commit checked out', commands: [gitCommit] },
    {
      id: 'pull',
      title: 'Pull the state into a backup file',
      commands: [pullState],
      async run(ctx) {
        const dir = backupDir(ctx.config);
        ctx.setValue(PULLED_FILE, pulledPath(dir));
        await ctx.run(pullState);
        const manifest = finishBackup(dir, { now: new Date(), deployingCommit: ctx.value(GIT_COMMIT) || null });
        ctx.setValue(BACKUP_FILE, manifest.file);
        ctx.setValue(BACKUP_MANIFEST, manifestPath(dir, manifest.id));
        ctx.state.set('backup', manifest);
        return { note: `${manifest.id} (serial ${manifest.serial})` };
      },
    },
    { id: 'upload', title: 'Copy the backup and its manifest to the state bucket', commands: [uploadBackup, uploadManifest] },
  ],
});

runIfMain(import.meta.url, backupState);
