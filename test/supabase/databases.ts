// Databases for the Supabase tests: each test file gets its own database on the real
// PostgreSQL at 127.0.0.1:5432 (created here, dropped afterwards), made Supabase-compatible by
// the bootstrap, with the production migrations pushed by the real supabase CLI.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';
import { repoRoot } from '../helpers/process.ts';

/** A superuser connection to the server's maintenance database, used only to create and drop. */
export const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export const supabaseBin = process.env.SUPABASE_BIN ?? join(repoRoot, 'node_modules', '.bin', 'supabase');

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

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real supabase CLI from the repository root (so it reads supabase/config.toml and
 * supabase/migrations). Asynchronous on purpose: an embedded PGlite server lives in this
 * process and must keep answering while the CLI talks to it.
 */
export function supabase(args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(supabaseBin, args, { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      if (code === null) reject(error);
      else resolve({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** `supabase db push --remote=<url> --yes`: the production migrations, unchanged. */
export function pushMigrations(url: string): Promise<CliRun> {
  return supabase(['db', 'push', `--remote=${url}`, '--yes']);
}

/** Bootstrap, then push; fails loudly with the CLI's output if the push fails. */
export async function prepareSupabaseDatabase(url: string): Promise<void> {
  await applySupabaseBootstrap(url);
  const push = await pushMigrations(url);
  if (push.code !== 0) throw new Error(`supabase db push failed (${push.code}):\n${push.stdout}\n${push.stderr}`);
}

/** A scratch database with the bootstrap and every production migration applied. */
export async function createSupabaseDatabase(label: string): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(label);
  try {
    await prepareSupabaseDatabase(db.url);
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
