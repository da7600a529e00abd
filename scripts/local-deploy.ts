// make local-deploy: the whole deployment on this machine, no cloud account: ports, database,
// Supabase bootstrap and the production migrations, the stand-ins and the gateway, then the
// same spoof check and voucher end-to-end check production gets. Run it again: it reconciles.

import { make } from './lib/cli.ts';
import { runIfMain } from './lib/engine.ts';
import { LOCAL_PARAMS, statusStep, upSteps } from './lib/local-steps.ts';
import { defineRunbook } from './lib/runbook.ts';

export const localDeploy = defineRunbook({
  id: 'local-deploy',
  title: 'Deploy locally',
  make: 'local-deploy',
  doc: 'docs/infrastructure/local-environment.md',
  params: LOCAL_PARAMS,
  steps: [
    ...upSteps,
    { id: 'spoof-check', title: 'Check that nobody can be somebody else', commands: [make('spoof-check').withEnv({ TARGET: 'local' })] },
    { id: 'voucher-e2e', title: 'Check the voucher journey end to end', commands: [make('voucher-e2e').withEnv({ TARGET: 'local' })] },
    statusStep,
  ],
});

runIfMain(import.meta.url, localDeploy);
