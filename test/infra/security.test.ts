import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { repoRoot } from '../helpers/process.ts';
import type { Rendered } from './hcl/render.ts';
import { brokenCopy, DEPLOY_VARS, renderProduction, type Edit } from './production.ts';
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
