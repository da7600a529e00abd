// startGateway(): the whole gateway in-process — Hive Gateway runtime with the identity plugin,
// the HTTP server with security headers and operational endpoints, GraphQL over WebSocket, and
// Prometheus metrics on a port of their own. main.ts runs it from the environment; tests and the
// local stack call it directly.

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterBody, limitRequestBody } from './body-limit.ts';
import { problemsWith, redactUrl } from './config.ts';
import { answerOperationalRequest, applySecurityHeaders, type Readiness } from './http-responses.ts';
import { createIdentityServices } from './identity-services.ts';
import type { SignedInRequests } from './identity-plugin.ts';
import { lookupFieldsOf } from './internal-fields.ts';
import { createLogger } from './log.ts';
import { createMetricsServer } from './metrics-server.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { DEFAULTS, isProduction, type GatewayOptions } from './options.ts';
import { parseBodyFirst, whoseBodyFirst } from './parsed-body.ts';
import { createProtections, type ProtectionPart } from './protections.ts';
import { createRefusals } from './refusals.ts';
import { createRuntime, GRAPHQL_PATH } from './runtime.ts';
import { readTrustedDocuments } from './trusted-documents.ts';
import { attachWebSocketEndpoint } from './websocket.ts';
import { parseTraceparent, requestTrace } from './trace-context.ts';
import { CLOUD_TRACE_OTLP_ENDPOINT, setupTracing } from './tracing.ts';

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
  /** false runs the same gateway without limits, rate limits, internal fields and hidden hints: the benchmark's baseline only. */
  protections?: boolean;
  /** Protections left out one by one: the benchmark's measure of what each costs, only. */
  leaveOut?: readonly ProtectionPart[];
  /** true restores Hive's merging of identical in-flight subgraph requests (tests of the second layer). */
  mergeIdenticalSubgraphRequests?: boolean;
  /** How often a Redis outage is logged again while it lasts (default a minute; tests shorten it). */
  redisStillDownLogMs?: number;
  /** How long spans wait to be exported in a batch (default 5 s; tests shorten it). */
  traceBatchDelayMs?: number;
}

/** Longer than the 600 s Google's load balancers keep a connection to their backend open. */
const KEEP_ALIVE_MS = 620_000;

export class GatewayConfigError extends Error {
  override readonly name = 'GatewayConfigError';
  constructor(readonly problems: string[]) {
    super(`the gateway configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export async function startGateway(options: GatewayOptions, internals: GatewayInternals = {}): Promise<RunningGateway> {
  const problems = problemsWith(options);
  if (problems.length > 0) throw new GatewayConfigError(problems);

  const production = isProduction(options);
  const version = options.imageTag ?? DEFAULTS.imageTag;
  const host = options.host ?? (production ? '0.0.0.0' : '127.0.0.1');
  const shutdownTimeoutMs = (options.shutdownTimeoutSeconds ?? DEFAULTS.shutdownTimeoutSeconds) * 1000;
  const log = createLogger({ level: options.logLevel ?? DEFAULTS.logLevel, service: 'gateway', version, sink: options.logSink, traceProject: options.googleCloudProject });
  const metrics = createMetrics();
  const refusals = createRefusals({ log, metrics });
  const trustedDocuments = options.trustedDocumentsFile ? readTrustedDocuments(options.trustedDocumentsFile).manifest : undefined;
  const identity = internals.identity === false ? undefined : createIdentityServices(options, new Set(options.publicOperations ?? []), log, metrics, internals.redisStillDownLogMs);
  const signedIn: SignedInRequests = new WeakSet();
  const protections = createProtections(options, {
    production,
    enabled: internals.protections !== false,
    leaveOut: new Set(internals.leaveOut),
    refusals,
    metrics,
    redis: identity?.redis,
    knownSubject: identity?.knownSubject,
  });
  const { limits, maxRequestBytes, overLimit, bodyLimit, addressLimit } = protections;
  const readBodyFirst = whoseBodyFirst(identity, protections.enabled);
  const runtime = createRuntime({
    options,
    production,
    log,
    identity,
    signedIn,
    refusals,
    limits,
    internalFields: [...lookupFieldsOf(options.usersLookupQuery ?? DEFAULTS.usersLookupQuery), ...(options.internalFields ?? [])],
    rateLimiter: protections.rateLimiter,
    burstLimiter: protections.burstLimiter,
    rateLimits: protections.rateLimits,
    trustedDocuments,
    mergeIdenticalSubgraphRequests: internals.mergeIdenticalSubgraphRequests === true,
    protections: protections.enabled,
    leaveOut: protections.leaveOut,
    tracing: setupTracing(
      {
        // Off unless asked: a developer's shell often has GOOGLE_CLOUD_PROJECT set, and a local
        // gateway must not start sending spans to Google because of it. infra/ asks for cloud-trace.
        exporter: options.traceExporter ?? 'off',
        sampleRatio: options.traceSampleRatio ?? DEFAULTS.traceSampleRatio,
        projectId: options.googleCloudProject,
        endpoint: options.traceEndpoint ?? CLOUD_TRACE_OTLP_ENDPOINT,
        metadataHost: options.gceMetadataHost ?? DEFAULTS.gceMetadataHost,
        serviceVersion: version,
        batchDelayMs: internals.traceBatchDelayMs,
      },
      log,
    ),
  });
  let draining = false;
  const active = new Set<ServerResponse>();
  let onIdle: (() => void) | undefined;
  const endpoints = {
    service: 'gateway',
    version,
    readiness: async (): Promise<Readiness> => {
      const checks: Record<string, string> = {
        redis: identity?.store ? identity.store.state : 'disabled',
        jwks: identity?.jwks.loaded ? 'loaded' : 'not loaded',
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
    if (overLimit?.(req, res)) return;
    const trace = parseTraceparent(req.headers.traceparent);
    const serve = () => void (trace ? requestTrace.run(trace, () => runtime(req, res)) : runtime(req, res));
    const readBody = () => afterBody(parseBodyFirst(req, readBodyFirst), serve);
    afterBody(bodyLimit ? limitRequestBody(req, res, bodyLimit) : 'continue', () => (addressLimit ? afterBody(addressLimit(req, res), readBody) : readBody()));
  });
  // Google's front ends keep their connections to the gateway open up to 600 s between requests
  // and may send the next one on any of them; with Node's 5 s default the gateway can close one just
  // as a request is on its way, which the caller sees as a 502.
  // Closing idle connections is left to the front end; the timeouts of a request under way (its
  // headers within 60 s, the whole of it within 300 s) are Node's, unchanged.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  const webSockets = attachWebSocketEndpoint(server, runtime, {
    path: GRAPHQL_PATH,
    authenticator: identity?.authenticator,
    signedIn: trustedDocuments ? signedIn : undefined,
    maxPayloadBytes: maxRequestBytes,
    rateLimit: protections.webSocketRateLimit,
  });
  const metricsServer = createMetricsServer(metrics);

  const release = async () => {
    protections.close();
    await runtime.dispose();
    await identity?.close();
  };
  try {
    await listen(server, options.port ?? DEFAULTS.port, host);
    await listen(metricsServer, options.metricsPort ?? 0, options.metricsHost ?? DEFAULTS.metricsHost);
  } catch (error) {
    server.close();
    metricsServer.close();
    await release();
    throw error;
  }
  const url = baseUrl(server, host);
  const metricsUrl = baseUrl(metricsServer, options.metricsHost ?? DEFAULTS.metricsHost);
  log.info(
    {
      url,
      metricsUrl,
      supergraph: options.supergraph ? redactUrl(options.supergraph) : 'hive-cdn',
      redis: options.redisUrl ? redactUrl(options.redisUrl) : 'disabled (in-process cache only)',
      legacyHs256: identity?.legacyHs256 ?? false,
      subgraphIdTokens: identity?.idTokens !== undefined,
      clientInternalIdMode: options.clientInternalIdMode ?? DEFAULTS.clientInternalIdMode,
      trustedDocuments: trustedDocuments?.documents.size ?? 0,
      publicOperations: options.publicOperations?.length ?? 0,
      requireTrustedDocuments: options.requireTrustedDocuments === true,
      limits: { maxRequestBytes, ...limits },
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
        await release();
        log.info('gateway stopped');
      })();
      return closing;
    },
  };
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
