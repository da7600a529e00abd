// make production-revoke-session against the fake gcloud's Secret Manager: the user is added to
// the list the gateway mounts as a new version, entries older than a token's lifetime are
// dropped, a user revoked twice is listed once with the latest time, and a bad USER_ID is bad
// input (exit 2) that writes nothing. The list's format is the one the gateway parses.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { parseRevocations } from '../../gateway/src/revoked-sessions.ts';
import { revokedList } from '../../scripts/production-revoke-session.ts';
import { createWorkspace, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
const initial = '# Revoked sessions, one per line: <supabase user id> <revoked at, ISO 8601> (make production-revoke-session)\n';
const versions = () => ws.fakes.cloud().secrets['revoked-sessions']?.versions.map((v) => Buffer.from(v.data, 'base64').toString('utf8')) ?? [];

before(async () => {
  ws = await createWorkspace();
  ws.fakes.seed((cloud) => {
    cloud.secrets['revoked-sessions'] = { versions: [{ version: 1, data: Buffer.from(initial).toString('base64'), state: 'ENABLED' }] };
  });
});
after(async () => ws.cleanup());

test('a user is added as a new version the gateway can read; revoking again keeps one entry with the latest time', async () => {
  const user = randomUUID();
  const r = await ws.make('production-revoke-session', { USER_ID: user, YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /Also sign the user out in Supabase/);
  const [, second] = versions();
  assert.ok(second, 'a second version was added');
  const parsed = parseRevocations(second);
  assert.deepEqual(parsed.problems, []);
  assert.ok(Math.abs(parsed.entries.get(user)! - Date.now() / 1000) < 120);

  const again = await ws.make('production-revoke-session', { USER_ID: user, YES: '1' });
  assert.equal(again.code, 0, again.all);
  const third = versions()[2]!;
  assert.equal(third.split('\n').filter((l) => l.startsWith(user)).length, 1);
});

test('entries older than a token lifetime are dropped, recent ones kept', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  const old = randomUUID();
  const recent = randomUUID();
  const list = revokedList(`${initial}${old} 2026-12-03T10:00:00Z\n${recent} 2026-12-04T01:00:00Z\n`, randomUUID(), now);
  assert.equal(list.dropped, 1);
  assert.equal(list.kept, 1);
  assert.ok(!list.text.includes(old) && list.text.includes(recent));
});

test('a USER_ID that is not a Supabase user id is bad input: exit 2, nothing written', async () => {
  const before = versions().length;
  const r = await ws.make('production-revoke-session', { USER_ID: 'alice@example.com', YES: '1' });
  assert.equal(r.code, 2, r.all);
  assert.match(r.all, /USER_ID="alice@example.com" .* expected a Supabase user id/);
  assert.equal(versions().length, before);
});
