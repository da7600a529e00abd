// What makes the gateway's young-generation collections long: a request's objects that live
// through two scavenges are copied into the old generation, and the copying is the pause. The
// gateway copies about an eighth of everything a request allocates. This reproduces the cause
// outside the gateway: one small HTTP server that calls a stand-in subgraph per request, three
// ways, each under the same paced load with V8's --trace-gc:
//   http     node:http request, the answer read from the response;
//   piped    the same, the response piped into a PassThrough first (as @whatwg-node/node-fetch,
//            Hive's fetch, does with every subgraph answer);
//   whatwg   @whatwg-node/fetch itself.
//   node --import tsx bench/gateway/promotion.ts [--seconds 40] [--rate 500]
// (The server side of each run is this file again, with --serve <way> <upstream url>.)

import { spawn, spawnSync } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { startStandIns } from './stand-ins.ts';

const WAYS = ['http', 'piped', 'whatwg'] as const;
type Way = (typeof WAYS)[number];

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '40' }, rate: { type: 'string', default: '500' }, serve: { type: 'string' } },
});

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk));
    stream.once('end', () => resolve(text));
    stream.once('error', reject);
  });
}

async function serve(way: Way, upstream: string): Promise<void> {
  const { fetch } = await import('@whatwg-node/fetch');
  const call = async (body: string): Promise<string> => {
    if (way === 'whatwg') return (await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(upstream, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.once('error', reject);
      req.end(body);
    });
    return readAll(way === 'piped' ? response.pipe(new PassThrough()) : response);
  };
  const server = createServer((req, res) => {
    void readAll(req)
      .then(call)
      .then((text) => res.writeHead(200, { 'content-type': 'application/json' }).end(text))
      .catch(() => res.writeHead(502).end());
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${(server.address() as { port: number }).port}\n`));
}

interface GcFigures {
  scavenges: number;
  pauseMedianMs: number;
  promotedMbPerScavenge: number;
  requestsPerScavenge: number;
}

/** Scavenges after the first quarter of the run (the young generation has grown to its size by then). */
function gcFigures(trace: string, fromMs: number, rate: number): GcFigures {
  const scavenges = [...trace.matchAll(/(\d+) ms: Scavenge [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, pooled: [\d.]+ MB, ([\d.]+) \//g)]
    .map((m) => ({ at: Number(m[1]), after: Number(m[2]), pause: Number(m[3]) }))
    .filter((s) => s.at >= fromMs);
  if (scavenges.length < 3) throw new Error(`only ${scavenges.length} scavenges to read: run longer (--seconds) or faster (--rate)`);
  const promoted = scavenges.slice(1).map((s, i) => s.after - scavenges[i]!.after).filter((d) => d >= 0);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const span = (scavenges.at(-1)!.at - scavenges[0]!.at) / 1000;
  return {
    scavenges: scavenges.length,
    pauseMedianMs: median(scavenges.map((s) => s.pause)),
    promotedMbPerScavenge: median(promoted),
    requestsPerScavenge: (span * rate) / Math.max(1, scavenges.length - 1),
  };
}

async function measure(): Promise<void> {
  const seconds = Number(args.seconds);
  const rate = Number(args.rate);
  const pinned = spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' }).status === 0;
  const standIns = await startStandIns();
  const tokens = [await standIns.sign('promotion')];
  const rows: string[] = [];
  for (const way of WAYS) {
    const command = [process.execPath, '--trace-gc', '--import', 'tsx', 'bench/gateway/promotion.ts', '--serve', way, standIns.usersUrl];
    const spawnedAt = performance.now();
    const server = spawn(pinned ? 'taskset' : command[0]!, pinned ? ['-c', '0', ...command] : command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let trace = '';
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => {
        trace += d;
        const ready = /READY (\S+)/.exec(trace);
        if (ready) resolve(ready[1]!);
      });
      server.once('exit', (code) => reject(new Error(`the ${way} server exited with ${code}`)));
    });
    // --trace-gc stamps each collection with the milliseconds since its process started.
    const loadFromMs = performance.now() - spawnedAt;
    const load = spawn(process.execPath, ['--import', 'tsx', 'bench/gateway/paced-load.ts', JSON.stringify({ url, query: 'query Me($client: Int) { me(client: $client) { internalId plan } }', connections: 50, rate, durationSeconds: seconds, tokens })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    load.stdout!.on('data', (d: Buffer) => (out += d));
    await new Promise((resolve) => load.once('exit', resolve));
    server.kill();
    const latency = JSON.parse(out) as { p50: number; p99: number; non2xx: number; errors: number };
    const gc = gcFigures(trace, loadFromMs + (seconds * 1000) / 4, rate);
    const promotedPerRequest = (gc.promotedMbPerScavenge * 1024) / gc.requestsPerScavenge;
    process.stderr.write(`${way}: ${JSON.stringify({ ...gc, p50: latency.p50, p99: latency.p99 })}\n`);
    rows.push(
      `| ${way} | ${gc.scavenges} | ${gc.pauseMedianMs.toFixed(2)} | ${gc.promotedMbPerScavenge.toFixed(2)} | ${promotedPerRequest.toFixed(1)} | ${latency.p50} / ${latency.p99} | ${latency.non2xx + latency.errors} |`,
    );
  }
  await standIns.close();
  process.stdout.write(
    [
      `### Promotion per request (${rate} requests/s for ${seconds} s, one subgraph call each; server on core 0${pinned ? '' : ' (not pinned: taskset or a second core missing)'})`,
      '',
      '| way | scavenges | scavenge pause median ms | promoted MB per scavenge | promoted kB per request | p50 / p99 ms | failed |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

if (args.serve) await serve(args.serve as Way, positionals[0]!);
else await measure();
