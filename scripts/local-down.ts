// make local-down: stop every part of the local stack it started (by pid) and check that their
// ports are free, then mark .local/outputs.json stopped so the checks and local-status say so.
// The data and the port base stay in .local/ for the next make local-up.

import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, stopStep } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localDown = defineRunbook({
  id: 'local-down',
  title: 'Stop the local stack',
  make: 'local-down',
  doc: 'docs/infrastructure/local-environment.md',
  params: LOCAL_PARAMS,
  steps: [stopStep],
});

runIfMain(import.meta.url, localDown);
