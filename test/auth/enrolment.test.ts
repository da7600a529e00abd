// The voucher check's way in for its user (scripts/lib/checks/clients.ts), against the local auth
// with supabase-js: every path it can take. Sign-up closed (config.toml, the stack's case): an
// admin's invitation, confirmed through the link in the mailbox, the password chosen in that
// session. Sign-up open: the app's own sign-up, refused at sign-in until confirmed. Without a
// mailbox (production without a test mailbox): generate_link in place of the mail. And the
// failures it must report rather than paper over.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { beginEnrolment, confirmEnrolment, createSignedInUser, deleteUser, finishEnrolment, followVerifyLink, waitForMail } from '../../scripts/lib/checks/clients.ts';
import type { Target } from '../../scripts/lib/checks/target.ts';
import { redactor } from '../../scripts/lib/redact.ts';
import type { ScratchDatabase } from '../supabase/databases.ts';
import { authDatabase, AuthUnderTest, configSettings, linkIn } from './support.ts';

let db: ScratchDatabase;
let closed: AuthUnderTest;
let open: AuthUnderTest;

before(async () => {
  db = await authDatabase('auth_enrolment');
  closed = await AuthUnderTest.start(db.url, configSettings());
  open = await AuthUnderTest.start(db.url, { ...configSettings(), signupEnabled: true });
});

after(async () => {
  await Promise.all([closed, open].filter(Boolean).map((a) => a.close()));
  await db?.drop();
});

const targetOf = (auth: AuthUnderTest): Target => ({
  name: 'local',
  gatewayUrl: 'http://127.0.0.1:9',
  supabaseUrl: auth.url,
  anonKey: auth.keys.anonKey,
  serviceRoleKey: auth.keys.serviceRoleKey,
  databaseUrl: db.url,
  services: {},
  mailboxUrl: auth.issuer.mailboxUrl,
});

const mailboxOf = (auth: AuthUnderTest) => ({ url: auth.issuer.mailboxUrl, domain: 'example.com' });

/** The user the journey ends with can use its token, and its secrets are masked in what the check prints. */
async function assertUsable(auth: AuthUnderTest, user: { id: string; email: string; password: string; accessToken: string }) {
  const { data, error } = await auth.client().auth.getUser(user.accessToken);
  assert.equal(error, null);
  assert.equal(data.user!.id, user.id);
  assert.ok(data.user!.email_confirmed_at, 'confirmed');
  assert.equal(redactor.redact(`${user.password} ${user.accessToken}`).includes(user.password), false);
  assert.equal(redactor.redact(user.accessToken).includes(user.accessToken), false);
}

test('sign-up closed (config.toml): an invitation by mail, the link followed, the password chosen, then a password sign-in', async () => {
  const target = targetOf(closed);
  const e = await beginEnrolment(target, 'e2e', mailboxOf(closed));
  assert.equal(e.via, 'invite');
  assert.equal(e.tokenHash, undefined);
  const { client, confirmedBy } = await confirmEnrolment(target, e, 5_000);
  assert.equal(confirmedBy, 'the link in "You have been invited"');
  const user = await finishEnrolment(target, e, client);
  assert.equal(user.id, e.userId);
  await assertUsable(closed, user);
  await deleteUser(target, user.id);
  assert.equal((await closed.admin().getUserById(user.id)).error?.status, 404);
});

test("sign-up open: the app's sign-up, refused at sign-in until the link in the mail is followed", async () => {
  const target = targetOf(open);
  const e = await beginEnrolment(target, 'e2e', mailboxOf(open));
  assert.equal(e.via, 'sign-up');
  assert.equal((await open.client().auth.signInWithPassword({ email: e.email, password: e.password })).error?.code, 'email_not_confirmed');
  const { client, confirmedBy } = await confirmEnrolment(target, e, 5_000);
  assert.equal(confirmedBy, 'the link in "Confirm Your Email"');
  const user = await finishEnrolment(target, e, client);
  await assertUsable(open, user);
  await deleteUser(target, user.id);
});

test('without a mailbox the admin API makes the link (generate_link), for an invitation and for a sign-up, and no mail is sent', async () => {
  for (const auth of [closed, open]) {
    const target = targetOf(auth);
    const e = await beginEnrolment(target, 'e2e', undefined);
    assert.equal(e.via, auth === closed ? 'invite' : 'sign-up');
    assert.match(e.tokenHash ?? '', /^[0-9a-f]{56}$/);
    assert.deepEqual(await auth.mailsTo(e.email), []);
    const { client, confirmedBy } = await confirmEnrolment(target, e, 5_000);
    assert.equal(confirmedBy, 'verifyOtp with the token hash from generate_link');
    const user = await finishEnrolment(target, e, client);
    await assertUsable(auth, user);
    await deleteUser(target, user.id);
  }
});

test('what it reports instead of passing: a used link, a mail that never comes, a refused sign-in', async () => {
  const target = targetOf(closed);
  const e = await beginEnrolment(target, 'e2e', mailboxOf(closed));
  const link = linkIn(await closed.latestMailTo(e.email));
  await followVerifyLink(link);
  await assert.rejects(confirmEnrolment(target, e, 5_000), /the confirmation link was refused: otp_expired: Email link is invalid or has expired/);
  await assert.rejects(waitForMail(closed.issuer.mailboxUrl, 'nobody@example.com', 0), /no mail to nobody@example.com reached the mailbox/);
  await assert.rejects(finishEnrolment(target, { ...e, via: 'sign-up', password: 'not-the-password-1' }, closed.client()), /signing the test user in failed: HTTP 400 invalid_credentials/);
  await deleteUser(target, e.userId);

  const made = await createSignedInUser(target, 'spoof');
  await assertUsable(closed, made);
  await deleteUser(target, made.id);
  await deleteUser(target, made.id);
});
