// supabase-js itself (the pinned devDependency, the client the app uses) against the local auth,
// for every call the app and the checks make, with the error cases: a difference between the
// local auth and what the client expects of Supabase Auth fails here. Three issuers share one
// database: `closed` runs supabase/config.toml's settings as the stack does (sign-up closed),
// `open` the same with sign-up open (how the app's own sign-up is rehearsed, and the redirect
// allow list the CORS cases need), and `quick` the same with max_frequency and the refresh reuse
// interval at 0, so resends and reuse detection are tested without waiting.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isAuthApiError, isAuthSessionMissingError, isAuthWeakPasswordError, type SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { ScratchDatabase } from '../supabase/databases.ts';
import { authDatabase, AuthUnderTest, codeIn, configSettings, follow, goodPassword, linkIn, newEmail, tokenHashIn } from './support.ts';

let db: ScratchDatabase;
let closed: AuthUnderTest;
let open: AuthUnderTest;
let quick: AuthUnderTest;
const APP = 'http://localhost:5173';

before(async () => {
  db = await authDatabase('auth_compat');
  closed = await AuthUnderTest.start(db.url, configSettings());
  open = await AuthUnderTest.start(db.url, { ...configSettings(), signupEnabled: true, redirectAllowList: [`${APP}/**`] });
  quick = await AuthUnderTest.start(db.url, { ...configSettings(), signupEnabled: true, emailMaxFrequencySeconds: 0, refreshTokenReuseIntervalSeconds: 0 });
});

after(async () => {
  await Promise.all([closed, open, quick].filter(Boolean).map((a) => a.close()));
  await db?.drop();
});

/** A confirmed user with a password, made through the admin API; and a client signed in as them. */
async function signedIn(auth: AuthUnderTest, label: string): Promise<{ email: string; password: string; id: string; client: SupabaseClient }> {
  const email = newEmail(label);
  const password = goodPassword();
  const { data, error } = await auth.admin().createUser({ email, password, email_confirm: true });
  assert.equal(error, null);
  const client = auth.client();
  const signIn = await client.auth.signInWithPassword({ email, password });
  assert.equal(signIn.error, null);
  return { email, password, id: data.user!.id, client };
}

function assertApiError(error: unknown, status: number, code: string): void {
  assert.ok(isAuthApiError(error), `expected an AuthApiError ${status} ${code}, got ${String(error)}`);
  assert.equal(error.status, status, error.message);
  assert.equal(error.code, code, error.message);
}

test('closed sign-up: config.toml refuses it (signup_disabled), for sign-up and for a one-time link to a new address', async () => {
  assert.equal(closed.settings.signupEnabled, false, 'supabase/config.toml closes sign-up');
  const client = closed.client();
  const email = newEmail('closed');
  const { data, error } = await client.auth.signUp({ email, password: goodPassword() });
  assertApiError(error, 422, 'signup_disabled');
  assert.equal(data.user, null);
  assertApiError((await client.auth.signInWithOtp({ email })).error, 422, 'signup_disabled');
  assert.deepEqual(await closed.mailsTo(email), []);
  const settings = await (await closed.fetch('/settings')).json();
  assert.equal(settings.disable_signup, true);
  assert.equal(settings.mailer_autoconfirm, false);
});

test('sign-up with confirmation: no session until confirmed, email_not_confirmed before, and the link in the mail confirms', async () => {
  const client = open.client();
  const email = newEmail('signup');
  const password = goodPassword();
  const { data, error } = await client.auth.signUp({ email: email.toUpperCase(), password, options: { data: { name: 'Alpha' } } });
  assert.equal(error, null);
  assert.equal(data.session, null, 'confirmations are on: no session');
  assert.equal(data.user!.email, email, 'lower-cased');
  assert.equal(data.user!.email_confirmed_at, undefined);
  assert.equal(data.user!.identities!.length, 1);
  assert.deepEqual(data.user!.user_metadata, { name: 'Alpha' });

  assertApiError((await client.auth.signInWithPassword({ email, password })).error, 400, 'email_not_confirmed');
  assertApiError((await client.auth.signInWithPassword({ email, password: `${password}x` })).error, 400, 'invalid_credentials');

  const mail = await open.latestMailTo(email);
  assert.equal(mail.Subject, 'Confirm Your Email');
  const link = linkIn(mail);
  assert.equal(new URL(link).origin + new URL(link).pathname, `${open.url}/auth/v1/verify`);
  assert.equal(new URL(link).searchParams.get('type'), 'signup');
  assert.match(tokenHashIn(link), /^[0-9a-f]{56}$/, 'the token is the sha224 token hash');
  assert.match(mail.HTML, /<a href="http:\/\/127\.0\.0\.1:\d+\/auth\/v1\/verify\?token=[0-9a-f]+&amp;type=signup&amp;redirect_to=/);

  const clicked = await follow(link);
  assert.equal(clicked.status, 303);
  assert.ok(clicked.location.startsWith(`${open.settings.siteUrl}#`), clicked.location);
  assert.equal(clicked.fragment.get('type'), 'signup');
  assert.equal(clicked.fragment.get('token_type'), 'bearer');
  assert.equal(clicked.fragment.has('sb'), true);
  // The app's page hands the fragment to supabase-js, which reads the user with the new token.
  const app = open.client();
  const session = await app.auth.setSession({ access_token: clicked.fragment.get('access_token')!, refresh_token: clicked.fragment.get('refresh_token')! });
  assert.equal(session.error, null);
  assert.ok(session.data.user!.email_confirmed_at);
  assert.equal(session.data.user!.user_metadata.email_verified, true);

  const again = await follow(link);
  assert.equal(again.status, 303, 'a used link still redirects');
  assert.equal(again.fragment.get('error_code'), 'otp_expired');
  assert.equal(again.fragment.get('error'), 'access_denied');

  const signIn = await client.auth.signInWithPassword({ email, password });
  assert.equal(signIn.error, null);
  const claims = decodeJwt(signIn.data.session!.access_token);
  assert.equal(claims.iss, `${open.url}/auth/v1`);
  assert.equal(claims.aud, 'authenticated');
  assert.equal(claims.sub, data.user!.id);
  assert.equal(claims.role, 'authenticated');
  assert.equal(claims.email, email);
  assert.equal(claims.aal, 'aal1');
  assert.equal((claims.amr as { method: string }[])[0]!.method, 'password');
  assert.equal(claims.exp! - claims.iat!, open.settings.jwtExpirySeconds);
  assert.match(String(claims.session_id), /^[0-9a-f-]{36}$/);
  assert.equal(signIn.data.session!.expires_in, 86400);
});

test('sign-up errors: weak passwords, a bad address, an already confirmed address (made-up user, no mail), a resend too soon, PKCE', async () => {
  const client = open.client();
  const short = await client.auth.signUp({ email: newEmail('weak'), password: 'abc123' });
  assert.ok(isAuthWeakPasswordError(short.error), String(short.error));
  assert.equal(short.error.status, 422);
  assert.deepEqual(short.error.reasons, ['length']);
  const noDigit = await client.auth.signUp({ email: newEmail('weak'), password: 'abcdefghijklmnop' });
  assert.ok(isAuthWeakPasswordError(noDigit.error));
  assert.deepEqual(noDigit.error.reasons, ['characters']);
  assertApiError((await client.auth.signUp({ email: 'not-an-address', password: goodPassword() })).error, 400, 'validation_failed');
  assertApiError((await client.auth.signUp({ email: `${'a'.repeat(250)}@example.test`, password: goodPassword() })).error, 400, 'validation_failed');

  const existing = await signedIn(open, 'taken');
  const mailsBefore = (await open.mailsTo(existing.email)).length;
  const again = await client.auth.signUp({ email: existing.email, password: goodPassword() });
  assert.equal(again.error, null, 'no error: sign-up does not reveal who is registered');
  assert.notEqual(again.data.user!.id, existing.id);
  assert.deepEqual(again.data.user!.identities, []);
  assert.equal(again.data.session, null);
  assert.equal((await open.mailsTo(existing.email)).length, mailsBefore, 'no mail');

  const pending = newEmail('pending');
  assert.equal((await client.auth.signUp({ email: pending, password: goodPassword() })).error, null);
  const tooSoon = await client.auth.signUp({ email: pending, password: goodPassword() });
  assertApiError(tooSoon.error, 429, 'over_email_send_rate_limit');
  assert.match(tooSoon.error!.message, /you can only request this after \d+ seconds/);

  const pkce = open.client('anon', { flowType: 'pkce' });
  assertApiError((await pkce.auth.signUp({ email: newEmail('pkce'), password: goodPassword() })).error, 400, 'validation_failed');
});

test('verifyOtp: with the token hash, with the address and the code, and the refusals', async () => {
  const client = quick.client();
  const first = newEmail('hash');
  await client.auth.signUp({ email: first, password: goodPassword() });
  const hash = tokenHashIn(linkIn(await quick.latestMailTo(first)));
  const withEmailToo = await client.auth.verifyOtp({ token_hash: hash, type: 'signup', email: first } as never);
  assertApiError(withEmailToo.error, 400, 'validation_failed');
  const verified = await client.auth.verifyOtp({ token_hash: hash, type: 'signup' });
  assert.equal(verified.error, null);
  assert.ok(verified.data.session?.access_token);
  assert.equal(verified.data.user!.email, first);
  assert.equal((decodeJwt(verified.data.session!.access_token).amr as { method: string }[])[0]!.method, 'otp');
  assertApiError((await client.auth.verifyOtp({ token_hash: hash, type: 'signup' })).error, 403, 'otp_expired');

  const second = newEmail('code');
  await client.auth.signUp({ email: second, password: goodPassword() });
  const code = codeIn(await quick.latestMailTo(second));
  assert.match(code, /^\d{6}$/);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  assertApiError((await client.auth.verifyOtp({ email: second, token: wrong, type: 'email' })).error, 403, 'otp_expired');
  const byCode = await client.auth.verifyOtp({ email: second, token: code, type: 'email' });
  assert.equal(byCode.error, null);
  assert.ok(byCode.data.session);
  assertApiError((await client.auth.verifyOtp({ token_hash: 'f'.repeat(56), type: 'magiclink' })).error, 403, 'otp_expired');
});

test('magic link: a confirmed user gets one; shouldCreateUser false refuses an unknown address; an unknown one is signed up', async () => {
  const user = await signedIn(open, 'magic');
  const client = open.client();
  const sent = await client.auth.signInWithOtp({ email: user.email, options: { shouldCreateUser: false, emailRedirectTo: `${APP}/welcome` } });
  assert.equal(sent.error, null);
  assert.equal(sent.data.session, null);
  const mail = await open.latestMailTo(user.email);
  assert.equal(mail.Subject, 'Your Magic Link');
  const link = linkIn(mail);
  assert.equal(new URL(link).searchParams.get('type'), 'magiclink');
  assert.equal(new URL(link).searchParams.get('redirect_to'), `${APP}/welcome`, 'an allowed redirect is kept');
  const clicked = await follow(link);
  assert.ok(clicked.location.startsWith(`${APP}/welcome#`), clicked.location);
  assert.equal(clicked.fragment.get('type'), 'magiclink');

  assertApiError((await client.auth.signInWithOtp({ email: newEmail('nobody'), options: { shouldCreateUser: false } })).error, 422, 'otp_disabled');
  const stranger = newEmail('stranger');
  assert.equal((await client.auth.signInWithOtp({ email: stranger })).error, null);
  assert.equal((await open.latestMailTo(stranger)).Subject, 'Confirm Your Email', 'a new address is signed up and asked to confirm');
});

test('resend: the confirmation again, replacing the old link; nothing for an unknown or confirmed address; max_frequency applies', async () => {
  const client = quick.client();
  const email = newEmail('resend');
  await client.auth.signUp({ email, password: goodPassword() });
  const firstLink = linkIn(await quick.latestMailTo(email));
  assert.equal((await client.auth.resend({ type: 'signup', email })).error, null);
  const mails = await quick.mailsTo(email);
  assert.equal(mails.length, 2);
  const secondLink = linkIn(mails[0]!);
  assert.notEqual(secondLink, firstLink);
  assert.equal((await follow(firstLink)).fragment.get('error_code'), 'otp_expired', 'the old link no longer works');
  assert.equal((await follow(secondLink)).fragment.get('type'), 'signup');

  assert.equal((await client.auth.resend({ type: 'signup', email: newEmail('unknown') })).error, null);
  assert.equal((await client.auth.resend({ type: 'signup', email })).error, null, 'confirmed now: answered, nothing sent');
  assert.equal((await quick.mailsTo(email)).length, 2);

  const slow = open.client();
  const pending = newEmail('slow');
  await slow.auth.signUp({ email: pending, password: goodPassword() });
  assertApiError((await slow.auth.resend({ type: 'signup', email: pending })).error, 429, 'over_email_send_rate_limit');
  assertApiError((await slow.auth.resend({ type: 'bogus' as 'signup', email: pending })).error, 400, 'validation_failed');
});

test('password recovery: the link signs in (PASSWORD_RECOVERY), the new password needs no current one; unknown addresses get nothing', async () => {
  const user = await signedIn(open, 'recover');
  const client = open.client();
  assert.equal((await client.auth.resetPasswordForEmail(user.email, { redirectTo: 'https://elsewhere.example/steal' })).error, null);
  const mail = await open.latestMailTo(user.email);
  assert.equal(mail.Subject, 'Reset Your Password');
  const link = linkIn(mail);
  assert.equal(new URL(link).searchParams.get('redirect_to'), open.settings.siteUrl, 'a redirect outside the allow list becomes the site URL');

  const events: string[] = [];
  client.auth.onAuthStateChange((event) => void events.push(event));
  const verified = await client.auth.verifyOtp({ token_hash: tokenHashIn(link), type: 'recovery' });
  assert.equal(verified.error, null);
  assert.ok(events.includes('PASSWORD_RECOVERY'), events.join(','));
  const newPassword = goodPassword();
  assert.equal((await client.auth.updateUser({ password: newPassword })).error, null, 'a recovery session sets a password without the current one');
  assertApiError((await open.client().auth.signInWithPassword({ email: user.email, password: user.password })).error, 400, 'invalid_credentials');
  assert.equal((await open.client().auth.signInWithPassword({ email: user.email, password: newPassword })).error, null);

  const unknown = newEmail('no-such-user');
  assert.equal((await client.auth.resetPasswordForEmail(unknown)).error, null);
  assert.deepEqual(await open.mailsTo(unknown), []);
});

test('refresh: every use rotates; the parent of the active token returns it; a reused one revokes the session (reuse detection)', async () => {
  const user = await signedIn(open, 'refresh');
  const first = (await user.client.auth.getSession()).data.session!;
  const refreshed = await user.client.auth.refreshSession();
  assert.equal(refreshed.error, null);
  const second = refreshed.data.session!;
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.notEqual(second.access_token, first.access_token);
  assert.equal(decodeJwt(second.access_token).session_id, decodeJwt(first.access_token).session_id, 'the same session');
  // A client that lost the answer presents the old token again, within the reuse interval: it gets the active one.
  const lost = await open.client().auth.refreshSession({ refresh_token: first.refresh_token });
  assert.equal(lost.error, null);
  assert.equal(lost.data.session!.refresh_token, second.refresh_token);

  const other = await signedIn(quick, 'reuse');
  const r0 = (await other.client.auth.getSession()).data.session!.refresh_token;
  const r1 = (await other.client.auth.refreshSession()).data.session!.refresh_token;
  const r2 = (await other.client.auth.refreshSession()).data.session!.refresh_token;
  assert.notEqual(r1, r2);
  assertApiError((await quick.client().auth.refreshSession({ refresh_token: r0 })).error, 400, 'refresh_token_already_used');
  assertApiError((await quick.client().auth.refreshSession({ refresh_token: r2 })).error, 400, 'refresh_token_already_used');

  assertApiError((await open.client().auth.refreshSession({ refresh_token: 'no-such-token' })).error, 400, 'refresh_token_not_found');
  const missing = await open.fetch('/token?grant_type=refresh_token', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(missing.status, 400);
  assert.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'refresh_token required' });
  assertApiError((await open.client().auth.signInWithPassword({ email: newEmail('nobody'), password: goodPassword() })).error, 400, 'invalid_credentials');
});

test('get and update the user: metadata merged, password rules, app_metadata refused, and the e-mail change confirmed from both addresses', async () => {
  const user = await signedIn(quick, 'update');
  const got = await user.client.auth.getUser();
  assert.equal(got.error, null);
  assert.equal(got.data.user!.id, user.id);
  assert.equal(got.data.user!.email, user.email);

  assert.deepEqual((await user.client.auth.updateUser({ data: { theme: 'dark', lang: 'en' } })).data.user!.user_metadata, { email_verified: true, theme: 'dark', lang: 'en' });
  assert.deepEqual((await user.client.auth.updateUser({ data: { theme: null } })).data.user!.user_metadata, { email_verified: true, lang: 'en' });
  assertApiError((await user.client.auth.updateUser({ data: {}, ...{ app_metadata: { role: 'admin' } } } as never)).error, 403, 'not_admin');

  const second = quick.client();
  await second.auth.signInWithPassword({ email: user.email, password: user.password });
  const newPassword = goodPassword();
  assertApiError((await user.client.auth.updateUser({ password: newPassword })).error, 400, 'current_password_required');
  assertApiError((await user.client.auth.updateUser({ password: newPassword, current_password: 'wrong-password-1' })).error, 400, 'current_password_invalid');
  assertApiError((await user.client.auth.updateUser({ password: user.password, current_password: user.password })).error, 422, 'same_password');
  const weak = await user.client.auth.updateUser({ password: 'short1', current_password: user.password });
  assert.ok(isAuthWeakPasswordError(weak.error));
  assert.equal((await user.client.auth.updateUser({ password: newPassword, current_password: user.password })).error, null);
  const signedOut = await second.auth.getUser();
  assert.ok(isAuthSessionMissingError(signedOut.error), 'a password change signs the other sessions out');
  assert.equal((await user.client.auth.getUser()).error, null, 'but not this one');

  const taken = await signedIn(quick, 'taken');
  assertApiError((await user.client.auth.updateUser({ email: taken.email })).error, 422, 'email_exists');
  const newAddress = newEmail('moved');
  const changing = await user.client.auth.updateUser({ email: newAddress });
  assert.equal(changing.error, null);
  assert.equal(changing.data.user!.new_email, newAddress);
  assert.equal(changing.data.user!.email, user.email, 'not changed until confirmed');
  const toNew = linkIn(await quick.latestMailTo(newAddress));
  const toOld = linkIn(await quick.latestMailTo(user.email));
  assert.equal((await quick.latestMailTo(newAddress)).Subject, 'Confirm Email Change');
  const half = await follow(toOld);
  assert.match(half.fragment.get('message') ?? '', /proceed to confirm link sent to the other email/);
  const done = await follow(toNew);
  assert.equal(done.fragment.get('type'), 'email_change');
  assert.equal((await user.client.auth.getUser()).data.user!.email, newAddress);
});

test('getUser refuses what it must: no session, an expired token, a forged signature, a deleted user; getClaims verifies against the JWKS', async () => {
  assert.ok(isAuthSessionMissingError((await open.client().auth.getUser()).error), 'no session: the client does not even ask');
  const user = await signedIn(open, 'claims');
  const token = (await user.client.auth.getSession()).data.session!.access_token;

  const claims = await user.client.auth.getClaims();
  assert.equal(claims.error, null);
  assert.equal(claims.data!.claims.sub, user.id);
  assert.equal(claims.data!.header.alg, 'ES256');

  const jwks = await open.fetch('/.well-known/jwks.json', { key: 'none' });
  assert.equal(jwks.headers.get('cache-control'), 'public, max-age=600');
  const [key] = ((await jwks.json()) as { keys: Record<string, unknown>[] }).keys;
  assert.equal(key!.kid, open.keys.signingKey.kid);
  assert.deepEqual(key!.key_ops, ['verify']);
  assert.equal(key!.d, undefined, 'no private part');

  const payload = decodeJwt(token);
  const now = Math.floor(Date.now() / 1000);
  const signingKey = await importJWK(open.keys.signingKey, 'ES256');
  const expired = await new SignJWT({ ...payload, iat: now - 7200, exp: now - 3600 }).setProtectedHeader({ alg: 'ES256', kid: open.keys.signingKey.kid!, typ: 'JWT' }).sign(signingKey);
  const expiredUser = await open.client().auth.getUser(expired);
  assertApiError(expiredUser.error, 403, 'bad_jwt');
  assert.match(expiredUser.error!.message, /token is expired/);
  assert.equal((await open.client().auth.getClaims(expired)).error?.name, 'AuthInvalidJwtError');

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const forged = await new SignJWT({ ...payload }).setProtectedHeader({ alg: 'ES256', kid: open.keys.signingKey.kid!, typ: 'JWT' }).sign(privateKey);
  assertApiError((await open.client().auth.getUser(forged)).error, 403, 'bad_jwt');
  assert.match((await open.client().auth.getClaims(forged)).error?.message ?? '', /Invalid JWT signature/);

  assert.equal((await open.admin().deleteUser(user.id)).error, null);
  assertApiError((await open.client().auth.getUser(token)).error, 403, 'user_not_found');
});

test('sign-out: others, local and global scope revoke the right sessions and their refresh tokens', async () => {
  const user = await signedIn(open, 'signout');
  const sessions = [user.client];
  for (let i = 0; i < 4; i++) {
    const c = open.client();
    assert.equal((await c.auth.signInWithPassword({ email: user.email, password: user.password })).error, null);
    sessions.push(c);
  }
  const tokens = await Promise.all(sessions.map(async (c) => (await c.auth.getSession()).data.session!));
  const [a, b, c, d, e] = sessions as [SupabaseClient, SupabaseClient, SupabaseClient, SupabaseClient, SupabaseClient];

  assert.equal((await a.auth.signOut({ scope: 'others' })).error, null);
  assert.equal((await a.auth.getUser()).error, null, 'others: this session stays');
  for (const [i, t] of [[1, tokens[1]!], [4, tokens[4]!]] as const) {
    assert.ok(isAuthSessionMissingError((await open.client().auth.getUser(t.access_token)).error), `session ${i} is gone`);
    assertApiError((await open.client().auth.refreshSession({ refresh_token: t.refresh_token })).error, 400, 'refresh_token_not_found');
  }
  // The access token still carries a valid signature until it expires: only the auth knows the session is gone.
  assert.equal((await open.client().auth.getClaims(tokens[1]!.access_token)).error, null);

  assert.equal((await a.auth.signOut({ scope: 'local' })).error, null);
  assert.ok(isAuthSessionMissingError((await open.client().auth.getUser(tokens[0]!.access_token)).error));
  assert.equal((await a.auth.getSession()).data.session, null, 'the client forgot it');

  const f = open.client();
  await f.auth.signInWithPassword({ email: user.email, password: user.password });
  const g = open.client();
  await g.auth.signInWithPassword({ email: user.email, password: user.password });
  const gToken = (await g.auth.getSession()).data.session!.access_token;
  assert.equal((await f.auth.signOut()).error, null, 'global, the default');
  assert.ok(isAuthSessionMissingError((await open.client().auth.getUser(gToken)).error));
  void [b, c, d, e];

  const h = open.client();
  await h.auth.signInWithPassword({ email: user.email, password: user.password });
  const bad = await open.fetch('/logout?scope=everything', { method: 'POST', headers: { authorization: `Bearer ${(await h.auth.getSession()).data.session!.access_token}` } });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error_code, 'validation_failed');
});

test('admin: create, get, list with pagination, update (ban), delete; generate_link without mail; an invitation by mail', async () => {
  const admin = open.admin();
  const email = newEmail('admin');
  const password = goodPassword();
  const created = await admin.createUser({ email, password, email_confirm: true, user_metadata: { plan: 'alpha' } });
  assert.equal(created.error, null);
  assert.ok(created.data.user!.email_confirmed_at);
  assert.deepEqual(created.data.user!.app_metadata, { provider: 'email', providers: ['email'] });
  assertApiError((await admin.createUser({ email, password: goodPassword() })).error, 422, 'email_exists');
  assertApiError((await admin.createUser({ password: goodPassword() } as never)).error, 400, 'validation_failed');
  assert.equal((await admin.getUserById(created.data.user!.id)).data.user!.email, email);
  assertApiError((await admin.getUserById('00000000-0000-4000-8000-000000000000')).error, 404, 'user_not_found');

  const everyone = await admin.listUsers({ page: 1, perPage: 1000 });
  assert.equal(everyone.error, null);
  const total = everyone.data.users.length;
  assert.ok(total >= 3);
  assert.ok(everyone.data.users.some((u) => u.id === created.data.user!.id));
  const perPage = Math.ceil(total / 3);
  const page = await admin.listUsers({ page: 1, perPage });
  assert.equal(page.error, null);
  assert.equal(page.data.users.length, perPage);
  assert.equal((page.data as { total?: number }).total, total);
  assert.equal((page.data as { nextPage?: number | null }).nextPage, 2);
  assert.equal((page.data as { lastPage?: number }).lastPage, Math.ceil(total / perPage));
  const createdAt = page.data.users.map((u) => u.created_at);
  assert.deepEqual(createdAt, [...createdAt].sort().reverse(), 'newest first');

  const banned = await admin.updateUserById(created.data.user!.id, { ban_duration: '24h' });
  assert.equal(banned.error, null);
  assert.ok(banned.data.user!.banned_until);
  assertApiError((await open.client().auth.signInWithPassword({ email, password })).error, 400, 'user_banned');
  const weakUpdate = await admin.updateUserById(created.data.user!.id, { password: 'short' });
  assert.ok(isAuthWeakPasswordError(weakUpdate.error));

  assert.equal((await admin.deleteUser(created.data.user!.id)).error, null);
  assertApiError((await admin.deleteUser(created.data.user!.id)).error, 404, 'user_not_found');

  const invited = newEmail('generated');
  const link = await admin.generateLink({ type: 'invite', email: invited, options: { redirectTo: `${APP}/accept` } });
  assert.equal(link.error, null);
  assert.equal(link.data.properties!.verification_type, 'invite');
  assert.equal(link.data.properties!.redirect_to, `${APP}/accept`);
  assert.match(link.data.properties!.email_otp, /^\d{6}$/);
  assert.equal(link.data.user!.email, invited);
  assert.ok(link.data.properties!.action_link.includes(`token=${link.data.properties!.hashed_token}`));
  assert.deepEqual(await open.mailsTo(invited), [], 'generate_link sends no mail');
  const accepted = await open.client().auth.verifyOtp({ token_hash: link.data.properties!.hashed_token, type: 'invite' });
  assert.equal(accepted.error, null);
  assertApiError((await admin.generateLink({ type: 'recovery', email: newEmail('ghost') })).error, 404, 'user_not_found');
  assertApiError((await admin.generateLink({ type: 'signup', email: newEmail('nopass') } as never)).error, 400, 'validation_failed');

  const guest = newEmail('invited');
  const sent = await admin.inviteUserByEmail(guest, { data: { cohort: 1 } });
  assert.equal(sent.error, null);
  assert.ok(sent.data.user!.invited_at);
  const mail = await open.latestMailTo(guest);
  assert.equal(mail.Subject, 'You have been invited');
  const clicked = await follow(linkIn(mail));
  assert.equal(clicked.fragment.get('type'), 'invite');
  const app = open.client();
  await app.auth.setSession({ access_token: clicked.fragment.get('access_token')!, refresh_token: clicked.fragment.get('refresh_token')! });
  const chosen = goodPassword();
  assert.equal((await app.auth.updateUser({ password: chosen })).error, null, 'the invited user chooses a password in the link session');
  assert.equal((await open.client().auth.signInWithPassword({ email: guest, password: chosen })).error, null);
  assertApiError((await admin.inviteUserByEmail(guest)).error, 422, 'email_exists');

  assertApiError((await open.client().auth.admin.listUsers()).error, 403, 'not_admin');
  const noBearer = await open.fetch('/admin/users', { key: 'service_role' });
  assert.equal(noBearer.status, 401);
  assert.equal((await noBearer.json()).error_code, 'no_authorization');
});

test('CORS: the site URL and allow-list origins get preflights and headers on every answer, errors and redirects too; others do not', async () => {
  const preflight = await open.fetch('/token?grant_type=password', {
    method: 'OPTIONS',
    key: 'none',
    headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'apikey, authorization, content-type, x-client-info, x-supabase-api-version' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP);
  for (const header of ['apikey', 'authorization', 'content-type', 'x-client-info', 'x-supabase-api-version']) {
    assert.ok(preflight.headers.get('access-control-allow-headers')!.split(/,\s*/).includes(header), header);
  }
  assert.ok(preflight.headers.get('access-control-allow-methods')!.includes('PUT'));

  const refused = await open.fetch('/token?grant_type=password', { method: 'POST', headers: { origin: APP, 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' }, body: '{}' });
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get('access-control-allow-origin'), APP);
  assert.ok(refused.headers.get('access-control-expose-headers')!.includes('X-Supabase-Api-Version'));

  const site = await open.fetch('/settings', { headers: { origin: open.settings.siteUrl } });
  assert.equal(site.headers.get('access-control-allow-origin'), open.settings.siteUrl);
  const redirect = await follow(`${open.url}/auth/v1/verify?token=${'0'.repeat(56)}&type=signup`, { origin: APP });
  assert.equal(redirect.status, 303);
  assert.equal(redirect.headers.get('access-control-allow-origin'), APP);

  const foreign = await open.fetch('/token', { method: 'OPTIONS', key: 'none', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  const foreignGet = await open.fetch('/settings', { headers: { origin: 'https://evil.example' } });
  assert.equal(foreignGet.headers.get('access-control-allow-origin'), null);
});

test("errors take the shape the request's API version asks for; without an API key the gateway's 401", async () => {
  const modern = await open.fetch('/token?grant_type=password', { method: 'POST', headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' }, body: JSON.stringify({ email: newEmail('x'), password: 'x' }) });
  assert.equal(modern.status, 400);
  assert.equal(modern.headers.get('x-supabase-api-version'), '2024-01-01');
  assert.equal(modern.headers.get('x-sb-error-code'), 'invalid_credentials');
  assert.deepEqual(await modern.json(), { code: 'invalid_credentials', message: 'Invalid login credentials' });
  const legacy = await open.fetch('/token?grant_type=password', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: newEmail('x'), password: 'x' }) });
  assert.equal(legacy.headers.get('x-supabase-api-version'), null);
  assert.deepEqual(await legacy.json(), { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
  const grant = await open.fetch('/token?grant_type=pkce', { method: 'POST', body: '{}' });
  assert.equal((await grant.json()).msg, 'unsupported_grant_type');

  const noKey = await open.fetch('/settings', { key: 'none' });
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).message, 'No API key found in request');
  const badKey = await open.fetch('/settings', { headers: { apikey: 'not-a-key' } });
  assert.equal(badKey.status, 401);
  assert.equal((await badKey.json()).message, 'Invalid API key');
  const noRoute = await open.fetch('/factors', { method: 'POST' });
  assert.equal(noRoute.status, 404);
  assert.match((await noRoute.json()).msg, /does not serve POST \/auth\/v1\/factors/);
});
