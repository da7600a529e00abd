// What each build of the gateway allocates per request, in bytes, from V8's own count
// (total_allocated_bytes): a measure that, unlike CPU time, barely moves between runs or processes
// (under 1%), and that found what the protections cost (bench/gateway/RESULTS.md): every hook the
// runtime calls leaves about two kilobytes of garbage per request, and the garbage is paid for in
// collections and cache misses spread over everything else.
//
// Each build runs alone in its own process (gateway-process.ts, compiled as the image runs it,
// started by gateway-child.ts);
// 50 users send the throughput benchmark's query, five at a time, over kept-alive connections:
// a warm-up, then five rounds, each the bytes allocated in the gateway process over its requests.
//
//   node --import tsx bench/gateway/allocations.ts [--warmup 10000] [--requests 2000] [--rounds 5]
//     [--builds baseline,identity,full,full-without-rate-limits,...]   (full-without-<part>: the protections without that one)

import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGateway } from '../../gateway/build.ts';
import { imageNodeArguments } from '../../gateway/node-arguments.ts';
import { PROTECTION_PARTS } from '../../gateway/src/protections.ts';
import { startGatewayChild } from './gateway-child.ts';
import { startStandIns } from './stand-ins.ts';

const { values: args } = parseArgs({
  options: {
    warmup: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    builds: { type: 'string', default: ['baseline', 'identity', 'full', ...PROTECTION_PARTS.map((part) => `full-without-${part}`)].join(',') },
  },
});

const FLAGS: Record<string, string[]> = {
  baseline: ['--without-identity', '--without-protections'],
  identity: ['--without-protections'],
  full: [],
  ...Object.fromEntries(PROTECTION_PARTS.map((part) => [`full-without-${part}`, [`--leave-out=${part}`]])),
};
const builds = String(args.builds).split(',');
const unknown = builds.filter((build) => !FLAGS[build]);
if (unknown.length > 0) {
  process.stderr.write(`--builds: unknown ${unknown.join(', ')}; choose from ${Object.keys(FLAGS).join(', ')}\n`);
  process.exit(2);
}
const [warmup, perRound, rounds] = [Number(args.warmup), Number(args.requests), Number(args.rounds)];
const QUERY = 'query Me($client: Int) { me(client: $client) { internalId plan } }';
const USERS = 50;
const CONCURRENCY = 5;

const root = fileURLToPath(new URL('../..', import.meta.url));
// A bundle of its own: the other benchmarks may be building theirs.
const bundle = join(root, 'node_modules', '.cache', 'bench-gateway', 'gateway-allocations.mjs');
await buildGateway(bundle, join(root, 'bench', 'gateway', 'gateway-process.ts'));
const standIns = await startStandIns();
const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => standIns.sign(`allocations-${i}`)));

async function measure(build: string): Promise<number[]> {
  const options = { supabaseUrl: standIns.supabaseUrl, usersServiceUrl: standIns.usersUrl, supergraph: standIns.supergraphPath, port: 0, rateLimitPerUser: 1_000_000, rateLimitBurstPerUser: 100_000 };
  const gateway = await startGatewayChild({ bundle, nodeArguments: imageNodeArguments(root), options, flags: FLAGS[build]! });
  const url = new URL('/graphql', gateway.url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const i = sent++;
      const body = JSON.stringify({ query: QUERY, variables: { client: i % USERS } });
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${tokens[i % USERS]}` };
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${build}: HTTP ${res.statusCode}`))));
      });
      req.once('error', reject);
      req.end(body);
    });
  const send = (count: number) =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let k = 0; k < count / CONCURRENCY; k++) await one();
      }),
    );
  await send(warmup);
  const perRequest: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const before = await gateway.ask<{ allocatedBytes: number }>('allocated');
    await send(perRound);
    const after = await gateway.ask<{ allocatedBytes: number }>('allocated');
    perRequest.push((after.allocatedBytes - before.allocatedBytes) / perRound);
  }
  agent.destroy();
  await gateway.stop();
  return perRequest;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = {};
for (const build of builds) {
  results[build] = await measure(build);
  process.stderr.write(`${build}: ${results[build]!.map((b) => Math.round(b)).join(', ')} bytes per request\n`);
}
await standIns.close();

const against = results['identity'] ? 'identity' : builds[0]!;
process.stdout.write(
  [
    `### Bytes allocated per request, gateway process only (${USERS} users, ${CONCURRENCY} requests at a time, ${warmup} requests of warm-up, then ${rounds} rounds of ${perRound})`,
    '',
    `| build | bytes per request (median of ${rounds} rounds) | lowest / highest round | against ${against} |`,
    '|---|---:|---|---:|',
    ...builds.map((build) => {
      const xs = results[build]!;
      const diff = median(xs) - median(results[against]!);
      return `| ${build} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))} / ${Math.round(Math.max(...xs))} | ${diff >= 0 ? '+' : ''}${Math.round(diff)} |`;
    }),
    '',
  ].join('\n'),
);
process.exit(0);
