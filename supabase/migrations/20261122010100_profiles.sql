-- Fail fast rather than queue Auth behind this migration (see supabase/README.md).
set local lock_timeout = '3s';
set local statement_timeout = '60s';

-- One profile row per user. The user creates, reads and edits their own; it goes away with
-- the account (on delete cascade), never on its own.

create table if not exists public.profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  display_name text not null check (char_length(display_name) between 1 and 80),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.profiles is 'A user''s own profile; one row per auth.users row, removed with it.';

-- Policies filter on user_id; the primary key is its index.

alter table public.profiles enable row level security;
-- Without FORCE the table owner would bypass the policies.
alter table public.profiles force row level security;

-- Supabase grants everything in public to the API roles by default; take it all back and
-- grant only what the policies below are meant to allow. anon gets nothing at all.
revoke all on table public.profiles from public, anon, authenticated, service_role;
-- A user may set their name, and the user_id only on insert (the policy pins it to
-- themselves); timestamps are the database's.
grant select on table public.profiles to authenticated;
grant insert (user_id, display_name) on table public.profiles to authenticated;
grant update (display_name) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

drop policy if exists profiles_select_own on public.profiles;
create policy profiles_select_own on public.profiles
  for select to authenticated
  using (user_id = (select auth.uid()));

drop policy if exists profiles_insert_own on public.profiles;
create policy profiles_insert_own on public.profiles
  for insert to authenticated
  with check (user_id = (select auth.uid()));

drop policy if exists profiles_update_own on public.profiles;
create policy profiles_update_own on public.profiles
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create or replace trigger profiles_set_updated_at
  before update on public.profiles
  for each row execute function private.set_updated_at();
