// dev/supabase/bootstrap.ts on the real PostgreSQL server: what a hosted Supabase database
// provides (roles, auth.users, the JWT helpers, permissive grants in public), idempotently,
// and safe when several test databases bootstrap at the same moment.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';
import { connect, createScratchDatabase, type ScratchDatabase } from './databases.ts';
import { schemaFingerprint } from './schema-fingerprint.ts';

// Supabase Auth's auth.users, column for column.
const AUTH_USERS_COLUMNS = [
  'instance_id', 'id', 'aud', 'role', 'email', 'encrypted_password', 'email_confirmed_at', 'invited_at',
  'confirmation_token', 'confirmation_sent_at', 'recovery_token', 'recovery_sent_at', 'email_change_token_new',
  'email_change', 'email_change_sent_at', 'last_sign_in_at', 'raw_app_meta_data', 'raw_user_meta_data',
  'is_super_admin', 'created_at', 'updated_at', 'phone', 'phone_confirmed_at', 'phone_change', 'phone_change_token',
  'phone_change_sent_at', 'confirmed_at', 'email_change_token_current', 'email_change_confirm_status', 'banned_until',
  'reauthentication_token', 'reauthentication_sent_at', 'is_sso_user', 'deleted_at', 'is_anonymous',
];

const databases: ScratchDatabase[] = [];
let client: pg.Client;

before(async () => {
  // Three databases bootstrapped at the same moment race on the server-wide roles.
  databases.push(...(await Promise.all([1, 2, 3].map(() => createScratchDatabase('bootstrap')))));
  await Promise.all(databases.map((d) => applySupabaseBootstrap(d.url)));
  client = await connect(databases[0]!.url);
});

after(async () => {
  await client?.end();
  await Promise.all(databases.map((d) => d.drop()));
});

/** One query in a rolled-back transaction with the given settings. */
async function withSettings<T>(settings: Record<string, string>, sql: string): Promise<T> {
  await client.query('begin');
  try {
    for (const [name, value] of Object.entries(settings)) await client.query('select set_config($1, $2, true)', [name, value]);
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.query('rollback');
  }
}

test('concurrent bootstraps of three databases all succeed, each with the auth schema', async () => {
  for (const d of databases) {
    const c = await connect(d.url);
    try {
      const r = await c.query(`select to_regclass('auth.users') is not null as users, to_regprocedure('auth.uid()') is not null as uid`);
      assert.deepEqual(r.rows[0], { users: true, uid: true });
    } finally {
      await c.end();
    }
  }
});

test('the API roles have Supabase\'s attributes; authenticator can become each of them', async () => {
  const r = await client.query(
    `select rolname, rolcanlogin, rolinherit, rolbypassrls from pg_roles
      where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by rolname`,
  );
  assert.deepEqual(r.rows, [
    { rolname: 'anon', rolcanlogin: false, rolinherit: false, rolbypassrls: false },
    { rolname: 'authenticated', rolcanlogin: false, rolinherit: false, rolbypassrls: false },
    { rolname: 'authenticator', rolcanlogin: true, rolinherit: false, rolbypassrls: false },
    { rolname: 'service_role', rolcanlogin: false, rolinherit: false, rolbypassrls: true },
  ]);
  const members = await client.query(
    `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member
      where u.rolname = 'authenticator' order by 1`,
  );
  assert.deepEqual(members.rows.map((m) => m.rolname), ['anon', 'authenticated', 'service_role']);
});

test('auth.users has Supabase Auth\'s columns, and confirmed_at is derived as there', async () => {
  const r = await client.query(`select column_name from information_schema.columns where table_schema = 'auth' and table_name = 'users' order by ordinal_position`);
  assert.deepEqual(r.rows.map((c) => c.column_name), AUTH_USERS_COLUMNS);
  await client.query('begin');
  try {
    const row = await client.query(
      `insert into auth.users (id, email, email_confirmed_at) values (gen_random_uuid(), 'x@example.test', '2026-01-02T00:00:00Z') returning confirmed_at, is_anonymous, is_sso_user`,
    );
    assert.equal(row.rows[0].confirmed_at.toISOString(), '2026-01-02T00:00:00.000Z');
    assert.equal(row.rows[0].is_anonymous, false);
  } finally {
    await client.query('rollback');
  }
});

test('auth.uid(), auth.role(), auth.email() and auth.jwt() read request.jwt.claims', async () => {
  const claims = { sub: '3f0e9c4e-6a47-4b55-9a0e-7d6b8f0f2a11', role: 'authenticated', email: 'me@example.test', app_metadata: { tier: 'alpha' } };
  const row = await withSettings<Record<string, unknown>>(
    { 'request.jwt.claims': JSON.stringify(claims) },
    `select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt`,
  );
  assert.deepEqual(row, { uid: claims.sub, role: 'authenticated', email: 'me@example.test', jwt: claims });
});

test('the older request.jwt.claim.sub setting wins over request.jwt.claims, as in Supabase', async () => {
  const row = await withSettings<{ uid: string }>(
    { 'request.jwt.claims': JSON.stringify({ sub: '11111111-1111-4111-8111-111111111111' }), 'request.jwt.claim.sub': '22222222-2222-4222-8222-222222222222' },
    'select auth.uid() as uid',
  );
  assert.equal(row.uid, '22222222-2222-4222-8222-222222222222');
});

test('without claims every helper returns null', async () => {
  const row = await withSettings({ 'request.jwt.claims': '' }, `select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt`);
  assert.deepEqual(row, { uid: null, role: null, email: null, jwt: null });
});

test('the helpers are plain SQL and stable, as Supabase defines them (so the planner treats them alike)', async () => {
  const r = await client.query(
    `select p.proname, l.lanname, p.provolatile, p.prosecdef from pg_proc p join pg_language l on l.oid = p.prolang
      where p.pronamespace = 'auth'::regnamespace order by 1`,
  );
  assert.deepEqual(r.rows, ['email', 'jwt', 'role', 'uid'].map((proname) => ({ proname, lanname: 'sql', provolatile: 's', prosecdef: false })));
});

test('new tables in public are granted to the API roles by default, as on a hosted project', async () => {
  await client.query('begin');
  try {
    await client.query('create table public.bootstrap_probe (id int)');
    const r = await client.query(
      `select has_table_privilege('anon', 'public.bootstrap_probe', 'select') as anon,
              has_table_privilege('authenticated', 'public.bootstrap_probe', 'delete') as authenticated`,
    );
    assert.deepEqual(r.rows[0], { anon: true, authenticated: true });
  } finally {
    await client.query('rollback');
  }
});

test('a second bootstrap changes nothing', async () => {
  const before = await schemaFingerprint(client);
  await applySupabaseBootstrap(databases[0]!.url);
  assert.deepEqual(await schemaFingerprint(client), before);
});
