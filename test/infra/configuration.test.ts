import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { GATEWAY_ENV_VARS } from '../../gateway/src/config.ts';
import { loadCatalog, mountedSecrets } from '../../scripts/lib/catalog.ts';
import { databaseUrlSecrets, INFRA_SECRETS, maxAgeDays } from '../../scripts/lib/secret-catalog.ts';
import { ARTIFACT_REPOSITORY, REQUIRED_APIS, ROTATION_REMINDERS } from '../../scripts/lib/gcp.ts';
import { GATEWAY_LOG_METRICS } from '../../scripts/lib/monitoring.ts';
import { loadModuleSource, type ModuleSource } from './hcl/parse.ts';
import type { Rendered } from './hcl/render.ts';
import { DEPLOY_VARS, INFRA, PRODUCTION, renderProduction } from './production.ts';

// client_internal_id_mode: read back from the state by every plan (TF_VAR_), changed by make production-cutover.
const GIVEN_BY_DEPLOY = ['project_id', 'region', 'image_tag', 'git_commit', 'client_internal_id_mode', 'database_mode'];
let production: Rendered;
let root: ModuleSource;

before(async () => {
  production = await renderProduction();
  root = await loadModuleSource(join(INFRA, PRODUCTION));
});

test('production.tfvars.example sets and documents every variable the deploy does not pass', () => {
  const text = readFileSync(join(INFRA, PRODUCTION, 'production.tfvars.example'), 'utf8').split('\n');
  const problems: string[] = [];
  for (const name of Object.keys(root.variables)) {
    const at = text.findIndex((l) => new RegExp(`^${name}\\s*=`).test(l));
    if (GIVEN_BY_DEPLOY.includes(name)) {
      if (at >= 0) problems.push(`${name} is passed by the deploy; setting it in tfvars too would let the two disagree`);
      continue;
    }
    if (at < 0) problems.push(`${name} is not in production.tfvars.example`);
    else if (!text[at - 1]?.startsWith('#')) problems.push(`${name} has no comment above it`);
  }
  assert.deepEqual(problems, []);
});

test('every variable of every module has a description and a type', async () => {
  const problems: string[] = [];
  for (const dir of [join(INFRA, PRODUCTION), ...readdirSync(join(INFRA, 'modules')).map((m) => join(INFRA, 'modules', m))]) {
    const source = dir.endsWith(PRODUCTION) ? root : await loadModuleSource(dir);
    for (const [name, v] of Object.entries(source.variables)) {
      if (typeof v.description !== 'string' || v.description.length < 10) problems.push(`${dir}: variable ${name} has no description`);
      if (v.type === undefined) problems.push(`${dir}: variable ${name} has no type`);
    }
    for (const file of ['main.tf', 'variables.tf', 'outputs.tf', 'README.md']) if (!dir.endsWith(PRODUCTION) && !existsSync(join(dir, file))) problems.push(`${dir}: no ${file}`);
  }
  assert.deepEqual(problems, []);
});

test('bad settings are all reported at once, each naming the variable and the fix', async () => {
  const example = readFileSync(join(INFRA, PRODUCTION, 'production.tfvars.example'), 'utf8');
  const bad = example
    .replace('supabase_url = "https://abcdefghijklmnopqrst.supabase.co"', 'supabase_url = "https://abcdefghijklmnopqrst.supabase.co/"')
    .replace('alert_email = "oncall@example.com"', 'alert_email = "oncall"')
    .replace('billing_account_id = "012345-6789AB-CDEF01"', 'billing_account_id = "billing"')
    .replace('monthly_budget_usd = 100', 'monthly_budget_usd = 0')
    .replace('deployer_project_roles = ["roles/run.developer",', 'deployer_project_roles = ["roles/owner", "roles/run.developer",')
    .replace('    IDENTITY_CACHE_TTL_SECONDS = "3600"', '    IDENTITY_CACHE_TTL_SECONDS = "3600"\n    HIVE_CDN_KEY = "abc"');
  const plan = await renderProduction(INFRA, { ...DEPLOY_VARS, image_tag: 'latest' }, bad);
  const text = plan.errors.join('\n');
  for (const expected of [
    /var\.image_tag: image_tag must be a release tag/,
    /var\.supabase_url: supabase_url must be https:\/\/<project-ref>\.supabase\.co with no trailing slash/,
    /module\.monitoring: var\.alert_email: alert_email must be an email address/,
    /module\.monitoring: var\.billing_account_id: billing_account_id must look like/,
    /module\.monitoring: var\.monthly_budget_usd: monthly_budget_usd must be a whole number of dollars above 0/,
    /module\.ci_identity: var\.deployer_project_roles: deployer_project_roles must not include owner/,
    /module\.gateway: var\.env: env must not carry secrets/,
  ]) assert.match(text, expected);
  assert.equal(plan.errors.length, 7, text);
});

test('OpenTofu enables exactly the APIs the bootstrap enables and preflight checks', () => {
  const enabled = production.resources.filter((r) => r.type === 'google_project_service').map((r) => r.values.service);
  assert.deepEqual(enabled.sort(), [...REQUIRED_APIS].sort());
});

test("the gateway's environment on Cloud Run names only variables the gateway reads, its Redis password file among them", () => {
  const gateway = production.resources.find((r) => r.type === 'google_cloud_run_v2_service' && r.values.name === 'gateway')!;
  const container = (gateway.values.template as Record<string, any>[])[0]!.containers[0];
  const env = new Map((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  const mounts = new Set((container.volume_mounts as { mount_path: string }[]).map((m) => `${m.mount_path}/value`));
  // Each mounted secret also gets an automatic <SECRET>_FILE variable, read or not.
  const catalog = loadCatalog();
  const automatic = new Set(mountedSecrets(catalog, catalog.services.find((s) => s.name === 'gateway')!).map((s) => `${s.toUpperCase().replace(/-/g, '_')}_FILE`));
  const unknown = [...env.keys()].filter((name) => !(GATEWAY_ENV_VARS as readonly string[]).includes(name) && !automatic.has(name));
  assert.deepEqual(unknown, [], 'set on Cloud Run but never read by the gateway');
  assert.ok(mounts.has(env.get('REDIS_PASSWORD_FILE')!), `REDIS_PASSWORD_FILE=${env.get('REDIS_PASSWORD_FILE')} is a mounted secret (${[...mounts].join(', ')})`);
  assert.equal(env.get('TRUSTED_PROXY_HOPS'), '1', "Cloud Run's front end is one proxy hop");
});

test('the catalog drives the services, their images, scaling and migration jobs', () => {
  const catalog = loadCatalog();
  const services = new Map(production.resources.filter((r) => r.type === 'google_cloud_run_v2_service').map((r) => [r.values.name as string, r.values]));
  assert.deepEqual([...services.keys()].sort(), catalog.services.map((s) => s.name).sort());
  for (const s of catalog.services) {
    const t = (services.get(s.name)!.template as Record<string, any>[])[0]!;
    assert.equal(t.containers[0].image, `us-central1-docker.pkg.dev/mindmirror-prod/mindmirror/${s.image}:v1.4.0`);
    assert.equal(t.containers[0].ports[0].container_port, s.port);
    assert.equal(t.containers[0].startup_probe[0].http_get[0].path, s.health_path);
    assert.deepEqual([t.scaling[0].min_instance_count, t.scaling[0].max_instance_count], [s.min_instances, s.max_instances]);
  }
  const all = production.resources.filter((r) => r.type === 'google_cloud_run_v2_job');
  // Besides the migrations, the jobs that apply the least-privilege SQL and read what a restore is verified with.
  assert.deepEqual(all.filter((j) => !String(j.values.name).startsWith('migrate-')).map((j) => j.values.name).sort(), ['database-access', 'database-check']);
  const jobs = all.filter((j) => String(j.values.name).startsWith('migrate-'));
  assert.deepEqual(jobs.map((j) => j.values.name).sort(), catalog.databases.map((d) => `migrate-${d.name}`).sort());
  for (const job of jobs) {
    const container = (job.values.template as any)[0].template[0].containers[0];
    assert.deepEqual([container.command, container.args], [['alembic'], ['upgrade', 'head']]);
  }
});

test('the outputs the scripts read are there, and none is sensitive', () => {
  for (const name of ['gateway_url', 'service_urls', 'migration_jobs', 'redis_host', 'secret_names', 'region', 'project_id', 'workload_identity_provider', 'deployer_service_account']) {
    assert.ok(name in production.outputs, `no output ${name}`);
  }
  assert.deepEqual(Object.keys(production.outputs.service_urls as object).sort(), loadCatalog().services.map((s) => s.name).sort());
  for (const [name, o] of Object.entries(root.outputs)) assert.notEqual(o.sensitive, true, `output ${name} is sensitive`);
});

test('state goes to GCS with bucket and prefix from -backend-config only', () => {
  const backends = root.terraform.flatMap((t) => (t.backend ? Object.entries(t.backend as Record<string, unknown[]>) : []));
  assert.deepEqual(backends.map(([type]) => type), ['gcs']);
  assert.deepEqual(backends[0]![1], [{}]);
  assert.deepEqual(production.imports.filter((i) => i.to.startsWith('google_storage_bucket')), [{ to: 'google_storage_bucket.state', id: 'mindmirror-prod-tfstate' }]);
});

test('the image repository the bootstrap creates is the one OpenTofu adopts and manages', () => {
  const repo = production.resources.find((r) => r.type === 'google_artifact_registry_repository')!;
  assert.equal(repo.values.repository_id, ARTIFACT_REPOSITORY);
  const adopted = production.imports.find((i) => i.to === repo.address);
  assert.equal(adopted?.id, `projects/${String(production.outputs.project_id)}/locations/${String(production.outputs.region)}/repositories/${ARTIFACT_REPOSITORY}`);
});

test('secrets the runbooks create before the first apply are adopted, and only those', () => {
  const catalog = loadCatalog();
  const mounted = new Set(catalog.services.flatMap((s) => mountedSecrets(catalog, s)));
  // On Cloud SQL (the default mode) OpenTofu writes the database URLs itself.
  const expected = [...mounted].filter((s) => !(INFRA_SECRETS as readonly string[]).includes(s) && !databaseUrlSecrets().includes(s)).sort();
  const adopted = production.imports
    .filter((i) => i.to.startsWith('module.secrets.'))
    .map((i) => {
      const name = /\["(.+)"\]$/.exec(i.to)![1]!;
      assert.equal(i.id, `projects/${String(production.outputs.project_id)}/secrets/${name}`);
      return name;
    })
    .sort();
  assert.deepEqual(adopted, expected);
});

test('each secret gets the rotation schedule of its maximum age, its reminders reach the subscription the rotation acknowledges, and an alert watches it', () => {
  const catalog = loadCatalog();
  const byType = (type: string) => production.resources.filter((r) => r.type === type);
  const [topic] = byType('google_pubsub_topic');
  const [subscription] = byType('google_pubsub_subscription');
  assert.ok(topic && subscription);
  const problems: string[] = [];
  for (const secret of byType('google_secret_manager_secret')) {
    const name = String(secret.values.secret_id);
    const days = maxAgeDays(catalog.secret_rotation, name);
    const rotation = (secret.values.rotation as Record<string, unknown>[] | undefined)?.[0];
    const topics = ((secret.values.topics as Record<string, unknown>[] | undefined) ?? []).map((t) => t.name);
    if (days === null) {
      if (rotation || topics.length) problems.push(`${name} is never due but has a rotation schedule`);
      continue;
    }
    if (rotation?.rotation_period !== `${days * 86400}s`) problems.push(`${name}: rotation_period ${String(rotation?.rotation_period)}, expected ${days * 86400}s (${days} days)`);
    if (rotation && rotation.next_rotation_time === undefined) problems.push(`${name}: a rotation period needs a next_rotation_time`);
    if (topics.length !== 1) problems.push(`${name}: expected the reminders topic, got ${JSON.stringify(topics)}`);
    if (!JSON.stringify(secret.lifecycle.ignore_changes ?? '').includes('next_rotation_time')) problems.push(`${name}: an apply would move its next rotation time back`);
  }
  assert.deepEqual(problems, []);

  assert.equal(subscription.values.name, ROTATION_REMINDERS, 'the rotation acknowledges the subscription infra creates');
  assert.equal(subscription.values.filter, 'attributes.eventType = "SECRET_ROTATE"');
  assert.deepEqual(subscription.values.expiration_policy, [{ ttl: '' }], 'nobody pulls for months: it must never expire');
  const [grant] = byType('google_pubsub_topic_iam_member');
  assert.equal(grant!.values.role, 'roles/pubsub.publisher');
  // The project number is known only after the data source is read: the plan shows the expression.
  assert.match(String(grant!.values.member), /serviceAccount:service-\$\{data\.google_project\.this\.number\}@gcp-sa-secretmanager\.iam\.gserviceaccount\.com/);

  const alert = byType('google_monitoring_alert_policy').find((a) => JSON.stringify(a.values.conditions).includes('num_undelivered_messages'));
  assert.ok(alert, 'an alert watches the reminders');
  assert.match(JSON.stringify(alert.values.conditions), new RegExp(`subscription_id=\\\\"${ROTATION_REMINDERS}\\\\"`));
  const doc = readFileSync(join(INFRA, '..', 'docs', 'infrastructure', 'production-deployment.md'), 'utf8');
  const anchor = String(((alert.values.documentation as Record<string, unknown>[])[0]!.links as Record<string, unknown>[])[0]!.url).split('#')[1];
  assert.ok(doc.includes(`<a id="${anchor}"></a>`), `the runbook has a section #${anchor}`);
});

test('every alert on a gateway log metric links to a runbook section that exists, and alerts on a metric the configuration defines', () => {
  const doc = readFileSync(join(INFRA, '..', 'docs', 'infrastructure', 'production-deployment.md'), 'utf8');
  const anchors = new Set([...doc.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!));
  const metrics = new Set(production.resources.filter((r) => r.type === 'google_logging_metric').map((r) => String(r.values.name)));
  const alerts = production.resources.filter((r) => r.type === 'google_monitoring_alert_policy' && r.address.includes('gateway_logs'));
  assert.ok(alerts.length >= 3, alerts.map((a) => a.address).join(', '));
  const problems: string[] = [];
  for (const alert of alerts) {
    const documentation = (alert.values.documentation as Record<string, unknown>[])[0]!;
    for (const link of (documentation.links ?? []) as Record<string, unknown>[]) {
      const url = String(link.url);
      const anchor = url.split('#')[1];
      if (!url.startsWith('https://github.com/') || !url.includes('/docs/infrastructure/production-deployment.md#')) problems.push(`${alert.address}: ${url} is not the runbook`);
      else if (!anchor || !anchors.has(anchor)) problems.push(`${alert.address}: the runbook has no section #${anchor}`);
    }
    if (!((documentation.links ?? []) as unknown[]).length) problems.push(`${alert.address} links to no runbook section`);
    const filter = String(((alert.values.conditions as Record<string, unknown>[])[0]!.condition_threshold as Record<string, unknown>[])[0]!.filter);
    const metric = /logging\.googleapis\.com\/user\/([\w-]+)/.exec(filter)?.[1];
    if (!metric || !metrics.has(metric)) problems.push(`${alert.address} alerts on ${metric ?? filter}, which no google_logging_metric defines`);
  }
  assert.deepEqual(problems, []);
});

test('the dashboard is valid JSON, its tiles fit the grid without overlapping, and every chart reads a metric that exists', () => {
  const dashboards = production.resources.filter((r) => r.type === 'google_monitoring_dashboard');
  assert.equal(dashboards.length, 1);
  const json = dashboards[0]!.values.dashboard_json;
  assert.equal(typeof json, 'string', 'the dashboard is known at plan time');
  const dashboard = JSON.parse(json as string) as { mosaicLayout: { columns: number; tiles: { xPos: number; yPos: number; width: number; height: number; widget: Record<string, unknown> }[] } };
  const { columns, tiles } = dashboard.mosaicLayout;
  const logMetrics = new Set(production.resources.filter((r) => r.type === 'google_logging_metric').map((r) => `logging.googleapis.com/user/${String(r.values.name)}`));
  // Cloud Run's own metrics the charts may read (https://cloud.google.com/run/docs/monitoring).
  const builtIn = new Set(['run.googleapis.com/request_count', 'run.googleapis.com/request_latencies', 'run.googleapis.com/container/instance_count']);
  const problems: string[] = [];
  const taken = new Set<string>();
  for (const t of tiles) {
    const title = String(t.widget.title);
    if (t.xPos + t.width > columns) problems.push(`${title} overflows the ${columns} columns`);
    for (let x = t.xPos; x < t.xPos + t.width; x++) {
      for (let y = t.yPos; y < t.yPos + t.height; y++) {
        if (taken.has(`${x},${y}`)) problems.push(`${title} overlaps another tile at ${x},${y}`);
        taken.add(`${x},${y}`);
      }
    }
    for (const m of JSON.stringify(t.widget).matchAll(/metric\.type=\\"([^\\"]+)\\"/g)) {
      if (!builtIn.has(m[1]!) && !logMetrics.has(m[1]!)) problems.push(`${title} charts ${m[1]}, which is neither a Cloud Run metric nor a log metric defined here`);
    }
  }
  const charted = new Set([...JSON.stringify(tiles).matchAll(/logging\.googleapis\.com\/user\/([\w-]+)/g)].map((m) => `logging.googleapis.com/user/${m[1]}`));
  for (const m of logMetrics) if (!charted.has(m)) problems.push(`${m} is on no tile of the dashboard`);
  assert.deepEqual([...new Set(problems)], []);
});

test('the status screen reads every gateway log metric the configuration defines, with the same labels', () => {
  const defined = production.resources
    .filter((r) => r.type === 'google_logging_metric')
    .map((r) => ({ name: String(r.values.name), labels: ((r.values.metric_descriptor as Record<string, unknown>[])[0]!.labels as { key: string }[] | undefined ?? []).map((l) => l.key).sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const read = GATEWAY_LOG_METRICS.map((m) => ({ name: m.name, labels: [...m.labels].sort() })).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(read, defined);
});

test('the runbooks name the Cloud SQL instance and its jobs as infra/ does', async () => {
  const { ACCESS_JOB, CHECK_JOB, DATABASE_INSTANCE } = await import('../../scripts/lib/cloud-sql.ts');
  assert.deepEqual(
    [production.outputs.database_instance, production.outputs.database_access_job, production.outputs.database_check_job],
    [DATABASE_INSTANCE, ACCESS_JOB, CHECK_JOB],
  );
  // And the logins the HCL writes URLs for are the ones the least-privilege SQL creates.
  const { databaseLogins } = await import('../../scripts/lib/database-access.ts');
  const urls = production.resources.filter((r) => r.type === 'google_secret_manager_secret_version' && /database_url\[/.test(r.address));
  assert.deepEqual(
    urls.map((r) => /postgresql:\/\/([a-z_]+):/.exec(String(r.values.secret_data_wo))?.[1]).sort(),
    databaseLogins().flatMap((l) => l.databases.map(() => l.login)).sort(),
  );
});
