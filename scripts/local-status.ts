// make local-status: which parts of the local stack run, their pids, health and addresses, the
// gateway's metrics port, and whether make local-down stopped it.

import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, statusStep } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localStatus = defineRunbook({
  id: 'local-status',
  title: 'Local stack status',
  make: 'local-status',
  doc: 'docs/infrastructure/local-environment.md',
  params: LOCAL_PARAMS,
  steps: [statusStep],
});

runIfMain(import.meta.url, localStatus);
