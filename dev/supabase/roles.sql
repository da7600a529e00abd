-- Supabase's API roles, as a hosted project has them. Local and test databases only.
--
-- Roles belong to the whole PostgreSQL cluster, not to one database, and several test
-- databases on one server bootstrap at the same time. So nothing is written when a role is
-- already as it should be (no catalog row is touched, nothing to collide on), and
-- bootstrap.ts retries this file when two sessions race to create or change the same role.

do $$
declare
  wanted record;
begin
  for wanted in
    select * from (values
      -- name, can log in, bypasses RLS, statement timeout
      ('anon', false, false, '3s'),
      ('authenticated', false, false, '8s'),
      ('service_role', false, true, null),
      -- Supabase's API server logs in as authenticator and switches to one of the roles
      -- above per request; no password here because these servers are loopback only.
      ('authenticator', true, false, null)
    ) as r(name, login, bypassrls, statement_timeout)
  loop
    if not exists (select 1 from pg_roles where rolname = wanted.name) then
      execute format('create role %I noinherit', wanted.name);
    end if;
    -- A role that predates this file may have other attributes; these are the ones the
    -- policies and tests depend on.
    if not exists (
      select 1 from pg_roles
      where rolname = wanted.name and rolcanlogin = wanted.login and not rolinherit and rolbypassrls = wanted.bypassrls
    ) then
      execute format('alter role %I %s noinherit %s', wanted.name,
        case when wanted.login then 'login' else 'nologin' end,
        case when wanted.bypassrls then 'bypassrls' else 'nobypassrls' end);
    end if;
    if wanted.statement_timeout is not null and not exists (
      select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
      where r.rolname = wanted.name and s.setdatabase = 0
        and ('statement_timeout=' || wanted.statement_timeout) = any (s.setconfig)
    ) then
      execute format('alter role %I set statement_timeout = %L', wanted.name, wanted.statement_timeout);
    end if;
  end loop;

  for wanted in select unnest(array['anon', 'authenticated', 'service_role']) as name loop
    if not pg_has_role('authenticator', wanted.name, 'member') then
      execute format('grant %I to authenticator', wanted.name);
    end if;
  end loop;
end
$$;
