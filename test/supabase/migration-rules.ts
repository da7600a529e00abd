// Rules every production migration follows so that it cannot stall sign-ins: Auth writes
// auth.users (and the tables that reference it) on every sign-up and sign-in, and a migration
// waiting for a strong lock makes every later request on that table wait behind it.
//   1. It sets a short lock_timeout and a statement_timeout before anything else.
//   2. An index on a table the file does not create is built concurrently (no write lock), and
//      such a file uses plain `set` (the CLI runs it outside a transaction, where `set local`
//      does nothing).

export const MAX_LOCK_TIMEOUT_MS = 5_000;

const stripComments = (sql: string) => sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');

function milliseconds(value: string): number | null {
  const m = /^'?(\d+)\s*(ms|s|min)?'?$/.exec(value.trim());
  if (!m) return null;
  return Number(m[1]) * ({ ms: 1, s: 1000, min: 60_000 } as Record<string, number>)[m[2] ?? 'ms']!;
}

/** Problems with one migration file's text, each naming the file and the fix. */
export function migrationProblems(file: string, sql: string): string[] {
  const problems: string[] = [];
  const statements = stripComments(sql)
    .split(';')
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
  const concurrently = statements.some((s) => /^create (unique )?index concurrently/i.test(s));
  const setting = (name: string) => {
    const i = statements.findIndex((s) => new RegExp(`^set (local )?${name}\\b`, 'i').test(s));
    return i < 0 ? null : { index: i, statement: statements[i]! };
  };
  // Both settings come before anything else, in either order.
  const isTimeout = (i: number) => /^set (local )?(lock|statement)_timeout\b/i.test(statements[i] ?? '');
  const first = (found: { index: number } | null) => found !== null && (found.index === 0 || (found.index === 1 && isTimeout(0)));
  const lock = setting('lock_timeout');
  const statement = setting('statement_timeout');
  if (!lock || !first(lock)) problems.push(`${file}: the first statements must set lock_timeout (e.g. set local lock_timeout = '3s'), so a lock Auth holds fails the migration fast instead of queueing sign-ins behind it`);
  else {
    const ms = milliseconds(lock.statement.replace(/^set (local )?lock_timeout\s*(=|to)\s*/i, ''));
    if (ms === null || ms === 0 || ms > MAX_LOCK_TIMEOUT_MS) problems.push(`${file}: lock_timeout must be between 1 ms and ${MAX_LOCK_TIMEOUT_MS / 1000} s (0 waits forever)`);
  }
  if (!statement || !first(statement)) problems.push(`${file}: the first statements must set statement_timeout (e.g. set local statement_timeout = '60s')`);
  if (concurrently) {
    for (const s of [lock, statement]) {
      if (s && /^set local/i.test(s.statement)) problems.push(`${file}: builds an index concurrently, which runs outside a transaction where set local does nothing; use set ${s.statement.split(' ')[2]} = ...`);
    }
  }
  const created = new Set(
    statements.flatMap((s) => {
      const m = /^create (?:unlogged )?table (?:if not exists )?([\w."]+)/i.exec(s);
      return m ? [m[1]!.replace(/"/g, '').replace(/^public\./, '')] : [];
    }),
  );
  for (const s of statements) {
    const m = /^create (unique )?index (concurrently )?(?:if not exists )?[\w"]* ?on (?:only )?([\w."]+)/i.exec(s);
    if (!m) continue;
    const table = m[3]!.replace(/"/g, '').replace(/^public\./, '');
    if (!m[2] && !created.has(table)) problems.push(`${file}: index on ${table}, a table this file does not create, must be built concurrently (create index concurrently ...), or it blocks writes to ${table} while it builds`);
  }
  return problems;
}
