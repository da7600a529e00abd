// What a hostile or broken client can send the local auth and its mailbox: every body, field,
// query and path has a bound, and anything outside it is refused with a GoTrue-shaped error (or
// Mailpit's plain-text one), never a crash: the server answers normally afterwards. An internal
// failure is a generic 500 whose log line carries no secret of the request.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { Mailbox } from '../../dev/mail/mailbox.ts';
import { MAX_BODY_BYTES } from '../../dev/auth/request.ts';
import type { ScratchDatabase } from '../supabase/databases.ts';
import { authDatabase, AuthUnderTest, configSettings, goodPassword, newEmail } from './support.ts';

let db: ScratchDatabase;
let auth: AuthUnderTest;

before(async () => {
  db = await authDatabase('auth_hostile');
  auth = await AuthUnderTest.start(db.url, { ...configSettings(), signupEnabled: true, emailMaxFrequencySeconds: 0 });
});

after(async () => {
  await auth?.close();
  await db?.drop();
});

const json = { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' };

async function refusal(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(body.code, code, JSON.stringify(body));
  assert.equal(typeof body.message, 'string');
  return body;
}

/** A raw POST whose body arrives in chunks, without a content-length (fetch always sets one for a string). */
function chunkedPost(path: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${auth.url}${path}`, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    // The server may answer and close before every chunk is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('bodies: too large (declared or streamed), not JSON, not an object, fields of the wrong type', async () => {
  const big = JSON.stringify({ email: newEmail('big'), password: goodPassword(), data: { blob: 'x'.repeat(MAX_BODY_BYTES) } });
  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: big }), 413, 'request_entity_too_large');
  const streamed = await chunkedPost('/auth/v1/signup', { ...json, apikey: auth.keys.anonKey }, Array.from({ length: 40 }, () => Buffer.alloc(4096, 'a')));
  assert.equal(streamed.status, 413);
  assert.equal(JSON.parse(streamed.body).code, 'request_entity_too_large');

  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: '{"email": ' }), 400, 'bad_json');
  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: '[1,2,3]' }), 400, 'bad_json');
  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: 42, password: goodPassword() }) }), 400, 'bad_json');
  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: newEmail('x'), password: goodPassword(), data: [1] }) }), 400, 'bad_json');
  await refusal(await auth.fetch('/token?grant_type=password', { method: 'POST', headers: json, body: JSON.stringify({ email: ['a'], password: 'x' }) }), 400, 'bad_json');
});

test('fields: over-long addresses, passwords, tokens; metadata too deep or too large, also when grown by merging', async () => {
  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: `${'a'.repeat(300)}@example.test`, password: goodPassword() }) }), 400, 'validation_failed');
  const long = await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: newEmail('long'), password: `${'a1'.repeat(40)}` }) }), 400, 'validation_failed');
  assert.match(String(long.message), /cannot be longer than 72/);
  await refusal(await auth.fetch('/token?grant_type=refresh_token', { method: 'POST', headers: json, body: JSON.stringify({ refresh_token: 'r'.repeat(10_000) }) }), 400, 'validation_failed');
  await refusal(await auth.fetch(`/verify?type=signup&token=${'f'.repeat(5000)}`, { key: 'none', headers: json }), 400, 'validation_failed');

  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 40; i++) deep = { deeper: deep };
  await refusal(await auth.fetch('/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: newEmail('deep'), password: goodPassword(), data: deep }) }), 400, 'validation_failed');
  await refusal(
    await auth.fetch('/signup', { method: 'POST', headers: json, body: JSON.stringify({ email: newEmail('wide'), password: goodPassword(), data: { blob: 'x'.repeat(20_000) } }) }),
    400,
    'validation_failed',
  );

  const email = newEmail('grow');
  const password = goodPassword();
  await auth.admin().createUser({ email, password, email_confirm: true });
  const client = auth.client();
  await client.auth.signInWithPassword({ email, password });
  let refusedAt = 0;
  for (let i = 1; i <= 5 && !refusedAt; i++) {
    const { error } = await client.auth.updateUser({ data: { [`k${i}`]: 'y'.repeat(6_000) } });
    if (error) {
      assert.equal(error.status, 400);
      assert.equal(error.code, 'validation_failed');
      refusedAt = i;
    }
  }
  assert.equal(refusedAt, 3, 'the third 6 kB key takes the merged metadata over 16 kB');
});

test('paths and queries: unknown routes, a wrong method, pagination out of bounds, a malformed user id', async () => {
  const outside = await fetch(`${auth.url}/rest/v1/anything`);
  assert.equal(outside.status, 404);
  assert.equal(((await outside.json()) as { error_code: string }).error_code, 'not_found');
  await refusal(await auth.fetch('/user', { method: 'DELETE', headers: json }), 405, 'method_not_allowed');
  await refusal(await auth.fetch('/admin/users?per_page=abc', { key: 'service_role', headers: { ...json, authorization: `Bearer ${auth.keys.serviceRoleKey}` } }), 400, 'validation_failed');
  await refusal(await auth.fetch('/admin/users?page=0', { key: 'service_role', headers: { ...json, authorization: `Bearer ${auth.keys.serviceRoleKey}` } }), 400, 'validation_failed');
  const huge = await auth.fetch('/admin/users?per_page=999999999', { key: 'service_role', headers: { ...json, authorization: `Bearer ${auth.keys.serviceRoleKey}` } });
  assert.equal(huge.status, 200);
  assert.ok(((await huge.json()) as { users: unknown[] }).users.length <= 1000);
  await refusal(await auth.fetch('/admin/users/%E0%A4%A', { key: 'service_role', headers: { ...json, authorization: `Bearer ${auth.keys.serviceRoleKey}` } }), 404, 'validation_failed');
  await refusal(await auth.fetch('/user', { headers: { ...json, authorization: 'Bearer not.a.jwt' } }), 403, 'bad_jwt');
  await refusal(await auth.fetch('/user', { headers: { ...json, authorization: `Bearer ${'a'.repeat(4000)}` } }), 403, 'bad_jwt');
});

test('the mailbox: bounded in count, in queries and in what a delete may name; its page escapes what it shows', async () => {
  const small = new Mailbox(3);
  for (let i = 0; i < 5; i++) small.deliver({ from: { Name: '', Address: 'a@x.test' }, to: [{ Name: '', Address: `u${i}@x.test` }], subject: `m${i}`, text: '', html: '' });
  assert.equal(small.count, 3);
  assert.deepEqual(
    small.find().map((m) => m.Subject),
    ['m4', 'm3', 'm2'],
    'the oldest are dropped',
  );

  const base = auth.issuer.mailboxUrl;
  assert.equal((await fetch(`${base}/api/v1/search?query=${'q'.repeat(600)}`)).status, 400);
  assert.equal((await fetch(`${base}/api/v1/messages?start=abc&limit=-5`)).status, 200, 'bad paging is ignored, as Mailpit does');
  const tooMany = await fetch(`${base}/api/v1/messages`, { method: 'DELETE', body: JSON.stringify({ IDs: Array.from({ length: 2000 }, (_, i) => `id${i}`) }) });
  assert.equal(tooMany.status, 400);
  const tooBig = await fetch(`${base}/api/v1/messages`, { method: 'DELETE', body: 'x'.repeat(100_000) });
  assert.equal(tooBig.status, 413);

  auth.issuer.mailbox.deliver({ from: { Name: '', Address: 'a@x.test' }, to: [{ Name: '', Address: '"><img src=x>@x.test' }], subject: '<script>alert(1)</script>', text: 'see <b>https://x.test/?a=1&b="2"</b>', html: '' });
  const page = await (await fetch(`${base}/`)).text();
  assert.ok(!page.includes('<script>alert'), 'the subject is escaped');
  assert.ok(page.includes('&lt;script&gt;'));
  assert.ok(!page.includes('"><img'));
  const id = (await (await fetch(`${base}/api/v1/message/latest`)).json()).ID as string;
  const view = await fetch(`${base}/view/${id}`);
  assert.equal(view.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'");
  const html = await view.text();
  assert.ok(!html.includes('<b>'));
});

test('after all of the above the server still answers, and an internal failure is a generic 500 that logs no secret', async () => {
  assert.equal((await auth.fetch('/health', { key: 'none' })).status, 200);

  const broken = await authDatabase('auth_broken');
  const issuer = await AuthUnderTest.start(broken.url, configSettings());
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    const email = newEmail('broken');
    const password = goodPassword();
    await issuer.admin().createUser({ email, password, email_confirm: true });
    const client = new pg.Client({ connectionString: broken.url });
    await client.connect();
    await client.query('drop table auth.mfa_amr_claims');
    await client.end();
    const response = await issuer.fetch('/token?grant_type=password', { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
    await refusal(response, 500, 'unexpected_failure');
    const { error } = await issuer.client().auth.signInWithPassword({ email, password });
    assert.equal(error?.name, 'AuthRetryableFetchError', 'supabase-js treats it as a server failure, not a wrong password');
    assert.ok(lines.some((l) => l.includes('POST /auth/v1/token failed')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes(password)), 'the password is not logged');
  } finally {
    console.error = original;
    await issuer.close();
    await broken.drop();
  }
});
