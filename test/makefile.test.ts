// The Makefile is the front door: `make` alone lists every target, each with one line.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { make, repoRoot, run } from './helpers/process.ts';

test('make with no target prints help, listing every target with a description', async () => {
  const r = await run('make', ['--no-print-directory']);
  assert.equal(r.code, 0, r.all);
  const listed = new Map([...r.stdout.matchAll(/^ {2}(\S+)\s+(.+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
  const targets = [...makefile.matchAll(/^([a-z][a-z0-9-]*):/gm)].map((m) => m[1]!);
  assert.ok(targets.length > 0);
  for (const target of targets) assert.ok(listed.get(target)?.trim(), `target ${target} has no "## description"`);
  for (const required of ['help', 'test', 'preflight']) assert.ok(listed.has(required), `make help lists ${required}`);
  assert.deepEqual((await make('help')).stdout, r.stdout);
});

test('each target runs one script through the same entry, and the pass-through variables reach it', async () => {
  const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
  for (const m of makefile.matchAll(/^([a-z][a-z0-9-]*):.*\n((?:\t.*\n)+)/gm)) {
    const recipe = m[2]!.trim().split('\n');
    assert.equal(recipe.length, 1, `target ${m[1]} runs one command`);
  }
  const dry = await make('preflight', { DRY_RUN: '1', ENV_FILE: 'env/production.env.example' }, { SUPABASE_ACCESS_TOKEN: TOKEN });
  assert.equal(dry.code, 0, dry.all);
  assert.match(dry.stdout, /Dry run of `make preflight`/, 'DRY_RUN passes through');
  const bad = await make('preflight', { ENV_FILE: '/nonexistent.env' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ENV_FILE=\/nonexistent\.env does not exist/, 'ENV_FILE passes through');
});

const TOKEN = `sbp_${'0a'.repeat(20)}`;

test('make refuses a misspelled or empty variable before anything runs, naming the one it meant', async () => {
  const r = await make('production-deploy', { IMAGETAG: 'v9.9.9', ENV_FILE: 'env/production.env.example' });
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, /IMAGETAG=\.\.\. on the command line is not read by make production-deploy \(did you mean IMAGE_TAG\?\)/);
  const empty = await make('production-deploy', { IMAGE_TAG: '', ENV_FILE: 'env/production.env.example' });
  assert.match(empty.stderr, /IMAGE_TAG= is empty on the command line/);
  assert.match(`${r.stderr}${empty.stderr}`, /Nothing was run/);
  // A parameter of a runbook the target runs as a step is read by the target too.
  const nested = await make('production-deploy', { SKIP_SPOOF_CHECK: '1', HELP: '1' });
  assert.equal(nested.code, 0, nested.all);
});

test('make <target> HELP=1 lists every parameter the target reads, generated from the declarations the script validates', async () => {
  const r = await make('production-rollback-traffic', { HELP: '1' });
  assert.equal(r.code, 0, r.all);
  for (const name of ['SERVICE', 'REVISION', 'PROJECT_ID', 'REGION', 'DRY_RUN', 'YES', 'ENV_FILE', 'GCLOUD_BIN']) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'), `${name} is listed`);
  assert.match(r.stdout, /code: scripts\/production-rollback-traffic\.ts/);
  assert.doesNotMatch(r.stdout, /scripts\/<script>\.ts/);
  assert.match((await make('help')).stdout, /HELP=1/, 'make help says how to get a target\'s parameters');
});

test("a failed run's last lines name its exit code, which make repeats in its own last line", async () => {
  const bad = await make('preflight', { ENV_FILE: '/nonexistent.env' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Error 2$/m, 'bad input: the script exited 2');
  const failed = await make('preflight', { ENV_FILE: 'env/production.env.example' }, { SUPABASE_ACCESS_TOKEN: TOKEN, TOFU_BIN: '/nonexistent/tofu', PATH: process.env.PATH });
  assert.equal(failed.code, 2, 'make itself exits 2 on any failure');
  assert.match(failed.stderr, /exit: {6}1 \(a step failed\)/);
  assert.match(failed.stderr, /Error 1$/m, "make's last line carries the script's own code");
});

test('every runbook’s make target runs exactly its script, so a nested make can run it in process', async () => {
  const { scriptTargets } = await import('../scripts/lib/nested.ts');
  const { allRunbooks } = await import('./helpers/runbooks.ts');
  const targets = scriptTargets();
  for (const { file, runbook } of await allRunbooks()) assert.equal(targets.get(runbook.make), file, `make ${runbook.make} runs ${file}`);
  const broken = readFileSync(join(repoRoot, 'Makefile'), 'utf8').replace('\t@$(RUN) scripts/preflight.ts\n', '\t@$(RUN) scripts/preflight.ts --yes\n');
  assert.equal(scriptTargets(broken).has('preflight'), false, 'a recipe that is not exactly one script does not count');
});
