// The Supabase id -> internal id exchange and its caches: memory in front of the shared Redis,
// one users_service call for a burst of first requests, a short-lived "not registered yet", a
// configurable lookup operation, and verified tokens remembered only until they expire.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { TestStack, bearer, metricValue, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { SHARED_REDIS_URL, deleteKeys, readKey, readKeyOnceSet, uniquePrefix } from './support/redis.ts';

const ME = { query: '{ me { internalId supabaseId } }' };

let stack: TestStack;
let prefix: string;
let first: TestGateway;
let second: TestGateway;

before(async () => {
  stack = await TestStack.start();
  prefix = uniquePrefix();
  const shared = stack.options({ redisUrl: SHARED_REDIS_URL, redisKeyPrefix: prefix, identityCacheTtlSeconds: 120, unregisteredCacheTtlSeconds: 2, rateLimitBurstPerUser: 0 });
  [first, second] = await Promise.all([startTestGateway(shared), startTestGateway(shared)]);
});

after(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await stack?.close();
  await deleteKeys(SHARED_REDIS_URL, prefix);
});

function registered(): { sub: string; internalId: string } {
  const sub = randomUUID();
  const internalId = `iid-${sub.slice(0, 8)}`;
  stack.mesh.register(sub, internalId);
  return { sub, internalId };
}

function lookupsFor(sub: string): number {
  return stack.mesh.lookups.filter((r) => r.body.variables?.['supabaseId'] === sub).length;
}

describe('with Redis (REDIS_URL)', () => {
  test('the first request looks the user up once and shares the answer through Redis with the TTL', async () => {
    const u = registered();
    const token = await stack.issuer.sign({ sub: u.sub });
    const res = await postGraphQL(first.graphqlUrl, ME, bearer(token));
    assert.deepEqual(res.body.data, { me: { internalId: u.internalId, supabaseId: u.sub } });
    assert.equal(lookupsFor(u.sub), 1);
    // The write to Redis does not hold up the answer, so it may land just after it.
    const stored = await readKeyOnceSet(SHARED_REDIS_URL, `${prefix}${u.sub}`);
    assert.equal(stored.value, u.internalId);
    assert.ok(stored.ttl > 100 && stored.ttl <= 120, `TTL follows IDENTITY_CACHE_TTL_SECONDS (got ${stored.ttl})`);

    const memoryHits = await metricValue(first.metricsUrl, 'gateway_identity_cache_total', { layer: 'memory', result: 'hit' });
    await postGraphQL(first.graphqlUrl, ME, bearer(token));
    assert.equal(lookupsFor(u.sub), 1, 'the same instance answers from memory');
    assert.equal(await metricValue(first.metricsUrl, 'gateway_identity_cache_total', { layer: 'memory', result: 'hit' }), memoryHits + 1);

    const redisHits = await metricValue(second.metricsUrl, 'gateway_identity_cache_total', { layer: 'redis', result: 'hit' });
    const other = await postGraphQL(second.graphqlUrl, ME, bearer(token));
    assert.deepEqual(other.body.data, { me: { internalId: u.internalId, supabaseId: u.sub } });
    assert.equal(lookupsFor(u.sub), 1, 'another instance answers from Redis');
    assert.equal(await metricValue(second.metricsUrl, 'gateway_identity_cache_total', { layer: 'redis', result: 'hit' }), redisHits + 1);
  });

  test('a burst of concurrent first requests from one user costs one users_service call', async () => {
    const u = registered();
    const tokens = await Promise.all(Array.from({ length: 5 }, () => stack.issuer.sign({ sub: u.sub })));
    stack.mesh.lookupFault = { kind: 'delay', ms: 150 };
    try {
      const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => postGraphQL(first.graphqlUrl, ME, bearer(tokens[i % tokens.length]!))));
      for (const r of responses) assert.deepEqual(r.body.data, { me: { internalId: u.internalId, supabaseId: u.sub } });
    } finally {
      stack.mesh.lookupFault = undefined;
    }
    assert.equal(lookupsFor(u.sub), 1);
  });

  test('"not registered yet" gets no x-internal-id, is never shared through Redis, and expires within seconds', async () => {
    const sub = randomUUID();
    const token = await stack.issuer.sign({ sub });
    const before = await postGraphQL(first.graphqlUrl, ME, bearer(token));
    assert.deepEqual(before.body.data, { me: { internalId: null, supabaseId: sub } });
    assert.equal((await readKey(SHARED_REDIS_URL, `${prefix}${sub}`)).value, null);

    stack.mesh.register(sub, 'iid-late');
    const soon = await postGraphQL(first.graphqlUrl, ME, bearer(token));
    assert.deepEqual(soon.body.data, { me: { internalId: null, supabaseId: sub } }, 'remembered for UNREGISTERED_CACHE_TTL_SECONDS');
    await new Promise((r) => setTimeout(r, 2_100));
    const later = await postGraphQL(first.graphqlUrl, ME, bearer(token));
    assert.deepEqual(later.body.data, { me: { internalId: 'iid-late', supabaseId: sub } });
  });

  test('registering through the gateway takes effect on the very next request', async () => {
    const sub = randomUUID();
    const token = await stack.issuer.sign({ sub });
    assert.deepEqual((await postGraphQL(second.graphqlUrl, ME, bearer(token))).body.data, { me: { internalId: null, supabaseId: sub } });
    const registration = await postGraphQL(second.graphqlUrl, { query: 'mutation { register { id } }' }, bearer(token));
    assert.equal(registration.status, 200, JSON.stringify(registration.body));
    const next = await postGraphQL(second.graphqlUrl, ME, bearer(token));
    assert.deepEqual(next.body.data, { me: { internalId: `iid-${sub.slice(0, 8)}`, supabaseId: sub } });
  });
});

describe('without Redis and with a custom lookup operation', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(
      stack.options({
        usersLookupQuery: 'query FindUser($supabaseId: String!) { found: userBySupabaseId(supabaseId: $supabaseId) { id } }',
        usersLookupPath: 'found.id',
        jwtClockToleranceSeconds: 0,
      }),
    );
  });
  after(() => gateway?.close());

  test('USERS_LOOKUP_QUERY and USERS_LOOKUP_PATH are used; the in-process cache alone avoids repeat lookups', async () => {
    const u = registered();
    const token = await stack.issuer.sign({ sub: u.sub });
    for (let i = 0; i < 3; i++) {
      const res = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
      assert.deepEqual(res.body.data, { me: { internalId: u.internalId, supabaseId: u.sub } });
    }
    const lookups = stack.mesh.lookups.filter((r) => r.body.variables?.['supabaseId'] === u.sub);
    assert.equal(lookups.length, 1);
    assert.equal(lookups[0]!.body.operationName, 'FindUser');
  });

  test('a verified token skips the signature check until it expires, and not a moment longer', async () => {
    const u = registered();
    const token = await stack.issuer.sign({ sub: u.sub, expiresInSeconds: 3 });
    const hits = () => metricValue(gateway.metricsUrl, 'gateway_token_cache_total', { result: 'hit' });
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    const before = await hits();
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    assert.equal(await hits(), before + 1, 'second use answered from the verified-token cache');
    await new Promise((r) => setTimeout(r, 3_200));
    const expired = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
    assert.equal(expired.status, 401);
    assert.equal(gateway.logs().at(-1)?.['reason'], 'expired');
  });
});
