// The gateway benchmark, in one run and side by side:
//  1. throughput and latency with the identity plugin off and on (same gateway, requests with the
//     same tokens, query and concurrency, warm caches), in alternating rounds so both see the same
//     machine conditions;
//  2. a burst of concurrent first requests from one new user: how many users_service calls;
//  3. resident memory while 100k distinct valid tokens of 100k users arrive, against the same
//     traffic without tokens on the gateway without identity;
//  4. the identity code's own CPU time per request, alone in this process, against the gateway's
//     CPU time per request without identity (from part 1).
// The gateway runs in its own process; so does the load generator (autocannon).
//
//   node --import tsx bench/gateway/run.ts [--rounds 10] [--duration 6] [--warmup 20] [--connections 50]
//     [--users 50] [--burst 500] [--tokens 100000] [--only throughput,burst,memory,code]

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { identityCodeMicroseconds } from './identity-code.ts';
import { startStandIns, type StandIns } from './stand-ins.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    users: { type: 'string', default: '50' },
    burst: { type: 'string', default: '500' },
    tokens: { type: 'string', default: '100000' },
    only: { type: 'string' },
  },
});
const parts = new Set((args.only ?? 'throughput,burst,memory,code').split(','));
const rounds = Number(args.rounds);
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const connections = Number(args.connections);
const userCount = Number(args.users);
const burst = Number(args.burst);
const tokenCount = Number(args.tokens);

const root = fileURLToPath(new URL('../..', import.meta.url));
const QUERY = 'query Me($client: Int) { me(client: $client) { internalId plan } }';

interface MemorySample {
  rss: number;
  heapUsedAfterGc: number;
  externalAfterGc: number;
}

interface Gateway {
  url: string;
  pid: number;
  child: ChildProcess;
  sample(): Promise<MemorySample>;
  stop(): Promise<void>;
}

function tsx(script: string, scriptArgs: string[], nodeFlags: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, '--import', 'tsx', `bench/gateway/${script}`, ...scriptArgs], { cwd: root, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
}

async function startGatewayProcess(standIns: StandIns, identity: boolean): Promise<Gateway> {
  const options = { supabaseUrl: standIns.supabaseUrl, usersServiceUrl: standIns.usersUrl, supergraph: standIns.supergraphPath, port: 0 };
  const child = tsx('gateway-process.ts', [JSON.stringify(options), ...(identity ? [] : ['--without-identity'])], ['--expose-gc']);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const ready = /READY (\S+) (\d+)/.exec(out);
      if (ready) resolve(ready[0]);
    });
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)));
  });
  const [, url, pid] = line.split(' ');
  return {
    url: url!,
    pid: Number(pid),
    child,
    sample: () =>
      new Promise<MemorySample>((resolve) => {
        child.once('message', (m) => resolve(m as MemorySample));
        child.send('sample');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function load(config: Record<string, unknown>): Promise<LoadResult> {
  const child = tsx('load.ts', [JSON.stringify(config)]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load exited with ${code}: ${out}`))));
  });
}

/** CPU time (user + system) the process has used so far, in milliseconds. */
function cpuMs(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}
const CLOCK_TICKS_PER_SECOND = 100;

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const ratio = (a: number, b: number) => (a / b).toFixed(3);

function machine(): string {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return `nproc ${cpus().length}, node ${process.version}, ${cpuModel}`;
}

const loadAverage = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
const standIns = await startStandIns();
/** The gateway's CPU time per request without identity, when part 1 ran. */
let baselineCpuMsPerRequest: number | undefined;
const report: string[] = [
  `Machine: ${machine()}`,
  `Command: node --import tsx bench/gateway/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  `Load average (1/5/15 min) at the start: ${loadAverage()}`,
  '',
];

// 1. Throughput, identity off and on.
if (parts.has('throughput')) {
  const tokens = await Promise.all(Array.from({ length: userCount }, (_, i) => standIns.sign(`user-${i}`)));
  const off = await startGatewayProcess(standIns, false);
  const on = await startGatewayProcess(standIns, true);
  // Both variants get the same requests, token included: MindMirror's clients send their
  // Supabase token today, before the gateway checks it, so the baseline is today's gateway
  // receiving today's traffic, and the only difference measured is what identity does with it.
  const runFor = (gw: Gateway, seconds: number) =>
    load({ url: `${gw.url}/graphql`, query: QUERY, connections, durationSeconds: seconds, tokens });
  // Warm-up: on a slow machine the JIT keeps improving both processes for a while; the identity
  // gateway also caches every user's token and id here.
  await runFor(off, warmup);
  await runFor(on, warmup);
  // Rounds alternate which variant goes first (off-on, on-off, ...), so load that comes and goes
  // on a shared machine falls on both alike; each round's on/off ratio compares two runs taken
  // back to back. Besides req/s, the gateway's own CPU time per request is recorded: it does not
  // depend on the share of the machine the process got, and its inverse is the throughput each
  // variant reaches on the same CPU.
  const results: Record<'off' | 'on', (LoadResult & { cpuMsPerRequest: number })[]> = { off: [], on: [] };
  for (let round = 0; round < rounds; round++) {
    const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const variant of order) {
      const gw = variant === 'off' ? off : on;
      const cpuBefore = cpuMs(gw.pid);
      const r = await runFor(gw, duration);
      const cpuMsPerRequest = (cpuMs(gw.pid) - cpuBefore) / r.total;
      if (r.non2xx || r.errors || r.timeouts) throw new Error(`${variant}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      results[variant].push({ ...r, cpuMsPerRequest });
      process.stderr.write(`round ${round + 1} ${variant}: ${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99} ms, ${cpuMsPerRequest.toFixed(2)} ms CPU per request\n`);
    }
  }
  await Promise.all([off.stop(), on.stop()]);
  const m = (variant: 'off' | 'on', pick: (r: LoadResult & { cpuMsPerRequest: number }) => number) => median(results[variant].map(pick));
  const perRound = (pick: (r: LoadResult & { cpuMsPerRequest: number }) => number) => median(results.on.map((r, i) => pick(r) / pick(results.off[i]!)));
  const cpuOff = m('off', (r) => r.cpuMsPerRequest);
  const cpuOn = m('on', (r) => r.cpuMsPerRequest);
  baselineCpuMsPerRequest = cpuOff;
  report.push(
    `### Throughput: identity off vs on (${connections} connections, ${warmup} s warm-up each, then ${duration} s x ${rounds} rounds in alternating order, ${userCount} users; both variants receive the same requests, Authorization header included)`,
    '',
    'Medians over the rounds. "Throughput on the same CPU" is 1 / (gateway CPU time per request): the req/s each variant reaches per CPU-second, independent of the share of the machine it got.',
    '',
    '| gateway | req/s | p50 ms | p99 ms | gateway CPU ms per request | throughput on the same CPU (req per CPU-s) |',
    '|---|---|---|---|---|---|',
    `| identity off (baseline) | ${m('off', (r) => r.requestsPerSecond).toFixed(0)} | ${m('off', (r) => r.p50)} | ${m('off', (r) => r.p99)} | ${cpuOff.toFixed(3)} | ${(1000 / cpuOff).toFixed(0)} |`,
    `| identity on | ${m('on', (r) => r.requestsPerSecond).toFixed(0)} | ${m('on', (r) => r.p50)} | ${m('on', (r) => r.p99)} | ${cpuOn.toFixed(3)} | ${(1000 / cpuOn).toFixed(0)} |`,
    `| **on / off** (median of per-round ratios) | ${perRound((r) => r.requestsPerSecond).toFixed(3)} | ${perRound((r) => r.p50).toFixed(3)} | **${perRound((r) => r.p99).toFixed(3)}** (target <= 1.10) | ${perRound((r) => r.cpuMsPerRequest).toFixed(3)} | **${perRound((r) => 1 / r.cpuMsPerRequest).toFixed(3)}** (target >= 0.95) |`,
    '',
    `Per round, off / on: ${results.off.map((r, i) => `${r.requestsPerSecond.toFixed(0)} / ${results.on[i]!.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99} / ${results.on[i]!.p99} ms, ${r.cpuMsPerRequest.toFixed(2)} / ${results.on[i]!.cpuMsPerRequest.toFixed(2)} CPU ms`).join('; ')}`,
    '',
  );
}

// 2. Burst of first requests from one new user.
if (parts.has('burst')) {
  const gw = await startGatewayProcess(standIns, true);
  const burstOf = (token: string) => load({ url: `${gw.url}/graphql`, query: QUERY, connections: burst, amount: burst, tokens: [token] });
  // Baseline: the same burst from a user whose token and id are already cached, taken right
  // before each new user's burst so both see the same warm-up state of the process.
  const known = await standIns.sign('burst-known-user');
  await burstOf(known);
  const rows: string[] = [];
  for (let i = 0; i < 3; i++) {
    const baseline = await burstOf(known);
    const token = await standIns.sign(`burst-user-${i}`);
    const before = standIns.lookups();
    const r = await burstOf(token);
    rows.push(`| known user, warm caches (baseline) | ${baseline.total} | ${baseline.non2xx + baseline.errors} | 0 | ${baseline.p50} | ${baseline.p99} | |`);
    rows.push(`| new user ${i + 1} | ${r.total} | ${r.non2xx + r.errors} | ${standIns.lookups() - before} | ${r.p50} | ${r.p99} | ${ratio(r.p50, baseline.p50)} / ${ratio(r.p99, baseline.p99)} |`);
  }
  await gw.stop();
  report.push(
    `### Burst: ${burst} concurrent first requests from one new user`,
    '',
    `Without single flight this would be ${burst} users_service calls per user.`,
    '',
    '| run | requests | failed | users_service calls | p50 ms | p99 ms | p50 / p99 against the baseline just before |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  );
}

// 3. Memory under many distinct tokens.
if (parts.has('memory')) {
  const reportEvery = Math.max(1, Math.floor(tokenCount / 5));
  const samples: Record<'off' | 'on', ({ sent: number } & MemorySample)[]> = { off: [], on: [] };
  for (const variant of ['off', 'on'] as const) {
    const gw = await startGatewayProcess(standIns, variant === 'on');
    await load({ url: `${gw.url}/graphql`, query: QUERY, connections: 10, durationSeconds: 2, tokens: variant === 'on' ? [await standIns.sign('warm')] : [] });
    samples[variant].push({ sent: 0, ...(await gw.sample()) });
    const flood = tsx('token-flood.ts', [
      JSON.stringify({ url: `${gw.url}/graphql`, supabaseUrl: standIns.supabaseUrl, privateJwk: standIns.privateJwk, count: tokenCount, concurrency: 32, reportEvery, withoutTokens: variant === 'off' }),
    ]);
    const pending: Promise<void>[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      flood.stdout!.on('data', (d: Buffer) => {
        buffer += d;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const sent = /^SENT (\d+)/.exec(line);
          if (sent) pending.push(gw.sample().then((m) => void samples[variant].push({ sent: Number(sent[1]), ...m })));
          const done = /^DONE (\d+)/.exec(line);
          if (done && Number(done[1]) > 0) reject(new Error(`${variant}: ${done[1]} requests failed`));
        }
      });
      flood.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`flood exited with ${code}`))));
    });
    await Promise.all(pending);
    await gw.stop();
    samples[variant].sort((a, b) => a.sent - b.sent);
    process.stderr.write(`memory ${variant}: ${samples[variant].map((s) => `${s.sent}:${mib(s.rss)}/${mib(s.heapUsedAfterGc)}MiB`).join(' ')}\n`);
  }
  const header = samples.on.map((s) => `${s.sent / 1000}k`);
  const row = (label: string, xs: MemorySample[], pick: (m: MemorySample) => number) =>
    `| ${label} | ${xs.map((m) => mib(pick(m))).join(' | ')} | ${(pick(xs.at(-1)!) / pick(xs[Math.floor(xs.length / 2)]!)).toFixed(2)} |`;
  const heap = (m: MemorySample) => m.heapUsedAfterGc + m.externalAfterGc;
  report.push(
    `### Memory: ${tokenCount} distinct valid tokens of ${tokenCount} users (gateway process, MiB)`,
    '',
    'Resident set while the requests arrive, and the JavaScript heap plus external memory still in use after a full garbage collection (what is actually retained).',
    '',
    `| gateway, measure | ${header.join(' | ')} | last / middle |`,
    `|---|${header.map(() => '---').join('|')}|---|`,
    row('identity off, no tokens (baseline): resident', samples.off, (m) => m.rss),
    row('identity on, a new token and user each request: resident', samples.on, (m) => m.rss),
    row('identity off (baseline): retained after GC', samples.off, heap),
    row('identity on: retained after GC', samples.on, heap),
    `| **on / off retained after GC** | ${samples.on.map((m, i) => (samples.off[i] ? ratio(heap(m), heap(samples.off[i]!)) : '')).join(' | ')} | |`,
    '',
  );
}

// 4. The identity code alone.
if (parts.has('code')) {
  const micros = await identityCodeMicroseconds(standIns, userCount);
  report.push(
    `### The identity code alone (${userCount} users, cached tokens and ids; median of 7 rounds of 100,000 requests)`,
    '',
    `${micros.toFixed(2)} µs per request (a tight loop on one core)` +
      (baselineCpuMsPerRequest === undefined ? '.' : `: ${ratio(micros / 1000, baselineCpuMsPerRequest)} of the gateway's CPU time per request without identity (${baselineCpuMsPerRequest.toFixed(3)} ms, part 1).`),
    '',
  );
}

await standIns.close();
report.push(`Load average (1/5/15 min) at the end: ${loadAverage()}`);
process.stdout.write(report.join('\n') + '\n');
