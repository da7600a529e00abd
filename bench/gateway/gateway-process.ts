// The benchmarked gateway, alone in its own process so its CPU and memory are its own.
//   node --expose-gc --import tsx bench/gateway/gateway-process.ts '<GatewayOptions JSON>' [--without-identity] [--without-protections] [--leave-out=<part,...>]
// Prints "READY <url> <pid>" once it serves. Over IPC, "sample" answers with the memory in use
// after a full garbage collection, which tells retained memory apart from heap headroom;
// "collections" with the garbage collections since the last ask; "allocated" with the bytes V8 has
// allocated since the process started (allocations.ts).

import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { ProtectionPart } from '../../gateway/src/protections.ts';
import { startGateway, type GatewayOptions } from '../../gateway/src/server.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as GatewayOptions;
// run.ts has checked the names (--full-without).
const leaveOut = (process.argv.find((a) => a.startsWith('--leave-out='))?.slice('--leave-out='.length).split(',') ?? []) as ProtectionPart[];
const gateway = await startGateway(
  { ...options, host: '127.0.0.1', metricsPort: 0, logLevel: 'error', logSink: (line) => void process.stderr.write(line) },
  { identity: !process.argv.includes('--without-identity'), protections: !process.argv.includes('--without-protections'), leaveOut },
);
process.stdout.write(`READY ${gateway.url} ${process.pid}\n`);
// Every garbage collection as [start in ms since the epoch, pause ms, 1 if full else 0]: the attack
// benchmark tells from them which of its phases the gateway's own full collections fell in.
const collections: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const full = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
    collections.push(performance.timeOrigin + entry.startTime, entry.duration, full ? 1 : 0);
  }
}).observe({ entryTypes: ['gc'] });
process.on('message', (message) => {
  if (message === 'allocated') {
    process.send?.({ allocatedBytes: getHeapStatistics().total_allocated_bytes });
    return;
  }
  if (message === 'collections') {
    process.send?.({ collections: collections.splice(0) });
    return;
  }
  if (message !== 'sample') return;
  const rssBefore = process.memoryUsage().rss;
  (globalThis as { gc?: () => void }).gc?.();
  const after = process.memoryUsage();
  process.send?.({ rss: rssBefore, heapUsedAfterGc: after.heapUsed, externalAfterGc: after.external });
});
process.on('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
