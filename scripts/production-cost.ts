// make production-cost: what production will cost a month once the configuration checked out is
// applied, from the plan and the dated price table in infra/pricing/. Changes nothing.

import { estimateMonthlyCost, formatEstimate, loadPriceTable } from './lib/cost.ts';
import { runIfMain } from './lib/engine.ts';
import { keepIdentityModeStep, readDeployedMode } from './lib/identity-mode.ts';
import { gitCommit, repoInfra } from './lib/infra.ts';
import { defineRunbook } from './lib/runbook.ts';

export const cost = defineRunbook({
  id: 'cost',
  title: 'Estimate the monthly cost',
  make: 'production-cost',
  steps: [
    { id: 'tofu-init', title: 'Initialise OpenTofu with the state bucket', commands: [repoInfra.init] },
    keepIdentityModeStep(readDeployedMode(repoInfra.outputRaw)),
    { id: 'commit', title: 'Record the commit checked out', commands: [gitCommit] },
    { id: 'plan', title: 'Plan', commands: [repoInfra.plan] },
    {
      id: 'estimate',
      title: 'Price the planned production',
      commands: [repoInfra.show],
      async run(ctx) {
        const estimate = estimateMonthlyCost(JSON.parse((await ctx.run(repoInfra.show)).stdout), loadPriceTable());
        ctx.print(formatEstimate(estimate));
        return { note: `${estimate.total.toFixed(2)} ${estimate.currency}/month` };
      },
    },
  ],
});

runIfMain(import.meta.url, cost);
