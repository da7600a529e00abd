// make production-bootstrap: once per project, and safe to run again. Everything needed before
// OpenTofu's first run: the APIs, the state bucket with versioning (state recovery depends on
// it), uniform access and public access prevention, Secret Manager's service agent (it
// publishes rotation reminders), and the image repository CI pushes the first release to. OpenTofu adopts the bucket and the repository (import blocks) and keeps
// their settings as code from then on.

import { gcloud } from './lib/cli.ts';
import { runIfMain } from './lib/engine.ts';
import { ARTIFACT_REPOSITORY, PROJECT_ID, REGION, REQUIRED_APIS, STATE_BUCKET } from './lib/gcp.ts';
import { defineRunbook, StepFailure } from './lib/runbook.ts';

const project = gcloud`projects describe ${PROJECT_ID} --format=${'value(projectId,lifecycleState)'}`;
const enableApis = gcloud`services enable ${[...REQUIRED_APIS]} --project ${PROJECT_ID}`.liveOutput();
// Secret Manager's service agent publishes rotation reminders; it exists only once asked for
// (idempotent: an existing agent is returned as it is).
const secretManagerAgent = gcloud`beta services identity create --service=secretmanager.googleapis.com --project ${PROJECT_ID}`;
const bucketExists = gcloud`storage buckets describe gs://${STATE_BUCKET} --format=${'value(name)'}`.allowExitCodes(1);
const createBucket = gcloud`storage buckets create gs://${STATE_BUCKET} --project ${PROJECT_ID} --location ${REGION} --uniform-bucket-level-access --public-access-prevention`;
const bucketSettings = gcloud`storage buckets update gs://${STATE_BUCKET} --versioning --uniform-bucket-level-access --public-access-prevention`;
const bucketCheck = gcloud`storage buckets describe gs://${STATE_BUCKET} --format=json`;
const registryExists = gcloud`artifacts repositories describe ${ARTIFACT_REPOSITORY} --location ${REGION} --project ${PROJECT_ID} --format=${'value(name)'}`.allowExitCodes(1);
const createRegistry = gcloud`artifacts repositories create ${ARTIFACT_REPOSITORY} --repository-format=docker --location ${REGION} --project ${PROJECT_ID}`;

export const bootstrap = defineRunbook({
  id: 'bootstrap',
  title: 'Bootstrap the project',
  make: 'production-bootstrap',
  steps: [
    {
      id: 'project',
      title: 'The project exists and is reachable',
      commands: [project],
      async run(ctx) {
        const [id, state] = (await ctx.run(project)).stdout.trim().split(/\s+/);
        if (state !== 'ACTIVE') throw new StepFailure(`project ${id} is ${state ?? 'in an unknown state'}, not ACTIVE`);
      },
    },
    { id: 'apis', title: 'Enable the required APIs', commands: [enableApis] },
    { id: 'secret-manager-agent', title: 'Create Secret Manager’s service agent', commands: [secretManagerAgent] },
    {
      id: 'state-bucket',
      title: 'Create the state bucket if it does not exist',
      commands: [bucketExists, createBucket],
      async run(ctx) {
        if ((await ctx.run(bucketExists)).exitCode === 0) return { note: 'exists' };
        await ctx.run(createBucket);
        return { note: 'created' };
      },
    },
    { id: 'bucket-settings', title: 'Turn on versioning and lock down access', commands: [bucketSettings] },
    {
      id: 'check',
      title: 'Check the bucket settings',
      commands: [bucketCheck],
      async run(ctx) {
        const b = JSON.parse((await ctx.run(bucketCheck)).stdout) as Record<string, unknown>;
        const wrong = [
          b.versioning_enabled !== true && 'versioning is off',
          b.uniform_bucket_level_access !== true && 'uniform bucket-level access is off',
          b.public_access_prevention !== 'enforced' && 'public access prevention is not enforced',
        ].filter(Boolean);
        if (wrong.length) throw new StepFailure(`the state bucket is not as it must be: ${wrong.join(', ')}`);
        return { note: 'versioned, uniform access, no public access' };
      },
    },
    {
      id: 'registry',
      title: 'Create the image repository if it does not exist',
      commands: [registryExists, createRegistry],
      async run(ctx) {
        if ((await ctx.run(registryExists)).exitCode === 0) return { note: 'exists' };
        await ctx.run(createRegistry);
        return { note: 'created' };
      },
    },
  ],
});

runIfMain(import.meta.url, bootstrap);
