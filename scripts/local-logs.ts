// make local-logs: the end of every local part's log (LINES=<n>, default 40).

import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, showLogs } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localLogs = defineRunbook({
  id: 'local-logs',
  title: 'Local stack logs',
  make: 'local-logs',
  doc: 'docs/infrastructure/local-environment.md',
  params: [...LOCAL_PARAMS, { name: 'LINES', description: 'How many lines of each log to show (default 40).', example: '', check: (v) => (/^\d+$/.test(v) ? null : 'expected a number') }],
  steps: [{ id: 'logs', title: 'Show the end of every log', commands: [showLogs] }],
});

runIfMain(import.meta.url, localLogs);
