// State backups, their listing, and restoring one: checksums, lineage, serial, and never a
// secret in anything printed.

import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { filesUnder, run } from '../helpers/process.ts';
import { BUCKET, createWorkspace, type Workspace } from '../helpers/workspace.ts';
import { sha256 } from '../../scripts/lib/state-backups.ts';

let ws: Workspace;
const dir = () => join(ws.dir, '.state-backups/production');
const manifests = () =>
  readdirSync(dir())
    .filter((f) => f.endsWith('.manifest.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir(), f), 'utf8')) as { id: string; file: string; serial: number; lineage: string; sha256: string; state_commit: string | null });
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
  const objects = Object.keys(ws.fakes.cloud().buckets[BUCKET]!.objects);
  assert.ok(objects.includes(`backups/${m.id}.tfstate`) && objects.includes(`backups/${m.id}.manifest.json`));
  assert.ok(!r.all.includes('redis-auth-string-must-stay-hidden'), 'the state holds a secret; it is never printed');
});

test('make production-backups lists every backup newest first, from the bucket when the local copy is gone', async () => {
  rmSync(dir(), { recursive: true, force: true });
  const r = await ws.make('production-backups');
  assert.equal(r.code, 0, r.all);
  const ids = [...r.stdout.matchAll(/^(\d{8}T\d{6}Z-serial-\d+)\s/gm)].map((x) => x[1]!);
  assert.equal(ids.length, 3, r.stdout);
  assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
  assert.match(r.stdout, /\bbucket\s*$/m);
  for (const f of readdirSync(dir())) assert.equal(statSync(join(dir(), f)).mode & 0o777, 0o600, `${f}, downloaded from the bucket, is owner-only`);
  assert.ok(!r.all.includes('redis-auth-string-must-stay-hidden'));
  for (const f of filesUnder(join(ws.dir, '.runs'))) assert.ok(!f.text.includes('redis-auth-string-must-stay-hidden'));
});

test('a corrupted backup is refused and nothing is pushed', async () => {
  const target = manifests()[1]!;
  const fetched = await run(ws.fakes.gcloudBin, ['storage', 'cp', `gs://${BUCKET}/backups/${target.id}.tfstate`, `${dir()}/`], { env: ws.env });
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
  writeFileSync(join(dir(), `${id}.manifest.json`), JSON.stringify({ ...source, id, file: `.state-backups/production/${id}.tfstate`, sha256: sha256(text), lineage: foreign.lineage, serial: foreign.serial }));
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
