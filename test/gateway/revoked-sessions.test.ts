// Revoked sessions: a user an admin signed out keeps a valid 24 h token, and the gateway refuses
// it once the revoked list names them, even from its token cache; a token issued after the
// revocation (a new sign-in) works; other users are untouched. A list with a mistake, or over the
// bounds, keeps the last good list whole and says so; at start-up it is a configuration problem.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { optionsFromEnv } from '../../gateway/src/config.ts';
import { parseRevocations, REVOKED_SESSIONS_LIMITS } from '../../gateway/src/revoked-sessions.ts';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';

const ME = { query: '{ me { internalId } }' };
let stack: TestStack;
let gateway: TestGateway;
let listFile: string;

before(async () => {
  stack = await TestStack.start();
  listFile = join(stack.dir, 'revoked-sessions');
  writeFileSync(listFile, '# nobody revoked yet\n');
  gateway = await startTestGateway(stack.options({ revokedSessionsFile: listFile, revokedSessionsReloadSeconds: 1 }));
});
after(async () => {
  await gateway?.close();
  await stack?.close();
});

function user() {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  return sub;
}

/** Asks until the answer's status is `status` (the list is read again every second); the last answer. */
async function eventually(token: string, status: number) {
  const deadline = Date.now() + 10_000;
  let res = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
  while (res.status !== status && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    res = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
  }
  return res;
}

test('a revoked user\'s token is refused, even from the cache; a new sign-in and other users are not', async () => {
  const alice = user();
  const bob = user();
  const aliceOld = await stack.issuer.sign({ sub: alice, claims: { iat: Math.floor(Date.now() / 1000) - 600 } });
  const bobToken = await stack.issuer.sign({ sub: bob });
  assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(aliceOld))).status, 200, 'valid before: and now cached');

  writeFileSync(listFile, `# signed out by an admin\n${alice} ${new Date(Date.now() - 60_000).toISOString()}\n`);
  const refused = await eventually(aliceOld, 401);
  assert.equal(refused.status, 401);
  assert.equal(refused.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
  assert.match(String(refused.body.errors?.[0]?.message), /signed out by an administrator/);
  assert.ok(gateway.logs().some((l) => l['event'] === 'auth_refused' && l['reason'] === 'session_revoked'));

  const aliceNew = await stack.issuer.sign({ sub: alice });
  assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(aliceNew))).status, 200, 'a token issued after the revocation works');
  assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(bobToken))).status, 200, 'another user is untouched');
});

test('a list with a mistake or over the bounds keeps the last good list whole, and is logged', async () => {
  const carol = user();
  const old = await stack.issuer.sign({ sub: carol, claims: { iat: Math.floor(Date.now() / 1000) - 600 } });
  writeFileSync(listFile, `${carol} ${new Date().toISOString()}\n`);
  assert.equal((await eventually(old, 401)).status, 401);

  writeFileSync(listFile, `${carol} ${new Date().toISOString()}\nnot-a-user yesterday\n`);
  const before = gateway.logs().length;
  const deadline = Date.now() + 10_000;
  while (!gateway.logs().slice(before).some((l) => l['event'] === 'revoked_sessions_unreadable') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const line = gateway.logs().slice(before).find((l) => l['event'] === 'revoked_sessions_unreadable');
  assert.ok(line, 'the mistake is logged');
  assert.match(String(line['problem']), /line 2: expected "<user id> <ISO 8601 time>"/);
  assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(old))).status, 401, 'carol stays revoked');

  // Over the size bound: a hostile or runaway list is not parsed, and the last good one stays.
  writeFileSync(listFile, `# ${'x'.repeat(REVOKED_SESSIONS_LIMITS.maxBytes)}\n`);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(old))).status, 401, 'carol stays revoked');
  assert.equal((await fetch(`${gateway.url}/healthcheck`)).status, 200);
});

test('the list format: latest entry per user wins, comments ignored, every bad line named, bounds on size and count', () => {
  const id = randomUUID();
  const parsed = parseRevocations(`# header\n${id} 2026-12-01T00:00:00Z\n${id.toUpperCase()} 2026-12-02T00:00:00Z  # again\n\nbad line\n${randomUUID()} not-a-time\n`);
  assert.equal(parsed.entries.get(id), Date.parse('2026-12-02T00:00:00Z') / 1000);
  assert.deepEqual(parsed.problems, ['line 5: expected "<user id> <ISO 8601 time>"', 'line 6: expected "<user id> <ISO 8601 time>"']);
  const many = Array.from({ length: 11 }, () => `${randomUUID()} 2026-12-01T00:00:00Z`).join('\n');
  assert.match(parseRevocations(many, { maxBytes: 1_000_000, maxEntries: 10 }).problems[0]!, /11 users, over 10/);
  assert.match(parseRevocations('x'.repeat(20), { maxBytes: 10, maxEntries: 10 }).problems[0]!, /over 10 bytes/);
});

test('at start-up a list with a mistake, or a missing one, is a configuration problem', () => {
  const bad = join(stack.dir, 'bad-list');
  writeFileSync(bad, 'someone sometime\n');
  const base = { SUPABASE_URL: 'https://abc.supabase.co', USERS_SERVICE_URL: 'https://users.internal/graphql', SUPERGRAPH: stack.supergraphPath };
  assert.ok(optionsFromEnv({ ...base, REVOKED_SESSIONS_FILE: bad }).problems.some((p) => /REVOKED_SESSIONS_FILE=.*: line 1: expected/.test(p)));
  assert.ok(optionsFromEnv({ ...base, REVOKED_SESSIONS_FILE: join(stack.dir, 'missing') }).problems.some((p) => /REVOKED_SESSIONS_FILE=.* does not exist/.test(p)));
  assert.ok(optionsFromEnv({ ...base, REVOKED_SESSIONS_RELOAD_SECONDS: '0' }).problems.some((p) => /REVOKED_SESSIONS_RELOAD_SECONDS=0 is not valid/.test(p)));
});
