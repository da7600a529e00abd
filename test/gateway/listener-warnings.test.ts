// No MaxListenersExceededWarning from the gateway under concurrency. Hive's HTTP executor ties
// every in-flight subgraph request to one abort signal of its own (Node's http.request adds a
// listener per request and removes it when the request ends). Older Node (20, say) warns as soon
// as more than ten are in flight: a line in the gateway's log that looks like a leak and is not
// one. The Node in .node-version (26) no longer counts AbortSignal listeners (nodejs/node#55816),
// and it is what the gateway and the tests run. A warning here means a runtime that warns again,
// or a listener that really piles up (added per request to a shared emitter, never removed).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { graphqlOverWebSocket } from './support/websocket.ts';

const ME = { query: '{ me { internalId } }' };
// Well over the ten listeners at which an emitter or EventTarget warns by default.
const AT_ONCE = 30;

let stack: TestStack;
let gateway: TestGateway;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

before(async () => {
  process.on('warning', onWarning);
  stack = await TestStack.start();
  gateway = await startTestGateway(stack.options());
});

after(async () => {
  process.off('warning', onWarning);
  await gateway?.close();
  await stack?.close();
});

const listenerWarnings = () => warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
const describe = (list: Error[]) => list.map((w) => w.stack ?? `${w.name}: ${w.message}`).join('\n\n');

test(`${AT_ONCE} subgraph requests in flight at once, then as many again over WebSocket and one keep-alive connection: no MaxListenersExceededWarning`, async () => {
  const users = await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      const sub = randomUUID();
      stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
      return stack.issuer.sign({ sub });
    }),
  );
  // The subgraph answers only once all of them are waiting: every request is in flight together.
  stack.mesh.holdMeUntil = AT_ONCE;
  try {
    const answers = await Promise.all(users.map((token) => postGraphQL(gateway.graphqlUrl, ME, bearer(token))));
    assert.deepEqual(answers.map((a) => a.status), users.map(() => 200));
  } finally {
    stack.mesh.holdMeUntil = undefined;
  }
  const overWebSocket = await Promise.all(users.map((token) => graphqlOverWebSocket(gateway.graphqlUrl, { Authorization: `Bearer ${token}` }, ME)));
  assert.ok(overWebSocket.every((r) => r.errors === undefined), JSON.stringify(overWebSocket.find((r) => r.errors)));
  for (const token of users) assert.equal((await postGraphQL(gateway.graphqlUrl, ME, bearer(token))).status, 200);

  // A warning is emitted on the next tick after the listener that crossed the limit.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(listenerWarnings().length, 0, `the gateway made Node warn about listeners; the stack names who adds them:\n${describe(listenerWarnings())}`);
  const inLog = gateway.logLines.filter((line) => line.includes('MaxListeners'));
  assert.equal(inLog.length, 0, `the gateway's JSON log mentions a listener warning:\n${inLog.join('')}`);
});
