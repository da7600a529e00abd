// make preflight against the fake gcloud and tofu (and the real, pinned supabase CLI).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REQUIRED_APIS } from '../scripts/lib/gcp.ts';
import { healthyProject, installFakes, type Fakes } from './fakes/install.ts';
import { filesUnder, make, tempDir } from './helpers/process.ts';

const TOKEN = `sbp_${'0123456789abcdef'.repeat(2)}01234567`;
let fakes: Fakes;
let dir: string;

before(async () => {
  fakes = await installFakes();
  dir = tempDir();
});
after(() => fakes.cleanup());

function envFile(extra = ''): string {
  const file = join(dir, `production-${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(file, `PROJECT_ID=mm-prod-1\nSTATE_BUCKET=mm-prod-1-tfstate\nSUPABASE_ACCESS_TOKEN=${TOKEN}\n${extra}`);
  return file;
}

function rows(output: string): Map<string, string> {
  const table = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^(tofu|gcloud account|gcloud|application-default credentials|supabase CLI|SUPABASE_ACCESS_TOKEN|project|required APIs|state bucket)\s{2,}.*\s(yes|NO)$/.exec(line);
    if (m) table.set(m[1]!, m[2]!);
  }
  return table;
}

test('with both CLIs missing, one run reports both, with install hints, and fails', async () => {
  const r = await make('preflight', { ENV_FILE: 'env/production.env.example', TOFU_BIN: '/nonexistent', GCLOUD_BIN: '/nonexistent' });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /tofu: \/nonexistent was not found \(from TOFU_BIN\)\. Install OpenTofu 1\.11\.0 or newer: https:\/\/opentofu\.org/);
  assert.match(r.stdout, /gcloud: \/nonexistent was not found \(from GCLOUD_BIN\)\. Install the Google Cloud CLI: https:\/\/cloud\.google\.com\/sdk/);
  const table = rows(r.stdout);
  assert.equal(table.get('tofu'), 'NO');
  assert.equal(table.get('gcloud'), 'NO');
  assert.equal(table.get('supabase CLI'), 'yes', 'the checks that can run still run');
  assert.match(r.stderr, /Preflight stopped: \d+ of 9 checks failed: tofu, gcloud/);
});

test('a ready machine and project pass every check', async () => {
  fakes.seed((c) => healthyProject(c, { projectId: 'mm-prod-1', bucket: 'mm-prod-1-tfstate', apis: REQUIRED_APIS }));
  const r = await make('preflight', { ENV_FILE: envFile(), RUNS_DIR: join(dir, 'runs-ok') }, fakes.env);
  assert.equal(r.code, 0, r.all);
  const table = rows(r.stdout);
  assert.equal(table.size, 9, r.stdout);
  assert.ok([...table.values()].every((v) => v === 'yes'), r.stdout);
  assert.match(r.stdout, /tofu\s+>= 1\.11\.0\s+1\.12\.6\s+yes/);
  assert.match(r.stdout, /gcloud account\s+an active account\s+oncall@example\.com\s+yes/);
});

test('what is wrong with the project is reported together, each with its fix', async () => {
  fakes.seed((c) => {
    healthyProject(c, { projectId: 'mm-prod-1', bucket: 'mm-prod-1-tfstate', apis: REQUIRED_APIS.filter((a) => a !== 'redis.googleapis.com' && a !== 'run.googleapis.com') });
    c.buckets['mm-prod-1-tfstate']!.versioning = false;
    c.tofuVersion = '1.6.2';
  });
  const r = await make('preflight', { ENV_FILE: envFile() }, fakes.env);
  assert.notEqual(r.code, 0);
  const table = rows(r.stdout);
  assert.equal(table.get('tofu'), 'NO');
  assert.equal(table.get('required APIs'), 'NO');
  assert.equal(table.get('state bucket'), 'NO');
  assert.equal(table.get('project'), 'yes');
  assert.match(r.stdout, /tofu: upgrade OpenTofu to 1\.11\.0 or newer/);
  assert.match(r.stdout, /required APIs: run `make production-bootstrap`, or enable: redis\.googleapis\.com run\.googleapis\.com/);
  assert.match(r.stdout, /state bucket: run `make production-bootstrap`, which turns versioning on/);
});

test('without an account, the checks that need one say so instead of failing on their own', async () => {
  fakes.seed((c) => {
    healthyProject(c, { projectId: 'mm-prod-1', bucket: 'mm-prod-1-tfstate', apis: REQUIRED_APIS });
    c.account = null;
    c.adc = false;
  });
  const r = await make('preflight', { ENV_FILE: envFile() }, fakes.env);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /project\s+PROJECT_ID, ACTIVE\s+not checked \(needs gcloud account\)\s+NO/);
  assert.match(r.stdout, /gcloud account: run `gcloud auth login`/);
  assert.match(r.stdout, /application-default credentials: run `gcloud auth application-default login`/);
});

test('secrets (the Supabase token, the ADC token gcloud prints) never reach output or logs', async () => {
  fakes.seed((c) => {
    healthyProject(c, { projectId: 'mm-prod-1', bucket: 'mm-prod-1-tfstate', apis: REQUIRED_APIS });
    c.faults.push({ tool: 'gcloud', command: 'services list', stderr: `ERROR: (gcloud.services.list) bad token ${TOKEN}\n` });
  });
  const runs = join(dir, 'runs-secret');
  const r = await make('preflight', { ENV_FILE: envFile(), RUNS_DIR: runs }, fakes.env);
  assert.notEqual(r.code, 0);
  const adcToken = `ya29.fake-adc-token-${'x'.repeat(40)}`;
  const logs = filesUnder(runs);
  assert.ok(logs.length > 0);
  for (const text of [r.stdout, r.stderr, ...logs.map((l) => l.text)]) {
    assert.ok(!text.includes(TOKEN), 'the Supabase token is masked');
    assert.ok(!text.includes(adcToken), 'the ADC token is masked');
  }
  assert.match(r.stdout, /bad token \[redacted:SUPABASE_ACCESS_TOKEN\]/);
  assert.match(logs[0]!.text, /\[redacted:command output\]/, 'the gcloud ADC output was logged masked');
});
