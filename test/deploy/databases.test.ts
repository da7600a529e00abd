// The database runbooks end to end against the fake gcloud's Cloud SQL: make production-db-backup
// (on-demand backup, waited for, listed), make production-db-restore (a NEW instance, verified
// against the live one, URL secrets switched only after that and a confirmation) and make
// production-db-drill (a throwaway instance, verified, deleted, durations printed), each with a
// failed verification; external databases refused with exit 2; no password ever printed.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudSqlUrlSecrets } from '../../scripts/lib/secret-catalog.ts';
import type { FakeCloud } from '../fakes/store.ts';
import { filesUnder, run } from '../helpers/process.ts';
import { createWorkspace, REGION, type Workspace } from '../helpers/workspace.ts';
import { join } from 'node:path';

let ws: Workspace;
const LIVE_IP = '10.30.0.3';
const password = (service: string) => `pw${service.replace(/-/g, '')}0123456789abcdefXYZ`;
const urlOf = (s: { service: string; database: string }, host = LIVE_IP) => `postgresql://${s.service.replace(/-/g, '_')}:${password(s.service)}@${host}:5432/${s.database}?sslmode=require`;

/** Production as an apply in Cloud SQL mode leaves it: the instance, its jobs, each service's URL. */
function seedProduction(cloud: FakeCloud): void {
  cloud.sql = {
    instances: {
      'mindmirror-pg': {
        region: REGION,
        databaseVersion: 'POSTGRES_16',
        tier: 'db-f1-micro',
        state: 'RUNNABLE',
        privateIp: LIVE_IP,
        deletionProtectionEnabled: true,
        createTime: new Date(Date.now() - 30 * 864e5).toISOString(),
        data: {
          main: { alembic: 'a1b2c3d4e5f6', counts: { alembic_version: 1, journal_entries: 4211, habits: 87 } },
          movements: { alembic: '0f9e8d7c6b5a', counts: { alembic_version: 1, workouts: 1302 } },
          practices: { alembic: '1234abcd5678', counts: { alembic_version: 1, practices: 12 } },
          users: { alembic: 'feedbeef0001', counts: { alembic_version: 1, users: 10 } },
        },
      },
    },
    backups: [],
    operations: {},
  };
  for (const job of ['database-access', 'database-check']) cloud.run.jobs[`${REGION}/${job}`] = { region: REGION, image: 'docker.io/library/postgres:16.6-alpine', executions: [] };
  for (const s of cloudSqlUrlSecrets()) cloud.secrets[s.name] = { versions: [{ version: 1, data: Buffer.from(urlOf(s)).toString('base64'), state: 'ENABLED', created: new Date().toISOString() }] };
}

const latestUrl = (cloud: FakeCloud, name: string) => Buffer.from(cloud.secrets[name]!.versions.at(-1)!.data, 'base64').toString('utf8');

function assertNoPasswords(texts: string[]) {
  for (const text of texts) for (const s of cloudSqlUrlSecrets()) assert.ok(!text.includes(password(s.service)), `the password of ${s.service} was printed or written`);
}
// The script itself, as make runs it: make's own exit status is 2 for any failure, the script's tells them apart.
const script = (name: string, env: Record<string, string> = {}) =>
  run(process.execPath, ['--no-webstorage', '--import', 'tsx', `scripts/${name}.ts`], { cwd: ws.dir, env: { ...ws.env, ...env }, timeoutMs: 120_000 });
const runLogs = () => filesUnder(join(ws.dir, '.runs')).map((f) => f.text);

before(async () => {
  ws = await createWorkspace();
});
beforeEach(() => ws.fakes.seed(seedProduction));
after(async () => ws.cleanup());

test('an on-demand backup is taken, waited for and listed', async () => {
  const r = await ws.make('production-db-backup');
  assert.equal(r.code, 0, r.all);
  const [backup] = ws.fakes.cloud().sql!.backups;
  assert.equal(backup?.status, 'SUCCESSFUL', 'the runbook waited for the operation');
  assert.equal(backup?.type, 'ON_DEMAND');
  assert.match(backup?.description ?? '', /^make production-db-backup \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(r.stdout, new RegExp(`${backup!.id}\\s+ON_DEMAND\\s+SUCCESSFUL\\s+\\d{4}-.*\\s+0 min\\s+make production-db-backup`));
});

test('external databases: the database runbooks refuse with exit 2 and say why, before any command', async () => {
  for (const target of ['production-db-backup', 'production-db-restore', 'production-db-drill']) {
    const before = ws.fakes.calls('gcloud').length;
    const r = await script(target, { DATABASE_MODE: 'external' });
    assert.equal(r.code, 2, `${target}: ${r.all}`);
    assert.match(r.all, /DATABASE_MODE is external/);
    assert.equal(ws.fakes.calls('gcloud').length, before, `${target} ran a gcloud command`);
  }
});

test('a restore goes to a new instance, is verified, and only then switches every URL secret', async () => {
  const r = await ws.make('production-db-restore', { TARGET_INSTANCE: 'mindmirror-pg-restored', YES: '1' });
  assert.equal(r.code, 0, r.all);
  const cloud = ws.fakes.cloud();
  const restored = cloud.sql!.instances['mindmirror-pg-restored']!;
  assert.equal(restored.state, 'RUNNABLE');
  assert.equal(cloud.sql!.instances['mindmirror-pg']!.privateIp, LIVE_IP, 'the live instance is still there, untouched');
  assert.match(r.stdout, /main\s+journal_entries\s+4211\s+4211\s+same/);
  for (const s of cloudSqlUrlSecrets()) assert.equal(latestUrl(cloud, s.name), urlOf(s, restored.privateIp), `${s.name} points at the restored instance, login and password kept`);
  const clone = ws.fakes.calls('gcloud').find((c) => c.argv.slice(0, 3).join(' ') === 'sql instances clone')!;
  assert.deepEqual(clone.argv.slice(3, 5), ['mindmirror-pg', 'mindmirror-pg-restored']);
  const access = ws.fakes.calls('gcloud').filter((c) => c.argv.includes('database-access'));
  assert.ok(access.some((c) => c.argv.includes(`--update-env-vars=PGHOST=${restored.privateIp}`)), 'the passwords were set on the restored instance');
  assertNoPasswords([r.all, ...runLogs()]);
});

test('a restore never targets the live instance or an existing one', async () => {
  const clonesBefore = ws.fakes.calls('gcloud').filter((c) => c.argv.includes('clone')).length;
  const live = await script('production-db-restore', { TARGET_INSTANCE: 'mindmirror-pg', YES: '1' });
  assert.equal(live.code, 2, live.all);
  assert.match(live.all, /is the live instance: a restore always goes to a new one/);
  ws.fakes.seed((cloud) => {
    cloud.sql!.instances['mindmirror-pg-old'] = structuredClone(cloud.sql!.instances['mindmirror-pg']!);
  });
  const taken = await script('production-db-restore', { TARGET_INSTANCE: 'mindmirror-pg-old', YES: '1' });
  assert.equal(taken.code, 2, taken.all);
  assert.match(taken.all, /an instance named mindmirror-pg-old exists already/);
  assert.equal(ws.fakes.calls('gcloud').filter((c) => c.argv.includes('clone')).length, clonesBefore, 'nothing was cloned');
});

test('a restore at a backup clones at that backup’s end time', async () => {
  assert.equal((await ws.make('production-db-backup')).code, 0);
  const backup = ws.fakes.cloud().sql!.backups[0]!;
  const r = await ws.make('production-db-restore', { BACKUP_ID: backup.id, TARGET_INSTANCE: 'mindmirror-pg-at-backup', YES: '1' });
  assert.equal(r.code, 0, r.all);
  const clone = ws.fakes.calls('gcloud').filter((c) => c.argv.slice(0, 3).join(' ') === 'sql instances clone').at(-1)!;
  assert.ok(clone.argv.includes(`--point-in-time=${backup.endTime}`), clone.argv.join(' '));
});

test('a failed verification switches nothing, keeps the new instance and exits 1', async () => {
  ws.fakes.seed((cloud) => {
    cloud.sql!.cloneDrift = { database: 'movements', table: 'workouts', missingRows: 40 };
  });
  const r = await script('production-db-restore', { TARGET_INSTANCE: 'mindmirror-pg-broken', YES: '1' });
  assert.equal(r.code, 1, r.all);
  assert.match(r.all, /movements\.workouts: 1262 rows, live 1302/);
  assert.match(r.all, /Nothing was switched/);
  const cloud = ws.fakes.cloud();
  assert.ok(cloud.sql!.instances['mindmirror-pg-broken'], 'kept for inspection');
  for (const s of cloudSqlUrlSecrets()) assert.equal(cloud.secrets[s.name]!.versions.length, 1, `${s.name} was not switched`);
  assertNoPasswords([r.all, ...runLogs()]);
});

test('the drill restores into a throwaway instance, verifies, deletes it and prints each step’s duration', async () => {
  const r = await ws.make('production-db-drill');
  assert.equal(r.code, 0, r.all);
  const cloud = ws.fakes.cloud();
  assert.deepEqual(Object.keys(cloud.sql!.instances), ['mindmirror-pg'], 'the throwaway instance is gone');
  for (const s of cloudSqlUrlSecrets()) assert.equal(cloud.secrets[s.name]!.versions.length, 1, 'the drill never touches the secrets');
  for (const title of ['Clone the live instance into the new one', 'Verify the new instance against the live one', 'Delete the throwaway instance', 'recovery time \\(total\\)']) {
    assert.match(r.stdout, new RegExp(`${title}\\s+\\d+\\.\\d`));
  }
  const deleted = ws.fakes.calls('gcloud').find((c) => c.argv.slice(0, 3).join(' ') === 'sql instances delete')!;
  assert.match(deleted.argv[3]!, /^mindmirror-pg-drill-\d{8}t\d{4}$/);
});

test('a drill whose verification fails keeps its instance, still reports the durations, exits 1', async () => {
  const callsBefore = ws.fakes.calls('gcloud').length;
  ws.fakes.seed((cloud) => {
    cloud.sql!.cloneDrift = { database: 'users', table: 'users', missingRows: 1 };
  });
  const r = await script('production-db-drill');
  assert.equal(r.code, 1, r.all);
  assert.match(r.all, /users\.users: 9 rows, live 10/);
  assert.match(r.stdout, /recovery time \(total\)\s+\d+\.\d/);
  const names = Object.keys(ws.fakes.cloud().sql!.instances);
  assert.equal(names.length, 2, 'the throwaway instance is kept for inspection');
  const calls = ws.fakes.calls('gcloud').slice(callsBefore);
  assert.ok(!calls.some((c) => c.argv.slice(0, 3).join(' ') === 'sql instances delete'));
  // The live instance was never a target of anything but reads and clones.
  assert.deepEqual(ws.fakes.calls('gcloud').filter((c) => ['patch', 'delete'].includes(c.argv[2] ?? '') && c.argv[3] === 'mindmirror-pg'), []);
});
