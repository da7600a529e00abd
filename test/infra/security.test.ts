import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { repoRoot } from '../helpers/process.ts';
import type { Rendered } from './hcl/render.ts';
import { brokenCopy, DEPLOY_VARS, renderProduction, tfvarsWith, type Edit } from './production.ts';
import { checkRules, RULES } from './rules.ts';

const breakers = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/infra/rule-breakers.json'), 'utf8')) as Record<string, Edit[]>;
let production: Rendered;

before(async () => {
  production = await renderProduction();
});

test('production renders without a plan error', () => {
  assert.deepEqual(production.errors, []);
});

test('production keeps every security rule', () => {
  assert.deepEqual(checkRules(production), []);
});

test('every rule has a fixture that breaks it', () => {
  assert.deepEqual(Object.keys(breakers).filter((k) => !k.startsWith('_')).sort(), Object.keys(RULES).sort());
});

for (const rule of Object.keys(RULES)) {
  test(`rule ${rule} fails on its fixture`, async () => {
    const copy = brokenCopy(breakers[rule] ?? []);
    try {
      const plan = await renderProduction(copy.dir);
      assert.deepEqual(plan.errors, [], 'the fixture should break the rule, not the configuration');
      const violations = checkRules(plan).filter((v) => v.rule === rule);
      assert.ok(violations.length > 0, `rule ${rule} did not notice its fixture`);
    } finally {
      copy.cleanup();
    }
  });
}

test('the rendering is what the rules rely on: services, grants and the private path', () => {
  const services = production.resources.filter((r) => r.type === 'google_cloud_run_v2_service').map((r) => r.values.name);
  assert.deepEqual(services.sort(), ['agent-service', 'gateway', 'habits-service', 'journal-service', 'meals-service', 'movements-service', 'practices-service', 'users-service']);
  const grants = production.resources.filter((r) => r.type === 'google_secret_manager_secret_iam_member').map((r) => r.index).sort();
  // Cloud SQL mode (the default): each service reads its own URL (its own login), and the
  // database-access job reads them all with the admin password.
  assert.deepEqual(grants, [
    'database-admin-password/database-access',
    'db-main-agent-service/agent-service',
    'db-main-agent-service/database-access',
    'db-main-habits-service/database-access',
    'db-main-habits-service/habits-service',
    'db-main-journal-service/database-access',
    'db-main-journal-service/journal-service',
    'db-main-meals-service/database-access',
    'db-main-meals-service/meals-service',
    'db-movements-movements-service/database-access',
    'db-movements-movements-service/movements-service',
    'db-practices-practices-service/database-access',
    'db-practices-practices-service/practices-service',
    'db-users-users-service/database-access',
    'db-users-users-service/users-service',
    'openai-api-key/agent-service',
    'qdrant-api-key/agent-service',
    'redis-auth/gateway',
    'revoked-sessions/gateway',
    'supabase-service-role-key/users-service',
  ]);
  const jobs = production.outputs.migration_jobs as Record<string, string>;
  assert.deepEqual(jobs, { main: 'migrate-main', movements: 'migrate-movements', practices: 'migrate-practices', users: 'migrate-users' });
});

test('external databases: no instance, the shared per-database URLs a person stores, mounted under the same names', async () => {
  const external = await renderProduction(undefined, { ...DEPLOY_VARS, database_mode: 'external' });
  assert.deepEqual(external.errors, []);
  assert.deepEqual(checkRules(external), []);
  assert.deepEqual(external.resources.filter((r) => r.type.startsWith('google_sql_')), []);
  assert.equal(external.outputs.database_instance, '');
  const grants = external.resources.filter((r) => r.type === 'google_secret_manager_secret_iam_member').map((r) => String(r.index));
  assert.deepEqual(grants.filter((g) => /database/.test(g)).sort(), [
    'database-url/agent-service',
    'database-url/habits-service',
    'database-url/journal-service',
    'database-url/meals-service',
    'movements-database-url/movements-service',
    'practices-database-url/practices-service',
    'users-database-url/users-service',
  ]);
  // Every service reads its database at the same path in both modes.
  const journal = (mode: Rendered) => JSON.stringify((mode.resources.find((r) => r.type === 'google_cloud_run_v2_service' && r.values.name === 'journal-service')!.values.template as { containers: { env: unknown }[] }[])[0]!.containers[0]!.env);
  assert.equal(journal(external), journal(production));
  assert.match(journal(production), /DATABASE_URL_FILE/);
});

test('the database mode is one variable, checked', async () => {
  const wrong = await renderProduction(undefined, { ...DEPLOY_VARS, database_mode: 'supabase' });
  assert.ok(wrong.errors.some((e) => /database_mode must be cloudsql or external/.test(e)), wrong.errors.join('\n'));
});

const gatewayOf = (plan: Rendered) => plan.resources.find((r) => r.type === 'google_cloud_run_v2_service' && r.values.name === 'gateway')!;
const envOf = (service: Rendered['resources'][number]) => new Map(((service.values.template as { containers: { env: { name: string; value: string }[] }[] }[])[0]!.containers[0]!.env).map((e) => [e.name, e.value]));

test('without a front door there is no load balancer, and the gateway takes the internet directly', () => {
  assert.deepEqual(production.resources.filter((r) => r.type.startsWith('google_compute_') && !/network|subnetwork|global_address/.test(r.type)).map((r) => r.address), []);
  assert.equal(gatewayOf(production).values.ingress, 'INGRESS_TRAFFIC_ALL');
  assert.equal(envOf(gatewayOf(production)).get('TRUSTED_PROXY_HOPS'), '1');
  assert.equal(envOf(gatewayOf(production)).has('FRONT_DOOR_HOST'), false);
  assert.equal(production.outputs.edge, null);
});

test('the front door: Cloud Armor limits each address; edge_only closes the run.app URL and moves every check to the domain', async () => {
  const opened = await renderProduction(undefined, DEPLOY_VARS, tfvarsWith({ edge_domain: '"api.mindmirror.example"', edge_requests_per_minute: '900', edge_ban_seconds: '300' }));
  assert.deepEqual(opened.errors, []);
  assert.deepEqual(checkRules(opened), []);
  const policy = opened.resources.find((r) => r.type === 'google_compute_security_policy')!;
  const [limit] = (policy.values.rule as Record<string, any>[]).filter((r) => r.action === 'rate_based_ban');
  assert.equal(limit!.rate_limit_options[0].enforce_on_key, 'IP');
  assert.equal(limit!.rate_limit_options[0].exceed_action, 'deny(429)');
  assert.deepEqual([limit!.rate_limit_options[0].rate_limit_threshold[0].count, limit!.rate_limit_options[0].ban_duration_sec], [900, 300]);
  const cert = opened.resources.find((r) => r.type === 'google_compute_managed_ssl_certificate')!;
  assert.deepEqual((cert.values.managed as { domains: string[] }[])[0]!.domains, ['api.mindmirror.example']);
  assert.equal(cert.values.name, 'mindmirror-edge-api-mindmirror-example', 'named after its domain, so a new domain is a new certificate');
  const long = await renderProduction(undefined, DEPLOY_VARS, tfvarsWith({ edge_domain: '"the-front-door-of-the-mindmirror-api-for-alpha-users.mindmirror.example"' }));
  const longName = String(long.resources.find((r) => r.type === 'google_compute_managed_ssl_certificate')!.values.name);
  assert.match(longName, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, `${longName} is not a valid resource name`);
  const neg = opened.resources.find((r) => r.type === 'google_compute_region_network_endpoint_group')!;
  assert.match(String((neg.values.cloud_run as { service: unknown }[])[0]!.service), /module\.gateway|gateway/);
  // First step: both doors open, so the apps keep working while DNS and the certificate settle.
  assert.equal(gatewayOf(opened).values.ingress, 'INGRESS_TRAFFIC_ALL');
  assert.equal(envOf(gatewayOf(opened)).get('TRUSTED_PROXY_HOPS'), '1');
  assert.equal(envOf(gatewayOf(opened)).get('FRONT_DOOR_HOST'), 'api.mindmirror.example', 'callers through the front door count by their own address from the first day');
  assert.doesNotMatch(String(opened.outputs.gateway_url), /mindmirror\.example/);
  assert.equal((opened.outputs.edge as { url: string }).url, 'https://api.mindmirror.example');
  // Both doors are watched from outside while both are open, each a condition of the one alert.
  const hostsOf = (plan: Rendered) => plan.resources.filter((r) => r.type === 'google_monitoring_uptime_check_config').map((r) => (r.values.monitored_resource as { labels: Record<string, string> }[])[0]!.labels.host);
  const conditionsOf = (plan: Rendered) => (plan.resources.find((r) => r.type === 'google_monitoring_alert_policy' && r.values.display_name === 'Gateway failing its uptime check')!.values.conditions as { display_name: string }[]).map((c) => c.display_name);
  const hosts = hostsOf(opened);
  assert.equal(hosts.length, 2);
  assert.ok(hosts.includes('api.mindmirror.example'), 'one check through the front door');
  assert.match(JSON.stringify(hosts.find((h) => h !== 'api.mindmirror.example')), /google_cloud_run_v2_service\.this\.uri/, 'the other stays on the run.app URL (known after apply)');
  assert.deepEqual(conditionsOf(opened), ['/healthcheck failing from two or more regions', '/healthcheck through the front door failing from two or more regions']);
  assert.deepEqual(hostsOf(production).length, 1, 'without a front door, one check');
  // Cloud Armor's refusals reach the on-call: an alert on the load balancer's request log, for
  // this policy's denials only, at most one mail an hour, with a runbook section that exists.
  const refusalsAlertOf = (plan: Rendered) => plan.resources.filter((r) => r.type === 'google_monitoring_alert_policy' && JSON.stringify(r.values.conditions).includes('enforcedSecurityPolicy'));
  const [refusals] = refusalsAlertOf(opened);
  assert.ok(refusals, 'an alert watches the front door\'s refusals');
  const matched = (refusals.values.conditions as { condition_matched_log: { filter: string }[] }[])[0]!.condition_matched_log[0]!;
  assert.equal(matched.filter, `resource.type="http_load_balancer" AND jsonPayload.enforcedSecurityPolicy.name="${policy.values.name}" AND jsonPayload.enforcedSecurityPolicy.outcome="DENY"`);
  assert.equal((refusals.values.alert_strategy as { notification_rate_limit: { period: string }[] }[])[0]!.notification_rate_limit[0]!.period, '3600s');
  const backend = opened.resources.find((r) => r.type === 'google_compute_backend_service')!;
  assert.equal((backend.values.log_config as { enable: boolean }[])[0]!.enable, true, 'the load balancer writes the request log the alert reads');
  const runbookLink = String(((refusals.values.documentation as { links: { url: string }[] }[])[0]!.links[0]!.url));
  const runbook = readFileSync(join(repoRoot, 'docs/infrastructure/production-deployment.md'), 'utf8');
  assert.ok(runbook.includes(`<a id="${runbookLink.split('#')[1]}"></a>`), `the runbook has a section for ${runbookLink}`);
  assert.deepEqual(refusalsAlertOf(production), [], 'without a front door, no such alert');

  const only = await renderProduction(undefined, DEPLOY_VARS, tfvarsWith({ edge_domain: '"api.mindmirror.example"', edge_only: 'true' }));
  assert.deepEqual(only.errors, []);
  assert.deepEqual(checkRules(only), []);
  assert.equal(gatewayOf(only).values.ingress, 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
  assert.equal(envOf(gatewayOf(only)).get('TRUSTED_PROXY_HOPS'), '1');
  assert.equal(envOf(gatewayOf(only)).get('FRONT_DOOR_HOST'), 'api.mindmirror.example');
  assert.equal(only.outputs.gateway_url, 'https://api.mindmirror.example');
  assert.deepEqual(hostsOf(only), ['api.mindmirror.example'], 'the domain is the only door: one check, on it');
  assert.equal(conditionsOf(only).length, 1);
});

test('the front-door rule names each way around the limit at once', async () => {
  const copy = brokenCopy([
    { file: 'infra/environments/production/production.tfvars.example', find: 'edge_domain = ""', replace: 'edge_domain = "api.mindmirror.example"' },
    { file: 'infra/environments/production/production.tfvars.example', find: 'edge_only = false', replace: 'edge_only = true' },
    // Keyed on what the client writes into X-Forwarded-For, and the gateway not told the front door's host.
    { file: 'infra/modules/edge/main.tf', find: 'enforce_on_key   = "IP"', replace: 'enforce_on_key   = "XFF_IP"' },
    { file: 'infra/environments/production/main.tf', find: 'local.edge ? { FRONT_DOOR_HOST = var.edge_domain } : {},', replace: '{},' },
  ]);
  try {
    const plan = await renderProduction(copy.dir);
    assert.deepEqual(plan.errors, []);
    const found = checkRules(plan).filter((v) => v.rule === 'front-door-limits-each-address').map((v) => v.message);
    assert.equal(found.length, 2, found.join('\n'));
    assert.match(found.join('\n'), /no enforced throttle or rate_based_ban rule with enforce_on_key = "IP"/);
    assert.match(found.join('\n'), /FRONT_DOOR_HOST=\(unset\), not the front door's domain \(api\.mindmirror\.example\)/);
  } finally {
    copy.cleanup();
  }
});

test('edge_only without a domain, and a domain with a scheme, are refused with the fix', async () => {
  const wrong = await renderProduction(undefined, DEPLOY_VARS, tfvarsWith({ edge_domain: '"https://api.mindmirror.example"', edge_only: 'true', edge_ban_seconds: '500' }));
  assert.match(wrong.errors.join('\n'), /edge_domain must be empty or a lowercase host name/);
  assert.match(wrong.errors.join('\n'), /ban_duration_seconds must be one of/);
  const alone = await renderProduction(undefined, DEPLOY_VARS, tfvarsWith({ edge_only: 'true' }));
  assert.match(alone.errors.join('\n'), /edge_only needs edge_domain/);
});
