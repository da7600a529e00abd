// make local-up: start the local stack (or what of it is not running), without the checks.

import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, showStatus, upSteps } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localUp = defineRunbook({
  id: 'local-up',
  title: 'Start the local stack',
  make: 'local-up',
  doc: 'docs/infrastructure/local-environment.md',
  params: LOCAL_PARAMS,
  steps: [...upSteps, { id: 'status', title: 'Show what runs where', commands: [showStatus] }],
});

runIfMain(import.meta.url, localUp);
