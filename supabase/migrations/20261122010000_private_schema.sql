-- Fail fast rather than queue Auth behind this migration (see supabase/README.md).
set local lock_timeout = '3s';
set local statement_timeout = '60s';

-- The private schema holds what the Data API must never expose: security definer functions
-- and trigger functions. It is not listed in [api] schemas in config.toml.
--
-- Every statement in these migrations can run again on a database that already has it, so a
-- migration re-applied by hand (or by `supabase migration repair` followed by a push) is a
-- no-op rather than an error.

-- Security definer functions below run as the migration's role and rely on it bypassing row
-- level security (Supabase's postgres role has BYPASSRLS; a local superuser bypasses it too).
-- Under any other role the functions would silently see no rows, so refuse to go on.
do $$
begin
  if not exists (
    select 1 from pg_catalog.pg_roles
    where rolname = current_user and (rolbypassrls or rolsuper)
  ) then
    raise exception 'migrations must run as a role with BYPASSRLS (postgres on Supabase), not %', current_user;
  end if;
end
$$;

create schema if not exists private;

-- Nobody but its owner uses private by default; later migrations grant usage to the roles
-- that call a function in it (and only execute on that function).
revoke all on schema private from public;

-- Keeps updated_at honest whatever the client sends.
create or replace function private.set_updated_at() returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

revoke all on function private.set_updated_at() from public, anon, authenticated, service_role;
