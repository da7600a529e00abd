// What the local runbooks read from the stack's directory before they touch anything, without
// starting the stack: the port base it was set up with (a re-run without LOCAL_PORT_BASE keeps
// it; another one is refused while the stack runs), the ports checked free first (the gateway's
// metrics port too), and a stopped stack said to be stopped by make local-down, local-status and
// the checks. The whole stack, started for real, is in local-stack.test.ts.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { COMPONENTS, Layout, portOf, type StackSettings } from '../../dev/local/layout.ts';
import { LOCAL_PARTS, LocalStackDir, PORT_OFFSETS } from '../../scripts/lib/local-state.ts';
import { make, tempDir, type Ran } from '../helpers/process.ts';

/** The script's own exit code: make itself exits 2 on any failure, and names the code in its last line. */
const exitOf = (r: Ran) => (r.code === 0 ? 0 : Number(/make: \*\*\* .* Error (\d+)$/m.exec(r.stderr)?.[1] ?? NaN));

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });

/** Seven free ports in a row, below Linux's ephemeral range (32768 and up). */
async function freeBase(): Promise<number> {
  for (;;) {
    const base = 10000 + Math.floor(Math.random() * 2200) * 10;
    const busy = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((o) => answers(base + o)));
    if (!busy.some(Boolean)) return base;
  }
}

/** A port nothing listens on: one the kernel just gave out, closed again. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A local stack directory as dev/local/stack.ts leaves it after a start on `base` (no process runs). */
function stackDir(base: number, outputs: Record<string, unknown> | null = null): string {
  const dir = tempDir('mindmirror-local-state-');
  mkdirSync(join(dir, 'pids'), { recursive: true });
  const settings = { portBase: base, databaseUrl: `postgresql://postgres@127.0.0.1:${base + 5}/postgres`, embeddedDatabase: true, redisUrl: null };
  writeFileSync(join(dir, 'stack.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  if (outputs) writeFileSync(join(dir, 'outputs.json'), `${JSON.stringify(outputs, null, 2)}\n`, { mode: 0o600 });
  return dir;
}

const outputsFor = (gatewayPort: number, authPort: number, base = gatewayPort) => ({
  gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
  supabaseUrl: `http://127.0.0.1:${authPort}`,
  authUrl: `http://127.0.0.1:${authPort}/auth/v1`,
  anonKey: 'local-anon-key-for-a-test',
  serviceRoleKey: 'local-service-role-key-for-a-test',
  databaseUrl: `postgresql://postgres@127.0.0.1:${base + 5}/postgres`,
  services: { users_service: `http://127.0.0.1:${base + 2}/graphql`, workouts_service: `http://127.0.0.1:${base + 3}/graphql` },
});

// Whatever a test left behind (a stand-in process, a listener, or a stack a broken runbook
// started), nothing stays running.
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('make local-up without LOCAL_PORT_BASE uses the base the stack was set up with, and checks the gateway metrics port free first', async () => {
  const base = await freeBase();
  const dir = stackDir(base);
  cleanups.push(() => make('local-down', { LOCAL_DIR: dir }, {}, 120_000));
  // Something else holds the gateway's metrics port (base + 6) of the remembered base.
  const squatter: Server = createServer();
  await new Promise<void>((resolve) => squatter.listen(base + 6, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));

  const r = await make('local-up', { LOCAL_DIR: dir }, {}, 120_000);
  assert.equal(exitOf(r), 1, r.all);
  assert.match(r.stderr, new RegExp(`port ${base + 6} \\(gateway metrics\\) is taken by another program.*LOCAL_PORT_BASE=<port>`));
  assert.match(r.stderr, /failed: Choose the ports/);
  assert.doesNotMatch(r.all, /database: started/, 'nothing was started');
  assert.equal(JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')).portBase, base, 'the remembered base is kept');
});

test('an explicit LOCAL_PORT_BASE other than the running stack’s is refused with exit 2, naming both and make local-down', async () => {
  const base = await freeBase();
  const dir = stackDir(base);
  cleanups.push(() => make('local-down', { LOCAL_DIR: dir }, {}, 120_000));
  // A gateway that runs, as far as the pid file says: a process of its own group, as stack.ts starts them.
  const gateway = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  cleanups.push(() => void (gateway.exitCode === null && gateway.kill('SIGKILL')));
  writeFileSync(join(dir, 'pids', 'gateway.pid'), `${gateway.pid} 0123456789ab\n`, { mode: 0o600 });
  const other = base + 10;

  for (const target of ['local-up', 'local-deploy', 'local-status']) {
    const r = await make(target, { LOCAL_DIR: dir, LOCAL_PORT_BASE: String(other) }, {}, 120_000);
    assert.equal(exitOf(r), 2, `${target}: ${r.all}`);
    assert.match(r.stderr, new RegExp(`LOCAL_PORT_BASE=${other} differs from the port base the running local stack was set up with \\(${base}; running: gateway\\)`), target);
    assert.match(r.stderr, new RegExp(`stop it first with \`make local-down LOCAL_DIR=${dir}\``), target);
  }
  assert.equal(gateway.exitCode, null, 'the running part was left alone');
  assert.equal(JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')).portBase, base);
});

test('make local-down marks outputs.json stopped, and make local-status says so with the gateway metrics port', async () => {
  const base = await freeBase();
  const dir = stackDir(base, outputsFor(base, base + 1));
  const down = await make('local-down', { LOCAL_DIR: dir }, {}, 120_000);
  assert.equal(down.code, 0, down.all);
  const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
  assert.equal(outputs.state, 'stopped');
  assert.ok(Math.abs(Date.parse(outputs.stoppedAt) - Date.now()) < 120_000, outputs.stoppedAt);
  assert.equal(outputs.gatewayUrl, `http://127.0.0.1:${base}`, 'the rest of outputs.json is kept');
  assert.equal(statSync(join(dir, 'outputs.json')).mode & 0o777, 0o600);

  const status = await make('local-status', { LOCAL_DIR: dir });
  assert.equal(status.code, 0, status.all);
  assert.match(status.stdout, /^gateway\s+-\s+stopped/m);
  assert.match(status.stdout, new RegExp(`Gateway metrics: http://127\\.0\\.0\\.1:${base + 6}/metrics \\(stopped with the gateway`));
  assert.match(status.stdout, new RegExp(`Stopped by make local-down at ${outputs.stoppedAt.replace(/[.]/g, '\\.')}; \`make local-up LOCAL_DIR=${dir}\` starts it again`));
});

test('the checks against a stopped stack say so and exit 1, instead of "fetch failed"', async () => {
  // Stopped without make local-down (or by hand): nothing answers where outputs.json points.
  const gatewayPort = await closedPort();
  const notMarked = stackDir(gatewayPort, outputsFor(gatewayPort, await closedPort()));
  // Stopped by make local-down: outputs.json says so.
  const marked = stackDir(gatewayPort, { ...outputsFor(gatewayPort, await closedPort()), state: 'stopped', stoppedAt: '2026-12-04T02:00:00.000Z' });
  for (const target of ['spoof-check', 'voucher-e2e']) {
    const r = await make(target, { LOCAL_DIR: notMarked });
    assert.equal(exitOf(r), 1, `${target}: ${r.all}`);
    assert.match(r.stderr, new RegExp(`reason: +no gateway at http://127\\.0\\.0\\.1:${gatewayPort} \\(connection refused\\): run \`make local-up LOCAL_DIR=${notMarked}\``), target);
    assert.doesNotMatch(r.all, /fetch failed/, target);

    const m = await make(target, { LOCAL_DIR: marked });
    assert.equal(exitOf(m), 1, `${target}: ${m.all}`);
    assert.match(
      m.stderr,
      new RegExp(`reason: +no gateway at http://127\\.0\\.0\\.1:${gatewayPort} \\(the local stack was stopped by make local-down at 2026-12-04T02:00:00\\.000Z\\): run \`make local-up LOCAL_DIR=${marked}\``),
      target,
    );
  }
});

test('the scripts read the stack directory as dev/local/layout.ts writes it: parts, ports, directory and pid files', () => {
  assert.deepEqual([...LOCAL_PARTS], [...COMPONENTS]);
  const settings: StackSettings = { portBase: 20000, databaseUrl: '', embeddedDatabase: true, redisUrl: null };
  for (const [what, offset] of Object.entries(PORT_OFFSETS)) assert.equal(20000 + offset, portOf(settings, what as keyof typeof PORT_OFFSETS), what);
  for (const localDir of [undefined, 'elsewhere', '/tmp/absolute-local']) {
    const theirs = new Layout({ LOCAL_DIR: localDir });
    const ours = new LocalStackDir(localDir);
    assert.equal(ours.dir, theirs.dir, String(localDir));
    for (const part of LOCAL_PARTS) assert.equal(ours.pidFile(part), theirs.pidFile(part));
  }
  const dir = stackDir(23450);
  assert.equal(new LocalStackDir(dir).savedPortBase(), new Layout({ LOCAL_DIR: dir }).savedSettings()?.portBase);
});
