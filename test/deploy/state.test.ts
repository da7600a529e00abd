// State backups, their listing, and restoring one: checksums, lineage, serial, never a secret in
// anything printed; each environment (STATE_PREFIX) sees only its own backups, and backups left at
// the old shared place are pointed out, with the move that makes them this environment's.

import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { filesUnder, run, tempDir } from '../helpers/process.ts';
import { liveObject } from '../fakes/store.ts';
import { BUCKET, createWorkspace, type Workspace } from '../helpers/workspace.ts';
import { sha256 } from '../../scripts/lib/state-backups.ts';

let ws: Workspace;
const dir = (prefix = 'mindmirror/production') => join(ws.dir, '.state-backups', BUCKET, prefix);
const manifests = (prefix?: string) =>
  readdirSync(dir(prefix))
    .filter((f) => f.endsWith('.manifest.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir(prefix), f), 'utf8')) as { id: string; file: string; serial: number; lineage: string; sha256: string; state_commit: string | null });
const listedIds = (stdout: string) => [...stdout.matchAll(/^(\d{8}T\d{6}Z-serial-\d+)\s/gm)].map((x) => x[1]!);
const bucketObjects = () => Object.keys(ws.fakes.cloud().buckets[BUCKET]!.objects).filter((n) => liveObject(ws.fakes.cloud().buckets[BUCKET]!, n));
const remoteState = () => JSON.parse(ws.fakes.objectText(BUCKET, 'mindmirror/production/default.tfstate')!);

before(async () => {
  ws = await createWorkspace();
  for (const tag of ['v1.0.0', 'v2.0.0']) {
    const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: tag });
    assert.equal(r.code, 0, r.all);
  }
});
after(async () => ws.cleanup());

test('a backup is the pulled state, owner-only, with a manifest that checks out, also in the bucket', async () => {
  const r = await ws.make('production-backup-state');
  assert.equal(r.code, 0, r.all);
  const m = manifests().at(-1)!;
  const bytes = readFileSync(join(ws.dir, m.file));
  assert.equal(sha256(bytes), m.sha256);
  const state = JSON.parse(bytes.toString('utf8'));
  assert.equal(state.serial, m.serial);
  assert.equal(state.lineage, remoteState().lineage);
  assert.match(m.id, /^\d{8}T\d{6}Z-serial-\d+$/);
  assert.equal(statSync(join(ws.dir, m.file)).mode & 0o777, 0o600);
  assert.equal(statSync(dir()).mode & 0o777, 0o700);
  const objects = bucketObjects();
  assert.ok(objects.includes(`mindmirror/production/backups/${m.id}.tfstate`) && objects.includes(`mindmirror/production/backups/${m.id}.manifest.json`), 'beside the state, under STATE_PREFIX');
  assert.ok(!objects.some((o) => o.startsWith('backups/')), 'nothing at the old shared place');
  assert.ok(!r.all.includes('redis-auth-string-must-stay-hidden'), 'the state holds a secret; it is never printed');
});

test('make production-backups lists every backup newest first, from the bucket when the local copy is gone', async () => {
  rmSync(dir(), { recursive: true, force: true });
  const r = await ws.make('production-backups');
  assert.equal(r.code, 0, r.all);
  const ids = listedIds(r.stdout);
  assert.equal(ids.length, 3, r.stdout);
  assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
  assert.match(r.stdout, /\bbucket\s*$/m);
  // Each of the two deploys backed the databases up before migrating them.
  assert.equal([...r.stdout.matchAll(/^\d+\s+ON_DEMAND\s+SUCCESSFUL\s/gm)].length, 2, r.stdout);
  assert.match(r.stdout, /Newest: \d+ \(on-demand\), finished \d{4}-\d\d-\d\dT[\d:.]+Z, \d+ min old/);
  for (const f of readdirSync(dir())) assert.equal(statSync(join(dir(), f)).mode & 0o777, 0o600, `${f}, downloaded from the bucket, is owner-only`);
  assert.ok(!r.all.includes('redis-auth-string-must-stay-hidden'));
  for (const f of filesUnder(join(ws.dir, '.runs'))) assert.ok(!f.text.includes('redis-auth-string-must-stay-hidden'));
});

test('a corrupted backup is refused and nothing is pushed', async () => {
  const target = manifests()[1]!;
  const fetched = await run(ws.fakes.gcloudBin, ['storage', 'cp', `gs://${BUCKET}/mindmirror/production/backups/${target.id}.tfstate`, `${dir()}/`], { env: ws.env });
  assert.equal(fetched.code, 0, fetched.all);
  const serialBefore = remoteState().serial;
  appendFileSync(join(ws.dir, target.file), ' ');
  const r = await ws.make('production-restore-state', { BACKUP: target.id, YES: '1' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`backup ${target.id} cannot be trusted: .* does not match its manifest's checksum`));
  assert.equal(remoteState().serial, serialBefore);
  rmSync(join(ws.dir, target.file));
});

test('a good backup is restored with a serial above the current one, without -force', async () => {
  const target = manifests()[1]!;
  const current = remoteState();
  const r = await ws.make('production-restore-state', { BACKUP: target.id, YES: '1' });
  assert.equal(r.code, 0, r.all);
  const restored = remoteState();
  const backup = JSON.parse(readFileSync(join(ws.dir, target.file), 'utf8'));
  assert.equal(statSync(join(ws.dir, target.file)).mode & 0o777, 0o600, 'the backup downloaded from the bucket is owner-only');
  assert.equal(restored.lineage, current.lineage);
  assert.deepEqual(restored.resources, backup.resources);
  assert.ok(restored.serial > current.serial, 'OpenTofu accepted it as newer');
  const pushes = ws.fakes.calls('tofu').filter((c) => c.argv.includes('push'));
  assert.ok(pushes.length > 0 && pushes.every((c) => !c.argv.includes('-force')));
});

test('a backup from another lineage is refused (exit 2) unless FORCE=1, which then uses -force', async () => {
  const source = manifests().at(-1)!;
  const state = JSON.parse(readFileSync(join(ws.dir, source.file), 'utf8'));
  const foreign = { ...state, lineage: '00000000-0000-4000-8000-000000000000' };
  const id = '20200101T000000Z-serial-1';
  const text = JSON.stringify(foreign);
  writeFileSync(join(dir(), `${id}.tfstate`), text, { mode: 0o600 });
  writeFileSync(join(dir(), `${id}.manifest.json`), JSON.stringify({ ...source, id, file: `.state-backups/${BUCKET}/mindmirror/production/${id}.tfstate`, sha256: sha256(text), lineage: foreign.lineage, serial: foreign.serial }));
  const lineageBefore = remoteState().lineage;

  const refused = await ws.make('production-restore-state', { BACKUP: id, YES: '1' });
  assert.match(refused.stderr, /they are different states/);
  assert.match(refused.stderr, /make: \*\*\* .* Error 2/);
  assert.equal(remoteState().lineage, lineageBefore);

  const forced = await ws.make('production-restore-state', { BACKUP: id, YES: '1', FORCE: '1' });
  assert.equal(forced.code, 0, forced.all);
  assert.equal(remoteState().lineage, foreign.lineage);
  assert.ok(ws.fakes.calls('tofu').some((c) => c.argv.includes('push') && c.argv.includes('-force')));
});

test('two environments in one bucket (different STATE_PREFIX) each see only their own backups', async () => {
  // A second environment's state in the same bucket, as its first deploy would leave it.
  const staging = { version: 4, terraform_version: remoteState().terraform_version, serial: 901, lineage: '5a5a5a5a-0000-4000-8000-000000000901', outputs: {}, resources: [] };
  ws.fakes.putObject(BUCKET, 'mindmirror/staging/default.tfstate', JSON.stringify(staging));
  const STAGING = { STATE_PREFIX: 'mindmirror/staging' };

  // Its backup is taken from a checkout of its own: OpenTofu ties a working directory to one backend.
  const checkout = tempDir('mindmirror-staging-');
  cpSync(ws.dir, checkout, { recursive: true, verbatimSymlinks: true });
  try {
    const taken = await run('make', ['--no-print-directory', 'production-backup-state', 'STATE_PREFIX=mindmirror/staging'], { cwd: checkout, env: ws.env, timeoutMs: 120_000 });
    assert.equal(taken.code, 0, taken.all);
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
  const stagingIds = bucketObjects().filter((o) => o.startsWith('mindmirror/staging/backups/') && o.endsWith('.tfstate'));
  assert.equal(stagingIds.length, 1, 'under its own STATE_PREFIX');
  const stagingId = stagingIds[0]!.split('/').pop()!.replace(/\.tfstate$/, '');
  assert.match(stagingId, /-serial-901$/);

  // In this checkout, each environment's listing shows only its own, local copies included.
  const productionIds = manifests().map((m) => m.id);
  const listProduction = await ws.make('production-backups');
  assert.equal(listProduction.code, 0, listProduction.all);
  assert.deepEqual(listedIds(listProduction.stdout).sort(), [...productionIds].sort());
  const listStaging = await ws.make('production-backups', STAGING);
  assert.equal(listStaging.code, 0, listStaging.all);
  assert.deepEqual(listedIds(listStaging.stdout), [stagingId]);
  assert.deepEqual(manifests('mindmirror/staging').map((m) => m.lineage), [staging.lineage]);
  const again = await ws.make('production-backups');
  assert.equal(again.code, 0, again.all);
  assert.ok(!listedIds(again.stdout).includes(stagingId), "staging's manifest is in this checkout now, and production still does not list it");

  // With no local copies at all, production finds exactly its own in the bucket.
  rmSync(join(ws.dir, '.state-backups'), { recursive: true, force: true });
  const fromBucket = await ws.make('production-backups');
  assert.equal(fromBucket.code, 0, fromBucket.all);
  const inBucket = [...new Set(bucketObjects().filter((o) => o.startsWith('mindmirror/production/backups/')).map((o) => o.split('/').pop()!.replace(/\.(tfstate|manifest\.json)$/, '')))];
  assert.deepEqual(listedIds(fromBucket.stdout).sort(), inBucket.sort());

  // A restore in one environment cannot reach the other's backup.
  const cross = await ws.make('production-restore-state', { BACKUP: stagingId, YES: '1' });
  assert.notEqual(cross.code, 0);
  assert.match(cross.stderr, /matched no objects/);
  assert.notEqual(remoteState().lineage, staging.lineage, 'production still has its own state');
});

test('backups at the old shared place are pointed out, not listed, and the move it prints makes them this environment’s', async () => {
  const state = remoteState();
  const oldState = JSON.stringify(state);
  const oldId = `20250101T000000Z-serial-${state.serial}`;
  // As the old layout wrote them: gs://$STATE_BUCKET/backups/, the manifest naming .state-backups/production/.
  ws.fakes.putObject(BUCKET, `backups/${oldId}.tfstate`, oldState);
  ws.fakes.putObject(
    BUCKET,
    `backups/${oldId}.manifest.json`,
    JSON.stringify({ id: oldId, created: '2025-01-01T00:00:00.000Z', file: `.state-backups/production/${oldId}.tfstate`, sha256: sha256(oldState), serial: state.serial, lineage: state.lineage, tofu_version: state.terraform_version, state_commit: null, state_image_tag: null, deploying_commit: null }),
  );

  const r = await ws.make('production-backups');
  assert.equal(r.code, 0, r.all);
  assert.ok(!listedIds(r.stdout).includes(oldId), 'not offered: nothing says which environment it belongs to');
  assert.match(r.stdout, new RegExp(`1 backup is still at the old place gs://${BUCKET}/backups/`));
  const move = `gcloud storage mv 'gs://${BUCKET}/backups/*' gs://${BUCKET}/mindmirror/production/backups/`;
  assert.ok(r.stdout.includes(move), r.stdout);

  const moved = await run(ws.fakes.gcloudBin, ['storage', 'mv', `gs://${BUCKET}/backups/*`, `gs://${BUCKET}/mindmirror/production/backups/`], { env: ws.env });
  assert.equal(moved.code, 0, moved.all);
  const after = await ws.make('production-backups');
  assert.equal(after.code, 0, after.all);
  assert.ok(listedIds(after.stdout).includes(oldId), after.stdout);
  assert.doesNotMatch(after.stdout, /old place/);

  // Its manifest names the old local directory; it is the same backup, found beside its manifest.
  const restored = await ws.make('production-restore-state', { BACKUP: oldId, YES: '1' });
  assert.equal(restored.code, 0, restored.all);
  assert.deepEqual(remoteState().resources, state.resources);
  assert.ok(remoteState().serial > state.serial);
});
