// The gateway benchmark, in one run and side by side:
//  1. CPU per request and latency of three builds of the same gateway under the same offered load
//     (a fixed request rate from 50 users, warm caches): without identity and without the
//     protections (the baseline), with identity, and with identity and the protections (limits,
//     rate limits, internal fields), all at once on the same core so all see the same conditions,
//     the baseline and identity each in two processes, as the control of what differs by chance;
//     then their latency, one build at a time, each alone on the core while it is measured;
//  2. the same full gateway under attack: legitimate users' latency and /healthcheck's while one
//     attacker sends the largest refused documents as fast as they are answered, against the same
//     traffic while the attacker sends them to a sink instead (sink.ts), and without the attacker;
//  3. a burst of concurrent first requests from one new user: how many users_service calls;
//  4. resident memory while 100k distinct valid tokens of 100k users arrive, against the same
//     traffic without tokens on the gateway without identity;
//  5. the identity code's own CPU time per request, alone in this process;
//  6. (--only processes) identity's CPU cost (or with --pair identity:full, the protections')
//     over many fresh processes: batches of four new gateways at once, two of each build, measured
//     once each after their warm-up, so what one process differs from another by chance (its
//     JIT, its heap's layout) averages out.
// Each gateway runs in its own process, compiled as the container image runs it, pinned to the
// first core; the load generators (autocannon), the attacker and the stand-ins on the second.
//
//   node --import tsx bench/gateway/run.ts [--rounds 40] [--side-by-side-rate 300] [--latency-rounds 10] [--duration 5] [--warmup 20] [--rate 500]
//     [--connections 50] [--users 50] [--burst 500] [--tokens 100000] [--only throughput,latency,attack,burst,memory,code,processes]
//     [--batches 20] [--measure 15] [--pair baseline:identity|identity:full]   (processes: how many batches of four fresh gateways, seconds each is measured, which two builds)
//     [--full-without http-refusals,rate-limits,operation-limits,internal-fields]   (the full build without these protections, to tell what each costs)
//     [--attacks oversized,limited,unlimited,edge] [--groups 16] [--seed N]   (which attacks `attack` runs, all by default; how many
//       groups of phases without the attacker, with it sending to a sink, and with it; the seed of their order, drawn anew each run unless given)
//   GATEWAY_NODE_FLAGS="..." adds node flags to every gateway process; GATEWAY_STDOUT=<file> keeps their output.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGateway } from '../../gateway/build.ts';
import { imageNodeArguments } from '../../gateway/node-arguments.ts';
import { PROTECTION_PARTS } from '../../gateway/src/protections.ts';
import { startGatewayChild } from './gateway-child.ts';
import { identityCodeMicroseconds } from './identity-code.ts';
import { startStandIns, type StandIns } from './stand-ins.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    'latency-rounds': { type: 'string', default: '10' },
    // In all, for the five processes side by side: more would fill their shared core.
    'side-by-side-rate': { type: 'string', default: '300' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '20' },
    rate: { type: 'string', default: '500' },
    connections: { type: 'string', default: '50' },
    users: { type: 'string', default: '50' },
    burst: { type: 'string', default: '500' },
    tokens: { type: 'string', default: '100000' },
    only: { type: 'string' },
    attacks: { type: 'string', default: 'oversized,limited,unlimited,edge' },
    groups: { type: 'string', default: '16' },
    // The attack phases' order; drawn anew each run unless given, so a run can be repeated.
    seed: { type: 'string' },
    batches: { type: 'string', default: '20' },
    measure: { type: 'string', default: '15' },
    // processes: the build measured against another, as `<against>:<build>`.
    pair: { type: 'string', default: 'baseline:identity' },
    // The full build without some of its protections: what each one costs.
    'full-without': { type: 'string', default: '' },
  },
});
const parts = new Set((args.only ?? 'throughput,latency,attack,burst,memory,code').split(','));
const ATTACK_NAMES = ['oversized', 'limited', 'unlimited', 'edge'];
const chosen = new Set(String(args.attacks).split(','));
const unknownAttacks = [...chosen].filter((name) => !ATTACK_NAMES.includes(name));
if (unknownAttacks.length > 0) {
  process.stderr.write(`--attacks: unknown ${unknownAttacks.join(', ')}; choose from ${ATTACK_NAMES.join(', ')}\n`);
  process.exit(2);
}
// The pairs the fresh-processes measure compares: identity against none, protections against none.
const PAIRS: Record<string, ['baseline' | 'identity', 'identity' | 'full']> = { 'baseline:identity': ['baseline', 'identity'], 'identity:full': ['identity', 'full'] };
const pair = PAIRS[String(args.pair)];
const fullWithout = String(args['full-without']).split(',').filter((name) => name !== '');
const unknownParts = fullWithout.filter((name) => !(PROTECTION_PARTS as readonly string[]).includes(name));
if (unknownParts.length > 0) {
  process.stderr.write(`--full-without: unknown ${unknownParts.join(', ')}; choose from ${PROTECTION_PARTS.join(', ')}\n`);
  process.exit(2);
}
if (!pair) {
  process.stderr.write(`--pair: unknown ${args.pair}; choose from ${Object.keys(PAIRS).join(', ')}\n`);
  process.exit(2);
}
const rounds = Number(args.rounds);
const latencyRounds = Number(args['latency-rounds']);
const sideBySideRate = Number(args['side-by-side-rate']);
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const rate = Number(args.rate);
const connections = Number(args.connections);
const userCount = Number(args.users);
const burst = Number(args.burst);
const tokenCount = Number(args.tokens);

const root = fileURLToPath(new URL('../..', import.meta.url));
const QUERY = 'query Me($client: Int) { me(client: $client) { internalId plan } }';

// Two cores: the gateway alone on the first, everything that loads it on the second, so neither
// takes CPU time from the other and the gateway's CPU time per request is its own.
const pinned = cpus().length >= 2 && spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' }).status === 0;
const onCore = (core: number, command: string[]): [string, string[]] => (pinned ? ['taskset', ['-c', String(core), ...command]] : [command[0]!, command.slice(1)]);
// The attacker's CPU is not the service's: on a machine of its own it would take nothing from the
// users or users_service. Here it shares their core, so it runs at idle priority (SCHED_IDLE): it
// gets every cycle they leave, which is most of the core, and never delays them.
const idlePriority = spawnSync('chrt', ['--idle', '0', 'true'], { stdio: 'ignore' }).status === 0;
const atIdlePriority = (command: string[]): string[] => (idlePriority ? ['chrt', '--idle', '0', ...command] : command);

// The gateway as production runs it: the compiled bundle on plain node, no TypeScript loader,
// with the image's node arguments. GATEWAY_NODE_FLAGS adds more, to try one against a run without;
// GATEWAY_STDOUT names a file the gateway processes' standard output is appended to, where V8's
// --trace-gc flags write.
const gatewayNodeArguments = [...imageNodeArguments(root), ...(process.env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
const buildDir = join(root, 'node_modules', '.cache', 'bench-gateway');
mkdirSync(buildDir, { recursive: true });
const gatewayBundle = join(buildDir, 'gateway-process.mjs');
await buildGateway(gatewayBundle, join(root, 'bench', 'gateway', 'gateway-process.ts'));

interface MemorySample {
  rss: number;
  heapUsedAfterGc: number;
  externalAfterGc: number;
}

interface Gateway {
  url: string;
  pid: number;
  sample(): Promise<MemorySample>;
  /** Garbage collections since the last call, as flat triples [start (epoch ms), pause ms, 1 if full]. */
  collections(): Promise<number[]>;
  stop(): Promise<void>;
}

// The baseline and identity twice, each in two processes: how far two processes of one build
// differ (each JIT optimises its own way) is the least difference between builds that means
// anything, and comparing both processes of each build averages some of it out.
type Variant = 'baseline' | 'identity' | 'full' | 'baselineAgain' | 'identityAgain' | 'fullAgain';
const VARIANT_FLAGS: Record<Variant, string[]> = {
  baseline: ['--without-identity', '--without-protections'],
  identity: ['--without-protections'],
  full: fullWithout.length > 0 ? [`--leave-out=${fullWithout.join(',')}`] : [],
  baselineAgain: ['--without-identity', '--without-protections'],
  identityAgain: ['--without-protections'],
  fullAgain: fullWithout.length > 0 ? [`--leave-out=${fullWithout.join(',')}`] : [],
};
const VARIANT_NAMES: Record<Variant, string> = {
  baseline: 'without identity, without protections (baseline)',
  identity: 'identity',
  full: fullWithout.length > 0 ? `identity + protections without ${fullWithout.join(', ')}` : 'identity + protections',
  baselineAgain: 'the baseline again, in a process of its own (control)',
  identityAgain: 'identity again, in a process of its own (control)',
  fullAgain: 'identity + protections again, in a process of its own (control)',
};

function tsx(script: string, scriptArgs: string[], idle = false): ChildProcess {
  const command = [process.execPath, '--import', 'tsx', `bench/gateway/${script}`, ...scriptArgs];
  const [file, rest] = onCore(1, idle ? atIdlePriority(command) : command);
  return spawn(file, rest, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function startGatewayProcess(standIns: StandIns, variant: Variant, extra: Record<string, unknown> = {}): Promise<Gateway> {
  // Rate limits that legitimate traffic never reaches: the code runs, nobody is refused.
  const options = { supabaseUrl: standIns.supabaseUrl, usersServiceUrl: standIns.usersUrl, supergraph: standIns.supergraphPath, port: 0, rateLimitPerUser: 1_000_000, rateLimitBurstPerUser: 100_000, ...extra };
  const gateway = await startGatewayChild({
    bundle: gatewayBundle,
    nodeArguments: gatewayNodeArguments,
    options,
    flags: VARIANT_FLAGS[variant],
    wrap: (command) => onCore(0, command),
    cwd: root,
    stdoutFile: process.env.GATEWAY_STDOUT,
  });
  return {
    url: gateway.url,
    pid: gateway.pid,
    collections: async () => (await gateway.ask<{ collections: number[] }>('collections')).collections,
    sample: () => gateway.ask<MemorySample>('sample'),
    stop: gateway.stop,
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
  /** paced-load.ts only: failed requests by error code. */
  errorCodes?: Record<string, number>;
  /** paced-load.ts only: latencies in 0.1 ms buckets. */
  histogram?: Record<string, number>;
}

/** A percentile of several runs' latencies together, in ms. */
function mergedPercentile(runs: LoadResult[], q: number): number {
  const merged = new Map<number, number>();
  for (const r of runs) for (const [bucket, n] of Object.entries(r.histogram ?? {})) merged.set(Number(bucket), (merged.get(Number(bucket)) ?? 0) + n);
  const total = [...merged.values()].reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const [bucket, n] of [...merged].sort((a, b) => a[0] - b[0])) {
    seen += n;
    if (seen >= q * total) return bucket / 10;
  }
  return NaN;
}

function runJson<T>(script: string, config: Record<string, unknown>, idle = false): Promise<T> {
  const child = tsx(script, [JSON.stringify(config)], idle);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${script} exited with ${code}: ${out}`))));
  });
}
const load = (config: Record<string, unknown>) => runJson<LoadResult>('load.ts', config);
/** Evenly spaced requests at a fixed rate (latency measured from when each was due). */
const paced = (config: Record<string, unknown>) => runJson<LoadResult>('paced-load.ts', config);
interface AttackResult {
  sent: number;
  refused: number;
  closed: number;
  other: number;
}
/** sink.ts, at idle priority on the load's core like the attacker: it answers, and takes no cycles from the users. */
async function startSink(documents: string): Promise<{ url: string; stop(): void }> {
  const child = tsx('sink.ts', [documents], true);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const ready = /READY (\S+)/.exec(out);
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sink.ts exited with ${code}`)));
  });
  return { url, stop: () => void child.kill() };
}
/** The same paced load to several gateways at once, each its own share: `rate` requests/s and `share` of the connections. */
const pacedSideBySide = (gateways: Record<Variant, Gateway>, variants: Variant[], rate: number, share: number, seconds: number) =>
  Promise.all(variants.map((v) => paced({ url: `${gateways[v].url}/graphql`, query: QUERY, connections: Math.ceil(connections / share), rate, durationSeconds: seconds, tokens })));

/**
 * CPU time every thread of the process has used so far, in nanoseconds, as the scheduler counts
 * it (/proc/<pid>/task/<tid>/schedstat); /proc/<pid>/stat counts in ticks of 10 ms.
 */
function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read: its time is no longer counted anywhere.
    }
  }
  return total;
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
/**
 * A 95% confidence interval of the median, free of any assumption about the distribution: the
 * order statistics the binomial distribution of "how many fall below the median" puts around it.
 */
function medianConfidence(xs: number[]): [number, number] {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  const k = Math.max(0, Math.floor(n / 2 - (1.96 * Math.sqrt(n)) / 2));
  return [sorted[k]!, sorted[Math.min(n - 1, n - 1 - k)]!];
}
const ratio = (a: number, b: number) => (a / b).toFixed(3);
/** The p-quantile of ascending values: the smallest value at least a share p of them do not exceed. */
const quantile = (sorted: ArrayLike<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
/**
 * A 95% interval of the p99 ratio of one kind of phase to another, by resampling whole groups of
 * phases (with replacement): where the legitimate traffic's own pauses fall, one group or another,
 * is the chance a single run's ratio carries, and the interval shows how much of it.
 */
function groupBootstrap<K extends string>(groups: Record<K, number[]>[], over: K, against: K, p: number, random: () => number, resamples = 2_000): [number, number] {
  const ratios: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const picked = groups.map(() => groups[Math.floor(random() * groups.length)]!);
    const pool = (kind: K) => Float64Array.from(picked.flatMap((group) => group[kind])).sort();
    ratios.push(quantile(pool(over), p) / quantile(pool(against), p));
  }
  ratios.sort((a, b) => a - b);
  return [quantile(ratios, 0.025), quantile(ratios, 0.975)];
}
/** The items in an order drawn from `random` (Fisher-Yates). */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
/** Mulberry32: the same sequence for the same seed, so a run's phase order can be repeated. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function machine(): string {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return `nproc ${cpus().length}, node ${process.version}, ${cpuModel}`;
}

const loadAverage = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
const standIns = await startStandIns();
/** The gateway's CPU time per request without identity, alone on its core, when the latency part ran. */
let baselineCpuMsPerRequest: number | undefined;
const report: string[] = [
  `Machine: ${machine()}; gateway pinned to core 0, load on core 1: ${pinned ? 'yes' : 'no (taskset or a second core missing)'}`,
  `Command: ${process.env.GATEWAY_NODE_FLAGS ? `GATEWAY_NODE_FLAGS="${process.env.GATEWAY_NODE_FLAGS}" ` : ''}node --import tsx bench/gateway/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  `Gateway processes: node --expose-gc ${gatewayNodeArguments.join(' ')} (the image's arguments${process.env.GATEWAY_NODE_FLAGS ? ' and GATEWAY_NODE_FLAGS' : ''})`,
  `Load average (1/5/15 min) at the start: ${loadAverage()}`,
  '',
];
const tokens = await Promise.all(Array.from({ length: userCount }, (_, i) => standIns.sign(`user-${i}`)));

// The builds, measured side by side (CPU) and one at a time (latency).
const BUILDS: Variant[] = ['baseline', 'identity', 'full', 'baselineAgain', 'identityAgain'];
type Measured = LoadResult & { cpuMsPerRequest: number; cpuMs: number };
type Rounds = Record<Variant, Measured[]>;
const noRounds = () => Object.fromEntries(BUILDS.map((v) => [v, []])) as unknown as Rounds;

/**
 * CPU per request over every round together: a collection of the old generation costs a
 * hundred milliseconds and more and lands in one round or the next; over all rounds it evens out.
 */
const overallCpu = (rounds: Measured[]) => rounds.reduce((s, r) => s + r.cpuMs, 0) / rounds.reduce((s, r) => s + r.total, 0);

/** What both measurements of the builds print: each build, then build against build, then every round. */
function buildTables(results: Rounds): string[] {
  // A build's CPU per request, over all rounds or in round i: the mean of its processes.
  const cpu = (processes: Variant[], i?: number) =>
    processes.reduce((s, v) => s + (i === undefined ? overallCpu(results[v]) : results[v][i]!.cpuMsPerRequest), 0) / processes.length;
  const p = (v: Variant, q: number) => mergedPercentile(results[v], q);
  const row = (v: Variant) =>
    `| ${VARIANT_NAMES[v]} | ${median(results[v].map((r) => r.requestsPerSecond)).toFixed(0)} | ${p(v, 0.5)} | ${p(v, 0.99)} | ${cpu([v]).toFixed(3)} | ${(1000 / cpu([v])).toFixed(0)} |`;
  const comparison = (label: string, build: Variant[], against: Variant[]) => {
    const perRound = results.baseline.map((_, i) => cpu(against, i) / cpu(build, i));
    const [low, high] = medianConfidence(perRound);
    // Latency only where one process stands against one: percentiles of two processes do not add up.
    const latency = build.length === 1 && against.length === 1 ? `${ratio(p(build[0]!, 0.5), p(against[0]!, 0.5))} | **${ratio(p(build[0]!, 0.99), p(against[0]!, 0.99))}**` : ' | ';
    return `| ${label} | **${(cpu(against) / cpu(build)).toFixed(3)}** | ${median(perRound).toFixed(3)} | ${low.toFixed(3)} to ${high.toFixed(3)} | ${latency} |`;
  };
  return [
    '| gateway | req/s served | p50 ms | p99 ms | gateway CPU ms per request | throughput on the same CPU (req per CPU-s) |',
    '|---|---|---|---|---|---|',
    ...BUILDS.map(row),
    '',
    '| comparison (target) | throughput on the same CPU, all rounds together | median of the per-round ratios | its 95% confidence interval | p50 | p99 |',
    '|---|---|---|---|---|---|',
    comparison('identity / baseline, both processes of each (>= 0.97)', ['identity', 'identityAgain'], ['baseline', 'baselineAgain']),
    comparison('identity / baseline, first processes only', ['identity'], ['baseline']),
    comparison('identity + protections / identity, limits on vs off (>= 0.97, p99 <= 1.05)', ['full'], ['identity']),
    comparison('the baseline again / the baseline, two processes of one build (ideally 1)', ['baselineAgain'], ['baseline']),
    comparison('identity again / identity, two processes of one build (ideally 1)', ['identityAgain'], ['identity']),
    '',
    `CPU ms per request by round, ${BUILDS.join(' / ')}: ${results.baseline.map((_, i) => BUILDS.map((v) => results[v][i]!.cpuMsPerRequest.toFixed(3)).join(' / ')).join('; ')}`,
    '',
  ];
}

// 1. CPU per request, side by side: baseline, identity, identity + protections and the controls, all at once.
if (parts.has('throughput')) {
  const variants = BUILDS;
  const gateways = Object.fromEntries(await Promise.all(variants.map(async (v) => [v, await startGatewayProcess(standIns, v)] as const))) as Record<Variant, Gateway>;
  // Every build serves its share at the same moments on the same core: whatever the machine does
  // (another tenant, the clock's speed) falls on all of them alike, which rounds run one after the
  // other could not promise (their CPU per request moved by up to 50% from round to round).
  const each = sideBySideRate / variants.length;
  const runAll = (seconds: number) => pacedSideBySide(gateways, variants, each, variants.length, seconds);
  // Warm-up: the JIT keeps improving each process for a while; identity also caches every user here.
  await runAll(warmup);
  const results = noRounds();
  for (let round = 0; round < rounds; round++) {
    const before = variants.map((v) => cpuNs(gateways[v].pid));
    const measured = await runAll(duration);
    const after = variants.map((v) => cpuNs(gateways[v].pid));
    variants.forEach((v, i) => {
      const r = measured[i]!;
      if (r.non2xx || r.errors || r.timeouts) throw new Error(`${v}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      const cpu = (after[i]! - before[i]!) / 1e6;
      results[v].push({ ...r, cpuMsPerRequest: cpu / r.total, cpuMs: cpu });
    });
    process.stderr.write(`round ${round + 1}: ${variants.map((v) => `${v} ${results[v].at(-1)!.cpuMsPerRequest.toFixed(3)}`).join(', ')} ms CPU per request\n`);
  }
  await Promise.all(variants.map((v) => gateways[v].stop()));
  report.push(
    `### CPU per request, side by side (${sideBySideRate} requests/s in all at even intervals, ${each} to each build at the same time on the same core, over up to ${Math.ceil(connections / variants.length)} connections each, as ${userCount} users; ${warmup} s warm-up, then ${rounds} rounds of ${duration} s; the baseline and identity twice, each in two processes)`,
    '',
    'All five gateways run at once, pinned to the same core, each receiving its share of the same requests (Authorization header included) at the same moments, so the machine\'s ups and downs fall on all of them alike. The measure is each process\'s CPU time (every thread, in nanoseconds from the scheduler) per request; its inverse, "throughput on the same CPU", is the requests per second each build serves per CPU-second. The comparison is over all rounds together (a collection of the old generation lands in one round and evens out over all of them); the median of the per-round ratios and its 95% confidence interval show how much single rounds scatter. Latencies include waiting for the core while another of the five runs.',
    '',
    ...buildTables(results),
  );
}

// 1b. CPU per request over fresh processes. Two processes of one build, side by side, differ by
// up to 10% in CPU per request (the controls above), more than identity costs, and keep their
// difference for as long as they run: more rounds of the same processes do not average it out,
// more processes do. Each batch starts two of each build at once on the same core, warms them up,
// measures each once and stops them; every process counts once.
if (parts.has('processes')) {
  const batches = Number(args.batches);
  const measureSeconds = Number(args.measure);
  const [against, build] = pair;
  const again = (v: 'baseline' | 'identity' | 'full') => `${v}Again` as Variant;
  const variants: Variant[] = [against, build, again(against), again(build)];
  const each = sideBySideRate / BUILDS.length; // the same rate per process as the five side by side
  const perProcess: Record<'against' | 'build', number[]> = { against: [], build: [] };
  const batchRatios: number[] = [];
  const controlRatios: number[] = [];
  let failed = 0;
  for (let batch = 0; batch < batches; batch++) {
    // Which slot starts first rotates, so no build is always the first to reach the core.
    const order = variants.map((_, k) => variants[(batch + k) % variants.length]!);
    const gateways = {} as Record<Variant, Gateway>;
    for (const v of order) gateways[v] = await startGatewayProcess(standIns, v);
    const runAll = (seconds: number) => pacedSideBySide(gateways, variants, each, BUILDS.length, seconds);
    await runAll(warmup);
    // A full collection first: one of 50 to 200 ms falling in one process's window and not in
    // another's would weigh more than the difference measured does.
    await Promise.all(variants.map((v) => gateways[v].sample()));
    const before = variants.map((v) => cpuNs(gateways[v].pid));
    const measured = await runAll(measureSeconds);
    const after = variants.map((v) => cpuNs(gateways[v].pid));
    await Promise.all(variants.map((v) => gateways[v].stop()));
    const cpu = {} as Record<Variant, number>;
    variants.forEach((v, i) => {
      const r = measured[i]!;
      // A failed request or two (a reset connection, as the attack runs see now and then) is
      // counted and reported; more than 1% of a process's requests ends the run.
      failed += r.non2xx + r.errors + r.timeouts;
      if (r.non2xx + r.errors + r.timeouts > r.total / 100) throw new Error(`${v}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts of ${r.total}`);
      cpu[v] = (after[i]! - before[i]!) / 1e6 / r.total;
    });
    perProcess.against.push(cpu[against], cpu[again(against)]);
    perProcess.build.push(cpu[build], cpu[again(build)]);
    batchRatios.push((cpu[against] + cpu[again(against)]) / (cpu[build] + cpu[again(build)]));
    controlRatios.push(cpu[against] / cpu[again(against)]);
    process.stderr.write(`batch ${batch + 1}: ${variants.map((v) => `${v} ${cpu[v].toFixed(3)}`).join(', ')} ms CPU per request; ${build} / ${against} ${batchRatios.at(-1)!.toFixed(3)}\n`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
  const overall = mean(perProcess.against) / mean(perProcess.build);
  // The ratio's standard error from the spread of the batches' ratios: the batches are independent.
  const standardError = sd(batchRatios) / Math.sqrt(batches);
  const [low, high] = medianConfidence(batchRatios);
  report.push(
    `### CPU per request over fresh processes, ${VARIANT_NAMES[build]} against ${VARIANT_NAMES[against]} (${batches} batches of four new gateways at once on one core, two of each build; ${each} requests/s to each, ${warmup} s warm-up, then ${measureSeconds} s measured; each process measured once, right after a full collection)`,
    '',
    '| build | processes | mean CPU ms per request | spread between processes (standard deviation / mean) |',
    '|---|---:|---:|---:|',
    ...(['against', 'build'] as const).map((b) => `| ${VARIANT_NAMES[pair[b === 'against' ? 0 : 1]]} | ${perProcess[b].length} | ${mean(perProcess[b]).toFixed(3)} | ${((100 * sd(perProcess[b])) / mean(perProcess[b])).toFixed(1)}% |`),
    '',
    `${build} / ${against}, throughput on the same CPU over all processes: **${overall.toFixed(3)}** (target >= 0.97), standard error ${standardError.toFixed(3)} from the batches' ratios (median ${median(batchRatios).toFixed(3)}, 95% confidence interval ${low.toFixed(3)} to ${high.toFixed(3)}); the control, ${against} / ${against} again within a batch: median ${median(controlRatios).toFixed(3)}, from ${Math.min(...controlRatios).toFixed(3)} to ${Math.max(...controlRatios).toFixed(3)}.`,
    '',
    `${build} / ${against} by batch: ${batchRatios.map((r) => r.toFixed(3)).join(', ')}. Requests failed while measured: ${failed}.`,
    '',
  );
}

// 1c. Latency: the same builds one after the other, each alone on the core while it is measured.
if (parts.has('latency')) {
  const variants = BUILDS;
  const gateways = Object.fromEntries(await Promise.all(variants.map(async (v) => [v, await startGatewayProcess(standIns, v)] as const))) as Record<Variant, Gateway>;
  const runFor = (v: Variant, seconds: number) => paced({ url: `${gateways[v].url}/graphql`, query: QUERY, connections, rate, durationSeconds: seconds, tokens });
  // Warm-up: the JIT keeps improving each process for a while; identity also caches every user here.
  for (const v of variants) await runFor(v, warmup);
  // Rounds rotate the order (b-i-f-a-j, i-f-a-j-b, ...), so load that comes and goes on the
  // machine falls on all builds alike; each round's ratios compare runs taken back to back.
  const results = noRounds();
  for (let round = 0; round < latencyRounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(round + k) % variants.length]!;
      const cpuBefore = cpuNs(gateways[v].pid);
      const r = await runFor(v, duration);
      const cpuMsPerRequest = (cpuNs(gateways[v].pid) - cpuBefore) / 1e6 / r.total;
      if (r.non2xx || r.errors || r.timeouts) throw new Error(`${v}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      results[v].push({ ...r, cpuMsPerRequest, cpuMs: cpuMsPerRequest * r.total });
      process.stderr.write(`latency round ${round + 1} ${v}: ${r.requestsPerSecond.toFixed(0)} req/s, p99 ${r.p99} ms, ${cpuMsPerRequest.toFixed(3)} ms CPU per request\n`);
    }
  }
  await Promise.all(variants.map((v) => gateways[v].stop()));
  // The identity code's share is set against the baseline alone on its core: side by side, the
  // processes share the core's caches and each one's CPU per request is about three times higher.
  baselineCpuMsPerRequest = overallCpu(results.baseline);
  report.push(
    `### Latency, one build at a time (${rate} requests/s at even intervals, over up to ${connections} connections as ${userCount} users, ${warmup} s warm-up each, then ${duration} s x ${latencyRounds} rounds in rotating order; the baseline and identity twice, each in two processes)`,
    '',
    'Each round runs every build back to back, alone on the core while it is measured, so its latency is its own; latencies are over every request of all rounds together. The CPU figures here come from rounds minutes apart, which the machine\'s own ups and downs move by up to half (the side-by-side measurement above is the one for CPU); they are kept as a second view.',
    '',
    ...buildTables(results),
  );
}

// 2. Under attack.
if (parts.has('attack')) {
  type Attack = 'oversized' | 'capped';
  type Timed = LoadResult & { timeline: number[] };
  type Phase = 'without' | 'sink' | 'with';
  const PHASES: Phase[] = ['without', 'sink', 'with'];
  const legitRate = Math.round(rate / 2);
  // Many short phases in an order drawn at random, with the load running through all of them:
  // the gateway's own full collections (one every few seconds at this rate under the instance's
  // heap) come from the legitimate traffic and fall on any side by chance. Four long phases in
  // strict alternation once put every one of them in the attack phases, since their period was
  // close to a pair's, and blamed the attacker for them.
  const phaseSeconds = duration;
  const groups = Number(args.groups);
  const seed = args.seed === undefined ? randomInt(2 ** 31) : Number(args.seed);
  const attackerToken = await standIns.sign('attacker');
  // The front door's Cloud Armor rule (infra/modules/edge, edge_requests_per_minute) lets one
  // address send this many requests a second for ever; a faster one is refused at Google's edge and banned.
  const edgePerSecond = 1200 / 60;
  const scenarios: { label: string; documents: Attack; rateLimitPerUser?: number; perSecond?: number }[] = [
    ...(chosen.has('oversized') ? [{ label: 'the 550 kB, 50,000-field document (body cap, 413 before reading); production settings', documents: 'oversized' as const }] : []),
    ...(chosen.has('limited') ? [{ label: 'the costliest refusals under the caps (99 kB read and refused for its length, 10 kB parsed to the token limit), production settings: the attacker\'s account reaches its per-second and per-minute limits', documents: 'capped' as const }] : []),
    ...(chosen.has('unlimited') ? [{ label: 'the same with per-user rate limits off: every request reaches the document limits (an attacker with unlimited accounts)', documents: 'capped' as const, rateLimitPerUser: 0 }] : []),
    ...(chosen.has('edge') ? [{ label: `the same behind the front door: the ${edgePerSecond} a second one address gets past Cloud Armor's default limit without being banned`, documents: 'capped' as const, rateLimitPerUser: 0, perSecond: edgePerSecond }] : []),
  ];
  // A fixed seed once gave every run the same order, and the legitimate traffic's own full
  // collections, whose period was close to the order's rhythm, fell on the same side run after run.
  const random = seededRandom(seed);
  const rows: string[] = [];
  for (const scenario of scenarios) {
    const gw = await startGatewayProcess(
      standIns,
      'full',
      scenario.rateLimitPerUser === undefined ? { rateLimitPerUser: 600, rateLimitBurstPerUser: 60 } : { rateLimitPerUser: scenario.rateLimitPerUser, rateLimitBurstPerUser: scenario.rateLimitPerUser },
    );
    const sink = await startSink(scenario.documents);
    // Enough requests for every user's rate-limit count to be read from memory, as in steady state.
    await paced({ url: `${gw.url}/graphql`, query: QUERY, connections, rate: legitRate, durationSeconds: warmup, tokens });
    // Two seconds for the load's processes to start before the first phase.
    const startAt = Date.now() + 2_000;
    const phases: { from: number; to: number; kind: Phase }[] = [];
    for (let i = 0; i < groups; i++) {
      for (const kind of shuffled(PHASES, random)) {
        const from = startAt + phases.length * phaseSeconds * 1000;
        phases.push({ from, to: from + phaseSeconds * 1000, kind });
      }
    }
    const windowsOf = (kind: Phase) => phases.filter((p) => p.kind === kind).map((p) => [p.from, p.to]);
    const total = phases.length * phaseSeconds;
    await gw.collections();
    const [legit, health, attack, sunk] = await Promise.all([
      runJson<Timed>('paced-load.ts', { url: `${gw.url}/graphql`, query: QUERY, connections, rate: legitRate, durationSeconds: total, tokens, startAt, timeline: true }),
      runJson<Timed>('paced-load.ts', { url: `${gw.url}/healthcheck`, connections: 2, rate: 20, durationSeconds: total, tokens: [], startAt, timeline: true }),
      runJson<AttackResult>('attack.ts', { url: `${gw.url}/graphql`, token: attackerToken, windows: windowsOf('with'), connections: 1, documents: scenario.documents, perSecond: scenario.perSecond }, true),
      runJson<AttackResult>('attack.ts', { url: `${sink.url}/graphql`, token: attackerToken, windows: windowsOf('sink'), connections: 1, documents: scenario.documents, perSecond: scenario.perSecond }, true),
    ]);
    const collections = await gw.collections();
    await gw.stop();
    sink.stop();
    if (attack.other > 0) throw new Error(`attack requests not refused by a limit: ${JSON.stringify(attack)}`);
    // The phases follow each other without a gap, so a moment's phase is its index.
    const phaseAt = (at: number) => Math.floor((at - startAt) / (phaseSeconds * 1000));
    const kindAt = (at: number): Phase | undefined => phases[phaseAt(at)]?.kind;
    const side = (kind: Phase) => {
      const pick = (timeline: number[]) => {
        const latencies: number[] = [];
        let failed = 0;
        for (let i = 0; i < timeline.length; i += 3) {
          if (kindAt(timeline[i]!) !== kind) continue;
          latencies.push(timeline[i + 1]!);
          if (timeline[i + 2] === 0) failed++;
        }
        return { latencies: latencies.sort((a, b) => a - b), failed };
      };
      const full: number[] = [];
      for (let i = 0; i < collections.length; i += 3) if (collections[i + 2] === 1 && kindAt(collections[i]!) === kind) full.push(collections[i + 1]!);
      return { legit: pick(legit.timeline), health: pick(health.timeline), full };
    };
    const [without, sunkSide, withAttack] = PHASES.map(side) as [ReturnType<typeof side>, ReturnType<typeof side>, ReturnType<typeof side>];
    const q = quantile;
    // Each legitimate latency by the group of phases it fell in, for the intervals of the ratios.
    const byGroup = Array.from({ length: groups }, () => ({ without: [] as number[], sink: [] as number[], with: [] as number[] }));
    for (let i = 0; i < legit.timeline.length; i += 3) {
      const index = phaseAt(legit.timeline[i]!);
      const phase = phases[index];
      if (phase) byGroup[Math.floor(index / PHASES.length)]![phase.kind].push(legit.timeline[i + 1]!);
    }
    const interval = (against: Phase) => {
      const [low, high] = groupBootstrap(byGroup, 'with', against, 0.99, random);
      return `${low.toFixed(2)} to ${high.toFixed(2)}`;
    };
    const p99 = (s: ReturnType<typeof side>) => q(s.legit.latencies, 0.99);
    const three = (f: (s: ReturnType<typeof side>) => string | number) => `${f(without)} / ${f(sunkSide)} / ${f(withAttack)}`;
    const fullCollections = (s: ReturnType<typeof side>) => (s.full.length ? `${s.full.length} (longest ${Math.max(...s.full).toFixed(0)} ms)` : '0');
    const attackSeconds = total / PHASES.length;
    process.stderr.write(
      `${scenario.documents}${scenario.rateLimitPerUser === 0 ? ' (no rate limit)' : ''}${scenario.perSecond ? ` (${scenario.perSecond}/s)` : ''}: legit p99 without / sink / with ${three(p99)} ms, with / sink ${ratio(p99(withAttack), p99(sunkSide))} (${interval('sink')}), with / without ${ratio(p99(withAttack), p99(without))} (${interval('without')}), health p99 with ${q(withAttack.health.latencies, 0.99)} ms, full collections ${three(fullCollections)}, ${attack.sent} attack requests (${attack.closed} closed before their answer), ${sunk.sent} to the sink${legit.errors + legit.non2xx ? `, legit failures ${legit.non2xx} non-2xx, errors ${JSON.stringify(legit.errorCodes)}` : ''}\n`,
    );
    rows.push(
      `| ${scenario.label} | ${(attack.sent / attackSeconds).toFixed(0)} / ${(sunk.sent / attackSeconds).toFixed(0)} | ${three((s) => q(s.legit.latencies, 0.5))} | ${three(p99)} | **${ratio(p99(withAttack), p99(sunkSide))}** (${interval('sink')}) | ${ratio(p99(withAttack), p99(without))} (${interval('without')}) | ${three(fullCollections)} | ${three((s) => s.legit.failed)} | ${q(without.health.latencies, 0.99)} / **${q(withAttack.health.latencies, 0.99)}** | ${attack.closed} of ${attack.sent} |`,
    );
  }
  report.push(
    `### Under attack (identity + protections; ${legitRate} legitimate requests/s at even intervals from ${userCount} users, /healthcheck 20 times a second; ${groups} groups of three ${phaseSeconds} s phases, without the attacker, with the attacker sending to the sink, with the attacker sending to the gateway, each group's order drawn at random (seed ${seed}), the load running through all)`,
    '',
    `One attacker: one connection with a valid token, sending as fast as it is answered (bench/gateway/attack.ts)${idlePriority ? ', at idle priority on the load\'s core (it takes the cycles the users and stand-ins leave, never theirs)' : ' (chrt missing: at normal priority, so its own CPU delays the users on its core)'}; every attack request refused. The sink phases: the same attacker sends the same documents, as fast as they are answered (the attacker's own work on its core sets the pace either way: the rates below), to a server on the load's core that answers them as the gateway does on the wire and nothing more (bench/gateway/sink.ts): loopback delivers the attacker's bytes with kernel work on the sending core, which no priority keeps from the users and stand-ins there, and on a real network that work is the attacker's machine's. With / sink is therefore what the gateway's handling of the attack costs its users; with / without adds this machine's share. Latencies in ms over all phases of a kind, each request counted in the phase it was due in; the gateway's full collections counted the same way. The ratios' intervals: 95% of ${groups}-group resamples (whole groups drawn with replacement) fall within them.`,
    '',
    '| attacker sends | attack requests/s to the gateway / to the sink | legit p50 without / sink / with | legit p99 without / sink / with | legit p99 with / sink (target <= 1.5; 95% interval over groups) | legit p99 with / without (with this machine\'s share) | full collections without / sink / with | legit requests failed without / sink / with | /healthcheck p99 without / with (target <= 50 with) | refusals the attacker never read (the connection closed first) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  );
}

// 3. Burst of first requests from one new user.
if (parts.has('burst')) {
  const gw = await startGatewayProcess(standIns, 'full');
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

// 4. Memory under many distinct tokens.
if (parts.has('memory')) {
  const reportEvery = Math.max(1, Math.floor(tokenCount / 5));
  const samples: Record<'off' | 'on', ({ sent: number } & MemorySample)[]> = { off: [], on: [] };
  for (const variant of ['off', 'on'] as const) {
    const gw = await startGatewayProcess(standIns, variant === 'on' ? 'full' : 'baseline');
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
    row('baseline (no identity, no protections), no tokens: resident', samples.off, (m) => m.rss),
    row('identity + protections, a new token and user each request: resident', samples.on, (m) => m.rss),
    row('baseline: retained after GC', samples.off, heap),
    row('identity + protections: retained after GC', samples.on, heap),
    `| **on / off retained after GC** | ${samples.on.map((m, i) => (samples.off[i] ? ratio(heap(m), heap(samples.off[i]!)) : '')).join(' | ')} | |`,
    '',
  );
}

// 5. The identity code alone.
if (parts.has('code')) {
  const micros = await identityCodeMicroseconds(standIns, userCount);
  report.push(
    `### The identity code alone (${userCount} users, cached tokens and ids; median of 7 rounds of 100,000 requests)`,
    '',
    `${micros.toFixed(2)} µs per request (a tight loop on one core)` +
      (baselineCpuMsPerRequest === undefined ? '.' : `: ${ratio(micros / 1000, baselineCpuMsPerRequest)} of the gateway's CPU time per request without identity (${baselineCpuMsPerRequest.toFixed(3)} ms, one build at a time).`),
    '',
  );
}

await standIns.close();
report.push(`Load average (1/5/15 min) at the end: ${loadAverage()}`);
process.stdout.write(report.join('\n') + '\n');
