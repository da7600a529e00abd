// An open-loop load: requests at evenly spaced moments, whatever the answers do, so latency is
// what a caller arriving at that moment sees. autocannon's fixed rate sends each connection's
// share in bursts, which measures its own bursts more than the gateway. Latency is counted from
// the moment a request was due, so a stalled gateway cannot hide requests it delayed.
//   node --import tsx bench/gateway/paced-load.ts '<config JSON>'   -> {"p50": ms, "p99": ms, ...}
// With `timeline`, every request also as [due (ms since the epoch), latency ms, 1 if it succeeded],
// so a run that spans phases (the attack benchmark's) can be split by them afterwards.

import { Agent, request } from 'node:http';

interface PacedConfig {
  url: string;
  /** GraphQL query, sent as POST by user i % tokens with $client = i % 1000; without one: GET url. */
  query?: string;
  tokens: string[];
  rate: number;
  durationSeconds: number;
  /** Connections at most; a request due while all are busy waits (and that wait counts). */
  connections: number;
  /** When the first request is due, in ms since the epoch (default: at once). */
  startAt?: number;
  timeline?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as PacedConfig;
const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
const latencies: number[] = [];
/** Flat triples: due (ms since the epoch), latency (ms), 1 when answered 2xx else 0. */
const timeline: number[] = [];
const epoch = (t: number) => Math.round((performance.timeOrigin + t) * 10) / 10;
let non2xx = 0;
let errors = 0;
/** Why requests failed, by error code (ECONNRESET, ...), so a failure says what it was. */
const errorCodes: Record<string, number> = {};

function send(i: number, dueAt: number): Promise<void> {
  const token = config.tokens.length ? config.tokens[i % config.tokens.length] : undefined;
  const body = config.query ? JSON.stringify({ query: config.query, variables: { client: i % 1000 } }) : undefined;
  const headers: Record<string, string | number> = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  return new Promise((resolve) => {
    const req = request(config.url, { method: body ? 'POST' : 'GET', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        const ok = (res.statusCode ?? 0) < 300;
        if (!ok) non2xx++;
        latencies.push(performance.now() - dueAt);
        if (config.timeline) timeline.push(epoch(dueAt), Math.round((performance.now() - dueAt) * 100) / 100, ok ? 1 : 0);
        resolve();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      errors++;
      const code = error.code ?? error.message;
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      if (config.timeline) timeline.push(epoch(dueAt), Math.round((performance.now() - dueAt) * 100) / 100, 0);
      resolve();
    });
    req.end(body);
  });
}

const total = Math.round(config.rate * config.durationSeconds);
const start = config.startAt !== undefined ? config.startAt - performance.timeOrigin : performance.now() + 50;
const inFlight: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const dueAt = start + (i * 1000) / config.rate;
  const wait = dueAt - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  inFlight.push(send(i, dueAt));
}
await Promise.all(inFlight);
agent.destroy();
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN).toFixed(2));
// Every latency in 0.1 ms buckets, so runs can be merged into one distribution.
const histogram: Record<number, number> = {};
for (const l of latencies) {
  const bucket = Math.round(l * 10);
  histogram[bucket] = (histogram[bucket] ?? 0) + 1;
}
process.stdout.write(
  JSON.stringify({ requestsPerSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), p999: at(0.999), total: latencies.length, non2xx, errors, errorCodes, timeouts: 0, histogram, ...(config.timeline ? { timeline } : {}) }) + '\n',
);
