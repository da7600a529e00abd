// Zero client trust: whatever a client sends as x-internal-id or x-supabase-id — any letter case,
// underscores, repeated, in GraphQL extensions, in batches, over GET, SSE or WebSocket — the
// subgraphs see only the gateway's value, derived from that request's own verified token.
// CLIENT_INTERNAL_ID_MODE decides between dropping (and counting) and refusing such requests.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isGatewayOnlyName } from '../../gateway/src/headers.ts';
import { TestStack, bearer, metricValue, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import type { ReceivedRequest } from './support/subgraphs.ts';
import { graphqlOverWebSocket } from './support/websocket.ts';

const ME = '{ me { internalId supabaseId } }';

let stack: TestStack;
let ignoring: TestGateway;
let rejecting: TestGateway;

before(async () => {
  stack = await TestStack.start();
  [ignoring, rejecting] = await Promise.all([
    startTestGateway(stack.options()),
    startTestGateway(stack.options({ clientInternalIdMode: 'reject' })),
  ]);
});

after(async () => {
  await Promise.all([ignoring?.close(), rejecting?.close()]);
  await stack?.close();
});

async function user(): Promise<{ sub: string; internalId: string; token: string }> {
  const sub = randomUUID();
  const internalId = `iid-${sub.slice(0, 8)}`;
  stack.mesh.register(sub, internalId);
  return { sub, internalId, token: await stack.issuer.sign({ sub }) };
}

/** Every (name, value) pair of a gateway-only header a subgraph received, from the raw headers. */
function identityHeadersOf(request: ReceivedRequest): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    if (isGatewayOnlyName(request.rawHeaders[i]!)) pairs.push([request.rawHeaders[i]!.toLowerCase(), request.rawHeaders[i + 1]!]);
  }
  return pairs.sort();
}

function assertOnlyGatewayIdentity(requests: ReceivedRequest[], u: { sub: string; internalId: string }) {
  assert.ok(requests.length > 0, 'the request reached a subgraph');
  for (const r of requests) {
    assert.deepEqual(identityHeadersOf(r), [['x-internal-id', u.internalId], ['x-supabase-id', u.sub]], `headers at ${r.subgraph}`);
    assert.ok(!JSON.stringify(r.body).includes('forged'), `nothing forged in the body sent to ${r.subgraph}: ${JSON.stringify(r.body)}`);
  }
}

async function routedDuring(action: () => Promise<void>): Promise<ReceivedRequest[]> {
  const from = stack.mesh.routed.length;
  await action();
  return stack.mesh.routed.slice(from);
}

describe('CLIENT_INTERNAL_ID_MODE=ignore (the default): dropped, logged, counted', () => {
  const headerVariants: [string, [string, string][]][] = [
    ['lower case', [['x-internal-id', 'forged-1']]],
    ['mixed case', [['X-Internal-ID', 'forged-2']]],
    ['upper case', [['X-INTERNAL-ID', 'forged-3']]],
    ['repeated', [['x-internal-id', 'forged-4'], ['x-internal-id', 'forged-5']]],
    ['underscore spelling', [['x_internal_id', 'forged-6']]],
    ['x-supabase-id', [['X-Supabase-Id', 'forged-7']]],
  ];
  for (const [label, forged] of headerVariants) {
    test(`a client header (${label}) never reaches a subgraph`, async () => {
      const u = await user();
      const before = await metricValue(ignoring.metricsUrl, 'gateway_client_identity_headers_total', { source: 'header', mode: 'ignore' });
      let data: unknown;
      const seen = await routedDuring(async () => {
        const res = await postGraphQL(ignoring.graphqlUrl, { query: `${ME.slice(0, -1)} myWorkouts { owner } }` }, [...forged, ['authorization', `Bearer ${u.token}`]]);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        data = res.body.data;
      });
      assert.deepEqual(data, { me: { internalId: u.internalId, supabaseId: u.sub }, myWorkouts: [{ owner: u.internalId }] });
      assertOnlyGatewayIdentity(seen, u);
      assert.equal(await metricValue(ignoring.metricsUrl, 'gateway_client_identity_headers_total', { source: 'header', mode: 'ignore' }), before + 1);
    });
  }

  test('in GraphQL extensions (as headers and as top-level keys)', async () => {
    const u = await user();
    const before = await metricValue(ignoring.metricsUrl, 'gateway_client_identity_headers_total', { source: 'extensions', mode: 'ignore' });
    const seen = await routedDuring(async () => {
      const res = await postGraphQL(
        ignoring.graphqlUrl,
        { query: ME, extensions: { headers: { 'x-internal-id': 'forged', 'X-Supabase-ID': 'forged' }, 'x-internal-id': 'forged', endpoint: 'http://forged.invalid/' } },
        bearer(u.token),
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.data, { me: { internalId: u.internalId, supabaseId: u.sub } });
    });
    assertOnlyGatewayIdentity(seen, u);
    assert.equal(await metricValue(ignoring.metricsUrl, 'gateway_client_identity_headers_total', { source: 'extensions', mode: 'ignore' }), before + 1);
    const dropped = ignoring.logs().filter((l) => l.message === 'dropped identity headers sent by the client');
    assert.ok(dropped.some((l) => l['source'] === 'extensions' && l['event'] === 'client_identity_header'), 'the drop is logged with where it came from');
  });

  test('in batched requests, per operation and per header', async () => {
    const u = await user();
    const seen = await routedDuring(async () => {
      const res = await postGraphQL(
        ignoring.graphqlUrl,
        [{ query: ME, extensions: { headers: { 'x-internal-id': 'forged' } } }, { query: 'query Again { me { internalId } }' }],
        [['authorization', `Bearer ${u.token}`], ['x-internal-id', 'forged']],
      );
      assert.equal(res.status, 200);
      const results = res.body as unknown as { data: { me: { internalId: string } } }[];
      assert.deepEqual(results.map((r) => r.data.me.internalId), [u.internalId, u.internalId]);
    });
    assert.equal(seen.length, 2);
    assertOnlyGatewayIdentity(seen, u);
  });

  test('over GET, with the header and an extensions query parameter', async () => {
    const u = await user();
    const seen = await routedDuring(async () => {
      const url = `${ignoring.graphqlUrl}?query=${encodeURIComponent(ME)}&extensions=${encodeURIComponent(JSON.stringify({ headers: { 'x-internal-id': 'forged' } }))}`;
      const res = await fetch(url, { headers: { ...bearer(u.token), 'x-internal-id': 'forged', accept: 'application/json' } });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { data: unknown }).data, { me: { internalId: u.internalId, supabaseId: u.sub } });
    });
    assertOnlyGatewayIdentity(seen, u);
  });

  test('over server-sent events', async () => {
    const u = await user();
    const seen = await routedDuring(async () => {
      const res = await fetch(ignoring.graphqlUrl, {
        method: 'POST',
        headers: { ...bearer(u.token), 'x-internal-id': 'forged', 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: ME }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const text = await res.text();
      assert.match(text, new RegExp(`"internalId":"${u.internalId}"`));
    });
    assertOnlyGatewayIdentity(seen, u);
  });

  test('over WebSocket, in connection params (top level and nested headers)', async () => {
    const u = await user();
    const before = await metricValue(ignoring.metricsUrl, 'gateway_client_identity_headers_total', { source: 'connection_params', mode: 'ignore' });
    const seen = await routedDuring(async () => {
      const result = await graphqlOverWebSocket(ignoring.url + '/graphql', { Authorization: `Bearer ${u.token}`, 'x-internal-id': 'forged', headers: { 'X-Internal-Id': 'forged' } }, { query: ME });
      assert.deepEqual(result.data, { me: { internalId: u.internalId, supabaseId: u.sub } }, JSON.stringify(result));
    });
    assertOnlyGatewayIdentity(seen, u);
    assert.equal(await metricValue(ignoring.metricsUrl, 'gateway_client_identity_headers_total', { source: 'connection_params', mode: 'ignore' }), before + 1);
  });

  test('over WebSocket, a missing or bad token is refused per operation with the same codes', async () => {
    const before = stack.mesh.routed.length;
    const missing = await graphqlOverWebSocket(ignoring.url + '/graphql', { 'x-internal-id': 'forged' }, { query: ME });
    assert.equal(missing.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
    const bad = await graphqlOverWebSocket(ignoring.url + '/graphql', { authorization: 'Bearer a.b.c' }, { query: ME });
    assert.equal(bad.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
    assert.equal(stack.mesh.routed.length, before, 'no subgraph called');
  });

  test('a user with no internal id yet gets none, whatever they send', async () => {
    const sub = randomUUID();
    const token = await stack.issuer.sign({ sub });
    const seen = await routedDuring(async () => {
      const res = await postGraphQL(ignoring.graphqlUrl, { query: ME }, { ...bearer(token), 'x-internal-id': 'forged' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, { me: { internalId: null, supabaseId: sub } });
    });
    assert.deepEqual(identityHeadersOf(seen[0]!), [['x-supabase-id', sub]]);
  });
});

describe('CLIENT_INTERNAL_ID_MODE=reject (after the 3.4b cutover): 400, nothing forwarded', () => {
  test('a client identity header, extension or connection param is refused with a clear error', async () => {
    const u = await user();
    const before = stack.mesh.routed.length;
    const metricBefore = await metricValue(rejecting.metricsUrl, 'gateway_client_identity_headers_total', { mode: 'reject' });
    for (const [headers, body] of [
      [{ 'X-Internal-Id': 'forged' }, { query: ME }],
      [{ x_supabase_id: 'forged' }, { query: ME }],
      [{}, { query: ME, extensions: { headers: { 'x-internal-id': 'forged' } } }],
      [{}, [{ query: ME }, { query: ME, extensions: { 'x-internal-id': 'forged' } }]],
    ] as const) {
      const res = await postGraphQL(rejecting.graphqlUrl, body, { ...bearer(u.token), ...headers });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.errors?.[0]?.extensions?.['code'], 'CLIENT_IDENTITY_FORBIDDEN');
      assert.match(res.body.errors?.[0]?.message ?? '', /set by the gateway only/);
    }
    const ws = await graphqlOverWebSocket(rejecting.url + '/graphql', { authorization: `Bearer ${u.token}`, 'x-internal-id': 'forged' }, { query: ME });
    assert.equal(ws.errors?.[0]?.extensions?.['code'], 'CLIENT_IDENTITY_FORBIDDEN');
    const upgrade = await graphqlOverWebSocket(rejecting.url + '/graphql', { authorization: `Bearer ${u.token}` }, { query: ME }, { 'X-Internal-Id': 'forged' });
    assert.equal(upgrade.errors?.[0]?.extensions?.['code'], 'CLIENT_IDENTITY_FORBIDDEN', 'on the WebSocket upgrade request too');
    assert.equal(stack.mesh.routed.length, before, 'no subgraph called');
    assert.equal(await metricValue(rejecting.metricsUrl, 'gateway_client_identity_headers_total', { mode: 'reject' }), metricBefore + 6);
  });

  test('clean requests still pass', async () => {
    const u = await user();
    const res = await postGraphQL(rejecting.graphqlUrl, { query: ME }, bearer(u.token));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, { me: { internalId: u.internalId, supabaseId: u.sub } });
  });
});
