// Authentication at the gateway: valid Supabase tokens pass, and every forged, malformed or
// misused token is refused with 401, a stable code, the reason in the log (never the token),
// and no subgraph ever called.

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, base64url, exportJWK, exportSPKI, importJWK } from 'jose';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { createSigningKey, type TestIssuer } from './support/issuer.ts';
import { rawHttp } from './support/raw-http.ts';
import { graphqlOverWebSocket } from './support/websocket.ts';

const ME = { query: '{ me { internalId supabaseId } }' };
const LEGACY_SECRET = 'legacy-jwt-secret-with-at-least-32-characters!!';

let stack: TestStack;
let gateway: TestGateway;
let legacyGateway: TestGateway;
let issuer: TestIssuer;

before(async () => {
  stack = await TestStack.start();
  issuer = stack.issuer;
  const secretFile = join(stack.dir, 'jwt-secret');
  writeFileSync(secretFile, `${LEGACY_SECRET}\n`, { mode: 0o600 });
  [gateway, legacyGateway] = await Promise.all([
    startTestGateway(stack.options()),
    startTestGateway(stack.options({ supabaseJwtSecretFile: secretFile })),
  ]);
});

after(async () => {
  await Promise.all([gateway?.close(), legacyGateway?.close()]);
  await stack?.close();
});

function registeredUser(): string {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  return sub;
}

/** Asserts a 401 with the stable code, the expected logged reason, no subgraph call, no token in logs. */
async function assertRefused(target: TestGateway, headers: Record<string, string> | [string, string][], reason: string, secretText?: string) {
  const routedBefore = stack.mesh.routed.length;
  const lookupsBefore = stack.mesh.lookups.length;
  const logsBefore = target.logLines.length;
  const res = await postGraphQL(target.graphqlUrl, ME, headers);
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
  assert.equal(res.body.data, undefined, 'no data for a refused request');
  assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  assert.equal(stack.mesh.routed.length, routedBefore, 'no subgraph was called');
  assert.equal(stack.mesh.lookups.length, lookupsBefore, 'users_service was not asked');
  const newLogs = target.logLines.slice(logsBefore).map((l) => JSON.parse(l) as Record<string, unknown>);
  const refusal = newLogs.find((l) => l['message'] === 'request refused: identity not established');
  assert.ok(refusal, `refusal logged: ${JSON.stringify(newLogs)}`);
  assert.equal(refusal['reason'], reason);
  assert.equal(refusal['severity'], 'WARNING');
  if (secretText) {
    for (const line of target.logLines) assert.ok(!line.includes(secretText), 'the token never reaches the log');
  }
}

describe('valid tokens', () => {
  test('an ES256 token from the JWKS: the subgraphs get the internal id and the Supabase id', async () => {
    const sub = registeredUser();
    const res = await postGraphQL(gateway.graphqlUrl, { query: '{ me { internalId supabaseId } myWorkouts { owner } }' }, bearer(await issuer.sign({ sub })));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data, { me: { internalId: `iid-${sub.slice(0, 8)}`, supabaseId: sub }, myWorkouts: [{ owner: `iid-${sub.slice(0, 8)}` }] });
  });

  test('an RS256 token from the JWKS', async () => {
    const sub = registeredUser();
    const res = await postGraphQL(gateway.graphqlUrl, ME, bearer(await issuer.sign({ sub, key: issuer.rs256 })));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data, { me: { internalId: `iid-${sub.slice(0, 8)}`, supabaseId: sub } });
  });

  test('a legacy HS256 token passes only where SUPABASE_JWT_SECRET_FILE is configured', async () => {
    const sub = registeredUser();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(issuer.issuer)
      .setAudience('authenticated')
      .setSubject(sub)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(LEGACY_SECRET));
    const ok = await postGraphQL(legacyGateway.graphqlUrl, ME, bearer(token));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((ok.body.data?.['me'] as { supabaseId: string }).supabaseId, sub);
    await assertRefused(gateway, bearer(token), 'alg_not_allowed', token);
  });

  test('"bearer" in any letter case is accepted (the scheme is case-insensitive)', async () => {
    const res = await postGraphQL(gateway.graphqlUrl, ME, { authorization: `bEaReR ${await issuer.sign({ sub: registeredUser() })}` });
    assert.equal(res.status, 200);
  });
});

describe('forged and misused tokens are refused', () => {
  test('alg "none" with an empty signature', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ iss: issuer.issuer, aud: 'authenticated', role: 'authenticated', sub: registeredUser(), exp: now + 600 }));
    const token = `${header}.${payload}.`;
    await assertRefused(gateway, bearer(token), 'alg_not_allowed', token);
  });

  test('HS/RS confusion: HS256 signed with the published RSA public key, naming its kid', async () => {
    const publicPem = await exportSPKI((await importJWK(issuer.rs256.publicJwk, 'RS256', { extractable: true })) as CryptoKey);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: 'authenticated', sub: registeredUser(), iss: issuer.issuer, aud: 'authenticated', exp: now + 600 })
      .setProtectedHeader({ alg: 'HS256', kid: issuer.rs256.kid })
      .sign(new TextEncoder().encode(publicPem));
    await assertRefused(gateway, bearer(token), 'alg_not_allowed', token);
    // Where a legacy secret exists, the HS branch checks against that secret only.
    await assertRefused(legacyGateway, bearer(token), 'bad_signature', token);
  });

  test('ES256 token naming the RS256 key (algorithm/key-type mismatch)', async () => {
    const token = await issuer.sign({ sub: registeredUser(), header: { kid: issuer.rs256.kid } });
    await assertRefused(gateway, bearer(token), 'unknown_key', token);
  });

  test('signed by the wrong key under a known kid', async () => {
    const attacker = await createSigningKey('ES256', issuer.es256.kid);
    const token = await issuer.sign({ sub: registeredUser(), key: attacker });
    await assertRefused(gateway, bearer(token), 'bad_signature', token);
  });

  test('an unknown kid, and an attacker key offered through jku and an embedded jwk', async () => {
    const attacker = await createSigningKey('ES256', 'attacker-key');
    const token = await issuer.sign({
      sub: registeredUser(),
      key: attacker,
      header: { jku: 'http://127.0.0.1:9/jwks.json', jwk: await exportJWK(await importJWK(attacker.publicJwk, 'ES256')) },
    });
    await assertRefused(gateway, bearer(token), 'unknown_key', token);
  });

  test('a tampered payload (role and sub swapped after signing)', async () => {
    const token = await issuer.sign({ sub: registeredUser() });
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p!))) as Record<string, unknown>;
    const forged = `${h}.${base64url.encode(JSON.stringify({ ...claims, sub: randomUUID() }))}.${s}`;
    await assertRefused(gateway, bearer(forged), 'bad_signature', forged);
  });

  test('expired beyond the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.sign({ sub: registeredUser(), claims: { iat: now - 7200, exp: now - 3600 } });
    await assertRefused(gateway, bearer(token), 'expired', token);
  });

  test('not valid yet (nbf in the future)', async () => {
    const token = await issuer.sign({ sub: registeredUser(), claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } });
    await assertRefused(gateway, bearer(token), 'not_yet_valid', token);
  });

  test('issued by another Supabase project', async () => {
    const token = await issuer.sign({ sub: registeredUser(), claims: { iss: 'https://otherproject.supabase.co/auth/v1' } });
    await assertRefused(gateway, bearer(token), 'wrong_issuer', token);
  });

  test('for another audience', async () => {
    const token = await issuer.sign({ sub: registeredUser(), claims: { aud: 'anon' } });
    await assertRefused(gateway, bearer(token), 'wrong_audience', token);
  });

  test('the anon and service_role keys (role is not authenticated)', async () => {
    for (const role of ['anon', 'service_role']) {
      const token = await issuer.sign({ sub: registeredUser(), claims: { role } });
      await assertRefused(gateway, bearer(token), 'wrong_role', token);
    }
    const noRole = await issuer.sign({ sub: registeredUser(), claims: { role: undefined } });
    await assertRefused(gateway, bearer(noRole), 'wrong_role', noRole);
  });

  test('without exp, and without sub', async () => {
    const noExp = await issuer.sign({ sub: registeredUser(), claims: { exp: undefined } });
    await assertRefused(gateway, bearer(noExp), 'missing_claim', noExp);
    const noSub = await issuer.sign({ claims: { sub: undefined } });
    await assertRefused(gateway, bearer(noSub), 'missing_claim', noSub);
  });

  test('a sub that is not a safe header value', async () => {
    const token = await issuer.sign({ sub: 'abc\r\nx-internal-id: 1' });
    await assertRefused(gateway, bearer(token), 'invalid_claim', token);
  });

  test('an oversized token, checked before any cryptography', async () => {
    const token = await issuer.sign({ sub: registeredUser(), claims: { padding: 'x'.repeat(9_000) } });
    await assertRefused(gateway, bearer(token), 'token_too_large');
  });

  test('malformed tokens and Authorization headers', async () => {
    const good = await issuer.sign({ sub: registeredUser() });
    await assertRefused(gateway, bearer('not-a-jwt'), 'malformed');
    await assertRefused(gateway, bearer('a.b.c'), 'malformed');
    await assertRefused(gateway, bearer(`${good}.extra`), 'malformed', good);
    await assertRefused(gateway, { authorization: 'Bearer' }, 'malformed_authorization');
    await assertRefused(gateway, { authorization: `Bearer  ${good}` }, 'malformed_authorization', good);
    await assertRefused(gateway, { authorization: `Basic ${good}` }, 'malformed_authorization', good);
    await assertRefused(gateway, { authorization: good }, 'malformed_authorization', good);
  });

  test('two Authorization values joined into one header are malformed', async () => {
    const good = await issuer.sign({ sub: registeredUser() });
    await assertRefused(gateway, [['authorization', `Bearer ${good}`], ['authorization', `Bearer ${good}`]], 'malformed_authorization', good);
  });

  test('a token anywhere but the Authorization header counts as no token', async () => {
    const good = await issuer.sign({ sub: registeredUser() });
    await assertRefused(gateway, { cookie: `sb-access-token=${good}` }, 'missing_token', good);
    const routedBefore = stack.mesh.routed.length;
    const res = await fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent(ME.query)}&access_token=${good}`);
    assert.equal(res.status, 401);
    assert.equal(stack.mesh.routed.length, routedBefore);
  });

  test('batched requests are refused as a whole with 401', async () => {
    const routedBefore = stack.mesh.routed.length;
    const res = await postGraphQL(gateway.graphqlUrl, [ME, ME]);
    assert.equal(res.status, 401);
    assert.equal(stack.mesh.routed.length, routedBefore);
  });
});

describe('exactly one Authorization header', () => {
  // Node keeps only the first of repeated Authorization lines in its header object; a proxy in
  // front may have kept the other. Only raw lines on a socket show what the gateway gets.
  const upgrade = (authorization: string[]): [string, string][] => [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', randomBytes(16).toString('base64')],
    ['Sec-WebSocket-Protocol', 'graphql-transport-ws'],
    ...authorization.map((value): [string, string] => ['Authorization', value]),
  ];

  test('two Authorization lines on the wire: 401 AMBIGUOUS_CREDENTIALS, even when both are valid', async () => {
    const mine = await issuer.sign({ sub: registeredUser() });
    const theirs = await issuer.sign({ sub: registeredUser() });
    const body = JSON.stringify(ME);
    const routedBefore = stack.mesh.routed.length;
    for (const pair of [[mine, theirs], [mine, mine], [mine, 'garbage']]) {
      const res = await rawHttp(gateway.url, {
        headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${pair[0]}`], ['Authorization', `Bearer ${pair[1]}`], ['Content-Length', String(Buffer.byteLength(body))], ['Connection', 'close']],
        body,
      });
      assert.equal(res.status, 401, res.body);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      const answer = JSON.parse(res.body) as { data?: unknown; errors: { extensions: { code: string } }[] };
      assert.equal(answer.errors[0]!.extensions.code, 'AMBIGUOUS_CREDENTIALS');
      assert.equal(answer.data, undefined);
    }
    assert.equal(stack.mesh.routed.length, routedBefore, 'no subgraph was called');
    const one = await rawHttp(gateway.url, { headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer ${mine}`], ['Content-Length', String(Buffer.byteLength(body))], ['Connection', 'close']], body });
    assert.equal(one.status, 200, 'the same request with one line is served');
    const refusal = gateway.logs().find((l) => l['reason'] === 'ambiguous_credentials');
    assert.ok(refusal, 'the refusal is logged with its reason');
  });

  test('the WebSocket upgrade with two Authorization lines is refused with 401 before any socket is opened', async () => {
    const token = await issuer.sign({ sub: registeredUser() });
    const refused = await rawHttp(gateway.url, { method: 'GET', headers: upgrade([`Bearer ${token}`, `Bearer ${token}`]) });
    assert.equal(refused.status, 401, refused.body);
    assert.equal((JSON.parse(refused.body) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code, 'AMBIGUOUS_CREDENTIALS');
    const accepted = await rawHttp(gateway.url, { method: 'GET', headers: upgrade([`Bearer ${token}`]) });
    assert.equal(accepted.status, 101, 'one line (or none) upgrades as before');
  });

  test('two spellings of the Authorization connection param are ambiguous; a value that is not a string is malformed', async () => {
    const token = await issuer.sign({ sub: registeredUser() });
    const two = await graphqlOverWebSocket(gateway.graphqlUrl, { Authorization: `Bearer ${token}`, authorization: `Bearer ${token}` }, ME);
    assert.equal(two.errors?.[0]?.extensions?.['code'], 'AMBIGUOUS_CREDENTIALS', JSON.stringify(two));
    const number = await graphqlOverWebSocket(gateway.graphqlUrl, { authorization: 42 }, ME);
    assert.equal(number.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED', JSON.stringify(number));
  });
});
