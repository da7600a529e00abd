// Migrations cannot stall sign-ins. Every file sets a short lock_timeout and statement_timeout
// first and builds indexes on existing tables concurrently (a file check, proven to catch each
// mistake); and with a sign-in's lock held on auth.users, the real supabase CLI's push of the
// real migrations gives up within the lock timeout with PostgreSQL's lock-timeout error, instead
// of waiting and queueing every later sign-in behind it.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';
import { pushMigrations } from '../../dev/supabase/migrate.ts';
import { repoRoot } from '../helpers/process.ts';
import { connect, createScratchDatabase, type ScratchDatabase } from './databases.ts';
import { migrationProblems } from './migration-rules.ts';

const dir = join(repoRoot, 'supabase', 'migrations');
const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

let db: ScratchDatabase;
let holder: pg.Client;

before(async () => {
  db = await createScratchDatabase('migration_locks');
  await applySupabaseBootstrap(db.url);
  holder = await connect(db.url);
});
after(async () => {
  await holder?.end();
  await db?.drop();
});

test('every production migration sets its timeouts first and builds indexes on existing tables concurrently', () => {
  assert.ok(files.length >= 4);
  assert.deepEqual(files.flatMap((f) => migrationProblems(f, readFileSync(join(dir, f), 'utf8'))), []);
});

test('the file check catches each mistake, all at once', () => {
  const ok = "set local lock_timeout = '3s';\nset local statement_timeout = '60s';\n";
  const cases: [string, string, RegExp][] = [
    ['no timeouts', 'alter table public.profiles add column x int;', /must set lock_timeout/],
    ['a timeout set late', "alter table public.profiles add column x int;\nset local lock_timeout = '3s';\nset local statement_timeout = '1min';", /must set lock_timeout/],
    ['lock_timeout 0 waits forever', "set local lock_timeout = 0;\nset local statement_timeout = '60s';", /between 1 ms and 5 s/],
    ['lock_timeout too long', "set local lock_timeout = '30s';\nset local statement_timeout = '60s';", /between 1 ms and 5 s/],
    ['no statement_timeout', "set local lock_timeout = '3s';\nselect 1;", /must set statement_timeout/],
    ['a blocking index on an existing table', `${ok}create index profiles_name_idx on public.profiles (display_name);`, /must be built concurrently/],
    ['set local with concurrently', `${ok}create index concurrently profiles_name_idx on public.profiles (display_name);`, /use set lock_timeout/],
  ];
  for (const [what, sql, expected] of cases) assert.ok(migrationProblems('x.sql', sql).some((p) => expected.test(p)), `${what}: ${migrationProblems('x.sql', sql).join('; ')}`);
  assert.deepEqual(migrationProblems('x.sql', `${ok}create table public.t (id int);\ncreate index t_id_idx on public.t (id);`), [], 'an index on a table the file creates needs nothing');
  assert.deepEqual(migrationProblems('x.sql', "set lock_timeout = '3s';\nset statement_timeout = '60s';\ncreate index concurrently if not exists p_idx on public.profiles (display_name);"), []);
  assert.equal(migrationProblems('x.sql', 'create index i on public.profiles (a);').length, 3, 'every problem of a file at once');
});

test('with a sign-in holding its lock on auth.users, the push fails fast with the lock timeout instead of queueing Auth', async () => {
  // What Auth holds while it writes a sign-up or a sign-in: ROW EXCLUSIVE on auth.users, which
  // the foreign key of public.profiles (SHARE ROW EXCLUSIVE) must wait for.
  await holder.query('begin');
  await holder.query('lock table auth.users in row exclusive mode');
  try {
    const push = await pushMigrations(db.url);
    assert.notEqual(push.code, 0, push.stdout + push.stderr);
    assert.match(push.stderr, /canceling statement due to lock timeout \(SQLSTATE 55P03\)/);
    assert.match(push.stderr, /Applying migration 20261122010100_profiles\.sql/);
  } finally {
    await holder.query('rollback');
  }
  // Once the lock is gone the same push goes through: nothing was left half-applied.
  const again = await pushMigrations(db.url);
  assert.equal(again.code, 0, again.stdout + again.stderr);
});
