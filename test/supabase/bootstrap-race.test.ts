// The bootstrap's roles belong to the whole server, so on a fresh server (a new CI machine)
// the first test files to run bootstrap their databases at the same moment and race to
// create the same roles. The shared server already has them, so this test starts a private
// PostgreSQL cluster of its own (same binaries, 127.0.0.1, a free port), removes the roles
// between rounds, and bootstraps six databases at once.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';

const exec = promisify(execFile);
const DATABASES = 6;

let dir: string;
let dataDir: string;
let port: number;
let binDir: string;

/** initdb and pg_ctl refuse to run as root; as root, run them as the postgres OS user. */
function asClusterOwner(program: string, args: string[]) {
  const path = join(binDir, program);
  return userInfo().uid === 0 ? exec('runuser', ['-u', 'postgres', '--', path, ...args]) : exec(path, args);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => resolve(address.port));
    });
  });
}

const urlOf = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;

before(async () => {
  binDir = (await exec('pg_config', ['--bindir'])).stdout.trim();
  dir = mkdtempSync(join(tmpdir(), 'mindmirror-cluster-'));
  if (userInfo().uid === 0) chownSync(dir, Number((await exec('id', ['-u', 'postgres'])).stdout.trim()), -1);
  dataDir = join(dir, 'data');
  await asClusterOwner('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  port = await freePort();
  await asClusterOwner('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, 'start']);
});

after(async () => {
  if (dataDir) await asClusterOwner('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlOf('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

test('six databases bootstrapped at once on a server without the roles: every one succeeds, three rounds running', async () => {
  for (let round = 1; round <= 3; round++) {
    await admin(async (c) => {
      for (let i = 0; i < DATABASES; i++) await c.query(`drop database if exists race_${i}`);
      await c.query('drop role if exists authenticator, anon, authenticated, service_role');
      for (let i = 0; i < DATABASES; i++) await c.query(`create database race_${i}`);
    });
    const results = await Promise.allSettled(Array.from({ length: DATABASES }, (_, i) => applySupabaseBootstrap(urlOf(`race_${i}`))));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    assert.deepEqual(failures, [], `round ${round}`);
    const roles = await admin((c) =>
      c.query(`select rolname, rolbypassrls, pg_has_role('authenticator', rolname, 'member') as via_authenticator from pg_roles
                where rolname in ('anon', 'authenticated', 'service_role') order by 1`),
    );
    assert.deepEqual(roles.rows, [
      { rolname: 'anon', rolbypassrls: false, via_authenticator: true },
      { rolname: 'authenticated', rolbypassrls: false, via_authenticator: true },
      { rolname: 'service_role', rolbypassrls: true, via_authenticator: true },
    ]);
  }
});
