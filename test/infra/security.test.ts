import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { repoRoot } from '../helpers/process.ts';
import type { Rendered } from './hcl/render.ts';
import { brokenCopy, renderProduction, type Edit } from './production.ts';
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
  assert.deepEqual(grants, [
    'database-url/agent-service',
    'database-url/habits-service',
    'database-url/journal-service',
    'database-url/meals-service',
    'movements-database-url/movements-service',
    'openai-api-key/agent-service',
    'practices-database-url/practices-service',
    'qdrant-api-key/agent-service',
    'redis-auth/gateway',
    'revoked-sessions/gateway',
    'supabase-service-role-key/users-service',
    'users-database-url/users-service',
  ]);
  const jobs = production.outputs.migration_jobs as Record<string, string>;
  assert.deepEqual(jobs, { main: 'migrate-main', movements: 'migrate-movements', practices: 'migrate-practices', users: 'migrate-users' });
});
