// make local-up: start the local stack (or what of it is not running), without the checks, on
// the ports it was set up with unless LOCAL_PORT_BASE says otherwise while it is stopped.

import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, statusStep, upSteps } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localUp = defineRunbook({
  id: 'local-up',
  title: 'Start the local stack',
  make: 'local-up',
  doc: 'docs/infrastructure/local-environment.md',
  params: LOCAL_PARAMS,
  steps: [...upSteps, statusStep],
});

runIfMain(import.meta.url, localUp);
