// The steps a deploy and a rollback share: plan, review, apply, route traffic to the new
// revisions, verify. Built for a given configuration (the repository's, or a worktree's).

import { make } from './cli.ts';
import { perService } from './cloud-run.ts';
import { estimateMonthlyCost, formatEstimate, loadPriceTable } from './cost.ts';
import { formatPlanSummary, summarizePlan, type InfraCommands } from './infra.ts';
import { sourceOf } from './paths.ts';

import type { Step, StepContext } from './runbook.ts';

/** Whether the plan found anything to apply (plan -detailed-exitcode answered 2). */
export const planHasChanges = (ctx: StepContext) => ctx.state.get('planExitCode') === 2;

export function planReviewApplySteps(infra: InfraCommands, question: string): Step[] {
  return [
    {
      id: 'plan',
      code: sourceOf(import.meta.url),
      title: 'Plan',
      commands: [infra.plan],
      async run(ctx) {
        const r = await ctx.run(infra.plan);
        ctx.state.set('planExitCode', r.exitCode);
        return r.exitCode === 0 ? { note: 'no changes: nothing to apply' } : { note: 'changes to apply' };
      },
    },
    {
      id: 'review',
      code: sourceOf(import.meta.url),
      title: 'Review the plan and its cost',
      commands: [infra.show],
      skipIf: (ctx) => (planHasChanges(ctx) ? null : 'nothing to apply'),
      async run(ctx) {
        const planJson = (await ctx.run(infra.show)).stdout;
        ctx.print(formatPlanSummary(summarizePlan(planJson)));
        ctx.print(`\nMonthly cost estimate of the result:\n${formatEstimate(estimateMonthlyCost(JSON.parse(planJson), loadPriceTable()))}`);
      },
    },
    {
      id: 'apply',
      code: sourceOf(import.meta.url),
      title: 'Apply the plan',
      commands: [infra.apply],
      confirm: question,
      skipIf: (ctx) => (planHasChanges(ctx) ? null : 'nothing to apply'),
    },
  ];
}

export const routeLatestStep: Step = {
  id: 'route-latest',
  code: sourceOf(import.meta.url),
  title: 'Route traffic to the latest revisions',
  commands: perService.map((p) => p.routeToLatest),
  async run(ctx) {
    await ctx.runConcurrently(perService.map((p) => p.routeToLatest));
  },
};

const verifyCommand = make('production-verify');

/** Verification as its own runbook, so a person can run exactly the same checks by hand. */
export const verifyStep: Step = {
  id: 'verify',
  code: sourceOf(import.meta.url),
  title: 'Verify',
  commands: [verifyCommand],
  async run(ctx) {
    try {
      await ctx.run(verifyCommand);
    } catch (error) {
      ctx.state.set('verifyFailed', true);
      throw error;
    }
  },
};
