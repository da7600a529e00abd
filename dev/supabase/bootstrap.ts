// Makes a plain PostgreSQL (or PGlite) database look like a hosted Supabase database to the
// production migrations: API roles, the auth and extensions schemas, auth.users and the JWT
// helpers. For local and test databases only; production is a real Supabase project.

import { readFileSync } from 'node:fs';
import pg from 'pg';

const rolesSql = readFileSync(new URL('./roles.sql', import.meta.url), 'utf8');
const schemaSql = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

// Roles are shared by every database on a server, so two test databases bootstrapping at
// once can collide on the catalog rows of the same role or membership.
const RACE_CODES = new Set(['23505', '42710', '40001', '40P01', 'XX000']);
const ROLE_ATTEMPTS = 8;

// Any constant works: the lock only keeps two bootstraps of the same database apart.
const SCHEMA_LOCK_KEY = 4_242_001;

function isRace(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code === 'XX000') return /concurrently/i.test((error as Error).message);
  return code !== undefined && RACE_CODES.has(code);
}

async function createRoles(client: pg.Client): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(rolesSql);
      return;
    } catch (error) {
      if (!isRace(error) || attempt === ROLE_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }
}

async function createSchema(client: pg.Client): Promise<void> {
  await client.query('begin');
  try {
    await client.query('select pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await client.query(schemaSql);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/**
 * Applies the Supabase-compatible bootstrap to the database at `databaseUrl`. Idempotent: a
 * second call changes nothing. Needs a role that may create roles and schemas (a superuser
 * locally, `postgres` on PGlite).
 */
export async function applySupabaseBootstrap(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // The notices ("role is already a member", "schema already exists") are expected on
    // every run after the first and would only be noise.
    client.on('notice', () => undefined);
    await createRoles(client);
    await createSchema(client);
  } finally {
    await client.end();
  }
}
