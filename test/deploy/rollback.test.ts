// When a deploy goes wrong: an apply that fails half-way and the rollback that undoes it, a plan
// that goes stale before apply, Ctrl-C in the middle of an apply, and the traffic-only path; and
// neither rollback moves traffic without the deploy lock.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { liveObject } from '../fakes/store.ts';
import { filesUnder } from '../helpers/process.ts';
import { BUCKET, createWorkspace, fakeModel, type Workspace } from '../helpers/workspace.ts';
import { serving } from './support.ts';

let ws: Workspace;
before(async () => {
  ws = await createWorkspace();
  const first = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v1.0.0' });
  assert.equal(first.code, 0, first.all);
});
after(async () => ws.cleanup());

const stateObject = () => {
  return JSON.parse(ws.fakes.objectText(BUCKET, 'mindmirror/production/default.tfstate')!) as { serial: number; lineage: string; resources: { type: string; name: string; module?: string }[]; outputs: Record<string, { value: unknown }> };
};
const locks = () => {
  const b = ws.fakes.cloud().buckets[BUCKET]!;
  return { deploy: liveObject(b, 'mindmirror/production/deploy.lock'), tofu: liveObject(b, 'mindmirror/production/default.tflock') };
};
const backupDir = () => join(ws.dir, '.state-backups', BUCKET, 'mindmirror/production');
const newestManifest = () =>
  readdirSync(backupDir())
    .filter((f) => f.endsWith('.manifest.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(backupDir(), f), 'utf8')) as { id: string; state_commit: string; state_image_tag: string; serial: number })
    .at(-1)!;
/** The gcloud calls made from now on, one line each. */
const gcloudCallsSince = (from: number) => ws.fakes.calls('gcloud').slice(from).map((c) => c.argv.join(' '));
const LOCK_URL = `gs://${BUCKET}/mindmirror/production/deploy.lock`;

test('an apply that fails half-way stops the deploy; the backup and the pinned traffic keep production as it was', async () => {
  const commitA = stateObject().outputs.deployed_commit!.value as string;
  // Commit B adds a resource and changes every image.
  ws.commit('add a cache bucket', {
    'infra/environments/production/fake-model.json': JSON.stringify(fakeModel(ws.health.url, { 'google_storage_bucket.cache': { type: 'google_storage_bucket', attributes: { name: 'mm-cache' } } }), null, 2),
  });
  ws.fakes.seed((c) => c.faults.push({ tool: 'tofu', command: 'apply', afterChanges: 3, times: 1 }));
  const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Step \d+\/20 failed: Apply the plan \(deploy\.apply\)/);
  assert.match(r.stderr, /command: {3}tofu -chdir=infra\/environments\/production apply -input=false production\.tfplan/);
  assert.match(r.stderr, /injected failure/);
  assert.deepEqual(locks(), { deploy: undefined, tofu: undefined }, 'both locks are released');

  const backup = newestManifest();
  assert.equal(backup.state_commit, commitA, 'the backup taken first records the commit of the state it holds');
  assert.equal(backup.state_image_tag, 'v1.0.0');
  for (const s of Object.values(serving(ws.fakes.cloud()))) assert.match(s.image, /:v1\.0\.0$/, 'traffic was pinned before apply: nothing serves v2');
  const partial = stateObject();
  assert.ok(partial.resources.some((r) => r.type === 'google_cloud_run_v2_service'), 'the partial apply is in the state');
});

test('make production-rollback re-applies the backup’s commit from a worktree and production is back on v1', async () => {
  const backup = newestManifest();
  const callsBefore = ws.fakes.calls('gcloud').length;
  const r = await ws.make('production-rollback', { BACKUP: backup.id, YES: '1' });
  assert.equal(r.code, 0, r.all);
  const calls = gcloudCallsSince(callsBefore);
  const locked = calls.findIndex((c) => c.startsWith(`storage cp - ${LOCK_URL} `));
  const firstMove = calls.findIndex((c) => c.startsWith('run services update-traffic'));
  assert.ok(locked >= 0 && firstMove > locked, `the lock is taken before the first traffic change:\n${calls.join('\n')}`);
  assert.equal(calls.filter((c) => c.startsWith(`storage cp - ${LOCK_URL} `)).length, 1, 'the traffic rollback inside it uses its lock, not a second one');
  assert.match(r.stdout, /Release the deploy lock .*the run that started this one holds the lock and releases it/);
  assert.match(r.stdout, new RegExp(`${backup.id}: commit ${backup.state_commit.slice(0, 12)}, image v1\\.0\\.0`));
  assert.match(r.stdout, /Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy/, 'the three changes the failed apply made are undone');

  const state = stateObject();
  assert.equal(state.outputs.deployed_commit!.value, backup.state_commit);
  assert.ok(!state.resources.some((x) => x.type === 'google_storage_bucket'), "commit B's extra resource is not there");
  for (const [name, s] of Object.entries(serving(ws.fakes.cloud()))) assert.match(s.image, /:v1\.0\.0$/, `${name} serves v1`);
  assert.deepEqual(locks(), { deploy: undefined, tofu: undefined });
  assert.ok(!existsSync(`/tmp/mindmirror-rollback-${backup.id}`), 'the worktree was removed');
});

test('a plan that goes stale before apply is refused; running the deploy again succeeds', async () => {
  ws.fakes.seed((c) => c.faults.push({ tool: 'tofu', command: 'apply', touchStateFirst: true, times: 1 }));
  const stale = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' });
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /failed: Apply the plan/);
  assert.match(stale.stderr, /Saved plan is stale/);
  assert.deepEqual(locks(), { deploy: undefined, tofu: undefined });
  const again = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' });
  assert.equal(again.code, 0, again.all);
  for (const s of Object.values(serving(ws.fakes.cloud()))) assert.match(s.image, /:v2\.0\.0$/);
});

test('Ctrl-C during apply stops it, releases both locks and leaves no half-written file', async () => {
  ws.fakes.seed((c) => (c.applyDelayMs = 700));
  const child = spawn('make', ['--no-print-directory', 'production-deploy', 'YES=1', 'IMAGE_TAG=v3.0.0'], { cwd: ws.dir, env: { ...process.env, ...ws.env, CI: '', YES: '' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let interrupted = false;
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  const onData = (d: Buffer) => {
    output += d;
    // Interrupt as a terminal would (the whole process group) once apply has changed something.
    if (!interrupted && /Modifications complete/.test(output)) {
      interrupted = true;
      process.kill(-child.pid!, 'SIGINT');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 120_000);
  const code = await done;
  clearTimeout(timer);
  ws.fakes.seed((c) => delete c.applyDelayMs);
  assert.ok(interrupted, output);
  assert.notEqual(code, 0);
  assert.match(output, /Interrupted during step \d+\/20: Apply the plan/);
  assert.match(output, /Error 130/);
  assert.deepEqual(locks(), { deploy: undefined, tofu: undefined }, 'both locks are released');
  const partials = filesUnder(ws.dir).filter((f) => !f.path.includes('/node_modules/') && !f.path.includes('/.git/') && f.path.endsWith('.partial'));
  assert.deepEqual(partials, []);
});

test('make production-rollback-traffic moves every service back one revision, or one service to a chosen revision', async () => {
  const before = serving(ws.fakes.cloud());
  const r = await ws.make('production-rollback-traffic', { YES: '1' });
  assert.equal(r.code, 0, r.all);
  const after = serving(ws.fakes.cloud());
  for (const name of Object.keys(before)) {
    assert.notEqual(after[name]!.revision, before[name]!.revision, `${name} moved`);
    const revisions = ws.fakes.cloud().run.services[`us-central1/${name}`]!.revisions.filter((x) => x.ready);
    const i = revisions.findIndex((x) => x.name === before[name]!.revision);
    assert.equal(after[name]!.revision, revisions[i - 1]!.name, `${name} is on the revision before the one it served`);
  }

  const users = ws.fakes.cloud().run.services['us-central1/users-service']!;
  const oldest = users.revisions[0]!.name;
  const one = await ws.make('production-rollback-traffic', { YES: '1', SERVICE: 'users-service', REVISION: oldest });
  assert.equal(one.code, 0, one.all);
  assert.equal(serving(ws.fakes.cloud())['users-service']!.revision, oldest);
  assert.equal(serving(ws.fakes.cloud()).gateway!.revision, after.gateway!.revision, 'the other services were not touched');

  const wrong = await ws.make('production-rollback-traffic', { YES: '1', SERVICE: 'no-such-service' });
  assert.match(wrong.stderr, /SERVICE="no-such-service" .* expected one of gateway, users-service/);
  assert.deepEqual(locks(), { deploy: undefined, tofu: undefined }, 'a traffic rollback leaves no lock behind');
});

test('with the deploy lock held by someone else, neither rollback moves any traffic, and both name the holder', async () => {
  const held = ws.fakes.putObject(BUCKET, 'mindmirror/production/deploy.lock', 'alice@laptop deploying v4.0.0 since 2026-11-22T09:00:00Z');
  const before = serving(ws.fakes.cloud());
  const callsBefore = ws.fakes.calls('gcloud').length;
  try {
    const traffic = await ws.make('production-rollback-traffic', { YES: '1' });
    assert.notEqual(traffic.code, 0);
    assert.match(traffic.stderr, /Step 1\/4 failed: Take the deploy lock \(rollback-traffic\.lock\)/);
    assert.match(traffic.stderr, /another deploy or rollback holds the lock: alice@laptop deploying v4\.0\.0 since 2026-11-22T09:00:00Z/);

    const full = await ws.make('production-rollback', { BACKUP: newestManifest().id, YES: '1' });
    assert.notEqual(full.code, 0);
    assert.match(full.stderr, /Step 2\/14 failed: Take the deploy lock \(rollback\.lock\)/);
    assert.match(full.stderr, /another deploy or rollback holds the lock: alice@laptop deploying v4\.0\.0/);

    assert.deepEqual(gcloudCallsSince(callsBefore).filter((c) => c.startsWith('run services update-traffic')), [], 'no traffic was moved');
    assert.deepEqual(serving(ws.fakes.cloud()), before);
    assert.equal(locks().deploy?.generation, held.generation, "someone else's lock is left alone");
  } finally {
    ws.fakes.seed((c) => delete c.buckets[BUCKET]!.objects['mindmirror/production/deploy.lock']);
  }
});

test('a traffic rollback told it runs in a caller’s lock refuses when that lock is not the one in the bucket', async () => {
  const before = serving(ws.fakes.cloud());
  const gone = await ws.make('production-rollback-traffic', { YES: '1', DEPLOY_LOCK_HELD: '12345' });
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /DEPLOY_LOCK_HELD=12345 says the run that started this one holds the deploy lock, but there is no lock to hold/);

  const other = ws.fakes.putObject(BUCKET, 'mindmirror/production/deploy.lock', 'bob@ci deploying v5.0.0 since 2026-11-22T10:00:00Z');
  try {
    const r = await ws.make('production-rollback-traffic', { YES: '1', DEPLOY_LOCK_HELD: String(other.generation + 1) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`the lock is another one \\(generation ${other.generation}\\), held by: bob@ci deploying v5\\.0\\.0`));
    assert.equal(locks().deploy?.generation, other.generation, 'the lock it did not take is not released');
  } finally {
    ws.fakes.seed((c) => delete c.buckets[BUCKET]!.objects['mindmirror/production/deploy.lock']);
  }
  assert.deepEqual(serving(ws.fakes.cloud()), before, 'no traffic was moved');
});
