// The HTTP and database calls the checks make: Supabase Auth (admin create and delete, password
// sign-in), GraphQL through the gateway (including requests fetch cannot send, such as a
// repeated header), and vouchers issued and removed as service_role.

import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import pg from 'pg';
import { redactor } from '../redact.ts';
import type { Target } from './target.ts';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  internalId?: string;
}

async function authCall(target: Target, method: string, path: string, body: unknown, admin: boolean): Promise<{ status: number; json: Record<string, unknown> }> {
  const key = admin ? target.serviceRoleKey : target.anonKey;
  const response = await fetch(`${target.supabaseUrl}/auth/v1${path}`, {
    method,
    headers: { apikey: key, ...(admin ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A confirmed throwaway user, signed in. */
export async function createSignedInUser(target: Target, label: string): Promise<TestUser> {
  const email = `check-${label}-${randomBytes(6).toString('hex')}@example.com`;
  const password = randomBytes(18).toString('base64url');
  redactor.add(password, 'test user password');
  const created = await authCall(target, 'POST', '/admin/users', { email, password, email_confirm: true }, true);
  if (created.status !== 200) {
    const hint = created.status === 401 || created.status === 403 ? ' (is the service-role key right? new-style secret keys need the legacy service_role key here)' : '';
    throw new Error(`creating a test user failed: HTTP ${created.status} ${JSON.stringify(created.json)}${hint}`);
  }
  const id = String(created.json.id);
  const session = await authCall(target, 'POST', '/token?grant_type=password', { email, password }, false);
  if (session.status !== 200) {
    await deleteUser(target, id).catch(() => {});
    throw new Error(`signing the test user in failed: HTTP ${session.status} ${JSON.stringify(session.json)}`);
  }
  const accessToken = String(session.json.access_token);
  redactor.add(accessToken, 'test user token');
  return { id, email, password, accessToken };
}

export async function deleteUser(target: Target, id: string): Promise<void> {
  const r = await authCall(target, 'DELETE', `/admin/users/${encodeURIComponent(id)}`, undefined, true);
  if (r.status !== 200 && r.status !== 404) throw new Error(`deleting test user ${id} failed: HTTP ${r.status}`);
}

export interface GatewayReply {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } | unknown[] | null;
}

/**
 * POST to the gateway with exactly these headers (an array value sends the header once per
 * element, which fetch cannot do), and the body as given.
 */
export function postGraphql(gatewayUrl: string, headers: Record<string, string | string[]>, body: unknown): Promise<GatewayReply> {
  const url = new URL('/graphql', gatewayUrl);
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const send = url.protocol === 'https:' ? requestTls : request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length, ...headers }, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: GatewayReply['body'] = null;
        try {
          parsed = text ? (JSON.parse(text) as GatewayReply['body']) : null;
        } catch {
          parsed = null;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('the gateway did not answer within 15 s')));
    req.on('error', reject);
    req.end(payload);
  });
}

export const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.accessToken}` });

/** The data of a successful single-operation reply, or null. */
export function dataOf(reply: GatewayReply): Record<string, unknown> | null {
  const body = reply.body as { data?: Record<string, unknown> | null } | null;
  return body && !Array.isArray(body) ? (body.data ?? null) : null;
}

export function errorCodes(reply: GatewayReply): string[] {
  const body = reply.body as { errors?: { extensions?: { code?: string } }[] } | null;
  return body && !Array.isArray(body) ? (body.errors ?? []).map((e) => e.extensions?.code ?? 'ERROR') : [];
}

/** The caller's internal id according to `me` through the gateway; retries while a fresh registration propagates. */
export async function meThroughGateway(gatewayUrl: string, user: TestUser, untilRegistered = false): Promise<string | null> {
  const deadline = Date.now() + (untilRegistered ? 15_000 : 0);
  for (;;) {
    const reply = await postGraphql(gatewayUrl, bearer(user), { query: '{ me { id } }' });
    const me = dataOf(reply)?.me as { id?: string } | null | undefined;
    if (me?.id || Date.now() >= deadline) return me?.id ?? null;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function databaseClient(target: Target): pg.Client {
  const url = new URL(target.databaseUrl);
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  return new pg.Client({ connectionString: target.databaseUrl, password: target.databasePassword, ssl: local ? undefined : { rejectUnauthorized: true }, connectionTimeoutMillis: 10_000 });
}

/** Issue a voucher to an email as service_role (the admin's way); returns its code. */
export async function issueVoucher(target: Target, email: string): Promise<string> {
  const client = databaseClient(target);
  await client.connect();
  try {
    await client.query('begin');
    await client.query('set local role service_role');
    const { rows } = await client.query<{ code: string }>(`insert into public.vouchers (email, expires_at) values ($1, now() + interval '1 hour') returning code`, [email.toLowerCase()]);
    await client.query('commit');
    redactor.add(rows[0]!.code, 'voucher code');
    return rows[0]!.code;
  } finally {
    await client.end();
  }
}

/** Remove vouchers a check issued; the user's deletion has already removed its redemption. */
export async function removeVouchers(target: Target, codes: string[]): Promise<void> {
  if (codes.length === 0) return;
  const client = databaseClient(target);
  await client.connect();
  try {
    await client.query('begin');
    await client.query('set local role service_role');
    await client.query('delete from public.voucher_redemptions where voucher_code = any($1)', [codes]);
    await client.query('delete from public.vouchers where code = any($1)', [codes]);
    await client.query('commit');
  } finally {
    await client.end();
  }
}

/** Register a user the only way users_service allows: redeem a voucher through the gateway. */
export async function register(target: Target, user: TestUser, codes: string[]): Promise<string> {
  const code = await issueVoucher(target, user.email);
  codes.push(code);
  const reply = await postGraphql(target.gatewayUrl, bearer(user), { query: 'mutation Redeem($code: String!) { redeemVoucher(code: $code) { internalId } }', variables: { code } });
  const internalId = (dataOf(reply)?.redeemVoucher as { internalId?: string } | undefined)?.internalId;
  if (!internalId) throw new Error(`redeeming a voucher through the gateway failed: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  user.internalId = internalId;
  return internalId;
}
