// The access matrix of the exposed tables: for every table and operation, what anon, the
// owner of the rows, another signed-in user and service_role may do to the owner's rows.
// Shared by the real-PostgreSQL and the PGlite suites, which must agree.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { anon, assumeIdentity, serviceRole, signedIn, type Identity, type SignedInUser } from './identity.ts';

export const owner: SignedInUser = { id: '0a0a0a0a-0000-4000-8000-00000000000a', email: 'owner@example.test' };
export const other: SignedInUser = { id: '0b0b0b0b-0000-4000-8000-00000000000b', email: 'other@example.test' };

/** Codes of the fixture's vouchers: each user has one redeemed and one open voucher. */
export const codes = {
  ownerRedeemed: 'OWNER-REDEEMED-0001',
  ownerOpen: 'OWNER-OPEN-0001',
  otherRedeemed: 'OTHER-REDEEMED-0001',
  otherOpen: 'OTHER-OPEN-0001',
} as const;

/** Rows for both users in every table, written as the superuser (committed). */
export async function seedFixture(client: pg.ClientBase): Promise<void> {
  await client.query(
    `insert into auth.users (id, aud, role, email, email_confirmed_at, created_at, updated_at)
     values ($1, 'authenticated', 'authenticated', $2, now(), now(), now()),
            ($3, 'authenticated', 'authenticated', $4, now(), now(), now())`,
    [owner.id, owner.email, other.id, other.email],
  );
  await client.query(`insert into public.profiles (user_id, display_name) values ($1, 'Owner'), ($2, 'Other')`, [owner.id, other.id]);
  await client.query(
    `insert into public.vouchers (code, email, expires_at, redeemed_at) values
       ($1, $5, now() + interval '7 days', now()), ($2, $5, now() + interval '7 days', null),
       ($3, $6, now() + interval '7 days', now()), ($4, $6, now() + interval '7 days', null)`,
    [codes.ownerRedeemed, codes.ownerOpen, codes.otherRedeemed, codes.otherOpen, owner.email, other.email],
  );
  await client.query(`insert into public.voucher_redemptions (voucher_code, user_id) values ($1, $2), ($3, $4)`, [
    codes.ownerRedeemed,
    owner.id,
    codes.otherRedeemed,
    other.id,
  ]);
}

/** rows: allowed, and it reached every target row; none: allowed, but it reached no row; denied: 42501. */
export type Outcome = 'rows' | 'none' | 'denied';

export const identities = {
  anon,
  owner: signedIn(owner),
  other: signedIn(other),
  service_role: serviceRole,
} as const satisfies Record<string, Identity>;

type Who = keyof typeof identities;

interface Statement {
  /** Run as the superuser first, inside the same (rolled back) transaction. */
  setup?: string;
  /** Targets the owner's rows and returns them. */
  sql: string;
}

interface Case extends Statement {
  table: string;
  op: 'select' | 'insert' | 'update' | 'delete';
  /** How many rows the statement reaches when it is allowed to reach them all. */
  targetRows: number;
  expect: Record<Who, Outcome>;
}

const O = owner.id;
const E = owner.email;

export const matrix: Case[] = [
  {
    table: 'profiles',
    op: 'select',
    sql: `select user_id from public.profiles where user_id = '${O}'`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'rows', other: 'none', service_role: 'rows' },
  },
  {
    table: 'profiles',
    op: 'insert',
    setup: `delete from public.profiles where user_id = '${O}'`,
    sql: `insert into public.profiles (user_id, display_name) values ('${O}', 'New') returning user_id`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'rows', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'profiles',
    op: 'update',
    sql: `update public.profiles set display_name = 'Changed' where user_id = '${O}' returning user_id`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'rows', other: 'none', service_role: 'rows' },
  },
  {
    table: 'profiles',
    op: 'delete',
    sql: `delete from public.profiles where user_id = '${O}' returning user_id`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'vouchers',
    op: 'select',
    sql: `select code from public.vouchers where email = '${E}'`,
    targetRows: 2,
    expect: { anon: 'denied', owner: 'rows', other: 'none', service_role: 'rows' },
  },
  {
    table: 'vouchers',
    op: 'insert',
    sql: `insert into public.vouchers (email, expires_at) values ('${E}', now() + interval '1 day') returning code`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'vouchers',
    op: 'update',
    sql: `update public.vouchers set expires_at = now() + interval '365 days' where email = '${E}' returning code`,
    targetRows: 2,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'vouchers',
    op: 'delete',
    sql: `delete from public.vouchers where code = '${codes.ownerOpen}' returning code`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'voucher_redemptions',
    op: 'select',
    sql: `select voucher_code from public.voucher_redemptions where user_id = '${O}'`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'rows', other: 'none', service_role: 'rows' },
  },
  {
    table: 'voucher_redemptions',
    op: 'insert',
    sql: `insert into public.voucher_redemptions (voucher_code, user_id) values ('${codes.ownerOpen}', '${O}') returning voucher_code`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'voucher_redemptions',
    op: 'update',
    sql: `update public.voucher_redemptions set redeemed_at = now() where user_id = '${O}' returning voucher_code`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
  {
    table: 'voucher_redemptions',
    op: 'delete',
    sql: `delete from public.voucher_redemptions where user_id = '${O}' returning voucher_code`,
    targetRows: 1,
    expect: { anon: 'denied', owner: 'denied', other: 'denied', service_role: 'rows' },
  },
];

export interface Observed {
  outcome: Outcome;
  rows: number;
  message?: string;
}

/** Runs one case as `identity` in a transaction that is always rolled back. */
export async function observe(client: pg.ClientBase, c: Statement, identity: Identity): Promise<Observed> {
  await client.query('begin');
  try {
    if (c.setup) await client.query(c.setup);
    await assumeIdentity(client, identity);
    const result = await client.query(c.sql);
    const rows = result.rowCount ?? 0;
    return { outcome: rows > 0 ? 'rows' : 'none', rows };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === '42501') return { outcome: 'denied', rows: 0, message };
    throw error;
  } finally {
    await client.query('rollback');
  }
}

/** Registers one node:test test per table, operation and identity. */
export function registerMatrixTests(getClient: () => pg.ClientBase): void {
  for (const c of matrix) {
    for (const who of Object.keys(identities) as Who[]) {
      const expected = c.expect[who];
      test(`${c.table} ${c.op} as ${who}: ${expected}`, async () => {
        const seen = await observe(getClient(), c, identities[who]);
        assert.equal(seen.outcome, expected, `${c.sql}\nas ${who}: ${seen.message ?? `${seen.rows} rows`}`);
        if (expected === 'rows') assert.equal(seen.rows, c.targetRows, 'an allowed statement reaches every one of the owner\'s target rows');
      });
    }
  }
}

/** Everything each signed-in user can list, unfiltered, is their own. */
export function registerIsolationTests(getClient: () => pg.ClientBase): void {
  for (const [who, user] of [['owner', owner], ['other', other]] as const) {
    test(`${who} lists only their own rows in every table`, async () => {
      const client = getClient();
      await client.query('begin');
      try {
        await assumeIdentity(client, signedIn(user));
        const profiles = await client.query<{ user_id: string }>('select user_id from public.profiles');
        const vouchers = await client.query<{ email: string }>('select email from public.vouchers');
        const redemptions = await client.query<{ user_id: string }>('select user_id from public.voucher_redemptions');
        assert.deepEqual(profiles.rows.map((r) => r.user_id), [user.id]);
        assert.deepEqual(vouchers.rows.map((r) => r.email), [user.email, user.email]);
        assert.deepEqual(redemptions.rows.map((r) => r.user_id), [user.id]);
      } finally {
        await client.query('rollback');
      }
    });
  }

  test('a user cannot move their profile to another user or rewrite its timestamps', async () => {
    const client = getClient();
    for (const set of [`user_id = '${other.id}'`, `created_at = now() - interval '1 year'`, `updated_at = now() - interval '1 year'`]) {
      const seen = await observe(client, { sql: `update public.profiles set ${set} where user_id = '${O}' returning user_id` }, identities.owner);
      assert.equal(seen.outcome, 'denied', set);
    }
  });

  test('anon and service_role cannot call private.redeem_voucher; a signed-in user can', async () => {
    const client = getClient();
    const call = { sql: `select * from private.redeem_voucher('${codes.ownerOpen}')` };
    assert.equal((await observe(client, call, identities.anon)).outcome, 'denied');
    assert.equal((await observe(client, call, identities.service_role)).outcome, 'denied');
    assert.equal((await observe(client, call, identities.owner)).outcome, 'rows');
  });
}

/** The matrix notices when a rule is broken: the same cases against sabotaged policies and grants. */
export function registerSabotageTests(getClient: () => pg.ClientBase): void {
  const find = (table: string, op: Case['op']) => matrix.find((c) => c.table === table && c.op === op)!;

  test('a policy opened to everyone lets the other user see the owner\'s profile, and the matrix says so', async () => {
    const c = find('profiles', 'select');
    const seen = await observe(getClient(), { setup: 'alter policy profiles_select_own on public.profiles using (true)', sql: c.sql }, identities.other);
    assert.notEqual(seen.outcome, c.expect.other);
  });

  test('a grant to anon turns "denied" into a policy question, and the matrix says so', async () => {
    const c = find('vouchers', 'select');
    const seen = await observe(getClient(), { setup: 'grant select on public.vouchers to anon', sql: c.sql }, identities.anon);
    assert.notEqual(seen.outcome, c.expect.anon);
  });

  test('without forced RLS the table owner reads everything, and the matrix says so', async () => {
    const c = find('voucher_redemptions', 'select');
    // Make the other user's role own the table; with FORCE off the owner skips the policies.
    const setup = `alter table public.voucher_redemptions no force row level security;
                   alter table public.voucher_redemptions owner to authenticated`;
    const seen = await observe(getClient(), { setup, sql: c.sql }, identities.other);
    assert.notEqual(seen.outcome, c.expect.other);
  });
}
