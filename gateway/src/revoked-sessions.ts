// Sessions revoked by an admin before their 24 h tokens expire. Supabase access tokens are
// verified here without asking Supabase, so a user signed out everywhere (or banned) keeps a
// working token until it expires. This list closes that window: a token of a listed user issued
// at or before the listed time is refused; one issued later (a new sign-in) is not.
//
// The list is a small file (Cloud Run mounts it from Secret Manager, and re-reads the secret at
// each read of the file), re-read every 30 seconds. Lines:
//   <supabase user id> <revoked at, ISO 8601>      # comments and blank lines are ignored
// An entry older than the token lifetime changes nothing and may be dropped. A file that cannot
// be read or is over the bounds keeps the previous list and is logged, never half-applied.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@graphql-hive/gateway';
import { LOG_EVENTS } from './log-events.ts';

export const REVOKED_SESSIONS_LIMITS: { readonly maxBytes: number; readonly maxEntries: number } = { maxBytes: 1024 * 1024, maxEntries: 10_000 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ParsedRevocations {
  /** user id -> revoked at, seconds since the epoch (the latest entry wins). */
  entries: Map<string, number>;
  problems: string[];
}

export function parseRevocations(text: string, limits = REVOKED_SESSIONS_LIMITS): ParsedRevocations {
  const entries = new Map<string, number>();
  const problems: string[] = [];
  if (Buffer.byteLength(text) > limits.maxBytes) return { entries, problems: [`the list is over ${limits.maxBytes} bytes: drop entries older than the token lifetime`] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [id, at, extra] = line.split(/\s+/);
    const when = at === undefined ? NaN : Date.parse(at);
    if (!id || !UUID.test(id) || Number.isNaN(when) || extra !== undefined) {
      problems.push(`line ${i + 1}: expected "<user id> <ISO 8601 time>"`);
      return;
    }
    const seconds = Math.floor(when / 1000);
    entries.set(id.toLowerCase(), Math.max(seconds, entries.get(id.toLowerCase()) ?? 0));
  });
  if (entries.size > limits.maxEntries) return { entries: new Map(), problems: [`the list has ${entries.size} users, over ${limits.maxEntries}: drop entries older than the token lifetime`] };
  return { entries, problems };
}

export interface RevokedSessions {
  /** Whether a token of this user issued at `issuedAt` (seconds; undefined when the token has no iat) was revoked. */
  isRevoked(sub: string, issuedAt: number | undefined): boolean;
  /** Read the file now (the timer does it every reload interval). */
  reload(): Promise<void>;
  readonly size: number;
  close(): void;
}

export const NO_REVOCATIONS: RevokedSessions = { isRevoked: () => false, reload: async () => {}, size: 0, close: () => {} };

/** Reads the list once now (the gateway starts with it), then every `reloadMs`. */
export function watchRevokedSessions(file: string, options: { reloadMs: number; log: Logger }): RevokedSessions {
  let entries = new Map<string, number>();
  let lastProblem = '';
  // Any problem keeps the last good list whole: a list with a typo must not forget the others.
  const apply = (text: string | NodeJS.ErrnoException) => {
    const parsed: ParsedRevocations = typeof text === 'string' ? parseRevocations(text) : { entries, problems: [`cannot read it: ${text.code ?? String(text)}`] };
    if (parsed.problems.length === 0) entries = parsed.entries;
    const problem = parsed.problems.join('; ');
    if (problem && problem !== lastProblem) options.log.error({ event: LOG_EVENTS.revokedSessionsUnreadable, file, problem, kept: entries.size }, 'revoked sessions list has problems');
    lastProblem = problem;
  };
  const reload = () => readFile(file, 'utf8').then(apply, apply);
  try {
    apply(readFileSync(file, 'utf8'));
  } catch (error) {
    apply(error as NodeJS.ErrnoException);
  }
  const timer = setInterval(() => void reload(), options.reloadMs);
  timer.unref();
  return {
    isRevoked(sub, issuedAt) {
      const at = entries.get(sub.toLowerCase());
      // A token without iat cannot prove it is newer than the revocation.
      return at !== undefined && (issuedAt === undefined || issuedAt <= at);
    },
    reload,
    get size() {
      return entries.size;
    },
    close: () => clearInterval(timer),
  };
}
