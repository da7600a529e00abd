// private.redeem_voucher on both databases (the PostgreSQL server and the embedded PGlite): each
// documented error, the one success, and what deleting a user leaves behind; and on PostgreSQL,
// which runs several sessions at once, concurrent redemption of one code.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { connect } from './databases.ts';
import { DATABASE_TARGETS, type MigratedDatabase } from './targets.ts';
import { asIdentity, assumeIdentity, serviceRole, signedIn, sqlstateOf, type SignedInUser } from './identity.ts';

for (const target of DATABASE_TARGETS) {
  describe(`on ${target.name}`, () => {
    // Concurrent sessions need a server that runs them: PGlite is a single backend.
    const onSeveralSessions = target.concurrentSessions ? test : () => undefined;

    let db: MigratedDatabase;
    let admin: pg.Client;

    before(async () => {
      db = await target.start('vouchers');
      admin = await connect(db.url);
    });

    after(async () => {
      await admin?.end();
      await db?.close();
    });

    async function newUser(): Promise<SignedInUser> {
      const user = { id: randomUUID(), email: `user-${randomUUID().slice(0, 8)}@example.test` };
      await admin.query(`insert into auth.users (id, aud, role, email, email_confirmed_at) values ($1, 'authenticated', 'authenticated', $2, now())`, [user.id, user.email]);
      return user;
    }

    /** Issues a voucher the way an admin does: service_role, a plain insert of email and expiry. */
    async function issue(email: string, expiresIn = '7 days'): Promise<string> {
      return asIdentity(
        admin,
        serviceRole,
        async (c) => (await c.query<{ code: string }>(`insert into public.vouchers (email, expires_at) values ($1, now() + $2::interval) returning code`, [email, expiresIn])).rows[0]!.code,
        { commit: true },
      );
    }

    function redeem(client: pg.ClientBase, user: SignedInUser, code: string, claims?: Record<string, unknown>) {
      return asIdentity(client, signedIn(user, claims), (c) => c.query(`select * from private.redeem_voucher($1)`, [code]), { commit: true });
    }

    async function voucherState(code: string): Promise<{ redeemed_at: Date | null; redemptions: number }> {
      const r = await admin.query(`select v.redeemed_at, (select count(*)::int from public.voucher_redemptions where voucher_code = v.code) as redemptions from public.vouchers v where code = $1`, [code]);
      return r.rows[0];
    }

    test('an admin issues a voucher with email and expires_at only; the code is generated', async () => {
      const code = await issue('invitee@example.test');
      assert.match(code, /^[0-9a-f]{32}$/);
    });

    test('an email that is not lower case is refused with the constraint that says so', async () => {
      const error = await asIdentity(admin, serviceRole, (c) => c.query(`insert into public.vouchers (email, expires_at) values ('Mixed@Example.test', now() + interval '1 day')`)).catch((e: unknown) => e as Error & { code: string; constraint: string });
      assert.ok(error instanceof Error);
      assert.equal(error.code, '23514');
      assert.equal(error.constraint, 'vouchers_email_lowercase');
    });

    test('the invited user redeems their voucher once: one redemption row, the voucher marked', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      const result = await redeem(admin, user, code);
      assert.equal(result.rowCount, 1);
      assert.equal(result.rows[0].voucher_code, code);
      assert.equal(result.rows[0].user_id, user.id);
      assert.ok(result.rows[0].redeemed_at instanceof Date);
      const state = await voucherState(code);
      assert.ok(state.redeemed_at);
      assert.equal(state.redemptions, 1);
    });

    test('the email claim is compared case-insensitively', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      const result = await redeem(admin, user, code, { sub: user.id, email: user.email.toUpperCase(), role: 'authenticated' });
      assert.equal(result.rowCount, 1);
    });

    test('redeeming it again: VR409 already redeemed', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      await redeem(admin, user, code);
      const error = await redeem(admin, user, code).catch((e: unknown) => e as Error & { code: string });
      assert.equal((error as { code: string }).code, 'VR409');
      assert.match((error as Error).message, /voucher already redeemed/);
    });

    test('a voucher issued to another email: VR403, and it stays unredeemed', async () => {
      const invited = await newUser();
      const stranger = await newUser();
      const code = await issue(invited.email);
      assert.equal(await sqlstateOf(redeem(admin, stranger, code)), 'VR403');
      assert.deepEqual(await voucherState(code), { redeemed_at: null, redemptions: 0 });
    });

    test('an expired voucher: VR410', async () => {
      const user = await newUser();
      const code = await issue(user.email, '-1 minute');
      assert.equal(await sqlstateOf(redeem(admin, user, code)), 'VR410');
      assert.deepEqual(await voucherState(code), { redeemed_at: null, redemptions: 0 });
    });

    test('an unknown code: VR404', async () => {
      const user = await newUser();
      assert.equal(await sqlstateOf(redeem(admin, user, 'NO-SUCH-CODE-0000')), 'VR404');
    });

    test('claims without sub or without email: VR401', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      assert.equal(await sqlstateOf(redeem(admin, user, code, { email: user.email, role: 'authenticated' })), 'VR401');
      assert.equal(await sqlstateOf(redeem(admin, user, code, { sub: user.id, role: 'authenticated' })), 'VR401');
      assert.equal(await sqlstateOf(redeem(admin, user, code, {})), 'VR401');
    });

    onSeveralSessions('two concurrent redemptions of one code: the second waits for the first, then gets VR409', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      const first = await connect(db.url);
      const second = await connect(db.url);
      try {
        await first.query('begin');
        await assumeIdentity(first, signedIn(user));
        await first.query('select * from private.redeem_voucher($1)', [code]);
        // The first transaction holds the voucher's row lock and has not committed yet.
        const secondPid = (await second.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        const secondRedeem = sqlstateOf(redeem(second, user, code));
        await waitUntil(async () => (await admin.query(`select wait_event_type from pg_stat_activity where pid = $1`, [secondPid])).rows[0]?.wait_event_type === 'Lock');
        await first.query('commit');
        assert.equal(await secondRedeem, 'VR409');
        assert.equal((await voucherState(code)).redemptions, 1);
      } finally {
        await first.end();
        await second.end();
      }
    });

    onSeveralSessions('under repeatable read the losing transaction fails with 40001 instead: still one redemption', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      const first = await connect(db.url);
      const second = await connect(db.url);
      try {
        for (const c of [first, second]) {
          await c.query('begin isolation level repeatable read');
          await assumeIdentity(c, signedIn(user));
          await c.query('select 1'); // takes the snapshot before either redeems
        }
        await first.query('select * from private.redeem_voucher($1)', [code]);
        const secondRedeem = sqlstateOf(second.query('select * from private.redeem_voucher($1)', [code]));
        await first.query('commit');
        assert.equal(await secondRedeem, '40001');
        await second.query('rollback');
        assert.equal((await voucherState(code)).redemptions, 1);
      } finally {
        await first.end();
        await second.end();
      }
    });

    onSeveralSessions('eight sessions redeeming one code at once: exactly one succeeds, seven get VR409', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      const clients = await Promise.all(Array.from({ length: 8 }, () => connect(db.url)));
      try {
        const outcomes = await Promise.all(clients.map((c) => sqlstateOf(redeem(c, user, code))));
        assert.equal(outcomes.filter((o) => o === undefined).length, 1, String(outcomes));
        assert.equal(outcomes.filter((o) => o === 'VR409').length, 7, String(outcomes));
        assert.equal((await voucherState(code)).redemptions, 1);
      } finally {
        await Promise.all(clients.map((c) => c.end()));
      }
    });

    test('deleting a user removes their profile and redemptions; their voucher stays spent', async () => {
      const user = await newUser();
      const code = await issue(user.email);
      await asIdentity(admin, signedIn(user), (c) => c.query(`insert into public.profiles (user_id, display_name) values ($1, 'Leaving')`, [user.id]), { commit: true });
      await redeem(admin, user, code);

      await admin.query('delete from auth.users where id = $1', [user.id]);

      assert.equal((await admin.query('select 1 from public.profiles where user_id = $1', [user.id])).rowCount, 0);
      const state = await voucherState(code);
      assert.equal(state.redemptions, 0);
      assert.ok(state.redeemed_at, 'the voucher keeps its redeemed_at');
      // A new account with the same email cannot spend it again.
      const again = { id: randomUUID(), email: user.email };
      await admin.query(`insert into auth.users (id, email) values ($1, $2)`, [again.id, again.email]);
      assert.equal(await sqlstateOf(redeem(admin, again, code)), 'VR409');
    });

    test('a redeemed voucher cannot be deleted from under its redemption; an open one can', async () => {
      const user = await newUser();
      const spent = await issue(user.email);
      const open = await issue(user.email);
      await redeem(admin, user, spent);
      const deleteVoucher = (code: string) => asIdentity(admin, serviceRole, (c) => c.query('delete from public.vouchers where code = $1', [code]), { commit: true });
      // PostgreSQL 17 (production's major, and PGlite's) reports on delete restrict as
      // restrict_violation; 15 as foreign_key_violation. Either way the delete is refused.
      const version = Number((await admin.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]!.v);
      assert.equal(await sqlstateOf(deleteVoucher(spent)), version >= 170000 ? '23001' : '23503');
      assert.equal(await sqlstateOf(deleteVoucher(open)), undefined);
    });

    async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  });
}
