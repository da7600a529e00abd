// The RLS rules of supabase/README.md, checked against a database's catalog rather than
// against the migration text, so a rule broken in any way (a new migration, a hand-made
// hot-fix) is caught. Every problem is reported, not just the first.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { parse } from 'smol-toml';
import { repoRoot } from '../helpers/process.ts';

/** The schemas the Data API exposes, from [api] schemas in supabase/config.toml. */
export function exposedSchemas(configPath = join(repoRoot, 'supabase', 'config.toml')): string[] {
  const config = parse(readFileSync(configPath, 'utf8')) as { api?: { schemas?: unknown } };
  const schemas = config.api?.schemas;
  if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string')) {
    throw new Error(`${configPath}: [api] schemas must be a list of schema names`);
  }
  return schemas;
}

const AUTH_CALL = /\bauth\.(uid|jwt|role|email)\(\)/g;

/**
 * The text of a policy expression (as pg_get_expr prints it) with every scalar subquery
 * "( SELECT ... )" removed. A call to auth.*() that survives is evaluated once per row
 * instead of once per statement.
 */
export function withoutSubqueries(expression: string): string {
  let out = '';
  let i = 0;
  while (i < expression.length) {
    if (expression.startsWith('( SELECT ', i) || expression.startsWith('(SELECT ', i)) {
      let depth = 0;
      let j = i;
      let quoted = false;
      for (; j < expression.length; j++) {
        const ch = expression[j];
        if (ch === "'") quoted = !quoted;
        else if (!quoted && ch === '(') depth++;
        else if (!quoted && ch === ')' && --depth === 0) break;
      }
      out += '(subquery)';
      i = j + 1;
      continue;
    }
    out += expression[i];
    i++;
  }
  return out;
}

export function unwrappedAuthCalls(expression: string | null): string[] {
  if (!expression) return [];
  return [...withoutSubqueries(expression).matchAll(AUTH_CALL)].map((m) => m[0]);
}

interface TableRow {
  name: string;
  kind: string;
  rls: boolean;
  forced: boolean;
  options: string[] | null;
}

interface PolicyRow {
  table: string;
  policy: string;
  roles: string[];
  qual: string | null;
  with_check: string | null;
}

interface PolicyColumnRow {
  table: string;
  policy: string;
  column: string;
  indexed: boolean;
}

interface FunctionRow {
  name: string;
  security_definer: boolean;
  config: string[] | null;
  schema: string;
}

/** Every violation of the RLS rules in the given schemas, each naming its fix. */
const ADVISOR_AUTH_CALLS = ['auth.uid()', 'auth.jwt()', 'auth.role()', 'auth.email()'];

/**
 * The text test of Supabase's Performance Advisor (splinter lint 0003, auth_rls_initplan): a call
 * counts as once per statement only when the deparsed policy says `select auth.x()` right there.
 * `(select lower(auth.jwt() ->> 'email'))` runs once too, but the advisor still warns about it,
 * and a warning the team learns to ignore hides the next real one.
 */
export function advisorInitplanWarnings(expression: string | null): string[] {
  if (!expression) return [];
  const lower = expression.toLowerCase();
  return ADVISOR_AUTH_CALLS.filter((call) => lower.includes(call) && !lower.includes(`select ${call}`));
}

export async function findRlsProblems(client: pg.ClientBase, schemas: string[], privateSchemas: string[] = ['private']): Promise<string[]> {
  const problems: string[] = [];

  const tables = await client.query<TableRow>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.relkind::text as kind,
            c.relrowsecurity as rls, c.relforcerowsecurity as forced, c.reloptions as options
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm')
      order by 1`,
    [schemas],
  );
  for (const t of tables.rows) {
    if (t.kind === 'v') {
      if (!(t.options ?? []).some((o) => /^security_invoker=(true|on|1|yes)$/i.test(o))) {
        problems.push(`${t.name}: view runs with its owner's rights and bypasses RLS; recreate it with (security_invoker = true)`);
      }
    } else if (t.kind === 'm') {
      problems.push(`${t.name}: materialized views have no RLS; move it out of the exposed schemas`);
    } else {
      if (!t.rls) problems.push(`${t.name}: row level security is not enabled; alter table ${t.name} enable row level security`);
      if (!t.forced) problems.push(`${t.name}: row level security is not forced, so its owner bypasses it; alter table ${t.name} force row level security`);
    }
  }

  const policies = await client.query<PolicyRow>(
    `select format('%I.%I', schemaname, tablename) as table, policyname as policy,
            roles::text[] as roles, qual, with_check
       from pg_policies where schemaname = any($1) order by 1, 2`,
    [schemas],
  );
  for (const p of policies.rows) {
    for (const [clause, expression] of [['using', p.qual], ['with check', p.with_check]] as const) {
      for (const call of new Set(unwrappedAuthCalls(expression))) {
        problems.push(`${p.table} policy ${p.policy}: ${clause} calls ${call} once per row; write (select ${call}) so it runs once per statement`);
      }
    }
    for (const [clause, expression] of [['using', p.qual], ['with check', p.with_check]] as const) {
      // A call already reported as running per row is not reported twice.
      const perRow = new Set(unwrappedAuthCalls(expression));
      for (const call of advisorInitplanWarnings(expression).filter((c) => !perRow.has(c))) {
        problems.push(`${p.table} policy ${p.policy}: ${clause} reads ${call} in a form Supabase's Performance Advisor flags (auth_rls_initplan); write (select ${call}) itself, e.g. lower((select auth.jwt()) ->> 'email')`);
      }
    }
    if (p.roles.includes('public')) {
      problems.push(`${p.table} policy ${p.policy}: applies to every role; add "to authenticated" (or the role it is meant for)`);
    }
  }

  // Policies record a dependency on every column they read; each needs an index leading with it.
  const columns = await client.query<PolicyColumnRow>(
    `select format('%I.%I', n.nspname, c.relname) as table, pol.polname as policy, a.attname as column,
            exists (select 1 from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum) as indexed
       from pg_policy pol
       join pg_class c on c.oid = pol.polrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = pol.oid
                       and d.refclassid = 'pg_class'::regclass and d.refobjid = c.oid and d.refobjsubid > 0
       join pg_attribute a on a.attrelid = c.oid and a.attnum = d.refobjsubid
      where n.nspname = any($1)
      order by 1, 2, 3`,
    [schemas],
  );
  for (const c of columns.rows) {
    if (!c.indexed) problems.push(`${c.table} policy ${c.policy}: column ${c.column} has no index leading with it; create index on ${c.table} (${c.column})`);
  }

  const functions = await client.query<FunctionRow>(
    `select format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as name,
            p.prosecdef as security_definer, p.proconfig as config, n.nspname as schema
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any($1) or n.nspname = any($2)
      order by 1`,
    [schemas, privateSchemas],
  );
  for (const f of functions.rows) {
    if (!f.security_definer) continue;
    if (schemas.includes(f.schema)) {
      problems.push(`${f.name}: security definer function in an exposed schema; move it to ${privateSchemas[0] ?? 'a private schema'}`);
    }
    if (!(f.config ?? []).includes('search_path=""')) {
      problems.push(`${f.name}: security definer function without an empty search_path; add set search_path = ''`);
    }
  }

  return problems;
}
