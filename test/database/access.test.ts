// The least-privilege script the deploy runs on Cloud SQL (database-access job), applied by psql
// to the real PostgreSQL here, as an admin that, like Cloud SQL's postgres, is no superuser
// (CREATEROLE, CREATEDB). Names carry a per-run prefix so the suite shares the server safely.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadCatalog } from '../../scripts/lib/catalog.ts';
import { ACCESS_SQL_FILE, databaseLogins, ownerOf, renderAccessSql } from '../../scripts/lib/database-access.ts';
import { adminUrl, asAdmin } from '../helpers/postgres.ts';
import { repoRoot } from '../helpers/process.ts';

const catalog = loadCatalog();
const logins = databaseLogins(catalog);
const databases = catalog.databases.map((d) => d.name);
const prefix = `t${randomBytes(3).toString('hex')}_`;
const admin = `${prefix}admin`;
const server = new URL(adminUrl());

/** A password per login, in the environment psql reads it from (\getenv). */
const passwords = Object.fromEntries(logins.map((l) => [l.passwordEnv, randomBytes(24).toString('hex')]));

function psql(sql: string, env: Record<string, string>) {
  const r = spawnSync('psql', ['-X', '-q', '-h', server.hostname, '-p', server.port || '5432', '-U', admin, '-d', 'postgres', '-f', '-'], {
    input: sql,
    encoding: 'utf8',
    // Only what the job gives psql: no PGPASSWORD from the test's own environment.
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  if (r.error) throw new Error(`psql could not run (${r.error.message}); install the PostgreSQL client (apt-get install postgresql-client)`);
  return r;
}

async function connectAs(user: string, database: string): Promise<string> {
  const client = new pg.Client({ host: server.hostname, port: Number(server.port || 5432), user, database, password: passwords[`DB_PASSWORD_${user.slice(prefix.length).toUpperCase()}`], connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

before(async () => {
  await asAdmin((c) => c.query(`create role ${admin} login createdb createrole`));
});

after(async () => {
  await asAdmin(async (c) => {
    for (const d of databases) await c.query(`drop database if exists ${prefix}${d} with (force)`);
    for (const l of logins) await c.query(`drop role if exists ${prefix}${l.login}`);
    for (const d of databases) await c.query(`drop role if exists ${prefix}${ownerOf(d)}`);
    await c.query(`drop role if exists ${admin}`);
  });
});

test('the committed script is the one the catalog renders (infra/modules/cloud-sql reads it)', () => {
  assert.equal(readFileSync(join(repoRoot, ACCESS_SQL_FILE), 'utf8'), renderAccessSql(catalog), `regenerate it: node --import tsx scripts/lib/write-database-access.ts`);
});

test('no password is written into the script', () => {
  const sql = renderAccessSql(catalog);
  assert.doesNotMatch(sql, /PASSWORD '/);
  for (const l of logins) assert.match(sql, new RegExp(`PASSWORD :'password_${l.login}'`));
});

test('a missing password stops the script before it changes anything', async () => {
  const { [logins[0]!.passwordEnv]: _left, ...some } = passwords;
  const r = psql(renderAccessSql(catalog, { prefix }), some);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`${logins[0]!.passwordEnv} is not set`));
  assert.doesNotMatch(r.stderr + r.stdout, new RegExp(Object.values(passwords).join('|')));
  const made = await asAdmin((c) => c.query(`select rolname from pg_roles where rolname like $1`, [`${prefix}%`]));
  assert.deepEqual(made.rows.map((x) => x.rolname), [admin]);
});

test('applied twice, each service login reaches its own databases and is refused by every other', async () => {
  const sql = renderAccessSql(catalog, { prefix });
  for (const run of ['first', 'second']) {
    const r = psql(sql, passwords);
    assert.equal(r.status, 0, `${run} run: ${r.stderr}`);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(Object.values(passwords).join('|')), 'psql printed a password');
  }
  const seen: string[] = [];
  const expected: string[] = [];
  for (const l of logins) {
    for (const d of databases) {
      const outcome = await connectAs(`${prefix}${l.login}`, `${prefix}${d}`);
      seen.push(`${l.login} -> ${d}: ${outcome === 'connected' ? 'connected' : /CONNECT privilege|permission denied for database/.test(outcome) ? 'refused' : outcome}`);
      expected.push(`${l.login} -> ${d}: ${l.databases.includes(d) ? 'connected' : 'refused'}`);
    }
  }
  assert.deepEqual(seen, expected);
});

test('logins hold no power beyond their databases, and what they create belongs to the owner role', async () => {
  const roles = await asAdmin((c) =>
    c.query(
      `select r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
              coalesce(array_agg(g.rolname::text order by g.rolname) filter (where g.rolname is not null), '{}'::text[]) as member_of
         from pg_roles r left join pg_auth_members m on m.member = r.oid left join pg_roles g on g.oid = m.roleid
        where r.rolname = any($1) group by 1, 2, 3, 4, 5, 6 order by 1`,
      [logins.map((l) => `${prefix}${l.login}`)],
    ),
  );
  assert.deepEqual(
    roles.rows.map((r) => [r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.member_of]),
    logins.map((l) => [`${prefix}${l.login}`, false, false, false, false, false, l.databases.map((d) => `${prefix}${ownerOf(d)}`)]),
  );
  const first = logins.find((l) => l.databases.length)!;
  const db = `${prefix}${first.databases[0]}`;
  const client = new pg.Client({ host: server.hostname, port: Number(server.port || 5432), user: `${prefix}${first.login}`, database: db });
  await client.connect();
  try {
    await client.query('create table access_probe (id int)');
    const owner = await client.query(`select tableowner from pg_tables where tablename = 'access_probe'`);
    assert.equal(owner.rows[0].tableowner, `${prefix}${ownerOf(first.databases[0]!)}`);
  } finally {
    await client.end();
  }
});

test('a membership from an earlier catalog is taken away on the next run', async () => {
  const l = logins.find((x) => !x.databases.includes('movements'))!;
  await asAdmin((c) => c.query(`grant ${prefix}${ownerOf('movements')} to ${prefix}${l.login}`));
  assert.equal(await connectAs(`${prefix}${l.login}`, `${prefix}movements`), 'connected');
  const r = psql(renderAccessSql(catalog, { prefix }), passwords);
  assert.equal(r.status, 0, r.stderr);
  assert.match(await connectAs(`${prefix}${l.login}`, `${prefix}movements`), /CONNECT privilege|permission denied/);
});

test('the check a restore is verified with reads the alembic revision and exact row counts, as the admin', async () => {
  const check = readFileSync(join(repoRoot, 'infra/modules/cloud-sql/database-check.sql'), 'utf8');
  const [first, second] = [...logins.find((l) => l.databases.includes('movements'))!.databases, 'practices'];
  const owner = new pg.Client({ host: server.hostname, port: Number(server.port || 5432), user: `${prefix}${logins.find((l) => l.databases.includes(first!))!.login}`, database: `${prefix}${first}` });
  await owner.connect();
  try {
    await owner.query(`create table alembic_version (version_num varchar(32) primary key); insert into alembic_version values ('3f2a9c1d7b4e')`);
    await owner.query(`create table workouts (id int); insert into workouts select generate_series(1, 1234)`);
  } finally {
    await owner.end();
  }
  const run = (db: string) => {
    const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', server.hostname, '-p', server.port || '5432', '-U', admin, '-d', db, '-c', check], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as unknown;
  };
  assert.deepEqual(run(`${prefix}${first}`), { check: 'database', database: `${prefix}${first}`, alembic: '3f2a9c1d7b4e', counts: { alembic_version: 1, workouts: 1234 } });
  // A database its service never migrated: no revision, no tables, still one line.
  assert.deepEqual(run(`${prefix}${second}`), { check: 'database', database: `${prefix}${second}`, alembic: null, counts: {} });
});
