// Traces as Cloud Run hands them over: a valid W3C traceparent reaches every subgraph call of the
// request, and every log line the request causes names its trace the way Cloud Logging links
// lines to traces; concurrent requests keep their own; garbage is neither trusted nor passed on.

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { parseTraceparent } from '../../gateway/src/trace-context.ts';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';

const ME = { query: '{ me { internalId } }' };
let stack: TestStack;
let gateway: TestGateway;
let untraced: TestGateway;

before(async () => {
  stack = await TestStack.start();
  [gateway, untraced] = await Promise.all([startTestGateway(stack.options({ googleCloudProject: 'mindmirror-prod' })), startTestGateway(stack.options())]);
});
after(async () => {
  await Promise.all([gateway?.close(), untraced?.close()]);
  await stack?.close();
});

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};

test('the traceparent reaches every subgraph call of the request, the identity lookup included', async () => {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  const t = traceparent();
  const before = stack.mesh.received.length;
  const res = await postGraphQL(gateway.graphqlUrl, ME, [['authorization', `Bearer ${await stack.issuer.sign({ sub })}`], ['traceparent', t.header]]);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const calls = stack.mesh.received.slice(before);
  assert.ok(calls.some((c) => c.body.query?.includes('userBySupabaseId')), 'a new user: the gateway looked them up');
  assert.ok(calls.some((c) => !c.body.query?.includes('userBySupabaseId')), 'and routed the query');
  for (const call of calls) assert.equal(call.headers['traceparent'], t.header);
});

test('log lines of concurrent traced requests each name their own trace, with Cloud Logging’s fields', async () => {
  const traces = Array.from({ length: 5 }, traceparent);
  await Promise.all(traces.map((t) => postGraphQL(gateway.graphqlUrl, ME, [['authorization', 'Bearer not-a-token'], ['traceparent', t.header]])));
  for (const t of traces) {
    const lines = gateway.logs().filter((l) => l['logging.googleapis.com/trace'] === `projects/mindmirror-prod/traces/${t.traceId}`);
    assert.equal(lines.length, 1, `one refusal line for trace ${t.traceId}`);
    assert.equal(lines[0]!['event'], 'auth_refused');
    assert.equal(lines[0]!['logging.googleapis.com/trace_sampled'], true);
    assert.match(String(lines[0]!['logging.googleapis.com/spanId']), /^[0-9a-f]{16}$/);
  }
});

test('without a project, or without a valid traceparent, lines carry no trace and nothing is passed on', async () => {
  const t = traceparent();
  await postGraphQL(untraced.graphqlUrl, ME, [['authorization', 'Bearer not-a-token'], ['traceparent', t.header]]);
  assert.ok(untraced.logs().every((l) => !('logging.googleapis.com/trace' in l)));

  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  const before = stack.mesh.received.length;
  await postGraphQL(gateway.graphqlUrl, ME, [['authorization', `Bearer ${await stack.issuer.sign({ sub })}`], ['traceparent', '00-zz-not-a-trace']]);
  for (const call of stack.mesh.received.slice(before)) assert.equal(call.headers['traceparent'], undefined);
  for (const bad of ['00-' + '0'.repeat(32) + '-' + 'a'.repeat(16) + '-01', '01-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01', 'garbage']) assert.equal(parseTraceparent(bad), undefined, bad);
});
