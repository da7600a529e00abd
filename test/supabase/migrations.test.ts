// The production migrations with the real supabase CLI on a fresh database of the real
// PostgreSQL server: the first push applies them, the second reports the remote up to date,
// and any migration re-run by hand changes nothing.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';
import { repoRoot } from '../helpers/process.ts';
import { pushMigrations, runSupabaseCli, type CliRun } from '../../dev/supabase/migrate.ts';
import { connect, createScratchDatabase, type ScratchDatabase } from './databases.ts';
import { schemaFingerprint } from './schema-fingerprint.ts';

const migrationsDir = join(repoRoot, 'supabase', 'migrations');
const migrationFiles = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();
const versions = migrationFiles.map((f) => f.slice(0, 14));

let db: ScratchDatabase;
let client: pg.Client;
let firstPush: CliRun;

before(async () => {
  db = await createScratchDatabase('migrations');
  await applySupabaseBootstrap(db.url);
  firstPush = await pushMigrations(db.url);
  client = await connect(db.url);
});

after(async () => {
  await client?.end();
  await db?.drop();
});

async function appliedVersions(): Promise<string[]> {
  const r = await client.query<{ version: string }>('select version from supabase_migrations.schema_migrations order by version');
  return r.rows.map((row) => row.version);
}

test('migration files are timestamped and in order', () => {
  assert.ok(migrationFiles.length > 0);
  for (const file of migrationFiles) assert.match(file, /^\d{14}_[a-z0-9_]+\.sql$/, file);
  assert.equal(new Set(versions).size, versions.length, 'no two migrations share a version');
});

test('no migration creates what the Supabase platform owns (roles, the auth schema, auth.users)', () => {
  for (const file of migrationFiles) {
    const sql = readFileSync(join(migrationsDir, file), 'utf8').toLowerCase();
    assert.doesNotMatch(sql, /create\s+(role|user)\b/, `${file} creates a role`);
    assert.doesNotMatch(sql, /create\s+schema\s+(if\s+not\s+exists\s+)?auth\b/, `${file} creates the auth schema`);
    assert.doesNotMatch(sql, /create\s+(or\s+replace\s+)?(table|function)\s+(if\s+not\s+exists\s+)?auth\./, `${file} creates an auth object`);
  }
});

test('the first push applies every migration and records it in the CLI\'s history table', async () => {
  assert.equal(firstPush.code, 0, firstPush.stderr);
  assert.match(firstPush.stdout, /Finished supabase db push\./);
  for (const file of migrationFiles) assert.match(firstPush.stderr, new RegExp(`Applying migration ${file}`));
  assert.deepEqual(await appliedVersions(), versions);
});

test('the CLI reads config.toml without a warning', () => {
  assert.doesNotMatch(firstPush.stderr, /WARN|deprecated|unknown/i);
});

test('a second push reports the remote up to date and changes nothing', async () => {
  const before = await schemaFingerprint(client);
  const second = await pushMigrations(db.url);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Remote database is up to date\./);
  assert.doesNotMatch(second.stderr, /Applying migration/);
  assert.deepEqual(await schemaFingerprint(client), before);
  assert.deepEqual(await appliedVersions(), versions);
});

test('migration list shows every local migration applied on the remote', async () => {
  const list = await runSupabaseCli(['migration', 'list', `--remote=${db.url}`]);
  assert.equal(list.code, 0, list.stderr);
  for (const version of versions) assert.match(list.stdout, new RegExp(`\`${version}\`\\s*\\|\\s*\`${version}\``));
});

for (const file of migrationFiles) {
  test(`re-running ${file} by hand on a database that has it changes nothing`, async () => {
    const before = await schemaFingerprint(client);
    await client.query('begin');
    try {
      await client.query(readFileSync(join(migrationsDir, file), 'utf8'));
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
    assert.deepEqual(await schemaFingerprint(client), before);
  });
}

test('the migrations refuse to run as a role that does not bypass RLS', async () => {
  await client.query('begin');
  try {
    await client.query('set local role authenticated');
    await assert.rejects(client.query(readFileSync(join(migrationsDir, migrationFiles[0]!), 'utf8')), /must run as a role with BYPASSRLS \(postgres on Supabase\), not authenticated/);
  } finally {
    await client.query('rollback');
  }
});
