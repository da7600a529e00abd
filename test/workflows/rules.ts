// The rules the workflows must keep, as functions from the parsed workflows to the list of
// broken rules in words a maintainer can act on. rules.test.ts applies each to the real
// workflows (no problems) and to copies broken on purpose (a problem each).

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Catalog } from '../../scripts/lib/catalog.ts';
import { serviceFilters } from '../../scripts/lib/changed-services.ts';
import { syncWorkflowText } from '../../scripts/lib/workflow-catalog.ts';
import { jobsOf, stepsOf, type Doc, type Workflow } from './helpers.ts';

export type Workflows = ReadonlyMap<string, Workflow>;

interface PinnedAction {
  version: string;
  commit: string;
  inputs: Record<string, 'required' | 'optional'>;
}

export const PINNED: Record<string, PinnedAction> = JSON.parse(readFileSync(new URL('./fixtures/pinned-actions.json', import.meta.url), 'utf8')).actions;

const runs = (job: Doc): string[] => stepsOf(job).flatMap((s) => (typeof s.run === 'string' ? [s.run as string] : []));
const uses = (step: Doc): string => (typeof step.uses === 'string' ? step.uses : '');
const actionOf = (step: Doc): string => uses(step).split('@')[0]!.split('/').slice(0, 2).join('/');
const environmentOf = (job: Doc): string | undefined => (typeof job.environment === 'string' ? job.environment : job.environment?.name);
const authenticates = (job: Doc) => stepsOf(job).some((s) => actionOf(s) === 'google-github-actions/auth');

/** A job that changes production: runs a production make target, or holds cloud credentials. */
export function deploys(job: Doc): boolean {
  return runsProductionTarget(job) || job.permissions?.['id-token'] === 'write' || authenticates(job);
}

/**
 * The daily drift check holds cloud credentials without the approval gate, which is safe only
 * while it is the read-only drift checker running the read-only plan and no production target.
 */
function readOnlyDriftCheck(job: Doc): boolean {
  const auth = stepsOf(job).filter((s) => actionOf(s) === 'google-github-actions/auth');
  return (
    environmentOf(job) === 'drift-check' &&
    auth.length > 0 &&
    auth.every((s) => s.with?.service_account === '${{ vars.DRIFT_SERVICE_ACCOUNT }}') &&
    runs(job).some((r) => r.includes('scripts/production-plan.ts')) &&
    !runsProductionTarget(job)
  );
}

/** A script line that runs a production make target (as a command, not inside a message). */
function runsProductionTarget(job: Doc): boolean {
  return runs(job).some((script) => script.split('\n').some((line) => /^(?:[a-z-]+\)\s*)?make production-/.test(line.trim())));
}

function get(workflows: Workflows, file: string, problems: string[]): Workflow | undefined {
  const wf = workflows.get(file);
  if (!wf) problems.push(`.github/workflows/${file} is missing`);
  return wf;
}

/** Every job of `wf` that `jobId` needs, directly or through other jobs. */
function needsOf(wf: Workflow, jobId: string, seen = new Set<string>()): Set<string> {
  const needs = wf.doc.jobs?.[jobId]?.needs;
  for (const n of (Array.isArray(needs) ? needs : needs ? [needs] : []) as string[]) {
    if (!seen.has(n)) {
      seen.add(n);
      needsOf(wf, n, seen);
    }
  }
  return seen;
}

/** Every string in a document with its path, for rules about where values may appear. */
function strings(value: unknown, path: string[] = []): { path: string[]; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, [...path, String(i)]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, [...path, k]));
  return [];
}

export const RULES: Record<string, (workflows: Workflows, catalog: Catalog) => string[]> = {
  'deploy.yml runs on pushed v* tags and nothing else'(workflows) {
    const problems: string[] = [];
    const wf = get(workflows, 'deploy.yml', problems);
    if (!wf) return problems;
    const on = wf.doc.on as Doc | undefined;
    const events = on && typeof on === 'object' ? Object.keys(on) : [String(on)];
    if (events.length !== 1 || events[0] !== 'push') problems.push(`deploy.yml triggers on ${events.join(', ')}: a deploy must start only from a pushed tag (on.push.tags: ['v*'])`);
    const push = on?.push as Doc | undefined;
    const keys = push && typeof push === 'object' ? Object.keys(push) : [];
    if (keys.length !== 1 || keys[0] !== 'tags') problems.push(`deploy.yml on.push has ${keys.join(', ') || 'no filter'}: only tags, no branches or paths`);
    if (JSON.stringify(push?.tags) !== JSON.stringify(['v*'])) problems.push(`deploy.yml on.push.tags is ${JSON.stringify(push?.tags)}: expected ['v*']`);
    return problems;
  },

  'every job that deploys waits for approval in the production environment'(workflows) {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
      for (const [id, job] of jobsOf(wf)) {
        if (readOnlyDriftCheck(job)) continue;
        if (deploys(job) && environmentOf(job) !== 'production') {
          problems.push(`${wf.file} job ${id} deploys or holds cloud credentials without \`environment: production\`, whose required reviewers are the approval gate`);
        }
      }
    }
    for (const [file, target] of [['deploy.yml', 'production-deploy'], ['rollback.yml', 'production-rollback']] as const) {
      const wf = get(workflows, file, problems);
      if (wf && !jobsOf(wf).some(([, job]) => runs(job).some((r) => r.includes(`make ${target}`)))) problems.push(`${file} has no job that runs make ${target}`);
    }
    return problems;
  },

  'a job that authenticates to Google installs its dependencies first'(workflows) {
    const problems: string[] = [];
    const installs = (s: Doc) => typeof s.run === 'string' && /\b(make install|npm (ci|install)|npx )/.test(s.run);
    for (const wf of workflows.values()) {
      for (const [id, job] of jobsOf(wf)) {
        const steps = stepsOf(job);
        const auth = steps.findIndex((s) => actionOf(s) === 'google-github-actions/auth');
        if (auth < 0) continue;
        steps.forEach((s, i) => {
          if (i > auth && installs(s)) {
            problems.push(`${wf.file} job ${id}: step "${String(s.name ?? s.run)}" installs packages after "${String(steps[auth]!.name)}": install first, so no package's install script runs with a cloud token in the workspace`);
          }
        });
      }
    }
    return problems;
  },

  'the tests in deploy.yml report without blocking the deploy'(workflows) {
    const problems: string[] = [];
    const wf = get(workflows, 'deploy.yml', problems);
    if (!wf) return problems;
    const testJobs = jobsOf(wf).filter(([, job]) => runs(job).some((r) => /\bmake test\b/.test(r)));
    if (!testJobs.length) problems.push('deploy.yml has no job that runs make test');
    for (const [id, job] of testJobs) {
      if (job['continue-on-error'] !== true) problems.push(`deploy.yml job ${id} runs the tests without \`continue-on-error: true\`: a failure would fail the release`);
      const testStep = stepsOf(job).find((s) => typeof s.run === 'string' && /\bmake test\b/.test(s.run));
      if (testStep?.['continue-on-error'] !== true) problems.push(`deploy.yml job ${id}: the make test step needs \`continue-on-error: true\` so the summary after it still runs`);
      if (!stepsOf(job).some((s) => s.if === 'always()' && typeof s.run === 'string' && s.run.includes('GITHUB_STEP_SUMMARY'))) {
        problems.push(`deploy.yml job ${id} does not write the test results to the job summary (a step with if: always())`);
      }
      for (const [other, otherJob] of jobsOf(wf)) {
        if (deploys(otherJob) && needsOf(wf, other).has(id)) problems.push(`deploy.yml job ${other} needs ${id}: the tests must not hold the deploy`);
      }
    }
    return problems;
  },

  'Google Cloud is reached through Workload Identity Federation, never a key'(workflows) {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
      for (const { path, value } of strings(wf.doc)) {
        const secretName = value.match(/secrets\.([A-Za-z0-9_]+)/)?.[1];
        if (secretName && /GCP|GOOGLE|GCLOUD|SERVICE_ACCOUNT|CREDENTIAL|SA_KEY|KEY_JSON/i.test(secretName)) problems.push(`${wf.file} ${path.join('.')}: secret ${secretName} looks like a Google credential; use Workload Identity Federation`);
        if (/activate-service-account|--key-file|--cred-file|GOOGLE_APPLICATION_CREDENTIALS|GOOGLE_CREDENTIALS/.test(value)) problems.push(`${wf.file} ${path.join('.')}: key-based authentication (${value.trim().split('\n')[0]})`);
        const key = path[path.length - 1] ?? '';
        if (path.includes('env') && /^(GOOGLE_APPLICATION_CREDENTIALS|GOOGLE_CREDENTIALS|CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE|GOOGLE_GHA_CREDS_PATH)$/.test(key)) problems.push(`${wf.file} ${path.join('.')}: credentials file set by hand`);
      }
      for (const [id, job] of jobsOf(wf)) {
        for (const step of stepsOf(job).filter((s) => actionOf(s) === 'google-github-actions/auth')) {
          const w = (step.with ?? {}) as Doc;
          if ('credentials_json' in w) problems.push(`${wf.file} job ${id}: auth with credentials_json (a service-account key); use workload_identity_provider`);
          for (const input of ['workload_identity_provider', 'service_account']) {
            if (!/^\$\{\{\s*vars\.[A-Z0-9_]+\s*\}\}$/.test(String(w[input] ?? ''))) problems.push(`${wf.file} job ${id}: auth input ${input} must come from a repository variable (\${{ vars.NAME }}), not "${w[input] ?? ''}"`);
          }
          if (job.permissions?.['id-token'] !== 'write') problems.push(`${wf.file} job ${id} authenticates without \`permissions: id-token: write\`, which Workload Identity Federation needs`);
        }
      }
    }
    return problems;
  },

  'third-party actions are pinned to a recorded release commit, with its version in a comment'(workflows) {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
      wf.text.split('\n').forEach((line, i) => {
        const m = line.match(/^\s*(?:-\s+)?uses:\s*(\S+?)(?:\s+#\s*(.*?))?\s*$/);
        if (!m) return;
        const [, ref, comment] = m;
        const where = `${wf.file}:${i + 1}`;
        if (ref!.startsWith('./')) return;
        const [name, version] = ref!.split('@');
        const repo = name!.split('/').slice(0, 2).join('/');
        if (!/^[0-9a-f]{40}$/.test(version ?? '')) {
          problems.push(`${where}: ${ref} is not pinned to a full commit SHA (a tag can be moved; a commit cannot)`);
          return;
        }
        const pinned = PINNED[repo];
        if (!pinned) {
          problems.push(`${where}: ${repo} is not in test/workflows/fixtures/pinned-actions.json; record the commit its release tag points to and its inputs`);
          return;
        }
        if (pinned.commit !== version) problems.push(`${where}: ${repo}@${version} is not the recorded commit of ${pinned.version} (${pinned.commit})`);
        if (comment !== pinned.version) problems.push(`${where}: ${repo} needs the comment "# ${pinned.version}" naming the release its SHA is`);
      });
      for (const [id, job] of jobsOf(wf)) {
        for (const step of stepsOf(job)) {
          const pinned = PINNED[actionOf(step)];
          if (!uses(step) || !pinned) continue;
          const given = Object.keys((step.with ?? {}) as Doc);
          for (const input of given) if (!(input in pinned.inputs)) problems.push(`${wf.file} job ${id}: ${actionOf(step)} ${pinned.version} has no input "${input}"`);
          for (const [input, need] of Object.entries(pinned.inputs)) if (need === 'required' && !given.includes(input)) problems.push(`${wf.file} job ${id}: ${actionOf(step)} needs input "${input}"`);
        }
      }
    }
    return problems;
  },

  'permissions are none by default and the least each job uses'(workflows) {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
      const top = wf.doc.permissions;
      if (!top || typeof top !== 'object' || Object.keys(top).length !== 0) problems.push(`${wf.file}: set \`permissions: {}\` at the top, so no job inherits the default token scopes`);
      for (const [id, job] of jobsOf(wf)) {
        const granted = job.permissions;
        if (!granted || typeof granted !== 'object') {
          problems.push(`${wf.file} job ${id} does not declare its permissions`);
          continue;
        }
        const used: Record<string, (job: Doc) => boolean> = {
          'contents:read': (j) => stepsOf(j).some((s) => actionOf(s) === 'actions/checkout'),
          'actions:read': (j) => runs(j).some((r) => /\bgh run\b/.test(r)),
          'id-token:write': (j) => authenticates(j),
          'issues:write': (j) => runs(j).some((r) => /\bgh issue\b/.test(r)),
        };
        for (const [scope, level] of Object.entries(granted as Doc)) {
          const check = used[`${scope}:${level}`];
          if (!check) problems.push(`${wf.file} job ${id} asks for ${scope}: ${level}; the pipeline needs only contents: read, actions: read, id-token: write and (the drift check) issues: write`);
          else if (!check(job)) problems.push(`${wf.file} job ${id} asks for ${scope}: ${level} but never uses it`);
        }
      }
    }
    return problems;
  },

  'no secret value in any workflow, and secrets reach only the steps that use them'(workflows) {
    const problems: string[] = [];
    const looksSecret: [RegExp, string][] = [
      [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
      [/"type"\s*:\s*"service_account"|"private_key(_id)?"\s*:/, 'a service-account key'],
      [/\bsbp_[0-9a-f]{40}\b/, 'a Supabase access token'],
      [/\bAIza[0-9A-Za-z_-]{35}\b/, 'a Google API key'],
      [/\beyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\.[0-9A-Za-z_-]{10,}/, 'a JWT'],
      [/\b(ghp|gho|ghs|ghu)_[0-9A-Za-z]{36}\b|\bgithub_pat_[0-9A-Za-z_]{20,}/, 'a GitHub token'],
      [/\bpostgres(ql)?:\/\/[^:\s/]+:[^@\s]+@/, 'a database URL with a password'],
    ];
    for (const wf of workflows.values()) {
      for (const [re, what] of looksSecret) if (re.test(wf.text)) problems.push(`${wf.file} contains what looks like ${what}: secrets belong in the environment's secrets`);
      for (const { path, value } of strings(wf.doc)) {
        if (!/\bsecrets\./.test(value)) continue;
        const inStepEnv = path[0] === 'jobs' && path[2] === 'steps' && path[4] === 'env' && path.length === 6;
        if (!inStepEnv) problems.push(`${wf.file} ${path.join('.')}: a secret may only be given to the one step that needs it, through that step's env`);
      }
    }
    return problems;
  },

  'run scripts take values from env, never from ${{ }} expressions'(workflows) {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
      for (const [id, job] of jobsOf(wf)) {
        for (const step of stepsOf(job)) {
          if (typeof step.run === 'string' && step.run.includes('${{')) problems.push(`${wf.file} job ${id} step "${step.name ?? '?'}": an expression inside run is pasted into the script (injection); pass it through env`);
        }
      }
      if (jobsOf(wf).some(([, job]) => runs(job).length) && wf.doc.defaults?.run?.shell !== 'bash') {
        problems.push(`${wf.file}: set defaults.run.shell: bash, so every script runs with -e and pipefail`);
      }
    }
    return problems;
  },

  'one change to production at a time'(workflows) {
    const problems: string[] = [];
    for (const wf of workflows.values()) {
      for (const [id, job] of jobsOf(wf)) {
        if (!deploys(job)) continue;
        const c = job.concurrency as Doc | undefined;
        if (c?.group !== 'production' || c?.['cancel-in-progress'] !== false) {
          problems.push(`${wf.file} job ${id} changes production outside \`concurrency: {group: production, cancel-in-progress: false}\`: two runs could overlap, or one be cut off half-way`);
        }
      }
    }
    return problems;
  },

  'the service lists in the workflows are the catalog'(workflows, catalog) {
    const problems: string[] = [];
    const deploy = get(workflows, 'deploy.yml', problems);
    const rollback = get(workflows, 'rollback.yml', problems);
    if (deploy) {
      const filterStep = jobsOf(deploy).flatMap(([, job]) => stepsOf(job)).find((s) => actionOf(s) === 'dorny/paths-filter');
      const filters = filterStep ? (parse(String(filterStep.with?.filters ?? '')) as Record<string, string[]> | null) : null;
      const expected = Object.fromEntries(serviceFilters(catalog).map((f) => [f.service, f.rules.map((r) => r.pattern)]));
      if (JSON.stringify(filters) !== JSON.stringify(expected)) problems.push(`deploy.yml paths-filter filters ${JSON.stringify(filters)} are not the catalog's ${JSON.stringify(expected)}`);
      const imagesText = jobsOf(deploy).flatMap(([, job]) => stepsOf(job)).map((s) => s.env?.IMAGES).find((v) => typeof v === 'string');
      const images = imagesText ? JSON.parse(imagesText) : null;
      const expectedImages = Object.fromEntries(catalog.services.map((s) => [s.name, { image: s.image, dockerfile: s.dockerfile }]));
      if (JSON.stringify(images) !== JSON.stringify(expectedImages)) problems.push(`deploy.yml IMAGES ${JSON.stringify(images)} is not the catalog's ${JSON.stringify(expectedImages)}`);
    }
    if (rollback) {
      const options = rollback.doc.on?.workflow_dispatch?.inputs?.service?.options;
      const expected = ['all', ...catalog.services.map((s) => s.name)];
      if (JSON.stringify(options) !== JSON.stringify(expected)) problems.push(`rollback.yml service options ${JSON.stringify(options)} are not ${JSON.stringify(expected)}`);
    }
    for (const wf of workflows.values()) {
      const synced = syncWorkflowText(wf.text, catalog, wf.file);
      problems.push(...synced.problems);
      if (synced.text !== wf.text) problems.push(`${wf.file} is out of date with services.yaml: run \`node --import tsx scripts/lib/workflow-catalog.ts\``);
    }
    return problems;
  },

  'deploy.yml builds and scans before the approved deploy runs make production-deploy with the tag'(workflows) {
    const problems: string[] = [];
    const wf = get(workflows, 'deploy.yml', problems);
    if (!wf) return problems;
    const deployJobs = jobsOf(wf).filter(([, job]) => runs(job).some((r) => r.includes('make production-deploy')));
    for (const [id, job] of deployJobs) {
      const step = stepsOf(job).find((s) => typeof s.run === 'string' && s.run.includes('make production-deploy'))!;
      if (!/^make production-deploy YES=1 IMAGE_TAG="\$RELEASE_TAG"(\s|$)/.test(step.run.trim())) problems.push(`deploy.yml job ${id} runs "${step.run.trim()}": expected make production-deploy YES=1 IMAGE_TAG="$RELEASE_TAG"`);
      const tag = step.env?.RELEASE_TAG ?? job.env?.RELEASE_TAG;
      if (tag !== '${{ github.ref_name }}') problems.push(`deploy.yml job ${id}: RELEASE_TAG must be \${{ github.ref_name }}, the pushed tag, not ${tag}`);
      const order = stepsOf(job).map((s) => (actionOf(s) === 'google-github-actions/auth' ? 'auth' : s === step ? 'deploy' : ''));
      if (order.indexOf('auth') < 0 || order.indexOf('auth') > order.indexOf('deploy')) problems.push(`deploy.yml job ${id} deploys before authenticating with google-github-actions/auth`);
      const buildJobs = jobsOf(wf).filter(([, j]) => stepsOf(j).some((s) => actionOf(s) === 'aquasecurity/trivy-action'));
      if (!buildJobs.length) problems.push('deploy.yml scans no image (aquasecurity/trivy-action)');
      for (const [buildId, buildJob] of buildJobs) {
        if (!needsOf(wf, id).has(buildId)) problems.push(`deploy.yml job ${id} does not need ${buildId}, so a blocked image would not block the deploy`);
        const scan = stepsOf(buildJob).find((s) => actionOf(s) === 'aquasecurity/trivy-action')!;
        if (!String(scan.with?.severity ?? '').split(',').includes('CRITICAL')) problems.push(`deploy.yml job ${buildId} scans without severity CRITICAL`);
        if (!stepsOf(buildJob).some((s) => typeof s.run === 'string' && s.run.includes('CRITICAL') && /exit 1/.test(s.run))) problems.push(`deploy.yml job ${buildId} does not fail on CRITICAL findings`);
        if (buildJob['continue-on-error']) problems.push(`deploy.yml job ${buildId} has continue-on-error: a blocked image must fail the release`);
      }
      const condition = String(job.if ?? '');
      if (/always\(\)/.test(condition) || (buildJobs.length && !/needs\.build\.result == 'success'/.test(condition) && condition !== '')) {
        problems.push(`deploy.yml job ${id} runs when the build failed (if: ${condition}); allow only success, or skipped when nothing was built`);
      }
    }
    if (!deployJobs.length) problems.push('deploy.yml has no job that runs make production-deploy');
    return problems;
  },

  'rollback.yml is started by hand and runs the rollback targets'(workflows) {
    const problems: string[] = [];
    const wf = get(workflows, 'rollback.yml', problems);
    if (!wf) return problems;
    const on = wf.doc.on as Doc;
    if (!on || Object.keys(on).join() !== 'workflow_dispatch') problems.push(`rollback.yml must run only on workflow_dispatch, not ${Object.keys(on ?? {}).join(', ')}`);
    const inputs = Object.keys(on?.workflow_dispatch?.inputs ?? {});
    for (const needed of ['what', 'tag', 'service', 'revision', 'backup', 'reason']) if (!inputs.includes(needed)) problems.push(`rollback.yml has no input ${needed}`);
    const scripts = jobsOf(wf).flatMap(([, job]) => runs(job)).join('\n');
    for (const command of [
      'make production-deploy YES=1 IMAGE_TAG="$TAG"',
      'make production-rollback-traffic YES=1',
      'make production-rollback-traffic YES=1 SERVICE="$SERVICE" REVISION="$REVISION"',
      'make production-rollback YES=1 BACKUP="$BACKUP"',
    ]) {
      if (!scripts.includes(command)) problems.push(`rollback.yml never runs ${command}`);
    }
    for (const [id, job] of jobsOf(wf)) {
      if (deploys(job) && !needsOf(wf, id).has('validate')) problems.push(`rollback.yml job ${id} does not wait for the validate job`);
    }
    return problems;
  },

  'ci.yml runs install, type check and the full suite on pull requests and main'(workflows) {
    const problems: string[] = [];
    const wf = get(workflows, 'ci.yml', problems);
    if (!wf) return problems;
    const on = wf.doc.on as Doc;
    if (!on || !('pull_request' in on)) problems.push('ci.yml does not run on pull requests');
    if (!on?.push?.branches?.includes?.('main')) problems.push('ci.yml does not run on pushes to main');
    const all = jobsOf(wf);
    const scripts = all.flatMap(([, job]) => runs(job).map((r) => r.trim()));
    for (const command of ['make install', 'make typecheck', 'make test']) if (!scripts.includes(command)) problems.push(`ci.yml never runs ${command}`);
    const services = all.flatMap(([, job]) => Object.values((job.services ?? {}) as Doc).map((s) => String(s.image)));
    for (const image of ['postgres', 'redis']) if (!services.some((s) => s.startsWith(`${image}:`))) problems.push(`ci.yml has no ${image} service container`);
    for (const [id, job] of all) if (job['continue-on-error'] || stepsOf(job).some((s) => s['continue-on-error'])) problems.push(`ci.yml job ${id} lets failures pass`);
    return problems;
  },

  'every pull request is scanned for secrets'(workflows) {
    const problems: string[] = [];
    const scanning = [...workflows.values()].filter((wf) => wf.doc.on && 'pull_request' in wf.doc.on && jobsOf(wf).some(([, job]) => stepsOf(job).some((s) => actionOf(s) === 'trufflesecurity/trufflehog')));
    if (!scanning.length) problems.push('no workflow runs trufflesecurity/trufflehog on pull_request');
    for (const wf of scanning) {
      for (const [id, job] of jobsOf(wf)) {
        const checkout = stepsOf(job).find((s) => actionOf(s) === 'actions/checkout');
        if (checkout && String(checkout.with?.['fetch-depth']) !== '0') problems.push(`${wf.file} job ${id} checks out a shallow clone; the scan needs every commit of the pull request (fetch-depth: 0)`);
      }
    }
    return problems;
  },
};
