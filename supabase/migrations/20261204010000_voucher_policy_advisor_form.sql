-- Fail fast instead of queueing Auth: a lock this migration cannot get within 3 s (Auth writes
-- auth.users and these tables on every sign-up and sign-in) cancels it, and no statement runs
-- longer than a minute. `set local` ends with the migration's transaction.
set local lock_timeout = '3s';
set local statement_timeout = '60s';

-- The same rule as before (the invited user sees their own vouchers, the e-mail claim read once
-- per statement), written the way Supabase's Performance Advisor recognises: the select wraps
-- auth.jwt() itself, not the lower() around it. alter policy swaps the expression in place, so
-- there is no moment without the policy.
alter policy vouchers_select_invited on public.vouchers
  using (email = lower((select auth.jwt()) ->> 'email'));
