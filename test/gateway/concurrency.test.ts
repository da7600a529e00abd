// Never mix identities: identical queries from different users in flight at the same moment each
// reach the subgraph with their own id. Hive's HTTP executor merges identical in-flight subgraph
// requests; the control case below shows that a gateway setting the header at fetch time (after
// that merge) does mix users, so the main case really exercises the hazard.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';

const ME = { query: '{ me { internalId } }' };

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

async function newUser() {
  const sub = randomUUID();
  const internalId = `iid-${sub.slice(0, 8)}`;
  stack.mesh.register(sub, internalId);
  return { sub, internalId, token: await stack.issuer.sign({ sub }) };
}

/** Sends both requests at once; the subgraph answers only when both are in (or after a timeout). */
async function twoAtOnce(url: string, headersA: Record<string, string>, headersB: Record<string, string>) {
  stack.mesh.holdMeUntil = 2;
  const before = stack.mesh.routed.length;
  try {
    const [a, b] = await Promise.all([postGraphQL(url, ME, headersA), postGraphQL(url, ME, headersB)]);
    return { a, b, upstream: stack.mesh.routed.slice(before) };
  } finally {
    stack.mesh.holdMeUntil = undefined;
  }
}

test('two users, the same query, the same moment: each gets their own id', async () => {
  const [alice, bob] = [await newUser(), await newUser()];
  // Warm the identity cache so both requests reach the subgraph in the same instant.
  for (const u of [alice, bob]) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(u.token))).status, 200);

  const { a, b, upstream } = await twoAtOnce(gateway.graphqlUrl, bearer(alice.token), bearer(bob.token));
  assert.deepEqual(a.body.data, { me: { internalId: alice.internalId } });
  assert.deepEqual(b.body.data, { me: { internalId: bob.internalId } });
  assert.equal(upstream.length, 2, 'two upstream requests, not one shared');
  assert.deepEqual(upstream.map((r) => r.headers['x-internal-id']).sort(), [alice.internalId, bob.internalId].sort());
});

test('the identity is part of the merge key: users stay apart even with request merging switched back on', async () => {
  const merging = await startTestGateway(stack.options(), { mergeIdenticalSubgraphRequests: true });
  try {
    const [alice, bob] = [await newUser(), await newUser()];
    for (const u of [alice, bob]) assert.equal((await postGraphQL(merging.graphqlUrl, ME, bearer(u.token))).status, 200);
    const { a, b, upstream } = await twoAtOnce(merging.graphqlUrl, bearer(alice.token), bearer(bob.token));
    assert.deepEqual(a.body.data, { me: { internalId: alice.internalId } });
    assert.deepEqual(b.body.data, { me: { internalId: bob.internalId } });
    assert.equal(upstream.length, 2);
    // The same user's identical requests may share one upstream call: that is safe.
    stack.mesh.holdTimeoutMs = 500;
    const same = await twoAtOnce(merging.graphqlUrl, bearer(alice.token), bearer(alice.token));
    assert.equal(same.upstream.length, 1, 'merging is really on in this gateway');
    assert.deepEqual(same.b.body.data, { me: { internalId: alice.internalId } });
  } finally {
    stack.mesh.holdTimeoutMs = 3_000;
    await merging.close();
  }
});

test('many users, many identical requests at once: nobody sees anyone else', async () => {
  const users = await Promise.all(Array.from({ length: 12 }, () => newUser()));
  const requests = users.flatMap((u) => Array.from({ length: 4 }, () => postGraphQL(gateway.graphqlUrl, ME, bearer(u.token)).then((r) => ({ u, r }))));
  for (const { u, r } of await Promise.all(requests)) {
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { me: { internalId: u.internalId } });
  }
});

test('control: a header added at fetch time is shared by merged requests (the hazard is real)', async () => {
  // A deliberately wrong gateway: identity from a client header, applied in onFetch, which runs
  // after Hive has merged identical in-flight subgraph requests.
  const runtime = createGatewayRuntime({
    supergraph: stack.mesh.supergraphSdl,
    logging: false,
    landingPage: false,
    plugins: () => [
      {
        onFetch({ options, setOptions, executionRequest }) {
          const user = (executionRequest?.context as { request?: Request } | undefined)?.request?.headers.get('x-test-user');
          if (user) setOptions({ ...options, headers: { ...(options.headers as Record<string, string>), 'x-internal-id': user } });
        },
      },
    ],
  });
  const server: Server = createServer(runtime);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    stack.mesh.holdTimeoutMs = 500;
    const { a, b, upstream } = await twoAtOnce(url, { 'x-test-user': 'alice' }, { 'x-test-user': 'bob' });
    assert.equal(upstream.length, 1, 'the two requests were merged into one upstream call');
    assert.deepEqual(a.body.data, b.body.data, 'so both users got the same identity');
  } finally {
    stack.mesh.holdTimeoutMs = 3_000;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.dispose();
  }
});
