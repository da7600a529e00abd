-- Fail fast rather than queue Auth behind this migration (see supabase/README.md).
set local lock_timeout = '3s';
set local statement_timeout = '60s';

-- Redeeming a voucher: one atomic function, so the checks and the two writes cannot be
-- separated or raced. It runs as its owner (security definer) because users have no write
-- grants on vouchers or voucher_redemptions; hence the unexposed schema and the empty
-- search_path, which keeps a caller's objects from standing in for the ones named here.
--
-- Errors carry their own SQLSTATE (class VR, chosen to echo the matching HTTP status) so
-- callers switch on the code, never on the message:
--   VR401  no signed-in user with an email in the JWT claims
--   VR404  no voucher with this code
--   VR403  the voucher was issued to another email
--   VR409  the voucher is already redeemed
--   VR410  the voucher has expired
-- Two concurrent redemptions of one code: the row lock makes the second wait for the first,
-- then it sees the voucher redeemed (VR409); under repeatable read or serializable it fails
-- with 40001 instead. Either way exactly one succeeds.

grant usage on schema private to authenticated;

create or replace function private.redeem_voucher(p_code text)
returns public.voucher_redemptions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  caller_id uuid := auth.uid();
  caller_email text := pg_catalog.lower(auth.jwt() ->> 'email');
  voucher public.vouchers;
  redemption public.voucher_redemptions;
begin
  if caller_id is null or coalesce(caller_email, '') = '' then
    raise exception using
      errcode = 'VR401',
      message = 'voucher redemption needs a signed-in user with an email',
      hint = 'Call it as role authenticated with request.jwt.claims holding sub and email.';
  end if;

  select * into voucher from public.vouchers where code = p_code for update;
  if not found then
    raise exception using errcode = 'VR404', message = 'voucher not found';
  end if;
  -- Checked before the voucher's state, so a stranger learns nothing about it.
  if voucher.email <> caller_email then
    raise exception using errcode = 'VR403', message = 'voucher was issued to another email';
  end if;
  if voucher.redeemed_at is not null then
    raise exception using errcode = 'VR409', message = 'voucher already redeemed';
  end if;
  if voucher.expires_at <= pg_catalog.now() then
    raise exception using errcode = 'VR410', message = 'voucher expired';
  end if;

  update public.vouchers set redeemed_at = pg_catalog.now() where code = voucher.code;
  insert into public.voucher_redemptions (voucher_code, user_id)
    values (voucher.code, caller_id)
    returning * into redemption;
  return redemption;
end;
$$;

comment on function private.redeem_voucher(text) is
  'Redeems a voucher for the signed-in user (auth.uid(), JWT email). Errors: VR401 not signed in, VR404 unknown code, VR403 another email, VR409 already redeemed, VR410 expired.';

revoke all on function private.redeem_voucher(text) from public, anon, authenticated, service_role;
grant execute on function private.redeem_voucher(text) to authenticated;
