// What identity and the protections cost in instructions, not seconds: each build of the gateway
// under valgrind's callgrind, which counts every instruction the process executes. An attempt at a
// steadier measure than CPU time, which moves by several percent between runs. It is not one yet
// (bench/gateway/RESULTS.md): two processes of one build once agreed within 0.13%, but the builds'
// counts came out of order in every run of the three, one per core included, since a process's
// count depends on how its JIT and collections went and on work driven by the clock.
//
// Each build runs in its own process, as many at once as there are cores, each pinned to one:
//   1. V8 in single-threaded mode, so compilation and collection happen in the same order each
//      time instead of on helper threads that race the requests;
//   2. warm-up: W requests (every user cached, the JIT settled), a full collection, 300 more;
//   3. the counters zeroed, N requests counted, the counters dumped: instructions per request.
// The requests are the throughput benchmark's (bench/gateway/run.ts): 50 users, the same query,
// five at a time.
//
//   node --import tsx bench/gateway/instructions.ts [--warmup 1500] [--requests 1000] [--repeats 3]
// Needs valgrind and callgrind_control (on every machine kind here). Slow: each process runs about
// 50x slower, so a repeat takes about six minutes on two cores.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { buildGateway } from '../../gateway/build.ts';
import { startStandIns, type StandIns } from './stand-ins.ts';

const { values: args } = parseArgs({
  options: { warmup: { type: 'string', default: '1500' }, requests: { type: 'string', default: '1000' }, repeats: { type: 'string', default: '3' } },
});
const warmup = Number(args.warmup);
const counted = Number(args.requests);
const repeats = Number(args.repeats);
const root = fileURLToPath(new URL('../..', import.meta.url));
const bundle = join(root, 'node_modules', '.cache', 'bench-gateway', 'gateway-instructions.mjs');
await buildGateway(bundle, join(root, 'bench', 'gateway', 'gateway-process.ts'));
const run = promisify(execFile);
const cores = Math.max(1, cpus().length);

type Variant = 'baseline' | 'identity' | 'full';
const VARIANTS: Variant[] = ['baseline', 'identity', 'full'];
const FLAGS: Record<Variant, string[]> = { baseline: ['--without-identity', '--without-protections'], identity: ['--without-protections'], full: [] };
const QUERY = 'query Me($client: Int) { me(client: $client) { internalId plan } }';

/** Requests answered 503 for the slowness (see post) and sent again, per variant. */
const resent: Record<string, number> = {};

function post(url: string, agent: Agent, token: string, client: number, variant: Variant): Promise<void> {
  const body = JSON.stringify({ query: QUERY, variables: { client } });
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => {
        if (res.statusCode === 200) return resolve();
        // Under callgrind the runtime is slow enough that Hive sometimes reloads the supergraph
        // and aborts the operations in flight, or a first lookup outlasts its timeout; such a
        // request is sent again, and counted.
        if (res.statusCode === 503 && /SCHEMA_RELOAD|IDENTITY_UNAVAILABLE|AUTH_UNAVAILABLE/.test(text)) {
          resent[variant] = (resent[variant] ?? 0) + 1;
          return resolve(post(url, agent, token, client, variant));
        }
        reject(new Error(`${variant}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
      });
    });
    // A kept-alive connection the gateway closed while callgrind's slowness left it idle: the
    // request is sent again on a fresh one, and counted (a count it falls into says so).
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') return reject(error);
      resent[variant] = (resent[variant] ?? 0) + 1;
      resolve(post(url, agent, token, client, variant));
    });
    req.end(body);
  });
}

/** Requests first..first+count-1, five at a time, user i % users. */
async function serve(url: string, agent: Agent, tokens: string[], first: number, count: number, variant: Variant): Promise<void> {
  let next = first;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (next < first + count) {
        const i = next++;
        await post(url, agent, tokens[i % tokens.length]!, i, variant);
      }
    }),
  );
}

function fullCollection(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('message', () => resolve());
    child.send('sample');
  });
}

/** Instructions per counted request of one gateway process. */
async function instructionsPerRequest(standIns: StandIns, tokens: string[], variant: Variant, core: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'callgrind-'));
  const options = { supabaseUrl: standIns.supabaseUrl, usersServiceUrl: standIns.usersUrl, supergraph: standIns.supergraphPath, port: 0, rateLimitPerUser: 1_000_000, rateLimitBurstPerUser: 100_000, usersServiceTimeoutMs: 30_000 };
  const child = spawn(
    'taskset',
    ['-c', String(core), 'valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'out.%p')}`, process.execPath, '--single-threaded', '--expose-gc', '--no-webstorage', bundle, JSON.stringify(options), ...FLAGS[variant]],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  // valgrind's own lines and the gateway's errors: kept to say why, should the process fail.
  let errors = '';
  child.stderr!.on('data', (d: Buffer) => (errors = (errors + d).slice(-4000)));
  try {
    const [url, pid] = await new Promise<[string, string]>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => {
        text += d;
        const ready = /READY (\S+) (\d+)/.exec(text);
        if (ready) resolve([`${ready[1]}/graphql`, ready[2]!]);
      });
      child.once('exit', (code) => reject(new Error(`${variant}: the gateway under callgrind exited with ${code}:\n${errors}`)));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 5 });
    await serve(url, agent, tokens, 0, warmup, variant);
    await fullCollection(child);
    await serve(url, agent, tokens, warmup, 300, variant);
    const resentBefore = resent[variant] ?? 0;
    await run('callgrind_control', ['--zero', pid]);
    await serve(url, agent, tokens, warmup + 300, counted, variant);
    await run('callgrind_control', ['--dump', pid]);
    if ((resent[variant] ?? 0) > resentBefore) process.stderr.write(`${variant}: a request was sent again among the counted ones; this repeat's count includes it\n`);
    agent.destroy();
    // The dump holds what was counted since the zeroing; the file written at exit holds the rest.
    const dump = readdirSync(dir).find((f) => f !== `out.${pid}` && f.startsWith(`out.${pid}`));
    const total = dump && /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'));
    if (!total) throw new Error(`${variant}: no instruction count in ${dir}`);
    return Number(total[1]) / counted;
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const standIns = await startStandIns();
const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => standIns.sign(`user-${i}`)));
const results: Record<Variant, number>[] = [];
for (let r = 0; r < repeats; r++) {
  // At most one build per core, each pinned to its own, so every process runs at the same speed.
  const counts: number[] = [];
  for (let first = 0; first < VARIANTS.length; first += cores) {
    const batch = VARIANTS.slice(first, first + cores);
    counts.push(...(await Promise.all(batch.map((v, i) => instructionsPerRequest(standIns, tokens, v, i)))));
  }
  results.push(Object.fromEntries(VARIANTS.map((v, i) => [v, counts[i]!])) as Record<Variant, number>);
  process.stderr.write(`repeat ${r + 1}: ${VARIANTS.map((v, i) => `${v} ${Math.round(counts[i]!)}`).join(', ')} instructions per request\n`);
}
await standIns.close();

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)).toFixed(3);
const identityRatios = results.map((r) => r.baseline / r.identity);
const limitsRatios = results.map((r) => r.identity / r.full);
process.stdout.write(
  [
    `Machine: nproc ${cpus().length}, node ${process.version}; command: node --import tsx bench/gateway/instructions.ts --warmup ${warmup} --requests ${counted} --repeats ${repeats}`,
    '',
    '"Throughput on the same CPU" as instructions: baseline instructions per request / the build\'s.',
    '',
    '| repeat | baseline instructions per request | identity | identity + protections | identity / baseline | limits on / off |',
    '|---|---|---|---|---|---|',
    ...results.map((r, i) => `| ${i + 1} | ${fmt(r.baseline)} | ${fmt(r.identity)} | ${fmt(r.full)} | **${identityRatios[i]!.toFixed(3)}** | **${limitsRatios[i]!.toFixed(3)}** |`),
    `| spread (max - min) | | | | ${spread(identityRatios)} | ${spread(limitsRatios)} |`,
    '',
    `Requests sent again after a 503 or a closed connection caused by callgrind's slowness (a supergraph reload, a first lookup past its timeout, an idle connection closed): ${Object.keys(resent).length ? JSON.stringify(resent) : 'none'}.`,
    '',
  ].join('\n'),
);
