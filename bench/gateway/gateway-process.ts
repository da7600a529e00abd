// The benchmarked gateway, alone in its own process so its CPU and memory are its own.
//   node --expose-gc --import tsx bench/gateway/gateway-process.ts '<GatewayOptions JSON>' [--without-identity] [--without-protections]
// Prints "READY <url> <pid>" once it serves. Over IPC, "sample" answers with the memory in use
// after a full garbage collection, which tells retained memory apart from heap headroom.

import { startGateway, type GatewayOptions } from '../../gateway/src/server.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as GatewayOptions;
const gateway = await startGateway(
  { ...options, host: '127.0.0.1', metricsPort: 0, logLevel: 'error', logSink: (line) => void process.stderr.write(line) },
  { identity: !process.argv.includes('--without-identity'), protections: !process.argv.includes('--without-protections') },
);
process.stdout.write(`READY ${gateway.url} ${process.pid}\n`);
process.on('message', (message) => {
  if (message !== 'sample') return;
  const rssBefore = process.memoryUsage().rss;
  (globalThis as { gc?: () => void }).gc?.();
  const after = process.memoryUsage();
  process.send?.({ rss: rssBefore, heapUsedAfterGc: after.heapUsed, externalAfterGc: after.external });
});
process.on('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
