// Prometheus metrics on a listener of their own, never the public port, on 127.0.0.1 unless
// METRICS_HOST says otherwise: the counters tell who was refused and why, which is nobody else's
// business.

import { createServer, type Server } from 'node:http';
import { applySecurityHeaders } from './http-responses.ts';
import type { GatewayMetrics } from './metrics.ts';

export function createMetricsServer(metrics: GatewayMetrics): Server {
  return createServer((req, res) => {
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
}
