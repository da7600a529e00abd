// How much the production runbooks add on top of the CLIs they drive, on a throwaway workspace
// with the fake tofu and gcloud (test/helpers/workspace.ts).
//
// 1. Concurrency: every fake call takes a fixed extra latency L. Verification (10 calls) and
//    the traffic rollback (16 reads, then 8 writes) should each take about one call, not the
//    sum: reported as step time / slowest single call, measured side by side.
// 2. A deploy with nothing to apply: wall time minus the time at least one CLI call was running
//    (the union of every call's interval in the run logs, nested runs included) is the runbook's
//    own time.
//
// Run: node --import tsx bench/deploy/deploy.bench.ts [latency-ms]

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createWorkspace } from '../../test/helpers/workspace.ts';

const latency = Number(process.argv[2] ?? 1500);
const ws = await createWorkspace();

function stepSeconds(output: string, title: string): number {
  const m = new RegExp(`\\] ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+([\\d.]+)(ms|s)`).exec(output);
  if (!m) throw new Error(`no timing for "${title}" in:\n${output}`);
  return m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1]);
}

function singleCall(): number {
  const started = performance.now();
  const r = spawnSync(ws.fakes.gcloudBin, ['run', 'services', 'describe', 'gateway', '--region', 'us-central1', '--project', 'mm-prod-test', '--format=json'], { env: { ...process.env, ...ws.env } });
  if (r.status !== 0) throw new Error(String(r.stderr));
  return (performance.now() - started) / 1000;
}

/** Merge [start, end] intervals and return their total length. */
function unionSeconds(intervals: [number, number][]): number {
  const sorted = intervals.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [s, e] = sorted[0] ?? [0, 0];
  for (const [a, b] of sorted.slice(1)) {
    if (a > e) {
      total += e - s;
      [s, e] = [a, b];
    } else e = Math.max(e, b);
  }
  return (total + e - s) / 1000;
}

function cliIntervals(since: number): [number, number][] {
  const dir = join(ws.dir, '.runs');
  const out: [number, number][] = [];
  for (const f of readdirSync(dir)) {
    if (statSync(join(dir, f)).mtimeMs < since) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/^\$ (\S+)[^\n]*\n(?:[\s\S]*?)^--- exit -?\d+ \((\d+) ms, started (\S+)\)$/gm)) {
      if (m[1] === 'make') continue; // a nested runbook: its own commands are in its own log
      const start = Date.parse(m[3]!);
      out.push([start, start + Number(m[2])]);
    }
  }
  return out;
}

try {
  for (const tag of ['v1.0.0', 'v2.0.0']) {
    const r = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: tag }, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(r.all);
  }

  ws.fakes.seed((c) => (c.latencyMs = latency));
  const single = Math.max(singleCall(), singleCall(), singleCall());
  const verify = await ws.make('production-verify', {}, { timeoutMs: 300_000 });
  const verifyStep = stepSeconds(verify.stdout, 'Check the gateway and every service');
  const rollback = await ws.make('production-rollback-traffic', { YES: '1' }, { timeoutMs: 300_000 });
  const findStep = stepSeconds(rollback.stdout, 'Find each service’s previous ready revision');
  const routeStep = stepSeconds(rollback.stdout, 'Route traffic to those revisions');
  ws.fakes.seed((c) => (c.latencyMs = 0));

  // Put traffic back on the latest revisions, so the deploy below has nothing to change.
  await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' }, { timeoutMs: 300_000 });
  const since = Date.now();
  const started = performance.now();
  const noop = await ws.make('production-deploy', { YES: '1', IMAGE_TAG: 'v2.0.0' }, { timeoutMs: 300_000 });
  const wall = (performance.now() - started) / 1000;
  if (noop.code !== 0 || !/nothing to apply/.test(noop.stdout)) throw new Error(noop.all);
  const cli = unionSeconds(cliIntervals(since));

  const cpu = cpus()[0]?.model ?? 'unknown';
  console.log(`machine: ${cpus().length} cores, ${cpu}, node ${process.version}`);
  console.log(`fake latency per call: ${latency} ms\n`);
  console.log('| measurement | seconds | ratio to the slowest single call |');
  console.log('|---|---:|---:|');
  console.log(`| one gcloud call (slowest of 3) | ${single.toFixed(2)} | 1.00 |`);
  console.log(`| verify: gateway + 8 services (10 calls) | ${verifyStep.toFixed(2)} | ${(verifyStep / single).toFixed(2)} |`);
  console.log(`| traffic rollback: read 8 services (16 calls) | ${findStep.toFixed(2)} | ${(findStep / single).toFixed(2)} |`);
  console.log(`| traffic rollback: route 8 services (8 calls) | ${routeStep.toFixed(2)} | ${(routeStep / single).toFixed(2)} |`);
  console.log('');
  console.log('| no-op deploy | seconds |');
  console.log('|---|---:|');
  console.log(`| wall time | ${wall.toFixed(2)} |`);
  console.log(`| at least one CLI call running | ${cli.toFixed(2)} |`);
  console.log(`| the runbooks' own time | ${(wall - cli).toFixed(2)} |`);
} finally {
  await ws.cleanup();
}
