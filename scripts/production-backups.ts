// make production-backups: every state backup, local or in the bucket, newest first.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runIfMain } from './lib/engine.ts';
import { repoRoot } from './lib/paths.ts';
import { defineRunbook, type StepContext } from './lib/runbook.ts';
import { BACKUP_DIR, selectBackup, downloadManifest, listRemoteBackups, localManifests, manifestPath, remoteIds } from './lib/state-backups.ts';
import { renderTable } from './lib/table.ts';

/** Fetch the manifest of every backup that exists only in the bucket; returns the bucket's ids. */
export async function syncManifests(ctx: StepContext): Promise<Set<string>> {
  mkdirSync(join(repoRoot, BACKUP_DIR), { recursive: true, mode: 0o700 });
  const listing = await ctx.run(listRemoteBackups);
  const remote = new Set(listing.exitCode === 0 ? remoteIds(listing.stdout) : []);
  for (const id of remote) {
    if (existsSync(join(repoRoot, manifestPath(id)))) continue;
    selectBackup(ctx, id);
    await ctx.run(downloadManifest);
  }
  return remote;
}

export function backupsTable(remote: Set<string>): string {
  const manifests = localManifests();
  if (manifests.length === 0) return 'No state backups yet (make production-backup-state takes one; every deploy does).';
  return renderTable(
    ['id', 'taken (UTC)', 'serial', 'state from commit', 'taken before deploying', 'where'],
    manifests.map((m) => [
      m.id,
      m.created.replace('T', ' ').replace(/\.\d+Z$/, ''),
      String(m.serial),
      m.state_commit?.slice(0, 12) ?? 'unknown',
      m.deploying_commit?.slice(0, 12) ?? 'unknown',
      [existsSync(join(repoRoot, m.file)) && 'local', remote.has(m.id) && 'bucket'].filter(Boolean).join(' + ') || 'manifest only',
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
      commands: [listRemoteBackups, downloadManifest],
      async run(ctx) {
        ctx.print(backupsTable(await syncManifests(ctx)));
      },
    },
  ],
});

runIfMain(import.meta.url, backups);
