// Each rule holds for the real workflows, and each breaks when a copy of a workflow is changed
// the way a careless edit would change it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCatalog, type Catalog } from '../../scripts/lib/catalog.ts';
import { loadWorkflows, mutate, parseWorkflow, type Doc } from './helpers.ts';
import { RULES, type Workflows } from './rules.ts';

const real = loadWorkflows();
const catalog = loadCatalog();

type Breakage = [what: string, workflows: Workflows, catalog?: Catalog];

function withDoc(file: string, change: (doc: Doc) => void): Workflows {
  const copy = new Map(real);
  copy.set(file, mutate(real.get(file)!, change));
  return copy;
}

function withText(file: string, change: (text: string) => string): Workflows {
  const original = real.get(file)!;
  const text = change(original.text);
  assert.notEqual(text, original.text, `the text change to ${file} did not apply`);
  const copy = new Map(real);
  copy.set(file, parseWorkflow(file, text));
  return copy;
}

function without(file: string): Workflows {
  const copy = new Map(real);
  copy.delete(file);
  return copy;
}

const step = (doc: Doc, job: string, name: string): Doc => doc.jobs[job].steps.find((s: Doc) => s.name === name);
const CHECKOUT_SHA = '3d3c42e5aac5ba805825da76410c181273ba90b1';

const BREAKAGES: Record<keyof typeof RULES, Breakage[]> = {
  'deploy.yml runs on pushed v* tags and nothing else': [
    ['a pull_request trigger added', withDoc('deploy.yml', (d) => (d.on.pull_request = {}))],
    ['pushes to main also deploy', withDoc('deploy.yml', (d) => (d.on.push.branches = ['main']))],
    ['every tag deploys', withDoc('deploy.yml', (d) => (d.on.push.tags = ['*']))],
    ['a manual trigger added', withDoc('deploy.yml', (d) => (d.on.workflow_dispatch = null))],
  ],
  'every job that deploys waits for approval in the production environment': [
    ['the deploy job lost its environment', withDoc('deploy.yml', (d) => delete d.jobs.deploy.environment)],
    ['the rollback job runs in another environment', withDoc('rollback.yml', (d) => (d.jobs.rollback.environment = { name: 'staging' }))],
    ['a new job in ci.yml deploys', withDoc('ci.yml', (d) => (d.jobs.ship = { 'runs-on': 'ubuntu-24.04', permissions: {}, steps: [{ run: 'make production-deploy YES=1' }] }))],
    ['the build job gets credentials', withDoc('deploy.yml', (d) => (d.jobs.build.permissions['id-token'] = 'write'))],
    ['the deploy job no longer deploys', withDoc('deploy.yml', (d) => (step(d, 'deploy', 'Deploy').run = 'echo skipped'))],
  ],
  'a job that authenticates to Google installs its dependencies first': [
    ['the deploy job installs after authenticating', withDoc('deploy.yml', (d) => {
      const steps = d.jobs.deploy.steps as Doc[];
      const install = steps.findIndex((s) => s.name === 'Install');
      const [moved] = steps.splice(install, 1);
      steps.splice(steps.findIndex((s) => s.name === 'Deploy'), 0, moved!);
    })],
    ['the drift check runs npm ci after authenticating', withDoc('drift.yml', (d) => (d.jobs[Object.keys(d.jobs)[0]!].steps as Doc[]).push({ name: 'More packages', run: 'npm ci' }))],
  ],
  'the tests in deploy.yml report without blocking the deploy': [
    ['the tests job can fail the run', withDoc('deploy.yml', (d) => delete d.jobs.tests['continue-on-error'])],
    ['the deploy waits for the tests', withDoc('deploy.yml', (d) => d.jobs.deploy.needs.push('tests'))],
    ['the deploy waits for the tests through another job', withDoc('deploy.yml', (d) => (d.jobs.build.needs = ['changes', 'tests']))],
    ['the test step stops the job', withDoc('deploy.yml', (d) => delete step(d, 'tests', 'Test')['continue-on-error'])],
    ['no summary of the results', withDoc('deploy.yml', (d) => (d.jobs.tests.steps = d.jobs.tests.steps.filter((s: Doc) => s.name !== 'Summarise the results')))],
    ['no tests at all', withDoc('deploy.yml', (d) => delete d.jobs.tests)],
  ],
  'Google Cloud is reached through Workload Identity Federation, never a key': [
    [
      'a service-account key',
      withDoc('deploy.yml', (d) => {
        const auth = step(d, 'deploy', 'Authenticate to Google Cloud as the deployer');
        auth.with = { credentials_json: '${{ secrets.GCP_SA_KEY }}' };
      }),
    ],
    ['a literal account instead of a variable', withDoc('rollback.yml', (d) => (step(d, 'rollback', 'Authenticate to Google Cloud as the deployer').with.service_account = 'deployer@mm-prod.iam.gserviceaccount.com'))],
    ['no id-token permission', withDoc('deploy.yml', (d) => delete d.jobs.deploy.permissions['id-token'])],
    ['gcloud logs in with a key file', withDoc('deploy.yml', (d) => d.jobs.deploy.steps.splice(1, 0, { name: 'key', run: 'gcloud auth activate-service-account --key-file key.json' }))],
    ['a credentials file set in env', withDoc('rollback.yml', (d) => (d.jobs.rollback.env.GOOGLE_APPLICATION_CREDENTIALS = 'key.json'))],
  ],
  'third-party actions are pinned to a recorded release commit, with its version in a comment': [
    ['a tag instead of a SHA', withText('ci.yml', (t) => t.replace(`actions/checkout@${CHECKOUT_SHA} # v7.0.1`, 'actions/checkout@v7'))],
    ['a SHA that is not the release', withText('deploy.yml', (t) => t.replace(`actions/checkout@${CHECKOUT_SHA}`, `actions/checkout@${CHECKOUT_SHA.slice(0, -1)}0`))],
    ['no version comment', withText('secret-scan.yml', (t) => t.replace(' # v3.97.0', ''))],
    ['the wrong version in the comment', withText('rollback.yml', (t) => t.replace('# v2.0.2', '# v2.0.1'))],
    ['an action nobody recorded', withText('ci.yml', (t) => t.replace('run: make typecheck', `uses: someone/lint-action@${'a'.repeat(40)} # v1.0.0`))],
    ['an input the action does not have', withDoc('ci.yml', (d) => (d.jobs.test.steps[0].with.depth = 1))],
    ['a required input missing', withDoc('deploy.yml', (d) => delete step(d, 'changes', 'Match the changed files against the service catalog').with.filters)],
  ],
  'permissions are none by default and the least each job uses': [
    ['default permissions at the top', withDoc('ci.yml', (d) => delete d.permissions)],
    ['write-all at the top', withDoc('deploy.yml', (d) => (d.permissions = 'write-all'))],
    ['a job without its own permissions', withDoc('deploy.yml', (d) => delete d.jobs.changes.permissions)],
    ['contents: write', withDoc('secret-scan.yml', (d) => (d.jobs.trufflehog.permissions.contents = 'write'))],
    ['a grant the job never uses', withDoc('ci.yml', (d) => (d.jobs.test.permissions.actions = 'read'))],
    ['pull-requests: write', withDoc('rollback.yml', (d) => (d.jobs.validate.permissions['pull-requests'] = 'write'))],
  ],
  'no secret value in any workflow, and secrets reach only the steps that use them': [
    ['a Supabase token written into the file', withText('deploy.yml', (t) => t.replace("SUPABASE_ACCESS_TOKEN: ${{ secrets.SUPABASE_ACCESS_TOKEN }}", `SUPABASE_ACCESS_TOKEN: sbp_${'0123456789abcdef'.repeat(2)}01234567`))],
    ['a private key', withText('rollback.yml', (t) => `${t}\n# -----BEGIN PRIVATE KEY-----\n`)],
    ['a database URL with its password', withText('ci.yml', (t) => t.replace('POSTGRES_DB: test', 'POSTGRES_DB: test\n          DATABASE_URL: postgres://app:hunter2@db.internal/app'))],
    ['a secret for the whole job', withDoc('deploy.yml', (d) => (d.jobs.deploy.env.SUPABASE_DB_PASSWORD = '${{ secrets.SUPABASE_DB_PASSWORD }}'))],
    ['a secret handed to a third-party action', withDoc('deploy.yml', (d) => (step(d, 'build', 'Scan the image').with['github-pat'] = '${{ secrets.SUPABASE_ACCESS_TOKEN }}'))],
    ['a secret pasted into a script', withDoc('rollback.yml', (d) => (step(d, 'rollback', 'Roll back').run = 'echo ${{ secrets.SUPABASE_DB_PASSWORD }}'))],
  ],
  'run scripts take values from env, never from ${{ }} expressions': [
    ['the tag pasted into a script', withDoc('deploy.yml', (d) => (step(d, 'deploy', 'Deploy').run = 'make production-deploy YES=1 IMAGE_TAG=${{ github.ref_name }}'))],
    ['an input pasted into a script', withDoc('rollback.yml', (d) => (step(d, 'validate', 'Check the inputs').run = 'echo "${{ inputs.reason }}"'))],
    ['no bash default', withDoc('ci.yml', (d) => delete d.defaults)],
  ],
  'one change to production at a time': [
    ['the deploy job runs alongside others', withDoc('deploy.yml', (d) => delete d.jobs.deploy.concurrency)],
    ['a rollback cancels a running deploy', withDoc('rollback.yml', (d) => (d.jobs.rollback.concurrency['cancel-in-progress'] = true))],
    ['deploys and rollbacks in different groups', withDoc('rollback.yml', (d) => (d.jobs.rollback.concurrency.group = 'rollback'))],
  ],
  'the service lists in the workflows are the catalog': [
    ['a service missing from the filters', withText('deploy.yml', (t) => t.replace(/ {12}gateway:\n(?: {14}- .*\n)+/, ''))],
    ['shared code missing from a filter', withText('deploy.yml', (t) => t.replace("              - 'habits_service/**'\n              - 'src/shared/**'  # shared code python-shared\n", "              - 'habits_service/**'\n"))],
    ['a wrong image name', withText('deploy.yml', (t) => t.replace('"image": "mesh-gateway"', '"image": "gateway"'))],
    ['a service missing from the rollback choice', withText('rollback.yml', (t) => t.replace('          - meals-service\n', ''))],
    [
      'a service added to the catalog only',
      real,
      {
        ...catalog,
        services: [...catalog.services, { ...catalog.services[1]!, name: 'reports-service', image: 'reports-service', dockerfile: 'reports_service/Dockerfile', paths: ['reports_service/**'] }],
      },
    ],
  ],
  'deploy.yml builds and scans before the approved deploy runs make production-deploy with the tag': [
    ['the deploy ignores the tag', withDoc('deploy.yml', (d) => (step(d, 'deploy', 'Deploy').run = 'make production-deploy YES=1 IMAGE_TAG=latest'))],
    ['the tag comes from the commit', withDoc('deploy.yml', (d) => (d.jobs.deploy.env.RELEASE_TAG = '${{ github.sha }}'))],
    ['the deploy does not wait for the build', withDoc('deploy.yml', (d) => (d.jobs.deploy.needs = ['changes']))],
    ['only HIGH is scanned for', withDoc('deploy.yml', (d) => (step(d, 'build', 'Scan the image').with.severity = 'HIGH'))],
    ['the gate does not fail', withDoc('deploy.yml', (d) => (step(d, 'build', 'Block the release on CRITICAL vulnerabilities').run = 'echo "CRITICAL findings above"'))],
    ['the deploy runs after a failed build', withDoc('deploy.yml', (d) => (d.jobs.deploy.if = 'always()'))],
    ['a blocked build does not fail', withDoc('deploy.yml', (d) => (d.jobs.build['continue-on-error'] = true))],
    [
      'auth after the deploy',
      withDoc('deploy.yml', (d) => {
        const steps: Doc[] = d.jobs.deploy.steps;
        const auth = steps.findIndex((s) => s.name === 'Authenticate to Google Cloud as the deployer');
        steps.push(...steps.splice(auth, 1));
      }),
    ],
  ],
  'rollback.yml is started by hand and runs the rollback targets': [
    ['it runs on push', withDoc('rollback.yml', (d) => (d.on.push = { branches: ['main'] }))],
    ['no backup input', withDoc('rollback.yml', (d) => delete d.on.workflow_dispatch.inputs.backup)],
    ['no state rollback', withDoc('rollback.yml', (d) => (step(d, 'rollback', 'Roll back').run = step(d, 'rollback', 'Roll back').run.replace('make production-rollback YES=1 BACKUP="$BACKUP"', 'true')))],
    ['the inputs are not checked first', withDoc('rollback.yml', (d) => delete d.jobs.rollback.needs)],
  ],
  'ci.yml runs install, type check and the full suite on pull requests and main': [
    ['no tests', withDoc('ci.yml', (d) => (d.jobs.test.steps = d.jobs.test.steps.filter((s: Doc) => s.run !== 'make test')))],
    ['no Redis', withDoc('ci.yml', (d) => delete d.jobs.test.services.redis)],
    ['not on pull requests', withDoc('ci.yml', (d) => delete d.on.pull_request)],
    ['failing tests pass', withDoc('ci.yml', (d) => (d.jobs.test.steps.find((s: Doc) => s.run === 'make test')['continue-on-error'] = true))],
  ],
  'every pull request is scanned for secrets': [
    ['no secret scan', without('secret-scan.yml')],
    ['a shallow clone', withDoc('secret-scan.yml', (d) => (d.jobs.trufflehog.steps[0].with['fetch-depth'] = 1))],
    ['only pushes are scanned', withDoc('secret-scan.yml', (d) => delete d.on.pull_request)],
  ],
};

for (const [name, rule] of Object.entries(RULES)) {
  test(`rule holds: ${name}`, () => {
    assert.deepEqual(rule(real, catalog), []);
  });

  test(`rule fails when broken: ${name}`, () => {
    const breakages = BREAKAGES[name]!;
    assert.ok(breakages.length > 0, 'every rule has fixtures that break it');
    for (const [what, workflows, brokenCatalog] of breakages) {
      const problems = rule(workflows, brokenCatalog ?? catalog);
      assert.ok(problems.length > 0, `not detected: ${what}`);
    }
  });
}
