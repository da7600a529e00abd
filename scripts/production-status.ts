// make production-status: how production is doing, on one screen, read-only. Cloud Run for what
// serves, Cloud Monitoring for the last hour's traffic, errors, latency and the gateway's identity
// counters, Cloud Logging for when a client last sent an identity header, the state bucket for the
// newest state backup, Cloud SQL for the newest database backup, and the open alerts. Every source is read at once; one that cannot be read is
// shown as unknown with the reason. Exit 0 when every source was read, 1 when one was not (the
// screen is still printed), 2 on bad configuration. JSON=1 prints the same as one JSON document.

import { listRevisions, listServices, parseServiceList } from './lib/cloud-run.ts';
import type { Command } from './lib/command.ts';
import { failureReason, type CommandResult } from './lib/exec.ts';
import { runIfMain } from './lib/engine.ts';
import { PROJECT_ID, REGION } from './lib/gcp.ts';
import {
  apiFailure,
  GATEWAY_LOG_METRICS,
  listOpenAlerts,
  parseAlerts,
  parsePromResponse,
  QUERIES,
  queryCommands,
  readAccessToken,
  WINDOW,
  type Sample,
} from './lib/monitoring.ts';
import { lastClientIdentityHeader } from './lib/identity-mode.ts';
import { databaseMode, DATABASE_INSTANCE, listBackups, newestSuccessful, parseBackups, type BackupRun } from './lib/cloud-sql.ts';
import { defineRunbook, StepFailure, type StepContext } from './lib/runbook.ts';
import { listRemoteBackups, remoteBackupsUrl, remoteIds } from './lib/state-backups.ts';
import { identityFigure, newestBackup, p95ByService, renderStatus, requestFigures, unreadable, type ServiceRow, type Sourced, type StatusReport } from './lib/status-report.ts';

const SOURCES = {
  services: 'Cloud Run (gcloud run services list, revisions list)',
  requests: 'Cloud Monitoring run.googleapis.com/request_count',
  p95: 'Cloud Monitoring run.googleapis.com/request_latencies',
  count7d: 'Cloud Monitoring logging.googleapis.com/user/gateway_client_identity_headers, 7 days',
  lastSent: 'Cloud Logging (gcloud logging read, 30 days)',
  backups: 'gcloud storage ls of the state bucket',
  databaseBackups: `gcloud sql backups list --instance=${DATABASE_INSTANCE}`,
  alerts: 'Cloud Monitoring alerts API',
};


function fromCommand<T>(source: string, result: CommandResult | string, parse: (stdout: string) => T): Sourced<T> {
  if (typeof result === 'string') return { source, unknown: result };
  if (!result.ok) return { source, unknown: result.command.program.display === 'curl' ? apiFailure(result.stdout, result.stderr, result.exitCode) : failureReason(result) };
  try {
    return { source, value: parse(result.stdout) };
  } catch (error) {
    return { source, unknown: `unreadable answer: ${(error as Error).message}` };
  }
}

function newestDatabaseBackup(backups: BackupRun[], now: Date): { id: string; type: string; finished: string; ageHours: number } | null {
  const b = newestSuccessful(backups);
  return b ? { id: b.id, type: b.type, finished: b.endTime!, ageHours: (now.getTime() - Date.parse(b.endTime!)) / 3_600_000 } : null;
}

function serviceRows(servicesJson: string, revisionsJson: string): ServiceRow[] {
  const services = parseServiceList(servicesJson);
  const labels = new Map((JSON.parse(servicesJson) as { metadata?: { name?: string; labels?: Record<string, string> } }[]).map((d) => [d.metadata?.name, d.metadata?.labels ?? {}]));
  const images = new Map(
    (JSON.parse(revisionsJson) as { metadata: { name: string }; spec?: { containers?: { image?: string }[] } }[]).map((r) => [r.metadata.name, r.spec?.containers?.[0]?.image ?? '']),
  );
  return [...services].map(([name, s]) => ({
    name,
    ready: s.ready,
    serving: s.traffic.map((t) => ({ revision: t.revisionName, percent: t.percent, imageTag: images.get(t.revisionName)?.split(':').pop() || 'unknown' })),
    commit: labels.get(name)?.['git-commit'] ?? null,
  }));
}

export const status = defineRunbook({
  id: 'status',
  title: 'Show how production is doing',
  make: 'production-status',
  steps: [
    {
      id: 'token',
      title: 'Get an access token for Cloud Monitoring',
      commands: [readAccessToken],
      async run(ctx) {
        const r = await ctx.attempt(readAccessToken);
        if (r.ok) return;
        ctx.state.set('no-token', `no access token: ${failureReason(r)}`);
        return { status: 'warn', note: 'Cloud Monitoring will show as unknown' };
      },
    },
    {
      id: 'read',
      title: 'Read every source at once and show the status',
      commands: [listServices, listRevisions, ...Object.values(queryCommands), listOpenAlerts, lastClientIdentityHeader, listRemoteBackups, listBackups],
      requires: ['DATABASE_MODE'],
      async run(ctx) {
        const report = await readStatus(ctx);
        if (ctx.json) ctx.emitJson(report);
        else ctx.print(renderStatus(report));
        const missing = unreadable(report);
        if (missing.length) throw new StepFailure(`${missing.length} source${missing.length === 1 ? '' : 's'} could not be read (shown as unknown above): ${missing.join('; ')}`);
      },
    },
  ],
});

async function readStatus(ctx: StepContext): Promise<StatusReport> {
  const noToken = ctx.state.get('no-token') as string | undefined;
  const api = (c: Command): Promise<CommandResult | string> => (noToken ? Promise.resolve(noToken) : ctx.attempt(c));
  const queries = Object.keys(QUERIES);
  const onCloudSql = databaseMode(ctx) === 'cloudsql';
  const [services, revisions, alerts, lastSent, backups, databaseBackups, ...answers] = await Promise.all([
    ctx.attempt(listServices),
    ctx.attempt(listRevisions),
    api(listOpenAlerts),
    ctx.attempt(lastClientIdentityHeader),
    ctx.attempt(listRemoteBackups),
    onCloudSql ? ctx.attempt(listBackups) : Promise.resolve(null),
    ...queries.map((q) => api(queryCommands[q]!)),
  ]);
  const answer = (q: string) => answers[queries.indexOf(q)]!;
  const samples = (source: string, q: string) => fromCommand<Sample[]>(source, answer(q), parsePromResponse);
  const map = <T, U>(s: Sourced<T>, f: (v: T) => U): Sourced<U> => ('value' in s ? { source: s.source, value: f(s.value) } : s);
  const now = new Date();

  return {
    project: ctx.value(PROJECT_ID),
    region: ctx.value(REGION),
    at: now.toISOString(),
    window: WINDOW,
    services:
      !services.ok || !revisions.ok
        ? { source: SOURCES.services, unknown: failureReason(services.ok ? revisions : services) }
        : fromCommand(SOURCES.services, services, (json) => serviceRows(json, revisions.stdout)),
    requests: map(samples(SOURCES.requests, 'requests'), requestFigures),
    p95Ms: map(samples(SOURCES.p95, 'p95'), p95ByService),
    identity: GATEWAY_LOG_METRICS.map((m) => map(samples(`Cloud Monitoring logging.googleapis.com/user/${m.name}`, m.name), (s) => identityFigure(m.title, s))),
    cutover: {
      count7d: map(samples(SOURCES.count7d, 'clientIdentityHeaders7d'), (s) => Math.round(s.reduce((sum, x) => sum + x.value, 0))),
      lastSent: fromCommand(SOURCES.lastSent, lastSent, (out) => out.trim() || null),
    },
    // The bucket listing exits 1 when there is no backup yet: that is "none", not unknown.
    newestBackup:
      backups.exitCode === 1 && /matched no objects|One or more URLs matched no objects/i.test(backups.stderr)
        ? { source: `${SOURCES.backups} ${remoteBackupsUrl(ctx.config)}`, value: null }
        : fromCommand(`${SOURCES.backups} ${remoteBackupsUrl(ctx.config)}`, backups.exitCode === 0 ? backups : { ...backups, ok: false }, (out) => newestBackup(remoteIds(out), now)),
    newestDatabaseBackup: databaseBackups === null ? null : fromCommand(SOURCES.databaseBackups, databaseBackups, (json) => newestDatabaseBackup(parseBackups(json), now)),
    alerts: fromCommand(SOURCES.alerts, alerts, parseAlerts),
  };
}

runIfMain(import.meta.url, status);
