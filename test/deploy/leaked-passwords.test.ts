// make production-supabase reads leaked-password protection back from Supabase's Management API
// (it is not in config.toml): the real curl against a stand-in for api.supabase.com. On, off and
// unreadable each say so; off and unreadable warn without stopping the run; the access token
// and the other auth secrets in the answer are never printed.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runRunbook } from '../../scripts/lib/engine.ts';
import { defineRunbook } from '../../scripts/lib/runbook.ts';
import { leakedPasswordsStep } from '../../scripts/production-supabase.ts';
import { startFakeHttpsApi, type FakeHttpsApi } from '../fakes/https-api.ts';
import { captureOutput, tempDir } from '../helpers/process.ts';
import { SUPABASE_TOKEN } from '../helpers/workspace.ts';

const REF = 'abcdefghijklmnopqrst';
const SMTP_PASSWORD = 'smtp-password-never-shown-1234';
let api: FakeHttpsApi;
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const seen: { path: string; authorization?: string }[] = [];
const envFile = join(tempDir('mindmirror-hibp-'), 'production.env');

before(async () => {
  api = await startFakeHttpsApi('api.supabase.com', (req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${SUPABASE_TOKEN}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
    if (req.url !== `/v1/projects/${REF}/config/auth`) return void res.writeHead(404).end('{"message":"Not found"}');
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  writeFileSync(envFile, `SUPABASE_PROJECT_REF=${REF}\nSUPABASE_ACCESS_TOKEN=${SUPABASE_TOKEN}\n`);
});
after(async () => api?.close());

const runbook = defineRunbook({ id: 'supabase', title: 'Supabase project', make: 'production-supabase', steps: [leakedPasswordsStep] });

async function check(): Promise<{ code: number; text: string }> {
  const out = captureOutput();
  const err = captureOutput();
  const code = await runRunbook(runbook, { argv: [], env: { ...process.env, ...api.env, ENV_FILE: envFile }, out, err });
  return { code, text: out.text() + err.text() };
}

test('on: the step says so', async () => {
  answer = { status: 200, body: { password_hibp_enabled: true, smtp_pass: SMTP_PASSWORD } };
  const r = await check();
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /ok .*Check leaked-password protection .*on/);
  assert.equal(seen.at(-1)?.authorization, `Bearer ${SUPABASE_TOKEN}`);
});

test('off: a warning with the dashboard step, and the run goes on', async () => {
  answer = { status: 200, body: { password_hibp_enabled: false, smtp_pass: SMTP_PASSWORD } };
  const r = await check();
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /warn .*Check leaked-password protection .*off/);
  assert.match(r.text, /Prevent use of leaked passwords/);
  assert.ok(!r.text.includes(SMTP_PASSWORD) && !r.text.includes(SUPABASE_TOKEN), 'no secret is shown');
});

test('unreadable: unknown with the API\'s reason, never "on"', async () => {
  answer = { status: 403, body: { message: 'Your account does not have the necessary privileges' } };
  const r = await check();
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /warn .*unknown: the Management API answered/);
  assert.doesNotMatch(r.text, /ok .*Check leaked-password protection/);
});
