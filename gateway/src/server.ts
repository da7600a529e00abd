// startGateway(): the whole gateway in-process — Hive Gateway runtime with the identity plugin,
// the HTTP server with security headers and operational endpoints, GraphQL over WebSocket, and
// Prometheus metrics on a port of their own. main.ts runs it from the environment; tests and the
// local stack call it directly.

import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, type GatewayConfigSupergraph } from '@graphql-hive/gateway';
import { createAuthenticator } from './authenticate.ts';
import { lookupOperationName, problemsWith, redactUrl } from './config.ts';
import { answerOperationalRequest, applySecurityHeaders, type Readiness } from './http-responses.ts';
import { audienceFor, createIdTokenSource } from './id-tokens.ts';
import { createIdentityResolver } from './identity.ts';
import { useGatewayIdentity } from './identity-plugin.ts';
import { RemoteJwks } from './jwks.ts';
import { createLogger } from './log.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { DEFAULTS, isProduction, type GatewayOptions } from './options.ts';
import { RedisIdentityStore } from './redis-store.ts';
import { createUsersLookup } from './users-lookup.ts';
import { createTokenVerifier } from './verify.ts';
import { attachWebSocketEndpoint } from './websocket.ts';

export type { GatewayOptions } from './options.ts';

export interface RunningGateway {
  /** Base URL, e.g. http://127.0.0.1:4000; GraphQL is at `${url}/graphql`. */
  url: string;
  /** Base URL of the metrics listener; Prometheus text is at `${metricsUrl}/metrics`. */
  metricsUrl: string;
  metrics: GatewayMetrics;
  /** Stop taking requests, let in-flight ones finish (up to SHUTDOWN_TIMEOUT_SECONDS), release everything. */
  close(): Promise<void>;
}

/** Knobs that are deliberately not reachable from configuration. */
export interface GatewayInternals {
  /** false runs the same gateway without the identity plugin: the benchmark's baseline only. */
  identity?: boolean;
  /** true restores Hive's merging of identical in-flight subgraph requests (tests of the second layer). */
  mergeIdenticalSubgraphRequests?: boolean;
}

export class GatewayConfigError extends Error {
  override readonly name = 'GatewayConfigError';
  constructor(readonly problems: string[]) {
    super(`the gateway configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const GRAPHQL_PATH = '/graphql';

export async function startGateway(options: GatewayOptions, internals: GatewayInternals = {}): Promise<RunningGateway> {
  const problems = problemsWith(options);
  if (problems.length > 0) throw new GatewayConfigError(problems);

  const production = isProduction(options);
  const version = options.imageTag ?? DEFAULTS.imageTag;
  const host = options.host ?? (production ? '0.0.0.0' : '127.0.0.1');
  const shutdownTimeoutMs = (options.shutdownTimeoutSeconds ?? DEFAULTS.shutdownTimeoutSeconds) * 1000;
  const log = createLogger({ level: options.logLevel ?? DEFAULTS.logLevel, service: 'gateway', version, sink: options.logSink });
  const metrics = createMetrics();

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
  const store = options.redisUrl
    ? new RedisIdentityStore({
        url: options.redisUrl,
        password: options.redisPasswordFile ? readFileSync(options.redisPasswordFile, 'utf8').trim() : undefined,
        keyPrefix: options.redisKeyPrefix ?? DEFAULTS.redisKeyPrefix,
        commandTimeoutMs: DEFAULTS.redisCommandTimeoutMs,
        log,
        metrics,
      })
    : undefined;
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
  const authenticator = createAuthenticator({
    verifier,
    identities,
    publicOperations: new Set(options.publicOperations ?? []),
    clientInternalIdMode: options.clientInternalIdMode ?? DEFAULTS.clientInternalIdMode,
    metrics,
    log,
  });

  const remoteSupergraph = options.supergraph === undefined || /^https?:\/\//i.test(options.supergraph);
  const supergraph: GatewayConfigSupergraph['supergraph'] =
    options.supergraph ?? { type: 'hive', endpoint: options.hiveCdnEndpoint!, key: options.hiveCdnKey! };

  const runtime = withoutRuntimeSignalHandlers(() =>
    createGatewayRuntime({
      supergraph,
      pollingInterval: remoteSupergraph ? (options.supergraphPollSeconds ?? DEFAULTS.supergraphPollSeconds) * 1000 : undefined,
      logging: log,
      landingPage: false,
      graphiql: !production,
      disableIntrospection: production ? {} : undefined,
      graphqlEndpoint: GRAPHQL_PATH,
      batching: { limit: 10 },
      // Merging identical in-flight subgraph requests rarely applies when every request carries
      // its user's identity, costs a copy of every result, and would hand one user's answer to
      // another the day the merge key missed a header.
      transportEntries: { '*.http': { options: { deduplicateInflightRequests: internals.mergeIdenticalSubgraphRequests === true } } },
      plugins: () => (internals.identity === false ? [] : [useGatewayIdentity({ authenticator, identities, idTokens })]),
    }),
  );

  let draining = false;
  const active = new Set<ServerResponse>();
  let onIdle: (() => void) | undefined;
  const endpoints = {
    service: 'gateway',
    version,
    readiness: async (): Promise<Readiness> => {
      const checks: Record<string, string> = {
        redis: store ? store.state : 'disabled',
        jwks: jwks.loaded ? 'loaded' : 'not loaded',
      };
      if (draining) return { ready: false, checks: { ...checks, shutdown: 'draining' } };
      checks['supergraph'] = await supergraphState(runtime.getSchema);
      return { ready: checks['supergraph'] === 'loaded', checks };
    },
  };

  const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    active.add(res);
    res.once('close', () => {
      active.delete(res);
      if (active.size === 0) onIdle?.();
    });
    applySecurityHeaders(res);
    if (draining) res.setHeader('connection', 'close');
    if (answerOperationalRequest(req, res, endpoints)) return;
    void runtime(req, res);
  });
  const webSockets = attachWebSocketEndpoint(server, runtime, GRAPHQL_PATH, internals.identity === false ? undefined : authenticator);
  const metricsServer = createServer((req, res) => {
    applySecurityHeaders(res);
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });

  try {
    await listen(server, options.port ?? DEFAULTS.port, host);
    await listen(metricsServer, options.metricsPort ?? 0, host);
  } catch (error) {
    server.close();
    metricsServer.close();
    await runtime.dispose();
    await store?.close();
    throw error;
  }
  const url = baseUrl(server, host);
  const metricsUrl = baseUrl(metricsServer, host);
  log.info(
    {
      url,
      metricsUrl,
      supergraph: options.supergraph ? redactUrl(options.supergraph) : 'hive-cdn',
      redis: options.redisUrl ? redactUrl(options.redisUrl) : 'disabled (in-process cache only)',
      legacyHs256: legacySecret !== undefined,
      subgraphIdTokens: idTokens !== undefined,
      clientInternalIdMode: options.clientInternalIdMode ?? DEFAULTS.clientInternalIdMode,
      publicOperations: options.publicOperations ?? [],
    },
    'gateway listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    metricsUrl,
    metrics,
    close() {
      closing ??= (async () => {
        draining = true;
        log.info({ inFlight: active.size, graceMs: shutdownTimeoutMs }, 'shutting down: no new requests, draining in-flight ones');
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeIdleConnections();
        if (active.size > 0) {
          await new Promise<void>((done) => {
            const fuse = setTimeout(done, shutdownTimeoutMs);
            onIdle = () => {
              clearTimeout(fuse);
              done();
            };
          });
        }
        if (active.size > 0) log.warn({ inFlight: active.size }, 'shutdown grace period over; closing the remaining connections');
        await webSockets.close(1_000);
        server.closeAllConnections();
        await closed;
        await new Promise<void>((done) => metricsServer.close(() => done()));
        metricsServer.closeAllConnections();
        await runtime.dispose();
        await store?.close();
        log.info('gateway stopped');
      })();
      return closing;
    },
  };
}

/**
 * Hive's runtime registers process-wide SIGTERM/SIGINT handlers that dispose it at once, which
 * aborts in-flight requests. Shutdown belongs to whoever owns the process (main.ts drains first),
 * so the handlers it adds are removed again.
 */
function withoutRuntimeSignalHandlers<T>(create: () => T): T {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const created = create();
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return created;
}

async function supergraphState(getSchema: () => unknown): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const schema = await Promise.race([
      Promise.resolve(getSchema()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 2_000);
      }),
    ]);
    return schema ? 'loaded' : 'not loaded';
  } catch {
    return 'not loaded';
  } finally {
    clearTimeout(timer);
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function baseUrl(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}
