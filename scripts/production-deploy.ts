// make production-deploy: the one command that ships. Preflight, lock, back up the state, plan,
// show what will change, confirm, apply, back up the databases, apply least privilege inside
// PostgreSQL, migrate, push Supabase migrations, route traffic to the
// new revisions, write the outputs, verify. If verification fails, traffic goes back to the
// revisions that were serving before, automatically. The lock is released whatever happens.

import { make } from './lib/cli.ts';
import { listServices, parseServiceList, perService, trafficSpec, type TrafficTarget } from './lib/cloud-run.ts';
import { runIfMain } from './lib/engine.ts';
import { releaseLockStep, takeLockStep } from './lib/deploy-lock.ts';
import { planHasChanges, planReviewApplySteps, routeLatestStep, verifyStep } from './lib/apply-steps.ts';
import { gitCommit, GIT_COMMIT, repoInfra, uncommittedChanges, UNCOMMITTED } from './lib/infra.ts';
import { IDENTITY_MODE_PARAM, keepIdentityModeStep, readDeployedMode } from './lib/identity-mode.ts';
import { migrationJobs } from './lib/migrations.ts';
import { databaseMode, runAccessJob } from './lib/cloud-sql.ts';
import { writeDeploymentOutputs } from './lib/outputs.ts';
import { defineRunbook, StepFailure, type Step } from './lib/runbook.ts';
import { renderTable } from './lib/table.ts';
import { pendingMigrations, pushMigrations, parsePending } from './production-supabase.ts';


/** Pin every existing service's traffic to what serves now, so apply starts new revisions idle. */
const pinTrafficStep: Step = {
  id: 'pin-traffic',
  title: 'Pin traffic to the revisions serving now',
  commands: perService.map((p) => p.routeTo),
  skipIf: (ctx) => (planHasChanges(ctx) ? null : 'nothing to apply'),
  async run(ctx) {
    const before = ctx.state.get('trafficBefore') as Map<string, TrafficTarget[]>;
    const pinned = perService.filter((p) => before.get(p.service.name)?.length);
    for (const p of pinned) ctx.setValue(p.target, trafficSpec(before.get(p.service.name)!));
    await ctx.runConcurrently(pinned.map((p) => p.routeTo));
    return { note: `${pinned.length} services pinned` };
  },
};

export const deploySteps: Step[] = [
  { id: 'preflight', title: 'Preflight', commands: [make('preflight')] },
  {
    id: 'commit',
    title: 'Deploy only committed configuration',
    commands: [uncommittedChanges, gitCommit],
    async run(ctx) {
      await ctx.run(uncommittedChanges);
      const dirty = ctx.value(UNCOMMITTED);
      if (dirty) {
        throw new StepFailure(
          `uncommitted changes in the configuration; commit them first, so the state backup records the commit that produced it and a rollback can re-apply it:\n${dirty}`,
        );
      }
      await ctx.run(gitCommit);
      return { note: ctx.value(GIT_COMMIT).slice(0, 12) };
    },
  },
  takeLockStep((v) => `deploying ${v('IMAGE_TAG')}`),
  { id: 'backup', title: 'Back up the state', commands: [make('production-backup-state')] },
  { id: 'tofu-init', title: 'Initialise OpenTofu with the state bucket', commands: [repoInfra.init] },
  keepIdentityModeStep(readDeployedMode(repoInfra.outputRaw)),
  {
    id: 'record-revisions',
    title: 'Record the revisions serving now',
    commands: [listServices],
    async run(ctx) {
      const live = parseServiceList((await ctx.run(listServices)).stdout);
      const before = new Map<string, TrafficTarget[]>();
      for (const p of perService) {
        const status = live.get(p.service.name);
        if (status) before.set(p.service.name, status.traffic);
      }
      ctx.state.set('trafficBefore', before);
      return { note: `${before.size} of ${perService.length} services exist` };
    },
  },
  ...planReviewApplySteps(repoInfra, 'Apply this plan to production?').flatMap((step) =>
    // New revisions must not take traffic before the migrations ran: pin it first.
    step.id === 'apply' ? [pinTrafficStep, step] : [step],
  ),
  {
    id: 'db-backup',
    title: 'Back up the application databases before migrating them',
    commands: [make('production-db-backup')],
    requires: ['DATABASE_MODE'],
    skipIf: (ctx) => (databaseMode(ctx) === 'external' ? 'DATABASE_MODE=external: the databases are backed up where they live' : null),
  },
  {
    id: 'db-access',
    title: 'Apply least privilege inside PostgreSQL',
    commands: [runAccessJob],
    requires: ['DATABASE_MODE'],
    skipIf: (ctx) => (databaseMode(ctx) === 'external' ? 'DATABASE_MODE=external' : null),
  },
  {
    id: 'migrate',
    title: 'Run the database migrations',
    commands: migrationJobs.map((j) => j.execute),
    async run(ctx) {
      await ctx.runConcurrently(migrationJobs.map((j) => j.execute));
      return { note: `${migrationJobs.length} databases` };
    },
  },
  {
    id: 'supabase',
    title: 'Push the Supabase migrations',
    commands: [pendingMigrations, pushMigrations],
    async run(ctx) {
      const pending = parsePending(await ctx.run(pendingMigrations));
      if (pending.length === 0) return { note: 'up to date' };
      ctx.print(`Pending Supabase migrations:\n${pending.map((m) => `  ${m}`).join('\n')}`);
      await ctx.run(pushMigrations);
      return { note: `${pending.length} pushed` };
    },
  },
  routeLatestStep,
  {
    id: 'outputs',
    title: 'Write the outputs',
    commands: [repoInfra.output],
    async run(ctx) {
      const r = await ctx.run(repoInfra.output);
      ctx.print(writeDeploymentOutputs(r.stdout, ctx.config));
    },
  },
  verifyStep,
  {
    id: 'auto-rollback',
    title: 'If verification failed, route traffic back',
    commands: perService.map((p) => p.routeTo),
    always: true,
    skipIf: (ctx) => (ctx.state.get('verifyFailed') ? null : 'verification did not fail'),
    async run(ctx) {
      const before = (ctx.state.get('trafficBefore') as Map<string, TrafficTarget[]> | undefined) ?? new Map();
      const rows: string[][] = [];
      const jobs: Promise<unknown>[] = [];
      for (const p of perService) {
        const previous = before.get(p.service.name);
        if (!previous?.length) {
          rows.push([p.service.name, '-', 'not rolled back: it did not exist before this deploy']);
          continue;
        }
        ctx.setValue(p.target, trafficSpec(previous));
        const row = [p.service.name, trafficSpec(previous), ''];
        rows.push(row);
        jobs.push(
          ctx.run(p.routeTo).then(
            () => (row[2] = 'rolled back'),
            () => (row[2] = 'FAILED to roll back'),
          ),
        );
      }
      await Promise.all(jobs);
      ctx.print(
        `${renderTable(['service', 'traffic back to', 'result'], rows)}\n` +
          'Only Cloud Run traffic was rolled back. The applied infrastructure and the migrations stay; to re-apply the\n' +
          'previous configuration, run `make production-rollback` with the backup this deploy took (`make production-backups`).',
      );
      if (rows.some((r) => r[2]!.startsWith('FAILED'))) throw new StepFailure('some services could not be rolled back (table above)');
      return { status: 'warn', note: 'traffic rolled back' };
    },
  },
  releaseLockStep,
];

export const deploy = defineRunbook({
  id: 'deploy',
  title: 'Deploy',
  make: 'production-deploy',
  requires: ['IMAGE_TAG', 'SUPABASE_DB_PASSWORD'],
  params: [IDENTITY_MODE_PARAM],
  steps: deploySteps,
});

runIfMain(import.meta.url, deploy);
