// Several plugins registered as one: each hook of the chain calls the plugins' hooks in the order
// given. The runtime calls every plugin's request-parse, parse-done and params hooks through an
// asynchronous iteration of its own (promise-helpers' iterateAsync: closures and stand-in promises
// for each hook) and builds a new payload, closures included, for every hook it calls: about two
// kilobytes of garbage per hook per request. Three protections registered one by one added 14 kB
// to every request and cost 4% of its CPU time (bench/gateway/RESULTS.md); chained, the runtime
// sees one hook per stage.
//
// Only the hooks identity and the protections share can be chained; a hook only one of the plugins
// has is the chain's as it is, and any other hook two of them have is refused when the chain is
// built, so none can be dropped without anyone noticing. The runtime builds each hook a payload of
// its own; a chained stage hands its hooks one, and keeps it current: what a hook replaces through
// the payload's setters (the parsed request, the parse or validation function), the next hook
// finds in it, as it would in a payload of its own.

import type { GatewayPlugin } from '@graphql-hive/gateway';

type Hook<K extends keyof GatewayPlugin> = NonNullable<GatewayPlugin[K]>;
type RequestParsePayload = Parameters<NonNullable<GatewayPlugin['onRequestParse']>>[0];
type Settled<T> = T | Promise<T>;
type AfterHook = (payload: { result: unknown; setResult?: (result: never) => void; replaceParseResult?: (result: never) => void; valid?: boolean }) => void;

const CHAINABLE_HOOKS = ['onRequestParse', 'onParse', 'onValidate'] as const;

const isPromise = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';

/** Calls each hook with the payload, one after the other; a hook's promise is awaited before the next one runs. */
function inOrder<P>(hooks: readonly ((payload: P) => unknown)[], payload: P, from = 0): Settled<void> {
  for (let i = from; i < hooks.length; i++) {
    const outcome = hooks[i]!(payload);
    if (isPromise(outcome)) return Promise.resolve(outcome).then(() => inOrder(hooks, payload, i + 1));
  }
  return undefined;
}

/**
 * One after-hook for several: each sees the result as the ones before it left it, as in the
 * runtime's own sequence of after-hooks (where `valid` stays what validation found).
 */
function afterInOrder(afters: AfterHook[]): AfterHook {
  if (afters.length === 1) return afters[0]!;
  return (payload) => {
    let result = payload.result;
    for (const after of afters) {
      after({
        ...payload,
        result,
        setResult: payload.setResult && ((replaced: never) => void ((result = replaced), payload.setResult!(replaced))),
        replaceParseResult: payload.replaceParseResult && ((replaced: never) => void ((result = replaced), payload.replaceParseResult!(replaced))),
      });
    }
  };
}

/**
 * Keeps `payload[field]` what the hooks last set through `payload[setter]`, for the hooks after
 * them. The payload is built for this one call, so it is changed in place rather than copied.
 */
function keepCurrent(payload: Record<string, unknown>, setter: string, field: string): void {
  const set = payload[setter] as (value: unknown) => void;
  payload[setter] = (value: unknown) => {
    payload[field] = value;
    set(value);
  };
}

/** The before-hooks of parse or validate: all of them, in order; their after-hooks as one. */
function beforeAndAfter<P>(hooks: ((payload: P) => unknown)[], setter: string, field: string): (payload: P) => AfterHook | undefined {
  return (payload) => {
    keepCurrent(payload as Record<string, unknown>, setter, field);
    let afters: AfterHook[] | undefined;
    for (const hook of hooks) {
      const after = hook(payload);
      if (typeof after === 'function') (afters ??= []).push(after as AfterHook);
    }
    return afters && afterInOrder(afters);
  };
}

type ParseDoneHook = (payload: unknown) => unknown;
type RequestParseOutcome = ReturnType<NonNullable<GatewayPlugin['onRequestParse']>>;

const doneHookOf = (outcome: unknown) => (outcome as { onRequestParseDone?: ParseDoneHook } | undefined)?.onRequestParseDone;

/** What the chained request-parse hook returns: its hooks' parse-done hooks as one. */
function parseDone(done: ParseDoneHook[] | undefined) {
  if (done === undefined) return undefined;
  if (done.length === 1) return { onRequestParseDone: done[0]! };
  return {
    onRequestParseDone: (payload: unknown) => {
      keepCurrent(payload as Record<string, unknown>, 'setRequestParserResult', 'requestParserResult');
      return inOrder(done, payload);
    },
  };
}

/** The rest of the request-parse hooks once one of them returned a promise (a count read from Redis, say). */
async function requestParseFrom(
  hooks: readonly ((payload: RequestParsePayload) => unknown)[],
  payload: RequestParsePayload,
  index: number,
  pending: PromiseLike<unknown>,
  done: ParseDoneHook[],
  ended: () => boolean,
) {
  let outcome = await pending;
  for (let i = index; ; ) {
    const hook = doneHookOf(outcome);
    if (hook) done.push(hook);
    if (++i >= hooks.length || ended()) break;
    outcome = await hooks[i]!(payload);
  }
  return parseDone(done.length > 0 ? done : undefined);
}

export function chainPlugins(plugins: readonly GatewayPlugin[]): GatewayPlugin {
  if (plugins.length === 1) return plugins[0]!;
  if (plugins.length === 0) return {};
  // A hook only one of the plugins has needs no chaining: the chain has it as it is.
  const owners = new Map<string, GatewayPlugin[]>();
  for (const plugin of plugins) for (const hook of Object.keys(plugin)) owners.set(hook, [...(owners.get(hook) ?? []), plugin]);
  const unsupported = [...owners].filter(([hook, of]) => of.length > 1 && !(CHAINABLE_HOOKS as readonly string[]).includes(hook)).map(([hook]) => hook);
  if (unsupported.length > 0) throw new Error(`chainPlugins: ${unsupported.join(', ')} cannot be chained; register one of the plugins that have it on its own`);
  const chain: GatewayPlugin = {};
  for (const [hook, [only, ...others]] of owners) {
    if (others.length === 0) (chain as Record<string, unknown>)[hook] = (only as Record<string, unknown>)[hook];
  }
  const hooksOf = <K extends (typeof CHAINABLE_HOOKS)[number]>(name: K) => plugins.flatMap((plugin) => (plugin[name] ? [plugin[name] as Hook<K>] : []));
  const requestParse = hooksOf('onRequestParse');
  const parse = hooksOf('onParse');
  const validate = hooksOf('onValidate');

  if (requestParse.length > 1) {
    chain.onRequestParse = (payload: RequestParsePayload) => {
      // A hook that answers the request itself ends the stage: the hooks after it do not run, as
      // when the runtime calls them one by one. The payload is built for this call alone, so it is
      // changed in place rather than copied (this runs for every request).
      let ended = false;
      const endResponse = payload.endResponse;
      payload.endResponse = (response) => {
        ended = true;
        endResponse(response);
      };
      let done: ParseDoneHook[] | undefined;
      for (let i = 0; i < requestParse.length && !ended; i++) {
        const outcome: unknown = requestParse[i]!(payload);
        if (isPromise(outcome)) return requestParseFrom(requestParse, payload, i, outcome, done ?? [], () => ended) as RequestParseOutcome;
        const hook = doneHookOf(outcome);
        if (hook) (done ??= []).push(hook);
      }
      return parseDone(done) as RequestParseOutcome;
    };
  }
  if (parse.length > 1) chain.onParse = beforeAndAfter(parse as ((p: unknown) => unknown)[], 'setParseFn', 'parseFn') as Hook<'onParse'>;
  if (validate.length > 1) chain.onValidate = beforeAndAfter(validate as ((p: unknown) => unknown)[], 'setValidationFn', 'validateFn') as Hook<'onValidate'>;
  return chain;
}
