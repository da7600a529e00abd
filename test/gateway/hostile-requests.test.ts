// Requests an attacker with a valid token would send to take the gateway down or read what is not
// theirs: bodies too large to read, documents too large, deep, aliased or costly to validate,
// oversized batches and WebSocket messages, the internal lookup field, and error messages that
// hint at the schema. Each is refused with a stable code, counted and logged, while the process
// keeps answering everyone else.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { TestStack, bearer, metricValue, postGraphQL, startTestGateway, type GraphQLResponse, type TestGateway } from './support/gateway.ts';
import { stringsHolding } from './support/heap.ts';
import { rawHttp } from './support/raw-http.ts';
import { byHash, hashOf, writeManifest } from './support/trusted-documents.ts';
import { graphqlOverWebSocket } from './support/websocket.ts';

const KB = 1024;

let stack: TestStack;
let gateway: TestGateway;
let production: TestGateway;
let token: string;
let internalId: string;

// Documents with mistakes, run anonymously by hash on the production gateway (whose Supabase URL
// must be https, so no token verifies there) and with a token on the development one.
const TYPO_FIELD = 'query TypoField { userBySupabaseI }';
const TYPO_ENUM = 'query TypoEnum { greeting(tone: FRIENDLI) }';
const TYPO_ENUM_VARIABLE = 'query TypoEnumVariable($tone: Tone) { greeting(tone: $tone) }';
const TYPO_ARGUMENT = 'query TypoArgument { greeting(ton: FRIENDLY) }';
const MISTAKES = [TYPO_FIELD, TYPO_ENUM, TYPO_ENUM_VARIABLE, TYPO_ARGUMENT];

before(async () => {
  stack = await TestStack.start();
  // One user sends every hostile request here in quick succession: rate limits have tests of their own.
  const mistakes = { trustedDocumentsFile: writeManifest(stack.dir, MISTAKES), publicOperations: MISTAKES.map(hashOf), rateLimitPerUser: 0, rateLimitBurstPerUser: 0 };
  [gateway, production] = await Promise.all([
    startTestGateway(stack.options(mistakes)),
    startTestGateway(stack.options({ ...mistakes, nodeEnv: 'production', supabaseUrl: 'https://127.0.0.1:9' })),
  ]);
  const sub = randomUUID();
  internalId = `iid-${sub.slice(0, 8)}`;
  stack.mesh.register(sub, internalId);
  token = await stack.issuer.sign({ sub });
});
after(async () => {
  await Promise.all([gateway?.close(), production?.close()]);
  await stack?.close();
});

const codeOf = (res: GraphQLResponse) => res.body.errors?.[0]?.extensions?.['code'];
const refusedCount = (limit: string) => metricValue(gateway.metricsUrl, 'gateway_requests_refused_total', { limit });
const healthy = async () => (await fetch(`${gateway.url}/healthcheck`, { signal: AbortSignal.timeout(5_000) })).status === 200;

async function assertStillServes(): Promise<void> {
  const res = await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' }, bearer(token));
  assert.deepEqual(res.body.data, { me: { internalId } }, JSON.stringify(res.body));
}

describe('request bodies', () => {
  test('a declared Content-Length over MAX_REQUEST_BYTES is answered 413 without reading the body', async () => {
    const before = await refusedCount('body_size');
    // 20 MB announced, 20 bytes sent: the answer cannot have waited for the rest.
    const res = await rawHttp(gateway.url, {
      headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Content-Length', String(20 * KB * KB)]],
      body: '{"query":"{ me { in',
    });
    assert.equal(res.status, 413, res.body);
    assert.equal(res.headers['connection'], 'close');
    assert.equal((JSON.parse(res.body) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code, 'REQUEST_TOO_LARGE');
    assert.equal(await refusedCount('body_size'), before + 1);
    await assertStillServes();
  });

  test('after the 413 for a declared Content-Length over the cap, no more of the body is read; /healthcheck answers all along', async () => {
    // The gateway's side of each upload's connection, from Node's own channel for every request it serves.
    const declared = String(20 * KB * KB);
    const served: Socket[] = [];
    const onRequest = (message: unknown) => {
      const { request, socket } = message as { request: IncomingMessage; socket: Socket };
      if (request.headers['content-length'] === declared) served.push(socket);
    };
    subscribe('http.server.request.start', onRequest);
    try {
      // Headers and 1 MB of body at once: most of it waits in the kernel's buffers by the time the
      // headers are answered. Reading what waits there (Node does, before it closes) costs a flood
      // of such uploads most of what each attempt costs.
      const upload = () =>
        rawHttp(gateway.url, { headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Content-Length', declared]], body: Buffer.alloc(KB * KB, 32) });
      const [answers, health] = await Promise.all([Promise.all(Array.from({ length: 20 }, upload)), Promise.all(Array.from({ length: 8 }, () => healthy()))]);
      assert.deepEqual(answers.map((res) => res.status), Array(20).fill(413));
      assert.deepEqual(health, Array(8).fill(true));
      assert.equal(served.length, 20, 'every upload reached the HTTP server');
      await Promise.all(served.map((socket) => (socket.destroyed ? undefined : new Promise((resolve) => socket.once('close', resolve)))));
      // One read of the kernel's buffer (64 kB) brings the headers in; nothing after it.
      const read = served.map((socket) => socket.bytesRead);
      assert.ok(read.every((bytes) => bytes <= 64 * KB), `the gateway read ${read.join(', ')} bytes of the connections`);
    } finally {
      unsubscribe('http.server.request.start', onRequest);
    }
    await assertStillServes();
  });

  test('a chunked body is cut off as soon as it passes the cap, however long the client keeps sending', async () => {
    const filler = Buffer.alloc(16 * KB, ' ');
    const chunk = Buffer.concat([Buffer.from(`${filler.length.toString(16)}\r\n`), filler, Buffer.from('\r\n')]);
    const res = await rawHttp(gateway.url, {
      headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Transfer-Encoding', 'chunked']],
      body: Buffer.concat([Buffer.from('a\r\n{"query": \r\n')]),
      endless: chunk,
    });
    assert.equal(res.status, 413, res.body);
    assert.equal(await healthy(), true);
  });

  test('a chunked body under the cap is served', async () => {
    const body = JSON.stringify({ query: '{ me { internalId } }' });
    const res = await rawHttp(gateway.url, {
      headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${token}`], ['Transfer-Encoding', 'chunked'], ['Connection', 'close']],
      body: `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, new RegExp(internalId));
  });

  test('a body just under the cap is served: the cap is not in the way of real requests', async () => {
    const res = await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }', variables: { note: 'x'.repeat(95 * KB) } }, bearer(token));
    assert.deepEqual(res.body.data, { me: { internalId } }, JSON.stringify(res.body).slice(0, 300));
  });

  test('a WebSocket message over the cap closes that connection (1009), and only that one', async () => {
    const socket = new WebSocket(gateway.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ me { internalId } } # ${'x'.repeat(200 * KB)}` } }));
    assert.equal(await closed, 1009);
    const fine = await graphqlOverWebSocket(gateway.graphqlUrl, bearer(token), { query: '{ me { internalId } }' });
    assert.deepEqual(fine.data, { me: { internalId } });
  });
});

describe('document limits', () => {
  test('too many characters or tokens: refused before and while parsing, never validated; /healthcheck answers all along', async () => {
    // 9,000 repeated fields fit under the body cap; validating them would be quadratic.
    const long = { query: `{ ${'__typename '.repeat(9_000)}}` };
    assert.ok(JSON.stringify(long).length < 100 * KB);
    // 5,000 one-letter fields fit under the character limit and not under the token limit.
    const many = { query: `{ ${'a '.repeat(5_000)}}` };
    const before = { characters: await refusedCount('characters'), tokens: await refusedCount('tokens') };
    const attacks = Array.from({ length: 8 }, (_, i) => postGraphQL(gateway.graphqlUrl, i % 2 ? long : many, bearer(token)));
    const checks = Array.from({ length: 8 }, () => healthy());
    const [answers, health] = await Promise.all([Promise.all(attacks), Promise.all(checks)]);
    answers.forEach((res, i) => assert.equal(codeOf(res), i % 2 ? 'MAX_CHARACTERS_EXCEEDED' : 'MAX_TOKENS_EXCEEDED', JSON.stringify(res.body).slice(0, 300)));
    // The answer gateway-auth.md documents for both: 200 with the error, no data.
    answers.forEach((res) => assert.deepEqual([res.status, res.body.data ?? null], [200, null]));
    assert.deepEqual(health, Array(8).fill(true));
    assert.equal(await refusedCount('characters'), before.characters + 4);
    assert.equal(await refusedCount('tokens'), before.tokens + 4, 'every refusal is counted, the repeated ones too');
    // Comments count as characters (no token limit sees them).
    const commented = await postGraphQL(gateway.graphqlUrl, { query: `# ${'x'.repeat(15_000)}\n{ me { internalId } }` }, bearer(token));
    assert.equal(codeOf(commented), 'MAX_CHARACTERS_EXCEEDED');
    // The same text asked for under another operation name is still refused for its size.
    const named = `query Named { ${'a '.repeat(2_000)}}`;
    for (const operationName of ['Named', 'Other', undefined]) {
      const res = await postGraphQL(gateway.graphqlUrl, { query: named, operationName }, bearer(token));
      assert.equal(codeOf(res), 'MAX_TOKENS_EXCEEDED', `${operationName}: ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    await assertStillServes();
  });

  test('documents that fail to parse are not kept: a flood of distinct ones leaves nothing behind', async () => {
    // The runtime caches documents by their text; failed ones it kept for the next thousand
    // requests, so each of a flood lived long enough to be copied into the old generation.
    const mark = `kept${randomUUID().replaceAll('-', '')}`;
    const sent = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        // Over the token limit (the marker lies past it), or cut short: a syntax error whose
        // message does not repeat the document.
        postGraphQL(gateway.graphqlUrl, { query: i % 2 ? `{ ${'a '.repeat(5_000)}${mark}x${i} }` : `{ me(note: "${mark}x${i}") { internalId ` }, bearer(token)).then(codeOf),
      ),
    );
    assert.deepEqual(new Set(sent), new Set(['MAX_TOKENS_EXCEEDED', 'GRAPHQL_PARSE_FAILED']));
    // A syntax error still gets the status GraphQL over HTTP asks for.
    const strict = await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId ' }, { ...bearer(token), accept: 'application/graphql-response+json' });
    assert.equal(strict.status, 400, JSON.stringify(strict.body));
    assert.equal(await stringsHolding(mark), 0, 'no failed document is still held after a collection');
    // A document that parses is kept, as before: the same check sees it.
    await postGraphQL(gateway.graphqlUrl, { query: `{ me { internalId } } # ${mark}` }, bearer(token));
    assert.ok((await stringsHolding(mark)) > 0, 'the check finds a document the runtime keeps');
    await assertStillServes();
  });

  test('depth, aliases, directives and cost are checked before graphql-js validates the document', async () => {
    const deep = `{ ${'a { '.repeat(12)}b${' }'.repeat(12)} }`;
    const aliases = `{ ${Array.from({ length: 11 }, (_, i) => `v${i}: appVersion`).join(' ')} }`;
    const directives = `{ appVersion ${'@include(if: true) '.repeat(11)}}`;
    const costly = `{ ${'a { '.repeat(9)}${Array.from({ length: 200 }, (_, i) => `f${i}`).join(' ')}${' }'.repeat(9)} }`;
    for (const [query, code] of [
      [deep, 'MAX_DEPTH_EXCEEDED'],
      [aliases, 'MAX_ALIASES_EXCEEDED'],
      [directives, 'MAX_DIRECTIVES_EXCEEDED'],
      [costly, 'MAX_COST_EXCEEDED'],
    ] as const) {
      const routed = stack.mesh.routed.length;
      const res = await postGraphQL(gateway.graphqlUrl, { query }, bearer(token));
      assert.deepEqual(res.body.errors?.map((e) => e.extensions?.['code']), [code], JSON.stringify(res.body));
      // The fields do not exist: had graphql-js validated the document, it would say so.
      assert.doesNotMatch(JSON.stringify(res.body), /Cannot query field/);
      assert.equal(stack.mesh.routed.length, routed);
    }
    // Many at once, with /healthcheck asked meanwhile: every one refused, every check answered.
    const flood = Array.from({ length: 40 }, (_, i) => postGraphQL(gateway.graphqlUrl, { query: [deep, aliases, directives, costly][i % 4] }, bearer(token)));
    const checks = Array.from({ length: 8 }, () => healthy());
    const [floodAnswers, health] = await Promise.all([Promise.all(flood), Promise.all(checks)]);
    assert.ok(floodAnswers.every((r) => /^MAX_(DEPTH|ALIASES|DIRECTIVES|COST)_EXCEEDED$/.test(String(codeOf(r)))));
    assert.deepEqual(health, Array(8).fill(true));
    // Outside development, the client is not told the numbers.
    const hidden = await postGraphQL(production.graphqlUrl, { query: deep });
    assert.equal(hidden.status, 401, 'production refuses the anonymous text first');
    const limitsLogged = gateway.logs().filter((l) => l.message === 'request refused: limit exceeded' && l['limit'] === 'depth');
    assert.ok(limitsLogged.length >= 1);
    assert.equal(limitsLogged[0]!['caller'], 'user');
    assert.match(String(limitsLogged[0]!['detail']), /depth limit of 10 exceeded, found 1[23]/i);
    assert.ok(String(limitsLogged[0]!['excerpt']).length <= 120, 'only an excerpt of the document is logged');
    assert.equal(limitsLogged[0]!['documentSha256'], hashOf(deep));
  });

  test('a batch over MAX_BATCH_OPERATIONS is refused whole with 413; ten operations are served', async () => {
    const op = { query: '{ appVersion }' };
    const over = await postGraphQL(gateway.graphqlUrl, Array(11).fill(op), bearer(token));
    assert.equal(over.status, 413);
    assert.equal(codeOf(over), 'BATCH_TOO_LARGE');
    const floods = Array.from({ length: 20 }, () => postGraphQL(gateway.graphqlUrl, Array(100).fill(op), bearer(token)));
    const [statuses, health] = await Promise.all([Promise.all(floods).then((rs) => rs.map((r) => r.status)), Promise.all(Array.from({ length: 8 }, () => healthy()))]);
    assert.deepEqual(statuses, Array(20).fill(413));
    assert.deepEqual(health, Array(8).fill(true));
    const ten = await postGraphQL(gateway.graphqlUrl, Array(10).fill(op), bearer(token));
    assert.equal(ten.status, 200);
    assert.equal((ten.body as unknown as unknown[]).length, 10);
  });

  test('the same limits hold over WebSocket', async () => {
    const res = await graphqlOverWebSocket(gateway.graphqlUrl, bearer(token), { query: `{ ${'a { '.repeat(12)}b${' }'.repeat(12)} }` });
    assert.equal(res.errors?.[0]?.extensions?.['code'], 'MAX_DEPTH_EXCEEDED', JSON.stringify(res));
  });
});

describe('internal fields', () => {
  const LOOKUP_ERROR = 'Cannot query field "userBySupabaseId" on type "Query".';

  test('the lookup field is refused for clients, however it is asked for', async () => {
    const someoneElse = randomUUID();
    stack.mesh.register(someoneElse, 'iid-someone-else');
    const asked = (field: string) => `${field}(supabaseId: "${someoneElse}") { id }`;
    const documents = [
      `query ClientAsksDirectly { ${asked('userBySupabaseId')} }`,
      `query ClientAsksDirectly { mine: me { internalId } theirs: ${asked('userBySupabaseId')} }`,
      `query ClientAsksDirectly { ...F } fragment F on Query { ${asked('userBySupabaseId')} }`,
      `query ClientAsksDirectly { ... on Query { ${asked('userBySupabaseId')} } }`,
    ];
    const routed = stack.mesh.received.filter((r) => r.body.operationName === 'ClientAsksDirectly').length;
    for (const query of documents) {
      const res = await postGraphQL(gateway.graphqlUrl, { query }, bearer(token));
      assert.equal(res.body.data, undefined, JSON.stringify(res.body));
      assert.deepEqual(res.body.errors?.map((e) => e.message), [LOOKUP_ERROR], query);
      assert.doesNotMatch(JSON.stringify(res.body), /iid-someone-else/);
    }
    const batch = await postGraphQL(gateway.graphqlUrl, documents.map((query) => ({ query })), bearer(token));
    for (const answer of batch.body as unknown as GraphQLResponse['body'][]) assert.equal(answer.errors?.[0]?.message, LOOKUP_ERROR);
    const ws = await graphqlOverWebSocket(gateway.graphqlUrl, bearer(token), { query: documents[1]! });
    assert.equal(ws.errors?.[0]?.message, LOOKUP_ERROR);
    assert.equal(stack.mesh.received.filter((r) => r.body.operationName === 'ClientAsksDirectly').length, routed, 'users_service never saw the question');
    assert.ok((await refusedCount('internal_field')) >= 1);
  });

  test("the gateway's own lookup is unaffected: a new user's first request resolves their id", async () => {
    const sub = randomUUID();
    stack.mesh.register(sub, 'iid-newcomer');
    const lookups = stack.mesh.lookups.length;
    const res = await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId } }' }, bearer(await stack.issuer.sign({ sub })));
    assert.deepEqual(res.body.data, { me: { internalId: 'iid-newcomer' } });
    assert.equal(stack.mesh.lookups.length, lookups + 1);
  });

  test('INTERNAL_FIELDS adds fields; USERS_LOOKUP_QUERY decides which field the lookup is', async () => {
    const custom = await startTestGateway(
      stack.options({
        internalFields: ['Query.appVersion'],
        usersLookupQuery: 'query Find($supabaseId: String!) { found: userBySupabaseId(supabaseId: $supabaseId) { id } }',
        usersLookupPath: 'found.id',
      }),
    );
    try {
      const app = await postGraphQL(custom.graphqlUrl, { query: '{ appVersion }' }, bearer(token));
      assert.equal(app.body.errors?.[0]?.message, 'Cannot query field "appVersion" on type "Query".');
      const lookup = await postGraphQL(custom.graphqlUrl, { query: `{ userBySupabaseId(supabaseId: "x") { id } }` }, bearer(token));
      assert.equal(lookup.body.errors?.[0]?.message, LOOKUP_ERROR);
      const me = await postGraphQL(custom.graphqlUrl, { query: '{ me { internalId } }' }, bearer(token));
      assert.deepEqual(me.body.data, { me: { internalId } });
    } finally {
      await custom.close();
    }
  });
});

describe('no schema hints in production', () => {
  const run = async (target: TestGateway, text: string, headers: Record<string, string> = {}) =>
    postGraphQL(target.graphqlUrl, byHash(text, text === TYPO_ENUM_VARIABLE ? { tone: 'FRIENDLI' } : undefined), headers);

  test('field, argument and enum suggestions are removed, in validation and in execution', async () => {
    for (const text of MISTAKES) {
      const res = await run(production, text);
      const messages = JSON.stringify(res.body.errors);
      assert.ok(res.body.errors?.length, `${text}: ${JSON.stringify(res.body)}`);
      assert.doesNotMatch(messages, /Did you mean/, text);
    }
    const field = await run(production, TYPO_FIELD);
    assert.equal(field.body.errors?.[0]?.message, 'Cannot query field "userBySupabaseI" on type "Query".');
  });

  test('development keeps them (the same documents, the same requests)', async () => {
    for (const text of MISTAKES) {
      const res = await run(gateway, text, bearer(token));
      assert.match(JSON.stringify(res.body.errors), /Did you mean/, text);
    }
  });
});
