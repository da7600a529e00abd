// make local-deploy end to end on the embedded default (no DATABASE_URL, no REDIS_URL), in its
// own directory and port range; re-runs without LOCAL_PORT_BASE keeping those ports; the spoof
// check against a deliberately leaky gateway; and make local-down leaving nothing running, after
// which the checks say the stack is stopped.

import assert from 'node:assert/strict';
import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { make, tempDir, type Ran } from '../helpers/process.ts';

const dir = tempDir('mindmirror-local-');
// Below Linux's ephemeral range (32768 and up), where outgoing connections take their ports.
const portBase = 10000 + Math.floor(Math.random() * 2200) * 10;
const vars = { LOCAL_DIR: dir, LOCAL_PORT_BASE: String(portBase) };
const PARTS = ['database', 'auth', 'metadata', 'users', 'workouts', 'gateway'];

/** The script's own exit code: make itself exits 2 on any failure, and names the code in its last line. */
const exitOf = (r: Ran) => (r.code === 0 ? 0 : Number(/make: \*\*\* .* Error (\d+)$/m.exec(r.stderr)?.[1] ?? NaN));
const pidOf = (part: string) => Number(readFileSync(join(dir, 'pids', `${part}.pid`), 'utf8').split(' ')[0]);
/** Running: it exists and is not a zombie waiting for init to reap it (which holds nothing). */
const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
};
const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

let pids: number[] = [];
after(async () => {
  // Whatever happened above, leave nothing running.
  await make('local-down', vars, {}, 120_000);
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

test('make local-deploy starts everything, and the spoof check and voucher journey pass against it', async () => {
  const r = await make('local-deploy', vars, {}, 300_000);
  assert.equal(r.code, 0, r.all);
  assert.doesNotMatch(r.stdout, /\bLEAK\b/);
  assert.match(r.stdout, /ok {3}\[\d+\/5\] Try to be B .* (2[0-9]|3[0-9]) attacks, no leak/);
  assert.match(r.stdout, /Voucher end to end: done/);
  // The journey's user came in the way config.toml lets users in (sign-up closed: an admin's invitation), through the mailbox.
  assert.match(r.stdout, /Sign up a test user with supabase-js .* check-e2e-\w+@example\.com: sign-up is closed \(supabase\/config\.toml\), so an admin invited them by mail/);
  assert.match(r.stdout, /Confirm the e-mail through the link in the mailbox .* followed the link in "You have been invited": a 303 to the app with a session/);
  assert.match(r.stdout, /Sign in with the password .* password chosen in the invitation's session/);
  assert.match(r.stdout, new RegExp(`^Mailbox: http://127\\.0\\.0\\.1:${portBase + 1}/mailbox/ `, 'm'));
  assert.match(r.stdout, /Deploy locally: done \(10 steps\)/);
  for (const part of PARTS) assert.match(r.stdout, new RegExp(`^${part}\\s+\\d+\\s+up\\s`, 'm'), `${part} is up in the summary`);
  pids = PARTS.map(pidOf);

  const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
  assert.equal(statSync(join(dir, 'outputs.json')).mode & 0o777, 0o600);
  assert.equal(outputs.gatewayUrl, `http://127.0.0.1:${portBase}`);
  for (const key of ['supabaseUrl', 'authUrl', 'mailboxUrl', 'anonKey', 'serviceRoleKey', 'databaseUrl']) assert.ok(outputs[key], key);
  const invitations = await (await fetch(`${outputs.mailboxUrl}/api/v1/search?query=${encodeURIComponent('subject:invited')}`)).json();
  assert.ok(invitations.messages_count >= 1, 'the invitation is in the mailbox');
  assert.deepEqual(Object.keys(outputs.services).sort(), ['users_service', 'workouts_service']);
  assert.ok(!r.all.includes(outputs.serviceRoleKey), 'the local service-role key is masked in the output');
});

test('running it again reconciles: what runs keeps running, and the checks pass again', async () => {
  const r = await make('local-deploy', vars, {}, 300_000);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /gateway: already running/);
  assert.match(r.stdout, /Remote database is up to date/);
  assert.deepEqual(PARTS.map(pidOf), pids, 'the same processes');
});

test('a re-run without LOCAL_PORT_BASE keeps the ports the stack was set up with; another base is refused while it runs', async () => {
  const up = await make('local-up', { LOCAL_DIR: dir }, {}, 300_000);
  assert.equal(up.code, 0, up.all);
  assert.match(up.stdout, new RegExp(`Choose the ports.*${portBase}-${portBase + 6}`));
  for (const part of PARTS) assert.match(up.stdout, new RegExp(`${part}: (already running|using DATABASE_URL)`), `${part} was left running`);
  assert.deepEqual(PARTS.map(pidOf), pids, 'the same processes');
  assert.equal(JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8')).gatewayUrl, `http://127.0.0.1:${portBase}`);
  assert.match(up.stdout, new RegExp(`Gateway metrics: http://127\\.0\\.0\\.1:${portBase + 6}/metrics \\(up;`));

  const moved = await make('local-up', { ...vars, LOCAL_PORT_BASE: String(portBase + 10) }, {}, 120_000);
  assert.equal(exitOf(moved), 2, moved.all);
  assert.match(moved.stderr, new RegExp(`LOCAL_PORT_BASE=${portBase + 10} differs from the port base the running local stack was set up with \\(${portBase};`));
  assert.match(moved.stderr, /stop it first with `make local-down LOCAL_DIR=/);
  assert.deepEqual(PARTS.map(pidOf), pids, 'nothing was restarted');
});

const loadUsersLeft = async (databaseUrl: string) => {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const { rows } = await db.query(`select count(*)::int as n from auth.users where email like 'check-load-%'`);
  await db.end();
  return rows[0].n as number;
};

test('make load-test sends real users’ load through the gateway, reports the percentiles, and removes its users', async () => {
  const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
  const r = await make('load-test', { LOCAL_DIR: dir, USERS: '4', RATE: '20', DURATION: '3', JSON: '1' }, {}, 120_000);
  assert.equal(r.code, 0, r.all);
  const report = JSON.parse(r.stdout);
  assert.equal(report.sent, 60);
  assert.equal(report.outcomes.ok, 60, r.all);
  assert.ok(report.p50Ms > 0 && report.p50Ms <= report.p95Ms && report.p95Ms <= report.p99Ms && report.p99Ms <= report.maxMs, r.stdout);
  assert.ok(report.p95Ms < 500);
  assert.equal(await loadUsersLeft(outputs.databaseUrl), 0);
});

test('make load-test exits 1 when the p95 objective is missed, says by how much, and still cleans up', async () => {
  const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
  // No gateway round trip through users_service answers within a microsecond-scale objective.
  const r = await make('load-test', { LOCAL_DIR: dir, USERS: '1', RATE: '5', DURATION: '1', P95_OBJECTIVE_MS: '1' }, {}, 120_000);
  assert.notEqual(r.code, 0, r.all);
  assert.match(r.stdout, /requests\s+ok\s+429\s+refused\s+failed\s+not sent\s+p50\s+p95\s+p99\s+max/);
  assert.match(r.all, /p95 \d+\.\d ms is not under the objective of 1 ms/);
  assert.equal(await loadUsersLeft(outputs.databaseUrl), 0);
});

test('the spoof check reports a leaky gateway, exits 1, and still cleans up', async () => {
  const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
  // A gateway that trusts the client: `me` is whoever x-internal-id says.
  const leaky = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      const spoofed = [req.headers['x-internal-id']].flat()[0];
      const answer = (b: { query?: string }) =>
        /redeemVoucher/.test(b.query ?? '') ? { data: { redeemVoucher: { internalId: crypto.randomUUID() } } } : { data: { me: spoofed ? { id: spoofed } : null } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body)));
    });
  });
  await new Promise<void>((resolve) => leaky.listen(0, '127.0.0.1', resolve));
  const port = (leaky.address() as { port: number }).port;
  const leakyDir = tempDir('mindmirror-leaky-');
  cpSync(join(dir, 'keys.json'), join(leakyDir, 'keys.json'));
  writeFileSync(join(leakyDir, 'outputs.json'), JSON.stringify({ ...outputs, gatewayUrl: `http://127.0.0.1:${port}` }), { mode: 0o600 });
  try {
    const r = await make('spoof-check', { LOCAL_DIR: leakyDir, JSON: '1' });
    assert.notEqual(r.code, 0);
    const report = JSON.parse(r.stdout);
    assert.ok(report.leaks >= 1, r.stdout);
    assert.ok(
      report.results.some((x: { attack: string; verdict: string }) => x.attack === "A's token, x-internal-id = B" && x.verdict === 'LEAK'),
      'the header spoof is reported as a leak',
    );
    assert.match(r.stderr, /Delete the throwaway users/);
    const db = new pg.Client({ connectionString: outputs.databaseUrl });
    await db.connect();
    const { rows } = await db.query(`select count(*)::int as n from auth.users where email like 'check-spoof-%'`);
    await db.end();
    assert.equal(rows[0].n, 0, 'the throwaway users were deleted even though the check failed');
  } finally {
    leaky.close();
  }
});

test('make local-status and make local-logs show every part', async () => {
  const status = await make('local-status', vars);
  assert.equal(status.code, 0, status.all);
  for (const part of PARTS) assert.match(status.stdout, new RegExp(`^${part}\\s+\\d+\\s+up\\s`, 'm'));
  assert.match(status.stdout, new RegExp(`Gateway metrics: http://127\\.0\\.0\\.1:${portBase + 6}/metrics \\(up;`));
  const logs = await make('local-logs', { ...vars, LINES: '5' });
  assert.equal(logs.code, 0, logs.all);
  assert.match(logs.stdout, /==> .*gateway\.log <==/);
});

test('make local-down stops every process it started and frees every port', async () => {
  const r = await make('local-down', vars, {}, 120_000);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /every part is stopped and its port is free/);
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
  // The gateway's metrics port (+6) too.
  for (let offset = 0; offset <= 6; offset++) assert.equal(await answers(portBase + offset), false, `port ${portBase + offset} is free`);
  const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
  assert.equal(outputs.state, 'stopped');
  const status = await make('local-status', vars);
  for (const part of PARTS) assert.match(status.stdout, new RegExp(`^${part}\\s+-\\s+stopped`, 'm'));
  assert.match(status.stdout, new RegExp(`Stopped by make local-down at ${outputs.stoppedAt.replace(/[.]/g, '\\.')}`));
});

test('after make local-down the checks say the stack is stopped and how to start it, and exit 1', async () => {
  for (const target of ['spoof-check', 'voucher-e2e']) {
    const r = await make(target, { LOCAL_DIR: dir });
    assert.equal(exitOf(r), 1, `${target}: ${r.all}`);
    assert.match(r.stderr, new RegExp(`no gateway at http://127\\.0\\.0\\.1:${portBase} \\(the local stack was stopped by make local-down at .*\\): run \`make local-up LOCAL_DIR=`), target);
  }
});
