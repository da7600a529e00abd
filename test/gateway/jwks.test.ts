// The JWKS key source behind verification, against a real JWKS endpoint with real tokens:
// rotation, floods of unknown kids, stale keys while Supabase Auth is down, and keys that must
// never be trusted.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createLogger } from '../../gateway/src/log.ts';
import { RemoteJwks, type RemoteJwksOptions } from '../../gateway/src/jwks.ts';
import { createMetrics } from '../../gateway/src/metrics.ts';
import { TokenRejectedError, createTokenVerifier } from '../../gateway/src/verify.ts';
import { TestIssuer, createSigningKey } from './support/issuer.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await TestIssuer.start();
});
after(() => issuer?.stop());

function verifierWith(jwksOptions: Partial<RemoteJwksOptions>) {
  const lines: string[] = [];
  const metrics = createMetrics({ processMetrics: false });
  const log = createLogger({ level: 'info', service: 'gateway', version: 'test', sink: (l) => lines.push(l) });
  const jwks = new RemoteJwks({ url: `${issuer.issuer}/.well-known/jwks.json`, log, metrics, ...jwksOptions });
  const verifier = createTokenVerifier({ supabaseUrl: issuer.url, jwks, clockToleranceSeconds: 30, maxTokenBytes: 8192, cacheMaxEntries: 100, metrics });
  return { jwks, verifier, lines };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.reason;
    throw error;
  }
  return 'accepted';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a key rotated in is fetched on first sight of its kid, once the cooldown allows', async () => {
  const { jwks, verifier } = verifierWith({ cooldownMs: 300 });
  await jwks.warmUp();
  const rotated = await createSigningKey('ES256');
  issuer.keys.push(rotated);
  try {
    const token = await issuer.sign({ key: rotated });
    assert.equal(await rejection(verifier.verify(token)), 'unknown_key', 'within the cooldown the JWKS is not fetched again');
    await sleep(350);
    const before = issuer.jwksRequests;
    assert.equal(await rejection(verifier.verify(token)), 'accepted');
    assert.equal(issuer.jwksRequests, before + 1);
  } finally {
    issuer.keys.splice(issuer.keys.indexOf(rotated), 1);
  }
});

test('a flood of tokens with random kids causes at most one JWKS fetch per cooldown', async () => {
  const { jwks, verifier } = verifierWith({ cooldownMs: 60_000 });
  await jwks.warmUp();
  const before = issuer.jwksRequests;
  const attacker = await createSigningKey('ES256');
  const tokens = await Promise.all(Array.from({ length: 50 }, () => issuer.sign({ key: attacker, header: { kid: randomUUID() } })));
  const reasons = await Promise.all(tokens.map((t) => rejection(verifier.verify(t))));
  assert.deepEqual(new Set(reasons), new Set(['unknown_key']));
  assert.ok(issuer.jwksRequests - before <= 1, `fetched ${issuer.jwksRequests - before} times`);
});

test('stale keys keep verifying while the endpoint fails, refreshed in the background when it is back', async () => {
  const { jwks, verifier, lines } = verifierWith({ maxAgeMs: 100, cooldownMs: 1_000 });
  await jwks.warmUp();
  await sleep(1_100);
  issuer.failWith = 500;
  try {
    const before = issuer.jwksRequests;
    for (let i = 0; i < 20; i++) assert.equal(await rejection(verifier.verify(await issuer.sign())), 'accepted');
    await sleep(20);
    assert.equal(issuer.jwksRequests - before, 1, 'one background refresh attempt within the cooldown');
    assert.ok(lines.some((l) => l.includes('JWKS refresh failed; still verifying with the cached keys')));
  } finally {
    issuer.failWith = undefined;
  }
  await sleep(1_100);
  const before = issuer.jwksRequests;
  assert.equal(await rejection(verifier.verify(await issuer.sign())), 'accepted');
  await sleep(50);
  assert.equal(issuer.jwksRequests, before + 1, 'refreshed once the endpoint answers again');
});

test('symmetric or private keys in the JWKS are never used', async () => {
  const secret = new TextEncoder().encode('a-shared-secret-that-must-never-verify-anything');
  const octJwk = { kty: 'oct', kid: 'oct-key', alg: 'HS256', k: Buffer.from(secret).toString('base64url') };
  const original = issuer.keys.splice(0);
  issuer.keys.push({ ...issuer.es256, publicJwk: octJwk as never });
  try {
    const { jwks, verifier } = verifierWith({});
    await jwks.warmUp();
    assert.equal(jwks.loaded, false, 'a JWKS with only a symmetric key has no usable key');
    const { SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    const hsToken = await new SignJWT({ role: 'authenticated', sub: randomUUID(), iss: issuer.issuer, aud: 'authenticated', exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'oct-key' })
      .sign(secret);
    assert.equal(await rejection(verifier.verify(hsToken)), 'alg_not_allowed');
  } finally {
    issuer.keys.splice(0, issuer.keys.length, ...original);
  }
});
