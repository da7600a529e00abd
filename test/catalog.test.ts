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

test('preflight asks for the OpenTofu version the configuration requires', async () => {
  const { TOFU_MIN_VERSION } = await import('../scripts/lib/cli.ts');
  const versions = readFileSync(join(repoRoot, 'infra/environments/production/versions.tf'), 'utf8');
  assert.equal(/required_version\s*=\s*">=\s*([\d.]+)"/.exec(versions)?.[1], TOFU_MIN_VERSION);
});
