// Sessions and refresh tokens, kept in the database as GoTrue keeps them (auth.sessions,
// auth.refresh_tokens, auth.mfa_amr_claims; the local auth creates these at start, as GoTrue
// migrates its own schema), so deleting a user or signing out deletes the session and its
// refresh tokens, and a restart of the auth signs nobody out.
//
// Refresh follows GoTrue's RefreshTokenGrant: every use revokes the token presented and issues
// its child in the same session; presenting the parent of the active token again returns the
// active one (a client that lost the answer); another revoked token still works within the reuse
// interval (concurrent tabs); after it, the token is refused as already used and, with rotation
// on, every token of the session is revoked.

import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { badRequest, OAuthError } from './errors.ts';
import type { AuthSettings } from './settings.ts';
import type { Amr } from './tokens.ts';
import { isBanned, type Queryable, type UserRow, type UserStore } from './users.ts';

const SCHEMA = `
create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  refreshed_at timestamp,
  aal text not null default 'aal1',
  user_agent text,
  ip inet
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);
create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) not null unique,
  user_id varchar(255) not null,
  revoked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade
);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);
create table if not exists auth.mfa_amr_claims (
  id uuid primary key,
  session_id uuid not null references auth.sessions (id) on delete cascade,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  authentication_method text not null,
  unique (session_id, authentication_method)
);`;

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
}

interface RefreshTokenRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  updated_at: Date;
  parent: string | null;
  session_id: string | null;
}

/** Where a session comes from, for the session's row (user agent and address, as GoTrue records). */
export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

/** Methods that make a session a "recovery" one, after which no current password is asked for (GoTrue's IsRecovery). */
const RECOVERY_METHODS = new Set(['otp', 'magiclink', 'recovery']);

/** Refresh tokens are opaque to clients; these are long enough not to be guessed. */
const newRefreshToken = () => randomBytes(24).toString('base64url');

export class SessionStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly users: UserStore,
  ) {}

  async migrate(): Promise<void> {
    await this.pool.query(SCHEMA);
  }

  /** A new session for the user, signed in by `method`, with its first refresh token. */
  async start(user: UserRow, method: string, client: ClientInfo = {}, db: Queryable = this.pool): Promise<{ sessionId: string; refreshToken: string }> {
    const sessionId = randomUUID();
    const refreshToken = newRefreshToken();
    await db.query(`insert into auth.sessions (id, user_id, user_agent, ip) values ($1, $2, $3, $4)`, [sessionId, user.id, client.userAgent?.slice(0, 512) ?? null, client.ip ?? null]);
    await db.query(`insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method) values ($1, $2, now(), now(), $3)`, [randomUUID(), sessionId, method]);
    await db.query(`insert into auth.refresh_tokens (token, user_id, session_id) values ($1, $2, $3)`, [refreshToken, user.id, sessionId]);
    await this.users.touchSignIn(user.id, db);
    return { sessionId, refreshToken };
  }

  async byId(id: string): Promise<SessionRow | null> {
    const { rows } = await this.pool.query<SessionRow>('select id, user_id, created_at from auth.sessions where id = $1', [id]);
    return rows[0] ?? null;
  }

  async amrOf(sessionId: string, db: Queryable = this.pool): Promise<Amr[]> {
    const { rows } = await db.query<{ authentication_method: string; updated_at: Date }>(
      'select authentication_method, updated_at from auth.mfa_amr_claims where session_id = $1 order by updated_at desc',
      [sessionId],
    );
    return rows.map((r) => ({ method: r.authentication_method, timestamp: Math.floor(r.updated_at.getTime() / 1000) }));
  }

  async isRecovery(sessionId: string): Promise<boolean> {
    return (await this.amrOf(sessionId)).some((a) => RECOVERY_METHODS.has(a.method));
  }

  /**
   * Exchanges a refresh token for the next one of its session, or refuses it with GoTrue's code.
   * Runs in one transaction with the token row locked, so two refreshes of one token serialise.
   */
  async refresh(token: string, settings: AuthSettings): Promise<{ user: UserRow; sessionId: string; refreshToken: string }> {
    if (!token) throw new OAuthError('invalid_request', 'refresh_token required');
    const client = await this.pool.connect();
    let outcome: { user: UserRow; sessionId: string; refreshToken: string } | Error;
    try {
      await client.query('begin');
      outcome = await this.rotate(client, token, settings);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /** The rotation itself; a refusal that must still commit (a revoked family) is returned, not thrown. */
  private async rotate(db: pg.PoolClient, token: string, settings: AuthSettings): Promise<{ user: UserRow; sessionId: string; refreshToken: string } | Error> {
    const { rows } = await db.query<RefreshTokenRow & { session_exists: boolean }>(
      `select rt.id, rt.token, rt.user_id, rt.revoked, rt.updated_at, rt.parent, rt.session_id, (s.id is not null) as session_exists
         from auth.refresh_tokens rt left join auth.sessions s on s.id = rt.session_id
        where rt.token = $1 for update of rt`,
      [token],
    );
    const current = rows[0];
    const user = current ? await this.users.byId(current.user_id, db) : null;
    if (!current || !user) throw badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    if (isBanned(user)) throw badRequest('user_banned', 'Invalid Refresh Token: User Banned');
    if (!current.session_id || !current.session_exists) {
      await db.query('delete from auth.refresh_tokens where id = $1', [current.id]);
      return badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found');
    }
    const sessionId = current.session_id;
    if (current.revoked) {
      const active = (
        await db.query<RefreshTokenRow>('select id, token, parent from auth.refresh_tokens where session_id = $1 and revoked = false order by id desc limit 1', [sessionId])
      ).rows[0];
      if (active && active.parent === current.token) return { user, sessionId, refreshToken: active.token };
      const reuseUntil = current.updated_at.getTime() + settings.refreshTokenReuseIntervalSeconds * 1000;
      if (Date.now() > reuseUntil) {
        if (settings.refreshTokenRotation) await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked = false', [sessionId]);
        return badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used');
      }
    }
    await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [current.id]);
    const next = newRefreshToken();
    await db.query('insert into auth.refresh_tokens (token, user_id, session_id, parent) values ($1, $2, $3, $4)', [next, user.id, sessionId, current.token]);
    await db.query('update auth.sessions set refreshed_at = now(), updated_at = now() where id = $1', [sessionId]);
    await this.users.touchSignIn(user.id, db);
    return { user, sessionId, refreshToken: next };
  }

  /** Sign-out: this session, every session of the user, or all but this one. Refresh tokens go with them. */
  async end(userId: string, sessionId: string | null, scope: 'global' | 'local' | 'others'): Promise<void> {
    if (sessionId && scope === 'local') await this.pool.query('delete from auth.sessions where id = $1', [sessionId]);
    else if (sessionId && scope === 'others') await this.pool.query('delete from auth.sessions where user_id = $1 and id <> $2', [userId, sessionId]);
    else await this.pool.query('delete from auth.sessions where user_id = $1', [userId]);
  }
}
