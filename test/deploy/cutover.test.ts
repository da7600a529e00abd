// make production-cutover against the fakes: it switches the gateway to reject only when Cloud
// Monitoring shows no client-sent identity header in 7 days (FORCE=1 asks first), through a
// normal deploy of the image production runs; every later deploy, plan and cost estimate keeps the
// mode; MODE=ignore goes back.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeMonitoring, type FakeMonitoring } from '../fakes/monitoring.ts';
import { run } from '../helpers/process.ts';
import { BUCKET, createWorkspace, PROJECT, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
let monitoring: FakeMonitoring;
const HEADERS = 'logging_googleapis_com:user_gateway_client_identity_headers';

before(async () => {
  ws = await createWorkspace();
  const deployed = await ws.make('production-deploy', { YES: '1' }, { timeoutMs: 180_000 });
  assert.equal(deployed.code, 0, deployed.all);
  monitoring = await startFakeMonitoring(PROJECT);
});
after(async () => {
  await monitoring?.close();
  await ws?.cleanup();
});

const script = (name: string, env: Record<string, string> = {}) =>
  run(process.execPath, ['--no-webstorage', '--import', 'tsx', `scripts/${name}.ts`], { cwd: ws.dir, env: { ...ws.env, ...monitoring.env, ...env }, timeoutMs: 180_000 });

function state() {
  return JSON.parse(ws.fakes.objectText(BUCKET, 'mindmirror/production/default.tfstate')!) as {
    outputs: Record<string, { value: unknown }>;
    resources: { module?: string; type: string; instances: { attributes: Record<string, unknown> }[] }[];
  };
}
const mode = () => state().outputs.client_internal_id_mode?.value;
const gatewayEnv = () => state().resources.find((r) => r.module === 'module.services["gateway"]' && r.type === 'google_cloud_run_v2_service')!.instances[0]!.attributes.env;
const headersSeen = (count: number, daysAgo: number) => {
  monitoring.series.splice(0);
  if (count) monitoring.series.push({ name: HEADERS, labels: { monitored_resource: 'cloud_run_revision', source: 'x-internal-id', mode: 'ignore' }, points: [{ t: Math.floor(Date.now() / 1000) - daysAgo * 86400, v: count }] });
};

test('clients sent identity headers in 7 days: refused with the count, nothing deployed; FORCE=1 asks and needs an answer', async () => {
  assert.equal(mode(), 'ignore');
  headersSeen(3, 2);
  const applies = () => ws.fakes.calls('tofu').filter((c) => c.argv.includes('apply')).length;
  const before = applies();
  const r = await script('production-cutover');
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /clients sent 3 identity headers in the last 7 days/);
  assert.match(r.stderr, /FORCE=1 switches anyway/);

  const forcedWithoutAnswer = await script('production-cutover', { FORCE: '1' });
  assert.notEqual(forcedWithoutAnswer.code, 0, forcedWithoutAnswer.all);
  assert.match(forcedWithoutAnswer.all, /Switch to reject anyway/);
  assert.equal(applies(), before, 'nothing was applied');
  assert.equal(mode(), 'ignore');
});

test('an unreadable count is no evidence: refused with the reason', async () => {
  headersSeen(0, 0);
  monitoring.failing.set('prometheus', { status: 403, message: 'Permission monitoring.timeSeries.list denied' });
  try {
    const r = await script('production-cutover');
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /the 7-day count could not be read \(403 PERMISSION_DENIED: Permission monitoring\.timeSeries\.list denied\)/);
    assert.equal(mode(), 'ignore');
  } finally {
    monitoring.failing.clear();
  }
});

test('7 quiet days: reject through a deploy of the running image; later deploys and plans keep it; MODE=ignore goes back', async () => {
  headersSeen(2, 9); // outside the 7 days
  const r = await script('production-cutover', { YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /none in 7 days/);
  assert.equal(mode(), 'reject');
  assert.deepEqual(gatewayEnv(), { CLIENT_INTERNAL_ID_MODE: 'reject' });
  assert.equal(state().outputs.image_tag?.value, 'v1.0.0', 'the image production ran, not a newer one');

  const again = await script('production-cutover', { YES: '1' });
  assert.equal(again.code, 0, again.all);
  assert.match(again.stdout, /already reject/);

  const deploy = await ws.make('production-deploy', { YES: '1' }, { timeoutMs: 180_000 });
  assert.equal(deploy.code, 0, deploy.all);
  assert.equal(mode(), 'reject', 'a normal deploy keeps the mode production runs');

  const plan = await script('production-plan');
  assert.equal(plan.code, 0, `a plan after the cutover is in sync:\n${plan.all}`);

  const back = await script('production-cutover', { MODE: 'ignore', YES: '1' });
  assert.equal(back.code, 0, back.all);
  assert.match(back.stdout, /going back to ignore needs no evidence/);
  assert.equal(mode(), 'ignore');
});

test('a bad MODE is reported as bad input (exit 2) before anything runs', async () => {
  const r = await script('production-cutover', { MODE: 'rejct' });
  assert.equal(r.code, 2, r.all);
  assert.match(r.stderr, /MODE="rejct" \(from environment\) is not valid: expected ignore or reject/);
});
