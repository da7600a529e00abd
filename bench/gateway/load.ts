// autocannon in its own process, so the load generator never shares a CPU budget with the
// gateway's event loop. Each connection sends as one user (its own Authorization header).
//   node --import tsx bench/gateway/load.ts '<config JSON>'   -> prints autocannon's result as JSON

import autocannon from 'autocannon';

interface LoadConfig {
  url: string;
  /** GraphQL query; each connection sends it with its own $client number. */
  query: string;
  connections: number;
  durationSeconds?: number;
  amount?: number;
  /** One per connection, reused round-robin; empty for no Authorization header. */
  tokens: string[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
let next = 0;
const result = await autocannon({
  url: config.url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: config.query, variables: { client: 0 } }),
  connections: config.connections,
  ...(config.amount ? { amount: config.amount } : { duration: config.durationSeconds ?? 10 }),
  // Every connection sends a slightly different request, so the gateway's merging of identical
  // in-flight subgraph requests helps neither variant more than the other.
  setupClient(client) {
    const n = next++;
    const token = config.tokens.length ? config.tokens[n % config.tokens.length] : undefined;
    client.setHeaders({ 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) });
    client.setBody(JSON.stringify({ query: config.query, variables: { client: n } }));
  },
});
process.stdout.write(JSON.stringify({
  requestsPerSecond: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  total: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  durationSeconds: result.duration,
}) + '\n');
