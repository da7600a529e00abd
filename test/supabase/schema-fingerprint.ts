// A readable description of everything a migration or the bootstrap can change in one
// database: relations and their grants, columns, constraints, indexes, policies, functions,
// triggers, schemas and default privileges. Two equal fingerprints mean "nothing changed";
// on a difference, assert.deepEqual shows exactly which line moved.

import type pg from 'pg';

const SCHEMAS = ['public', 'private', 'auth', 'extensions', 'supabase_migrations'];

const FINGERPRINT_SQL = `
with ns as (select oid, nspname from pg_namespace where nspname = any($1))
select line from (
  select format('schema %s acl=%s', nspname, nspacl) as line from pg_namespace where nspname = any($1)
  union all
  select format('relation %s.%s kind=%s rls=%s forced=%s acl=%s options=%s', ns.nspname, c.relname, c.relkind,
                c.relrowsecurity, c.relforcerowsecurity, c.relacl, c.reloptions)
    from pg_class c join ns on ns.oid = c.relnamespace
  union all
  select format('column %s.%s.%s %s notnull=%s default=%s acl=%s', ns.nspname, c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl)
    from pg_attribute a join pg_class c on c.oid = a.attrelid join ns on ns.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v')
  union all
  select format('constraint %s.%s %s', ns.nspname, co.conname, pg_get_constraintdef(co.oid))
    from pg_constraint co join ns on ns.oid = co.connamespace
  union all
  select format('index %s', pg_get_indexdef(i.indexrelid))
    from pg_index i join pg_class c on c.oid = i.indrelid join ns on ns.oid = c.relnamespace
  union all
  select format('policy %s.%s %s %s roles=%s using=%s check=%s', schemaname, tablename, policyname, cmd, roles, qual, with_check)
    from pg_policies where schemaname = any($1)
  union all
  select format('function %s definer=%s volatile=%s config=%s acl=%s body=%s', p.oid::regprocedure, p.prosecdef,
                p.provolatile, p.proconfig, p.proacl, md5(p.prosrc))
    from pg_proc p join ns on ns.oid = p.pronamespace
  union all
  select format('trigger %s', pg_get_triggerdef(t.oid))
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join ns on ns.oid = c.relnamespace
   where not t.tgisinternal
  union all
  select format('default privileges %s %s %s', coalesce(n.nspname, '*'), d.defaclobjtype, d.defaclacl)
    from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace
  union all
  select format('comment %s %s', d.objoid, md5(d.description)) from pg_description d
    join pg_class c on c.oid = d.objoid and d.classoid = 'pg_class'::regclass join ns on ns.oid = c.relnamespace
) lines
order by line`;

export async function schemaFingerprint(client: pg.ClientBase, schemas: string[] = SCHEMAS): Promise<string[]> {
  const r = await client.query<{ line: string }>(FINGERPRINT_SQL, [schemas]);
  return r.rows.map((row) => row.line);
}
