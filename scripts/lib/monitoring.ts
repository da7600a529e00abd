// Reading Cloud Monitoring from a script. gcloud has no command that reads time series, so the
// status screen asks the Monitoring API's PromQL endpoint (one number per series, no paging) and
// its alerts list with curl, the token fed on stdin so it never reaches a command line.

import { curl, gcloud } from './cli.ts';
import { runtimeVar, type Command } from './command.ts';
import { PROJECT_ID } from './gcp.ts';

export const ACCESS_TOKEN = runtimeVar('ACCESS_TOKEN', true);
export const readAccessToken = gcloud`auth print-access-token`.captureInto(ACCESS_TOKEN);

// The token is a header read from stdin (`curl -H @-`); the quota project is named because user
// credentials need it for some APIs.
const BEARER = 'Authorization: Bearer %s';

/** One of the gateway's log-based metrics (infra/modules/monitoring/log-metrics.tf; a test keeps them equal). */
export interface GatewayLogMetric {
  name: string;
  /** What the panel calls it. */
  title: string;
  labels: readonly string[];
}

export const GATEWAY_LOG_METRICS: readonly GatewayLogMetric[] = [
  { name: 'gateway_client_identity_headers', title: 'client identity headers', labels: ['source', 'mode'] },
  { name: 'gateway_auth_refusals', title: 'auth refusals', labels: ['code'] },
  { name: 'gateway_identity_lookup_failures', title: 'identity lookups failed closed', labels: [] },
  { name: 'gateway_redis_unavailable', title: 'Redis unavailable', labels: [] },
  { name: 'gateway_jwks_refresh_failures', title: 'JWKS refresh failures', labels: [] },
  { name: 'gateway_requests_refused', title: 'requests refused by limits', labels: ['limit'] },
];

/** Cloud Monitoring's PromQL name for a log-based metric (first `/` -> `:`, other specials -> `_`). */
export const promName = (logMetric: string) => `logging_googleapis_com:user_${logMetric}`;

const onCloudRun = '{monitored_resource="cloud_run_revision"}';
const sumBy = (labels: readonly string[]) => (labels.length ? `sum by (${labels.join(', ')})` : 'sum');

export const WINDOW = '1h';
export const CUTOVER_WINDOW = '7d';

export const QUERIES = {
  requests: `sum by (service_name, response_code_class) (increase(run_googleapis_com:request_count${onCloudRun}[${WINDOW}]))`,
  p95: `histogram_quantile(0.95, sum by (service_name, le) (increase(run_googleapis_com:request_latencies_bucket${onCloudRun}[${WINDOW}])))`,
  clientIdentityHeaders7d: `sum (increase(${promName('gateway_client_identity_headers')}${onCloudRun}[${CUTOVER_WINDOW}]))`,
  ...Object.fromEntries(GATEWAY_LOG_METRICS.map((m) => [m.name, `${sumBy(m.labels)} (increase(${promName(m.name)}${onCloudRun}[${WINDOW}]))`])),
} as Record<string, string>;

export const promQuery = (query: string) =>
  curl`--fail-with-body --silent --show-error --max-time 8 -G -H @- -H "x-goog-user-project: "${PROJECT_ID} https://monitoring.googleapis.com/v1/projects/${PROJECT_ID}/location/global/prometheus/api/v1/query --data-urlencode ${`query=${query}`}`.withStdin(
    ACCESS_TOKEN,
    BEARER,
  );

export const queryCommands: Readonly<Record<string, Command>> = Object.fromEntries(Object.entries(QUERIES).map(([k, q]) => [k, promQuery(q)]));

/** Alerts (incidents) that are open now. */
export const listOpenAlerts = curl`--fail-with-body --silent --show-error --max-time 8 -G -H @- -H "x-goog-user-project: "${PROJECT_ID} https://monitoring.googleapis.com/v3/projects/${PROJECT_ID}/alerts --data-urlencode 'filter=state = "OPEN"'`.withStdin(
  ACCESS_TOKEN,
  BEARER,
);

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus HTTP API's answer to an instant query, as one value per series. */
export function parsePromResponse(body: string): Sample[] {
  const doc = JSON.parse(body) as { status?: string; error?: string; data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] } };
  if (doc.status !== 'success') throw new Error(`the query failed: ${doc.error ?? body.slice(0, 200)}`);
  if (doc.data?.resultType !== 'vector') throw new Error(`expected a vector, got ${doc.data?.resultType ?? 'nothing'}`);
  return (doc.data.result ?? []).map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) }));
}

export interface OpenAlert {
  policy: string;
  opened: string;
  severity?: string;
}

export function parseAlerts(body: string): OpenAlert[] {
  const doc = JSON.parse(body) as { alerts?: { state?: string; openTime?: string; policy?: { displayName?: string; severity?: string } }[] };
  return (doc.alerts ?? [])
    .filter((a) => (a.state ?? 'OPEN') === 'OPEN')
    .map((a) => ({ policy: a.policy?.displayName ?? 'unnamed policy', opened: a.openTime ?? 'unknown', severity: a.policy?.severity }));
}

/** Why a Monitoring API call failed, in a line: Google's error message when it sent one. */
export function apiFailure(stdout: string, stderr: string, exitCode: number): string {
  try {
    const doc = JSON.parse(stdout) as { error?: { code?: number; status?: string; message?: string } | string };
    if (doc.error && typeof doc.error === 'object') return `${doc.error.code ?? ''} ${doc.error.status ?? ''}: ${doc.error.message ?? ''}`.trim();
    if (typeof doc.error === 'string') return doc.error;
  } catch {
    // not JSON: curl's own message says more
  }
  return (stderr.trim().split('\n').pop() ?? '') || `curl exited ${exitCode}`;
}
