// Failure policy: Redis down degrades to users_service and recovers by itself; users_service
// down or slow fails closed with 503; Supabase's JWKS endpoint going away after warm-up changes
// nothing for tokens signed with the keys already fetched.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { TestStack, bearer, metricValue, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { ThrowawayRedis, freePort, readKeyOnceSet } from './support/redis.ts';

const ME = { query: '{ me { internalId } }' };

let stack: TestStack;

before(async () => {
  stack = await TestStack.start();
});
after(() => stack?.close());

function registered(): { sub: string; internalId: string } {
  const sub = randomUUID();
  const internalId = `iid-${sub.slice(0, 8)}`;
  stack.mesh.register(sub, internalId);
  return { sub, internalId };
}

async function readiness(gateway: TestGateway): Promise<{ status: number; body: { checks: Record<string, string> } }> {
  const res = await fetch(`${gateway.url}/readiness`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Redis stopped mid-test', () => {
  let redis: ThrowawayRedis;
  let gateway: TestGateway;
  const prefix = 'faults:';

  before(async () => {
    redis = await ThrowawayRedis.start();
    gateway = await startTestGateway(stack.options({ redisUrl: redis.url, redisKeyPrefix: prefix }), { redisStillDownLogMs: 300 });
  });
  after(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  test('requests keep being served through users_service, and the cache comes back on its own', async () => {
    const a = registered();
    assert.deepEqual((await postGraphQL(gateway.graphqlUrl, ME, bearer(await stack.issuer.sign({ sub: a.sub })))).body.data, { me: { internalId: a.internalId } });
    assert.equal((await readKeyOnceSet(redis.url, `${prefix}${a.sub}`)).value, a.internalId);
    assert.equal((await readiness(gateway)).body.checks['redis'], 'ready');

    await redis.stop();
    await eventually(async () => (await readiness(gateway)).body.checks['redis'] === 'down', 'readiness to report Redis down');
    const ready = await readiness(gateway);
    assert.equal(ready.status, 200, 'a Redis outage does not make the gateway unready');

    const errorsBefore = await metricValue(gateway.metricsUrl, 'gateway_redis_errors_total');
    const b = registered();
    const lookupsBefore = stack.mesh.lookups.length;
    const res = await postGraphQL(gateway.graphqlUrl, ME, bearer(await stack.issuer.sign({ sub: b.sub })));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, { me: { internalId: b.internalId } });
    assert.equal(stack.mesh.lookups.length, lookupsBefore + 1, 'served through users_service');
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_redis_errors_total')) > errorsBefore, 'the failure is counted');
    const warnings = gateway.logs().filter((l) => String(l.message).startsWith('Redis unavailable'));
    assert.equal(warnings.length, 1, 'logged once per outage, not once per request');
    assert.equal(warnings[0]!.severity, 'WARNING');
    // While it lasts, a reminder on a timer (a minute in production), so an alert can tell a long outage.
    await eventually(async () => gateway.logs().some((l) => l['event'] === 'redis_unavailable' && Number(l['downForSeconds']) >= 0 && String(l.message).startsWith('Redis still unavailable')), 'a still-down reminder');

    await redis.start();
    await eventually(async () => (await readiness(gateway)).body.checks['redis'] === 'ready', 'Redis to be used again');
    const c = registered();
    assert.deepEqual((await postGraphQL(gateway.graphqlUrl, ME, bearer(await stack.issuer.sign({ sub: c.sub })))).body.data, { me: { internalId: c.internalId } });
    assert.equal((await readKeyOnceSet(redis.url, `${prefix}${c.sub}`)).value, c.internalId, 'new mappings reach Redis again');
    assert.ok(gateway.logs().some((l) => String(l.message).startsWith('Redis is reachable again')));
    const reminders = () => gateway.logs().filter((l) => String(l.message).startsWith('Redis still unavailable')).length;
    const seen = reminders();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(reminders(), seen, 'no reminder once Redis is back');
  });
});

describe('users_service down or slow: fail closed with 503', () => {
  let gateway: TestGateway;
  let nowhere: TestGateway;

  before(async () => {
    [gateway, nowhere] = await Promise.all([
      startTestGateway(stack.options({ usersServiceTimeoutMs: 300 })),
      startTestGateway(stack.options({ usersServiceUrl: `http://127.0.0.1:${await freePort()}/graphql` })),
    ]);
  });
  after(() => Promise.all([gateway?.close(), nowhere?.close()]));

  async function assertUnavailable(target: TestGateway, sub: string) {
    const routedBefore = stack.mesh.routed.length;
    const res = await postGraphQL(target.graphqlUrl, ME, bearer(await stack.issuer.sign({ sub })));
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.errors?.[0]?.extensions?.['code'], 'IDENTITY_UNAVAILABLE');
    assert.equal(stack.mesh.routed.length, routedBefore, 'no subgraph called without an identity');
  }

  test('nothing listening at USERS_SERVICE_URL', async () => {
    await assertUnavailable(nowhere, registered().sub);
    const logged = nowhere.logs().find((l) => l.message === 'users_service lookup failed');
    assert.match(String(logged?.['reason']), /ECONNREFUSED/);
  });

  test('users_service answering 503, or with GraphQL errors', async () => {
    stack.mesh.lookupFault = { kind: 'status', status: 503 };
    try {
      await assertUnavailable(gateway, registered().sub);
    } finally {
      stack.mesh.lookupFault = undefined;
    }
    stack.mesh.lookupFault = { kind: 'graphql-error' };
    try {
      await assertUnavailable(gateway, registered().sub);
    } finally {
      stack.mesh.lookupFault = undefined;
    }
  });

  test('users_service slower than USERS_SERVICE_TIMEOUT_MS; the failure is not cached', async () => {
    const u = registered();
    stack.mesh.lookupFault = { kind: 'delay', ms: 5_000 };
    const started = Date.now();
    try {
      await assertUnavailable(gateway, u.sub);
    } finally {
      stack.mesh.lookupFault = undefined;
    }
    assert.ok(Date.now() - started < 3_000, 'the request does not wait for the slow lookup');
    const res = await postGraphQL(gateway.graphqlUrl, ME, bearer(await stack.issuer.sign({ sub: u.sub })));
    assert.deepEqual(res.body.data, { me: { internalId: u.internalId } }, 'once users_service answers again, the user is served');
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_users_service_lookup_seconds_count', { outcome: 'error' })) >= 3);
  });

  test('users already known stay served from cache while users_service is down', async () => {
    const u = registered();
    const token = await stack.issuer.sign({ sub: u.sub });
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    stack.mesh.lookupFault = { kind: 'status', status: 503 };
    try {
      const res = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
      assert.deepEqual(res.body.data, { me: { internalId: u.internalId } });
    } finally {
      stack.mesh.lookupFault = undefined;
    }
  });
});

describe('Supabase JWKS endpoint', () => {
  test('down after warm-up: tokens signed with the fetched keys keep working, unknown keys stay refused', async () => {
    const issuer = await (await import('./support/issuer.ts')).TestIssuer.start();
    const gateway = await startTestGateway(stack.options({ supabaseUrl: issuer.url }));
    try {
      const u = registered();
      assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(await issuer.sign({ sub: u.sub })))).status, 200);
      await issuer.stop();
      for (const key of [issuer.es256, issuer.rs256]) {
        const res = await postGraphQL(gateway.graphqlUrl, ME, bearer(await issuer.sign({ sub: u.sub, key })));
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      const unknown = await postGraphQL(gateway.graphqlUrl, ME, bearer(await issuer.sign({ sub: u.sub, header: { kid: 'rotated-in-later' } })));
      assert.equal(unknown.status, 401);
    } finally {
      await gateway.close();
      await issuer.stop();
    }
  });

  test('unreachable at startup: 503 AUTH_UNAVAILABLE (fail closed), then served once it answers', async () => {
    const issuer = await (await import('./support/issuer.ts')).TestIssuer.start();
    issuer.failWith = 503;
    const gateway = await startTestGateway(stack.options({ supabaseUrl: issuer.url }));
    try {
      const u = registered();
      const token = await issuer.sign({ sub: u.sub });
      const routedBefore = stack.mesh.routed.length;
      const down = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
      assert.equal(down.status, 503);
      assert.equal(down.body.errors?.[0]?.extensions?.['code'], 'AUTH_UNAVAILABLE');
      assert.equal(stack.mesh.routed.length, routedBefore);
      assert.equal((await readiness(gateway)).body.checks['jwks'], 'not loaded');
      issuer.failWith = undefined;
      await eventually(async () => (await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status === 200, 'the JWKS to be fetched again');
    } finally {
      await gateway.close();
      await issuer.stop();
    }
  });
});
