// The gateway's own calls (here the users_service lookup) go out through the same HTTP client as
// its subgraph calls, never through the global fetch: mixing the two clients in one process made
// every request about 4% more expensive (gateway/src/http-client.ts, bench/gateway/RESULTS.md).
// The two clients announce themselves differently, so the lookup's headers tell which one sent it.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { TestStack, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';

let stack: TestStack;
let gateway: TestGateway;

before(async () => {
  stack = await TestStack.start();
  gateway = await startTestGateway(stack.options());
});
after(async () => {
  await gateway?.close();
  await stack?.close();
});

// What a client says about itself, not about the request it sends.
const CLIENT_HEADERS = ['user-agent', 'accept-encoding', 'accept-language', 'sec-fetch-mode', 'connection'];
const fingerprint = (headers: Record<string, string | string[] | undefined>) => Object.fromEntries(CLIENT_HEADERS.map((name) => [name, headers[name]]));

test('the users_service lookup goes out through the client the subgraph calls use', async () => {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  const before = stack.mesh.received.length;
  const res = await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' }, [['authorization', `Bearer ${await stack.issuer.sign({ sub })}`]]);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const calls = stack.mesh.received.slice(before);
  const lookup = calls.find((c) => c.body.query?.includes('userBySupabaseId'));
  const routed = calls.find((c) => !c.body.query?.includes('userBySupabaseId'));
  assert.ok(lookup && routed, 'a new user: looked up, then the query routed');
  assert.deepEqual(fingerprint(lookup.headers), fingerprint(routed.headers));
});

test('a redirect from users_service is refused, never followed: the lookup fails closed', async () => {
  // users_service answering with a redirect to the real one: following it would send the
  // gateway's lookup (and its Google ID token in production) wherever the redirect points.
  const redirects: Server = createServer((_req, res) => res.writeHead(307, { location: stack.mesh.usersUrl }).end());
  await new Promise<void>((resolve) => redirects.listen(0, '127.0.0.1', resolve));
  const redirected = await startTestGateway(stack.options({ usersServiceUrl: `http://127.0.0.1:${(redirects.address() as AddressInfo).port}/graphql` }));
  try {
    const sub = randomUUID();
    stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
    const before = stack.mesh.received.length;
    const res = await postGraphQL(redirected.graphqlUrl, { query: '{ me { internalId } }' }, [['authorization', `Bearer ${await stack.issuer.sign({ sub })}`]]);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.errors?.[0]?.extensions?.['code'], 'IDENTITY_UNAVAILABLE');
    assert.equal(stack.mesh.received.slice(before).filter((c) => c.body.query?.includes('userBySupabaseId')).length, 0, 'the redirect target was never asked');
  } finally {
    await redirected.close();
    await new Promise((resolve) => redirects.close(resolve));
  }
});
