// The gateway's own spans, exported over OTLP the way production sends them to Cloud Trace: a
// real Hive Gateway with its OpenTelemetry plugin, the real OTLP exporter, an access token from
// a metadata server, and a receiver on loopback in place of telemetry.googleapis.com. Spans join
// the trace Cloud Run started, the subgraphs get the gateway's own span as their parent, and the
// sampler traces what Cloud Run sampled plus the configured share of the rest.

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { optionsFromEnv } from '../../gateway/src/config.ts';
import { traceSampler } from '../../gateway/src/tracing.ts';
import { TestStack, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { TestMetadataServer } from './support/metadata-server.ts';

const PROJECT = 'mm-trace-test';
const ME = { query: '{ me { internalId } }' };
let stack: TestStack;
let metadata: TestMetadataServer;
let receiver: Server;
let gateway: TestGateway;
const exports: { path: string; headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];

before(async () => {
  [stack, metadata] = await Promise.all([TestStack.start(), TestMetadataServer.start()]);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exports.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  gateway = await startTestGateway(
    stack.options({
      googleCloudProject: PROJECT,
      traceExporter: 'cloud-trace',
      traceSampleRatio: 1,
      traceEndpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`,
      gceMetadataHost: metadata.host,
    }),
    { traceBatchDelayMs: 50 },
  );
});
after(async () => {
  await gateway?.close();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await Promise.all([stack?.close(), metadata?.close()]);
});

/** The exports holding every one of these ids (hex), once they all arrived; spans come in batches. */
async function exportedWith(traceId: string, timeoutMs = 10_000, alsoIds: string[] = []) {
  const ids = [traceId, ...alsoIds].map((id) => Buffer.from(id, 'hex'));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = exports.filter((e) => e.body.includes(ids[0]!));
    if (found.length && ids.every((id) => found.some((e) => e.body.includes(id)))) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return exports.filter((e) => e.body.includes(ids[0]!));
}

test('a request Cloud Run did not sample is traced at ratio 1: its spans reach the OTLP endpoint with a metadata token, and subgraphs get the gateway span as parent', async () => {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  const traceId = randomBytes(16).toString('hex');
  const cloudRunSpan = randomBytes(8).toString('hex');
  const before = stack.mesh.received.length;
  const res = await postGraphQL(gateway.graphqlUrl, ME, [['authorization', `Bearer ${await stack.issuer.sign({ sub })}`], ['traceparent', `00-${traceId}-${cloudRunSpan}-00`]]);
  assert.equal(res.status, 200, JSON.stringify(res.body));

  const calls = stack.mesh.received.slice(before);
  assert.ok(calls.length >= 2, 'the lookup and the query');
  for (const call of calls) {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(call.headers['traceparent']));
    assert.ok(m, `a sampled traceparent reached the subgraph: ${String(call.headers['traceparent'])}`);
    assert.equal(m[1], traceId, 'the same trace as Cloud Run’s');
    assert.notEqual(m[2], cloudRunSpan, 'the parent is the gateway’s own span, not Cloud Run’s');
  }

  // The gateway's spans for the subgraph calls carry the span ids the subgraphs were given as parents.
  const parents = calls.map((call) => String(call.headers['traceparent']).split('-')[2]!);
  const sent = await exportedWith(traceId, 10_000, parents);
  assert.ok(sent.length > 0, 'the spans were exported');
  const e = sent[0]!;
  assert.equal(e.path, '/v1/traces');
  assert.equal(e.headers['content-type'], 'application/x-protobuf');
  assert.match(String(e.headers['authorization']), /^Bearer ya29\.metadata-token-\d+$/);
  assert.equal(e.headers['x-goog-user-project'], PROJECT);
  for (const text of ['gcp.project_id', PROJECT, 'service.name', 'gateway']) assert.ok(e.body.includes(Buffer.from(text)), `the resource names ${text}`);
  for (const parent of parents) assert.ok(sent.some((x) => x.body.includes(Buffer.from(parent, 'hex'))), `a span with id ${parent} was exported`);
});

test('the access token is fetched once and reused for later exports while it is fresh', async () => {
  const traceId = randomBytes(16).toString('hex');
  await postGraphQL(gateway.graphqlUrl, ME, [['authorization', 'Bearer not-a-token'], ['traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`]]);
  assert.ok((await exportedWith(traceId)).length > 0);
  assert.equal(metadata.accessTokensIssued, 1);
});

test('the sampler follows a request Cloud Run sampled and takes the configured share of the others', () => {
  const decide = (ratio: number, parentSampled: boolean | null) => {
    const parent =
      parentSampled === null
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
    return traceSampler(ratio).shouldSample(parent, randomBytes(16).toString('hex'), 'POST /graphql', SpanKind.SERVER, {}, []).decision;
  };
  assert.equal(decide(0, true), SamplingDecision.RECORD_AND_SAMPLED, 'Cloud Run sampled it: always traced');
  assert.equal(decide(0, false), SamplingDecision.NOT_RECORD);
  assert.equal(decide(0, null), SamplingDecision.NOT_RECORD);
  assert.equal(decide(1, false), SamplingDecision.RECORD_AND_SAMPLED);
  const share = Array.from({ length: 2000 }, () => decide(0.25, false)).filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED).length / 2000;
  assert.ok(share > 0.18 && share < 0.32, `about a quarter traced, got ${share}`);
});

test('tracing settings are checked with the rest: every problem at once', () => {
  const { problems } = optionsFromEnv({ SUPERGRAPH: stack.supergraphPath, TRACE_EXPORTER: 'cloud-trace', TRACE_SAMPLE_RATIO: '1.5', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' });
  assert.ok(problems.some((p) => /TRACE_EXPORTER=cloud-trace needs GOOGLE_CLOUD_PROJECT/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /TRACE_SAMPLE_RATIO="1\.5" is not valid: expected a number from 0 to 1/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=.* is not a URL/.test(p)), problems.join('\n'));
  const unknown = optionsFromEnv({ SUPERGRAPH: stack.supergraphPath, TRACE_EXPORTER: 'jaeger' }).problems;
  assert.ok(unknown.some((p) => /TRACE_EXPORTER="jaeger" is not valid: expected off, console, cloud-trace/.test(p)), unknown.join('\n'));
});
