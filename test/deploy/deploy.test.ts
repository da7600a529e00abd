// make production-deploy end to end: fake tofu and gcloud, the real supabase CLI against a real
// PostgreSQL database, a real HTTP server for the gateway's health. The tests run in order on
// one workspace, each starting from what the previous one left, as deploys do.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { liveObject } from '../fakes/store.ts';
import { filesUnder } from '../helpers/process.ts';
import { BUCKET, createWorkspace, DB_PASSWORD, SUPABASE_TOKEN, type Workspace } from '../helpers/workspace.ts';
import { serving } from './support.ts';

let ws: Workspace;
before(async () => {
  ws = await createWorkspace();
});
after(async () => ws.cleanup());

const SECRETS = () => [DB_PASSWORD, SUPABASE_TOKEN, 'redis-auth-string-must-stay-hidden'];

function assertNoSecrets(texts: string[]) {
  for (const text of texts) for (const secret of SECRETS()) assert.ok(!text.includes(secret), `a secret leaked: ${secret.slice(0, 6)}...`);
}

test('a first deploy applies, migrates, routes, writes the outputs, verifies and releases the lock', async () => {
  const r = await ws.make('production-deploy', { YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /Plan: \d+ to add, 0 to change, 0 to replace, 0 to destroy\./);
  assert.match(r.stdout, /Deploy: done \(20 steps\)/);
  assert.match(r.stdout, /Monthly cost estimate of the result:\n[\s\S]*total\s+\d+\.\d\d\s+USD per month/);

  const services = serving(ws.fakes.cloud());
  assert.equal(Object.keys(services).length, 8);
  for (const s of Object.values(services)) assert.match(s.image, /:v1\.0\.0$/);
  const jobs = ws.fakes.cloud().run.jobs;
  assert.equal(Object.entries(jobs).filter(([key]) => key.includes('/migrate-')).every(([, j]) => j.executions.length === 1), true, 'every migration job ran once');
  assert.equal(jobs[`us-central1/database-access`]!.executions.length, 1, 'least privilege was applied in PostgreSQL');
  // A backup of the databases, finished before the first migration job started.
  const [dbBackup] = ws.fakes.cloud().sql!.backups;
  assert.equal(dbBackup?.status, 'SUCCESSFUL');
  const firstMigration = Object.entries(jobs).filter(([key]) => key.includes('/migrate-')).map(([, j]) => j.executions[0]!.created).sort()[0]!;
  assert.ok(dbBackup!.endTime! <= firstMigration, `the backup (${dbBackup!.endTime}) finished before the migrations (${firstMigration})`);

  const client = new pg.Client({ connectionString: ws.databaseUrl });
  await client.connect();
  const { rows } = await client.query('select version from supabase_migrations.schema_migrations');
  await client.end();
  assert.deepEqual(rows.map((x) => x.version), ['20260101000000'], 'the real supabase CLI pushed the migration');

  const outputs = JSON.parse(readFileSync(join(ws.dir, 'production-outputs.json'), 'utf8'));
  assert.equal(outputs.gateway_url, ws.health.url);
  assert.equal(outputs.service_urls['users-service'], 'https://users-service-abc123xyz-uc.a.run.app');
  assert.equal(outputs.supabase_url, 'https://abcdefghijklmnopqrst.supabase.co');
  assert.deepEqual(outputs.credentials['users-database-url'].mounted_by, ['users-service']);
  assert.equal(statSync(join(ws.dir, 'production-outputs.json')).mode & 0o777, 0o600);

  assert.equal(liveObject(ws.fakes.cloud().buckets[BUCKET]!, 'mindmirror/production/deploy.lock'), undefined, 'the deploy lock is released');
  const backups = readdirSync(join(ws.dir, '.state-backups', BUCKET, 'mindmirror/production')).filter((f) => f.endsWith('.tfstate'));
  assert.equal(backups.length, 1, 'the deploy took a backup first');
  assertNoSecrets([r.all, readFileSync(join(ws.dir, 'production-outputs.json'), 'utf8'), readFileSync(join(ws.dir, 'production-outputs.txt'), 'utf8'), ...filesUnder(join(ws.dir, '.runs')).map((f) => f.text)]);
});

test('running the same deploy again applies nothing and still verifies', async () => {
  const appliesBefore = ws.fakes.calls('tofu').filter((c) => c.argv.includes('apply')).length;
  const r = await ws.make('production-deploy', { YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /Plan .* no changes: nothing to apply/);
  assert.match(r.stdout, /skip \[\d+\/20] Apply the plan .* nothing to apply/);
  assert.equal(ws.fakes.calls('tofu').filter((c) => c.argv.includes('apply')).length, appliesBefore, 'tofu apply did not run again');
  assert.match(r.stdout, /ok {3}\[\d+\/20] Verify/);
});

test('a second deploy while one holds the lock stops at once, naming the holder', async () => {
  const held = ws.fakes.putObject(BUCKET, 'mindmirror/production/deploy.lock', 'alice@laptop deploying v0.9.0 since 2026-11-22T09:00:00Z');
  const plansBefore = ws.fakes.calls('tofu').filter((c) => c.argv.includes('plan')).length;
  const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v1.1.0' });
  const lock = liveObject(ws.fakes.cloud().buckets[BUCKET]!, 'mindmirror/production/deploy.lock');
  ws.fakes.seed((c) => delete c.buckets[BUCKET]!.objects['mindmirror/production/deploy.lock']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Step 3\/20 failed: Take the deploy lock/);
  assert.match(r.stderr, /another deploy or rollback holds the lock: alice@laptop deploying v0\.9\.0 since 2026-11-22T09:00:00Z/);
  assert.equal(ws.fakes.calls('tofu').filter((c) => c.argv.includes('plan')).length, plansBefore, 'nothing was planned');
  assert.equal(lock?.generation, held.generation, "someone else's lock is left alone");
});

test('when verification fails after apply, traffic goes back to the revisions that served before', async () => {
  const before = serving(ws.fakes.cloud());
  ws.health.status = 503;
  const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' });
  ws.health.status = 200;
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Step \d+\/20 failed: Verify \(deploy\.verify\)/);
  assert.match(r.stdout, /gateway \/healthcheck\s+failed/);
  assert.match(r.stdout, /Only Cloud Run traffic was rolled back/);
  const afterRollback = serving(ws.fakes.cloud());
  for (const [name, s] of Object.entries(afterRollback)) {
    assert.equal(s.revision, before[name]!.revision, `${name} serves its previous revision again`);
    assert.match(s.image, /:v1\.0\.0$/);
    assert.match(ws.fakes.cloud().run.services[`us-central1/${name}`]!.revisions.at(-1)!.image, /:v2\.0\.0$/, 'the new revision exists but takes no traffic');
  }
  assert.equal(liveObject(ws.fakes.cloud().buckets[BUCKET]!, 'mindmirror/production/deploy.lock'), undefined, 'the lock is released after a failure too');
});

test('the deploy that follows routes traffic to the latest revisions again', async () => {
  const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' });
  assert.equal(r.code, 0, r.all);
  for (const s of Object.values(serving(ws.fakes.cloud()))) assert.match(s.image, /:v2\.0\.0$/);
});

test('a missing configuration value stops the deploy before anything runs (exit 2), listing every problem', async () => {
  const callsBefore = ws.fakes.calls().length;
  const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'not a tag', SUPABASE_DB_URL: 'postgresql://u:pw@h/db' });
  assert.match(r.stderr, /IMAGE_TAG="not a tag"/);
  assert.match(r.stderr, /remove the password from the URL/);
  assert.match(r.stderr, /make: \*\*\* .* Error 2/);
  assert.equal(ws.fakes.calls().length, callsBefore, 'no CLI was called');
  assert.ok(!existsSync(join(ws.dir, 'infra/environments/production/production.tfplan.partial')));
});
