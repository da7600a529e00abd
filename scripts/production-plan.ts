// make production-plan: does production match the code? A read-only plan against the live state:
// no deploy lock, no state backup, no apply, and no state lock either (read-only credentials
// cannot take it). It plans with the image tag and commit production runs, so a release waiting
// to be deployed is not reported as drift. Exit 0 in sync, 2 when production differs, 1 when the
// plan itself failed.

import { runtimeVar } from './lib/command.ts';
import { tofu } from './lib/cli.ts';
import { runIfMain } from './lib/engine.ts';
import { PROJECT_ID, REGION } from './lib/gcp.ts';
import { INFRA_DIR, planEnv, repoInfra, TFVARS_FILE } from './lib/infra.ts';
import { keepIdentityModeStep, readDeployedMode } from './lib/identity-mode.ts';
import { describeDrift, summarizeDrift } from './lib/drift.ts';
import { defineRunbook, DriftFound, StepFailure } from './lib/runbook.ts';

const DRIFT_PLAN_FILE = 'drift.tfplan';
const DEPLOYED_IMAGE_TAG = runtimeVar('DEPLOYED_IMAGE_TAG');
const DEPLOYED_COMMIT = runtimeVar('DEPLOYED_COMMIT');

const readImageTag = tofu`-chdir=${INFRA_DIR} output -raw image_tag`.captureInto(DEPLOYED_IMAGE_TAG);
const readCommit = tofu`-chdir=${INFRA_DIR} output -raw deployed_commit`.captureInto(DEPLOYED_COMMIT);
const plan = tofu`-chdir=${INFRA_DIR} plan -input=false -lock=false -detailed-exitcode -var-file=${TFVARS_FILE} -var=project_id=${PROJECT_ID} -var=region=${REGION} -var=image_tag=${DEPLOYED_IMAGE_TAG} -var=git_commit=${DEPLOYED_COMMIT} -out=${DRIFT_PLAN_FILE}`
  .withEnv(planEnv)
  .allowExitCodes(2);
const show = tofu`-chdir=${INFRA_DIR} show -json ${DRIFT_PLAN_FILE}`.withoutLoggingStdout();

export const productionPlan = defineRunbook({
  id: 'plan',
  title: 'Compare production with the code',
  make: 'production-plan',
  steps: [
    { id: 'tofu-init', title: 'Initialise OpenTofu with the state bucket', commands: [repoInfra.init] },
    {
      id: 'deployed',
      title: 'Read the image tag and commit production runs',
      commands: [readImageTag, readCommit],
      async run(ctx) {
        for (const c of [readImageTag, readCommit]) await ctx.run(c);
        const tag = ctx.value(DEPLOYED_IMAGE_TAG);
        if (!tag) throw new StepFailure('the state has no image_tag output: production was never deployed from this configuration; run make production-deploy');
        return { note: `${tag} (${ctx.value(DEPLOYED_COMMIT).slice(0, 12) || 'commit unknown'})` };
      },
    },
    keepIdentityModeStep(readDeployedMode(repoInfra.outputRaw)),
    {
      id: 'plan',
      title: 'Plan against the live state, without the lock',
      commands: [plan],
      async run(ctx) {
        const r = await ctx.run(plan);
        ctx.state.set('drifted', r.exitCode === 2);
        if (r.exitCode === 0 && ctx.json) ctx.emitJson({ drifted: false, resources: [], outputs: [] });
        return { note: r.exitCode === 2 ? 'differences found' : 'no differences' };
      },
    },
    {
      id: 'summary',
      title: 'Summarise what differs, by resource',
      commands: [show],
      skipIf: (ctx) => (ctx.state.get('drifted') ? null : 'production matches the code'),
      async run(ctx) {
        const summary = summarizeDrift((await ctx.run(show)).stdout);
        if (ctx.json) ctx.emitJson({ drifted: true, ...summary });
        else ctx.print(describeDrift(summary));
        throw new DriftFound(`production differs from the code in ${summary.resources.length} resource${summary.resources.length === 1 ? '' : 's'} (listed above)`);
      },
    },
  ],
});

runIfMain(import.meta.url, productionPlan);
