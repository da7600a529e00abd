// The steps of make production-db-backup, and how the newest database backup is reported by
// make production-status and make production-backups.

import { BACKUP_DESCRIPTION, BACKUP_OPERATION, createBackup, DATABASE_INSTANCE, formatAge, listBackups, newestSuccessful, parseBackups, requireCloudSql, waitForOperation, type BackupRun } from './cloud-sql.ts';
import { sourceOf } from './paths.ts';
import { StepFailure, type Step } from './runbook.ts';
import { renderTable } from './table.ts';

export const checkModeStep = (runbook: string): Step => ({
  id: 'mode',
  code: sourceOf(import.meta.url),
  title: 'Check that production runs its own Cloud SQL instance',
  commands: [],
  requires: ['DATABASE_MODE'],
  async run(ctx) {
    requireCloudSql(ctx, runbook);
    return { note: DATABASE_INSTANCE };
  },
});

/** Backups as a table: newest first, with their age. */
export function formatBackups(backups: BackupRun[], now = new Date()): string {
  const rows = backups.map((b) => [b.id, b.type, b.status, b.endTime ?? '-', b.endTime ? formatAge(now.getTime() - Date.parse(b.endTime)) : '-', b.description ?? '']);
  return renderTable(['id', 'type', 'status', 'finished', 'age', 'description'], rows);
}

/** One line on the newest finished backup, or what to do when there is none. */
export function newestBackupLine(backups: BackupRun[], now = new Date()): string {
  const newest = newestSuccessful(backups);
  if (!newest) return `no finished backup of ${DATABASE_INSTANCE} yet: run make production-db-backup`;
  return `${newest.id} (${newest.type.toLowerCase().replace('_', '-')}), finished ${newest.endTime}, ${formatAge(now.getTime() - Date.parse(newest.endTime!))} old`;
}

export const databaseBackupSteps: Step[] = [
  checkModeStep('production-db-backup'),
  {
    id: 'create',
    code: sourceOf(import.meta.url),
    title: 'Start an on-demand backup',
    commands: [createBackup],
    async run(ctx) {
      // The description says when and why; it is all a person sees in the backup list.
      ctx.setValue(BACKUP_DESCRIPTION, `make production-db-backup ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`);
      await ctx.run(createBackup);
      return { note: `operation ${ctx.value(BACKUP_OPERATION)}` };
    },
  },
  { id: 'wait', code: sourceOf(import.meta.url), title: 'Wait for the backup to finish', commands: [waitForOperation(BACKUP_OPERATION)] },
  {
    id: 'list',
    code: sourceOf(import.meta.url),
    title: 'List the newest backups',
    commands: [listBackups],
    async run(ctx) {
      const backups = parseBackups((await ctx.run(listBackups)).stdout);
      ctx.print(formatBackups(backups));
      const ours = backups.find((b) => b.description === ctx.value(BACKUP_DESCRIPTION));
      if (ours?.status !== 'SUCCESSFUL') throw new StepFailure(`the backup "${ctx.value(BACKUP_DESCRIPTION)}" is ${ours ? ours.status : 'not in the list'}; see gcloud sql operations list --instance=${DATABASE_INSTANCE}`);
      return { note: `backup ${ours.id}` };
    },
  },
];
