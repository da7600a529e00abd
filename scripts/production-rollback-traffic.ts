// make production-rollback-traffic: the fast path back. Every service's traffic goes to its
// previous ready revision (or SERVICE=<name> REVISION=<revision> for one), all at once.
// Nothing is rebuilt or re-applied; `--to-latest` undoes it (see the runbook). It holds the
// deploy lock while it looks and moves, so it never moves traffic while a deploy does (a deploy
// pins and re-routes traffic itself); inside make production-rollback it uses that run's lock.

import type { Command } from './lib/command.ts';
import { listRevisions, listServices, parseRevisionList, parseServiceList, perService, previousReadyRevision, services, trafficSpec, type ServiceCommands } from './lib/cloud-run.ts';
import { DEPLOY_LOCK_HELD, releaseLockStep, takeLockStep } from './lib/deploy-lock.ts';
import { runIfMain } from './lib/engine.ts';
import { defineRunbook, StepFailure, type StepContext } from './lib/runbook.ts';
import { renderTable } from './lib/table.ts';

interface Plan {
  commands: ServiceCommands;
  from: string;
  to: string | null;
  reason?: string;
}

async function planRollback(ctx: StepContext): Promise<Plan[]> {
  const only = ctx.config.get('SERVICE');
  const chosen = perService.filter((p) => !only || p.service.name === only);
  const [servicesListed, revisionsListed] = await ctx.runConcurrently([listServices, listRevisions]);
  const live = parseServiceList(servicesListed!.stdout);
  const history = parseRevisionList(revisionsListed!.stdout);
  return chosen.map((commands) => {
    const status = live.get(commands.service.name);
    if (!status) return { commands, from: '-', to: null, reason: 'service not found' };
    const revisions = history.get(commands.service.name) ?? [];
    const from = trafficSpec(status.traffic) || '-';
    const wanted = only ? ctx.config.get('REVISION') : undefined;
    if (wanted) {
      const revision = revisions.find((r) => r.name === wanted);
      if (!revision) throw new StepFailure(`${commands.service.name} has no revision ${wanted}; its revisions are: ${revisions.map((r) => r.name).join(', ')}`);
      if (!revision.ready) throw new StepFailure(`${wanted} is not ready, so it cannot serve traffic`);
      return { commands, from, to: wanted };
    }
    const to = previousReadyRevision(status, revisions);
    return to ? { commands, from, to } : { commands, from, to: null, reason: 'no earlier ready revision' };
  });
}

export const rollbackTraffic = defineRunbook({
  id: 'rollback-traffic',
  title: 'Roll traffic back',
  make: 'production-rollback-traffic',
  params: [
    {
      name: 'SERVICE',
      description: 'Roll back only this service (a name from services.yaml); all services when unset.',
      example: '',
      check: (v) => (services.some((s) => s.name === v) ? null : `expected one of ${services.map((s) => s.name).join(', ')}`),
    },
    {
      name: 'REVISION',
      description: 'With SERVICE: the revision to route all its traffic to; by default its previous ready revision.',
      example: '',
      check: (v) => (/^[a-z][a-z0-9-]{0,62}$/.test(v) ? null : 'expected a Cloud Run revision name such as users-service-00042-abc'),
    },
    DEPLOY_LOCK_HELD,
  ],
  steps: [
    // Before the revisions are read: what serves must not change between the look and the move.
    takeLockStep((v) => `rolling traffic back${v('SERVICE') ? ` for ${v('SERVICE')}` : ''}`, { joinable: true }),
    {
      id: 'find',
      title: 'Find each service’s previous ready revision',
      commands: [listServices, listRevisions],
      async run(ctx) {
        if (ctx.config.get('REVISION') && !ctx.config.get('SERVICE')) throw new StepFailure('REVISION needs SERVICE: name the service the revision belongs to');
        const plans = await planRollback(ctx);
        ctx.state.set('plans', plans);
        ctx.print(renderTable(['service', 'serving now', 'back to'], plans.map((p) => [p.commands.service.name, p.from, p.to ?? `- (${p.reason})`])));
        for (const p of plans) if (p.to) ctx.setValue(p.commands.target, `${p.to}=100`);
        const movable = plans.filter((p) => p.to).length;
        return movable ? { note: `${movable} to roll back` } : { status: 'warn', note: 'nothing to roll back to' };
      },
    },
    {
      id: 'route',
      title: 'Route traffic to those revisions',
      commands: perService.map((p) => p.routeTo),
      confirm: 'Route production traffic back to the revisions above?',
      skipIf: (ctx) => ((ctx.state.get('plans') as Plan[]).some((p) => p.to) ? null : 'no service has an earlier ready revision'),
      async run(ctx) {
        const plans = (ctx.state.get('plans') as Plan[]).filter((p) => p.to);
        const results = await Promise.allSettled(plans.map((p) => ctx.run(p.commands.routeTo as Command)));
        const rows = plans.map((p, i) => [p.commands.service.name, p.to!, results[i]!.status === 'fulfilled' ? 'rolled back' : 'FAILED']);
        ctx.print(renderTable(['service', 'now serving', 'result'], rows));
        const failed = rows.filter((r) => r[2] === 'FAILED').map((r) => r[0]);
        if (failed.length) throw new StepFailure(`traffic was not moved for ${failed.join(', ')}; the others were rolled back`);
        return { note: `${plans.length} rolled back` };
      },
    },
    releaseLockStep,
  ],
});

runIfMain(import.meta.url, rollbackTraffic);
