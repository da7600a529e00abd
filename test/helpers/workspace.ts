// A throwaway copy of the repository for end-to-end runbook tests: its own git history (so
// rollback can check out an older commit in a worktree), a fake-model.json in place of the real
// OpenTofu configuration (the fake tofu plans towards it), its own PostgreSQL database for the
// real `supabase db push`, and a local HTTP server standing in for the gateway's health checks.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { loadCatalog } from '../../scripts/lib/catalog.ts';
import { REQUIRED_APIS } from '../../scripts/lib/gcp.ts';
import { healthyProject, installFakes, type Fakes } from '../fakes/install.ts';
import { createDatabase, dropDatabase } from './postgres.ts';
import { repoRoot, run, tempDir, type Ran } from './process.ts';

export const PROJECT = 'mm-prod-test';
export const BUCKET = 'mm-prod-test-tfstate';
export const REGION = 'us-central1';
export const SUPABASE_TOKEN = `sbp_${'c0ffee'.repeat(6)}abcd`;
export const DB_PASSWORD = 'correct-horse-battery-staple-42';

/** What the repository's configuration would produce, in the fake tofu's model format. */
export function fakeModel(gatewayUrl: string, extraResources: Record<string, unknown> = {}) {
  const catalog = loadCatalog();
  const resources: Record<string, unknown> = {};
  for (const s of catalog.services) {
    resources[`module.services["${s.name}"].google_cloud_run_v2_service.this`] = {
      type: 'google_cloud_run_v2_service',
      attributes: { name: s.name, location: REGION, image: `${REGION}-docker.pkg.dev/${PROJECT}/services/${s.image}:\${var.image_tag}`, ingress: s.ingress === 'public' ? 'INGRESS_TRAFFIC_ALL' : 'INGRESS_TRAFFIC_INTERNAL_ONLY', labels: { 'git-commit': '${var.git_commit}' }, ...(s.name === 'gateway' ? { env: { CLIENT_INTERNAL_ID_MODE: '${var.client_internal_id_mode}' } } : {}) },
    };
  }
  for (const db of catalog.databases) {
    resources[`module.migrations["${db.name}"].google_cloud_run_v2_job.this`] = {
      type: 'google_cloud_run_v2_job',
      attributes: { name: `migrate-${db.name}`, location: REGION, image: `${REGION}-docker.pkg.dev/${PROJECT}/services/${db.migrate_with}:\${var.image_tag}` },
    };
  }
  // Cloud SQL mode, the default: the instance and the two jobs infra/modules/cloud-sql adds.
  resources['module.cloud_sql["mindmirror-pg"].google_sql_database_instance.this'] = {
    type: 'google_sql_database_instance',
    attributes: { name: 'mindmirror-pg', region: REGION, database_version: 'POSTGRES_16', databases: catalog.databases.map((d) => d.name), settings: [{ tier: 'db-f1-micro', deletion_protection_enabled: true }] },
  };
  for (const job of ['database-access', 'database-check']) {
    resources[`module.cloud_sql["mindmirror-pg"].module.${job === 'database-access' ? 'access_job' : 'check_job'}.google_cloud_run_v2_job.this`] = {
      type: 'google_cloud_run_v2_job',
      attributes: { name: job, location: REGION, image: 'docker.io/library/postgres:16.6-alpine' },
    };
  }
  Object.assign(resources, extraResources);
  return {
    variables: { project_id: {}, region: {}, image_tag: {}, git_commit: {}, alert_email: {}, client_internal_id_mode: { default: 'ignore' } },
    resources,
    outputs: {
      gateway_url: { value: gatewayUrl },
      service_urls: { value: Object.fromEntries(catalog.services.map((s) => [s.name, `https://${s.name}-abc123xyz-uc.a.run.app`])) },
      image_tag: { value: '${var.image_tag}' },
      deployed_commit: { value: '${var.git_commit}' },
      client_internal_id_mode: { value: '${var.client_internal_id_mode}' },
      redis_auth_string: { value: 'redis-auth-string-must-stay-hidden', sensitive: true },
    },
  };
}

export interface Workspace {
  dir: string;
  fakes: Fakes;
  env: Record<string, string>;
  health: { status: number; server: Server; url: string };
  databaseUrl: string;
  /** `make <target> VAR=value...` inside the workspace. */
  make(target: string, vars?: Record<string, string>, opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<Ran>;
  commit(message: string, files: Record<string, string>): string;
  writeModel(model: object): void;
  cleanup(): Promise<void>;
}

const COPIED = ['scripts', 'Makefile', 'package.json', 'tsconfig.json', 'services.yaml', 'env/production.env.example', 'infra/pricing', 'dev/local/parts.ts', 'dev/local/processes.ts'];

/**
 * A throwaway copy of what the runbooks need (plus `extra` paths), node_modules linked: enough for
 * a runbook that needs neither a database nor a git history.
 */
export function copyRepository(extra: readonly string[] = []): string {
  const dir = tempDir('mindmirror-ws-');
  for (const path of [...COPIED, ...extra]) cpSync(join(repoRoot, path), join(dir, path), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

export async function createWorkspace(opts: { migrations?: Record<string, string> } = {}): Promise<Workspace> {
  const dir = copyRepository();
  writeFileSync(join(dir, '.gitignore'), ['node_modules', 'env/*.env', 'supabase/.temp/', '.runs/', '.state-backups/', 'production-outputs.*', 'infra/**/*.tfplan', 'infra/**/production.tfvars', ''].join('\n'));
  const migrations = opts.migrations ?? {
    '20260101000000_profiles.sql': 'create table if not exists public.profiles (id uuid primary key, display_name text);\n',
  };
  mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
  for (const [name, sql] of Object.entries(migrations)) writeFileSync(join(dir, 'supabase', 'migrations', name), sql);
  writeFileSync(join(dir, 'supabase', 'config.toml'), 'project_id = "mindmirror"\n');

  // The gateway's health endpoints; tests flip `status` to make verification fail.
  const health = { status: 200, server: createServer(), url: '' };
  health.server.on('request', (req, res) => {
    res.writeHead(health.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: health.status === 200 ? 'ok' : 'unavailable', path: req.url }));
  });
  await new Promise<void>((resolve) => health.server.listen(0, '127.0.0.1', resolve));
  const address = health.server.address();
  health.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const database = `ws_${Math.random().toString(36).slice(2, 10)}`;
  const databaseUrl = await createDatabase(database);

  const infraDir = join(dir, 'infra', 'environments', 'production');
  mkdirSync(infraDir, { recursive: true });
  writeFileSync(join(infraDir, 'production.tfvars'), 'alert_email = "oncall@example.com"\n');
  const writeModel = (model: object) => writeFileSync(join(infraDir, 'fake-model.json'), `${JSON.stringify(model, null, 2)}\n`);
  writeModel(fakeModel(health.url));

  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' } }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'workspace');

  const fakes = await installFakes();
  fakes.seed((c) => healthyProject(c, { projectId: PROJECT, bucket: BUCKET, apis: REQUIRED_APIS }));
  const envFile = join(dir, 'env', 'production.env');
  writeFileSync(
    envFile,
    [
      `PROJECT_ID=${PROJECT}`,
      `REGION=${REGION}`,
      `STATE_BUCKET=${BUCKET}`,
      'STATE_PREFIX=mindmirror/production',
      'SUPABASE_PROJECT_REF=abcdefghijklmnopqrst',
      `SUPABASE_DB_URL=${databaseUrl}`,
      `SUPABASE_ACCESS_TOKEN=${SUPABASE_TOKEN}`,
      `SUPABASE_DB_PASSWORD=${DB_PASSWORD}`,
      'IMAGE_TAG=v1.0.0',
      '',
    ].join('\n'),
  );
  // The spoof check needs a real Supabase; it is tested against the local stack instead. Run logs
  // stay in the workspace's own .runs/, where the tests look for secrets in them.
  const env = { ...fakes.env, PGSSLMODE: 'disable', SKIP_SPOOF_CHECK: '1', RUNS_DIR: join(dir, '.runs') };

  return {
    dir,
    fakes,
    env,
    health,
    databaseUrl,
    make: (target, vars = {}, o = {}) =>
      run('make', ['--no-print-directory', target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], { cwd: dir, env: { ...env, ...o.env }, timeoutMs: o.timeoutMs ?? 120_000 }),
    commit(message, files) {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    writeModel,
    async cleanup() {
      health.server.close();
      fakes.cleanup();
      await dropDatabase(database);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
