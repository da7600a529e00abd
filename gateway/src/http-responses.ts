// What every HTTP response of the gateway carries, and the two operational endpoints, answered
// before a request reaches GraphQL so they work even while the supergraph is not loaded.

import type { IncomingMessage, ServerResponse } from 'node:http';

const SECURITY_HEADERS: Record<string, string> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Set before the response is handed on; Node merges them into whatever is written later. */
export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

export interface OperationalEndpoints {
  service: string;
  version: string;
  readiness: () => Promise<Readiness>;
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers /healthcheck and /readiness; returns false for every other request. */
export function answerOperationalRequest(req: IncomingMessage, res: ServerResponse, endpoints: OperationalEndpoints): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/healthcheck' && path !== '/readiness') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: `${req.method} is not allowed on ${path}; use GET` });
    return true;
  }
  const base = { service: endpoints.service, version: endpoints.version, timestamp: new Date().toISOString() };
  if (path === '/healthcheck') {
    // Liveness: the process answers. Dependencies belong to readiness.
    sendJson(res, 200, { status: 'ok', ...base });
    return true;
  }
  endpoints.readiness().then(
    (r) => sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...base, checks: r.checks }),
    (error: unknown) => sendJson(res, 503, { status: 'not ready', ...base, checks: { error: error instanceof Error ? error.message : String(error) } }),
  );
  return true;
}
