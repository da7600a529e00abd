// make production-secrets-status: every production secret, who reads it, how old its enabled
// value is, how many versions are enabled (more than one: a rotation not finished), and which are
// due for rotation against the maximum age in scripts/lib/secret-catalog.ts. Read-only; values
// are never read. One `gcloud secrets versions list` per secret, all at once: gcloud's JSON has
// every field needed, and the fakes and the real CLI's parser check the same commands (so the
// @google-cloud/secret-manager client is not used, and is not a dependency). Exit 0 when every
// secret could be read (due ones are flagged, not failed), 1 when one could not, 2 bad input.

import { gcloud } from './lib/cli.ts';
import type { Command } from './lib/command.ts';
import { runIfMain } from './lib/engine.ts';
import { failureReason } from './lib/exec.ts';
import { PROJECT_ID } from './lib/gcp.ts';
import { defineRunbook, StepFailure } from './lib/runbook.ts';
import { secretCatalog, secretsOfMode, type SecretEntry } from './lib/secret-catalog.ts';
import { databaseMode } from './lib/cloud-sql.ts';
import { parseVersionList, type SecretVersionInfo } from './lib/secret-versions.ts';
import { renderTable } from './lib/table.ts';

const catalog = secretCatalog();
const listVersions = new Map<string, Command>(catalog.map((s) => [s.name, gcloud`secrets versions list ${s.name} --project ${PROJECT_ID} --format=json`]));

export interface SecretStatus {
  name: string;
  source: SecretEntry['source'];
  consumers: string[];
  maxAgeDays: number | null;
  /** null when the listing could not be read (then `unknown` says why). */
  enabledVersions: number | null;
  newestEnabled: { version: string; created: string; ageDays: number } | null;
  status: 'ok' | 'due' | 'rotation in progress' | 'no enabled version' | 'unknown';
  unknown?: string;
}

export function statusOf(entry: SecretEntry, listing: SecretVersionInfo[] | string, now: Date): SecretStatus {
  const base = { name: entry.name, source: entry.source, consumers: entry.consumers, maxAgeDays: entry.maxAgeDays };
  if (typeof listing === 'string') return { ...base, enabledVersions: null, newestEnabled: null, status: 'unknown', unknown: listing };
  const enabled = listing.filter((v) => v.state === 'ENABLED').sort((a, b) => b.createTime.localeCompare(a.createTime));
  const newest = enabled[0];
  const newestEnabled = newest ? { version: newest.id, created: newest.createTime, ageDays: (now.getTime() - Date.parse(newest.createTime)) / 86_400_000 } : null;
  const status: SecretStatus['status'] = !newestEnabled
    ? 'no enabled version'
    : entry.maxAgeDays !== null && newestEnabled.ageDays > entry.maxAgeDays
      ? 'due'
      : enabled.length > 1
        ? 'rotation in progress'
        : 'ok';
  return { ...base, enabledVersions: enabled.length, newestEnabled, status };
}

function render(rows: SecretStatus[]): string {
  const table = renderTable(
    ['secret', 'set by', 'read by', 'enabled', 'newest enabled', 'age', 'max age', 'status'],
    rows.map((r) => [
      r.name,
      r.source,
      r.consumers.join(', ') || '-',
      r.enabledVersions === null ? '?' : String(r.enabledVersions),
      r.newestEnabled ? `v${r.newestEnabled.version} ${r.newestEnabled.created.slice(0, 10)}` : '-',
      r.newestEnabled ? `${Math.floor(r.newestEnabled.ageDays)} d` : '-',
      r.maxAgeDays === null ? 'none' : `${r.maxAgeDays} d`,
      r.status === 'due' ? 'DUE: rotate it' : r.status === 'unknown' ? `unknown (${r.unknown})` : r.status,
    ]),
  );
  const due = rows.filter((r) => r.status === 'due').map((r) => r.name);
  return `${table}${due.length ? `\n${due.length} due for rotation: ${due.join(', ')} (docs/infrastructure/production-deployment.md#rotate-secret)` : ''}`;
}

export const secretsStatus = defineRunbook({
  id: 'secrets-status',
  title: 'Show the age of every secret',
  make: 'production-secrets-status',
  steps: [
    {
      id: 'list',
      title: 'List every secret’s versions',
      commands: [...listVersions.values()],
      requires: ['DATABASE_MODE'],
      async run(ctx) {
        const now = new Date();
        // The database secrets of the other DATABASE_MODE do not exist: they are not listed.
        const entries = secretsOfMode(catalog, databaseMode(ctx));
        const results = await Promise.all(entries.map((entry) => ctx.attempt(listVersions.get(entry.name)!)));
        const rows = entries.map((entry, i) => {
          const r = results[i]!;
          if (!r.ok) return statusOf(entry, failureReason(r), now);
          try {
            return statusOf(entry, parseVersionList(r.stdout), now);
          } catch {
            return statusOf(entry, 'gcloud printed something that is not JSON', now);
          }
        });
        if (ctx.json) ctx.emitJson(rows);
        else ctx.print(render(rows));
        const unreadable = rows.filter((r) => r.status === 'unknown');
        if (unreadable.length) throw new StepFailure(`${unreadable.length} secret${unreadable.length === 1 ? '' : 's'} could not be read (shown as unknown above)`);
        const due = rows.filter((r) => r.status === 'due').length;
        return due ? { status: 'warn', note: `${due} due for rotation` } : { note: `${rows.length} secrets, none due` };
      },
    },
  ],
});

runIfMain(import.meta.url, secretsStatus);
