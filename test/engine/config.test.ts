import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, renderExampleFile } from '../../scripts/lib/config.ts';
import { PRODUCTION_VARS } from '../../scripts/lib/env-schema.ts';
import { redactor } from '../../scripts/lib/redact.ts';
import { repoRoot, tempDir } from '../helpers/process.ts';

const examplePath = join(repoRoot, 'env', 'production.env.example');

function envFile(text: string): string {
  const file = join(tempDir(), 'production.env');
  writeFileSync(file, text);
  return file;
}

test('the committed example documents exactly the schema, each variable with its description', () => {
  assert.equal(readFileSync(examplePath, 'utf8'), renderExampleFile(), 'regenerate env/production.env.example from the schema');
  const text = readFileSync(examplePath, 'utf8');
  for (const spec of PRODUCTION_VARS) {
    assert.match(text, new RegExp(`# ${spec.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n(# Default: .*\\n)?${spec.name}=`), spec.name);
  }
});

test('the example file is valid configuration apart from the secrets it leaves empty', () => {
  const nonSecret = PRODUCTION_VARS.filter((s) => !s.secret).map((s) => s.name);
  const { problems } = loadConfig({ env: { ENV_FILE: examplePath }, required: nonSecret });
  assert.deepEqual(problems, []);
});

test('every missing or malformed variable is reported in one pass', () => {
  const file = envFile(['PROJECT_ID=Bad_Project', 'REGION=mars', 'STATE_BUCKET=gs://with-prefix', 'PROJET_ID=typo', ''].join('\n'));
  const { problems } = loadConfig({ env: { ENV_FILE: file }, required: ['PROJECT_ID', 'REGION', 'STATE_BUCKET', 'SUPABASE_PROJECT_REF', 'IMAGE_TAG'] });
  const text = problems.join('\n');
  assert.equal(problems.length, 6, text);
  assert.match(text, /PROJECT_ID="Bad_Project" .* is not valid: expected a project id/);
  assert.match(text, /REGION="mars" .* expected a region/);
  assert.match(text, /STATE_BUCKET="gs:\/\/with-prefix" .* without the gs:\/\/ prefix/);
  assert.match(text, /SUPABASE_PROJECT_REF is not set/);
  assert.match(text, /IMAGE_TAG is not set/);
  assert.match(text, /PROJET_ID in .* is not a known variable \(did you mean PROJECT_ID\?\)/);
});

test('the environment wins over the file, and defaults fill what neither sets', () => {
  const file = envFile('PROJECT_ID=from-file-proj\n');
  const { config, problems } = loadConfig({ env: { ENV_FILE: file, PROJECT_ID: 'from-env-proj' }, required: ['PROJECT_ID', 'REGION'] });
  assert.deepEqual(problems, []);
  assert.equal(config.get('PROJECT_ID'), 'from-env-proj');
  assert.equal(config.source('PROJECT_ID'), 'environment');
  assert.equal(config.get('REGION'), 'us-central1');
  assert.equal(config.source('REGION'), 'default');
});

test('a missing ENV_FILE is an error; a missing default file only matters for variables that are needed', () => {
  const missing = loadConfig({ env: { ENV_FILE: '/nonexistent/prod.env' } });
  assert.match(missing.problems.join('\n'), /ENV_FILE=\/nonexistent\/prod.env does not exist/);
  // No env/production.env on a fresh clone: only the variables a runbook needs are problems.
  const fresh = loadConfig({ env: {}, required: ['PROJECT_ID'] });
  if (!existsSync(join(repoRoot, 'env', 'production.env'))) assert.match(fresh.problems.join('\n'), /PROJECT_ID is not set: .*it does not exist yet: copy env\/production.env.example/);
  assert.deepEqual(loadConfig({ env: {} }).problems.filter((p) => !p.includes('production.env in')), []);
});

test('ENV naming an environment nobody set up is one clear problem, with the environments there are', () => {
  const staging = loadConfig({ env: { ENV: 'staging' }, required: ['PROJECT_ID', 'STATE_BUCKET'] });
  assert.equal(staging.problems.length, 1, staging.problems.join('\n'));
  assert.match(staging.problems[0]!, /^ENV=staging: there is no env\/staging\.env and no env\/staging\.env\.example\. Environments set up here: production\. To add staging, copy env\/production\.env\.example to env\/staging\.env/);
  assert.match(loadConfig({ env: { ENV: 'prodution' } }).problems.join('\n'), /did you mean ENV=production\?/);
});

test('a secret is masked from the moment it is loaded, and a malformed one is not echoed', () => {
  const secret = 'sbp_not-hex-but-secret-value-1234567890';
  const file = envFile(`SUPABASE_ACCESS_TOKEN=${secret}\n`);
  const { problems } = loadConfig({ env: { ENV_FILE: file }, required: ['SUPABASE_ACCESS_TOKEN'] });
  assert.equal(problems.length, 1);
  assert.ok(!problems[0]!.includes(secret));
  assert.match(problems[0]!, /SUPABASE_ACCESS_TOKEN=\(hidden\)/);
  assert.equal(redactor.redact(`token is ${secret}.`), 'token is [redacted:SUPABASE_ACCESS_TOKEN].');
});

test('a database URL carrying its password anywhere is refused, and the error never shows the password', () => {
  const password = 'hunter2-db-password-xyz';
  for (const url of [
    `postgresql://postgres.abc:${password}@db.example.com:5432/postgres`,
    `postgresql://postgres.abc@db.example.com:5432/postgres?sslmode=require&password=${password}`,
    `postgresql://postgres.abc@db.example.com:5432/postgres?passfile=/home/me/.pgpass-${password}`,
  ]) {
    const { problems } = loadConfig({ env: { ENV_FILE: envFile(`SUPABASE_DB_URL=${url}\n`) }, required: ['SUPABASE_DB_URL'] });
    assert.equal(problems.length, 1, `${url}: ${problems.join('; ')}`);
    assert.match(problems[0]!, /SUPABASE_DB_PASSWORD/);
    assert.ok(!problems[0]!.includes(password), `the password is echoed: ${problems[0]}`);
  }
});

test('a secret is masked in its percent-encoded and base64 forms too', () => {
  const secret = 'p@ss/w0rd+with:specials';
  redactor.add(secret, 'DB_PASSWORD');
  for (const form of [encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')]) {
    assert.equal(redactor.redact(`x ${form} y`), 'x [redacted:DB_PASSWORD] y', form);
  }
});
