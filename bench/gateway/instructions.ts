// Identity's cost in instructions, not seconds: the gateway under valgrind's callgrind, which
// counts every instruction the process executes (all its threads, JIT code included) and gives
// the same count for the same work whatever else the machine does. Each variant serves N and then,
// in a fresh process, 2N requests; the difference divided by N is the cost of one request, with
// start-up and warm-up cancelled out. Two repetitions show how far the counts move between runs.
//
//   node --import tsx bench/gateway/instructions.ts [--requests 600] [--repeats 2]
// Needs valgrind (on every machine kind here). Slow: each process runs about 50x slower (about
// 20 minutes for the defaults). So far no steadier than CPU time: see RESULTS.md.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGateway } from '../../gateway/build.ts';
import { startStandIns, type StandIns } from './stand-ins.ts';

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '600' }, repeats: { type: 'string', default: '2' } } });
const n = Number(args.requests);
const repeats = Number(args.repeats);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'node_modules', '.cache', 'bench-gateway');
mkdirSync(dir, { recursive: true });
const bundle = join(dir, 'gateway-process.mjs');
await buildGateway(bundle, join(root, 'bench', 'gateway', 'gateway-process.ts'));

type Variant = 'baseline' | 'identity';
const FLAGS: Record<Variant, string[]> = { baseline: ['--without-identity', '--without-protections'], identity: ['--without-protections'] };
const QUERY = 'query Me($client: Int) { me(client: $client) { internalId plan } }';

function post(url: string, agent: Agent, token: string, client: number): Promise<void> {
  const body = JSON.stringify({ query: QUERY, variables: { client } });
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Instructions of one gateway process that serves `count` requests (after the same warm-up). */
async function instructions(standIns: StandIns, tokens: string[], variant: Variant, count: number): Promise<number> {
  const out = join(dir, `callgrind-${variant}-${count}-${process.pid}.out`);
  const options = { supabaseUrl: standIns.supabaseUrl, usersServiceUrl: standIns.usersUrl, supergraph: standIns.supergraphPath, port: 0, rateLimitPerUser: 1_000_000, rateLimitBurstPerUser: 100_000 };
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--no-webstorage', bundle, JSON.stringify(options), ...FLAGS[variant]], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d;
      const m = /READY (\S+)/.exec(text);
      if (m) resolve(`${m[1]}/graphql`);
    });
    child.once('exit', (code) => reject(new Error(`gateway under callgrind exited with ${code}`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 5 });
  // Warm-up: every user once (identity caches them), then the counted requests, five at a time.
  for (let i = 0; i < tokens.length; i++) await post(url, agent, tokens[i]!, i);
  let next = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (next < count) {
        const i = next++;
        await post(url, agent, tokens[i % tokens.length]!, i);
      }
    }),
  );
  agent.destroy();
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const summary = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  if (!summary) throw new Error(`no instruction count in ${out}`);
  return Number(summary[1]);
}

const standIns = await startStandIns();
const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => standIns.sign(`user-${i}`)));
const perRequest: Record<Variant, number[]> = { baseline: [], identity: [] };
for (let r = 0; r < repeats; r++) {
  for (const variant of ['baseline', 'identity'] as const) {
    const once = await instructions(standIns, tokens, variant, n);
    const twice = await instructions(standIns, tokens, variant, 2 * n);
    perRequest[variant].push((twice - once) / n);
    process.stderr.write(`repeat ${r + 1} ${variant}: ${once} / ${twice} instructions -> ${((twice - once) / n).toFixed(0)} per request\n`);
  }
}
await standIns.close();

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const lines = [
  `Machine: nproc ${cpus().length}, node ${process.version}; command: node --import tsx bench/gateway/instructions.ts --requests ${n} --repeats ${repeats}`,
  '',
  '| repeat | baseline instructions per request | identity instructions per request | identity / baseline (throughput on the same CPU) |',
  '|---|---|---|---|',
  ...perRequest.baseline.map((b, i) => `| ${i + 1} | ${fmt(b)} | ${fmt(perRequest.identity[i]!)} | **${(b / perRequest.identity[i]!).toFixed(3)}** |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
