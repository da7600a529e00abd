// dev/postgres/embedded.ts: PGlite over the wire protocol, driven by the real supabase CLI,
// in memory and persistent across a restart.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { startEmbeddedPostgres } from '../../dev/postgres/embedded.ts';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';
import { tempDir } from '../helpers/process.ts';
import { pushMigrations } from '../../dev/supabase/migrate.ts';
import { connect } from './databases.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('supabase db push applies the migrations to a persistent PGlite, and after a restart reports it up to date', async () => {
  const dataDir = tempDir('mindmirror-pglite-');
  const first = await startEmbeddedPostgres({ dataDir });
  try {
    assert.match(first.url, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    await applySupabaseBootstrap(first.url);
    const push = await pushMigrations(first.url);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /Finished supabase db push\./);
    const again = await pushMigrations(first.url);
    assert.match(again.stdout, /Remote database is up to date\./);
    const c = await connect(first.url);
    await c.query(`insert into public.vouchers (code, email, expires_at) values ('KEPT-ACROSS-RESTART', 'kept@example.test', now() + interval '1 day')`);
    await c.end();
  } finally {
    await first.close();
  }

  const second = await startEmbeddedPostgres({ dataDir });
  try {
    await applySupabaseBootstrap(second.url);
    const push = await pushMigrations(second.url);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /Remote database is up to date\./);
    const c = await connect(second.url);
    const kept = await c.query(`select email from public.vouchers where code = 'KEPT-ACROSS-RESTART'`);
    await c.end();
    assert.deepEqual(kept.rows, [{ email: 'kept@example.test' }]);
  } finally {
    await second.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without a dataDir the database lives in memory: a restart starts empty', async () => {
  const first = await startEmbeddedPostgres();
  let c = await connect(first.url);
  await c.query('create table public.scratch (id int)');
  await c.end();
  await first.close();

  const second = await startEmbeddedPostgres();
  try {
    c = await connect(second.url);
    const r = await c.query(`select to_regclass('public.scratch') as t`);
    await c.end();
    assert.equal(r.rows[0].t, null);
  } finally {
    await second.close();
  }
});

test('listens on the requested port of 127.0.0.1, refuses a port in use, and close() can be called twice', async () => {
  const port = await freePort();
  const embedded = await startEmbeddedPostgres({ port });
  try {
    assert.equal(embedded.url, `postgresql://postgres@127.0.0.1:${port}/postgres`);
    const c = await connect(embedded.url);
    const r = await c.query('select 1 + 1 as two');
    await c.end();
    assert.equal(r.rows[0].two, 2);
    await assert.rejects(startEmbeddedPostgres({ port }), /EADDRINUSE/);
  } finally {
    await embedded.close();
    await embedded.close();
  }
});
