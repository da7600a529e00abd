// Cloud Run service-to-service auth (SUBGRAPH_ID_TOKENS=true): every subgraph call and every
// users_service lookup carries a Google-signed ID token for that service's URL, fetched from the
// metadata server with Metadata-Flavor: Google and reused until shortly before it expires.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { APP_VERSION, byHash, hashOf, writeManifest } from './support/trusted-documents.ts';
import { TestMetadataServer } from './support/metadata-server.ts';
import type { ReceivedRequest } from './support/subgraphs.ts';

const QUERY = { query: '{ me { internalId } myWorkouts { owner } }' };

let stack: TestStack;
let metadata: TestMetadataServer;
let gateway: TestGateway;

before(async () => {
  [stack, metadata] = await Promise.all([TestStack.start(), TestMetadataServer.start()]);
  gateway = await startTestGateway(stack.options({ subgraphIdTokens: true, gceMetadataHost: metadata.host }));
});
after(async () => {
  await gateway?.close();
  await Promise.all([stack?.close(), metadata?.close()]);
});

function user() {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  return sub;
}

async function assertGoogleTokenFor(request: ReceivedRequest, serviceUrl: string) {
  const value = request.headers['authorization'];
  assert.ok(typeof value === 'string' && value.startsWith('Bearer '), `${request.subgraph} got an Authorization header`);
  const { payload } = await jwtVerify(value.slice('Bearer '.length), createLocalJWKSet({ keys: [metadata.key.publicJwk] }), {
    issuer: 'https://accounts.google.com',
    audience: new URL(serviceUrl).origin,
  });
  assert.equal(payload.email, 'gateway@project.iam.gserviceaccount.com');
}

test('subgraph calls and the users_service lookup carry an ID token for their own service URL', async () => {
  const sub = user();
  const token = await stack.issuer.sign({ sub });
  const from = stack.mesh.received.length;
  const res = await postGraphQL(gateway.graphqlUrl, QUERY, bearer(token));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const calls = stack.mesh.received.slice(from);
  const lookup = calls.find((r) => r.body.operationName === 'UserBySupabaseId');
  assert.ok(lookup, 'the lookup was made');
  await assertGoogleTokenFor(lookup, stack.mesh.usersUrl);
  const users = calls.find((r) => r.subgraph === 'users' && r !== lookup)!;
  const workouts = calls.find((r) => r.subgraph === 'workouts')!;
  await assertGoogleTokenFor(users, stack.mesh.usersUrl);
  await assertGoogleTokenFor(workouts, stack.mesh.workoutsUrl);
  for (const call of calls) assert.ok(!String(call.headers['authorization']).includes(token), "the user's Supabase token is not forwarded");
  assert.ok(metadata.requests.every((r) => r.flavor === 'Google' && r.format === 'full'));
});

test('tokens are cached per audience until shortly before they expire', async () => {
  const before = metadata.requests.length;
  for (let i = 0; i < 5; i++) {
    const res = await postGraphQL(gateway.graphqlUrl, QUERY, bearer(await stack.issuer.sign({ sub: user() })));
    assert.equal(res.status, 200);
  }
  assert.equal(metadata.requests.length, before, 'no new fetch while the cached tokens are valid');
});

test('a token about to expire is replaced', async () => {
  metadata.lifetimeSeconds = 63; // refreshed 60 s before expiry: usable for about 3 s
  const fresh = await startTestGateway(stack.options({ subgraphIdTokens: true, gceMetadataHost: metadata.host }));
  try {
    const token = await stack.issuer.sign({ sub: user() });
    assert.equal((await postGraphQL(fresh.graphqlUrl, QUERY, bearer(token))).status, 200);
    const afterFirst = metadata.requests.length;
    assert.equal((await postGraphQL(fresh.graphqlUrl, QUERY, bearer(token))).status, 200);
    assert.equal(metadata.requests.length, afterFirst, 'still cached');
    await new Promise((r) => setTimeout(r, 3_300));
    assert.equal((await postGraphQL(fresh.graphqlUrl, QUERY, bearer(token))).status, 200);
    assert.ok(metadata.requests.length > afterFirst, 'fetched again near expiry');
  } finally {
    metadata.lifetimeSeconds = 3600;
    await fresh.close();
  }
});

test('without a token from the metadata server nothing is sent unauthenticated', async () => {
  metadata.failWith = 500;
  const broken = await startTestGateway(stack.options({ subgraphIdTokens: true, gceMetadataHost: metadata.host, trustedDocumentsFile: writeManifest(stack.dir, [APP_VERSION]), publicOperations: [hashOf(APP_VERSION)] }));
  try {
    const from = stack.mesh.received.length;
    const res = await postGraphQL(broken.graphqlUrl, QUERY, bearer(await stack.issuer.sign({ sub: user() })));
    assert.equal(res.status, 503, 'the lookup cannot be authorised, so the identity is unavailable');
    assert.equal(res.body.errors?.[0]?.extensions?.['code'], 'IDENTITY_UNAVAILABLE');
    // An anonymous operation needs no lookup, only the subgraph call, which cannot be authorised either.
    const anonymous = await postGraphQL(broken.graphqlUrl, byHash(APP_VERSION));
    assert.ok(anonymous.body.errors?.length, JSON.stringify(anonymous.body));
    assert.equal(anonymous.body.data?.['appVersion'] ?? null, null);
    assert.equal(stack.mesh.received.length, from, 'no request left without an ID token');
  } finally {
    metadata.failWith = undefined;
    await broken.close();
  }
});
