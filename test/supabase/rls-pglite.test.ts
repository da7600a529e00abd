// The same access matrix on the embedded PGlite, reached over the wire protocol exactly as
// the local stack reaches it, with the migrations pushed by the real supabase CLI.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../dev/postgres/embedded.ts';
import { connect, prepareSupabaseDatabase } from './databases.ts';
import { exposedSchemas, findRlsProblems } from './rls-catalog.ts';
import { registerIsolationTests, registerMatrixTests, registerSabotageTests, seedFixture } from './rls-matrix.ts';

let embedded: EmbeddedPostgres;
let client: pg.Client;

before(async () => {
  embedded = await startEmbeddedPostgres();
  await prepareSupabaseDatabase(embedded.url);
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

test('the migrated PGlite database breaks no RLS rule either', async () => {
  assert.deepEqual(await findRlsProblems(client, exposedSchemas()), []);
});
