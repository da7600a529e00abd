// The identity plugin's own per-request work, alone and in this process: what a request with a
// cached token and user costs on top of the gateway (finding client identity headers, the token
// hash and cache, the identity cache, and rewriting the identity headers of the subgraph request
// and of its fetch). The throughput figures include the rest of the gateway; this separates the
// part identity adds from the noise of a shared two-core machine.

import { createAuthenticator, type OperationRequest } from '../../gateway/src/authenticate.ts';
import { NO_REVOCATIONS } from '../../gateway/src/revoked-sessions.ts';
import { clientIdentitySources, setIdentityHeaders } from '../../gateway/src/headers.ts';
import { createIdentityResolver } from '../../gateway/src/identity.ts';
import { RemoteJwks } from '../../gateway/src/jwks.ts';
import { createLogger } from '../../gateway/src/log.ts';
import { createMetrics } from '../../gateway/src/metrics.ts';
import { DEFAULTS } from '../../gateway/src/options.ts';
import { createTokenVerifier } from '../../gateway/src/verify.ts';
import type { StandIns } from './stand-ins.ts';

/** Microseconds of identity work per request, the median of `rounds` rounds of `perRound` requests. */
export async function identityCodeMicroseconds(standIns: StandIns, users: number, perRound = 100_000, rounds = 7): Promise<number> {
  const metrics = createMetrics();
  const log = createLogger({ level: 'error', service: 'gateway', version: 'bench', sink: () => {} });
  const jwks = new RemoteJwks({ url: `${standIns.supabaseUrl}/auth/v1/.well-known/jwks.json`, log, metrics });
  const verifier = createTokenVerifier({
    supabaseUrl: standIns.supabaseUrl,
    jwks,
    clockToleranceSeconds: DEFAULTS.jwtClockToleranceSeconds,
    maxTokenBytes: DEFAULTS.maxTokenBytes,
    cacheMaxEntries: DEFAULTS.tokenCacheEntries,
    metrics,
  });
  const identities = createIdentityResolver({
    lookup: async (supabaseId) => `iid-${supabaseId}`,
    ttlSeconds: 3600,
    memoryTtlSeconds: 3600,
    unregisteredTtlSeconds: 5,
    memoryMaxEntries: DEFAULTS.identityMemoryEntries,
    metrics,
  });
  const authenticator = createAuthenticator({ verifier, identities, publicDocuments: new Set(), clientInternalIdMode: 'ignore', revoked: NO_REVOCATIONS, metrics, log });
  const authorizations = await Promise.all(Array.from({ length: users }, async (_, i) => `Bearer ${await standIns.sign(`user-${i}`)}`));
  // The headers autocannon sends, as Node's http module hands them over.
  const requestHeaders = { host: '127.0.0.1:4000', connection: 'keep-alive', 'content-type': 'application/json', 'content-length': '96', authorization: '' };
  const operations: OperationRequest[] = [{ query: 'query Me($client: Int) { me(client: $client) { internalId plan } }' }];
  const request = (authorization: string) => {
    requestHeaders.authorization = authorization;
    return authenticator.authenticate({ transport: 'http', authorization, operations, clientIdentity: clientIdentitySources({ headers: requestHeaders, operations }) });
  };
  for (const authorization of authorizations) await request(authorization);

  const perRequest: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) {
      const identity = request(authorizations[i % users]!);
      if (identity instanceof Promise) throw new Error('a cached user took the asynchronous path');
      // onSubgraphExecute, then onFetch: each copies and rewrites the headers.
      const extensionHeaders: Record<string, string> = {};
      setIdentityHeaders(extensionHeaders, identity);
      const fetchHeaders = { accept: 'application/graphql-response+json, application/json', 'content-type': 'application/json', ...extensionHeaders };
      setIdentityHeaders(fetchHeaders, identity);
    }
    perRequest.push(Number(process.hrtime.bigint() - started) / 1000 / perRound);
  }
  perRequest.sort((a, b) => a - b);
  return perRequest[Math.floor(rounds / 2)]!;
}
