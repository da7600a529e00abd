// Anonymous operations are trusted documents named by hash: a caller without a token runs exactly
// the stored text of a document listed in PUBLIC_OPERATIONS, never a text of its own (the old
// allow-list by operation name let `query AppVersion { ...anything... }` through). Signed-in
// callers keep arbitrary documents unless REQUIRE_TRUSTED_DOCUMENTS is on. The configuration
// refuses names, unknown hashes and manifests whose hashes do not match their texts.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { optionsFromEnv } from '../../gateway/src/config.ts';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { APP_VERSION, byHash, hashOf, writeManifest } from './support/trusted-documents.ts';
import { graphqlOverWebSocket } from './support/websocket.ts';

const ME_DOC = 'query Me { me { internalId supabaseId } }';
const ANY_TEXT = { query: '{ me { internalId } }' };

let stack: TestStack;
let gateway: TestGateway;
let strict: TestGateway;
let plain: TestGateway;
let manifest: string;

before(async () => {
  stack = await TestStack.start();
  manifest = writeManifest(stack.dir, [APP_VERSION, ME_DOC]);
  const trusted = { trustedDocumentsFile: manifest, publicOperations: [hashOf(APP_VERSION)] };
  [gateway, strict, plain] = await Promise.all([
    startTestGateway(stack.options(trusted)),
    startTestGateway(stack.options({ ...trusted, requireTrustedDocuments: true })),
    startTestGateway(stack.options()),
  ]);
});
after(async () => {
  await Promise.all([gateway?.close(), strict?.close(), plain?.close()]);
  await stack?.close();
});

async function signedIn(): Promise<Record<string, string>> {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  return bearer(await stack.issuer.sign({ sub }));
}

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.['code'];

describe('callers without a token', () => {
  test('run a public trusted document by its hash, exactly as stored, with no identity', async () => {
    const before = stack.mesh.routed.length;
    for (const body of [byHash(APP_VERSION), { documentId: hashOf(APP_VERSION) }]) {
      const res = await postGraphQL(gateway.graphqlUrl, body, { 'x-internal-id': 'forged' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.data, { appVersion: '1.2.3' });
    }
    const viaGet = await fetch(`${gateway.graphqlUrl}?extensions=${encodeURIComponent(JSON.stringify(byHash(APP_VERSION)['extensions']))}`);
    assert.deepEqual(((await viaGet.json()) as { data: unknown }).data, { appVersion: '1.2.3' }, 'and over GET');
    const calls = stack.mesh.routed.slice(before);
    assert.equal(calls.length, 3);
    for (const call of calls) {
      assert.equal(call.headers['x-internal-id'], undefined);
      assert.equal(call.headers['x-supabase-id'], undefined);
      assert.equal(call.body.query?.includes('userBySupabaseId'), false);
    }
  });

  test('cannot choose the fields: a public operation name over any text of their own is refused', async () => {
    const before = stack.mesh.routed.length;
    for (const body of [
      { query: APP_VERSION },
      { query: 'query AppVersion { appVersion me { internalId } }', operationName: 'AppVersion' },
      { ...byHash(APP_VERSION), query: 'query AppVersion { me { internalId } }' },
      byHash(ME_DOC),
      byHash('query Unknown { appVersion }'),
      { documentId: 'not-a-hash' },
    ]) {
      const res = await postGraphQL(gateway.graphqlUrl, body);
      assert.equal(res.status, 401, JSON.stringify(body));
      assert.equal(codeOf(res.body), 'UNAUTHENTICATED');
    }
    assert.equal(stack.mesh.routed.length, before, 'no subgraph was called');
  });

  test('a batch runs only when every operation is public', async () => {
    const both = await postGraphQL(gateway.graphqlUrl, [byHash(APP_VERSION), byHash(APP_VERSION)]);
    assert.equal(both.status, 200, JSON.stringify(both.body));
    const mixed = await postGraphQL(gateway.graphqlUrl, [byHash(APP_VERSION), byHash(ME_DOC)]);
    assert.equal(mixed.status, 401);
  });

  test('a bad token on a public document is refused, never taken for no token', async () => {
    const res = await postGraphQL(gateway.graphqlUrl, byHash(APP_VERSION), bearer('a.b.c'));
    assert.equal(res.status, 401);
  });

  test('over WebSocket the same rules hold', async () => {
    // graphql-ws requires a query string; an empty one names no text of the caller's own.
    const ok = await graphqlOverWebSocket(gateway.graphqlUrl, {}, { query: '', ...byHash(APP_VERSION) });
    assert.deepEqual(ok.data, { appVersion: '1.2.3' }, JSON.stringify(ok));
    const text = await graphqlOverWebSocket(gateway.graphqlUrl, {}, { query: APP_VERSION });
    assert.equal(text.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED', JSON.stringify(text));
  });

  test('without TRUSTED_DOCUMENTS_FILE and PUBLIC_OPERATIONS nothing runs anonymously', async () => {
    for (const body of [byHash(APP_VERSION), { query: APP_VERSION }]) {
      assert.equal((await postGraphQL(plain.graphqlUrl, body)).status, 401);
    }
  });
});

describe('signed-in callers', () => {
  test('keep arbitrary documents, and may name any trusted document by hash', async () => {
    const user = await signedIn();
    const text = await postGraphQL(gateway.graphqlUrl, ANY_TEXT, user);
    assert.equal(text.status, 200, JSON.stringify(text.body));
    assert.match(String((text.body.data?.['me'] as { internalId: string }).internalId), /^iid-/);
    const stored = await postGraphQL(gateway.graphqlUrl, byHash(ME_DOC), user);
    assert.match(String((stored.body.data?.['me'] as { internalId: string }).internalId), /^iid-/, JSON.stringify(stored.body));
    const unknown = await postGraphQL(gateway.graphqlUrl, byHash('query Unknown { appVersion }'), user);
    assert.equal(codeOf(unknown.body), 'PERSISTED_QUERY_NOT_FOUND', 'so an automatic-persisted-queries client resends the text');
    const overWebSocket = await graphqlOverWebSocket(gateway.graphqlUrl, user, ANY_TEXT);
    assert.match(String((overWebSocket.data?.['me'] as { internalId: string } | undefined)?.internalId), /^iid-/, JSON.stringify(overWebSocket));
  });

  test('REQUIRE_TRUSTED_DOCUMENTS=true: their own texts are refused too, over HTTP and WebSocket', async () => {
    const user = await signedIn();
    const before = stack.mesh.routed.length;
    const text = await postGraphQL(strict.graphqlUrl, ANY_TEXT, user);
    assert.equal(codeOf(text.body), 'TRUSTED_DOCUMENT_REQUIRED', JSON.stringify(text.body));
    const overWebSocket = await graphqlOverWebSocket(strict.graphqlUrl, user, ANY_TEXT);
    assert.equal(overWebSocket.errors?.[0]?.extensions?.['code'], 'TRUSTED_DOCUMENT_REQUIRED', JSON.stringify(overWebSocket));
    assert.equal(stack.mesh.routed.length, before);
    const stored = await postGraphQL(strict.graphqlUrl, byHash(ME_DOC), user);
    assert.match(String((stored.body.data?.['me'] as { internalId: string }).internalId), /^iid-/, JSON.stringify(stored.body));
  });
});

describe('configuration', () => {
  const base = { SUPABASE_URL: 'https://abc.supabase.co', USERS_SERVICE_URL: 'https://users.internal/graphql' };
  const env = (extra: Record<string, string>) => optionsFromEnv({ ...base, SUPERGRAPH: stack.supergraphPath, ...extra }).problems;

  test('operation names in PUBLIC_OPERATIONS are refused, pointing at the hash to list instead', () => {
    const problems = env({ TRUSTED_DOCUMENTS_FILE: manifest, PUBLIC_OPERATIONS: 'AppVersion,PublicCatalog' });
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /"AppVersion", an operation name/);
    assert.ok(problems[0]!.includes(hashOf(APP_VERSION)), 'the manifest knows AppVersion: its hash is given');
    assert.match(problems[1]!, /"PublicCatalog".*Put the document in TRUSTED_DOCUMENTS_FILE/);
    assert.match(env({ PUBLIC_OPERATIONS: 'AppVersion' }).join('\n'), /gateway-auth\.md/);
  });

  test('hashes must be in the manifest, and the manifest must be there', () => {
    const missing = hashOf('query Nope { appVersion }');
    assert.match(env({ TRUSTED_DOCUMENTS_FILE: manifest, PUBLIC_OPERATIONS: missing }).join('\n'), /not in TRUSTED_DOCUMENTS_FILE/);
    assert.match(env({ PUBLIC_OPERATIONS: hashOf(APP_VERSION) }).join('\n'), /TRUSTED_DOCUMENTS_FILE is not set/);
    assert.match(env({ REQUIRE_TRUSTED_DOCUMENTS: 'true' }).join('\n'), /REQUIRE_TRUSTED_DOCUMENTS=true needs TRUSTED_DOCUMENTS_FILE/);
    assert.match(env({ TRUSTED_DOCUMENTS_FILE: join(stack.dir, 'absent.json') }).join('\n'), /does not exist/);
  });

  test('a manifest entry whose hash is not that of its text is refused, every one listed', () => {
    const bad = join(stack.dir, 'tampered.json');
    writeFileSync(bad, JSON.stringify({ [hashOf(APP_VERSION)]: 'query AppVersion { appVersion me { internalId } }', [hashOf('{ x')]: '{ x' }));
    const problems = env({ TRUSTED_DOCUMENTS_FILE: bad });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /2 bad entries/);
    assert.match(problems[0]!, /is not the sha256 of its text/);
    assert.match(problems[0]!, /does not parse/);
  });

  test("Apollo's persisted-query manifest is read as well", () => {
    const apollo = join(stack.dir, 'apollo.json');
    writeFileSync(apollo, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: hashOf(APP_VERSION), name: 'AppVersion', type: 'query', body: APP_VERSION }] }));
    assert.deepEqual(env({ TRUSTED_DOCUMENTS_FILE: apollo, PUBLIC_OPERATIONS: hashOf(APP_VERSION) }), []);
  });
});
