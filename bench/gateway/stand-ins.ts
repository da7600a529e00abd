// What the benchmarked gateway talks to, kept lean so it costs as little CPU as possible: a
// Supabase-style JWKS endpoint with a real ES256 key, and one subgraph that is also users_service
// (it counts the id lookups, which the burst benchmark reports). The supergraph is composed from
// the subgraph's real SDL.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { composeServices, compositionHasErrors } from '@theguild/federation-composition';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { me(client: Int): Me!, userBySupabaseId(supabaseId: String!): User }
  type Me { internalId: String, plan: String! }
  type User @key(fields: "id") { id: ID! }
`;

export interface StandIns {
  supabaseUrl: string;
  usersUrl: string;
  supergraphPath: string;
  privateJwk: JWK;
  lookups(): number;
  sign(sub: string, lifetimeSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  // The gateway keeps its connections to a subgraph open; a stand-in that closed them after
  // node's 5 s default would race the gateway's next request on them whenever the gateway paused
  // longer (a full collection under callgrind does), and the request would fail for that.
  server.keepAliveTimeout = 120_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

export async function startStandIns(): Promise<StandIns> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'bench-key';
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  const auth = createServer((req, res) => {
    if (req.url === '/auth/v1/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    else res.writeHead(404).end();
  });
  const supabaseUrl = await listen(auth);

  // A hand-written subgraph answer instead of a GraphQL server: on two cores, a full subgraph
  // would be the bottleneck and hide the gateway's own cost, which is what is measured here.
  let lookups = 0;
  const users = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as { query?: string; variables?: Record<string, unknown> };
      let data: unknown;
      if (body.query?.includes('userBySupabaseId')) {
        lookups++;
        data = { userBySupabaseId: { id: `iid-${String(body.variables?.['supabaseId'])}` } };
      } else {
        data = { me: { __typename: 'Me', internalId: (req.headers['x-internal-id'] as string | undefined) ?? null, plan: 'free' } };
      }
      const text = JSON.stringify({ data });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  });
  const usersOrigin = await listen(users);
  const usersUrl = `${usersOrigin}/graphql`;

  const composed = composeServices([{ name: 'users', typeDefs: parse(SDL), url: usersUrl }]);
  if (compositionHasErrors(composed)) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);

  return {
    supabaseUrl,
    usersUrl,
    supergraphPath,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    lookups: () => lookups,
    sign: (sub, lifetimeSeconds = 3600) => signToken(privateKey, kid, supabaseUrl, sub, lifetimeSeconds),
    async close() {
      for (const s of [auth, users]) s.closeAllConnections();
      await Promise.all([auth, users].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

export function signToken(privateKey: CryptoKey, kid: string, supabaseUrl: string, sub: string, lifetimeSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'authenticated', email: `${sub}@example.com` })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(`${supabaseUrl}/auth/v1`)
    .setAudience('authenticated')
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .sign(privateKey);
}
