// The scripts inside the workflows, run as a runner runs them (bash -eo pipefail, with
// $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY), against real git repositories, real test-runner
// output and a real HTTP server. What they decide is what a release does.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/process.ts';
import { findStep, runStep, TempRepo, workflow, type Doc } from './helpers.ts';

const deploy = workflow('deploy.yml');
const rollback = workflow('rollback.yml');
const script = (wf: typeof deploy, job: string, step: string): string => findStep(wf, job, step).run as string;

const REGISTRY = 'us-central1-docker.pkg.dev/mindmirror-prod/services';

/** A repository with three releases, and the JSON `gh run list` gives for their deploy runs. */
function releaseHistory() {
  const repo = new TempRepo();
  const c1 = repo.commit('one', { 'a.txt': '1' });
  repo.tag('v1.0.0');
  const c2 = repo.commit('two', { 'a.txt': '2' });
  repo.tag('v1.1.0');
  const c3 = repo.commit('three', { 'a.txt': '3' });
  repo.tag('v1.2.0');
  return { repo, c1, c2, c3 };
}

function releasesFile(runs: { headBranch: string; headSha: string }[]): string {
  const file = join(tempDir('mindmirror-releases-'), 'releases.json');
  writeFileSync(file, JSON.stringify(runs.map((r, i) => ({ ...r, createdAt: new Date(Date.UTC(2026, 10, 20 - i)).toISOString() }))));
  return file;
}

describe('deploy.yml: finding the last release that shipped', () => {
  const step = script(deploy, 'changes', 'Find the last release that shipped');
  const { repo, c1, c2, c3 } = releaseHistory();
  const find = (runs: { headBranch: string; headSha: string }[], env: Record<string, string> = {}) =>
    runStep(step, { cwd: repo.dir, env: { RELEASE_TAG: 'v1.2.0', RELEASES: releasesFile(runs), ARTIFACT_REGISTRY: REGISTRY, ...env } });

  test('the newest successful release other than this tag is the base', async () => {
    const r = await find([
      { headBranch: 'v1.2.0', headSha: c3 },
      { headBranch: 'main', headSha: c3 },
      { headBranch: 'v1.1.0', headSha: c2 },
      { headBranch: 'v1.0.0', headSha: c1 },
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.outputs, { tag: 'v1.1.0', sha: c2 });
    assert.match(r.stdout, /Comparing v1\.2\.0 with v1\.1\.0/);
  });

  test('a release whose tag is gone, or whose commit is not here, is passed over', async () => {
    const r = await find([
      { headBranch: 'v1.1.5', headSha: c2 },
      { headBranch: 'v1.1.0', headSha: 'f'.repeat(40) },
      { headBranch: 'v1.0.0', headSha: c1 },
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.outputs, { tag: 'v1.0.0', sha: c1 });
  });

  test('the first release has no base, so everything is built', async () => {
    const r = await find([{ headBranch: 'main', headSha: c3 }]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.outputs, { tag: '', sha: '' });
    assert.match(r.stdout, /every service is built/);
  });

  test('a tag that cannot name an image and a missing registry are both reported, exit 2', async () => {
    const r = await find([], { RELEASE_TAG: 'v1.2.0;rm -rf /', ARTIFACT_REGISTRY: '' });
    assert.equal(r.code, 2);
    assert.equal(r.errors.length, 2, r.stdout);
    assert.match(r.errors[0]!, /tag "v1\.2\.0;rm -rf \/" cannot name an image/);
    assert.match(r.errors[1]!, /ARTIFACT_REGISTRY is "": set it to `tofu output -raw artifact_registry`/);
    assert.deepEqual(r.outputs, {});
  });
});

describe('deploy.yml: what to build and what to carry over', () => {
  const plan = findStep(deploy, 'changes', 'Decide what to build and what to carry over');
  const decide = (env: Record<string, string>) => runStep(plan.run, { env: { RELEASE_TAG: 'v1.2.0', IMAGES: plan.env.IMAGES, ...env } });
  const services = (json: string | undefined) => (JSON.parse(json ?? 'null') as { service: string }[]).map((s) => s.service);

  test('changed services are built with their image and Dockerfile; the rest carry over', async () => {
    const r = await decide({ PREVIOUS_TAG: 'v1.1.0', CHANGED: '["users-service","gateway"]' });
    assert.equal(r.code, 0, r.stderr);
    const build = JSON.parse(r.outputs.build!) as Doc[];
    assert.deepEqual(build, [
      { service: 'gateway', image: 'mesh-gateway', dockerfile: 'gateway/Dockerfile' },
      { service: 'users-service', image: 'users-service', dockerfile: 'users_service/Dockerfile' },
    ]);
    assert.equal(services(r.outputs.carry).length, 6);
    assert.ok(!services(r.outputs.carry).includes('gateway'));
    assert.match(r.summary, /\| users-service \| built from users_service\/Dockerfile \|/);
    assert.match(r.summary, /\| meals-service \| unchanged: v1\.1\.0 carries over \|/);
  });

  test('nothing changed: nothing built, everything carried over', async () => {
    const r = await decide({ PREVIOUS_TAG: 'v1.1.0', CHANGED: '[]' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs.build, '[]');
    assert.equal(services(r.outputs.carry).length, 8);
  });

  test('no earlier release: everything built, nothing to carry', async () => {
    const r = await decide({ PREVIOUS_TAG: '', CHANGED: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(services(r.outputs.build).length, 8);
    assert.equal(r.outputs.carry, '[]');
    assert.match(r.summary, /First release: every service is built/);
  });
});

describe('deploy.yml: the CRITICAL gate', () => {
  const step = script(deploy, 'build', 'Block the release on CRITICAL vulnerabilities');
  const report = (results: Doc[]) => {
    const file = join(tempDir('mindmirror-scan-'), 'scan.json');
    writeFileSync(file, JSON.stringify({ SchemaVersion: 2, ArtifactName: 'image.tar', ArtifactType: 'container_image', Results: results }));
    return file;
  };
  const gate = (results: Doc[]) => runStep(step, { env: { SERVICE: 'users-service', SCAN: report(results) } });
  const vuln = (id: string, severity: string, fixed?: string) => ({ VulnerabilityID: id, PkgName: 'openssl', InstalledVersion: '3.0.11-1', ...(fixed ? { FixedVersion: fixed } : {}), Severity: severity });

  test('a clean image passes', async () => {
    const r = await gate([{ Target: 'image.tar (debian 12.5)', Class: 'os-pkgs', Type: 'debian' }, { Target: 'Python', Class: 'lang-pkgs', Vulnerabilities: [] }]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary, /## users-service\nNo CRITICAL findings\./);
  });

  test('a CRITICAL vulnerability blocks the release, fixed or not, and is listed', async () => {
    const r = await gate([
      { Target: 'image.tar (debian 12.5)', Vulnerabilities: [vuln('CVE-2026-0001', 'CRITICAL', '3.0.13-1'), vuln('CVE-2026-0002', 'HIGH', '3.0.12-1')] },
      { Target: 'Python', Vulnerabilities: [{ ...vuln('CVE-2026-0003', 'CRITICAL'), PkgName: 'pyyaml', InstalledVersion: '5.3' }] },
    ]);
    assert.equal(r.code, 1);
    assert.match(r.errors[0]!, /users-service has 2 CRITICAL findings/);
    assert.match(r.summary, /\| CVE-2026-0001 \| openssl 3\.0\.11-1 \(image\.tar \(debian 12\.5\)\) \| upgrade to 3\.0\.13-1 \|/);
    assert.match(r.summary, /\| CVE-2026-0003 \| pyyaml 5\.3 \(Python\) \| no fix released yet \|/);
    assert.doesNotMatch(r.summary, /CVE-2026-0002/);
  });

  test('a CRITICAL secret baked into the image blocks it, and its value is never printed', async () => {
    const r = await gate([
      {
        Target: '/app/.env',
        Class: 'secret',
        Secrets: [{ RuleID: 'github-pat', Title: 'GitHub Personal Access Token', Severity: 'CRITICAL', StartLine: 3, Match: 'TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' }],
      },
    ]);
    assert.equal(r.code, 1);
    assert.match(r.summary, /\| secret: GitHub Personal Access Token \| \/app\/\.env line 3 \| remove it from the image and rotate it \|/);
    assert.doesNotMatch(r.summary + r.stdout + r.stderr, /ghp_/);
  });
});

describe('deploy.yml: the test summary', () => {
  const step = script(deploy, 'tests', 'Summarise the results');
  const dir = tempDir('mindmirror-spec-');
  /** Real spec-reporter output of a small suite, as `make test` prints it. */
  const specOutput = (body: string) => {
    const file = join(dir, `s${Math.random().toString(36).slice(2)}.test.mjs`);
    writeFileSync(file, `import test from 'node:test';\nimport assert from 'node:assert';\n${body}\n`);
    // Without NODE_TEST_CONTEXT, which would make the inner run report to this one instead of printing.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], { cwd: dir, encoding: 'utf8', env });
    const log = join(dir, `${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(log, r.stdout + r.stderr);
    return log;
  };
  const summarise = (log: string, test: string, typecheck = 'success') => runStep(step, { env: { TEST_LOG: log, TEST_OUTCOME: test, TYPECHECK_OUTCOME: typecheck } });

  test('failures are counted and named in the summary', async () => {
    const log = specOutput(`test('adds', () => assert.equal(1 + 1, 2));\ntest('rounds prices', () => assert.equal(0.1 + 0.2, 0.3));\ntest('group', async (t) => { await t.test('inner breaks', () => { throw new Error('boom'); }); });`);
    const r = await summarise(log, 'failure');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary, /\*\*Type check: success\. Tests: failure\.\*\* The release is not held back/);
    assert.match(r.summary, /\| 4 \| 1 \| 3 \| 0 \| 0 \|/);
    assert.match(r.summary, /- `rounds prices` \(s[a-z0-9]+\.test\.mjs:4:1\)/);
    assert.match(r.summary, /- `inner breaks` \(/);
  });

  test('a green run says so', async () => {
    const r = await summarise(specOutput(`test('adds', () => assert.equal(1 + 1, 2));`), 'success');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary, /Type check and tests passed\.\n\n\| tests \|.*\n.*\n\| 1 \| 1 \| 0 \| 0 \| 0 \|/);
    assert.doesNotMatch(r.summary, /Failing/);
  });

  test('a run that died before the totals says so', async () => {
    const log = join(dir, 'crash.log');
    writeFileSync(log, 'npm error code ELIFECYCLE\n');
    const r = await summarise(log, 'failure', 'failure');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary, /reported no totals/);
  });
});

for (const [wf, job] of [[deploy, 'deploy'], [rollback, 'rollback']] as const) {
  describe(`${wf.file}: checking the production configuration before anything runs`, () => {
    const step = findStep(wf, job, 'Check the production configuration');
    const complete = {
      PROJECT_ID: 'mindmirror-prod',
      REGION: 'us-central1',
      ARTIFACT_REGISTRY: REGISTRY,
      WIF_PROVIDER: 'projects/123/locations/global/workloadIdentityPools/github/providers/github',
      DEPLOYER_SERVICE_ACCOUNT: 'deployer@mindmirror-prod.iam.gserviceaccount.com',
      STATE_BUCKET: 'mindmirror-prod-tfstate',
      STATE_PREFIX: 'mindmirror/production',
      SUPABASE_PROJECT_REF: 'abcdefghijklmnopqrst',
      PRODUCTION_TFVARS: 'alert_email = "oncall@example.com"',
      HAS_SUPABASE_ACCESS_TOKEN: 'true',
      HAS_SUPABASE_DB_PASSWORD: 'true',
    };

    test('a complete configuration passes', async () => {
      const r = await runStep(step.run, { env: complete });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });

    test('every missing variable and secret is named at once, with where to set it', async () => {
      const r = await runStep(step.run, { env: { ...complete, REGION: '', WIF_PROVIDER: '', PRODUCTION_TFVARS: '', HAS_SUPABASE_DB_PASSWORD: 'false' } });
      assert.equal(r.code, 2);
      assert.deepEqual(r.errors.slice(0, 4), [
        'repository variable REGION is not set',
        'repository variable WIF_PROVIDER is not set',
        'variable PRODUCTION_TFVARS of the production environment is not set',
        'secret SUPABASE_DB_PASSWORD of the production environment is not set',
      ]);
      assert.match(r.errors[4]!, /docs\/infrastructure\/ci-cd\.md#one-time-setup/);
    });

    test('the step is given whether the secrets are set, never their values', () => {
      for (const [name, value] of Object.entries(step.env as Record<string, string>)) {
        if (value.includes('secrets.')) assert.match(value, /^\$\{\{ secrets\.[A-Z_]+ != '' \}\}$/, name);
      }
    });
  });
}

describe('rollback.yml: checking the request', () => {
  const step = script(rollback, 'validate', 'Check the inputs');
  const { repo, c2 } = releaseHistory();
  const releases = releasesFile([
    { headBranch: 'v1.1.0', headSha: c2 },
    { headBranch: 'v1.0.0', headSha: repo.git('rev-parse', 'v1.0.0^{commit}') },
  ]);
  const check = (inputs: Record<string, string>) =>
    runStep(step, { cwd: repo.dir, env: { WHAT: '', TAG: '', SERVICE: 'all', REVISION: '', BACKUP: '', REASON: 'checkout errors since v1.2.0', RELEASES: releases, ...inputs } });

  const accepted: [string, Record<string, string>][] = [
    ['an earlier release that shipped', { WHAT: 'release', TAG: 'v1.1.0' }],
    ['every service to its previous revision', { WHAT: 'traffic' }],
    ['one service to its previous revision', { WHAT: 'traffic', SERVICE: 'users-service' }],
    ['one service to a given revision', { WHAT: 'traffic', SERVICE: 'users-service', REVISION: 'users-service-00042-abc' }],
    ['a state backup', { WHAT: 'infrastructure', BACKUP: '20261122T010203Z-serial-42' }],
  ];
  for (const [what, inputs] of accepted) {
    test(`accepts ${what}`, async () => {
      const r = await check(inputs);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(r.errors, []);
    });
  }

  const refused: [string, Record<string, string>, RegExp[]][] = [
    ['a release without a tag', { WHAT: 'release' }, [/^tag: which release/]],
    ['a tag that does not exist', { WHAT: 'release', TAG: 'v0.9.0' }, [/tag v0\.9\.0 does not exist/]],
    ['a tag that never shipped', { WHAT: 'release', TAG: 'v1.2.0' }, [/release v1\.2\.0 never shipped.*latest: v1\.1\.0, v1\.0\.0/]],
    ['a revision of another service', { WHAT: 'traffic', SERVICE: 'users-service', REVISION: 'gateway-00007-xyz' }, [/not a revision of users-service/]],
    ['a revision without a service', { WHAT: 'traffic', REVISION: 'users-service-00042-abc' }, [/needs a service/]],
    ['a state rollback without a backup', { WHAT: 'infrastructure' }, [/^backup: which state backup/]],
    ['no reason', { WHAT: 'traffic', REASON: '  ' }, [/^reason: say why/]],
    [
      'inputs that belong to other kinds of rollback, all named at once',
      { WHAT: 'release', TAG: 'v1.1.0', SERVICE: 'gateway', REVISION: 'gateway-00007-xyz', BACKUP: '20261122T010203Z', REASON: '' },
      [/^service applies only to what=traffic/, /^revision applies only to what=traffic/, /^backup applies only to what=infrastructure/, /^reason: say why/],
    ],
  ];
  for (const [what, inputs, expected] of refused) {
    test(`refuses ${what}, exit 2`, async () => {
      const r = await check(inputs);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.errors.length, expected.length, r.errors.join('\n'));
      expected.forEach((re, i) => assert.match(r.errors[i]!, re));
      assert.match(r.summary, /## Rollback request refused/);
    });
  }
});

describe('deploy.yml: verifying the gateway serves the release', () => {
  const step = script(deploy, 'deploy', 'Verify the gateway serves this release');
  let server: Server;
  let status = 200;
  let version = 'v1.2.0';
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/healthcheck') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ service: 'gateway', version, timestamp: '2026-11-22T01:00:00Z' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const verify = (outputs: Doc | null) => {
    const dir = tempDir('mindmirror-verify-');
    if (outputs) writeFileSync(join(dir, 'production-outputs.json'), JSON.stringify(outputs));
    return runStep(step, { cwd: dir, env: { RELEASE_TAG: 'v1.2.0', HEALTH_CHECK_RETRIES: '1' } });
  };

  test('a healthy gateway on the release passes and sets the environment URL', async () => {
    status = 200;
    version = 'v1.2.0';
    const r = await verify({ gateway_url: base, service_urls: {} });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs['gateway-url'], base);
    assert.match(r.summary, /healthcheck answers: `\{"service":"gateway","version":"v1\.2\.0"/);
    assert.doesNotMatch(r.stdout, /::warning::/);
  });

  test('a gateway reporting another version is flagged', async () => {
    status = 200;
    version = 'v1.1.0';
    const r = await verify({ gateway_url: base });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /::warning::the gateway reports version v1\.1\.0, not v1\.2\.0/);
  });

  test('an unhealthy gateway fails the job', async () => {
    status = 503;
    const r = await verify({ gateway_url: base });
    assert.notEqual(r.code, 0);
  });

  test('no gateway URL from the deploy fails the job with the reason', async () => {
    const r = await verify({ service_urls: {} });
    assert.equal(r.code, 1);
    assert.match(r.errors[0]!, /no gateway_url/);
  });
});

describe('deploy.yml and rollback.yml: the summary of a make run', () => {
  const log = [
    'Deploy · make production-deploy · config env/production.env · log .runs/x.log',
    'ok   [1/3] Preflight  2.1s',
    'ok   [2/3] Apply the plan  1m02s',
    'FAIL [3/3] Verify  3.0s',
    '',
    'Step 3/3 failed: Verify (deploy.verify)',
    '  reason:    gateway answered 503',
    '  resume at: docs/infrastructure/production-deployment.md#deploy.verify',
  ].join('\n');

  test('deploy: outputs, the step lines and the failure report', async () => {
    const dir = tempDir('mindmirror-summary-');
    writeFileSync(join(dir, 'deploy.log'), log);
    writeFileSync(join(dir, 'production-outputs.txt'), 'gateway  https://gateway-abc.a.run.app\n');
    const r = await runStep(script(deploy, 'deploy', 'Summarise the deploy'), { cwd: dir, env: { RELEASE_TAG: 'v1.2.0', LOG: join(dir, 'deploy.log') } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary, /## Deploy of v1\.2\.0\n\n```text\ngateway {2}https:\/\/gateway-abc\.a\.run\.app\n```/);
    assert.match(r.summary, /ok {3}\[1\/3\] Preflight {2}2\.1s\nok {3}\[2\/3\] Apply the plan {2}1m02s\nFAIL \[3\/3\] Verify {2}3\.0s\nStep 3\/3 failed: Verify/);
    assert.doesNotMatch(r.summary, /config env\/production\.env/);
  });

  test('rollback: what was asked, by whom and why, and how it went', async () => {
    const dir = tempDir('mindmirror-summary-');
    writeFileSync(join(dir, 'rollback.log'), log);
    const r = await runStep(script(rollback, 'rollback', 'Summarise the rollback'), {
      cwd: dir,
      env: { WHAT: 'traffic', SERVICE: 'users-service', REVISION: '', TAG: '', BACKUP: '', REASON: 'errors after v1.2.0', ACTOR: 'oncall', LOG: join(dir, 'rollback.log') },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.summary, /## Rollback: traffic\nTraffic of users-service back to the previous ready revision\.\n\nRequested by @oncall: errors after v1\.2\.0/);
    assert.match(r.summary, /FAIL \[3\/3\] Verify {2}3\.0s\nStep 3\/3 failed: Verify/);
  });
});
