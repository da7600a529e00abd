// The written runbook and the scripts describe the same steps: same order, titles and commands.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareSections, parseRunbookDoc, sectionOf } from '../scripts/lib/mirror.ts';
import { defineRunbook, type Runbook } from '../scripts/lib/runbook.ts';
import { preflight } from '../scripts/preflight.ts';
import { allRunbooks, docOf, runbookDoc } from './helpers/runbooks.ts';
import { make, repoRoot } from './helpers/process.ts';

test('every runbook script mirrors its section of the written runbook', async () => {
  const runbooks = await allRunbooks();
  assert.ok(runbooks.length >= 1);
  for (const { file, runbook } of runbooks) {
    const doc = parseRunbookDoc(docOf(runbook));
    assert.deepEqual(compareSections(doc.sections.get(runbook.id), sectionOf(runbook), runbook.doc), [], `${file} and ${runbook.doc ?? 'docs/infrastructure/production-deployment.md'}#${runbook.id} differ`);
  }
});

test("the Code: names in the runbooks are true: each section's script defines it, each step's file defines that step", async () => {
  const problems: string[] = [];
  for (const { file, runbook } of await allRunbooks()) {
    if (runbook.script !== file) problems.push(`${runbook.id}: defineRunbook found ${runbook.script ?? 'no file'}, the runbook is exported by ${file}`);
    for (const step of runbook.steps) {
      const text = step.code && existsSync(join(repoRoot, step.code)) ? readFileSync(join(repoRoot, step.code), 'utf8') : '';
      // A step shared from a module names it with code: sourceOf(import.meta.url).
      // Defined as an object (`id: 'x'`) or by a step factory (`checkStep('x', ...)`).
      if (!text.includes(`id: '${step.id}'`) && !new RegExp(`[A-Za-z]*Step\\('${step.id}'[,)]`).test(text)) problems.push(`${runbook.id}.${step.id}: ${step.code ?? 'no file'} does not define a step with id: '${step.id}' (give the step code: sourceOf(import.meta.url) where it is defined)`);
    }
  }
  assert.deepEqual(problems, []);
  // And the comparison notices a wrong name in the written runbook.
  const wrong = runbookDoc().replace('Code: `scripts/preflight.ts` (the script', 'Code: `scripts/elsewhere.ts` (the script');
  assert.ok(compareSections(parseRunbookDoc(wrong).sections.get('preflight'), sectionOf(preflight)).some((p) => p.includes('scripts/elsewhere.ts')));
});

test('every runbook section of the written runbooks has a script, and every make target named there exists', async () => {
  const runbooks = await allRunbooks();
  const ids = new Set(runbooks.map((r) => r.runbook.id));
  const docs = new Set(runbooks.map((r) => docOf(r.runbook)));
  for (const text of docs) {
    // A section with numbered steps is a runbook; one without is prose (first deployment, emergencies).
    for (const [id, section] of parseRunbookDoc(text).sections) if (section.steps.length) assert.ok(ids.has(id), `section <a id="${id}"> has no runbook script`);
  }
  const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
  for (const { runbook } of await allRunbooks()) {
    assert.match(makefile, new RegExp(`^${runbook.make}:.*## `, 'm'), `Makefile has no documented target ${runbook.make}`);
  }
});

test('make preflight DRY_RUN=1 prints exactly its runbook section', async () => {
  const r = await make('preflight', { DRY_RUN: '1', ENV_FILE: 'env/production.env.example' }, { SUPABASE_ACCESS_TOKEN: `sbp_${'0a'.repeat(20)}` });
  assert.equal(r.code, 0, r.all);
  const printed = parseRunbookDoc(r.stdout).sections.get('preflight');
  assert.ok(printed, r.stdout);
  assert.equal(printed.steps.length, preflight.steps.length);
  assert.deepEqual(compareSections(parseRunbookDoc(runbookDoc()).sections.get('preflight'), printed), []);
});

test('the mirror check fails when only the written runbook changes', () => {
  const original = runbookDoc();
  const script = sectionOf(preflight);
  const cases: [string, string][] = [
    ['a command changed', original.replace('gcloud version --format=json', 'gcloud version --format=yaml')],
    ['a title changed', original.replace('### 2. Google Cloud CLI is installed', '### 2. gcloud is installed')],
    ['two steps swapped', swapSteps(original, 'preflight.gcloud', 'preflight.tofu')],
    ['a step removed', removeStep(original, 'preflight.adc')],
    ['a command added', original.replace('tofu version -json\n', 'tofu version -json\ntofu providers\n')],
  ];
  for (const [what, text] of cases) {
    assert.notEqual(text, original, `the mutation "${what}" did not apply`);
    const problems = compareSections(parseRunbookDoc(text).sections.get('preflight'), script);
    assert.ok(problems.length > 0, `not detected: ${what}`);
  }
});

test('the mirror check fails when only the script changes', () => {
  const doc = parseRunbookDoc(runbookDoc()).sections.get('preflight');
  const steps = preflight.steps;
  const variants: [string, Runbook][] = [
    ['a step removed', defineRunbook({ ...preflight, steps: steps.filter((s) => s.id !== 'apis') })],
    ['steps reordered', defineRunbook({ ...preflight, steps: [steps[1]!, steps[0]!, ...steps.slice(2)] })],
    ['a title changed', defineRunbook({ ...preflight, steps: steps.map((s) => (s.id === 'project' ? { ...s, title: 'Project exists' } : s)) })],
    ['a command changed', defineRunbook({ ...preflight, steps: steps.map((s) => (s.id === 'tofu' ? { ...s, commands: steps[1]!.commands } : s)) })],
    ['the section renamed', defineRunbook({ ...preflight, title: 'Pre-flight' })],
  ];
  for (const [what, runbook] of variants) {
    assert.ok(compareSections(doc, sectionOf(runbook)).length > 0, `not detected: ${what}`);
  }
});

test('the comparison explains the difference in words a maintainer can act on', () => {
  const text = runbookDoc().replace('gcloud version --format=json', 'gcloud version --format=yaml');
  const [problem] = compareSections(parseRunbookDoc(text).sections.get('preflight'), sectionOf(preflight));
  assert.match(problem!, /step 2 \(preflight\.gcloud\) command 1 differs:\n {4}runbook: gcloud version --format=yaml\n {4}script: {2}gcloud version --format=json/);
});

test('continuation lines, comments and troubleshooting blocks are read the way a person reads them', () => {
  const md = [
    '## Demo <a id="demo"></a>',
    '### 1. Do it <a id="demo.do"></a>',
    '```bash',
    '# a comment',
    'gcloud run services describe gateway \\',
    '  --region "$REGION"',
    '```',
    '#### If it fails',
    '```bash',
    'gcloud run services list',
    '```',
  ].join('\n');
  const parsed = parseRunbookDoc(md);
  assert.deepEqual(parsed.sections.get('demo')!.steps[0]!.commands, ['gcloud run services describe gateway --region "$REGION"']);
  assert.ok(parsed.allCommands.includes('gcloud run services list'), 'troubleshooting commands are still checked against the real CLI');
});

function stepBlock(text: string, anchor: string): string {
  const start = text.indexOf(`<a id="${anchor}"></a>`);
  const lineStart = text.lastIndexOf('\n### ', start) + 1;
  const next = text.indexOf('\n### ', start);
  const sectionEnd = text.indexOf('\n## ', start);
  const end = Math.min(next < 0 ? text.length : next, sectionEnd < 0 ? text.length : sectionEnd) + 1;
  return text.slice(lineStart, end);
}

function removeStep(text: string, anchor: string): string {
  return text.replace(stepBlock(text, anchor), '');
}

function swapSteps(text: string, a: string, b: string): string {
  const blockA = stepBlock(text, a);
  const blockB = stepBlock(text, b);
  return text.replace(blockA, '\u0000').replace(blockB, blockA).replace('\u0000', blockB);
}
