// What comes back from the state bucket, or from a person at a prompt, is checked before it
// becomes a path, a git argument or a tofu argument: a manifest whose fields are not what a
// backup records is refused field by field (exit 2), nothing is checked out; an id typed at the
// rollback prompt that is not a backup id is refused the same way; objects in the bucket not
// named like a backup are ignored; and every file downloaded from the bucket is owner-only.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { runRunbook } from '../../scripts/lib/engine.ts';
import { rollback } from '../../scripts/production-rollback.ts';
import { putObject } from '../fakes/store.ts';
import { captureOutput } from '../helpers/process.ts';
import { BUCKET, createWorkspace, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
const ID = '20261122T010203Z-serial-7';
const good = {
  id: ID,
  created: '2026-11-22T01:02:03.000Z',
  file: `.state-backups/${BUCKET}/mindmirror/production/${ID}.tfstate`,
  sha256: 'a'.repeat(64),
  serial: 7,
  lineage: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  tofu_version: '1.12.6',
  state_commit: '0123456789abcdef0123456789abcdef01234567',
  state_image_tag: 'v1.0.0',
  deploying_commit: null,
};

before(async () => {
  ws = await createWorkspace();
});
after(async () => ws.cleanup());

const upload = (name: string, body: unknown) =>
  ws.fakes.seed((cloud) => {
    putObject(cloud, cloud.buckets[BUCKET]!, `mindmirror/production/backups/${name}`, typeof body === 'string' ? body : JSON.stringify(body), ws.env.FAKE_CLOUD_DIR);
  });

test('a manifest from the bucket with a hostile commit and file is refused field by field; nothing is checked out', async () => {
  upload(`${ID}.manifest.json`, { ...good, file: '../../../../etc/passwd', state_commit: '--upload-pack=touch /tmp/owned' });
  upload('not-a-backup..manifest.json', { ...good, id: 'not-a-backup.' });
  const r = await ws.make('production-rollback', { BACKUP: ID, YES: '1' });
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, new RegExp(`the manifest of backup ${ID} cannot be trusted: file is not \\.state-backups/${BUCKET}/mindmirror/production/${ID}\\.tfstate; state_commit is not a commit`));
  assert.ok(!ws.fakes.calls().some((c) => c.argv.join(' ').includes('upload-pack')));
  const dir = join(ws.dir, '.state-backups', BUCKET, 'mindmirror/production');
  assert.ok(!existsSync(join(dir, 'not-a-backup..manifest.json')), 'an object not named like a backup is not downloaded');
  for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, `${f} is owner-only`);
});

test('an id typed at the rollback prompt that is not a backup id is refused before it becomes a path', async () => {
  // In this process the runbook's repository is this checkout: an empty backups/ keeps its .state-backups untouched.
  ws.fakes.seed((cloud) => {
    for (const name of Object.keys(cloud.buckets[BUCKET]!.objects)) if (name.startsWith('mindmirror/production/backups/')) delete cloud.buckets[BUCKET]!.objects[name];
  });
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  tty.end('../../../etc/passwd\n');
  const out = captureOutput();
  const err = captureOutput();
  const code = await runRunbook(rollback, { argv: [], env: { ...process.env, ...ws.env, ENV_FILE: join(ws.dir, 'env', 'production.env'), BACKUP: '' }, stdin: tty, out, err });
  assert.equal(code, 2, out.text() + err.text());
  assert.match(err.text(), /"\.\.\/\.\.\/\.\.\/etc\/passwd" is not a backup id/);
});
