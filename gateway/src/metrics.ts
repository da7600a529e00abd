// Prometheus metrics of the identity path. One registry per gateway instance, so several
// gateways in one process (tests, the local stack) never share or clash over counters.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type AuthOutcome =
  | 'authenticated'
  | 'authenticated_unregistered'
  | 'anonymous_public_operation'
  | 'rejected'
  | 'unavailable';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly authOutcomes: Counter<'outcome' | 'reason'>;
  readonly tokenCache: Counter<'result'>;
  readonly identityCache: Counter<'layer' | 'result'>;
  readonly usersServiceDuration: Histogram<'outcome'>;
  readonly clientIdentityHeaders: Counter<'source' | 'mode'>;
  readonly redisErrors: Counter<'operation'>;
  readonly jwksRefreshes: Counter<'result'>;
  readonly idTokenFetches: Counter<'result'>;
  readonly requestsRefused: Counter<'limit'>;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    authOutcomes: new Counter({
      name: 'gateway_auth_total',
      help: 'Requests by authentication outcome; reason says why a request was rejected or could not be served.',
      labelNames: ['outcome', 'reason'],
      registers,
    }),
    tokenCache: new Counter({
      name: 'gateway_token_cache_total',
      help: 'Verified-token cache lookups (a hit skips the signature check).',
      labelNames: ['result'],
      registers,
    }),
    identityCache: new Counter({
      name: 'gateway_identity_cache_total',
      help: 'Supabase id to internal id cache lookups, by layer (memory, redis).',
      labelNames: ['layer', 'result'],
      registers,
    }),
    usersServiceDuration: new Histogram({
      name: 'gateway_users_service_lookup_seconds',
      help: 'Duration of internal id lookups against users_service, by outcome (found, not_found, error).',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    clientIdentityHeaders: new Counter({
      name: 'gateway_client_identity_headers_total',
      help: 'Requests in which a client sent x-internal-id or x-supabase-id, by where it was sent and what the gateway did (ignore: dropped, reject: 400).',
      labelNames: ['source', 'mode'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'gateway_redis_errors_total',
      help: 'Redis commands that failed; the gateway served those requests through users_service.',
      labelNames: ['operation'],
      registers,
    }),
    jwksRefreshes: new Counter({
      name: 'gateway_jwks_refresh_total',
      help: 'Fetches of the Supabase JWKS, by result.',
      labelNames: ['result'],
      registers,
    }),
    idTokenFetches: new Counter({
      name: 'gateway_id_token_fetch_total',
      help: 'Google ID tokens fetched from the metadata server for subgraph calls, by result.',
      labelNames: ['result'],
      registers,
    }),
    requestsRefused: new Counter({
      name: 'gateway_requests_refused_total',
      help: 'Requests or operations refused by a limit before any subgraph was called, by limit (body_size, batch_size, characters, tokens, depth, aliases, directives, cost, internal_field, rate_user, rate_address).',
      labelNames: ['limit'],
      registers,
    }),
  };
}
