// A stand-in for the Cloud Monitoring API on 127.0.0.1, reached by the real curl the scripts run:
// a CURL_HOME/.curlrc sends monitoring.googleapis.com:443 here and trusts this server's own
// certificate, so the commands under test are byte for byte the production ones. It evaluates the
// PromQL forms the status screen uses over series a test seeds (anything else is a 400, as a bad
// query is), checks the bearer token gcloud printed, and serves the open-alerts list.

import { FAKE_ACCESS_TOKEN } from './gcloud.ts';
import { startFakeHttpsApi } from './https-api.ts';

export interface Series {
  name: string;
  labels: Record<string, string>;
  /** Per-interval counts (DELTA), or cumulative bucket counts for `_bucket` series; seconds since the epoch. */
  points: { t: number; v: number }[];
}

export interface FakeMonitoring {
  project: string;
  series: Series[];
  alerts: { state: 'OPEN' | 'CLOSED'; openTime: string; policy: { displayName: string; severity?: string } }[];
  /** Answer this API with an error instead ("prometheus" or "alerts"). */
  failing: Map<'prometheus' | 'alerts', { status: number; message: string }>;
  /** Every query asked, to check what the script asked for. */
  queries: string[];
  /** Environment for a process whose curl should reach this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

type Vector = { labels: Record<string, string>; value: number }[];

const DURATION = { s: 1, m: 60, h: 3600, d: 86400 } as const;

function parseMatchers(text: string): [string, string][] {
  if (text.trim() === '') return [];
  return text.split(',').map((m) => {
    const parts = /^\s*([A-Za-z_]\w*)="([^"]*)"\s*$/.exec(m);
    if (!parts) throw new Error(`unsupported matcher ${m}`);
    return [parts[1]!, parts[2]!];
  });
}

function evaluate(query: string, series: Series[], now: number): Vector {
  const q = query.trim();
  let m = /^histogram_quantile\(\s*([\d.]+)\s*,\s*(.+)\)$/s.exec(q);
  if (m) return histogramQuantile(Number(m[1]), evaluate(m[2]!, series, now));
  m = /^sum(?:\s+by\s*\(([^)]*)\))?\s*\((.+)\)$/s.exec(q);
  if (m) {
    const by = (m[1] ?? '').split(',').map((l) => l.trim()).filter(Boolean);
    const groups = new Map<string, Vector[number]>();
    for (const s of evaluate(m[2]!, series, now)) {
      const labels = Object.fromEntries(by.filter((l) => s.labels[l] !== undefined).map((l) => [l, s.labels[l]!]));
      const key = JSON.stringify(labels);
      const g = groups.get(key) ?? { labels, value: 0 };
      g.value += s.value;
      groups.set(key, g);
    }
    return [...groups.values()];
  }
  m = /^increase\(\s*([A-Za-z_:][\w:]*)\{([^}]*)\}\[(\d+)([smhd])\]\s*\)$/s.exec(q);
  if (m) {
    const matchers = parseMatchers(m[2]!);
    const from = now - Number(m[3]) * DURATION[m[4] as keyof typeof DURATION];
    return series
      .filter((s) => s.name === m![1] && matchers.every(([k, v]) => s.labels[k] === v))
      .map((s) => {
        const inWindow = s.points.filter((p) => p.t > from && p.t <= now);
        // Buckets are cumulative counters: their increase is last minus first before the window.
        const value = s.name.endsWith('_bucket') ? (inWindow.at(-1)?.v ?? 0) - (s.points.filter((p) => p.t <= from).at(-1)?.v ?? 0) : inWindow.reduce((sum, p) => sum + p.v, 0);
        return { labels: { ...s.labels }, value };
      })
      .filter((s) => s.value !== 0 || s.labels.le !== undefined);
  }
  throw new Error(`the fake does not evaluate: ${q}`);
}

/** Prometheus's histogram_quantile: linear interpolation inside the bucket the rank falls in. */
function histogramQuantile(q: number, buckets: Vector): Vector {
  const groups = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
  for (const b of buckets) {
    const { le, ...rest } = b.labels;
    const key = JSON.stringify(rest);
    const g = groups.get(key) ?? { labels: rest, buckets: [] };
    g.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: b.value });
    groups.set(key, g);
  }
  const out: Vector = [];
  for (const g of groups.values()) {
    const sorted = g.buckets.sort((a, b) => a.le - b.le);
    const total = sorted.at(-1)?.count ?? 0;
    if (total === 0) continue;
    const rank = q * total;
    const i = sorted.findIndex((b) => b.count >= rank);
    const bucket = sorted[i]!;
    const lower = i > 0 ? sorted[i - 1]! : { le: 0, count: 0 };
    const value = bucket.le === Infinity ? lower.le : lower.le + (bucket.le - lower.le) * ((rank - lower.count) / (bucket.count - lower.count));
    out.push({ labels: g.labels, value });
  }
  return out;
}

export async function startFakeMonitoring(project: string): Promise<FakeMonitoring> {
  const fake: Omit<FakeMonitoring, 'env' | 'close'> = { project, series: [], alerts: [], failing: new Map(), queries: [] };

  const api = await startFakeHttpsApi('monitoring.googleapis.com', (req, res) => {
    const url = new URL(req.url ?? '/', 'https://monitoring.googleapis.com');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const googleError = (status: number, code: string, message: string) => send(status, { error: { code: status, message, status: code } });
    if (req.headers.authorization !== `Bearer ${FAKE_ACCESS_TOKEN}`) return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    const prom = new RegExp(`^/v1/projects/([^/]+)/location/global/prometheus/api/v1/query$`).exec(url.pathname);
    const alerts = /^\/v3\/projects\/([^/]+)\/alerts$/.exec(url.pathname);
    const target = prom?.[1] ?? alerts?.[1];
    if (req.method !== 'GET' || !target) return googleError(404, 'NOT_FOUND', `no such method ${req.method} ${url.pathname}`);
    if (target !== fake.project) return googleError(403, 'PERMISSION_DENIED', `Permission monitoring.timeSeries.list denied (or the resource may not exist) on projects/${target}`);
    const fault = fake.failing.get(prom ? 'prometheus' : 'alerts');
    if (fault) return googleError(fault.status, fault.status === 403 ? 'PERMISSION_DENIED' : 'UNAVAILABLE', fault.message);
    if (prom) {
      const query = url.searchParams.get('query') ?? '';
      fake.queries.push(query);
      try {
        const now = Math.floor(Date.now() / 1000);
        const result = evaluate(query, fake.series, now).map((s) => ({ metric: s.labels, value: [now, String(s.value)] }));
        return send(200, { status: 'success', data: { resultType: 'vector', result } });
      } catch (error) {
        return send(400, { status: 'error', errorType: 'bad_data', error: (error as Error).message });
      }
    }
    const filter = url.searchParams.get('filter') ?? '';
    const state = /^state\s*=\s*"(OPEN|CLOSED)"$/.exec(filter);
    if (filter && !state) return googleError(400, 'INVALID_ARGUMENT', `unsupported filter: ${filter}`);
    const list = fake.alerts.filter((a) => !state || a.state === state[1]);
    return send(200, list.length ? { alerts: list } : {});
  });
  return Object.assign(fake, { env: api.env, close: api.close });
}
