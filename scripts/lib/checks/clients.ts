// The HTTP and database calls the checks make: Supabase Auth through supabase-js, the client the
// app uses (admin create and delete, password sign-in, and a user's enrolment: sign-up, or an
// admin's invitation while sign-up is closed, confirmed through the link in a mailbox), GraphQL
// through the gateway (including requests fetch cannot send, such as a repeated header), and
// vouchers issued and removed as service_role.

import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
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

const AUTH_TIMEOUT_MS = 15_000;

/**
 * supabase-js as a script uses it: nothing stored between runs, no refresh timer, and a timeout
 * on every request (the client has none of its own).
 */
export function supabaseClient(target: Target, role: 'anon' | 'service_role'): SupabaseClient {
  return createClient(target.supabaseUrl, role === 'anon' ? target.anonKey : target.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(AUTH_TIMEOUT_MS) }) },
  });
}

/**
 * A random throwaway password that meets any of Supabase's password policies (config.toml asks for
 * 12 characters with letters and digits): 24 random characters, then one of each required kind.
 */
export function throwawayPassword(): string {
  const password = `${randomBytes(18).toString('base64url')}aA1!`;
  redactor.add(password, 'test user password');
  return password;
}

export const throwawayEmail = (label: string, domain = 'example.com') => `check-${label}-${randomBytes(6).toString('hex')}@${domain}`;

/** Signs a user in with their password; the session's access token goes into the TestUser. */
async function signInWithPassword(target: Target, id: string, email: string, password: string): Promise<TestUser> {
  const { data, error } = await supabaseClient(target, 'anon').auth.signInWithPassword({ email, password });
  if (error || !data.session) throw new Error(`signing the test user in failed: ${error ? `HTTP ${error.status} ${error.code ?? ''} ${error.message}` : 'no session'}`);
  redactor.add(data.session.access_token, 'test user token');
  redactor.add(data.session.refresh_token, 'test user refresh token');
  return { id, email, password, accessToken: data.session.access_token };
}

/** A confirmed throwaway user made through the admin API, signed in. */
export async function createSignedInUser(target: Target, label: string): Promise<TestUser> {
  const email = throwawayEmail(label);
  const password = throwawayPassword();
  const { data, error } = await supabaseClient(target, 'service_role').auth.admin.createUser({ email, password, email_confirm: true });
  if (error || !data.user) {
    const hint = error?.status === 401 || error?.status === 403 ? ' (is the service-role key right? new-style secret keys need the legacy service_role key here)' : '';
    throw new Error(`creating a test user failed: HTTP ${error?.status ?? '?'} ${error?.code ?? ''} ${error?.message ?? 'no user'}${hint}`);
  }
  try {
    return await signInWithPassword(target, data.user.id, email, password);
  } catch (failure) {
    await deleteUser(target, data.user.id).catch(() => {});
    throw failure;
  }
}

export async function deleteUser(target: Target, id: string): Promise<void> {
  const { error } = await supabaseClient(target, 'service_role').auth.admin.deleteUser(id);
  if (error && error.status !== 404) throw new Error(`deleting test user ${id} failed: HTTP ${error.status ?? '?'} ${error.message}`);
}

/** The project's public auth settings (GoTrue's GET /settings): is sign-up open? */
async function signupOpen(target: Target): Promise<boolean> {
  const response = await fetch(`${target.supabaseUrl}/auth/v1/settings`, { headers: { apikey: target.anonKey }, signal: AbortSignal.timeout(AUTH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`reading the auth settings failed: HTTP ${response.status}`);
  return !((await response.json()) as { disable_signup?: boolean }).disable_signup;
}

/** A user on their way in, between the steps of the journey. */
export interface Enrolment {
  email: string;
  password: string;
  userId: string;
  /** How the account came to be: the app's own sign-up, or (sign-up closed) an admin's invitation. */
  via: 'sign-up' | 'invite';
  /** Where the confirmation mail is read (Mailpit's API); absent when the admin API made the link instead. */
  mailboxUrl?: string;
  /** The link's token hash, when the admin API made it (generate_link sends no mail). */
  tokenHash?: string;
}

/**
 * The first step of a user's way in, as the app's users take it: sign-up with supabase-js (which,
 * with confirmations on, gives no session, and whose password is refused as email_not_confirmed
 * until the mail is confirmed); or, while the project closes sign-up (invite-only), an admin's
 * invitation. Without a mailbox to read the mail from, the admin API's generate_link makes the
 * user and the link instead, and no mail is sent.
 */
export async function beginEnrolment(target: Target, label: string, mailbox: { url: string; domain: string } | undefined): Promise<Enrolment> {
  const via = (await signupOpen(target)) ? 'sign-up' : 'invite';
  const email = throwawayEmail(label, mailbox?.domain);
  const password = throwawayPassword();
  const admin = supabaseClient(target, 'service_role').auth.admin;
  if (!mailbox) {
    const { data, error } = via === 'sign-up' ? await admin.generateLink({ type: 'signup', email, password }) : await admin.generateLink({ type: 'invite', email });
    if (error || !data.user || !data.properties) throw new Error(`generate_link failed: HTTP ${error?.status ?? '?'} ${error?.code ?? ''} ${error?.message ?? 'no link'}`);
    redactor.add(data.properties.hashed_token, 'confirmation token');
    redactor.add(data.properties.action_link, 'confirmation link');
    redactor.add(data.properties.email_otp, 'confirmation code');
    return { email, password, userId: data.user.id, via, tokenHash: data.properties.hashed_token };
  }
  if (via === 'invite') {
    const { data, error } = await admin.inviteUserByEmail(email);
    if (error || !data.user) throw new Error(`inviting ${email} failed: HTTP ${error?.status ?? '?'} ${error?.code ?? ''} ${error?.message ?? 'no user'}`);
    return { email, password, userId: data.user.id, via, mailboxUrl: mailbox.url };
  }
  const anon = supabaseClient(target, 'anon').auth;
  const { data, error } = await anon.signUp({ email, password });
  if (error || !data.user) throw new Error(`signing up ${email} failed: HTTP ${error?.status ?? '?'} ${error?.code ?? ''} ${error?.message ?? 'no user'}`);
  const problem = data.session
    ? 'sign-up answered with a session before the e-mail was confirmed: are e-mail confirmations off?'
    : await anon.signInWithPassword({ email, password }).then(({ error: early }) =>
        early?.code === 'email_not_confirmed' ? null : `signing in before confirming was not refused as email_not_confirmed: ${early ? `${early.code} ${early.message}` : 'it signed in'}`,
      );
  if (problem) {
    // The journey's cleanup never learns of this user: remove it here.
    await deleteUser(target, data.user.id).catch(() => {});
    throw new Error(problem);
  }
  return { email, password, userId: data.user.id, via, mailboxUrl: mailbox.url };
}

interface MailpitMessage {
  ID: string;
  Subject: string;
  Text: string;
  HTML: string;
}

/** The newest mail to this address in a Mailpit-API mailbox, waiting for it to arrive. */
export async function waitForMail(mailboxUrl: string, to: string, timeoutMs: number): Promise<MailpitMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const search = await fetch(`${mailboxUrl}/api/v1/search?query=${encodeURIComponent(`to:"${to}"`)}&limit=1`, { signal: AbortSignal.timeout(AUTH_TIMEOUT_MS) });
    if (!search.ok) throw new Error(`the mailbox at ${mailboxUrl} answered HTTP ${search.status} to a search`);
    const newest = ((await search.json()) as { messages?: { ID: string }[] }).messages?.[0];
    if (newest) {
      const message = await fetch(`${mailboxUrl}/api/v1/message/${encodeURIComponent(newest.ID)}`, { signal: AbortSignal.timeout(AUTH_TIMEOUT_MS) });
      if (!message.ok) throw new Error(`the mailbox at ${mailboxUrl} answered HTTP ${message.status} for message ${newest.ID}`);
      return (await message.json()) as MailpitMessage;
    }
    if (Date.now() >= deadline) throw new Error(`no mail to ${to} reached the mailbox at ${mailboxUrl} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The confirmation link in a mail: the first /verify link, HTML entities undone. */
export function verifyLinkIn(mail: { Text: string; HTML: string }): string {
  const found = /https?:\/\/[^\s"'<>]+\/verify\?[^\s"'<>]+/.exec(`${mail.Text}
${mail.HTML}`)?.[0];
  if (!found) throw new Error('the mail has no /verify link');
  return found.replace(/&amp;/g, '&');
}

/**
 * Follows a confirmation link as a browser does, up to the app: Supabase answers 303 to the app with
 * the session in the fragment (#access_token=...&refresh_token=...), or the error there. Link
 * trackers that put their own redirects in front are followed too.
 */
export async function followVerifyLink(link: string): Promise<{ accessToken: string; refreshToken: string }> {
  let url = link;
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(AUTH_TIMEOUT_MS) });
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) throw new Error(`the confirmation link answered HTTP ${response.status} without a redirect`);
    const next = new URL(location, url);
    const fragment = new URLSearchParams(next.hash.slice(1));
    if (fragment.has('error_code') || fragment.has('error')) throw new Error(`the confirmation link was refused: ${fragment.get('error_code') ?? fragment.get('error')}: ${fragment.get('error_description') ?? ''}`);
    const accessToken = fragment.get('access_token');
    const refreshToken = fragment.get('refresh_token');
    if (accessToken && refreshToken) {
      redactor.add(accessToken, 'test user token');
      redactor.add(refreshToken, 'test user refresh token');
      return { accessToken, refreshToken };
    }
    url = next.toString();
  }
  throw new Error('the confirmation link led through more than 5 redirects without a session');
}

/**
 * Confirms the e-mail: the link from the mail, followed as a browser does and handed to
 * supabase-js as the app's page would (setSession reads the user with the new token); or, when
 * the admin API made the link, verifyOtp with its token hash. Returns the client holding the
 * session the link signed in, and what confirmed it.
 */
export async function confirmEnrolment(target: Target, e: Enrolment, mailWaitMs: number): Promise<{ client: SupabaseClient; confirmedBy: string }> {
  const client = supabaseClient(target, 'anon');
  if (e.tokenHash) {
    const { data, error } = await client.auth.verifyOtp({ token_hash: e.tokenHash, type: e.via === 'sign-up' ? 'signup' : 'invite' });
    if (error || !data.session) throw new Error(`verifying the generated link failed: HTTP ${error?.status ?? '?'} ${error?.code ?? ''} ${error?.message ?? 'no session'}`);
    return { client, confirmedBy: 'verifyOtp with the token hash from generate_link' };
  }
  const mail = await waitForMail(e.mailboxUrl!, e.email, mailWaitMs);
  const link = verifyLinkIn(mail);
  redactor.add(link, 'confirmation link');
  const tokens = await followVerifyLink(link);
  const { data, error } = await client.auth.setSession({ access_token: tokens.accessToken, refresh_token: tokens.refreshToken });
  if (error || !data.user) throw new Error(`the session from the link was not accepted: HTTP ${error?.status ?? '?'} ${error?.code ?? ''} ${error?.message ?? 'no user'}`);
  if (!data.user.email_confirmed_at) throw new Error('the link signed the user in but the e-mail is not confirmed');
  return { client, confirmedBy: `the link in "${mail.Subject}"` };
}

/**
 * The last step: an invited user chooses their password in the session the link gave them (a
 * link sign-in, so the current password is not asked for), then, whichever the way in, the user
 * signs in with the password as they will every day.
 */
export async function finishEnrolment(target: Target, e: Enrolment, client: SupabaseClient): Promise<TestUser> {
  if (e.via === 'invite') {
    const { error } = await client.auth.updateUser({ password: e.password });
    if (error) throw new Error(`setting the invited user's password failed: HTTP ${error.status ?? '?'} ${error.code ?? ''} ${error.message}`);
  }
  return signInWithPassword(target, e.userId, e.email, e.password);
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
