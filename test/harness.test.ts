// The test harness itself: the scripts the tests run log into a temporary directory, never the
// repository's .runs/ (test/helpers/process.ts), and every test database lives on the server
// TEST_POSTGRES_ADMIN_URL names (test/helpers/postgres.ts), with a clear error when it is not there.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { runRunbook } from '../scripts/lib/engine.ts';
import { defineRunbook } from '../scripts/lib/runbook.ts';
import { ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, adminUrl } from './helpers/postgres.ts';
import { captureOutput, make, repoRoot, run, tempDir } from './helpers/process.ts';

const repoRuns = join(repoRoot, '.runs');
const listRepoRuns = () => new Set(existsSync(repoRuns) ? readdirSync(repoRuns) : []);

/** The log a run announced in its first line ("... · log <path>"), as an absolute path. */
function announcedLog(output: string): string {
  const match = / · log (\S+)$/m.exec(output);
  assert.ok(match, `the run announced no log file:\n${output}`);
  return resolve(repoRoot, match[1]!);
}

function assertOutsideRepository(log: string, before: Set<string>): void {
  assert.ok(relative(repoRoot, log).startsWith('..'), `the run logged into the repository (${relative(repoRoot, log)}): test/helpers/process.ts must point RUNS_DIR at a temporary directory`);
  assert.ok(log.startsWith(tmpdir()), `the run logged to ${log}, not under ${tmpdir()}`);
  assert.ok(existsSync(log), `the announced log ${log} was not written`);
  const added = [...listRepoRuns()].filter((name) => !before.has(name) && name.endsWith(log.slice(log.lastIndexOf('-'))));
  assert.deepEqual(added, [], "the repository's .runs/ gained this run's log");
}

test("a make target run the way the tests run it logs outside the repository's .runs/", async () => {
  const before = listRepoRuns();
  const r = await make('preflight', { ENV_FILE: 'env/production.env.example', TOFU_BIN: '/nonexistent', GCLOUD_BIN: '/nonexistent' });
  assertOutsideRepository(announcedLog(r.stdout), before);
});

test("a runbook run in-process with the test's environment logs outside the repository's .runs/", async () => {
  const before = listRepoRuns();
  const envFile = join(tempDir(), 'production.env');
  writeFileSync(envFile, '');
  const runbook = defineRunbook({ id: `harness-${process.pid}`, title: 'Harness', make: 'harness', steps: [{ id: 'nothing', title: 'Nothing', commands: [] }] });
  const out = captureOutput();
  const err = captureOutput();
  const code = await runRunbook(runbook, { argv: [], env: { ...process.env, ENV_FILE: envFile }, out, err });
  assert.equal(code, 0, out.text() + err.text());
  assertOutsideRepository(announcedLog(out.text()), before);
});

test(`${ADMIN_URL_VARIABLE} defaults to ${DEFAULT_ADMIN_URL}`, () => {
  assert.equal(adminUrl({}), DEFAULT_ADMIN_URL);
  assert.equal(adminUrl({ [ADMIN_URL_VARIABLE]: 'postgresql://me@db.test:6543/postgres' }), 'postgresql://me@db.test:6543/postgres');
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Runs `await <call>` with one of the helpers imported, in a child whose admin URL points at nothing. */
async function againstNoServer(helper: string, call: string) {
  const url = `postgresql://postgres:hidden-password@127.0.0.1:${await closedPort()}/postgres`;
  const code = `const m = await import(${JSON.stringify(pathToFileURL(join(repoRoot, helper)).href)}); await m.${call};`;
  const started = Date.now();
  const r = await run(process.execPath, ['--no-webstorage', '--import', 'tsx', '--input-type=module', '-e', code], { env: { [ADMIN_URL_VARIABLE]: url }, timeoutMs: 30_000 });
  return { ...r, url, seconds: (Date.now() - started) / 1000 };
}

for (const [helper, call] of [
  ['test/helpers/workspace.ts', 'createWorkspace()'],
  ['test/supabase/databases.ts', "createScratchDatabase('harness')"],
] as const) {
  test(`${helper} uses ${ADMIN_URL_VARIABLE}: pointed at a closed port, it fails fast and names the variable`, async () => {
    const r = await againstNoServer(helper, call);
    assert.notEqual(r.code, 0, `it did not fail, so it did not use ${ADMIN_URL_VARIABLE}:\n${r.all}`);
    assert.match(r.stderr, new RegExp(`cannot connect to the tests' PostgreSQL at postgresql://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/postgres \\(from ${ADMIN_URL_VARIABLE}\\)`), r.all);
    assert.match(r.stderr, new RegExp(`or set ${ADMIN_URL_VARIABLE} to a superuser URL`));
    assert.ok(!r.all.includes('hidden-password'), 'the password in the URL is not printed');
    assert.ok(r.seconds < 20, `it took ${r.seconds} s to fail`);
  });
}

test('a command that exits without reading its input is reported by its exit code, not by a broken pipe', async () => {
  // Ten megabytes cannot fit in a pipe's buffer, so the write is still under way when the command
  // has exited: the EPIPE that follows is certain, as it was by chance for `make` printing help.
  for (let i = 0; i < 3; i++) {
    const r = await run('bash', ['-c', 'exit 3'], { input: 'x'.repeat(10 * 1024 * 1024) });
    assert.equal(r.code, 3);
  }
});
