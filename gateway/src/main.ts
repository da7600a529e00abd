// The gateway process: `make gateway` locally, the container entry on Cloud Run. Reads the
// environment (see docs/infrastructure/gateway-auth.md), refuses to start on any configuration
// problem (all of them listed, exit code 2), and on SIGTERM drains before exiting, well inside
// the 10 s Cloud Run allows.

import { optionsFromEnv } from './config.ts';
import { DEFAULTS } from './options.ts';

const { options, problems } = optionsFromEnv(process.env);
if (problems.length > 0) {
  process.stderr.write(
    `gateway: cannot start, the configuration has ${problems.length} problem(s):\n` +
      problems.map((p) => `  - ${p}\n`).join('') +
      'See docs/infrastructure/gateway-auth.md for every variable.\n',
  );
  process.exit(2);
}

// Loaded only once the configuration is known to be good, so a bad one is reported at once.
const { startGateway } = await import('./server.ts');
const gateway = await startGateway(options).catch((error: unknown) => {
  process.stderr.write(`gateway: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  // Whatever happens while draining, the process is gone before the platform's SIGKILL.
  const shutdownMs = (options.shutdownTimeoutSeconds ?? DEFAULTS.shutdownTimeoutSeconds) * 1000;
  setTimeout(() => process.exit(1), shutdownMs + 500).unref();
  gateway.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`gateway: shutdown after ${signal} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
