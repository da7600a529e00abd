// The catalog check: the migrated database keeps every RLS rule, and each kind of violation,
// built as a fixture inside a rolled-back transaction, is reported (all of them at once).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { connect } from './databases.ts';
import { exposedSchemas, findRlsProblems, unwrappedAuthCalls, withoutSubqueries } from './rls-catalog.ts';
import { DATABASE_TARGETS, type MigratedDatabase } from './targets.ts';

test('the exposed schemas come from config.toml and leave private out', () => {
  const schemas = exposedSchemas();
  assert.ok(schemas.includes('public'));
  assert.ok(!schemas.includes('private'));
});

test('subqueries are stripped with their nesting and quoted parentheses; calls outside them remain', () => {
  assert.equal(withoutSubqueries("(user_id = ( SELECT auth.uid() AS uid))"), '(user_id = (subquery))');
  assert.equal(withoutSubqueries("(a = ( SELECT lower((auth.jwt() ->> ')'::text)) AS lower))"), '(a = (subquery))');
  assert.deepEqual(unwrappedAuthCalls("((user_id = auth.uid()) OR (x = ( SELECT auth.uid() AS uid)))"), ['auth.uid()']);
  assert.deepEqual(unwrappedAuthCalls(null), []);
});

for (const target of DATABASE_TARGETS) {
  describe(`on ${target.name}`, () => {
    let db: MigratedDatabase;
    let client: pg.Client;

    before(async () => {
      db = await target.start('rls_catalog');
      client = await connect(db.url);
    });

    after(async () => {
      await client?.end();
      await db?.close();
    });

    async function problemsAfter(fixture: string): Promise<string[]> {
      await client.query('begin');
      try {
        await client.query(fixture);
        return await findRlsProblems(client, exposedSchemas());
      } finally {
        await client.query('rollback');
      }
    }

    test('the migrated database breaks no rule', async () => {
      assert.deepEqual(await findRlsProblems(client, exposedSchemas()), []);
    });

    test('the migrated database has tables to check: the check is not vacuous', async () => {
      const r = await client.query(`select count(*)::int as n from pg_policies where schemaname = 'public'`);
      assert.ok(r.rows[0].n >= 5, `${r.rows[0].n} policies`);
    });

    test('a table without RLS is reported with the statement that fixes it', async () => {
      const problems = await problemsAfter('create table public.notes (id int primary key)');
      assert.ok(problems.includes('public.notes: row level security is not enabled; alter table public.notes enable row level security'), problems.join('\n'));
    });

    test('RLS enabled but not forced is reported', async () => {
      const problems = await problemsAfter('create table public.notes (id int primary key); alter table public.notes enable row level security');
      assert.deepEqual(problems, ['public.notes: row level security is not forced, so its owner bypasses it; alter table public.notes force row level security']);
    });

    test('a policy calling auth.uid() per row is reported; the (select auth.uid()) form of the same policy is not', async () => {
      const table = `create table public.notes (user_id uuid); create index on public.notes (user_id);
                     alter table public.notes enable row level security; alter table public.notes force row level security;`;
      const bare = await problemsAfter(`${table} create policy notes_own on public.notes for select to authenticated using (user_id = auth.uid())`);
      assert.deepEqual(bare, ['public.notes policy notes_own: using calls auth.uid() once per row; write (select auth.uid()) so it runs once per statement']);
      const wrapped = await problemsAfter(`${table} create policy notes_own on public.notes for select to authenticated using (user_id = (select auth.uid()))`);
      assert.deepEqual(wrapped, []);
    });

    test('an unwrapped auth.jwt() in a with check clause is reported', async () => {
      const problems = await problemsAfter(`create table public.notes (email text); create index on public.notes (email);
        alter table public.notes enable row level security; alter table public.notes force row level security;
        create policy notes_insert on public.notes for insert to authenticated with check (email = (auth.jwt() ->> 'email'))`);
      assert.deepEqual(problems, ['public.notes policy notes_insert: with check calls auth.jwt() once per row; write (select auth.jwt()) so it runs once per statement']);
    });

    test('a policy column without an index leading with it is reported; a composite index that only ends with it does not count', async () => {
      const problems = await problemsAfter(`create table public.notes (team_id uuid, user_id uuid, primary key (team_id, user_id));
        alter table public.notes enable row level security; alter table public.notes force row level security;
        create policy notes_own on public.notes for select to authenticated using (user_id = (select auth.uid()))`);
      assert.deepEqual(problems, ['public.notes policy notes_own: column user_id has no index leading with it; create index on public.notes (user_id)']);
    });

    test('a policy for every role, a view without security_invoker and a security definer function in public are reported', async () => {
      const problems = await problemsAfter(`
        create policy profiles_peek on public.profiles for select using (user_id = (select auth.uid()));
        create view public.profile_names as select display_name from public.profiles;
        create function public.peek() returns int language sql security definer set search_path = '' as 'select 1';`);
      assert.deepEqual(problems.sort(), [
        'public.peek(): security definer function in an exposed schema; move it to private',
        'public.profile_names: view runs with its owner\'s rights and bypasses RLS; recreate it with (security_invoker = true)',
        'public.profiles policy profiles_peek: applies to every role; add "to authenticated" (or the role it is meant for)',
      ]);
    });

    test('a security definer function in private without an empty search_path is reported', async () => {
      const problems = await problemsAfter(`create function private.leaky() returns int language sql security definer as 'select 1'`);
      assert.deepEqual(problems, ['private.leaky(): security definer function without an empty search_path; add set search_path = \'\'']);
    });

    test('several broken tables at once: every problem in one report', async () => {
      const problems = await problemsAfter(`
        create table public.a (id int); create table public.b (user_id uuid);
        alter table public.b enable row level security;
        create policy b_own on public.b for select to authenticated using (user_id = auth.uid());`);
      assert.equal(problems.length, 5, problems.join('\n'));
    });

    test('a policy Supabase\'s Performance Advisor would flag (the select wraps lower(), not auth.jwt()) is reported; the advisor\'s own form is not', async () => {
      const flagged = await problemsAfter(`alter policy vouchers_select_invited on public.vouchers using (email = (select lower(auth.jwt() ->> 'email')))`);
      assert.deepEqual(flagged, [
        "public.vouchers policy vouchers_select_invited: using reads auth.jwt() in a form Supabase's Performance Advisor flags (auth_rls_initplan); write (select auth.jwt()) itself, e.g. lower((select auth.jwt()) ->> 'email')",
      ]);
      assert.deepEqual(await problemsAfter(`alter policy vouchers_select_invited on public.vouchers using (email = lower((select auth.jwt()) ->> 'email'))`), []);
    });
  });
}
