// make infra-validate on a throwaway copy of the repository, with the fake tofu: the three steps
// run in order on the configuration as committed, and a file fmt would rewrite stops the run at
// the fmt step, naming the file. What the fake judges of fmt and validate is in test/fakes.

import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installFakes, type Fakes } from '../fakes/install.ts';
import { run } from '../helpers/process.ts';
import { copyRepository } from '../helpers/workspace.ts';

const STEPS = [
  ['fmt -check -recursive infra', "Check the configuration's formatting"],
  ['-chdir=infra/environments/production init -backend=false -input=false', 'Install the providers and modules, without the state backend'],
  ['-chdir=infra/environments/production validate -no-color', 'Validate the production configuration'],
] as const;

async function withCopy(body: (dir: string, fakes: Fakes) => Promise<void>): Promise<void> {
  const dir = copyRepository(['infra']);
  const fakes = await installFakes();
  try {
    await body(dir, fakes);
  } finally {
    fakes.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const infraValidate = (dir: string, fakes: Fakes) => run('make', ['--no-print-directory', 'infra-validate'], { cwd: dir, env: fakes.env });

test("on the repository's configuration all three steps run and pass", async () => {
  await withCopy(async (dir, fakes) => {
    const r = await infraValidate(dir, fakes);
    assert.equal(r.code, 0, r.all);
    STEPS.forEach(([, title], i) => assert.match(r.stdout, new RegExp(`ok +\\[${i + 1}/3\\] ${title}`)));
    assert.match(r.stdout, /Validate the OpenTofu configuration: done \(3 steps\)/);
    // So every committed .tf file is free of the layout fmt always rewrites (tabs, trailing blanks).
    assert.deepEqual(
      fakes.calls('tofu').map((c) => [c.argv.join(' '), c.exitCode]),
      STEPS.map(([argv]) => [argv, 0]),
    );
  });
});

test('a file fmt would rewrite fails the fmt step, names the file, and nothing after it runs', async () => {
  await withCopy(async (dir, fakes) => {
    const file = 'infra/modules/network/main.tf';
    const original = readFileSync(join(dir, file), 'utf8');
    const cases: [string, string][] = [
      ['a line with trailing blanks', 'locals {\n  fmt_probe = "x"  \n}\n'],
      ['a tab-indented line', 'locals {\n\tfmt_probe = "x"\n}\n'],
    ];
    for (const [what, appended] of cases) {
      writeFileSync(join(dir, file), original);
      appendFileSync(join(dir, file), appended);
      const before = fakes.calls('tofu').length;
      const r = await infraValidate(dir, fakes);
      assert.equal(r.code, 2, `${what}: make fails\n${r.all}`);
      assert.match(r.stderr, /\[Makefile:\d+: infra-validate\] Error 1/, `${what}: the runbook exits 1`);
      assert.match(r.stderr, /Step 1\/3 failed: Check the configuration's formatting \(infra-validate\.fmt\)/, what);
      assert.match(r.stderr, /command: {3}tofu fmt -check -recursive infra\n {2}exit code: 3/, what);
      assert.match(r.stderr, /\| infra\/modules\/network\/main\.tf\n/, `${what}: the failure names the file`);
      assert.match(r.stderr, /resume at: infra\/README\.md#infra-validate\.fmt/, what);
      assert.deepEqual(
        fakes.calls('tofu').slice(before).map((c) => c.argv[0]),
        ['fmt'],
        `${what}: init and validate do not run`,
      );
    }
    writeFileSync(join(dir, file), original);
    assert.equal((await infraValidate(dir, fakes)).code, 0, 'formatted again, it passes');
  });
});

test('validate without init fails the way real tofu does: the modules are not installed', async () => {
  await withCopy(async (dir, fakes) => {
    const r = await run(fakes.tofuBin, ['-chdir=infra/environments/production', 'validate', '-no-color'], { cwd: dir, env: fakes.env });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /Error: Module not installed\n\n {2}on main\.tf line \d+:\n {2}\d+: module "network" \{\n\nThis module is not yet installed\. Run "tofu init"/);
    assert.equal(r.stdout, '');
  });
});
