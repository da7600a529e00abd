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
  const dry = await make('preflight', { DRY_RUN: '1', ENV_FILE: '/nonexistent.env' });
  assert.equal(dry.code, 0, 'DRY_RUN passes through and a dry run needs no configuration');
  const bad = await make('preflight', { ENV_FILE: '/nonexistent.env' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ENV_FILE=\/nonexistent\.env does not exist/, 'ENV_FILE passes through');
});

test('every runbook’s make target runs exactly its script, so a nested make can run it in process', async () => {
  const { scriptTargets } = await import('../scripts/lib/nested.ts');
  const { allRunbooks } = await import('./helpers/runbooks.ts');
  const targets = scriptTargets();
  for (const { file, runbook } of await allRunbooks()) assert.equal(targets.get(runbook.make), file, `make ${runbook.make} runs ${file}`);
  const broken = readFileSync(join(repoRoot, 'Makefile'), 'utf8').replace('\t@$(RUN) scripts/preflight.ts\n', '\t@$(RUN) scripts/preflight.ts --yes\n');
  assert.equal(scriptTargets(broken).has('preflight'), false, 'a recipe that is not exactly one script does not count');
});
