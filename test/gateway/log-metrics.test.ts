// Production counts the gateway's events with log-based metrics (infra/modules/monitoring/
// log-metrics.tf) that filter its JSON lines. Here the real gateway is made to write each event,
// the lines become the LogEntries Cloud Run would make of them, and every metric's own filter and
// label extractors, as OpenTofu renders them, run over those entries: renaming an event or a
// field breaks this test, not a dashboard in production.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { cloudRunEntry, extract, matches, type LogEntry } from '../infra/log-filter.ts';
import { renderProduction } from '../infra/production.ts';
import { TestStack, bearer, postGraphQL, startTestGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/redis.ts';

const ME = { query: '{ me { internalId } }' };
let stack: TestStack;
const gateways: TestGateway[] = [];

before(async () => {
  stack = await TestStack.start();
});
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await stack?.close();
});

async function gateway(extra: Parameters<TestStack['options']>[0] = {}): Promise<TestGateway> {
  const g = await startTestGateway(stack.options(extra));
  gateways.push(g);
  return g;
}

function registeredToken(): Promise<string> {
  const sub = randomUUID();
  stack.mesh.register(sub, `iid-${sub.slice(0, 8)}`);
  return stack.issuer.sign({ sub });
}

/** Every event the metrics count, provoked on real gateways; the lines as Cloud Run would store them. */
async function provokeEveryEvent(): Promise<LogEntry[]> {
  const [main, lookupDown, redisDown, jwksDown] = await Promise.all([
    gateway(),
    gateway({ usersServiceUrl: `http://127.0.0.1:${await freePort()}/graphql` }),
    gateway({ redisUrl: `redis://127.0.0.1:${await freePort()}` }),
    gateway({ supabaseUrl: `http://127.0.0.1:${await freePort()}` }),
  ]);
  const token = await registeredToken();
  await postGraphQL(main.graphqlUrl, ME, [['authorization', `Bearer ${token}`], ['x-internal-id', 'someone-else']]);
  await postGraphQL(main.graphqlUrl, ME, bearer('not-a-token'));
  await postGraphQL(main.graphqlUrl, { query: `{ me { ${'a { '.repeat(12)}b${' }'.repeat(12)} } }` }, bearer(token));
  await postGraphQL(lookupDown.graphqlUrl, ME, bearer(await registeredToken()));
  await postGraphQL(redisDown.graphqlUrl, ME, bearer(await registeredToken()));
  await postGraphQL(jwksDown.graphqlUrl, ME, bearer(await registeredToken()));
  return gateways.flatMap((g) => g.logs()).map((line) => cloudRunEntry(line as Record<string, unknown>, 'gateway'));
}

test('each log-based metric counts the lines of its event, with every label filled, and no other line', async () => {
  const rendered = await renderProduction();
  const metrics = rendered.resources.filter((r) => r.type === 'google_logging_metric');
  assert.ok(metrics.length >= 6, `log-based metrics rendered: ${metrics.map((m) => m.address).join(', ')}`);
  const entries = await provokeEveryEvent();
  const problems: string[] = [];
  for (const metric of metrics) {
    const name = String(metric.values.name);
    const filter = metric.values.filter;
    if (typeof filter !== 'string') {
      problems.push(`${name}: the filter is not known at plan time (${String(filter)})`);
      continue;
    }
    const counted = entries.filter((e) => matches(filter, e));
    if (counted.length === 0) {
      problems.push(`${name}: no line the gateway wrote matches ${filter}`);
      continue;
    }
    const events = new Set(counted.map((e) => (e.jsonPayload as Record<string, unknown>).event));
    if (events.size !== 1) problems.push(`${name} counts lines of several events: ${[...events].join(', ')}`);
    for (const [label, extractor] of Object.entries((metric.values.label_extractors ?? {}) as Record<string, string>)) {
      const missing = counted.filter((e) => !extract(extractor, e));
      if (missing.length) problems.push(`${name}: label ${label} (${extractor}) is empty on ${missing.length} of ${counted.length} lines`);
    }
    const declared = ((metric.values.metric_descriptor as Record<string, unknown>[] | undefined)?.[0]?.labels ?? []) as Record<string, unknown>[];
    const extracted = Object.keys((metric.values.label_extractors ?? {}) as Record<string, string>);
    if (JSON.stringify(declared.map((l) => l.key).sort()) !== JSON.stringify(extracted.sort())) problems.push(`${name}: labels ${JSON.stringify(declared.map((l) => l.key))} and extractors ${JSON.stringify(extracted)} differ`);
  }
  assert.deepEqual(problems, []);
});

test('the filters read only fields: a line with the same message and no event is not counted', () => {
  const line = { severity: 'WARNING', message: 'request refused: identity not established', code: 'UNAUTHENTICATED' };
  const entry = cloudRunEntry(line, 'gateway');
  assert.equal(matches('resource.labels.service_name="gateway" AND jsonPayload.event="auth_refused"', entry), false);
  assert.equal(matches('resource.labels.service_name="gateway" AND jsonPayload.event="auth_refused"', cloudRunEntry({ ...line, event: 'auth_refused' }, 'gateway')), true);
  assert.throws(() => matches('jsonPayload.event="a" OR jsonPayload.event="b"', entry), /expected AND/);
});
