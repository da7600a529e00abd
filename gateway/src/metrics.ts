// Prometheus metrics of the identity path. One registry per gateway instance, so several
// gateways in one process (tests, the local stack) never share or clash over counters.

import { Counter, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';

/** A counter's labelled child for the per-request path. */
export interface HotCounter {
  inc(): void;
}

// prom-client hashes the label set on every increment, even through a child from labels(), which
// showed in the gateway's request profile. A hot child counts in a plain number instead and hands
// the count over whenever the counter is read (its collect hook runs on every scrape and get()).
const hotChildren = new WeakMap<object, { labels: LabelValues<string>; pending: number }[]>();

function handOverHotCounts(this: Counter<string>): void {
  for (const child of hotChildren.get(this) ?? []) {
    if (child.pending === 0) continue;
    this.inc(child.labels, child.pending);
    child.pending = 0;
  }
}

export function hotCounter<T extends string>(counter: Counter<T>, labels: LabelValues<T>): HotCounter {
  const child = { labels: labels as LabelValues<string>, pending: 0 };
  const children = hotChildren.get(counter) ?? [];
  children.push(child);
  hotChildren.set(counter, children);
  return {
    inc() {
      child.pending++;
    },
  };
}

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
      collect: handOverHotCounts,
    }),
    tokenCache: new Counter({
      name: 'gateway_token_cache_total',
      help: 'Verified-token cache lookups (a hit skips the signature check).',
      labelNames: ['result'],
      registers,
      collect: handOverHotCounts,
    }),
    identityCache: new Counter({
      name: 'gateway_identity_cache_total',
      help: 'Supabase id to internal id cache lookups, by layer (memory, redis).',
      labelNames: ['layer', 'result'],
      registers,
      collect: handOverHotCounts,
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
