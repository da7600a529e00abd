// Starts the real gateway in-process against a test issuer and mesh, and the small HTTP helpers
// every gateway test uses.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type GatewayOptions, type GatewayInternals, type RunningGateway } from '../../../gateway/src/server.ts';
import { TestIssuer } from './issuer.ts';
import { TestMesh } from './subgraphs.ts';

export interface LogEntry {
  severity: string;
  message: string;
  [field: string]: unknown;
}

export interface TestGateway extends RunningGateway {
  graphqlUrl: string;
  logLines: string[];
  logs(): LogEntry[];
}

export async function startTestGateway(options: GatewayOptions, internals?: GatewayInternals): Promise<TestGateway> {
  const logLines: string[] = [];
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, metricsPort: 0, logLevel: 'info', ...options, logSink: (line) => logLines.push(line) }, internals);
  await waitUntilReady(gateway.url);
  return {
    ...gateway,
    graphqlUrl: `${gateway.url}/graphql`,
    logLines,
    logs: () => logLines.map((l) => JSON.parse(l) as LogEntry),
  };
}

export async function waitUntilReady(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readiness`);
      last = await res.text();
      if (res.status === 200) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway at ${url} not ready: ${last}`);
}

/** An issuer, a mesh and a supergraph file: everything a gateway needs. */
export class TestStack {
  private constructor(
    readonly issuer: TestIssuer,
    readonly mesh: TestMesh,
    readonly dir: string,
  ) {}

  static async start(): Promise<TestStack> {
    const [issuer, mesh] = await Promise.all([TestIssuer.start(), TestMesh.start()]);
    const dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
    writeFileSync(join(dir, 'supergraph.graphql'), mesh.supergraphSdl);
    return new TestStack(issuer, mesh, dir);
  }

  get supergraphPath(): string {
    return join(this.dir, 'supergraph.graphql');
  }

  /** The options a gateway needs for this stack; tests add or override the rest. */
  options(extra: Partial<GatewayOptions> = {}): GatewayOptions {
    return { supabaseUrl: this.issuer.url, usersServiceUrl: this.mesh.usersUrl, supergraph: this.supergraphPath, ...extra };
  }

  async close(): Promise<void> {
    await Promise.all([this.issuer.stop(), this.mesh.close()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } & Record<string, unknown>;
}

export async function postGraphQL(url: string, body: unknown, headers: Record<string, string> | [string, string][] = {}): Promise<GraphQLResponse> {
  const h = new Headers(headers);
  if (!h.has('content-type')) h.set('content-type', 'application/json');
  const res = await fetch(url, { method: 'POST', headers: h, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: GraphQLResponse['body'];
  try {
    parsed = JSON.parse(text) as GraphQLResponse['body'];
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The value of one sample of a Prometheus metric, 0 when absent. */
export async function metricValue(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const sample: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)) sample[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => sample[k] === v)) total += Number(match[4]);
  }
  return total;
}
