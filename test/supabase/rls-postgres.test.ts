// The access matrix on the real PostgreSQL server, in a database of its own with the
// bootstrap and every production migration pushed by the real supabase CLI.

import { after, before } from 'node:test';
import type pg from 'pg';
import { connect, createSupabaseDatabase, type ScratchDatabase } from './databases.ts';
import { registerIsolationTests, registerMatrixTests, registerSabotageTests, seedFixture } from './rls-matrix.ts';

let db: ScratchDatabase;
let client: pg.Client;

before(async () => {
  db = await createSupabaseDatabase('rls_pg');
  client = await connect(db.url);
  await seedFixture(client);
});

after(async () => {
  await client?.end();
  await db?.drop();
});

registerMatrixTests(() => client);
registerIsolationTests(() => client);
registerSabotageTests(() => client);
