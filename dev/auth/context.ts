// What every route of the local auth works with, and the steps several of them share: checking an
// e-mail address, who is calling (a user's access token, or an admin's service_role key), running
// statements in one transaction, and answering with a session.

import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import { AuthError, badRequest, forbidden } from './errors.ts';
import type { AuthKeys } from './keys.ts';
import type { Mailer } from './mailer.ts';
import { bearerOf, readJsonBody, type JsonObject } from './request.ts';
import type { ClientInfo, SessionRow, SessionStore } from './sessions.ts';
import type { AuthSettings } from './settings.ts';
import type { AccessTokens, VerifiedClaims } from './tokens.ts';
import { isBanned, userJson, type Queryable, type UserRow, type UserStore } from './users.ts';

export interface AuthContext {
  settings: AuthSettings;
  keys: AuthKeys;
  pool: pg.Pool;
  users: UserStore;
  sessions: SessionStore;
  tokens: AccessTokens;
  mailer: Mailer;
}

/** One request as the routes see it. */
export class AuthRequest {
  private parsed: Promise<JsonObject> | undefined;
  constructor(
    readonly req: IncomingMessage,
    readonly url: URL,
  ) {}

  body(): Promise<JsonObject> {
    this.parsed ??= readJsonBody(this.req);
    return this.parsed;
  }

  get client(): ClientInfo {
    return { userAgent: this.req.headers['user-agent'], ip: this.req.socket.remoteAddress };
  }

  /** redirect_to as GoTrue reads it: a header, else the query string. */
  get redirectTo(): string | null {
    const header = this.req.headers.redirect_to;
    return (Array.isArray(header) ? header[0] : header) || this.url.searchParams.get('redirect_to');
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const json = (body: unknown, status = 200): Reply => ({ status, body });

/** The format GoTrue checks (badoux/checkmail's ValidateFormat). */
const EMAIL_FORMAT = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** GoTrue's validateEmail: present, at most 255 characters, a plausible address; lower-cased. */
export function validEmail(email: string): string {
  if (!email) throw badRequest('validation_failed', 'An email address is required');
  if (email.length > 255) throw badRequest('validation_failed', 'An email address is too long');
  if (!EMAIL_FORMAT.test(email)) throw badRequest('validation_failed', 'Unable to validate email address: invalid format');
  return email.toLowerCase();
}

/**
 * Runs fn on one client inside begin/commit; a thrown error rolls everything back. Inside fn,
 * every statement must go through `db`: the embedded PostgreSQL serves one connection's
 * transaction before any other, so a statement on the pool would wait for ever.
 */
export async function inTransaction<T>(ctx: AuthContext, fn: (db: Queryable) => Promise<T>): Promise<T> {
  const client = await ctx.pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The body GoTrue answers a sign-in with (AccessTokenResponse). */
export async function sessionBody(ctx: AuthContext, user: UserRow, sessionId: string, refreshToken: string, db: Queryable = ctx.pool): Promise<Record<string, unknown>> {
  const access = await ctx.tokens.sign(user, sessionId, await ctx.sessions.amrOf(sessionId, db));
  return {
    access_token: access.token,
    token_type: 'bearer',
    expires_in: access.expiresIn,
    expires_at: access.expiresAt,
    refresh_token: refreshToken,
    user: userJson(user),
  };
}

/** Signs the user in by `method` (password, otp, ...): a new session, and its tokens. */
export async function signIn(ctx: AuthContext, request: AuthRequest, user: UserRow, method: string): Promise<Record<string, unknown>> {
  const { sessionId, refreshToken } = await ctx.sessions.start(user, method, request.client);
  const fresh = (await ctx.users.byId(user.id)) ?? user;
  return sessionBody(ctx, fresh, sessionId, refreshToken);
}

/** The claims of a valid bearer token, or GoTrue's 401 no_authorization / 403 bad_jwt. */
async function bearerClaims(ctx: AuthContext, req: IncomingMessage): Promise<VerifiedClaims> {
  const token = bearerOf(req);
  if (!token) throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
  return ctx.tokens.verify(token);
}

/** GOTRUE_JWT_ADMIN_ROLES as a Supabase project sets it. */
const ADMIN_ROLES = ['service_role'];

/** The caller must hold a token whose role is an admin role (the service_role key). */
export async function requireAdmin(ctx: AuthContext, req: IncomingMessage): Promise<void> {
  const claims = await bearerClaims(ctx, req);
  if (!ADMIN_ROLES.includes(String(claims.role))) throw forbidden('not_admin', 'User not allowed');
}

export interface Caller {
  claims: VerifiedClaims;
  user: UserRow;
  session: SessionRow | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The signed-in user behind a bearer token, as GoTrue's requireAuthentication finds them. */
export async function requireUser(ctx: AuthContext, req: IncomingMessage): Promise<Caller> {
  const claims = await bearerClaims(ctx, req);
  if (!claims.sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
  if (!UUID.test(claims.sub)) throw badRequest('bad_jwt', 'invalid claim: sub claim must be a UUID');
  const user = await ctx.users.byId(claims.sub);
  if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
  let session: SessionRow | null = null;
  if (claims.session_id && claims.session_id !== '00000000-0000-0000-0000-000000000000') {
    if (!UUID.test(claims.session_id)) throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
    session = await ctx.sessions.byId(claims.session_id);
    if (!session) throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
  }
  if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
  return { claims, user, session };
}

export const isAdminRole = (role: string | null | undefined) => ADMIN_ROLES.includes(String(role));
