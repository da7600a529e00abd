// The status screen's content: every figure carries where it came from, and a source that could
// not be read is `unknown` with the reason, never a zero that looks like good news.

import type { OpenAlert, Sample } from './monitoring.ts';
import { renderTable } from './table.ts';

export type Sourced<T> = { source: string; value: T } | { source: string; unknown: string };

export const known = <T>(s: Sourced<T>): s is { source: string; value: T } => 'value' in s;

export interface ServiceRow {
  name: string;
  ready: boolean;
  /** Revisions serving traffic, with their share and image tag. */
  serving: { revision: string; percent: number; imageTag: string }[];
  /** The commit the last apply recorded on the service (label git-commit). */
  commit: string | null;
}

export interface RequestFigures {
  requests: number;
  errors5xx: number;
}

export interface IdentityFigure {
  title: string;
  total: number;
  /** "label=value ..." -> count, largest first. */
  breakdown: [string, number][];
}

export interface StatusReport {
  project: string;
  region: string;
  at: string;
  window: string;
  services: Sourced<ServiceRow[]>;
  requests: Sourced<Record<string, RequestFigures>>;
  p95Ms: Sourced<Record<string, number>>;
  identity: Sourced<IdentityFigure>[];
  cutover: { count7d: Sourced<number>; lastSent: Sourced<string | null> };
  newestBackup: Sourced<{ id: string; taken: string; ageHours: number } | null>;
  /** The newest finished Cloud SQL backup; null with DATABASE_MODE=external (backed up where they live). */
  newestDatabaseBackup: Sourced<{ id: string; type: string; finished: string; ageHours: number } | null> | null;
  alerts: Sourced<OpenAlert[]>;
}

/** Per service from `sum by (service_name, response_code_class)` samples; a service without series had no requests. */
export function requestFigures(samples: Sample[]): Record<string, RequestFigures> {
  const out: Record<string, RequestFigures> = {};
  for (const s of samples) {
    const service = s.labels.service_name;
    if (!service || !Number.isFinite(s.value)) continue;
    const f = (out[service] ??= { requests: 0, errors5xx: 0 });
    f.requests += s.value;
    if (s.labels.response_code_class === '5xx') f.errors5xx += s.value;
  }
  return out;
}

export function p95ByService(samples: Sample[]): Record<string, number> {
  return Object.fromEntries(samples.filter((s) => s.labels.service_name && Number.isFinite(s.value)).map((s) => [s.labels.service_name!, s.value]));
}

export function identityFigure(title: string, samples: Sample[]): IdentityFigure {
  const breakdown = samples
    .map((s): [string, number] => [Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' '), Math.round(s.value)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return { title, total: breakdown.reduce((sum, [, n]) => sum + n, 0), breakdown: breakdown.filter(([k]) => k !== '') };
}

/** Backup ids are `YYYYMMDDTHHMMSSZ-serial-N`: the newest, with its age. */
export function newestBackup(ids: string[], now: Date): { id: string; taken: string; ageHours: number } | null {
  const newest = [...ids].sort().pop();
  if (!newest) return null;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(newest);
  if (!m) return null;
  const taken = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return { id: newest, taken: taken.toISOString(), ageHours: (now.getTime() - taken.getTime()) / 3_600_000 };
}

const unknownText = (s: { unknown: string }) => `unknown (${s.unknown})`;

function age(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min ago`;
  if (hours < 48) return `${Math.round(hours)} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

const percent = (part: number, whole: number) => (whole === 0 ? 'no requests' : `${((100 * part) / whole).toFixed(part === 0 ? 0 : 2)}%`);

export function renderStatus(r: StatusReport): string {
  const out: string[] = [`Production ${r.project} (${r.region}) at ${r.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, ''];

  out.push(`Services  [serving: ${r.services.source}; requests, 5xx: ${r.requests.source}; p95: ${r.p95Ms.source}; last ${r.window}]`);
  if (!known(r.services)) out.push(`  ${unknownText(r.services)}`);
  else {
    const rows = r.services.value.map((s) => {
      const req = known(r.requests) ? r.requests.value[s.name] ?? { requests: 0, errors5xx: 0 } : null;
      const p95 = known(r.p95Ms) ? r.p95Ms.value[s.name] : undefined;
      return [
        s.name + (s.ready ? '' : ' (NOT READY)'),
        s.serving.map((t) => `${t.revision} ${t.percent}%`).join(', ') || 'no traffic',
        [...new Set(s.serving.map((t) => t.imageTag))].join(', ') || '-',
        s.commit?.slice(0, 12) ?? 'unknown',
        req ? String(Math.round(req.requests)) : 'unknown',
        req ? percent(req.errors5xx, req.requests) : 'unknown',
        !known(r.p95Ms) ? 'unknown' : p95 === undefined || !Number.isFinite(p95) ? '-' : `${Math.round(p95)} ms`,
      ];
    });
    out.push(renderTable(['service', 'serving (traffic)', 'image', 'commit', 'requests', '5xx', 'p95'], rows).replace(/^/gm, '  '));
    for (const s of [r.requests, r.p95Ms] as Sourced<unknown>[]) if (!known(s)) out.push(`  ${s.source}: ${unknownText(s)}`);
  }

  out.push('', `Gateway identity, last ${r.window}`);
  for (const f of r.identity) {
    if (!known(f)) out.push(`  ${f.source}: ${unknownText(f)}`);
    else out.push(`  ${f.value.title.padEnd(32)} ${String(f.value.total).padStart(6)}${f.value.breakdown.length ? `  (${f.value.breakdown.map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}  [${f.source}]`);
  }

  const { count7d, lastSent } = r.cutover;
  out.push('', 'Cutover readiness (CLIENT_INTERNAL_ID_MODE=reject waits for 7 days without a client-sent identity header)');
  out.push(`  identity headers sent by clients, 7 days: ${known(count7d) ? count7d.value : unknownText(count7d)}  [${count7d.source}]`);
  out.push(`  last sent: ${known(lastSent) ? lastSent.value ?? 'not in the last 30 days' : unknownText(lastSent)}  [${lastSent.source}]`);
  out.push(`  ${cutoverVerdict(r)}`);

  const b = r.newestBackup;
  out.push('', `Newest state backup: ${!known(b) ? unknownText(b) : b.value ? `${b.value.id}, taken ${age(b.value.ageHours)}` : 'none in the bucket'}  [${b.source}]`);

  const d = r.newestDatabaseBackup;
  if (d === null) out.push(`Newest database backup: not here (DATABASE_MODE=external: the databases are backed up where they live)`);
  else out.push(`Newest database backup: ${!known(d) ? unknownText(d) : d.value ? `${d.value.id} (${d.value.type.toLowerCase()}), finished ${age(d.value.ageHours)}` : 'none yet (make production-db-backup)'}  [${d.source}]`);

  const a = r.alerts;
  out.push('', `Open alerts: ${!known(a) ? unknownText(a) : a.value.length === 0 ? 'none' : String(a.value.length)}  [${a.source}]`);
  if (known(a)) for (const alert of a.value) out.push(`  ${alert.policy}${alert.severity ? ` (${alert.severity})` : ''}, open since ${alert.opened}`);
  return out.join('\n');
}

export function cutoverVerdict(r: StatusReport): string {
  const c = r.cutover.count7d;
  if (!known(c)) return 'cutover readiness unknown: the 7-day count could not be read';
  return c.value === 0 ? 'ready: make production-cutover' : `not ready: ${c.value} in 7 days (make production-cutover refuses without FORCE=1)`;
}

/** Sources that could not be read, by name, for the exit code and its message. */
export function unreadable(r: StatusReport): string[] {
  const all: Sourced<unknown>[] = [r.services, r.requests, r.p95Ms, ...r.identity, r.cutover.count7d, r.cutover.lastSent, r.newestBackup, ...(r.newestDatabaseBackup ? [r.newestDatabaseBackup] : []), r.alerts];
  return [...new Set(all.filter((s) => !known(s)).map((s) => s.source))];
}
