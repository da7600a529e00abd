// make production-secrets-status against the fake gcloud's Secret Manager: every secret of the
// catalog with its consumers, the age of its enabled version against the catalog's maximum, more
// than one enabled version shown as a rotation in progress, a missing secret as unknown with
// gcloud's reason (exit 1), and no value is ever read.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { secretCatalog, secretsOfMode } from '../../scripts/lib/secret-catalog.ts';
import { run } from '../helpers/process.ts';
import { createWorkspace, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const version = (n: number, created: string, state: 'ENABLED' | 'DISABLED' = 'ENABLED') => ({ version: n, data: Buffer.from(`value-${n}-never-shown`).toString('base64'), state, created });

before(async () => {
  ws = await createWorkspace();
  ws.fakes.seed((cloud) => {
    for (const entry of secretCatalog()) cloud.secrets[entry.name] = { versions: [version(1, daysAgo(10))] };
    // Overdue: database URLs may live 90 days.
    cloud.secrets['users-database-url'] = { versions: [version(1, daysAgo(200), 'DISABLED'), version(2, daysAgo(120))] };
    // Two enabled: the old one stays until every consumer runs on the new.
    cloud.secrets['openai-api-key'] = { versions: [version(1, daysAgo(30)), version(2, daysAgo(0.01))] };
  });
});
after(async () => ws.cleanup());

// Databases elsewhere (external): a person's database URLs are among the secrets. Cloud SQL's own
// set is checked at the end.
const status = (env: Record<string, string> = {}) =>
  run(process.execPath, ['--no-webstorage', '--import', 'tsx', 'scripts/production-secrets-status.ts'], { cwd: ws.dir, env: { ...ws.env, DATABASE_MODE: 'external', ...env }, timeoutMs: 60_000 });

test('every secret with who reads it, its age against its maximum, and what is due', async () => {
  const r = await status();
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /users-database-url\s+operator\s+users-service\s+1\s+v2 \d{4}-\d\d-\d\d\s+120 d\s+90 d\s+DUE: rotate it/);
  assert.match(r.stdout, /openai-api-key\s+operator\s+agent-service\s+2\s+v2 .*rotation in progress/);
  assert.match(r.stdout, /redis-auth\s+infra\s+gateway\s+1\s+v1 .*10 d\s+365 d\s+ok/);
  assert.match(r.stdout, /revoked-sessions\s+infra\s+gateway\s+1 .*none\s+ok/);
  assert.match(r.stdout, /1 due for rotation: users-database-url/);
  assert.ok(!r.all.includes('never-shown'), 'no value is read');
  assert.ok(!ws.fakes.calls('gcloud').some((c) => c.argv.includes('access')), 'nothing accesses a payload');
});

test('JSON=1 gives the same rows; a secret that cannot be listed is unknown with the reason, exit 1', async () => {
  const json = await status({ JSON: '1' });
  assert.equal(json.code, 0, json.all);
  const rows = JSON.parse(json.stdout) as { name: string; status: string; enabledVersions: number }[];
  assert.equal(rows.length, secretsOfMode(secretCatalog(), 'external').length);
  assert.equal(rows.find((x) => x.name === 'users-database-url')?.status, 'due');

  ws.fakes.seed((cloud) => {
    delete cloud.secrets['qdrant-api-key'];
  });
  const r = await status();
  assert.equal(r.code, 1, r.all);
  assert.match(r.stdout, /qdrant-api-key .*unknown \(ERROR: \(gcloud\.secrets\.versions\.list\) NOT_FOUND/);
  assert.match(r.stdout, /users-database-url .*DUE/, 'the rest is still shown');
});

test('on Cloud SQL the per-service database URLs and the admin password are listed as OpenTofu\'s, the shared URLs are not', async () => {
  ws.fakes.seed((cloud) => {
    for (const entry of secretCatalog()) cloud.secrets[entry.name] ??= { versions: [version(1, daysAgo(10))] };
  });
  const r = await status({ DATABASE_MODE: 'cloudsql' });
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /db-users-users-service\s+infra\s+users-service\s+1\s+v1 .*ok/);
  assert.match(r.stdout, /database-admin-password\s+infra\s+-\s+1/);
  assert.doesNotMatch(r.stdout, /^users-database-url\s/m);
});
