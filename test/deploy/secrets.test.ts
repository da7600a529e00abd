// make production-secrets against the fake gcloud's Secret Manager, and the Supabase runbook's
// commands against the real supabase CLI. Preflight runs first; a value is stored only when it
// changed; a misspelt name is refused with the name it was probably meant to be; and no value
// reaches the output, the logs or a written file.

import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SUPABASE } from '../../scripts/lib/cli.ts';
import type { Var } from '../../scripts/lib/command.ts';
import { databaseUrlSecrets, operatorSecrets } from '../../scripts/lib/secret-catalog.ts';
import { supabaseProject } from '../../scripts/production-supabase.ts';
import { filesUnder, run } from '../helpers/process.ts';
import { createWorkspace, PROJECT, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
// Most of this suite is the external mode: a person provides every database's URL, as before
// production had its own Cloud SQL instance. The Cloud SQL mode has its own test at the end.
before(async () => {
  ws = await createWorkspace();
  appendFileSync(join(ws.dir, 'env', 'production.env'), 'DATABASE_MODE=external\n');
});
after(async () => ws.cleanup());

const values = Object.fromEntries(operatorSecrets().map((name, i) => [name, `secret-value-${name}-${i}-Zq7`]));
const stored = (name: string) => ws.fakes.cloud().secrets[name]?.versions.map((v) => Buffer.from(v.data, 'base64').toString('utf8')) ?? [];
const writeSecrets = (entries: Record<string, string>) => {
  const file = join(ws.dir, 'env', 'production.secrets.env');
  writeFileSync(file, Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  return file;
};

function assertNothingLeaked(texts: string[], secrets: string[]) {
  for (const text of texts) for (const s of secrets) assert.ok(!text.includes(s), `a secret value leaked (${s.slice(0, 20)}...)`);
}

test('the first run creates every secret with its value, printing none of them', async () => {
  writeSecrets(values);
  const r = await ws.make('production-secrets');
  assert.equal(r.code, 0, r.all);
  for (const [name, value] of Object.entries(values)) assert.deepEqual(stored(name), [value], name);
  assert.match(r.stdout, /database-url\s+created/);
  assertNothingLeaked([r.all, ...filesUnder(join(ws.dir, '.runs')).map((f) => f.text)], Object.values(values));
  assert.ok(ws.fakes.calls('gcloud').every((c) => !Object.values(values).some((v) => c.argv.join(' ').includes(v))), 'no value on a command line');
});

test('a second run adds a version only for the value that changed', async () => {
  writeSecrets({ ...values, 'openai-api-key': 'rotated-openai-key-9f8e7d' });
  const r = await ws.make('production-secrets');
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(stored('openai-api-key'), [values['openai-api-key'], 'rotated-openai-key-9f8e7d']);
  assert.deepEqual(stored('database-url'), [values['database-url']], 'unchanged values get no new version');
  assert.match(r.stdout, /openai-api-key\s+updated/);
  assert.match(r.stdout, /database-url\s+unchanged/);
  assertNothingLeaked([r.all, ...filesUnder(join(ws.dir, '.runs')).map((f) => f.text)], ['rotated-openai-key-9f8e7d', ...Object.values(values)]);
});

test('without a file and without a terminal, it keeps what is stored and names what was never set', async () => {
  const file = writeSecrets({});
  let r = await ws.make('production-secrets', { SECRETS_FILE: file });
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /openai-api-key\s+kept \(no new value given\)/);

  ws.fakes.seed((c) => delete c.secrets['qdrant-api-key']);
  r = await ws.make('production-secrets', { SECRETS_FILE: file });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /qdrant-api-key\s+MISSING/);
  assert.match(r.stderr, /qdrant-api-key has no value yet; the services that mount them cannot start/);
});

test('a file that names secrets the project does not use is refused with exit 2, naming the closest known name, and nothing is stored', async () => {
  const file = writeSecrets({ ...values, 'openai-api-kye': 'typo-value-123456', 'weather-service-token': 'unrelated-value-654321' });
  const versionsBefore = JSON.stringify(ws.fakes.cloud().secrets);
  const r = await ws.make('production-secrets', { SECRETS_FILE: file });
  assert.match(r.stderr, /names secrets this project does not use: openai-api-kye \(did you mean openai-api-key\?\), weather-service-token\./);
  assert.match(r.stderr, /make: \*\*\* .* Error 2/);
  assert.equal(JSON.stringify(ws.fakes.cloud().secrets), versionsBefore);
  assertNothingLeaked([r.all], ['typo-value-123456', 'unrelated-value-654321']);
});

test('preflight runs first: with a required API off, it stops before any secret is read or stored', async () => {
  const file = writeSecrets({ ...values, 'openai-api-key': 'never-stored-value-31415' });
  const apis = ws.fakes.cloud().projects[PROJECT]!.apis;
  ws.fakes.seed((c) => (c.projects[PROJECT]!.apis = apis.filter((a) => a !== 'secretmanager.googleapis.com')));
  const callsBefore = ws.fakes.calls('gcloud').length;
  try {
    const r = await ws.make('production-secrets', { SECRETS_FILE: file });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Step 1\/3 failed: Preflight \(secrets\.preflight\)/);
    assert.match(r.all, /secretmanager\.googleapis\.com/);
    assert.deepEqual(ws.fakes.calls('gcloud').slice(callsBefore).filter((c) => c.argv[0] === 'secrets'), [], 'no secret was read or written');
    assert.ok(!stored('openai-api-key').includes('never-stored-value-31415'));
  } finally {
    ws.fakes.seed((c) => (c.projects[PROJECT]!.apis = apis));
  }
});

test('a value gcloud echoes back in an error is masked too', async () => {
  ws.fakes.seed((c) => c.faults.push({ tool: 'gcloud', command: 'secrets versions add', stderr: `ERROR: (gcloud.secrets.versions.add) rejected payload ${'leaky-new-value-42xyz'}\n` }));
  const file = writeSecrets({ ...values, 'qdrant-api-key': 'leaky-new-value-42xyz' });
  const r = await ws.make('production-secrets', { SECRETS_FILE: file });
  assert.notEqual(r.code, 0);
  assert.match(r.all, /rejected payload \[redacted:/);
  assertNothingLeaked([r.all, ...filesUnder(join(ws.dir, '.runs')).map((f) => f.text)], ['leaky-new-value-42xyz']);
});

test('every supabase command the runbooks build is one the real CLI accepts', async () => {
  const commands = supabaseProject.steps.flatMap((s) => s.commands).filter((c) => c.program === SUPABASE);
  assert.ok(commands.length >= 5);
  const sample: Record<string, string> = { SUPABASE_DB_URL: ws.databaseUrl, SUPABASE_PROJECT_REF: 'abcdefghijklmnopqrst' };
  for (const c of commands) {
    const argv = c.resolveArgs((v: Var) => sample[v.name] ?? 'x');
    // No access token: commands that need the Management API stop before any network call;
    // the database ones run against this workspace's own local database.
    const r = await run(join(ws.dir, 'node_modules/.bin/supabase'), argv, {
      cwd: ws.dir,
      env: { SUPABASE_ACCESS_TOKEN: undefined, PGSSLMODE: 'disable' },
      timeoutMs: 60_000,
    });
    assert.doesNotMatch(r.all, /Unrecognized flag|Unknown command|unknown command|Unexpected argument/i, `${c.render()}\n${r.all}`);
  }
});

test('on Cloud SQL no database URL is asked for or accepted: OpenTofu writes them, one login per service', async () => {
  const cloudSql = { env: { DATABASE_MODE: 'cloudsql' } };
  ws.fakes.seed((c) => {
    c.faults = [];
  });
  const others = Object.fromEntries(Object.entries(values).filter(([name]) => !databaseUrlSecrets().includes(name)));
  writeSecrets({ ...others, 'database-url': 'postgresql://someone:typed-this-in@10.0.0.9:5432/main' });
  const refused = await ws.make('production-secrets', {}, cloudSql);
  assert.notEqual(refused.code, 0, refused.all);
  assert.match(refused.all, /database-url: OpenTofu writes the database URLs on Cloud SQL \(DATABASE_MODE=cloudsql\)/);
  assert.match(refused.all, /set DATABASE_MODE=external in env\/production\.env/);
  assertNothingLeaked([refused.all], ['typed-this-in']);

  writeSecrets(others);
  const before = Object.fromEntries(databaseUrlSecrets().map((n) => [n, stored(n).length]));
  const r = await ws.make('production-secrets', {}, cloudSql);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /database URLs are written by OpenTofu/);
  for (const name of databaseUrlSecrets()) {
    assert.doesNotMatch(r.stdout, new RegExp(`^${name}\\s`, 'm'), `${name} is not in the table`);
    assert.equal(stored(name).length, before[name], `${name} untouched`);
  }
});
