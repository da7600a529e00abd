// make production-status against the fakes: Cloud Run and the state bucket from the fake gcloud,
// Cloud Monitoring from a fake API the real curl reaches, Cloud Logging from `gcloud logging
// read`. Every figure comes from what was seeded; a source that fails is shown as unknown with
// Google's reason and exit 1, never as zero; the access token never appears anywhere.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FAKE_ACCESS_TOKEN } from '../fakes/gcloud.ts';
import { startFakeMonitoring, type FakeMonitoring } from '../fakes/monitoring.ts';
import { run } from '../helpers/process.ts';
import { BUCKET, createWorkspace, PROJECT, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
let monitoring: FakeMonitoring;
let deployedCommit: string;
const now = () => Math.floor(Date.now() / 1000);
const onRun = { monitored_resource: 'cloud_run_revision' };

before(async () => {
  ws = await createWorkspace();
  const deployed = await ws.make('production-deploy', { YES: '1' }, { timeoutMs: 180_000 });
  assert.equal(deployed.code, 0, deployed.all);
  deployedCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ws.dir, encoding: 'utf8' }).trim();
  monitoring = await startFakeMonitoring(PROJECT);
  const t = now();
  monitoring.series.push(
    { name: 'run_googleapis_com:request_count', labels: { ...onRun, service_name: 'gateway', response_code_class: '2xx' }, points: [{ t: t - 600, v: 990 }] },
    // A 5xx burst two hours ago is outside the last hour.
    { name: 'run_googleapis_com:request_count', labels: { ...onRun, service_name: 'gateway', response_code_class: '5xx' }, points: [{ t: t - 7200, v: 500 }, { t: t - 300, v: 10 }] },
    ...[['100', 50], ['200', 90], ['400', 100], ['+Inf', 100]].map(([le, v]) => ({
      name: 'run_googleapis_com:request_latencies_bucket',
      labels: { ...onRun, service_name: 'gateway', le: String(le) },
      points: [{ t: t - 600, v: Number(v) }],
    })),
    { name: 'logging_googleapis_com:user_gateway_client_identity_headers', labels: { ...onRun, source: 'x-internal-id', mode: 'ignore' }, points: [{ t: t - 3 * 86400, v: 4 }] },
    { name: 'logging_googleapis_com:user_gateway_auth_refusals', labels: { ...onRun, code: 'TOKEN_EXPIRED' }, points: [{ t: t - 300, v: 12 }] },
  );
  monitoring.alerts.push(
    { state: 'OPEN', openTime: '2026-12-04T01:02:03Z', policy: { displayName: 'Gateway: auth refusals spike', severity: 'WARNING' } },
    { state: 'CLOSED', openTime: '2026-12-01T00:00:00Z', policy: { displayName: 'an old one' } },
  );
  ws.fakes.seed((cloud) => {
    cloud.logEntries = [
      {
        timestamp: new Date((t - 3 * 86400) * 1000).toISOString(),
        resource: { type: 'cloud_run_revision', labels: { service_name: 'gateway' } },
        jsonPayload: { event: 'client_identity_header', source: 'x-internal-id', mode: 'ignore' },
      },
      { timestamp: new Date((t - 60) * 1000).toISOString(), resource: { type: 'cloud_run_revision', labels: { service_name: 'gateway' } }, jsonPayload: { event: 'auth_refused', code: 'TOKEN_EXPIRED' } },
    ];
  });
});
after(async () => {
  await monitoring?.close();
  await ws?.cleanup();
});

/** The script itself, so its own exit code is seen (make turns every failure into 2). */
const status = (env: Record<string, string> = {}) =>
  run(process.execPath, ['--no-webstorage', '--import', 'tsx', 'scripts/production-status.ts'], { cwd: ws.dir, env: { ...ws.env, ...monitoring.env, ...env }, timeoutMs: 60_000 });

const runLogs = () => readdirSync(join(ws.dir, '.runs')).map((f) => readFileSync(join(ws.dir, '.runs', f), 'utf8')).join('\n');

test('every source read: what serves, last hour traffic, identity panel, cutover readiness, backup age, open alerts; exit 0', async () => {
  const r = await status();
  assert.equal(r.code, 0, r.all);
  const out = r.stdout;
  assert.match(out, /^Production mm-prod-test \(us-central1\)/m);
  assert.match(out, new RegExp(`gateway +gateway-00001-\\w+ 100% +v1\\.0\\.0 +${deployedCommit.slice(0, 12)} +1000 +1\\.00% +300 ms`), out);
  assert.match(out, /users-service +users-service-00001-\w+ 100% +v1\.0\.0 +\w{12} +0 +no requests +-/, 'a service without series had no requests');
  assert.match(out, /auth refusals +12 +\(code=TOKEN_EXPIRED: 12\)/);
  assert.match(out, /client identity headers +0 /, 'the header seen 3 days ago is not in the last hour');
  assert.match(out, /identity headers sent by clients, 7 days: 4 /);
  assert.match(out, /last sent: \d{4}-\d\d-\d\dT/);
  assert.match(out, /not ready: 4 in 7 days/);
  assert.match(out, /Newest state backup: \d{8}T\d{6}Z-serial-\d+, taken \d+ min ago/);
  // The deploy backed the databases up before migrating them.
  assert.match(out, /Newest database backup: \d+ \(on_demand\), finished \d+ min ago {2}\[gcloud sql backups list --instance=mindmirror-pg\]/);
  assert.match(out, /Open alerts: 1 .*\n  Gateway: auth refusals spike \(WARNING\), open since 2026-12-04T01:02:03Z/);
  assert.doesNotMatch(out, /an old one/);
  for (const q of monitoring.queries) assert.match(q, /monitored_resource="cloud_run_revision"/);
  assert.ok(!r.all.includes(FAKE_ACCESS_TOKEN) && !runLogs().includes(FAKE_ACCESS_TOKEN), 'the access token is never printed or logged');
});

test('JSON=1 prints the same figures as one document, each with its source', async () => {
  const r = await status({ JSON: '1' });
  assert.equal(r.code, 0, r.all);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.requests.value.gateway, { requests: 1000, errors5xx: 10 });
  assert.equal(report.p95Ms.value.gateway, 300);
  assert.equal(report.cutover.count7d.value, 4);
  assert.match(report.cutover.count7d.source, /gateway_client_identity_headers/);
  assert.equal(report.services.value.find((s: { name: string }) => s.name === 'gateway').serving[0].imageTag, 'v1.0.0');
  assert.equal(report.alerts.value.length, 1);
  assert.match(report.newestBackup.source, new RegExp(`gs://${BUCKET}/mindmirror/production/backups/$`), "this environment's backups, under STATE_PREFIX");
  assert.equal(report.newestDatabaseBackup.value.type, 'ON_DEMAND');
  assert.ok(report.newestDatabaseBackup.value.ageHours >= 0 && report.newestDatabaseBackup.value.ageHours < 1);
});

test('a source that cannot be read is unknown with the reason, never zero; the rest is still shown; exit 1', async () => {
  monitoring.failing.set('prometheus', { status: 403, message: 'Permission monitoring.timeSeries.list denied on resource projects/mm-prod-test' });
  try {
    const r = await status();
    assert.equal(r.code, 1, r.all);
    assert.match(r.stdout, /gateway +gateway-00001-\w+ 100% +v1\.0\.0 +\w{12} +unknown +unknown +unknown/);
    assert.match(r.stdout, /identity headers sent by clients, 7 days: unknown \(403 PERMISSION_DENIED: Permission monitoring\.timeSeries\.list denied/);
    assert.match(r.stdout, /cutover readiness unknown/);
    assert.doesNotMatch(r.stdout, /auth refusals +0/);
    assert.match(r.stdout, /Open alerts: 1/, 'the alerts API still answered');
    assert.match(r.stdout, /Newest state backup: \d{8}T/);
    assert.match(r.stderr, /sources could not be read \(shown as unknown above\)/);
  } finally {
    monitoring.failing.clear();
  }
});

test('without credentials every source is unknown with gcloud\'s reason, and nothing is made up', async () => {
  const account = ws.fakes.cloud().account;
  ws.fakes.seed((cloud) => {
    cloud.account = null;
  });
  try {
    const r = await status({ JSON: '1' });
    assert.equal(r.code, 1, r.all);
    const report = JSON.parse(r.stdout);
    for (const key of ['services', 'requests', 'p95Ms', 'newestBackup', 'newestDatabaseBackup', 'alerts'] as const) assert.match(report[key].unknown, /no active account|active account selected/, key);
    assert.equal(report.cutover.count7d.value, undefined);
  } finally {
    ws.fakes.seed((cloud) => {
      cloud.account = account;
    });
  }
});
