// What the RLS policies cost a user's read, on the real PostgreSQL server: 100k rows over 1k
// users, a signed-in user's plain `select` through the production policies against the same
// rows read by service_role with an explicit `where user_id = ...`, side by side in one
// session. The same data behind an unwrapped `auth.uid()` policy, and behind policies with no
// index on their column, shows why the rules in supabase/README.md exist.
//
//   node --import tsx bench/rls/rls-select.ts [--rounds 200] [--warmup 30] [--admin-url URL]
//
// It creates its own database (mm_bench_rls_*), pushes the production migrations with the
// real supabase CLI, and drops the database at the end.

import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import pg from 'pg';
import { prepareLocalSupabaseDatabase } from '../../dev/supabase/migrate.ts';

const USERS = 1_000;
const ROWS_PER_USER = 100;

interface Options {
  rounds: number;
  warmup: number;
  adminUrl: string;
}

const OPTION_NAMES = ['rounds', 'warmup', 'admin-url'];

/** Reads --name value / --name=value pairs; every problem is reported at once, exit code 2. */
function parseOptions(argv: string[]): Options {
  const problems: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) {
      problems.push(`${arg}: unexpected argument; the options are ${OPTION_NAMES.map((n) => `--${n}`).join(', ')}`);
      continue;
    }
    const [, name, inline] = m as unknown as [string, string, string | undefined];
    if (!OPTION_NAMES.includes(name)) {
      problems.push(`--${name}: unknown option; the options are ${OPTION_NAMES.map((n) => `--${n}`).join(', ')}`);
      continue;
    }
    const value = inline ?? argv[i + 1];
    if (inline === undefined) i++;
    if (value === undefined) problems.push(`--${name}: missing its value`);
    else values.set(name, value);
  }
  const count = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) problems.push(`--${name} ${raw}: expected a whole number of at least ${min}, e.g. --${name} ${fallback}`);
    return n;
  };
  const rounds = count('rounds', 200, 10);
  const warmup = count('warmup', 30, 0);
  const adminUrl = values.get('admin-url') ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  let protocol = '';
  try {
    protocol = new URL(adminUrl).protocol;
  } catch {
    protocol = 'invalid';
  }
  if (!/^postgres(ql)?:$/.test(protocol)) problems.push('--admin-url: expected the postgresql:// URL of a superuser connection, e.g. postgresql://postgres@127.0.0.1:5432/postgres');
  if (problems.length > 0) {
    process.stderr.write(`bench/rls/rls-select.ts: ${problems.length} problem(s) with the arguments:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(2);
  }
  return { rounds, warmup, adminUrl };
}

// Copies of voucher_redemptions that differ from production in one rule each.
const VARIANT_TABLES_SQL = `
create table public.redemptions_unwrapped (like public.voucher_redemptions including defaults including indexes);
create table public.redemptions_wrapped_no_index (like public.voucher_redemptions including defaults);
create table public.redemptions_unwrapped_no_index (like public.voucher_redemptions including defaults);
insert into public.redemptions_unwrapped select * from public.voucher_redemptions;
insert into public.redemptions_wrapped_no_index select * from public.voucher_redemptions;
insert into public.redemptions_unwrapped_no_index select * from public.voucher_redemptions;
alter table public.redemptions_wrapped_no_index add primary key (voucher_code);
alter table public.redemptions_unwrapped_no_index add primary key (voucher_code);
do $$
declare t text;
begin
  foreach t in array array['redemptions_unwrapped', 'redemptions_wrapped_no_index', 'redemptions_unwrapped_no_index'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('revoke all on public.%I from anon, authenticated', t);
    execute format('grant select on public.%I to authenticated', t);
  end loop;
end $$;
create policy own on public.redemptions_unwrapped for select to authenticated using (user_id = auth.uid());
create policy own on public.redemptions_wrapped_no_index for select to authenticated using (user_id = (select auth.uid()));
create policy own on public.redemptions_unwrapped_no_index for select to authenticated using (user_id = auth.uid());
`;

// Each user's rows are spread over the table (inserted round-robin), as rows written over
// time are, rather than packed together.
const SEED_SQL = `
insert into auth.users (id, aud, role, email, email_confirmed_at)
  select md5('bench-user-' || u)::uuid, 'authenticated', 'authenticated', format('user-%s@bench.test', u), now()
  from generate_series(1, ${USERS}) u;
insert into public.vouchers (code, email, expires_at, redeemed_at)
  select format('BENCH-%s-%s', u, j), format('user-%s@bench.test', u), now() + interval '30 days', now()
  from generate_series(1, ${ROWS_PER_USER}) j, generate_series(1, ${USERS}) u;
insert into public.voucher_redemptions (voucher_code, user_id, redeemed_at)
  select format('BENCH-%s-%s', u, j), md5('bench-user-' || u)::uuid, now() - j * interval '1 minute'
  from generate_series(1, ${ROWS_PER_USER}) j, generate_series(1, ${USERS}) u;
`;

type Role = 'service_role' | 'authenticated';

interface Variant {
  name: string;
  role: Role;
  sql: string;
  /** Parameters of the explicit filter (service_role only). */
  params: (user: BenchUser) => unknown[];
  baseline?: string;
}

interface BenchUser {
  id: string;
  email: string;
}

const COLUMNS = 'voucher_code, user_id, redeemed_at';

const REDEMPTIONS_BASELINE = 'redemptions: service_role, explicit `where user_id = $1`';
const VOUCHERS_BASELINE = 'vouchers: service_role, explicit `where email = $1`';

const VARIANTS: Variant[] = [
  { name: REDEMPTIONS_BASELINE, role: 'service_role', sql: `select ${COLUMNS} from public.voucher_redemptions where user_id = $1`, params: (u) => [u.id] },
  { name: 'redemptions: user, production policy `(select auth.uid())`', role: 'authenticated', sql: `select ${COLUMNS} from public.voucher_redemptions`, params: () => [], baseline: REDEMPTIONS_BASELINE },
  { name: 'redemptions: user, bare `auth.uid()` policy', role: 'authenticated', sql: `select ${COLUMNS} from public.redemptions_unwrapped`, params: () => [], baseline: REDEMPTIONS_BASELINE },
  { name: 'redemptions: user, `(select auth.uid())` policy, no index', role: 'authenticated', sql: `select ${COLUMNS} from public.redemptions_wrapped_no_index`, params: () => [], baseline: REDEMPTIONS_BASELINE },
  { name: 'redemptions: user, bare `auth.uid()` policy, no index', role: 'authenticated', sql: `select ${COLUMNS} from public.redemptions_unwrapped_no_index`, params: () => [], baseline: REDEMPTIONS_BASELINE },
  { name: VOUCHERS_BASELINE, role: 'service_role', sql: 'select code, email, expires_at, redeemed_at from public.vouchers where email = $1', params: (u) => [u.email] },
  { name: "vouchers: user, production policy `(select lower(auth.jwt() ->> 'email'))`", role: 'authenticated', sql: 'select code, email, expires_at, redeemed_at from public.vouchers', params: () => [], baseline: VOUCHERS_BASELINE },
];

function claims(role: Role, user: BenchUser): string {
  return JSON.stringify(role === 'authenticated' ? { sub: user.id, email: user.email, role, aud: 'authenticated' } : { role });
}

/** One request as Supabase's API server makes it; only the select itself is timed. */
async function timedSelect(client: pg.Client, variant: Variant, index: number, user: BenchUser): Promise<{ ms: number; rows: number }> {
  await client.query('begin');
  await client.query(`set local role ${variant.role}`);
  await client.query(`select set_config('request.jwt.claims', $1, true)`, [claims(variant.role, user)]);
  const start = process.hrtime.bigint();
  // Named, hence prepared once and reused, as PostgREST does.
  const result = await client.query({ name: `variant_${index}`, text: variant.sql, values: variant.params(user) });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await client.query('rollback');
  return { ms, rows: result.rowCount ?? 0 };
}

async function planOf(client: pg.Client, variant: Variant, user: BenchUser): Promise<string> {
  await client.query('begin');
  await client.query(`set local role ${variant.role}`);
  await client.query(`select set_config('request.jwt.claims', $1, true)`, [claims(variant.role, user)]);
  const sql = variant.sql.replace('$1', `'${variant.params(user)[0] ?? ''}'`);
  const plan = await client.query(`explain (costs off) ${sql}`);
  await client.query('rollback');
  return plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join(' / ');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const name = `mm_bench_rls_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const dbUrl = new URL(options.adminUrl);
  dbUrl.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  try {
    await prepareLocalSupabaseDatabase(dbUrl.toString());
    await client.connect();
    const seedStart = Date.now();
    await client.query(SEED_SQL);
    await client.query(VARIANT_TABLES_SQL);
    await client.query('analyze');
    process.stderr.write(`seeded ${USERS * ROWS_PER_USER} rows per table in ${Date.now() - seedStart} ms\n`);

    const users = (await client.query<BenchUser>('select id, email from auth.users order by email')).rows;
    const samples = VARIANTS.map(() => [] as number[]);
    const rowCounts = VARIANTS.map(() => new Set<number>());
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      const user = users[(round * 7919) % users.length]!;
      // Rotate the order every round so no variant always runs first (or right after another).
      for (let k = 0; k < VARIANTS.length; k++) {
        const i = (round + k) % VARIANTS.length;
        const { ms, rows } = await timedSelect(client, VARIANTS[i]!, i, user);
        if (round >= options.warmup) {
          samples[i]!.push(ms);
          rowCounts[i]!.add(rows);
        }
      }
    }

    const version = (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    const plans: string[] = [];
    for (const v of VARIANTS) plans.push(await planOf(client, v, users[0]!));
    const medians = new Map<string, number>();
    const rows = VARIANTS.map((v, i) => {
      const sorted = [...samples[i]!].sort((a, b) => a - b);
      const median = percentile(sorted, 0.5);
      medians.set(v.name, median);
      return { v, median, p95: percentile(sorted, 0.95), rowCounts: [...rowCounts[i]!].join('/') };
    });

    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const out: string[] = [];
    out.push(`Command: \`node --import tsx bench/rls/rls-select.ts --rounds ${options.rounds} --warmup ${options.warmup}\``);
    out.push(`Machine: ${cpus().length} cores (nproc), ${cpu}, Node ${process.version}, PostgreSQL ${version} on 127.0.0.1`);
    out.push(`Data: ${USERS * ROWS_PER_USER} redemptions and ${USERS * ROWS_PER_USER} vouchers over ${USERS} users (${ROWS_PER_USER} each), analyzed. ` +
      `${options.rounds} rounds after ${options.warmup} warm-up rounds; each round reads one user's rows through every query below, in rotating order, ` +
      `each in its own transaction with the role and JWT claims set as Supabase's API server sets them; only the select is timed.`);
    out.push('');
    out.push('| query | rows | median ms | p95 ms | × its baseline |');
    out.push('|---|---:|---:|---:|---:|');
    for (const r of rows) {
      const ratio = r.v.baseline ? `${(r.median / medians.get(r.v.baseline)!).toFixed(2)}×` : 'baseline';
      out.push(`| ${r.v.name} | ${r.rowCounts} | ${r.median.toFixed(3)} | ${r.p95.toFixed(3)} | ${ratio} |`);
    }
    out.push('');
    out.push('Plans (`explain (costs off)`, one user):');
    out.push('');
    VARIANTS.forEach((v, i) => out.push(`- ${v.name}: ${plans[i]}`));
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

await main();
