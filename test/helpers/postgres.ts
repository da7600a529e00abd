// The one place the tests learn where PostgreSQL is: TEST_POSTGRES_ADMIN_URL, a superuser
// connection to the server's maintenance database, defaulting to the trust-auth server .ci/run
// starts on 127.0.0.1:5432. Every test database is created and dropped through it, and every test
// database URL is derived from it, so one variable moves the whole suite to another server.

import pg from 'pg';

export const ADMIN_URL_VARIABLE = 'TEST_POSTGRES_ADMIN_URL';
export const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A server that does not answer within this fails the test at once, not at the test's timeout. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The admin URL the suite uses: TEST_POSTGRES_ADMIN_URL when set, else the default. */
export function adminUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env[ADMIN_URL_VARIABLE] || DEFAULT_ADMIN_URL;
}

/** The URL of another database on the same server, as the same user. */
export function databaseUrl(database: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/** The admin URL fit to print: a password in it is hidden. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** A connected client, or an error that says which server, where that came from and what to do. */
async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
    const from = process.env[ADMIN_URL_VARIABLE] ? `from ${ADMIN_URL_VARIABLE}` : `the default; ${ADMIN_URL_VARIABLE} is not set`;
    throw new Error(
      `cannot connect to the tests' PostgreSQL at ${shown(url)} (${from}): ${reason}. ` +
        `Start PostgreSQL on 127.0.0.1:5432 with trust auth for postgres (bash .ci/run does), or set ${ADMIN_URL_VARIABLE} to a superuser URL of another server.`,
    );
  }
  client.on('notice', () => undefined);
  return client;
}

/** Runs fn with a superuser connection to the maintenance database, closed afterwards. */
export async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectTo(adminUrl());
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a database with this (already safe) name and returns its URL. */
export async function createDatabase(name: string): Promise<string> {
  await asAdmin((c) => c.query(`create database "${name}"`));
  return databaseUrl(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await asAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
}
