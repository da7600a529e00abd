// The same access matrix on the embedded PGlite, reached over the wire protocol exactly as
// the local stack reaches it, with the migrations pushed by the real supabase CLI.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../dev/postgres/embedded.ts';
import { prepareLocalSupabaseDatabase } from '../../dev/supabase/migrate.ts';
import { connect } from './databases.ts';
import { asIdentity, signedIn, sqlstateOf, type SignedInUser } from './identity.ts';
import { codes, other, owner, registerIsolationTests, registerMatrixTests, registerSabotageTests, seedFixture } from './rls-matrix.ts';

let embedded: EmbeddedPostgres;
let client: pg.Client;

before(async () => {
  embedded = await startEmbeddedPostgres();
  await prepareLocalSupabaseDatabase(embedded.url);
  client = await connect(embedded.url);
  await seedFixture(client);
});

after(async () => {
  await client?.end();
  await embedded?.close();
});

registerMatrixTests(() => client);
registerIsolationTests(() => client);
registerSabotageTests(() => client);

test('on PGlite too: another email is refused (VR403), an expired voucher is refused (VR410), a second redemption gets VR409', async () => {
  await client.query(`insert into public.vouchers (code, email, expires_at) values ('OWNER-EXPIRED-0001', $1, now() - interval '1 minute')`, [owner.email]);
  const redeem = (user: SignedInUser, code: string) => sqlstateOf(asIdentity(client, signedIn(user), (c) => c.query('select * from private.redeem_voucher($1)', [code]), { commit: true }));
  assert.equal(await redeem(other, codes.ownerOpen), 'VR403');
  assert.equal(await redeem(owner, 'OWNER-EXPIRED-0001'), 'VR410');
  assert.equal(await redeem(owner, codes.ownerOpen), undefined);
  assert.equal(await redeem(owner, codes.ownerOpen), 'VR409');
  const r = await client.query('select count(*)::int as n from public.voucher_redemptions where voucher_code = $1', [codes.ownerOpen]);
  assert.equal(r.rows[0].n, 1);
});
