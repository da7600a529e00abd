// make production-restore-state BACKUP=<id>: recovery for lost or corrupted state, not a
// rollback (that is make production-rollback). Checks the backup against its manifest, backs up
// what is there now, refuses a backup from another lineage, and pushes a copy whose serial is
// one above the current state's, so OpenTofu's own safety checks accept it without -force.
// -force is used only with FORCE=1, after saying why it is dangerous and asking.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { make, tofu } from './lib/cli.ts';
import { runtimeVar } from './lib/command.ts';
import { isTrue } from './lib/confirm.ts';
import { releaseLockStep, takeLockStep } from './lib/deploy-lock.ts';
import { runIfMain } from './lib/engine.ts';
import { writeSecretFile } from './lib/files.ts';
import { INFRA_DIR } from './lib/infra.ts';
import { repoRoot } from './lib/paths.ts';
import { defineRunbook, StepFailure, UsageFailure, type StepContext } from './lib/runbook.ts';
import {
  backupDir,
  selectBackup,
  BACKUP_ID_PATTERN,
  backupPath,
  downloadBackup,
  downloadManifest,
  localManifests,
  manifestPath,
  parseState,
  readManifest,
  verifyBackup,
  type BackupManifest,
} from './lib/state-backups.ts';

export const RESTORE_FILE = runtimeVar('RESTORE_FILE');
const push = tofu`-chdir=${INFRA_DIR} state push ${RESTORE_FILE}`;
const forcePush = tofu`-chdir=${INFRA_DIR} state push -force ${RESTORE_FILE}`;

const manifestOf = (ctx: StepContext) => ctx.state.get('manifest') as BackupManifest;
const sameLineage = (ctx: StepContext) => ctx.state.get('sameLineage') === true;

export const restoreState = defineRunbook({
  id: 'restore-state',
  title: 'Restore a state backup',
  make: 'production-restore-state',
  params: [
    {
      name: 'BACKUP',
      description: 'Id of the state backup to restore (make production-backups lists them).',
      example: '',
      check: (v) => (BACKUP_ID_PATTERN.test(v) ? null : 'expected an id such as 20261122T010203Z-serial-42'),
    },
    {
      name: 'FORCE',
      description: 'Set to 1 to allow `state push -force` for a backup from another lineage (only when the current state is lost or unusable).',
      example: '',
      check: (v) => (/^[01]$/.test(v) ? null : 'expected 1 or 0'),
    },
  ],
  requires: ['BACKUP'],
  steps: [
    {
      id: 'fetch',
      title: 'Fetch the backup if it is not here',
      commands: [downloadBackup, downloadManifest],
      async run(ctx) {
        const id = ctx.config.require('BACKUP');
        const dir = backupDir(ctx.config);
        selectBackup(ctx, dir, id);
        mkdirSync(join(repoRoot, dir), { recursive: true, mode: 0o700 });
        const missing = [backupPath(dir, id), manifestPath(dir, id)].filter((p) => !existsSync(join(repoRoot, p)));
        if (missing.includes(backupPath(dir, id))) await ctx.run(downloadBackup);
        if (missing.includes(manifestPath(dir, id))) await ctx.run(downloadManifest);
        return { note: missing.length ? 'downloaded from the state bucket' : 'found locally' };
      },
    },
    {
      id: 'check-backup',
      title: 'Check the backup against its manifest',
      commands: [],
      async run(ctx) {
        const id = ctx.config.require('BACKUP');
        const manifest = readManifest(backupDir(ctx.config), id);
        const problems = verifyBackup(manifest);
        if (problems.length) throw new StepFailure(`backup ${id} cannot be trusted: ${problems.join('; ')}. Choose another backup (make production-backups).`);
        ctx.state.set('manifest', manifest);
        return { note: `sha256 ok, serial ${manifest.serial}` };
      },
    },
    takeLockStep((v) => `restoring state backup ${v('BACKUP')}`),
    { id: 'backup-current', title: 'Back up the current state first', commands: [make('production-backup-state')] },
    {
      id: 'prepare',
      title: 'Compare lineages and prepare the file to push',
      commands: [],
      async run(ctx) {
        const backup = manifestOf(ctx);
        const dir = backupDir(ctx.config);
        const current = localManifests(dir).find((m) => m.id !== backup.id);
        if (!current) throw new StepFailure('could not find the backup of the current state that the previous step took');
        const state = parseState(readFileSync(join(repoRoot, backup.file), 'utf8'), backup.file);
        const same = state.lineage === current.lineage;
        ctx.state.set('sameLineage', same);
        if (!same && !isTrue(ctx.config.get('FORCE'))) {
          throw new UsageFailure(
            `backup ${backup.id} has lineage ${state.lineage}, the current state has lineage ${current.lineage}: they are different states, ` +
              'and pushing it would make OpenTofu forget every resource the current state tracks. If the current state is truly lost or unusable, ' +
              'run again with FORCE=1 (it uses `state push -force`, and asks first).',
          );
        }
        // One above the current serial: OpenTofu accepts it as newer, with no -force needed.
        const prepared = { ...state, serial: current.serial + 1 };
        const file = join(repoRoot, dir, `${backup.id}.restore.tfstate`);
        writeSecretFile(file, `${JSON.stringify(prepared, null, 2)}\n`);
        ctx.setValue(RESTORE_FILE, file);
        ctx.print(`Current state: serial ${current.serial}, lineage ${current.lineage} (saved as ${current.id}).\nRestoring ${backup.id} (serial ${backup.serial}) as serial ${current.serial + 1}.`);
      },
    },
    {
      id: 'push',
      title: 'Push the backup as the current state',
      commands: [push],
      confirm: 'Replace the production state with this backup?',
      skipIf: (ctx) => (sameLineage(ctx) ? null : 'the lineages differ'),
    },
    {
      id: 'force-push',
      title: 'Force-push a backup from another lineage (FORCE=1 only)',
      commands: [forcePush],
      confirm:
        'state push -force skips the lineage and serial checks: every resource the current state tracks is forgotten, and the next apply may try to create them again. Push anyway?',
      skipIf: (ctx) => (sameLineage(ctx) ? 'same lineage: no force needed' : null),
    },
    releaseLockStep,
  ],
});

runIfMain(import.meta.url, restoreState);
