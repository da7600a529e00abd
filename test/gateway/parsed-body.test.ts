// A JSON body from a caller the gateway has already verified is read by the HTTP server and
// handed to the runtime parsed, so the runtime never streams it; every body is answered as the
// runtime answered it when it read the body itself; the body of a caller without a token, or with
// a token not yet verified, is left for the runtime (a caller without a token over its address's
// limit is refused before it is read: rate-limits.test.ts).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseBodyFirst, whoseBodyFirst } from '../../gateway/src/parsed-body.ts';
import { TestStack, bearer, startTestGateway, type TestGateway } from './support/gateway.ts';
import { rawHttp } from './support/raw-http.ts';

describe('whose body is read first, and what the runtime is handed', () => {
  let server: Server;
  let url: string;
  const seen: unknown[] = [];
  // The identity services' question, answered for one token only.
  const readFirst = whoseBodyFirst({ verifiedBefore: (authorization) => authorization === 'Bearer known' }, true);

  before(async () => {
    server = createServer((req, res) => {
      const outcome = parseBodyFirst(req, readFirst);
      const answer = () => {
        const body = (req as IncomingMessage & { body?: unknown }).body;
        seen.push(body === undefined ? { unread: !req.readableEnded } : Buffer.isBuffer(body) ? { bytes: body.toString('utf8') } : body);
        res.end('ok');
        req.resume();
      };
      if (outcome === 'continue') answer();
      else if (outcome !== 'refused') void outcome.then((o) => o === 'continue' && answer());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = (body: string, headers: [string, string][]) => rawHttp(url, { headers: [...headers, ['Content-Length', String(Buffer.byteLength(body))], ['Connection', 'close']], body });
  const json: [string, string] = ['Content-Type', 'application/json'];

  test("a verified caller's JSON object or array is handed on parsed; other bodies as their bytes", async () => {
    seen.length = 0;
    const known: [string, string] = ['Authorization', 'Bearer known'];
    await send('{"query":"{ a }"}', [json, known]);
    await send('[{"query":"{ a }"},{"query":"{ b }"}]', [['Content-Type', 'application/graphql+json; charset=utf-8'], known]);
    await send('{"query": ', [json, known]);
    await send('{}', [json, known]);
    assert.deepEqual(seen, [{ query: '{ a }' }, [{ query: '{ a }' }, { query: '{ b }' }], { bytes: '{"query": ' }, { bytes: '{}' }]);
  });

  test('no token, a token not yet verified, or not JSON: the body is left unread for the runtime', async () => {
    seen.length = 0;
    await send('{"query":"{ a }"}', [json]);
    await send('{"query":"{ a }"}', [json, ['Authorization', 'Bearer new']]);
    await send('{ a }', [['Content-Type', 'application/graphql'], ['Authorization', 'Bearer known']]);
    assert.deepEqual(seen, [{ unread: true }, { unread: true }, { unread: true }]);
  });
});

describe('the gateway', () => {
  let stack: TestStack;
  let gateway: TestGateway;
  let token: string;
  let internalId: string;

  before(async () => {
    stack = await TestStack.start();
    gateway = await startTestGateway(stack.options({ rateLimitPerUser: 0, rateLimitBurstPerUser: 0 }));
    const sub = randomUUID();
    internalId = `iid-${sub.slice(0, 8)}`;
    stack.mesh.register(sub, internalId);
    token = await stack.issuer.sign({ sub });
  });
  after(async () => {
    await gateway?.close();
    await stack?.close();
  });

  const post = async (body: string, contentType = 'application/json') => {
    const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { ...bearer(token), 'content-type': contentType }, body });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const codeOf = (body: unknown) => (body as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;
  const me = () => ({ data: { me: { internalId } } });

  test('serves an operation, a batch, both JSON types and a GraphQL string, first and once the token is known', async () => {
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await post(JSON.stringify({ query: '{ me { internalId } }' })), { status: 200, body: me() });
      assert.deepEqual(await post(JSON.stringify([{ query: '{ me { internalId } }' }, { query: '{ me { internalId } }' }])), { status: 200, body: [me(), me()] });
      assert.deepEqual(await post(JSON.stringify({ query: '{ me { internalId } }' }), 'application/graphql+json'), { status: 200, body: me() });
      assert.deepEqual(await post('{ me { internalId } }', 'application/graphql'), { status: 200, body: me() });
    }
  });

  test('refuses invalid JSON, a JSON string and an empty object with BAD_REQUEST, as the runtime does', async () => {
    for (const [body, status] of [['{"query": ', 400], ['"text"', 400], ['{}', 200]] as const) {
      const res = await post(body);
      assert.equal(res.status, status, `${body}: ${JSON.stringify(res.body)}`);
      assert.equal(codeOf(res.body), 'BAD_REQUEST', `${body}: ${JSON.stringify(res.body)}`);
    }
  });

  test('serves a chunked JSON body from a known caller', async () => {
    const body = JSON.stringify({ query: '{ me { internalId } }' });
    const res = await rawHttp(gateway.url, {
      headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Transfer-Encoding', 'chunked'], ['Connection', 'close']],
      body: `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), me());
  });
});
