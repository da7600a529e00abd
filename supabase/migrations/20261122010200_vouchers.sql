-- Fail fast rather than queue Auth behind this migration (see supabase/README.md).
set local lock_timeout = '3s';
set local statement_timeout = '60s';

-- Alpha invitations. An admin (service_role) issues a voucher to an invited email; the user
-- signed in with that email can see it and redeem it once, through private.redeem_voucher
-- (next migration), which records who redeemed it.

create table if not exists public.vouchers (
  -- 128 random bits unless the admin chooses a code.
  code text primary key default replace(gen_random_uuid()::text, '-', ''),
  email text not null,
  expires_at timestamptz not null,
  -- Set once, by private.redeem_voucher. It stays set when the redeeming account is deleted,
  -- so a voucher can never be spent twice.
  redeemed_at timestamptz,
  created_at timestamptz not null default now(),
  -- Stored in lower case; private.redeem_voucher lower-cases the JWT's email claim to compare.
  constraint vouchers_email_lowercase check (email = lower(email) and email like '%_@_%'),
  constraint vouchers_code_length check (char_length(code) between 8 and 128)
);

comment on table public.vouchers is 'Alpha invitations: one code per invited email, redeemable once before expires_at.';

-- Policy column.
create index if not exists vouchers_email_idx on public.vouchers (email);

create table if not exists public.voucher_redemptions (
  -- The primary key alone already makes a second redemption of one code impossible.
  -- Restrict: a redeemed voucher is history and is not deleted from under its redemption.
  voucher_code text primary key references public.vouchers (code) on delete restrict,
  user_id uuid not null references auth.users (id) on delete cascade,
  redeemed_at timestamptz not null default now()
);

comment on table public.voucher_redemptions is 'Who redeemed which voucher; removed with the user, the voucher stays spent.';

-- Policy column.
create index if not exists voucher_redemptions_user_id_idx on public.voucher_redemptions (user_id);

alter table public.vouchers enable row level security;
alter table public.vouchers force row level security;
alter table public.voucher_redemptions enable row level security;
alter table public.voucher_redemptions force row level security;

-- Users only read; every write goes through service_role or private.redeem_voucher.
revoke all on table public.vouchers from public, anon, authenticated, service_role;
revoke all on table public.voucher_redemptions from public, anon, authenticated, service_role;
grant select on table public.vouchers to authenticated;
grant select on table public.voucher_redemptions to authenticated;
grant select, insert, update, delete on table public.vouchers to service_role;
grant select, insert, update, delete on table public.voucher_redemptions to service_role;

drop policy if exists vouchers_select_invited on public.vouchers;
create policy vouchers_select_invited on public.vouchers
  for select to authenticated
  using (email = lower((select auth.jwt()) ->> 'email'));

drop policy if exists voucher_redemptions_select_own on public.voucher_redemptions;
create policy voucher_redemptions_select_own on public.voucher_redemptions
  for select to authenticated
  using (user_id = (select auth.uid()));
