// Databases for the Supabase tests: each test file gets its own database on the tests'
// PostgreSQL (TEST_POSTGRES_ADMIN_URL, see test/helpers/postgres.ts; created here, dropped
// afterwards), made Supabase-compatible by the bootstrap, with the production migrations pushed by
// the real supabase CLI.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { prepareLocalSupabaseDatabase } from '../../dev/supabase/migrate.ts';
import { createDatabase, dropDatabase } from '../helpers/postgres.ts';

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database with a name no other test file (or run) can pick. */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `mm_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  return { name, url: await createDatabase(name), drop: () => dropDatabase(name) };
}

/** A scratch database with the bootstrap and every production migration applied. */
export async function createSupabaseDatabase(label: string): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(label);
  try {
    await prepareLocalSupabaseDatabase(db.url);
  } catch (error) {
    await db.drop();
    throw error;
  }
  return db;
}

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  client.on('notice', () => undefined);
  return client;
}
