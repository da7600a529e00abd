// Everything the gateway needs to establish identity, built from its options: the Supabase keys
// and token verifier, Google ID tokens for subgraph calls, the Redis connection, the identity
// cache and users_service lookup, and the authenticator that puts them together.

import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from '@graphql-hive/gateway';
import { bearerToken, createAuthenticator, type Authenticator } from './authenticate.ts';
import { lookupOperationName } from './config.ts';
import { audienceFor, createIdTokenSource, type IdTokenSource } from './id-tokens.ts';
import { createIdentityResolver, type IdentityResolver } from './identity.ts';
import { RemoteJwks } from './jwks.ts';
import type { GatewayMetrics } from './metrics.ts';
import { DEFAULTS, type GatewayOptions } from './options.ts';
import { closeRedis, connectRedis } from './redis-connection.ts';
import { RedisIdentityStore } from './redis-store.ts';
import { NO_REVOCATIONS, watchRevokedSessions } from './revoked-sessions.ts';
import { createUsersLookup } from './users-lookup.ts';
import { createTokenVerifier } from './verify.ts';

export interface IdentityServices {
  jwks: RemoteJwks;
  idTokens?: IdTokenSource;
  /** The gateway's one Redis connection, also used by the rate limits; absent without REDIS_URL. */
  redis?: Redis;
  store?: RedisIdentityStore;
  identities: IdentityResolver;
  authenticator: Authenticator;
  /** The Supabase id behind an Authorization value whose token was verified before; no I/O. */
  knownSubject(authorization: string): string | undefined;
  /** Whether an Authorization value carries a token verified before, not counted as a cache hit. */
  verifiedBefore(authorization: string): boolean;
  legacyHs256: boolean;
  close(): Promise<void>;
}

export function createIdentityServices(options: GatewayOptions, publicDocuments: ReadonlySet<string>, log: Logger, metrics: GatewayMetrics, redisStillDownLogMs?: number): IdentityServices {
  const supabaseUrl = options.supabaseUrl.replace(/\/+$/, '');
  const jwks = new RemoteJwks({ url: `${supabaseUrl}/auth/v1/.well-known/jwks.json`, log, metrics });
  void jwks.warmUp();
  const legacySecret = options.supabaseJwtSecretFile
    ? new TextEncoder().encode(readFileSync(options.supabaseJwtSecretFile, 'utf8').trim())
    : undefined;
  const verifier = createTokenVerifier({
    supabaseUrl,
    jwks,
    legacySecret,
    clockToleranceSeconds: options.jwtClockToleranceSeconds ?? DEFAULTS.jwtClockToleranceSeconds,
    maxTokenBytes: DEFAULTS.maxTokenBytes,
    cacheMaxEntries: DEFAULTS.tokenCacheEntries,
    metrics,
  });

  const idTokens = options.subgraphIdTokens
    ? createIdTokenSource({ metadataHost: options.gceMetadataHost ?? DEFAULTS.gceMetadataHost, metrics })
    : undefined;
  const redis = options.redisUrl
    ? connectRedis({
        url: options.redisUrl,
        password: options.redisPasswordFile ? readFileSync(options.redisPasswordFile, 'utf8').trim() : undefined,
        commandTimeoutMs: DEFAULTS.redisCommandTimeoutMs,
      })
    : undefined;
  const store = redis ? new RedisIdentityStore({ client: redis, keyPrefix: options.redisKeyPrefix ?? DEFAULTS.redisKeyPrefix, log, metrics, stillDownLogMs: redisStillDownLogMs }) : undefined;
  const lookupQuery = options.usersLookupQuery ?? DEFAULTS.usersLookupQuery;
  const usersServiceUrl = options.usersServiceUrl;
  const lookup = createUsersLookup({
    url: usersServiceUrl,
    query: lookupQuery,
    operationName: lookupOperationName(lookupQuery),
    resultPath: options.usersLookupPath ?? DEFAULTS.usersLookupPath,
    timeoutMs: options.usersServiceTimeoutMs ?? DEFAULTS.usersServiceTimeoutMs,
    metrics,
    headers: idTokens ? async () => ({ authorization: `Bearer ${await idTokens.get(audienceFor(usersServiceUrl))}` }) : undefined,
  });
  const ttlSeconds = options.identityCacheTtlSeconds ?? DEFAULTS.identityCacheTtlSeconds;
  const identities = createIdentityResolver({
    lookup,
    store,
    ttlSeconds,
    memoryTtlSeconds: store ? Math.min(ttlSeconds, DEFAULTS.identityMemoryTtlSecondsWithRedis) : ttlSeconds,
    unregisteredTtlSeconds: options.unregisteredCacheTtlSeconds ?? DEFAULTS.unregisteredCacheTtlSeconds,
    memoryMaxEntries: DEFAULTS.identityMemoryEntries,
    metrics,
  });
  const revoked = options.revokedSessionsFile
    ? watchRevokedSessions(options.revokedSessionsFile, { reloadMs: (options.revokedSessionsReloadSeconds ?? DEFAULTS.revokedSessionsReloadSeconds) * 1000, log })
    : NO_REVOCATIONS;
  const authenticator = createAuthenticator({
    verifier,
    identities,
    revoked,
    publicDocuments,
    clientInternalIdMode: options.clientInternalIdMode ?? DEFAULTS.clientInternalIdMode,
    metrics,
    log,
  });
  return {
    jwks,
    idTokens,
    redis,
    store,
    identities,
    authenticator,
    knownSubject(authorization) {
      const token = bearerToken(authorization);
      return typeof token === 'string' ? verifier.cached(token)?.sub : undefined;
    },
    verifiedBefore(authorization) {
      const token = bearerToken(authorization);
      return typeof token === 'string' && verifier.verifiedBefore(token);
    },
    legacyHs256: legacySecret !== undefined,
    close: async () => {
      revoked.close();
      store?.close();
      if (redis) await closeRedis(redis);
    },
  };
}
