// The local mailbox speaks Mailpit's HTTP API: the list, search, one message (by ID or latest, and
// latest matching a query), deletes, with Mailpit's field names, so any Mailpit client (and the
// voucher check) reads the local auth's mail the way it would read `supabase start`'s. The mail
// itself is what the auth sent: the right subject, the link and the code.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ScratchDatabase } from '../supabase/databases.ts';
import { authDatabase, AuthUnderTest, codeIn, configSettings, goodPassword, linkIn, newEmail } from './support.ts';

let db: ScratchDatabase;
let auth: AuthUnderTest;
let base: string;
const alice = newEmail('alice');
const bob = newEmail('bob');

before(async () => {
  db = await authDatabase('auth_mailbox');
  auth = await AuthUnderTest.start(db.url, configSettings());
  base = auth.issuer.mailboxUrl;
  // Three mails, oldest first: Alice's invitation, Bob's invitation, Alice's recovery link.
  await auth.admin().inviteUserByEmail(alice);
  await auth.admin().inviteUserByEmail(bob);
  await auth.admin().updateUserById((await auth.admin().listUsers()).data.users.find((u) => u.email === alice)!.id, { email_confirm: true, password: goodPassword() });
  await auth.client().auth.resetPasswordForEmail(alice);
});

after(async () => {
  await auth?.close();
  await db?.drop();
});

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: response.headers.get('content-type')?.startsWith('application/json') ? await response.json() : await response.text() };
};

test('GET /api/v1/messages: Mailpit’s summary fields, newest first, start and limit', async () => {
  const { status, body } = await get('/api/v1/messages');
  assert.equal(status, 200);
  assert.equal(body.total, 3);
  assert.equal(body.messages_count, 3);
  assert.equal(body.unread, 3);
  assert.equal(body.start, 0);
  assert.deepEqual(body.tags, []);
  assert.deepEqual(
    body.messages.map((m: { Subject: string }) => m.Subject),
    ['Reset Your Password', 'You have been invited', 'You have been invited'],
  );
  const [newest] = body.messages;
  assert.deepEqual(Object.keys(newest).sort(), ['Attachments', 'Bcc', 'Cc', 'Created', 'From', 'ID', 'MessageID', 'Read', 'ReplyTo', 'Size', 'Snippet', 'Subject', 'Tags', 'To', 'Username'].sort());
  assert.deepEqual(newest.To, [{ Name: '', Address: alice }]);
  assert.equal(typeof newest.From.Address, 'string');
  assert.ok(!Number.isNaN(Date.parse(newest.Created)));
  assert.match(newest.ID, /^[A-Za-z0-9]{22}$/);
  const paged = await get('/api/v1/messages?start=1&limit=1');
  assert.equal(paged.body.messages.length, 1);
  assert.equal(paged.body.start, 1);
  assert.equal(paged.body.messages[0].To[0].Address, bob);
});

test('GET /api/v1/search: to:, subject: and words; messages_count counts the matches, total the mailbox', async () => {
  const toAlice = await get(`/api/v1/search?query=${encodeURIComponent(`to:"${alice}"`)}`);
  assert.equal(toAlice.body.messages_count, 2);
  assert.equal(toAlice.body.total, 3);
  assert.ok(toAlice.body.messages.every((m: { To: { Address: string }[] }) => m.To[0]!.Address === alice));
  const invitesToBob = await get(`/api/v1/search?query=${encodeURIComponent(`subject:invited to:${bob}`)}`);
  assert.equal(invitesToBob.body.messages_count, 1);
  const word = await get(`/api/v1/search?query=Reset`);
  assert.equal(word.body.messages_count, 1);
  const none = await get('/api/v1/search');
  assert.equal(none.status, 400);
  assert.equal(none.body, 'Error: no search query');
});

test('GET /api/v1/message/{ID|latest}: the whole message, which is then read; the link and the code the auth sent', async () => {
  const listed = (await get('/api/v1/messages')).body.messages as { ID: string }[];
  const { status, body } = await get(`/api/v1/message/${listed[1]!.ID}`);
  assert.equal(status, 200);
  for (const key of ['ID', 'MessageID', 'From', 'To', 'Cc', 'Bcc', 'ReplyTo', 'ReturnPath', 'Subject', 'ListUnsubscribe', 'Date', 'Tags', 'Username', 'Text', 'HTML', 'Size', 'Inline', 'Attachments']) {
    assert.ok(key in body, key);
  }
  assert.equal(body.Subject, 'You have been invited');
  const link = new URL(linkIn(body));
  assert.equal(link.pathname, '/auth/v1/verify');
  assert.equal(link.searchParams.get('type'), 'invite');
  assert.equal(link.searchParams.get('redirect_to'), auth.settings.siteUrl);
  assert.match(codeIn(body), /^\d{6}$/);
  assert.ok(body.HTML.includes('Accept the invite'));
  assert.equal((await get('/api/v1/messages')).body.unread, 2, 'reading marks it read');

  const latest = await get('/api/v1/message/latest');
  assert.equal(latest.body.Subject, 'Reset Your Password');
  const latestToBob = await get(`/api/v1/message/latest?query=${encodeURIComponent(`to:${bob}`)}`);
  assert.equal(latestToBob.body.To[0].Address, bob);
  const missing = await get('/api/v1/message/NoSuchMessage');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'Not found');
});

test('the page lists the mail and shows a message with its link to click', async () => {
  const page = await get('/');
  assert.match(page.type ?? '', /text\/html/);
  assert.ok(page.body.includes(alice));
  const id = (await get('/api/v1/message/latest')).body.ID;
  const view = await get(`/view/${id}`);
  assert.match(view.body, /<a href="http:\/\/127\.0\.0\.1:\d+\/auth\/v1\/verify\?token=[0-9a-f]+&amp;type=recovery&amp;redirect_to=[^"]+">/);
});

test('DELETE: by search, by IDs, and everything', async () => {
  const extra = newEmail('carol');
  await auth.admin().inviteUserByEmail(extra);
  assert.equal((await fetch(`${base}/api/v1/search?query=${encodeURIComponent(`to:${extra}`)}`, { method: 'DELETE' })).status, 200);
  assert.equal((await get(`/api/v1/search?query=${encodeURIComponent(`to:${extra}`)}`)).body.messages_count, 0);
  const [first] = (await get('/api/v1/messages')).body.messages as { ID: string }[];
  const one = await fetch(`${base}/api/v1/messages`, { method: 'DELETE', body: JSON.stringify({ IDs: [first!.ID] }) });
  assert.equal(await one.text(), 'ok');
  assert.equal((await get('/api/v1/messages')).body.total, 2);
  await fetch(`${base}/api/v1/messages`, { method: 'DELETE' });
  assert.equal((await get('/api/v1/messages')).body.total, 0);
});
