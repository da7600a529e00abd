// The step engine, run in-process over a real stand-in command (test/fixtures/bin/tool).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { commandFactory, configVar, runtimeVar, type Program } from '../../scripts/lib/command.ts';
import { runRunbook } from '../../scripts/lib/engine.ts';
import { defineRunbook, StepFailure, type Step } from '../../scripts/lib/runbook.ts';
import { captureOutput, filesUnder, repoRoot, tempDir } from '../helpers/process.ts';

const TOOL: Program = {
  display: 'tool',
  resolve: () => ({ file: join(repoRoot, 'test/fixtures/bin/tool'), leadingArgs: [] }),
  installHint: 'it ships with the tests',
};
const tool = commandFactory(TOOL);
const PROJECT_ID = configVar('PROJECT_ID');
const TOKEN = configVar('SUPABASE_ACCESS_TOKEN', true);

function setup(envText = 'PROJECT_ID=demo-project\n') {
  const dir = tempDir();
  const envFile = join(dir, 'production.env');
  writeFileSync(envFile, envText);
  const calls = join(dir, 'calls.log');
  return {
    dir,
    calls: () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []),
    env: { PATH: process.env.PATH, ENV_FILE: envFile, RUNS_DIR: join(dir, 'runs'), TOOL_CALLS: calls, TOOL_SPANS: join(dir, 'spans.log') } as NodeJS.ProcessEnv,
  };
}

async function runIt(steps: Step[], env: NodeJS.ProcessEnv, argv: string[] = [], extra: { stdin?: PassThrough & { isTTY?: boolean }; signal?: AbortSignal } = {}) {
  const out = captureOutput();
  const err = captureOutput();
  const runbook = defineRunbook({ id: 'demo', title: 'Demo', make: 'demo', steps });
  const code = await runRunbook(runbook, { argv, env, out, err, ...extra });
  return { code, out: out.text(), err: err.text() };
}

test('steps run in order with one progress line each, and the run ends with exit 0', async () => {
  const { env, calls } = setup();
  const r = await runIt(
    [
      { id: 'first', title: 'First thing', commands: [tool`echo one ${PROJECT_ID}`] },
      { id: 'second', title: 'Second thing', commands: [tool`echo two`, tool`echo three`] },
    ],
    env,
  );
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(calls(), ['echo one demo-project', 'echo two', 'echo three']);
  const lines = r.out.split('\n').filter((l) => /^(ok|FAIL|skip) /.test(l));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^ok {3}\[1\/2\] First thing {2}\d+(ms|\.\ds)$/);
  assert.match(lines[1]!, /^ok {3}\[2\/2\] Second thing/);
});

test('a failing step names the step, command, exit code, stderr tail and where to resume; later steps do not run', async () => {
  const { env, calls } = setup();
  const lines = Array.from({ length: 30 }, (_, i) => `error line ${i + 1}`);
  const r = await runIt(
    [
      { id: 'prepare', title: 'Prepare', commands: [tool`echo ok`] },
      { id: 'break', title: 'Break things', commands: [tool`fail 3 ${lines}`] },
      { id: 'never', title: 'Never runs', commands: [tool`echo never`] },
      { id: 'cleanup', title: 'Clean up', commands: [tool`echo cleanup`], always: true },
    ],
    env,
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /Step 2\/4 failed: Break things \(demo\.break\)/);
  assert.match(r.err, /command: {3}tool fail 3 'error line 1' 'error line 2'/);
  assert.match(r.err, /exit code: 3/);
  assert.match(r.err, /stderr \(last 15 lines\):\n {4}\| error line 16\n/);
  assert.match(r.err, /\| error line 30\n/);
  assert.doesNotMatch(r.err, /error line 15\n/);
  assert.match(r.err, /resume at: docs\/infrastructure\/production-deployment\.md#demo\.break \(step 2, "Break things"\)/);
  assert.deepEqual(calls(), ['echo ok', `fail 3 ${lines.join(' ')}`, 'echo cleanup']);
});

test('--dry-run and DRY_RUN=1 check the configuration, then print the runbook form with what each variable resolves to, and run nothing', async () => {
  const { env, calls } = setup('PROJECT_ID=demo-project\nSUPABASE_ACCESS_TOKEN=sbp_0123456789abcdef0123456789abcdef01234567\n');
  const steps: Step[] = [{ id: 'only', title: 'Only step', commands: [tool`echo ${PROJECT_ID}`, tool`env SUPABASE_ACCESS_TOKEN`.withEnv({ SUPABASE_ACCESS_TOKEN: TOKEN })] }];
  for (const [argv, extraEnv] of [[['--dry-run'], {}], [[], { DRY_RUN: '1' }]] as const) {
    const r = await runIt(steps, { ...env, ...extraEnv }, [...argv]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /### 1\. Only step <a id="demo\.only"><\/a>\n\n(Code: .*\n\n)?```bash\ntool echo "\$PROJECT_ID"\n/);
    assert.match(r.out, /PROJECT_ID +demo-project +\S*production\.env/);
    assert.match(r.out, /SUPABASE_ACCESS_TOKEN +\(secret, hidden\)/);
    assert.doesNotMatch(r.out, /sbp_0123/);
  }
  // Twelve mistakes or one: the same report as a real run, exit 2, and no steps printed.
  const broken = await runIt(steps, { ...setup('PROJECT_ID=Not_A_Project\nSTATE_BUKET=x\n').env, DRY_RUN: '1' });
  assert.equal(broken.code, 2);
  assert.match(broken.err, /Cannot run Demo: 3 problems/);
  assert.doesNotMatch(broken.out, /Only step/);
  assert.deepEqual(calls(), [], 'a dry run executes nothing');
});

test('every run starts by naming what it acts on, in its output and its log, never a secret', async () => {
  const { env, dir } = setup('PROJECT_ID=demo-project\nSUPABASE_ACCESS_TOKEN=sbp_0123456789abcdef0123456789abcdef01234567\n');
  const commands = [tool`echo ${PROJECT_ID} ${configVar('REGION')}`, tool`env SUPABASE_ACCESS_TOKEN`.withEnv({ SUPABASE_ACCESS_TOKEN: TOKEN })];
  const r = await runIt([{ id: 'a', title: 'A', commands }], { ...env, REGION: 'europe-west1', MAKELEVEL: '1', MAKEFLAGS: ' -- REGION=europe-west1' }, []);
  assert.equal(r.code, 0, r.err);
  const head = r.out.split('\n').slice(0, 6).join('\n');
  assert.match(head, /REGION +europe-west1 +command line/);
  assert.match(head, /PROJECT_ID +demo-project +\S*production\.env/);
  assert.match(head, /SUPABASE_ACCESS_TOKEN +\(secret, hidden\)/);
  const log = filesUnder(join(dir, 'runs'))[0]!.text;
  assert.match(log.split('\n').slice(0, 6).join('\n'), /PROJECT_ID +demo-project/);
  assert.ok(!`${r.out}${log}`.includes('sbp_0123'), 'no secret in the header or the log');
});

test('a make variable no step reads, or an empty one, is refused with a suggestion; only the first make level is checked', async () => {
  const { env, calls } = setup();
  const steps: Step[] = [{ id: 'a', title: 'A', commands: [tool`echo ${PROJECT_ID}`] }];
  const typo = await runIt(steps, { ...env, MAKELEVEL: '1', MAKEFLAGS: 's -- PROJET_ID=other-project YES=1' });
  assert.equal(typo.code, 2);
  assert.match(typo.err, /PROJET_ID=\.\.\. on the command line is not read by make demo \(did you mean PROJECT_ID\?\)/);
  const empty = await runIt(steps, { ...env, MAKELEVEL: '1', MAKEFLAGS: ' -- PROJECT_ID=' });
  assert.equal(empty.code, 2);
  assert.match(empty.err, /PROJECT_ID= is empty on the command line/);
  assert.deepEqual(calls(), []);
  // A make a script starts inherits the person's MAKEFLAGS; its own runbook does not judge them.
  assert.equal((await runIt(steps, { ...env, MAKELEVEL: '2', MAKEFLAGS: ' -- PROJET_ID=x' })).code, 0);
});

test('HELP=1 lists every variable the target reads, one line each, and runs nothing', async () => {
  const { env, calls } = setup();
  const r = await runIt([{ id: 'a', title: 'A', commands: [tool`echo ${PROJECT_ID}`, tool`env SUPABASE_ACCESS_TOKEN`.withEnv({ SUPABASE_ACCESS_TOKEN: TOKEN })] }], { ...env, HELP: '1' });
  assert.equal(r.code, 0, r.err);
  for (const name of ['PROJECT_ID', 'SUPABASE_ACCESS_TOKEN', 'DRY_RUN', 'YES', 'ENV_FILE', 'HELP']) assert.match(r.out, new RegExp(`^  ${name} +\\S`, 'm'), `${name} listed`);
  assert.match(r.out, /Exit codes: 0 done, 1 a step failed, 2 bad input or configuration, 130 interrupted/);
  assert.doesNotMatch(r.out, /scripts\/<script>/);
  assert.deepEqual(calls(), []);
});

test('check lines print in step order even when a later check finishes first', async () => {
  const { env } = setup();
  const check = (name: string) => ({ name, needed: 'ok', evaluate: () => ({ found: 'ok', ok: true }) });
  const r = await runIt(
    [
      { id: 'slow', title: 'Slow check', commands: [tool`sleep 0.4`], check: check('slow') },
      { id: 'fast', title: 'Fast check', commands: [tool`echo fast`], check: check('fast') },
    ],
    env,
  );
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n').filter((l) => /^(ok|FAIL) /.test(l));
  assert.deepEqual(lines.map((l) => /\[(\d)\/2\]/.exec(l)![1]), ['1', '2']);
});

test('bad configuration exits 2 before anything runs, listing every problem', async () => {
  const { env, calls } = setup('PROJECT_ID=X\nSTATE_BUKET=oops\n');
  const r = await runIt([{ id: 'a', title: 'A', commands: [tool`echo ${PROJECT_ID} ${configVar('STATE_BUCKET')}`] }], env);
  assert.equal(r.code, 2);
  assert.match(r.err, /3 problems with the command line or the configuration/);
  assert.match(r.err, /PROJECT_ID="X"/);
  assert.match(r.err, /STATE_BUCKET is not set/);
  assert.match(r.err, /STATE_BUKET .* \(did you mean STATE_BUCKET\?\)/);
  assert.match(r.err, /Nothing was run/);
  assert.deepEqual(calls(), []);
});

test('an unknown argument is a usage error (exit 2)', async () => {
  const { env } = setup();
  const r = await runIt([{ id: 'a', title: 'A', commands: [] }], env, ['--yess']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown argument "--yess"/);
  assert.match(r.err, /Usage: make demo/);
});

test('a missing tool is reported as missing, with its install hint', async () => {
  const { env } = setup();
  const missing = commandFactory({ ...TOOL, display: 'missingtool', resolve: () => ({ file: '/nonexistent/missingtool', leadingArgs: [] }), installHint: 'Install missingtool from example.org' });
  const r = await runIt([{ id: 'a', title: 'Use it', commands: [missing`version`] }], env);
  assert.equal(r.code, 1);
  assert.match(r.err, /reason: {4}\/nonexistent\/missingtool was not found on PATH\. Install missingtool from example\.org/);
  assert.match(r.err, /exit code: 127/);
  assert.match(r.err, /exit: {6}1 \(a step failed\)/);
});

test('a destructive step asks first; without a terminal and without YES it stops instead of waiting', async () => {
  const { env, calls } = setup();
  const steps: Step[] = [{ id: 'wipe', title: 'Wipe it', commands: [tool`echo wiped`], confirm: 'Wipe production?' }];

  const refused = await runIt(steps, env, [], { stdin: Object.assign(new PassThrough(), { isTTY: false }) });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /needs an answer, and there is no terminal to ask: re-run with YES=1 \(make\) or --yes/);
  assert.deepEqual(calls(), []);

  const tty = Object.assign(new PassThrough(), { isTTY: true });
  tty.end('n\n');
  const declined = await runIt(steps, env, [], { stdin: tty });
  assert.equal(declined.code, 1);
  assert.match(declined.err, /the answer was no/);
  assert.deepEqual(calls(), []);

  const yes = Object.assign(new PassThrough(), { isTTY: true });
  yes.end('y\n');
  assert.equal((await runIt(steps, env, [], { stdin: yes })).code, 0);
  assert.equal((await runIt(steps, { ...env, YES: '1' })).code, 0);
  assert.equal((await runIt(steps, { ...env, CI: 'true' })).code, 0);
  assert.equal((await runIt(steps, env, ['--yes'])).code, 0);
  assert.deepEqual(calls(), ['echo wiped', 'echo wiped', 'echo wiped', 'echo wiped']);
});

test('captured values feed later commands; a secret capture is masked in output and logs', async () => {
  const { env, dir } = setup();
  const NAME = runtimeVar('SERVICE_NAME');
  const KEY = runtimeVar('API_KEY', true);
  const secret = 'sk-live-0123456789abcdef';
  const r = await runIt(
    [
      { id: 'read', title: 'Read', commands: [tool`echo gateway`.captureInto(NAME), tool`echo ${secret}`.captureInto(KEY)] },
      {
        id: 'use',
        title: 'Use',
        commands: [tool`echo service=${NAME}`, tool`cat`.withStdin(KEY), tool`fail 1 ${secret}`],
      },
    ],
    env,
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /\[redacted:API_KEY\]/);
  const everything = [r.out, r.err, ...filesUnder(join(dir, 'runs')).map((f) => f.text)].join('\n');
  assert.ok(!everything.includes(secret), 'the captured secret appears nowhere');
  const log = filesUnder(join(dir, 'runs'))[0]!;
  assert.match(log.text, /service=gateway/);
  assert.equal(log.mode, 0o600);
});

test('a config secret travels by environment, never argv, and is masked wherever it is echoed', async () => {
  const secret = `sbp_${'ab12'.repeat(10)}`;
  const { env, dir, calls } = setup(`PROJECT_ID=demo-project\nSUPABASE_ACCESS_TOKEN=${secret}\n`);
  const r = await runIt([{ id: 'env', title: 'Env', commands: [tool`env SUPABASE_ACCESS_TOKEN`.withEnv({ SUPABASE_ACCESS_TOKEN: TOKEN }), tool`fail 2 boom`] }], env);
  assert.equal(r.code, 1);
  assert.ok(!calls().some((c) => c.includes(secret)), 'the secret is not in any argv');
  const log = filesUnder(join(dir, 'runs'))[0]!.text;
  assert.match(log, /\[redacted:SUPABASE_ACCESS_TOKEN\]/, 'the command echoed it and the log masked it');
  assert.ok(![r.out, r.err, log].join('').includes(secret));
});

test('custom step logic may run only the commands the step declares', async () => {
  const { env } = setup();
  const declared = tool`echo declared`;
  const r = await runIt(
    [
      {
        id: 'sneaky',
        title: 'Sneaky',
        commands: [declared],
        async run(ctx) {
          await ctx.run(declared);
          await ctx.run(tool`echo undeclared`);
        },
      },
    ],
    env,
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /ran a command it does not declare: tool echo undeclared/);
});

test('runConcurrently overlaps its commands', async () => {
  const { env } = setup();
  // Long enough that a loaded machine still starts all three before the first ends.
  const commands = [tool`span 2`, tool`span 2`, tool`span 2`];
  const r = await runIt([{ id: 'par', title: 'Parallel', commands, run: async (ctx) => void (await ctx.runConcurrently(commands)) }], env);
  assert.equal(r.code, 0, r.err);
  const spans = readFileSync(env.TOOL_SPANS!, 'utf8').trim().split('\n').map((l) => l.split(' ').map(BigInt));
  assert.equal(spans.length, 3);
  const latestStart = spans.reduce((m, [s]) => (s! > m ? s! : m), 0n);
  const earliestEnd = spans.reduce((m, [, e]) => (e! < m ? e! : m), spans[0]![1]!);
  assert.ok(latestStart < earliestEnd, 'every command started before any finished');
});

test('an interrupt stops the running command, runs cleanup steps, and exits 130', async () => {
  const { env, calls } = setup();
  const controller = new AbortController();
  const pending = runIt(
    [
      { id: 'long', title: 'Long step', commands: [tool`sleep 30`] },
      { id: 'after', title: 'After', commands: [tool`echo after`] },
      { id: 'release', title: 'Release the lock', commands: [tool`echo released`], always: true },
    ],
    env,
    [],
    { signal: controller.signal },
  );
  // Interrupt once the long command is really running (process start-up varies with load).
  const started = setInterval(() => {
    if (calls().includes('sleep 30')) {
      clearInterval(started);
      controller.abort();
    }
  }, 50);
  const r = await pending;
  clearInterval(started);
  assert.equal(r.code, 130);
  assert.match(r.err, /Interrupted during step 1\/3: Long step/);
  assert.deepEqual(calls(), ['sleep 30', 'echo released']);
});

test('a step outcome can skip or warn, and a StepFailure from logic is reported as such', async () => {
  const { env } = setup();
  const r = await runIt(
    [
      { id: 'skipped', title: 'Maybe', commands: [tool`echo x`], skipIf: () => 'nothing to do' },
      { id: 'warns', title: 'Warns', commands: [], run: async () => ({ status: 'warn', note: 'plan is empty' }) },
      {
        id: 'judges',
        title: 'Judges',
        commands: [],
        run: async () => {
          throw new StepFailure('the gateway answered 503');
        },
      },
    ],
    env,
  );
  assert.equal(r.code, 1);
  assert.match(r.out, /skip \[1\/3\] Maybe {2}\d+ms {2}nothing to do/);
  assert.match(r.out, /warn \[2\/3\] Warns .* plan is empty/);
  assert.match(r.err, /reason: {4}the gateway answered 503/);
});

test('runbook parameters (make VAR=value) are validated with the configuration and fill commands', async () => {
  const { env, calls } = setup();
  const BACKUP = configVar('BACKUP');
  const runbook = defineRunbook({
    id: 'restore',
    title: 'Restore',
    make: 'restore',
    params: [{ name: 'BACKUP', description: 'Id of the backup to restore (make production-backups lists them).', example: '', check: (v) => (/^\d{8}T\d{6}Z$/.test(v) ? null : 'expected an id such as 20261122T010203Z') }],
    steps: [{ id: 'use', title: 'Use it', commands: [tool`echo restoring ${BACKUP}`] }],
  });
  const run = async (extra: NodeJS.ProcessEnv) => {
    const out = captureOutput();
    const err = captureOutput();
    return { code: await runRunbook(runbook, { argv: [], env: { ...env, ...extra }, out, err }), err: err.text() };
  };
  const missing = await run({});
  assert.equal(missing.code, 2);
  assert.match(missing.err, /BACKUP is not set: Id of the backup to restore/);
  const malformed = await run({ BACKUP: 'yesterday' });
  assert.equal(malformed.code, 2);
  assert.match(malformed.err, /BACKUP="yesterday" .* expected an id such as/);
  assert.equal((await run({ BACKUP: '20261122T010203Z' })).code, 0);
  assert.deepEqual(calls(), ['echo restoring 20261122T010203Z']);
});
