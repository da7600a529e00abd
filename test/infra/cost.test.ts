import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { estimateMonthlyCost, formatEstimate, loadPriceTable, type PlanJson } from '../../scripts/lib/cost.ts';
import { toPlanJson } from './plan-json.ts';
import { DEPLOY_VARS, renderProduction, tfvarsWith } from './production.ts';
import { PLAN_FIXTURE, recordedPlan } from './record-plan.ts';

const plan = JSON.parse(readFileSync(PLAN_FIXTURE, 'utf8')) as PlanJson;
const table = loadPriceTable();

test('the recorded plan is the plan of the configuration as it is now', async () => {
  assert.deepEqual(await recordedPlan(), plan, 'infra/ changed: run `node --import tsx test/infra/record-plan.ts` and commit the fixture');
});

test('the alpha configuration comes out under $100 a month, every resource priced or known free', () => {
  const estimate = estimateMonthlyCost(plan, table);
  assert.deepEqual(estimate.unpriced, []);
  assert.ok(estimate.total > 0 && estimate.total < 100, `estimate ${estimate.total} is not under 100\n${formatEstimate(estimate)}`);
  const line = (item: string) => estimate.items.find((i) => i.item === item)?.monthly;
  // 1 GB Basic Memorystore: 730 h x $0.049.
  assert.equal(line('module.redis.google_redis_instance.this'), 35.77);
  // One warm 1 vCPU / 0.5 GiB instance at the idle rate: 2,628,000 s x (0.0000025 + 0.5 x 0.0000025).
  assert.equal(line('module.gateway.google_cloud_run_v2_service.this'), 9.86);
  assert.equal(line('module.mesh_service["users-service"].google_cloud_run_v2_service.this'), 9.86);
  assert.equal(line('module.mesh_service["agent-service"].google_cloud_run_v2_service.this'), 0);
  // Cloud SQL db-f1-micro, zonal: 730 h x $0.0105; 10 GB SSD x $0.17; 2 GB of backups x $0.08; PITR logs free.
  const sql = 'module.cloud_sql["mindmirror-pg"].google_sql_database_instance.this';
  assert.deepEqual([line(sql), line(`${sql} storage`), line(`${sql} backups`), line(`${sql} transaction logs`)], [7.67, 1.7, 0.16, 0]);
  assert.equal(estimate.total, Math.round(estimate.items.reduce((s, i) => s + i.monthly, 0) * 100) / 100);
  assert.match(formatEstimate(estimate), /^total\s+\d+\.\d\d {2}USD per month, list prices of 2026-08-20$/m);
});

test('the estimate follows the plan: a replica, more warm instances and deletions change it', () => {
  const base = estimateMonthlyCost(plan, table).total;
  const changed = structuredClone(plan);
  for (const r of changed.resource_changes ?? []) {
    const after = r.change.after as Record<string, any>;
    if (r.type === 'google_redis_instance') after.tier = 'STANDARD_HA';
    if (r.address === 'module.gateway.google_cloud_run_v2_service.this') after.template[0].scaling[0].min_instance_count = 3;
    if (r.type === 'google_dns_managed_zone') r.change.actions = ['delete'];
    // The next tier up, and a standby in a second zone (compute and storage twice).
    if (r.type === 'google_sql_database_instance') Object.assign(after.settings[0], { tier: 'db-g1-small', availability_type: 'REGIONAL' });
  }
  const estimate = estimateMonthlyCost(changed, table);
  const expected = base + (46.72 - 35.77) + 2 * 9.86 - 0.2 + (2 * 25.55 - 7.67) + 1.7;
  assert.ok(Math.abs(estimate.total - expected) < 0.02, `${estimate.total} vs ${expected}`);
});

test('a resource with no price model is named, not silently counted as free', () => {
  const extra = structuredClone(plan);
  extra.resource_changes!.push({ address: 'google_compute_router_nat.nat', type: 'google_compute_router_nat', change: { actions: ['create'], after: {} } });
  assert.deepEqual(estimateMonthlyCost(extra, table).unpriced, ['google_compute_router_nat']);
});

test('a price table without a price the plan needs says which one', () => {
  const broken = structuredClone(table);
  delete broken.prices.memorystore_basic_gb_hour;
  assert.throws(() => estimateMonthlyCost(plan, broken), /price table 2026-08-20 has no price "memorystore_basic_gb_hour"/);
});

test('the front door adds its forwarding rule, its Cloud Armor policy, the requests it sees and the alert on its refusals', async () => {
  const rendered = await renderProduction(undefined, DEPLOY_VARS, tfvarsWith({ edge_domain: '"api.mindmirror.example"', edge_only: 'true' }));
  assert.deepEqual(rendered.errors, []);
  const withEdge = estimateMonthlyCost(toPlanJson(rendered, DEPLOY_VARS) as PlanJson, table);
  assert.deepEqual(withEdge.unpriced, []);
  const line = (pattern: RegExp) => withEdge.items.find((i) => pattern.test(i.item))?.monthly;
  // 730 h x $0.025 for the first five rules, 300,000 requests x 4 kB x $0.008/GB.
  assert.equal(line(/^Load balancer \(1 forwarding rule/), 18.26);
  // $5 a policy, $1 for each of its two rules, 0.3 million requests x $0.75.
  assert.ok(Math.abs(line(/google_compute_security_policy\.this$/)! - 7.225) <= 0.006);
  // The alert on Cloud Armor's refusals: one condition, $1.50 a month.
  assert.ok(Math.abs(line(/google_monitoring_alert_policy\.edge_refusals\[0\]$/)! - 1.515) <= 0.006);
  const added = withEdge.total - estimateMonthlyCost(plan, table).total;
  assert.ok(Math.abs(added - (18.26 + 7.225 + 1.515)) < 0.02, `the front door added ${added}`);
});
