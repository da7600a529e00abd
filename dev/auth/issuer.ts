// The subset of Supabase Auth's HTTP API the runbooks and checks use, on 127.0.0.1, with the
// same paths and shapes: admin create and delete user (service-role key), password sign-in,
// and the JWKS. Access tokens are real ES256 JWTs with Supabase's claims; users live in the
// database's auth.users, as in Supabase, so the production migrations' foreign keys and RLS
// apply to them.

import { randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { listen, readJson, sendJson, type Listening } from '../http.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface AuthKeys {
  /** The ES256 signing key (private JWK, with kid). */
  signingKey: JWK;
  /** HS256 secret the project keys below are signed with, as Supabase's legacy keys are. */
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

/** New keys for a new local project. */
export async function createAuthKeys(): Promise<AuthKeys> {
  const { generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
  const jwtSecret = randomBytes(32).toString('base64url');
  const secret = new TextEncoder().encode(jwtSecret);
  const projectKey = (role: string) =>
    new SignJWT({ role, ref: 'local' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer('supabase').setIssuedAt().setExpirationTime('10y').sign(secret);
  return { signingKey, jwtSecret, anonKey: await projectKey('anon'), serviceRoleKey: await projectKey('service_role') };
}

export interface AuthIssuerOptions {
  databaseUrl: string;
  keys: AuthKeys;
  /** The project URL clients use (tokens say iss = <publicUrl>/auth/v1); defaults to the listening URL. */
  publicUrl?: string;
  /** Access token lifetime, from supabase/config.toml's jwt_expiry. */
  jwtExpirySeconds: number;
  /** Whether sign-in needs a confirmed email (config.toml's enable_confirmations). */
  requireConfirmedEmail: boolean;
  port?: number;
}

interface Problem {
  status: number;
  code: string;
  message: string;
}
const problem = (status: number, code: string, message: string): Problem => ({ status, code, message });

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${(await scrypt(password, salt, 32)).toString('base64')}`;
}

async function passwordMatches(password: string, stored: string | null): Promise<boolean> {
  const [kind, salt, hash] = (stored ?? '').split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), 32);
  const expected = Buffer.from(hash, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

interface UserRow {
  id: string;
  email: string;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

function userJson(u: UserRow) {
  return {
    id: u.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: u.email,
    email_confirmed_at: u.email_confirmed_at?.toISOString() ?? null,
    phone: '',
    app_metadata: u.raw_app_meta_data,
    user_metadata: u.raw_user_meta_data,
    identities: [],
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString(),
    is_anonymous: false,
  };
}

export interface RunningAuthIssuer extends Listening {
  jwksUrl: string;
}

export async function startAuthIssuer(options: AuthIssuerOptions): Promise<RunningAuthIssuer> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const signingKey = await importJWK(options.keys.signingKey, 'ES256');
  const { d: _private, ...publicJwk } = options.keys.signingKey;
  let issuer = '';

  /** Which project key authorises the request: apikey header, and a bearer for admin routes. */
  const keyRole = (value: string | undefined): 'anon' | 'service_role' | null => {
    if (value === options.keys.serviceRoleKey) return 'service_role';
    if (value === options.keys.anonKey) return 'anon';
    return null;
  };
  const bearer = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

  function requireApiKey(req: IncomingMessage): Problem | null {
    return keyRole(req.headers.apikey as string | undefined) ? null : problem(401, 'no_api_key', 'No API key found in request');
  }

  function requireAdmin(req: IncomingMessage): Problem | null {
    const missing = requireApiKey(req);
    if (missing) return missing;
    const token = bearer(req);
    if (!token) return problem(401, 'no_authorization', 'This endpoint requires a Bearer token');
    return keyRole(token) === 'service_role' ? null : problem(403, 'not_admin', 'User not allowed');
  }

  async function createUser(req: IncomingMessage): Promise<[number, unknown]> {
    const body = await readJson(req);
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw problem(400, 'validation_failed', 'Unable to validate email address: invalid format');
    if (password.length < 6) throw problem(422, 'weak_password', 'Password should be at least 6 characters.');
    const now = new Date();
    try {
      const { rows } = await pool.query<UserRow>(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3, $4, $5, $6, $7, $7)
         returning id, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at`,
        [randomUUID(), email, await hashPassword(password), body.email_confirm === true ? now : null, { provider: 'email', providers: ['email'] }, body.user_metadata ?? {}, now],
      );
      return [200, userJson(rows[0]!)];
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw problem(422, 'email_exists', 'A user with this email address has already been registered');
      throw error;
    }
  }

  async function deleteUser(id: string): Promise<[number, unknown]> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw problem(404, 'user_not_found', 'User not found');
    const { rowCount } = await pool.query('delete from auth.users where id = $1', [id]);
    if (!rowCount) throw problem(404, 'user_not_found', 'User not found');
    return [200, {}];
  }

  async function signIn(req: IncomingMessage): Promise<[number, unknown]> {
    const body = await readJson(req);
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    const { rows } = await pool.query<UserRow>(
      'select id, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at from auth.users where email = $1',
      [email],
    );
    const user = rows[0];
    if (!user || !(await passwordMatches(String(body.password ?? ''), user.encrypted_password))) throw problem(400, 'invalid_credentials', 'Invalid login credentials');
    if (options.requireConfirmedEmail && !user.email_confirmed_at) throw problem(400, 'email_not_confirmed', 'Email not confirmed');
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({
      email: user.email,
      phone: '',
      role: 'authenticated',
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: now }],
      session_id: randomUUID(),
      is_anonymous: false,
      app_metadata: user.raw_app_meta_data,
      user_metadata: user.raw_user_meta_data,
    })
      .setProtectedHeader({ alg: 'ES256', kid: options.keys.signingKey.kid!, typ: 'JWT' })
      .setIssuer(`${issuer}/auth/v1`)
      .setAudience('authenticated')
      .setSubject(user.id)
      .setIssuedAt(now)
      .setExpirationTime(now + options.jwtExpirySeconds)
      .sign(signingKey);
    await pool.query('update auth.users set last_sign_in_at = now() where id = $1', [user.id]);
    return [
      200,
      {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: options.jwtExpirySeconds,
        expires_at: now + options.jwtExpirySeconds,
        refresh_token: randomBytes(16).toString('hex'),
        user: userJson(user),
      },
    ];
  }

  const listening = await listen((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname}`;
    const handle = async (): Promise<[number, unknown]> => {
      if (route === 'GET /auth/v1/.well-known/jwks.json') return [200, { keys: [publicJwk] }];
      if (route === 'GET /auth/v1/health') return [200, { name: 'GoTrue', description: 'local stand-in' }];
      if (route === 'POST /auth/v1/token') {
        const missing = requireApiKey(req);
        if (missing) throw missing;
        if (url.searchParams.get('grant_type') !== 'password') throw problem(400, 'unsupported_grant_type', 'only grant_type=password is served locally');
        return signIn(req);
      }
      if (route === 'POST /auth/v1/admin/users') {
        const denied = requireAdmin(req);
        if (denied) throw denied;
        return createUser(req);
      }
      const del = /^DELETE \/auth\/v1\/admin\/users\/([^/]+)$/.exec(route);
      if (del) {
        const denied = requireAdmin(req);
        if (denied) throw denied;
        return deleteUser(decodeURIComponent(del[1]!));
      }
      throw problem(404, 'not_found', `no route ${route}`);
    };
    handle().then(
      ([status, body]) => sendJson(res, status, body, { 'cache-control': 'no-store' }),
      (error: unknown) => {
        const p = error as Partial<Problem>;
        if (p && typeof p.status === 'number') return sendJson(res, p.status, { code: p.status, error_code: p.code, msg: p.message });
        sendJson(res, 500, { code: 500, error_code: 'unexpected_failure', msg: error instanceof Error ? error.message : String(error) });
      },
    );
  }, options.port ?? 0);
  issuer = options.publicUrl ?? listening.url;
  return {
    ...listening,
    jwksUrl: `${issuer}/auth/v1/.well-known/jwks.json`,
    async close() {
      await listening.close();
      await pool.end();
    },
  };
}
