// The spoof check's concurrency attack: A and B ask the same thing at once. Only an answer as the
// other user is a leak; a refusal (a rate limit, say) proves nothing and must fail the check
// without crying wolf.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concurrencyVerdict } from '../../scripts/lib/checks/attacks.ts';
import type { GatewayReply, TestUser } from '../../scripts/lib/checks/clients.ts';

const user = (id: string): TestUser => ({ id: `sb-${id}`, email: `${id}@example.com`, password: 'x', accessToken: 'x', internalId: `iid-${id}` });
const [a, b] = [user('a'), user('b')];
const me = (id: string | null): GatewayReply => ({ status: 200, body: { data: { me: id === null ? null : { id } } } });
const limited: GatewayReply = { status: 429, body: { errors: [{ message: 'Too many requests: try again in 1 s.', extensions: { code: 'RATE_LIMITED' } }] } };

test('every answer as its own user passes', () => {
  const r = concurrencyVerdict([me('iid-a'), me('iid-b'), me('iid-a'), me('iid-b')], a, b, 2);
  assert.equal(r.verdict, 'PASS');
  assert.equal(r.got, '4 of 4 right');
});

test('one answer as the other user is a leak, whatever else happened', () => {
  const r = concurrencyVerdict([me('iid-a'), me('iid-a'), limited, me('iid-b')], a, b, 2);
  assert.equal(r.verdict, 'LEAK');
  assert.equal(r.got, '1 of 4 answered as the other user');
});

test('refused or empty answers fail the check, name why, and are not called a leak', () => {
  const r = concurrencyVerdict([me('iid-a'), limited, limited, me(null)], a, b, 2);
  assert.equal(r.verdict, 'FAIL');
  assert.equal(r.got, '3 of 4 not answered (HTTP 429 RATE_LIMITED; HTTP 200)');
});
