import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadCatalog, mountedSecrets, validateCatalog } from '../scripts/lib/catalog.ts';
import { repoRoot } from './helpers/process.ts';

test('the catalog lists the gateway and the seven services, and is valid', () => {
  const catalog = loadCatalog();
  assert.deepEqual(
    catalog.services.map((s) => s.name).sort(),
    ['agent-service', 'gateway', 'habits-service', 'journal-service', 'meals-service', 'movements-service', 'practices-service', 'users-service'],
  );
  const users = catalog.services.find((s) => s.name === 'users-service')!;
  assert.deepEqual(mountedSecrets(catalog, users).sort(), ['supabase-service-role-key', 'users-database-url']);
});

test('every problem in a broken catalog is reported at once', () => {
  const raw = parse(readFileSync(join(repoRoot, 'services.yaml'), 'utf8'));
  raw.services['users-service'].ingress = 'public';
  raw.services['agent-service'].databases = ['nope'];
  raw.services['meals-service'].memory = '512MB';
  delete raw.services['habits-service'].subgraph;
  raw.databases.main.migrate_with = 'ghost-service';
  const { problems } = validateCatalog(raw);
  const text = problems.join('\n');
  assert.equal(problems.length, 5, text);
  assert.match(text, /the gateway, and only the gateway, has ingress public/);
  assert.match(text, /agent-service\.databases: "nope"/);
  assert.match(text, /meals-service\.memory/);
  assert.match(text, /habits-service\.subgraph/);
  assert.match(text, /databases\.main\.migrate_with/);
});

test('a broken rotation policy is reported in full, and every name in it is a secret production has', async () => {
  const raw = parse(readFileSync(join(repoRoot, 'services.yaml'), 'utf8'));
  raw.secret_rotation.default_days = 0;
  raw.secret_rotation.days['openai-api-key'] = 7.5;
  raw.secret_rotation.never.push('redis-auth', 'Bad_Name');
  raw.secret_rotation.every = 30;
  const text = validateCatalog(raw).problems.join('\n');
  assert.match(text, /secret_rotation\.default_days: expected a whole number of days/);
  assert.match(text, /secret_rotation\.days\.openai-api-key: expected a whole number/);
  assert.match(text, /redis-auth is under both days and never/);
  assert.match(text, /"Bad_Name" is not a Secret Manager secret name/);
  assert.match(text, /secret_rotation\.every: unknown key/);
  delete raw.secret_rotation;
  assert.match(validateCatalog(raw).problems.join('\n'), /secret_rotation: missing/);

  const { secretCatalog } = await import('../scripts/lib/secret-catalog.ts');
  const known = new Set(secretCatalog().map((s) => s.name));
  const policy = loadCatalog().secret_rotation;
  for (const name of [...Object.keys(policy.days), ...policy.never]) assert.ok(known.has(name), `secret_rotation names ${name}, which production does not have`);
});

test('preflight asks for the OpenTofu version the configuration requires', async () => {
  const { TOFU_MIN_VERSION } = await import('../scripts/lib/cli.ts');
  const versions = readFileSync(join(repoRoot, 'infra/environments/production/versions.tf'), 'utf8');
  assert.equal(/required_version\s*=\s*">=\s*([\d.]+)"/.exec(versions)?.[1], TOFU_MIN_VERSION);
});
