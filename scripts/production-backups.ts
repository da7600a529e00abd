// make production-backups: every state backup of this environment, local or in the bucket,
// newest first; a word about any left at the old, shared place (gs://$STATE_BUCKET/backups/);
// and the Cloud SQL backups of the databases, with the newest one's age.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runIfMain } from './lib/engine.ts';
import { repoRoot } from './lib/paths.ts';
import { defineRunbook, type StepContext } from './lib/runbook.ts';
import { backupDir, backupPath, downloadManifest, listOldPlaceBackups, listRemoteBackups, localManifests, manifestPath, oldPlaceNote, remoteIds, selectBackup } from './lib/state-backups.ts';
import { renderTable } from './lib/table.ts';
import { databaseMode, listBackups, parseBackups } from './lib/cloud-sql.ts';
import { formatBackups, newestBackupLine } from './lib/database-backup.ts';

/** Fetch the manifest of every backup that exists only in the bucket; returns the bucket's ids. */
export async function syncManifests(ctx: StepContext): Promise<Set<string>> {
  const dir = backupDir(ctx.config);
  mkdirSync(join(repoRoot, dir), { recursive: true, mode: 0o700 });
  const listing = await ctx.run(listRemoteBackups);
  const remote = new Set(listing.exitCode === 0 ? remoteIds(listing.stdout) : []);
  for (const id of remote) {
    if (existsSync(join(repoRoot, manifestPath(dir, id)))) continue;
    selectBackup(ctx, dir, id);
    await ctx.run(downloadManifest);
  }
  return remote;
}

/**
 * Print where the old place still holds backups, and how to move them; true when it does. Only
 * advice: a listing that fails (no access to the old place) says nothing and stops nothing.
 */
export async function reportOldPlace(ctx: StepContext): Promise<boolean> {
  const note = oldPlaceNote(await ctx.attempt(listOldPlaceBackups), ctx.config);
  if (note) ctx.print(`\n${note}`);
  return note !== null;
}

export function backupsTable(dir: string, remote: Set<string>): string {
  const manifests = localManifests(dir);
  if (manifests.length === 0) return 'No state backups yet (make production-backup-state takes one; every deploy does).';
  return renderTable(
    ['id', 'taken (UTC)', 'serial', 'state from commit', 'taken before deploying', 'where'],
    manifests.map((m) => [
      m.id,
      m.created.replace('T', ' ').replace(/\.\d+Z$/, ''),
      String(m.serial),
      m.state_commit?.slice(0, 12) ?? 'unknown',
      m.deploying_commit?.slice(0, 12) ?? 'unknown',
      [existsSync(join(repoRoot, backupPath(dir, m.id))) && 'local', remote.has(m.id) && 'bucket'].filter(Boolean).join(' + ') || 'manifest only',
    ]),
  );
}

export const backups = defineRunbook({
  id: 'backups',
  title: 'List state backups',
  make: 'production-backups',
  steps: [
    {
      id: 'list',
      title: 'List the backups',
      commands: [listRemoteBackups, downloadManifest, listOldPlaceBackups],
      async run(ctx) {
        ctx.print(backupsTable(backupDir(ctx.config), await syncManifests(ctx)));
        if (await reportOldPlace(ctx)) return { status: 'warn', note: 'some backups are still at the old place (see above)' };
      },
    },
    {
      id: 'databases',
      title: 'List the database backups',
      commands: [listBackups],
      requires: ['DATABASE_MODE'],
      skipIf: (ctx) => (databaseMode(ctx) === 'external' ? 'DATABASE_MODE=external: the databases are backed up where they live' : null),
      async run(ctx) {
        const runs = parseBackups((await ctx.run(listBackups)).stdout);
        ctx.print(`\nDatabase backups (Cloud SQL; make production-db-restore BACKUP_ID=<id> restores one into a new instance):\n${formatBackups(runs)}\nNewest: ${newestBackupLine(runs)}`);
        return { note: newestBackupLine(runs) };
      },
    },
  ],
});

runIfMain(import.meta.url, backups);
