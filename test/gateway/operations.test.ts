// Operating the gateway: liveness and readiness JSON, security headers on every response,
// GraphiQL and introspection off in production, Prometheus metrics on their own port, and JSON
// logs in Cloud Logging's shape that never contain a credential.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../gateway/src/log.ts';
import { TestStack, bearer, metricValue, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { SHARED_REDIS_URL, deleteKeys, uniquePrefix } from './support/redis.ts';
import { byHash, hashOf, writeManifest } from './support/trusted-documents.ts';
import { RawConnection, requestHead } from './support/raw-http.ts';

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};
// Listed as an anonymous trusted document, to show production refuses introspection even then.
const INTROSPECTION_TEXT = 'query IntrospectionQuery { __schema { queryType { name } } }';
const INTROSPECTION = byHash(INTROSPECTION_TEXT);

let stack: TestStack;
let gateway: TestGateway;
let production: TestGateway;
const prefix = uniquePrefix();

before(async () => {
  stack = await TestStack.start();
  const anonymousIntrospection = { trustedDocumentsFile: writeManifest(stack.dir, [INTROSPECTION_TEXT]), publicOperations: [hashOf(INTROSPECTION_TEXT)] };
  [gateway, production] = await Promise.all([
    startTestGateway(stack.options({ imageTag: 'v1.4.2', redisUrl: SHARED_REDIS_URL, redisKeyPrefix: prefix, ...anonymousIntrospection, logLevel: 'debug' })),
    // Production requires https for Supabase; nothing answers there, which this suite does not need.
    startTestGateway(stack.options({ nodeEnv: 'production', supabaseUrl: 'https://127.0.0.1:9', ...anonymousIntrospection, imageTag: 'v1.4.2' })),
  ]);
});
after(async () => {
  await Promise.all([gateway?.close(), production?.close()]);
  await stack?.close();
  await deleteKeys(SHARED_REDIS_URL, prefix);
});

describe('health endpoints', () => {
  test('/healthcheck: liveness as JSON with service, version and timestamp', async () => {
    const res = await fetch(`${gateway.url}/healthcheck`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body['status'], 'ok');
    assert.equal(body['service'], 'gateway');
    assert.equal(body['version'], 'v1.4.2');
    assert.ok(Math.abs(Date.parse(String(body['timestamp'])) - Date.now()) < 60_000);
  });

  test('/readiness: supergraph loaded, Redis and JWKS state reported', async () => {
    const res = await fetch(`${gateway.url}/readiness`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; version: string; checks: Record<string, string> };
    assert.equal(body.status, 'ready');
    assert.equal(body.version, 'v1.4.2');
    assert.deepEqual(body.checks, { supergraph: 'loaded', redis: 'ready', jwks: 'loaded' });
    const local = (await (await fetch(`${production.url}/readiness`)).json()) as { checks: Record<string, string> };
    assert.equal(local.checks['redis'], 'disabled', 'without REDIS_URL the in-process cache is the only one');
  });
});

describe('connections', () => {
  // Google's front ends reuse a connection up to 600 s after its last answer; one the gateway
  // closed meanwhile fails the request sent on it (a 502 for the caller). Node's default is 5 s.
  test('a kept-alive connection left idle longer than Node\'s 5 s default still carries the next request', async () => {
    const connection = await RawConnection.open(gateway.url);
    try {
      connection.send(requestHead('/healthcheck', [], 'GET'));
      const first = await connection.response();
      assert.equal(first.status, 200);
      assert.equal(first.headers['keep-alive'], 'timeout=620');
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      connection.send(requestHead('/healthcheck', [], 'GET'));
      assert.equal((await connection.response()).status, 200);
    } finally {
      connection.close();
    }
  });
});

describe('security headers', () => {
  test('on every response: GraphQL, refusals, health, unknown paths, metrics', async () => {
    const token = await stack.issuer.sign({ sub: randomUUID() });
    const responses: [string, Response][] = [
      ['graphql 200', await fetch(gateway.graphqlUrl, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ appVersion }' }) })],
      ['graphql 401', await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ appVersion }' }) })],
      ['healthcheck', await fetch(`${gateway.url}/healthcheck`)],
      ['readiness', await fetch(`${gateway.url}/readiness`)],
      ['not found', await fetch(`${gateway.url}/nothing-here`)],
      ['metrics', await fetch(`${gateway.metricsUrl}/metrics`)],
    ];
    for (const [label, res] of responses) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers.get(name), value, `${name} on ${label}`);
      await res.arrayBuffer();
    }
    assert.equal(responses[0]![1].status, 200);
    assert.equal(responses[1]![1].status, 401);
    assert.equal(responses[4]![1].status, 404);
  });
});

describe('NODE_ENV=production', () => {
  test('GraphiQL is off', async () => {
    const dev = await fetch(gateway.graphqlUrl, { headers: { accept: 'text/html' } });
    assert.equal(dev.status, 200);
    assert.match(await dev.text(), /graphiql/i);
    const prod = await fetch(production.graphqlUrl, { headers: { accept: 'text/html' } });
    assert.doesNotMatch(prod.headers.get('content-type') ?? '', /text\/html/);
    assert.doesNotMatch(await prod.text(), /graphiql/i);
  });

  test('introspection is off, even for an operation allowed anonymously', async () => {
    const dev = await postGraphQL(gateway.graphqlUrl, INTROSPECTION);
    assert.deepEqual(dev.body.data, { __schema: { queryType: { name: 'Query' } } });
    const prod = await postGraphQL(production.graphqlUrl, INTROSPECTION);
    assert.equal(prod.body.data, undefined);
    assert.match(prod.body.errors?.[0]?.message ?? '', /introspection/i);
  });
});

describe('metrics', () => {
  test('the metrics listener is on 127.0.0.1 unless METRICS_HOST says otherwise', async () => {
    // 127.0.0.2 is loopback too, but a listener bound to 127.0.0.1 does not answer there.
    const reachableAt = async (url: string, address: string, path: string) => {
      try {
        return (await fetch(`http://${address}:${new URL(url).port}${path}`, { signal: AbortSignal.timeout(2_000) })).status === 200;
      } catch {
        return false;
      }
    };
    // Listening on every address, as on Cloud Run (HOST=0.0.0.0 in production).
    const [publicOnly, metricsToo] = await Promise.all([
      startTestGateway(stack.options({ host: '0.0.0.0' })),
      startTestGateway(stack.options({ host: '0.0.0.0', metricsHost: '0.0.0.0' })),
    ]);
    try {
      assert.equal(await reachableAt(publicOnly.url, '127.0.0.2', '/healthcheck'), true, 'the public port answers on every address');
      assert.equal(await reachableAt(publicOnly.metricsUrl, '127.0.0.1', '/metrics'), true);
      assert.equal(await reachableAt(publicOnly.metricsUrl, '127.0.0.2', '/metrics'), false, 'the metrics do not, by default');
      assert.equal(await reachableAt(metricsToo.metricsUrl, '127.0.0.2', '/metrics'), true, 'METRICS_HOST=0.0.0.0 opens them to the network');
    } finally {
      await Promise.all([publicOnly.close(), metricsToo.close()]);
    }
  });

  test('Prometheus text on the metrics port only, with the identity metrics', async () => {
    const sub = randomUUID();
    stack.mesh.register(sub, 'iid-metrics');
    const token = await stack.issuer.sign({ sub });
    await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' }, bearer(token));
    await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' }, { ...bearer(token), 'x-internal-id': 'forged' });
    await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' });

    assert.equal((await fetch(`${gateway.url}/metrics`)).status, 404, 'not on the public port');
    const text = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
    for (const name of [
      'gateway_auth_total',
      'gateway_token_cache_total',
      'gateway_identity_cache_total',
      'gateway_users_service_lookup_seconds',
      'gateway_client_identity_headers_total',
      'gateway_redis_errors_total',
      'process_resident_memory_bytes',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
    }
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_auth_total', { outcome: 'authenticated' })) >= 2);
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_auth_total', { outcome: 'rejected', reason: 'missing_token' })) >= 1);
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_identity_cache_total', { layer: 'memory', result: 'hit' })) >= 1);
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_users_service_lookup_seconds_count', { outcome: 'found' })) >= 1);
    assert.ok((await metricValue(gateway.metricsUrl, 'gateway_client_identity_headers_total', { source: 'header', mode: 'ignore' })) >= 1);
  });
});

describe('logs', () => {
  test('every line is JSON with a Cloud Logging severity, and no credential appears even at debug level', async () => {
    const sub = randomUUID();
    stack.mesh.register(sub, 'iid-logs');
    const token = await stack.issuer.sign({ sub });
    await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } myWorkouts { owner } }' }, bearer(token));
    await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' }, bearer(`${token}tampered`));
    assert.ok(gateway.logLines.length > 5, 'debug logging produced output');
    for (const line of gateway.logLines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.ok(['DEBUG', 'INFO', 'WARNING', 'ERROR'].includes(String(entry['severity'])), line);
      assert.equal(typeof entry['message'], 'string');
      assert.equal(entry['service'], 'gateway');
    }
    const all = gateway.logLines.join('\n');
    assert.ok(!all.includes(token.split('.')[2]!), 'no token signature in the logs');
    assert.ok(!all.includes(token.split('.')[1]!), 'no token payload in the logs');
    const refused = gateway.logs().find((l) => l.message === 'request refused: identity not established' && l['reason'] === 'bad_signature');
    assert.ok(refused, 'the refusal is logged with its reason');
  });

  test('whatever a library logs, JWTs and bearer credentials are masked before the line is written', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', service: 'gateway', version: 'test', sink: (l) => lines.push(l) });
    const token = await stack.issuer.sign({ sub: randomUUID() });
    log.debug({ headers: { authorization: `Bearer ${token}`, 'x-api': 'Bearer opaque-secret-value' }, body: { token } }, `fetching with ${token}`);
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes(token.split('.')[1]!), lines[0]);
    assert.ok(!lines[0]!.includes('opaque-secret-value'), lines[0]);
    const entry = JSON.parse(lines[0]!) as { severity: string; message: string };
    assert.equal(entry.severity, 'DEBUG');
    assert.equal(entry.message, 'fetching with [redacted token]');
  });
});
