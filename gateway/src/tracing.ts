// The gateway's own spans (HTTP request, parse, validate, execute, each subgraph call), made by
// Hive Gateway's OpenTelemetry plugin and exported over OTLP to Cloud Trace's telemetry endpoint,
// with an access token from the metadata server fetched per export (tokens last an hour; a token
// read once at start-up would stop the export after that). Off unless asked for: production sets
// TRACE_EXPORTER=cloud-trace (which needs GOOGLE_CLOUD_PROJECT); locally spans go nowhere, or to
// the console with TRACE_EXPORTER=console.
//
// OpenTelemetry's tracer provider, context manager and propagator are process-wide, so setup runs
// once per process; a second gateway in the same process with other settings is refused.

import { openTelemetrySetup } from '@graphql-hive/gateway/opentelemetry/setup';
import { fetch } from './http-client.ts';
import { useOpenTelemetry } from '@graphql-hive/gateway/opentelemetry';
import type { GatewayPlugin, Logger } from '@graphql-hive/gateway';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';

export const TRACE_EXPORTERS = ['off', 'console', 'cloud-trace'] as const;
export type TraceExporterKind = (typeof TRACE_EXPORTERS)[number];

/** Google's OTLP endpoint for traces; Cloud Trace stores what arrives there. */
export const CLOUD_TRACE_OTLP_ENDPOINT = 'https://telemetry.googleapis.com/v1/traces';

export interface TracingSettings {
  exporter: TraceExporterKind;
  /** Share of requests traced when Cloud Run did not sample them itself (0..1). */
  sampleRatio: number;
  projectId: string | undefined;
  endpoint: string;
  metadataHost: string;
  serviceVersion: string;
  /** How long spans wait to be sent in a batch (tests shorten it). */
  batchDelayMs?: number;
}

/**
 * Cloud Run samples at most 0.1 requests per second per instance and says so in `traceparent`;
 * following only its decision would trace almost nothing. A request Cloud Run sampled is always
 * traced (its spans join Cloud Run's), any other with the configured ratio.
 */
export function traceSampler(ratio: number): Sampler {
  const own = ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio);
  return new ParentBasedSampler({ root: own, remoteParentSampled: new AlwaysOnSampler(), remoteParentNotSampled: own });
}

/** Access tokens of the instance's service account, from the metadata server, reused until shortly before they expire. */
export function metadataAccessTokens(metadataHost: string, timeoutMs = 3_000): () => Promise<string> {
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async () => {
    const response = await fetch(`http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/token`, {
      headers: { 'Metadata-Flavor': 'Google' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`metadata server answered HTTP ${response.status} for an access token`);
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error('metadata server answered without an access_token');
    cached = { token: body.access_token, refreshAt: Date.now() + Math.max(0, (body.expires_in ?? 300) - 60) * 1000 };
    return body.access_token;
  };
  return () => {
    if (cached && cached.refreshAt > Date.now()) return Promise.resolve(cached.token);
    pending ??= fetchToken().finally(() => (pending = undefined));
    return pending;
  };
}

let registered: string | undefined;

/** Sets up tracing for the process and returns the plugin that makes the spans; null when off. */
export function setupTracing(settings: TracingSettings, log: Logger): GatewayPlugin | null {
  if (settings.exporter === 'off') return null;
  const key = JSON.stringify(settings);
  if (registered !== undefined) {
    if (registered !== key) throw new Error('tracing is already set up in this process with other settings (OpenTelemetry is process-wide)');
  } else {
    const resource = resourceFromAttributes({
      'service.name': 'gateway',
      'service.version': settings.serviceVersion,
      ...(settings.projectId ? { 'gcp.project_id': settings.projectId } : {}),
    });
    const common = { contextManager: new AsyncLocalStorageContextManager(), resource, sampler: traceSampler(settings.sampleRatio), log } as const;
    if (settings.exporter === 'console') {
      openTelemetrySetup({ ...common, traces: { console: true } });
    } else {
      const token = metadataAccessTokens(settings.metadataHost);
      const exporter = new OTLPTraceExporter({
        url: settings.endpoint,
        // Called for every export, so the token is always a fresh one.
        headers: async () => ({ authorization: `Bearer ${await token()}`, 'x-goog-user-project': settings.projectId! }),
      });
      openTelemetrySetup({ ...common, traces: { exporter, batching: { scheduledDelayMillis: settings.batchDelayMs ?? 5_000 } } });
    }
    registered = key;
  }
  // Context from Cloud Run's traceparent in, the gateway's own spans' context out to the subgraphs.
  return useOpenTelemetry({ traces: true, inheritContext: true, propagateContext: true }) as GatewayPlugin;
}
