// make production-plan against the fakes: after a deploy it is in sync (exit 0) even with a newer
// IMAGE_TAG waiting in the configuration; a difference is summarised by resource with exit 2; it
// never takes the deploy lock or the state lock, never backs up and never applies; a plan that
// fails is exit 1, not mistaken for drift.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { liveObject } from '../fakes/store.ts';
import { run } from '../helpers/process.ts';
import { BUCKET, createWorkspace, fakeModel, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
before(async () => {
  ws = await createWorkspace();
  const deployed = await ws.make('production-deploy', { YES: '1' }, { timeoutMs: 180_000 });
  assert.equal(deployed.code, 0, deployed.all);
});
after(async () => ws.cleanup());

/** The script itself, so its own exit code is seen (make turns every failure into 2). */
const plan = (env: Record<string, string> = {}) =>
  run(process.execPath, ['--no-webstorage', '--import', 'tsx', 'scripts/production-plan.ts'], { cwd: ws.dir, env: { ...ws.env, ...env }, timeoutMs: 120_000 });

const backups = () => readdirSync(join(ws.dir, '.state-backups', BUCKET, 'mindmirror/production')).length;
const envFile = () => join(ws.dir, 'env', 'production.env');

test('right after a deploy production matches the code: exit 0, even with a newer IMAGE_TAG configured', async () => {
  const original = readFileSync(envFile(), 'utf8');
  writeFileSync(envFile(), original.replace('IMAGE_TAG=v1.0.0', 'IMAGE_TAG=v9.9.9'));
  try {
    const callsBefore = ws.fakes.calls('tofu').length;
    const backupsBefore = backups();
    const r = await plan();
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /v1\.0\.0/, 'it plans with the image tag production runs');
    assert.match(r.stdout, /skip .*production matches the code/);
    const calls = ws.fakes.calls('tofu').slice(callsBefore).map((c) => c.argv);
    const planCall = calls.find((argv) => argv.includes('plan'));
    assert.ok(planCall?.includes('-lock=false'), 'no state lock: read-only credentials cannot take it');
    assert.ok(planCall?.includes('-var=image_tag=v1.0.0'), planCall?.join(' '));
    assert.ok(!calls.some((argv) => argv.includes('apply')), 'nothing is applied');
    assert.equal(backups(), backupsBefore, 'no state backup');
  } finally {
    writeFileSync(envFile(), original);
  }
});

test('a difference is listed by resource with the attributes that differ, and exits 2; JSON=1 says the same', async () => {
  const model = fakeModel(ws.health.url);
  const gateway = 'module.services["gateway"].google_cloud_run_v2_service.this';
  (model.resources[gateway] as { attributes: Record<string, unknown> }).attributes.ingress = 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER';
  ws.writeModel(model);
  try {
    const r = await plan();
    assert.equal(r.code, 2, r.all);
    assert.match(r.stdout, /Production differs from the code in 1 resource:/);
    assert.match(r.stdout, /google_cloud_run_v2_service\n\s+module\.services\["gateway"\]\.google_cloud_run_v2_service\.this: differs: the code would change ingress/);
    assert.match(r.stderr, /production differs from the code in 1 resource/);
    assert.equal(liveObject(ws.fakes.cloud().buckets[BUCKET]!, 'mindmirror/production/deploy.lock'), undefined, 'no deploy lock was taken');

    const json = await plan({ JSON: '1' });
    assert.equal(json.code, 2, json.all);
    const report = JSON.parse(json.stdout);
    assert.equal(report.drifted, true);
    assert.deepEqual(report.resources, [{ address: gateway, type: 'google_cloud_run_v2_service', action: 'update', attributes: ['ingress'] }]);
  } finally {
    ws.writeModel(fakeModel(ws.health.url));
  }
});

test('a plan that cannot run is exit 1, never reported as drift', async () => {
  const tfvars = join(ws.dir, 'infra', 'environments', 'production', 'production.tfvars');
  const saved = readFileSync(tfvars, 'utf8');
  rmSync(tfvars);
  try {
    const r = await plan();
    assert.equal(r.code, 1, r.all);
    assert.doesNotMatch(r.all, /differs from the code/);
  } finally {
    writeFileSync(tfvars, saved);
  }
  const again = await plan();
  assert.equal(again.code, 0, again.all);
});
