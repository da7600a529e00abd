// The local stand-in for Supabase Auth (GoTrue) on 127.0.0.1: what supabase-js v2 calls for this
// app, with GoTrue's paths, request and response shapes and error codes, behaving as
// supabase/config.toml configures production's project (see settings.ts). Users live in the
// database's auth.users, as in Supabase, so the production migrations' foreign keys and RLS apply
// to them; sessions and refresh tokens live beside them. Access tokens are real ES256 JWTs with
// Supabase's claims. The mail it sends goes to a local mailbox served in Mailpit's API shape.
//
//   routes       router.ts (which request goes where), routes/*.ts (what each one does)
//   users        users.ts        sessions    sessions.ts      tokens   tokens.ts, keys.ts
//   links, mail  links.ts, one-time-tokens.ts, mailer.ts, ../mail/
//   policy       settings.ts, passwords.ts, redirects.ts, cors.ts

import pg from 'pg';
import { listen, type Listening } from '../http.ts';
import { Mailbox } from '../mail/mailbox.ts';
import type { AuthContext } from './context.ts';
import type { AuthKeys } from './keys.ts';
import { Mailer } from './mailer.ts';
import { AUTH_PREFIX, createRouter, MAILBOX_PREFIX } from './router.ts';
import { SessionStore } from './sessions.ts';
import type { AuthSettings } from './settings.ts';
import { AccessTokens } from './tokens.ts';
import { UserStore } from './users.ts';

export interface AuthIssuerOptions {
  databaseUrl: string;
  keys: AuthKeys;
  settings: AuthSettings;
  /** The project URL clients use (tokens say iss = <publicUrl>/auth/v1); defaults to the listening URL. */
  publicUrl?: string;
  port?: number;
}

export interface RunningAuthIssuer extends Listening {
  /** <project URL>/auth/v1 */
  authUrl: string;
  jwksUrl: string;
  /** Base URL of the mailbox's Mailpit API (<mailboxUrl>/api/v1/...) and its page. */
  mailboxUrl: string;
  mailbox: Mailbox;
}

export async function startAuthIssuer(options: AuthIssuerOptions): Promise<RunningAuthIssuer> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  // A broken connection must not take the process down; the next query reconnects.
  pool.on('error', () => undefined);
  const users = new UserStore(pool);
  const sessions = new SessionStore(pool, users);
  const mailbox = new Mailbox();
  try {
    await sessions.migrate();
  } catch (error) {
    await pool.end();
    throw error;
  }
  let handle: ((...args: Parameters<Parameters<typeof listen>[0]>) => void) | undefined;
  const listening = await listen((req, res) => {
    if (handle) return handle(req, res);
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 503, error_code: 'unexpected_failure', msg: 'starting' }));
  }, options.port ?? 0);
  const projectUrl = options.publicUrl ?? listening.url;
  const authUrl = `${projectUrl}${AUTH_PREFIX}`;
  const ctx: AuthContext = {
    settings: options.settings,
    keys: options.keys,
    pool,
    users,
    sessions,
    tokens: await AccessTokens.create(options.keys, authUrl, options.settings.jwtExpirySeconds),
    mailer: new Mailer(mailbox, authUrl, options.settings.siteUrl),
  };
  handle = createRouter(ctx, mailbox);
  return {
    ...listening,
    authUrl,
    jwksUrl: `${authUrl}/.well-known/jwks.json`,
    mailboxUrl: `${projectUrl}${MAILBOX_PREFIX}`,
    mailbox,
    async close() {
      await listening.close();
      await pool.end();
    },
  };
}
