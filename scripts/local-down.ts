// make local-down: stop every part of the local stack it started (by pid) and check that their
// ports are free. The data stays in .local/ for the next make local-up.

import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, stopAll } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localDown = defineRunbook({
  id: 'local-down',
  title: 'Stop the local stack',
  make: 'local-down',
  doc: 'docs/infrastructure/local-environment.md',
  params: LOCAL_PARAMS,
  steps: [{ id: 'stop', title: 'Stop every part and free its port', commands: [stopAll] }],
});

runIfMain(import.meta.url, localDown);
