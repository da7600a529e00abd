// Identity and the protections reach the runtime as one plugin (gateway/src/plugin-chain.ts). The
// chain must behave exactly as the runtime does with the same plugins registered one by one: the
// same hooks called in the same order, an asynchronous hook awaited before the next one, a hook that
// answers the request ending the stage, a hook or after-hook seeing what the one before it replaced. Each
// scenario runs one request through a real Yoga server both ways and compares everything recorded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { chainPlugins } from '../../gateway/src/plugin-chain.ts';

interface Scenario {
  /** A hook (`b.onRequestParse`, `a.onRequestParseDone`, `c.onParams`) whose work finishes later. */
  late?: string;
  /** The plugin whose request-parse hook answers the request itself. */
  answeredBy?: string;
  /** The plugin whose after-validation hook replaces the result. */
  replacesValidation?: string;
  /** The plugin that replaces the parsed request, the parse function and the validation function. */
  replaces?: string;
  batch?: boolean;
}

const LABEL = Symbol('label');
const labelled = <F extends object>(label: string, fn: F): F => Object.assign(fn, { [LABEL]: label });
const labelOf = (fn: object) => (fn as { [LABEL]?: string })[LABEL] ?? 'the engine\'s';

function recordingPlugins(log: string[], scenario: Scenario): Plugin[] {
  const later = async (hook: string) => {
    await delay(5);
    log.push(`${hook} settled`);
  };
  const maybeLate = (hook: string) => {
    log.push(hook);
    return scenario.late === hook ? later(hook) : undefined;
  };
  const plugin = (name: string): Plugin => ({
    onRequestParse({ endResponse, fetchAPI }) {
      const hook = `${name}.onRequestParse`;
      log.push(hook);
      if (scenario.answeredBy === name) {
        endResponse(new fetchAPI.Response(JSON.stringify({ answeredBy: name }), { status: 429 }));
        return undefined;
      }
      const done = {
        onRequestParseDone({ requestParserResult, setRequestParserResult }: { requestParserResult: unknown; setRequestParserResult: (result: never) => void }) {
          log.push(`${name} sees ${JSON.stringify(requestParserResult)}`);
          if (scenario.replaces === name) setRequestParserResult({ query: '{ __typename }' } as never);
          return maybeLate(`${name}.onRequestParseDone`);
        },
      };
      return scenario.late === hook ? later(hook).then(() => done) : done;
    },
    onParse({ parseFn, setParseFn }) {
      log.push(`${name}.onParse with ${labelOf(parseFn)}`);
      if (scenario.replaces === name) setParseFn(labelled(`${name}'s parse`, (...args: Parameters<typeof parseFn>) => parseFn(...args)));
      return ({ result }) => void log.push(`${name}.afterParse ${(result as { kind?: string }).kind}`);
    },
    onValidate({ validateFn, setValidationFn }) {
      log.push(`${name}.onValidate with ${labelOf(validateFn)}`);
      if (scenario.replaces === name) setValidationFn(labelled(`${name}'s validate`, (...args: Parameters<typeof validateFn>) => validateFn(...args)));
      return ({ result, valid, setResult }) => {
        log.push(`${name}.afterValidate ${result.length} ${valid}`);
        if (scenario.replacesValidation === name) setResult([new GraphQLError(`replaced by ${name}`)]);
      };
    },
    // Hooks only one of them has: the chain keeps them as they are.
    ...(name === 'c' ? { onExecute: () => void log.push('c.onExecute'), onParams: () => maybeLate('c.onParams') } : {}),
  });
  return ['a', 'b', 'c'].map(plugin);
}

async function run(scenario: Scenario, chained: boolean) {
  const log: string[] = [];
  const plugins = recordingPlugins(log, scenario);
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
    plugins: chained ? [chainPlugins(plugins as GatewayPlugin[]) as Plugin] : plugins,
    batching: true,
    logging: false,
  });
  const operation = { query: '{ hello }' };
  const response = await yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(scenario.batch ? [operation, operation] : operation),
  });
  return { status: response.status, body: await response.text(), log };
}

const scenarios: Record<string, Scenario> = {
  'every hook answers at once': {},
  'a request-parse hook finishes later': { late: 'b.onRequestParse' },
  'a parse-done hook finishes later': { late: 'a.onRequestParseDone' },
  'a params hook only one plugin has finishes later': { late: 'c.onParams' },
  'the first plugin replaces the parsed request, the parse and the validation function': { replaces: 'a' },
  'the second plugin answers the request itself': { answeredBy: 'b' },
  'the second plugin replaces the validation result': { replacesValidation: 'b' },
  'a batch of two operations': { batch: true },
};

for (const [name, scenario] of Object.entries(scenarios)) {
  test(`chained as registered one by one: ${name}`, async () => {
    const separate = await run(scenario, false);
    const chained = await run(scenario, true);
    assert.ok(separate.log.length > 1, `the scenario records its hooks: ${separate.log.join(', ')}`);
    assert.deepEqual(chained, separate);
  });
}

test('the scenarios are told apart: what the chain must match differs between them', async () => {
  const plain = await run({}, false);
  assert.equal(plain.status, 200);
  assert.ok(plain.log.includes('c.onExecute'));
  const answered = await run({ answeredBy: 'b' }, false);
  assert.equal(answered.status, 429);
  assert.ok(!answered.log.includes('c.onRequestParse'), 'the runtime stops the stage at the hook that answered');
  const replaced = await run({ replacesValidation: 'b' }, false);
  assert.ok(replaced.log.includes('c.afterValidate 1 true'), replaced.log.join(', '));
  const replacing = await run({ replaces: 'a' }, false);
  assert.ok(replacing.log.includes('b sees {"query":"{ __typename }"}'), replacing.log.join(', '));
  assert.ok(replacing.log.includes("b.onParse with a's parse") && replacing.log.includes("c.onValidate with a's validate"), replacing.log.join(', '));
  assert.equal(replacing.body, '{"data":{"__typename":"Query"}}');
  const late = await run({ late: 'a.onRequestParseDone' }, false);
  assert.ok(late.log.indexOf('a.onRequestParseDone settled') < late.log.indexOf('b.onRequestParseDone'), late.log.join(', '));
});

test('a hook two plugins have that cannot be chained is refused when the chain is built', () => {
  const execute = { onExecute: () => undefined };
  assert.throws(() => chainPlugins([execute, { ...execute }] as GatewayPlugin[]), /onExecute cannot be chained/);
  const params = { onParams: () => undefined };
  assert.throws(() => chainPlugins([params, { ...params }] as GatewayPlugin[]), /onParams cannot be chained/);
  assert.doesNotThrow(() => chainPlugins([execute, params] as GatewayPlugin[]));
});
