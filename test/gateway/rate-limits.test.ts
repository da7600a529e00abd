// Rate limits per signed-in user and per client address: 429 with Retry-After, one count shared by
// every gateway instance through Redis, and still a limit per instance when Redis is gone.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { TestStack, bearer, metricValue, postGraphQL, startTestGateway, type GraphQLResponse, type TestGateway } from './support/gateway.ts';
import { RawConnection, rawHttp, requestHead } from './support/raw-http.ts';
import { SHARED_REDIS_URL, ThrowawayRedis, deleteKeys, freePort, uniquePrefix } from './support/redis.ts';
import { APP_VERSION, byHash, hashOf, writeManifest } from './support/trusted-documents.ts';
import { graphqlOverWebSocket } from './support/websocket.ts';

const ME = { query: '{ me { internalId } }' };

let stack: TestStack;
const started: TestGateway[] = [];
const prefixes: string[] = [];

before(async () => {
  stack = await TestStack.start();
});
after(async () => {
  await Promise.all(started.map((g) => g.close()));
  await stack?.close();
  await Promise.all(prefixes.map((p) => deleteKeys(SHARED_REDIS_URL, p)));
});

async function gatewayWith(options: Parameters<TestStack['options']>[0]): Promise<TestGateway> {
  // Windows are fixed: an hour keeps a test's few requests from straddling the start of a new one
  // (with a minute, about one run in two hundred did).
  const gateway = await startTestGateway(
    stack.options({ trustedDocumentsFile: writeManifest(stack.dir, [APP_VERSION]), publicOperations: [hashOf(APP_VERSION)], rateLimitWindowSeconds: 3_600, ...options }),
  );
  started.push(gateway);
  return gateway;
}

function newUser(): { sub: string; token: () => Promise<string> } {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  return { sub, token: () => stack.issuer.sign({ sub }) };
}

const codeOf = (res: GraphQLResponse) => res.body.errors?.[0]?.extensions?.['code'];
/** /healthcheck's status, or a failure if it takes longer than 5 s. */
const healthStatus = (gateway: TestGateway) => fetch(`${gateway.url}/healthcheck`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status);

async function sharedCount(prefix: string): Promise<number> {
  const redis = new Redis(SHARED_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    const values = keys.length ? await redis.mget(...keys) : [];
    return values.reduce((sum, v) => sum + Number(v ?? 0), 0);
  } finally {
    redis.disconnect();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('per signed-in user', () => {
  test('over the limit: 429, RATE_LIMITED, Retry-After in seconds; other users are not affected', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 5 });
    const user = newUser();
    const token = await user.token();
    const routedBefore = stack.mesh.routed.length;
    for (let i = 0; i < 5; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200, `request ${i + 1}`);
    const refused = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
    assert.equal(refused.status, 429);
    assert.equal(codeOf(refused), 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3_600, `Retry-After: ${refused.headers.get('retry-after')}`);
    assert.equal(stack.mesh.routed.length, routedBefore + 5, 'the refused request reached no subgraph');
    // A refreshed token is the same user.
    const refreshed = await stack.issuer.sign({ sub: user.sub, claims: { session_id: randomUUID() } });
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(refreshed))).status, 429);
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(await newUser().token()))).status, 200, 'another user is served');
    assert.equal(await metricValue(gateway.metricsUrl, 'gateway_requests_refused_total', { limit: 'rate_user' }), 2);
  });

  test('once over the limit, a caller whose token is known is refused before the body is read', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 2 });
    const token = await newUser().token();
    for (let i = 0; i < 2; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 429, 'the first refusal reads the body');
    // The body is announced and not sent yet: only an answer given before reading it can arrive.
    const connection = await RawConnection.open(gateway.url);
    try {
      connection.send(requestHead('/graphql', [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Content-Length', '5000']]) + '{"que');
      const refused = await connection.response();
      assert.equal(refused.status, 429, refused.body);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      // A body within the cap is discarded once it arrives and the connection serves the next request.
      assert.notEqual(refused.headers['connection'], 'close');
      connection.send('x'.repeat(4_995) + requestHead('/healthcheck', [], 'GET'));
      assert.equal((await connection.response()).status, 200, 'the same connection answers the next request');
    } finally {
      connection.close();
    }
    // A body over the cap is never read: the connection closes.
    const oversized = await rawHttp(gateway.url, { headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Content-Length', String(200 * 1024)]], body: '{"que' });
    assert.equal(oversized.status, 429, oversized.body);
    assert.equal(oversized.headers['connection'], 'close', 'and the unread body is never received');
  });

  test('each operation of a batch counts', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 5 });
    const token = await newUser().token();
    assert.equal((await postGraphQL(gateway.graphqlUrl, [ME, ME, ME], bearer(token))).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, [ME, ME, ME], bearer(token))).status, 429, '3 + 3 > 5');
    assert.equal((await postGraphQL(gateway.graphqlUrl, [ME, ME], bearer(token))).status, 200, '3 + 2 = 5');
  });

  test('WebSocket operations count one by one, on the same budget', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 2 });
    const token = await newUser().token();
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    const ok = await graphqlOverWebSocket(gateway.graphqlUrl, bearer(token), ME);
    assert.ok(ok.data, JSON.stringify(ok));
    const refused = await graphqlOverWebSocket(gateway.graphqlUrl, bearer(token), ME);
    assert.equal(refused.errors?.[0]?.extensions?.['code'], 'RATE_LIMITED', JSON.stringify(refused));
    assert.ok(Number(refused.errors?.[0]?.extensions?.['retryAfterSeconds']) >= 1);
    // Far over the limit over WebSocket, with /healthcheck asked meanwhile: every operation refused, the gateway answers.
    const flood = Array.from({ length: 30 }, () => graphqlOverWebSocket(gateway.graphqlUrl, bearer(token), ME));
    const [answers, health] = await Promise.all([Promise.all(flood), Promise.all(Array.from({ length: 8 }, () => healthStatus(gateway)))]);
    assert.deepEqual([...new Set(answers.map((a) => a.errors?.[0]?.extensions?.['code']))], ['RATE_LIMITED']);
    assert.deepEqual(health, Array(8).fill(200));
  });

  test('a new window starts a new count', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 1, rateLimitWindowSeconds: 1 });
    const token = await newUser().token();
    // Start right after a window boundary, so both requests fall into one window.
    await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 429);
    await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
  });

  test('more than RATE_LIMIT_BURST_PER_USER operations in one second: 429 with Retry-After 1, although the minute has room', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 1_000, rateLimitBurstPerUser: 3 });
    const token = await newUser().token();
    // Start right after a second begins, so the requests fall into one second.
    await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
    for (let i = 0; i < 3; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200, `request ${i + 1}`);
    const refused = await postGraphQL(gateway.graphqlUrl, ME, bearer(token));
    assert.equal(refused.status, 429);
    assert.equal(codeOf(refused), 'RATE_LIMITED');
    assert.equal(refused.headers.get('retry-after'), '1');
    // Known and over: refused before the body is read, like the minute's limit.
    const early = await rawHttp(gateway.url, { headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Content-Length', '5000']], body: '{"que' });
    assert.equal(early.status, 429, early.body);
    // A flood far over the limit from that caller, with /healthcheck asked meanwhile.
    const started = Date.now();
    const flood = Array.from({ length: 200 }, () => postGraphQL(gateway.graphqlUrl, ME, bearer(token)));
    const [floodAnswers, health] = await Promise.all([Promise.all(flood), Promise.all(Array.from({ length: 8 }, () => healthStatus(gateway)))]);
    const seconds = Math.ceil((Date.now() - started) / 1_000) + 1;
    const served = floodAnswers.filter((r) => r.status === 200).length;
    assert.ok(served <= 3 * seconds, `${served} served in at most ${seconds} one-second windows of 3`);
    assert.equal(served + floodAnswers.filter((r) => r.status === 429).length, 200);
    assert.deepEqual(health, Array(8).fill(200));
    await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 20));
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200, 'the next second starts a new count');
    assert.equal((await postGraphQL(gateway.graphqlUrl, [ME, ME, ME], bearer(token))).status, 429, 'a batch counts each operation: 1 + 3 > 3');
  });

  test('RATE_LIMIT_PER_USER=0 and RATE_LIMIT_BURST_PER_USER=0 switch the limits off', async () => {
    const gateway = await gatewayWith({ rateLimitPerUser: 0, rateLimitBurstPerUser: 0 });
    const token = await newUser().token();
    for (let i = 0; i < 40; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
  });
});

describe('per client address, for callers without a token', () => {
  test('refused before the body is read once the address is over its limit', async () => {
    const gateway = await gatewayWith({ rateLimitPerAddress: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION))).status, 200);
    // The body is announced and never sent: only an answer given before reading it can arrive.
    const res = await rawHttp(gateway.url, { headers: [['Content-Type', 'application/json'], ['Content-Length', '5000']], body: '{"ext' });
    assert.equal(res.status, 429, res.body);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal((JSON.parse(res.body) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code, 'RATE_LIMITED');
    assert.equal(res.headers['connection'], 'close', 'the unread body is never received');
    // A flood far over the limit, with /healthcheck asked meanwhile.
    const [statuses, health] = await Promise.all([
      Promise.all(Array.from({ length: 200 }, () => postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION)).then((r) => r.status))),
      Promise.all(Array.from({ length: 8 }, () => healthStatus(gateway))),
    ]);
    assert.deepEqual(statuses, Array(200).fill(429));
    assert.deepEqual(health, Array(8).fill(200));
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(await newUser().token()))).status, 200, 'signed-in callers from the same address are not affected');
  });

  test("CORS preflights are not charged: a browser's preflights leave the address's budget whole", async () => {
    const gateway = await gatewayWith({ rateLimitPerAddress: 3 });
    for (let i = 0; i < 6; i++) {
      const preflight = await fetch(gateway.graphqlUrl, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      assert.notEqual(preflight.status, 429, `preflight ${i + 1}`);
    }
    for (let i = 0; i < 3; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION))).status, 200, `request ${i + 1}`);
    assert.equal((await postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION))).status, 429);
  });

  test('behind proxies the address is the entry the trusted proxy appended, whatever the client wrote before it', async () => {
    const gateway = await gatewayWith({ rateLimitPerAddress: 2, trustedProxyHops: 1 });
    const from = (xff: string) => postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION), { 'x-forwarded-for': xff });
    assert.equal((await from('203.0.113.7')).status, 200);
    assert.equal((await from('198.51.100.1, 203.0.113.7')).status, 200);
    assert.equal((await from('198.51.100.2, 203.0.113.7')).status, 429, 'a made-up entry in front does not make a new caller');
    assert.equal((await from('203.0.113.8')).status, 200, 'another address has its own count');
    // One IPv6 subscriber's /64 is one caller.
    assert.equal((await from('2001:db8:1:2::1')).status, 200);
    assert.equal((await from('2001:db8:1:2:ffff::2')).status, 200);
    assert.equal((await from('2001:db8:1:2::3')).status, 429);
  });

  test('through the front door (its host name) the caller is one entry further left; through the run.app URL the same caller counts the same', async () => {
    const gateway = await gatewayWith({ rateLimitPerAddress: 2, trustedProxyHops: 1, frontDoorHost: 'API.MindMirror.example' });
    const body = JSON.stringify(byHash(APP_VERSION));
    const send = (host: string | undefined, xff: string) =>
      rawHttp(gateway.url, { host, headers: [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))], ['X-Forwarded-For', xff]], body }).then((r) => r.status);
    // The load balancer appends the caller and itself; Cloud Run's front end adds nothing more here.
    assert.equal(await send('api.mindmirror.example', '203.0.113.7, 34.120.0.1'), 200);
    assert.equal(await send(undefined, '203.0.113.7'), 200, 'the same caller through the run.app URL');
    assert.equal(await send('api.mindmirror.example:443', '198.51.100.9, 203.0.113.7, 34.120.0.1'), 429, 'a made-up entry in front does not make a new caller, and a port does not hide the host');
    assert.equal(await send('api.mindmirror.example', '203.0.113.8, 34.120.0.1'), 200, 'every caller behind the load balancer has a count of its own, not the load balancer\'s');
    assert.equal(await send('api.mindmirror.example', '203.0.113.9, 34.120.0.1'), 200);
  });

  test('without trusted proxies X-Forwarded-For is ignored', async () => {
    const gateway = await gatewayWith({ rateLimitPerAddress: 1 });
    assert.equal((await postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION), { 'x-forwarded-for': '203.0.113.1' })).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION), { 'x-forwarded-for': '203.0.113.2' })).status, 429);
  });
});

describe('shared across instances', () => {
  test('two gateways on one Redis enforce one count', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const shared = { redisUrl: SHARED_REDIS_URL, redisKeyPrefix: `${prefix}id:`, rateLimitKeyPrefix: `${prefix}rate:`, rateLimitPerUser: 6 };
    const [a, b] = await Promise.all([gatewayWith(shared), gatewayWith(shared)]);
    const token = await newUser().token();
    for (let i = 0; i < 4; i++) assert.equal((await postGraphQL(a.graphqlUrl, ME, bearer(token))).status, 200);
    await until('instance A to share its 4', async () => (await sharedCount(`${prefix}rate:`)) === 4);
    let servedByB = 0;
    for (let i = 0; i < 4; i++) {
      const status = (await postGraphQL(b.graphqlUrl, ME, bearer(token))).status;
      if (status === 200) servedByB++;
      else assert.equal(status, 429);
      // Each request's count reaches Redis before the next, as it would between requests seconds apart.
      if (status === 200) await until('instance B to share its count', async () => (await sharedCount(`${prefix}rate:`)) === 4 + servedByB);
    }
    assert.equal(servedByB, 2, 'B served only what was left of the shared 6');
    assert.equal((await postGraphQL(a.graphqlUrl, ME, bearer(token))).status, 429);
  });

  test('with Redis gone, each instance keeps limiting on its own', async () => {
    const redis = await ThrowawayRedis.start();
    const gateway = await gatewayWith({ redisUrl: redis.url, rateLimitPerUser: 3 });
    const token = await newUser().token();
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    await redis.stop();
    for (let i = 0; i < 2; i++) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 429);
    await until('the failed syncs to be counted', async () => (await metricValue(gateway.metricsUrl, 'gateway_redis_errors_total', { operation: 'rate_limit' })) >= 1);
  });

  test('a Redis that never answered changes nothing either', async () => {
    const gateway = await gatewayWith({ redisUrl: `redis://127.0.0.1:${await freePort()}`, rateLimitPerUser: 2 });
    const token = await newUser().token();
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);
    assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 429);
  });
});
