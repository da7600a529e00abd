// The ways a client could try to be somebody else, each with what must happen. Every attack is
// sent by user A (or by nobody), against user B, through the public gateway or around it.

import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import WebSocket from 'ws';
import { bearer, dataOf, errorCodes, postGraphql, type GatewayReply, type TestUser } from './clients.ts';
import type { Target } from './target.ts';

export type Verdict = 'PASS' | 'LEAK' | 'FAIL';

export interface AttackResult {
  attack: string;
  expected: string;
  got: string;
  verdict: Verdict;
}

const ME = { query: '{ me { id } }' };

/** What `me` answered, for the table. */
function describe(reply: GatewayReply): string {
  const me = dataOf(reply)?.me as { id?: string } | null | undefined;
  if (me?.id) return `HTTP ${reply.status}, me = ${me.id}`;
  const codes = errorCodes(reply);
  return `HTTP ${reply.status}${codes.length ? ` ${codes.join(',')}` : ''}${me === null ? ', me = null' : ''}`;
}

/** A's request with something of B's in it must still be answered as A. */
function answeredAs(attack: string, a: TestUser, b: TestUser, reply: GatewayReply): AttackResult {
  const id = (dataOf(reply)?.me as { id?: string } | null | undefined)?.id;
  const verdict: Verdict = id === b.internalId ? 'LEAK' : id === a.internalId || (reply.status >= 400 && reply.status < 500 && !id) ? 'PASS' : 'FAIL';
  return { attack, expected: `answered as A (${a.internalId}) or refused`, got: describe(reply), verdict };
}

/** A request without a valid identity must be refused, with no data. */
function refused(attack: string, b: TestUser, reply: GatewayReply): AttackResult {
  const id = (dataOf(reply)?.me as { id?: string } | null | undefined)?.id;
  const verdict: Verdict = id === b.internalId ? 'LEAK' : reply.status === 401 || (reply.status >= 400 && reply.status < 500 && !id) ? 'PASS' : id ? 'LEAK' : 'FAIL';
  return { attack, expected: 'HTTP 401, no data', got: describe(reply), verdict };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function forgedTokens(target: Target, a: TestUser, b: TestUser, signingKey: JWK | undefined): Promise<[string, string][]> {
  const header = decodeProtectedHeader(a.accessToken);
  const claims = decodeJwt(a.accessToken);
  const now = Math.floor(Date.now() / 1000);
  const asB: JWTPayload = { ...claims, sub: b.id, email: b.email };
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  // Claim-level attacks are signed with the real key where there is one (the local stack), so
  // they prove the claim checks themselves; against production, with a stranger's key.
  const claimKey = signingKey ? await importJWK(signingKey, 'ES256') : attacker;
  const sign = (payload: JWTPayload, key: Parameters<SignJWT['sign']>[0] = claimKey) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: header.kid, typ: 'JWT' }).sign(key);

  const jwks = (await (await fetch(`${target.supabaseUrl}/auth/v1/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const publicJwk = jwks.keys.find((k) => k.kid === header.kid) ?? jwks.keys[0]!;
  const publicPem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  const hsWithPublicKey = await new SignJWT(asB).setProtectedHeader({ alg: 'HS256', kid: header.kid, typ: 'JWT' }).sign(new TextEncoder().encode(publicPem));
  const { exp: _exp, ...withoutExp } = asB;
  const oversized = await sign({ ...claims, padding: 'x'.repeat(20_000) });

  return [
    ['alg none, sub = B', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(asB)}.`],
    ['HS256 signed with the public key, sub = B', hsWithPublicKey],
    ['another key under the real kid, sub = B', await sign(asB, attacker)],
    ['expired', await sign({ ...claims, iat: now - 7200, exp: now - 3600 })],
    ['wrong issuer', await sign({ ...claims, iss: 'https://attacker.example/auth/v1' })],
    ['wrong audience', await sign({ ...claims, aud: 'service' })],
    ['role anon', await sign({ ...claims, role: 'anon' })],
    ['role service_role', await sign({ ...claims, role: 'service_role' })],
    ['no exp claim', await sign(withoutExp as JWTPayload)],
    ['oversized (20 KB)', oversized],
    ['the anon key as bearer', target.anonKey],
    ['the service-role key as bearer', target.serviceRoleKey],
  ];
}

function overWebSocket(target: Target, a: TestUser, b: TestUser): Promise<AttackResult> {
  const url = target.gatewayUrl.replace(/^http/, 'ws') + '/graphql';
  return new Promise((resolve) => {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${a.accessToken}`, 'x-internal-id': b.internalId, headers: { 'x-internal-id': b.internalId } },
    });
    const done = (result: AttackResult) => {
      void client.dispose();
      resolve(result);
    };
    const timer = setTimeout(() => done({ attack: 'x-internal-id = B in WebSocket connection params', expected: 'answered as A or refused', got: 'no answer in 10 s', verdict: 'FAIL' }), 10_000);
    let answer: unknown;
    client.subscribe(ME, {
      next: (value) => (answer = value),
      error: (error) => {
        clearTimeout(timer);
        done({ attack: 'x-internal-id = B in WebSocket connection params', expected: 'answered as A or refused', got: `refused (${error instanceof Error ? error.message : 'closed'})`, verdict: 'PASS' });
      },
      complete: () => {
        clearTimeout(timer);
        const id = ((answer as { data?: { me?: { id?: string } } })?.data?.me)?.id;
        done({
          attack: 'x-internal-id = B in WebSocket connection params',
          expected: `answered as A (${a.internalId}) or refused`,
          got: id ? `me = ${id}` : 'no data',
          verdict: id === b.internalId ? 'LEAK' : id === a.internalId || !id ? 'PASS' : 'FAIL',
        });
      },
    });
  });
}

/** users_service's lookup field answers any user's id for a Supabase id: clients must not reach it. */
async function lookupFieldAsked(gw: string, a: TestUser, b: TestUser): Promise<AttackResult> {
  const query = `{ mine: me { id } theirs: userBySupabaseId(supabaseId: "${b.id}") { id } }`;
  const reply = await postGraphql(gw, bearer(a), { query });
  const theirs = (dataOf(reply)?.theirs as { id?: string } | null | undefined)?.id;
  const codes = errorCodes(reply);
  return {
    attack: "A's token, B's id through users_service's lookup field (aliased)",
    expected: 'refused: the field is not public',
    got: theirs ? `theirs = ${theirs}` : `HTTP ${reply.status}${codes.length ? ` ${codes.join(',')}` : ''}, no data`,
    verdict: theirs === b.internalId ? 'LEAK' : !theirs && !dataOf(reply) && codes.length > 0 ? 'PASS' : 'FAIL',
  };
}

/**
 * Replies alternate A, B, A, B... Answered as the other user is a leak; not answered (a 429, an
 * error, `me` null) is a failed check, not a leak: it proves nothing either way.
 */
export function concurrencyVerdict(replies: GatewayReply[], a: TestUser, b: TestUser, pairs: number): AttackResult {
  const idOf = (r: GatewayReply) => (dataOf(r)?.me as { id?: string } | null | undefined)?.id;
  const crossed = replies.filter((r, i) => idOf(r) !== undefined && idOf(r) !== (i % 2 === 0 ? a : b).internalId).length;
  const unanswered = replies.filter((r) => idOf(r) === undefined);
  const why = [...new Set(unanswered.map((r) => `HTTP ${r.status}${errorCodes(r).length ? ` ${errorCodes(r).join(',')}` : ''}`))].join('; ');
  return {
    attack: `identical queries from A and B at once (${pairs} pairs)`,
    expected: 'each answered as itself',
    got: crossed ? `${crossed} of ${replies.length} answered as the other user` : unanswered.length ? `${unanswered.length} of ${replies.length} not answered (${why})` : `${replies.length} of ${replies.length} right`,
    verdict: crossed ? 'LEAK' : unanswered.length ? 'FAIL' : 'PASS',
  };
}

export async function runAttacks(target: Target, a: TestUser, b: TestUser, opts: { signingKey?: JWK; concurrentPairs?: number } = {}): Promise<AttackResult[]> {
  const gw = target.gatewayUrl;
  const results: AttackResult[] = [];
  const spoof = b.internalId!;

  results.push(refused('no token, x-internal-id = B', b, await postGraphql(gw, { 'x-internal-id': spoof }, ME)));
  for (const [name, headers] of [
    ['x-internal-id = B', { 'x-internal-id': spoof }],
    ['X-Internal-ID = B', { 'X-Internal-ID': spoof }],
    ['X-INTERNAL-ID = B', { 'X-INTERNAL-ID': spoof }],
    ['x-internal-id repeated (B, then A)', { 'x-internal-id': [spoof, a.internalId!] }],
    ['x-internal-id repeated (A, then B)', { 'x-internal-id': [a.internalId!, spoof] }],
    ['x_internal_id = B', { x_internal_id: spoof }],
    ['x-supabase-id = B', { 'x-supabase-id': b.id }],
  ] as [string, Record<string, string | string[]>][]) {
    results.push(answeredAs(`A's token, ${name}`, a, b, await postGraphql(gw, { ...bearer(a), ...headers }, ME)));
  }
  results.push(
    answeredAs(
      "A's token, x-internal-id = B in GraphQL extensions",
      a,
      b,
      await postGraphql(gw, bearer(a), { ...ME, extensions: { 'x-internal-id': spoof, headers: { 'x-internal-id': spoof } } }),
    ),
  );

  const batch = await postGraphql(gw, { ...bearer(a), 'x-internal-id': spoof }, [ME, { ...ME, extensions: { headers: { 'x-internal-id': spoof } } }]);
  const batchIds = Array.isArray(batch.body) ? batch.body.map((r) => ((r as { data?: { me?: { id?: string } } }).data?.me)?.id) : [];
  results.push({
    attack: "A's token, x-internal-id = B, batched request",
    expected: 'every answer as A, or refused',
    got: batchIds.length ? `HTTP ${batch.status}, me = ${batchIds.join(', ')}` : `HTTP ${batch.status}`,
    verdict: batchIds.includes(spoof) ? 'LEAK' : batchIds.every((id) => id === a.internalId) && (batchIds.length > 0 || batch.status >= 400) ? 'PASS' : 'FAIL',
  });
  results.push(await overWebSocket(target, a, b));
  results.push(refused("A's and B's tokens as two Authorization lines", b, await postGraphql(gw, { authorization: [`Bearer ${a.accessToken}`, `Bearer ${b.accessToken}`] }, ME)));
  results.push(await lookupFieldAsked(gw, a, b));

  for (const [name, token] of await forgedTokens(target, a, b, opts.signingKey)) {
    results.push(refused(`forged token: ${name}`, b, await postGraphql(gw, { authorization: `Bearer ${token}`, 'x-internal-id': spoof }, ME)));
  }

  // Two users asking the very same thing at the very same moment must each get their own answer.
  const pairs = opts.concurrentPairs ?? 25;
  const replies = await Promise.all(
    Array.from({ length: pairs }, () => [postGraphql(gw, bearer(a), ME), postGraphql(gw, bearer(b), ME)]).flat(),
  );
  results.push(concurrencyVerdict(replies, a, b, pairs));

  for (const [name, url] of Object.entries(target.services)) {
    const direct = await postGraphql(url.replace(/\/graphql$/, ''), { 'x-internal-id': spoof, 'x-supabase-id': b.id }, ME).catch((error: Error) => ({ status: 0, body: null, error }) as GatewayReply);
    const unreachable = direct.status === 0;
    results.push({
      attack: `${name} called directly, bypassing the gateway`,
      expected: 'refused (401/403) or unreachable',
      got: unreachable ? 'unreachable' : describe(direct),
      verdict: unreachable || direct.status === 401 || direct.status === 403 || direct.status === 404 ? 'PASS' : dataOf(direct) ? 'LEAK' : 'FAIL',
    });
  }
  return results;
}
