// Where the supergraph comes from: SUPERGRAPH as a file (every other suite) or a URL, or the Hive
// CDN (HIVE_CDN_ENDPOINT + HIVE_CDN_KEY, sent as X-Hive-CDN-Key). Readiness follows it.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { TestStack, bearer, postGraphQL, startTestGateway } from './support/gateway.ts';
import { startGateway } from '../../gateway/src/server.ts';

let stack: TestStack;
let cdn: Server;
let cdnUrl: string;
const cdnRequests: { path: string; key: string | undefined }[] = [];
const CDN_KEY = `hive-cdn-key-${randomUUID()}`;

before(async () => {
  stack = await TestStack.start();
  cdn = createServer((req, res) => {
    const key = req.headers['x-hive-cdn-key'] as string | undefined;
    cdnRequests.push({ path: req.url ?? '', key });
    if (req.url === '/artifacts/v1/target/supergraph' && key === CDN_KEY) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(stack.mesh.supergraphSdl);
    } else if (req.url === '/plain.graphql') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(stack.mesh.supergraphSdl);
    } else {
      res.writeHead(key === CDN_KEY ? 404 : 403).end();
    }
  });
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
});
after(async () => {
  cdn?.closeAllConnections();
  await new Promise<void>((resolve) => cdn.close(() => resolve()));
  await stack?.close();
});

async function works(graphqlUrl: string): Promise<void> {
  const sub = randomUUID();
  stack.mesh.register(sub, 'iid-sg');
  const res = await postGraphQL(graphqlUrl, { query: '{ me { internalId } }' }, bearer(await stack.issuer.sign({ sub })));
  assert.deepEqual(res.body.data, { me: { internalId: 'iid-sg' } });
}

test('SUPERGRAPH as a URL', async () => {
  const gateway = await startTestGateway(stack.options({ supergraph: `${cdnUrl}/plain.graphql` }));
  try {
    await works(gateway.graphqlUrl);
  } finally {
    await gateway.close();
  }
});

test('the Hive CDN, with the access key', async () => {
  const gateway = await startTestGateway(stack.options({ supergraph: undefined, hiveCdnEndpoint: `${cdnUrl}/artifacts/v1/target`, hiveCdnKey: CDN_KEY }));
  try {
    await works(gateway.graphqlUrl);
    assert.ok(cdnRequests.some((r) => r.path === '/artifacts/v1/target/supergraph' && r.key === CDN_KEY));
    assert.ok(!gateway.logLines.join('\n').includes(CDN_KEY), 'the CDN key is never logged');
  } finally {
    await gateway.close();
  }
});

test('a supergraph that cannot be loaded keeps the gateway live but not ready', async () => {
  const lines: string[] = [];
  const gateway = await startGateway({
    ...stack.options({ supergraph: undefined, hiveCdnEndpoint: `${cdnUrl}/artifacts/v1/target`, hiveCdnKey: 'wrong-key' }),
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    logSink: (l) => lines.push(l),
  });
  try {
    assert.equal((await fetch(`${gateway.url}/healthcheck`)).status, 200);
    const readiness = await fetch(`${gateway.url}/readiness`);
    assert.equal(readiness.status, 503);
    const body = (await readiness.json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'not ready');
    assert.equal(body.checks['supergraph'], 'not loaded');
  } finally {
    await gateway.close();
  }
});
