-- Supabase's API roles, as a hosted project has them. Local and test databases only.
--
-- Roles belong to the whole PostgreSQL cluster, not to one database, and several test
-- databases on one server bootstrap at the same time; bootstrap.ts retries this file when
-- two sessions race to create the same role.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    -- Supabase's API server logs in as authenticator and switches to one of the three roles
    -- above per request; it has no password here because these servers are loopback only.
    create role authenticator login noinherit;
  end if;
end
$$;

-- An existing role may predate this file with other attributes; these are the ones the
-- policies and tests depend on.
alter role anon nologin noinherit nobypassrls;
alter role authenticated nologin noinherit nobypassrls;
alter role service_role nologin noinherit bypassrls;
alter role authenticator login noinherit nobypassrls;

grant anon, authenticated, service_role to authenticator;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
