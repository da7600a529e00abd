// make load-test's guard rails, which hold before anything is created: bounded parameters, a
// per-user rate the gateway's limiter would not refuse, and production only when someone said so.
// The load itself runs against the real local stack in test/local/local-stack.test.ts.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { run, tempDir } from './helpers/process.ts';
import { copyRepository } from './helpers/workspace.ts';

const loadTest = (env: Record<string, string>, cwd?: string) => run(process.execPath, ['--import', 'tsx', 'scripts/load-test.ts'], { env, cwd });

test('every out-of-bounds parameter is reported at once, with exit 2', async () => {
  const r = await loadTest({ USERS: '0', RATE: 'fast', DURATION: '9999', P95_OBJECTIVE_MS: '-5', LOCAL_DIR: tempDir() });
  assert.equal(r.code, 2, r.all);
  for (const name of ['USERS', 'RATE', 'DURATION', 'P95_OBJECTIVE_MS']) assert.match(r.all, new RegExp(`${name}.*expected a whole number`), name);
});

test('a rate the per-user limit would refuse stops before any user is created, and says how many users would do', async () => {
  // No local stack in this LOCAL_DIR: reaching the target step would fail differently.
  const r = await loadTest({ USERS: '2', RATE: '100', LOCAL_DIR: tempDir() });
  assert.equal(r.code, 2, r.all);
  assert.match(r.all, /50\.0 requests per second per user/);
  assert.match(r.all, /use USERS=13 or more/);
  assert.doesNotMatch(r.all, /outputs\.json/);
});

test('against production it says what it will send and does not start without an answer', async () => {
  const dir = copyRepository();
  mkdirSync(join(dir, 'env'), { recursive: true });
  writeFileSync(
    join(dir, 'env', 'production.env'),
    [
      'PROJECT_ID=mm-prod-test',
      'REGION=us-central1',
      'STATE_BUCKET=mm-prod-test-tfstate',
      'STATE_PREFIX=mindmirror/production',
      'SUPABASE_PROJECT_REF=abcdefghijklmnopqrst',
      'SUPABASE_DB_URL=postgresql://postgres@127.0.0.1:5432/postgres',
      'SUPABASE_DB_PASSWORD=correct-horse-battery-staple-42',
      '',
    ].join('\n'),
  );
  // Any tofu or gcloud call would fail loudly: nothing may be read before the answer.
  const missing = join(dir, 'no-such-cli');
  const r = await loadTest({ TARGET: 'production', RATE: '30', USERS: '5', DURATION: '10', TOFU_BIN: missing, GCLOUD_BIN: missing }, dir);
  assert.equal(r.code, 1, r.all);
  assert.match(r.all, /Will send 300 requests .*30\/s for 10 s, from 5 throwaway users/);
  assert.match(r.all, /no terminal to ask: re-run with YES=1/);
  assert.doesNotMatch(r.all, /no-such-cli/);
});
