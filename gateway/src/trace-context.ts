// Cloud Run traces every incoming request on its own and hands the trace to the container in the
// W3C `traceparent` header. The gateway passes it on to the subgraphs, so their spans join the
// same trace, and writes it into each log line a request causes (Cloud Logging's
// `logging.googleapis.com/trace` field), so Logs Explorer nests the lines under the request and
// Cloud Trace shows them beside its spans. No spans of the gateway's own are exported here.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { GatewayPlugin } from '@graphql-hive/gateway';

export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
  /** The header as received, to pass on. */
  traceparent: string;
}

// version 00: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>; all-zero ids are invalid.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: string | string[] | undefined): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1, traceparent: `00-${m[1]}-${m[2]}-${m[3]}` };
}

/** The trace of the request being handled, for the log writer. */
export const requestTrace = new AsyncLocalStorage<TraceContext>();

/** Cloud Logging's fields for the current request's trace; none outside a traced request or without a project. */
export function traceLogFields(projectId: string | undefined): Record<string, unknown> {
  const trace = requestTrace.getStore();
  if (!trace || !projectId) return {};
  return {
    'logging.googleapis.com/trace': `projects/${projectId}/traces/${trace.traceId}`,
    'logging.googleapis.com/spanId': trace.spanId,
    'logging.googleapis.com/trace_sampled': trace.sampled,
  };
}

/** Passes a valid incoming `traceparent` on to every subgraph call of the request. */
export function useTraceparentPropagation(): GatewayPlugin {
  return {
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const request = (executionRequest.context as { request?: Request } | undefined)?.request;
      const trace = parseTraceparent(request?.headers.get('traceparent') ?? undefined);
      if (!trace) return;
      const headers = { ...((executionRequest.extensions?.['headers'] as Record<string, string> | undefined) ?? {}), traceparent: trace.traceparent };
      setExecutionRequest({ ...executionRequest, extensions: { ...executionRequest.extensions, headers } });
    },
  };
}
