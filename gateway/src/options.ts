// The gateway's settings as an object: one field per environment variable (see config.ts for the
// variables and docs/infrastructure/gateway-auth.md for what each one does), plus defaults.

import type { TraceExporterKind } from './tracing.ts';
import type { LogLevel } from '@graphql-hive/gateway';
import type { ClientInternalIdMode } from './authenticate.ts';
import type { LogSink } from './log.ts';
import { DEFAULT_USERS_LOOKUP_PATH, DEFAULT_USERS_LOOKUP_QUERY } from './users-lookup.ts';

export interface GatewayOptions {
  /** PORT; 0 picks a free port. */
  port?: number;
  /** HOST; default 0.0.0.0 in production (Cloud Run), 127.0.0.1 otherwise. */
  host?: string;
  /** METRICS_PORT: Prometheus /metrics on its own port, never on the public one; 0 picks a free port. */
  metricsPort?: number;
  /** METRICS_HOST: the metrics listener's address; 127.0.0.1 unless said otherwise. */
  metricsHost?: string;
  /** SUPABASE_URL, e.g. https://<ref>.supabase.co */
  supabaseUrl: string;
  /** SUPABASE_JWT_SECRET_FILE: enables legacy HS256 tokens. */
  supabaseJwtSecretFile?: string;
  /** JWT_CLOCK_TOLERANCE_SECONDS */
  jwtClockToleranceSeconds?: number;
  /** USERS_SERVICE_URL: users_service's GraphQL endpoint. */
  usersServiceUrl: string;
  /** USERS_LOOKUP_QUERY */
  usersLookupQuery?: string;
  /** USERS_LOOKUP_PATH: dot path of the id inside the answer's `data`. */
  usersLookupPath?: string;
  /** USERS_SERVICE_TIMEOUT_MS */
  usersServiceTimeoutMs?: number;
  /** REDIS_URL: without it, the in-process cache only. */
  redisUrl?: string;
  /** REDIS_PASSWORD_FILE: the Memorystore AUTH string, mounted from Secret Manager. */
  redisPasswordFile?: string;
  /** REDIS_KEY_PREFIX */
  redisKeyPrefix?: string;
  /** IDENTITY_CACHE_TTL_SECONDS */
  identityCacheTtlSeconds?: number;
  /** UNREGISTERED_CACHE_TTL_SECONDS: how long "no internal id yet" is remembered. */
  unregisteredCacheTtlSeconds?: number;
  /** CLIENT_INTERNAL_ID_MODE */
  clientInternalIdMode?: ClientInternalIdMode;
  /** PUBLIC_OPERATIONS: sha256 hashes of trusted documents anonymous callers may run. */
  publicOperations?: string[];
  /** TRUSTED_DOCUMENTS_FILE: manifest of trusted documents (persisted operations) by sha256. */
  trustedDocumentsFile?: string;
  /** REQUIRE_TRUSTED_DOCUMENTS: true refuses arbitrary documents from signed-in callers too. */
  requireTrustedDocuments?: boolean;
  /** INTERNAL_FIELDS: Type.field entries clients may not query, besides the identity lookup's field. */
  internalFields?: string[];
  /** MAX_REQUEST_BYTES: larger request bodies are refused with 413 before they are read. */
  maxRequestBytes?: number;
  /** MAX_BATCH_OPERATIONS: operations per batched request. */
  maxBatchOperations?: number;
  /** MAX_DOCUMENT_CHARACTERS: characters per document, checked before parsing. */
  maxDocumentCharacters?: number;
  /** MAX_TOKENS: lexical tokens per document, counted while parsing. */
  maxTokens?: number;
  /** MAX_DEPTH: nesting of selections, fragments flattened. */
  maxDepth?: number;
  /** MAX_ALIASES: aliases per operation. */
  maxAliases?: number;
  /** MAX_DIRECTIVES: directives per operation. */
  maxDirectives?: number;
  /** MAX_COST: GraphQL Armor's cost estimate per operation. */
  maxCost?: number;
  /** RATE_LIMIT_WINDOW_SECONDS: length of a rate-limit window. */
  rateLimitWindowSeconds?: number;
  /** RATE_LIMIT_PER_USER: operations per window per signed-in user; 0 switches it off. */
  rateLimitPerUser?: number;
  /** RATE_LIMIT_BURST_PER_USER: operations per second per signed-in user on one instance; 0 switches it off. */
  rateLimitBurstPerUser?: number;
  /** RATE_LIMIT_PER_ADDRESS: operations per window per client address without a token; 0 switches it off. */
  rateLimitPerAddress?: number;
  /** RATE_LIMIT_KEY_PREFIX: Redis key prefix of the shared counters. */
  rateLimitKeyPrefix?: string;
  /** TRUSTED_PROXY_HOPS: proxies in front of the gateway that append to X-Forwarded-For (Cloud Run: 1). */
  trustedProxyHops?: number;
  /** FRONT_DOOR_HOST: host name of a load balancer in front of Cloud Run's front end; requests naming it passed one more proxy. */
  frontDoorHost?: string;
  /** SUPERGRAPH: file path or URL. */
  supergraph?: string;
  /** GOOGLE_CLOUD_PROJECT: names the trace in log lines of traced requests (Cloud Run: set by infra). */
  googleCloudProject?: string;
  /** TRACE_EXPORTER: off (default), console, or cloud-trace (needs GOOGLE_CLOUD_PROJECT; production sets it). */
  traceExporter?: TraceExporterKind;
  /** TRACE_SAMPLE_RATIO: share of requests traced that Cloud Run did not sample (0..1). */
  traceSampleRatio?: number;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: where spans go (default Google's OTLP endpoint for Cloud Trace). */
  traceEndpoint?: string;
  /** REVOKED_SESSIONS_FILE: users whose tokens issued before a time are refused (revoked-sessions.ts). */
  revokedSessionsFile?: string;
  /** REVOKED_SESSIONS_RELOAD_SECONDS: how often that file is read again. */
  revokedSessionsReloadSeconds?: number;
  /** HIVE_CDN_ENDPOINT */
  hiveCdnEndpoint?: string;
  /** HIVE_CDN_KEY */
  hiveCdnKey?: string;
  /** SUPERGRAPH_POLL_SECONDS: how often a supergraph URL or the CDN is polled. */
  supergraphPollSeconds?: number;
  /** SUBGRAPH_ID_TOKENS */
  subgraphIdTokens?: boolean;
  /** GCE_METADATA_HOST */
  gceMetadataHost?: string;
  /** IMAGE_TAG: reported as the version. */
  imageTag?: string;
  /** NODE_ENV */
  nodeEnv?: string;
  /** LOG_LEVEL */
  logLevel?: LogLevel;
  /** SHUTDOWN_TIMEOUT_SECONDS: how long SIGTERM waits for in-flight requests. */
  shutdownTimeoutSeconds?: number;
  /** Where log lines go (default stdout); not an environment variable. */
  logSink?: LogSink;
}

export const DEFAULTS = {
  port: 4000,
  metricsPortFromEnv: 9464,
  metricsHost: '127.0.0.1',
  jwtClockToleranceSeconds: 30,
  usersLookupQuery: DEFAULT_USERS_LOOKUP_QUERY,
  usersLookupPath: DEFAULT_USERS_LOOKUP_PATH,
  usersServiceTimeoutMs: 2_000,
  redisKeyPrefix: 'mindmirror:gateway:sub2iid:',
  identityCacheTtlSeconds: 3_600,
  unregisteredCacheTtlSeconds: 5,
  clientInternalIdMode: 'ignore' as ClientInternalIdMode,
  supergraphPollSeconds: 60,
  traceSampleRatio: 0.1,
  revokedSessionsReloadSeconds: 30,
  gceMetadataHost: 'metadata.google.internal',
  imageTag: 'dev',
  logLevel: 'info' as LogLevel,
  shutdownTimeoutSeconds: 8,
  maxTokenBytes: 8 * 1024,
  tokenCacheEntries: 50_000,
  identityMemoryEntries: 50_000,
  /** With Redis shared, memory keeps a mapping at most this long so Redis stays the truth. */
  identityMemoryTtlSecondsWithRedis: 60,
  redisCommandTimeoutMs: 250,
  // Limits for a mobile and web app's API: the apps' own documents are a few hundred tokens, at
  // most 6 levels deep, with a handful of aliases; each default leaves room above that and stays
  // far below what costs the gateway measurable time (docs/infrastructure/gateway-auth.md).
  maxRequestBytes: 100 * 1024,
  maxBatchOperations: 10,
  maxDocumentCharacters: 15_000,
  maxTokens: 1_000,
  maxDepth: 10,
  maxAliases: 10,
  maxDirectives: 10,
  maxCost: 5_000,
  rateLimitWindowSeconds: 60,
  rateLimitPerUser: 600,
  rateLimitBurstPerUser: 60,
  rateLimitPerAddress: 120,
  rateLimitKeyPrefix: 'mindmirror:gateway:rate:',
  trustedProxyHops: 0,
  /** Distinct rate-limit buckets one instance remembers; beyond that the least recently used go. */
  rateLimitBuckets: 100_000,
  /** How often an instance adds its counts to the shared ones in Redis and reads them back. */
  rateLimitSyncMs: 100,
} as const;

export function isProduction(options: Pick<GatewayOptions, 'nodeEnv'>): boolean {
  return options.nodeEnv === 'production';
}
