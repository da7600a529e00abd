// Databases for the Supabase tests: each test file gets its own database on the real
// PostgreSQL at 127.0.0.1:5432 (created here, dropped afterwards), made Supabase-compatible by
// the bootstrap, with the production migrations pushed by the real supabase CLI.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { prepareLocalSupabaseDatabase } from '../../dev/supabase/migrate.ts';

/** A superuser connection to the server's maintenance database, used only to create and drop. */
export const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database with a name no other test file (or run) can pick. */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `mm_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await asAdmin((c) => c.query(`create database "${name}"`));
  return {
    name,
    url: urlFor(name),
    drop: () => asAdmin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
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
