// make ci-changed-services on a throwaway repository: a commit touching one service, one
// touching shared code, one touching docs only, and the rest. Each answer is checked against
// what the deploy workflow itself would build for the same range: its paths-filter filters
// applied the way paths-filter applies them, then its own plan step.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import picomatch from 'picomatch';
import { parse } from 'yaml';
import { make, repoRoot, run, tempDir, type Ran } from '../helpers/process.ts';
import { findStep, runStep, TempRepo, workflow } from './helpers.ts';

const repo = new TempRepo();
const runsDir = tempDir('mindmirror-runs-');
const commits: Record<string, string> = {};

before(() => {
  commits.v1 = repo.commit('first release', {
    'services.yaml': readFileSync(join(repoRoot, 'services.yaml'), 'utf8'),
    'gateway/src/server.ts': 'export {};\n',
    'users_service/main.py': 'print("users")\n',
    'meals_service/app/meals.py': 'print("meals")\n',
    'src/shared/db.py': 'DB = 1\n',
    'src/agent_service/main.py': 'print("agent")\n',
    'docs/readme.md': '# docs\n',
  });
  repo.tag('v1.0.0');
  commits.oneService = repo.commit('users: fix', { 'users_service/main.py': 'print("users, fixed")\n' });
  commits.shared = repo.commit('shared: pool size', { 'src/shared/db.py': 'DB = 2\n' });
  commits.docs = repo.commit('docs only', { 'docs/readme.md': '# docs, better\n' });
  commits.catalog = repo.commit('scale the gateway', {
    'services.yaml': readFileSync(join(repoRoot, 'services.yaml'), 'utf8').replace('max_instances: 4', 'max_instances: 6'),
  });
  repo.git('mv', 'meals_service/app/meals.py', 'src/agent_service/meals.py');
  commits.rename = repo.commit('move a module between services', {});
  commits.gateway = repo.commit('gateway: header', { 'gateway/src/server.ts': 'export const x = 1;\n' });
  repo.tag('v1.1.0');
});

function changedServices(base: string, head: string, extra: Record<string, string> = {}): Promise<Ran> {
  return run(process.execPath, ['--import', 'tsx', 'scripts/ci-changed-services.ts'], {
    env: { BASE: base, HEAD: head, GIT_DIR: repo.gitDir, RUNS_DIR: runsDir, ...extra },
  });
}

/** The services the script says it would build, from its summary line. */
function servicesIn(r: Ran): string[] {
  const m = r.stdout.match(/(\d+) to build: (.*)$/m);
  assert.ok(m, r.all);
  return m[2] === 'none' ? [] : m[2]!.split(', ');
}

/** What deploy.yml builds for BASE..HEAD: its filters, matched as paths-filter matches, then its plan step. */
async function pipelineBuilds(base: string, head: string): Promise<string[]> {
  const deploy = workflow('deploy.yml');
  const filters = parse(findStep(deploy, 'changes', 'Match the changed files against the service catalog').with.filters) as Record<string, string[]>;
  const files = repo.git('diff', '--no-renames', '--name-status', '-z', `${base}..${head}`).split('\0').filter((_, i) => i % 2 === 1);
  const changes = Object.entries(filters)
    .filter(([, patterns]) => files.some((f) => patterns.some((p) => picomatch(p, { dot: true })(f))))
    .map(([name]) => name);
  const plan = findStep(deploy, 'changes', 'Decide what to build and what to carry over');
  const r = await runStep(plan.run, { env: { RELEASE_TAG: 'v9.9.9', PREVIOUS_TAG: 'v1.0.0', CHANGED: JSON.stringify(changes), IMAGES: plan.env.IMAGES } });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.outputs.build!) as { service: string }[]).map((b) => b.service);
}

const meshServices = ['users-service', 'agent-service', 'journal-service', 'habits-service', 'meals-service', 'movements-service', 'practices-service'];

const CASES: [what: string, base: () => string, head: () => string, expected: string[]][] = [
  ['one service', () => commits.v1!, () => commits.oneService!, ['users-service']],
  ['shared code', () => commits.oneService!, () => commits.shared!, meshServices],
  ['docs only', () => commits.shared!, () => commits.docs!, []],
  ['services.yaml only', () => commits.docs!, () => commits.catalog!, []],
  ['a file moved between services', () => commits.catalog!, () => commits.rename!, ['agent-service', 'meals-service']],
  ['the gateway', () => commits.rename!, () => commits.gateway!, ['gateway']],
];

for (const [what, base, head, expected] of CASES) {
  test(`a release whose commits touch ${what} builds ${expected.join(', ') || 'nothing'}, as the pipeline would`, async () => {
    const r = await changedServices(base(), head());
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(servicesIn(r), expected);
    assert.deepEqual(await pipelineBuilds(base(), head()), expected, 'deploy.yml would build something else');
  });
}

test('a whole release range, by tag names, lists each service once with a reason', async () => {
  const r = await changedServices('v1.0.0', 'v1.1.0');
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(servicesIn(r), ['gateway', ...meshServices]);
  assert.deepEqual(await pipelineBuilds('v1.0.0', 'v1.1.0'), ['gateway', ...meshServices]);
  assert.match(r.stdout, /v1\.0\.0 \([0-9a-f]{12}\) -> v1\.1\.0 \([0-9a-f]{12}\): 7 files changed; 8 of 8 services to build\./);
  assert.match(r.stdout, /^users-service +users_service\/main\.py, and 1 more$/m);
  assert.match(r.stdout, /^journal-service +src\/shared\/db\.py \(shared code python-shared\)$/m);
  assert.match(r.stdout, /Changed files no image is built from: docs\/readme\.md, services\.yaml/);
});

test('HEAD defaults to the checked-out commit', async () => {
  const r = await changedServices(commits.rename!, '');
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(servicesIn(r), ['gateway']);
});

test('the catalog is read at HEAD, as the workflow of the new tag is', async () => {
  const catalog = readFileSync(join(repoRoot, 'services.yaml'), 'utf8');
  const reports = catalog.replace('\n  users-service:\n', '\n  reports-service:\n    image: reports-service\n    dockerfile: reports_service/Dockerfile\n    paths: [reports_service/**]\n    uses: []\n    port: 8006\n    ingress: internal\n    subgraph: reports_service\n    health_path: /health\n    min_instances: 0\n    max_instances: 1\n    cpu: "1"\n    memory: 512Mi\n    secrets: []\n    databases: [main]\n\n  users-service:\n');
  assert.notEqual(reports, catalog);
  const added = repo.commit('a reports service', { 'services.yaml': reports, 'reports_service/main.py': 'print("reports")\n', 'reports_service/Dockerfile': 'FROM scratch\n' });
  const r = await changedServices(commits.gateway!, added);
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(servicesIn(r), ['reports-service']);
  assert.match(r.stdout, /1 of 9 services to build/);
});

test('bad arguments: every problem at once, exit 2, nothing run', async () => {
  const r = await changedServices('v1.0.0..v1.1.0', '--output=x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /2 problems/);
  assert.match(r.stderr, /BASE="v1\.0\.0\.\.v1\.1\.0" .* not a range or an option/);
  assert.match(r.stderr, /HEAD="--output=x" .* not a range or an option/);
  const missing = await run(process.execPath, ['--import', 'tsx', 'scripts/ci-changed-services.ts'], { env: { GIT_DIR: repo.gitDir, RUNS_DIR: runsDir } });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /BASE is not set: The previous release/);
});

test('refs that do not exist are both named, with the fix', async () => {
  const r = await changedServices('v0.9.0', 'nope');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /BASE=v0\.9\.0 is not a commit in this repository .*git fetch --tags.*; HEAD=nope is not a commit/);
  assert.match(r.stderr, /resume at: docs\/infrastructure\/ci-cd\.md#ci-changed-services\.resolve/);
});

test('make ci-changed-services BASE=... HEAD=... passes both through', async () => {
  const r = await make('ci-changed-services', { BASE: 'v1.0.0', HEAD: commits.oneService! }, { GIT_DIR: repo.gitDir, RUNS_DIR: runsDir });
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(servicesIn(r), ['users-service']);
});
