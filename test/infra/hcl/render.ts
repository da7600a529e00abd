// A plan-time rendering of an OpenTofu configuration: every module instance and resource
// instance with its arguments evaluated (provider-computed values Unknown), the root outputs,
// and every error OpenTofu would stop a plan with here (failed variable validations, missing
// or undeclared module arguments, for_each keys not known until apply, bad references).

import { resolve } from 'node:path';
import { EvalError, evaluateValue, type Scope } from './evaluate.ts';
import { loadModuleSource, prepareValues, type ModuleSource } from './parse.ts';
import { containsUnknown, force, isObject, Lazy, typeName, Unknown } from './values.ts';

export interface RenderedResource {
  address: string;
  /** Module path, such as module.gateway or module.mesh_service["users-service"]; "" for root. */
  module: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  index?: string | number;
  values: Record<string, unknown>;
  lifecycle: Record<string, unknown>;
  /** Directory of the module that declares it. */
  sourceDir: string;
}

export interface Rendered {
  resources: RenderedResource[];
  outputs: Record<string, unknown>;
  imports: { to: string; id: unknown }[];
  errors: string[];
}

const META = new Set(['count', 'for_each', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);
const MODULE_META = new Set(['source', 'version', 'count', 'for_each', 'depends_on', 'providers']);

async function loadTree(dir: string, sources: Map<string, ModuleSource>): Promise<void> {
  if (sources.has(dir)) return;
  const source = await loadModuleSource(dir);
  sources.set(dir, source);
  for (const call of Object.values(source.modules)) {
    if (typeof call.source !== 'string' || !call.source.startsWith('.')) throw new Error(`${dir}: module source must be a local path, got ${String(call.source)}`);
    await loadTree(resolve(dir, call.source), sources);
  }
}

function stripInterpolation(text: unknown): string {
  return typeof text === 'string' ? text.replace(/^\$\{(.*)\}$/s, '$1') : String(text);
}

function keyText(key: string | number): string {
  return typeof key === 'number' ? `[${key}]` : `[${JSON.stringify(key)}]`;
}

/** for_each as (key, value) pairs; unknown keys are a plan error, as in OpenTofu. */
function forEachPairs(value: unknown, where: string): [string, unknown][] {
  if (value instanceof Unknown) throw new EvalError(`${where}: for_each value is not known until apply (${value.text})`);
  if (Array.isArray(value)) {
    return value.map((v) => {
      if (v instanceof Unknown || typeof v !== 'string') throw new EvalError(`${where}: for_each set elements must be strings known at plan time, got ${v instanceof Unknown ? v.text : typeName(v)}`);
      return [v, v];
    });
  }
  if (value instanceof Lazy) return value.keys().map((k) => [k, value.get(k)]);
  if (isObject(value)) return Object.entries(value);
  throw new EvalError(`${where}: for_each needs a map or a set of strings, got ${typeName(value)}`);
}

function convert(value: unknown, type: unknown, where: string): unknown {
  if (value === null || value instanceof Unknown || type === undefined) return value;
  const t = stripInterpolation(type);
  const fail = () => new EvalError(`${where}: expected ${t}, got ${typeName(value)} ${JSON.stringify(force(value))}`);
  if (t === 'number') {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
    throw fail();
  }
  if (t === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw fail();
  }
  if (t === 'string') {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw fail();
  }
  if (/^(list|set|tuple)\(/.test(t) && !Array.isArray(value)) throw fail();
  if (/^(map|object)\(/.test(t) && !isObject(value) && !(value instanceof Lazy)) throw fail();
  return value;
}

class ModuleInstance {
  readonly vars: Lazy;
  readonly locals: Lazy;
  readonly outputs: Lazy;
  private readonly resourceCache = new Map<string, unknown>();
  private readonly moduleCache = new Map<string, unknown>();
  private readonly children = new Map<string, ModuleInstance>();
  private readonly validated = new Set<string>();
  private readonly evaluating = new Set<string>();

  constructor(
    readonly source: ModuleSource,
    readonly path: string,
    private readonly sources: Map<string, ModuleSource>,
    private readonly inputs: Map<string, () => unknown>,
    private readonly rootDir: string,
    private readonly errors: string[],
  ) {
    const declared = Object.keys(source.variables);
    this.vars = new Lazy(`${path || 'root'} variables`, () => declared, (name) => this.variable(name));
    this.locals = new Lazy(`${path || 'root'} locals`, () => Object.keys(source.locals), (name) => this.guard(`local.${name}`, () => evaluateValue(source.locals[name], this.scope())));
    this.outputs = new Lazy(`${path || 'root'} outputs`, () => Object.keys(source.outputs), (name) => this.guard(`output.${name}`, () => evaluateValue(source.outputs[name]!.value, this.scope())));
    for (const name of inputs.keys()) if (!declared.includes(name)) this.error(`argument "${name}" is not expected here: ${this.source.dir} declares no variable "${name}"`);
  }

  private error(message: string): void {
    this.errors.push(`${this.path ? `${this.path}: ` : ''}${message}`);
  }

  /** Evaluate once, reporting a reference cycle instead of recursing forever. */
  private guard<T>(what: string, fn: () => T): T {
    if (this.evaluating.has(what)) throw new EvalError(`cycle: ${what} depends on itself`);
    this.evaluating.add(what);
    try {
      return fn();
    } finally {
      this.evaluating.delete(what);
    }
  }

  private variable(name: string): unknown {
    const decl = this.source.variables[name]!;
    const input = this.inputs.get(name);
    let value: unknown;
    if (input) value = input();
    else if ('default' in decl) value = decl.default;
    else throw new EvalError(`${this.path ? `${this.path}.` : ''}var.${name} is required and has no value`);
    value = convert(value, decl.type, `var.${name}`);
    return value;
  }

  /** Run a variable's validation blocks, like OpenTofu does before planning. */
  validate(name: string): void {
    if (this.validated.has(name)) return;
    this.validated.add(name);
    const decl = this.source.variables[name]!;
    for (const rule of (decl.validation ?? []) as Record<string, unknown>[]) {
      try {
        const ok = evaluateValue(rule.condition, this.scope());
        if (ok instanceof Unknown || containsUnknown(ok)) continue;
        if (ok !== true) this.error(`var.${name}: ${String(evaluateValue(rule.error_message, this.scope()))}`);
      } catch (e) {
        this.error(`var.${name}: ${(e as Error).message}`);
      }
    }
  }

  scope(names: Record<string, unknown> = {}): Scope {
    const self = this;
    const scope: Scope = {
      rootDir: this.rootDir,
      with: (more) => self.scope({ ...names, ...more }),
      resolve(parts) {
        const [first, second, third] = parts;
        if (first === undefined) throw new EvalError('empty reference');
        if (first in names) return { value: names[first], used: 1 };
        const need = (n: string | undefined, what: string) => {
          if (n === undefined || n.startsWith('[')) throw new EvalError(`${first}: expected ${what}`);
          return n;
        };
        switch (first) {
          case 'var': {
            const name = need(second, 'a variable name');
            if (!self.vars.has(name)) throw new EvalError(`var.${name} is not declared in ${self.source.dir}`);
            const value = self.vars.get(name);
            self.validate(name);
            return { value, used: 2 };
          }
          case 'local': {
            const name = need(second, 'a local name');
            if (!self.locals.has(name)) throw new EvalError(`local.${name} is not defined in ${self.source.dir}`);
            return { value: self.locals.get(name), used: 2 };
          }
          case 'module':
            return { value: self.moduleRef(need(second, 'a module name')), used: 2 };
          case 'path':
            return { value: { module: self.source.dir, root: self.rootDir, cwd: self.rootDir }, used: 1 };
          case 'terraform':
            return { value: { workspace: 'default' }, used: 1 };
          case 'data':
            return { value: self.resourceRef('data', need(second, 'a data source type'), need(third, 'a data source name')), used: 3 };
          case 'ephemeral': {
            const type = need(second, 'an ephemeral resource type');
            const name = need(third, 'an ephemeral resource name');
            if (!self.source.ephemeral[type]?.[name]) throw new EvalError(`ephemeral.${type}.${name} is not declared in ${self.source.dir}`);
            // Opened during apply only: a plan never knows its values.
            return { value: new Unknown(`ephemeral.${type}.${name}`), used: 3 };
          }
          default:
            if (second === undefined || !/^[a-z0-9_]+$/.test(first) || !first.includes('_')) throw new EvalError(`unknown name "${first}"`);
            return { value: self.resourceRef('managed', first, need(second, 'a resource name')), used: 2 };
        }
      },
    };
    return scope;
  }

  private block(mode: 'managed' | 'data', type: string, name: string): Record<string, unknown> {
    const body = (mode === 'managed' ? this.source.resources : this.source.data)[type]?.[name];
    if (!body) throw new EvalError(`${mode === 'data' ? 'data.' : ''}${type}.${name} is not declared in ${this.source.dir}`);
    return body;
  }

  private address(mode: 'managed' | 'data', type: string, name: string, key?: string | number): string {
    const local = `${mode === 'data' ? 'data.' : ''}${type}.${name}${key === undefined ? '' : keyText(key)}`;
    return this.path ? `${this.path}.${local}` : local;
  }

  /** Instances of a resource: [key, each-value] pairs, or [[undefined, undefined]] for one. */
  instances(mode: 'managed' | 'data', type: string, name: string): [string | number | undefined, unknown][] {
    const body = this.block(mode, type, name);
    const where = this.address(mode, type, name);
    if (body.for_each !== undefined) return this.guard(`${where}.for_each`, () => forEachPairs(evaluateValue(body.for_each, this.scope()), where));
    if (body.count !== undefined) {
      const n = evaluateValue(body.count, this.scope());
      if (typeof n !== 'number') throw new EvalError(`${where}: count must be a number known at plan time`);
      return Array.from({ length: n }, (_, i) => [i, undefined]);
    }
    return [[undefined, undefined]];
  }

  private instanceScope(key: string | number | undefined, each: unknown, body: Record<string, unknown>): Scope {
    if (body.for_each !== undefined) return this.scope({ each: { key, value: each } });
    if (body.count !== undefined) return this.scope({ count: { index: key } });
    return this.scope();
  }

  /** The arguments of one resource instance, one attribute at a time. */
  instanceValue(mode: 'managed' | 'data', type: string, name: string, key: string | number | undefined, each: unknown): Lazy {
    const body = this.block(mode, type, name);
    const address = this.address(mode, type, name, key);
    const scope = this.instanceScope(key, each, body);
    const dynamicNames = Object.keys(((body.dynamic ?? {}) as Record<string, unknown>));
    const names = [...new Set([...Object.keys(body).filter((k) => !META.has(k) && k !== 'dynamic'), ...dynamicNames])];
    return new Lazy(
      address,
      () => names,
      (attr) => this.guard(`${address}.${attr}`, () => evaluateBody(body, scope, attr)[attr]),
      (attr) => new Unknown(`${address}.${attr}`),
    );
  }

  resourceRef(mode: 'managed' | 'data', type: string, name: string): unknown {
    const id = `${mode}.${type}.${name}`;
    if (!this.resourceCache.has(id)) {
      const body = this.block(mode, type, name);
      const pairs = this.instances(mode, type, name);
      if (body.for_each === undefined && body.count === undefined) this.resourceCache.set(id, this.instanceValue(mode, type, name, undefined, undefined));
      else if (body.count !== undefined) this.resourceCache.set(id, pairs.map(([k]) => this.instanceValue(mode, type, name, k, undefined)));
      else this.resourceCache.set(id, Object.fromEntries(pairs.map(([k, v]) => [k, this.instanceValue(mode, type, name, k, v)])));
    }
    return this.resourceCache.get(id);
  }

  child(callName: string, key: string | number | undefined, each: unknown): ModuleInstance {
    const id = `${callName}${key === undefined ? '' : keyText(key)}`;
    const existing = this.children.get(id);
    if (existing) return existing;
    const call = this.source.modules[callName]!;
    const source = this.sources.get(resolve(this.source.dir, String(call.source)))!;
    const scope = call.for_each !== undefined ? this.scope({ each: { key, value: each } }) : this.scope();
    const inputs = new Map<string, () => unknown>();
    for (const [arg, expr] of Object.entries(call)) if (!MODULE_META.has(arg)) inputs.set(arg, () => evaluateValue(expr, scope));
    const path = `${this.path ? `${this.path}.` : ''}module.${id}`;
    const instance = new ModuleInstance(source, path, this.sources, inputs, this.rootDir, this.errors);
    this.children.set(id, instance);
    return instance;
  }

  moduleCalls(): [string, (string | number | undefined)[], unknown[]][] {
    return Object.entries(this.source.modules).map(([name, call]) => {
      if (call.for_each === undefined) return [name, [undefined], [undefined]];
      const pairs = this.guard(`module.${name}.for_each`, () => forEachPairs(evaluateValue(call.for_each, this.scope()), `module.${name}`));
      return [name, pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    });
  }

  moduleRef(name: string): unknown {
    if (!this.moduleCache.has(name)) {
      const call = this.source.modules[name];
      if (!call) throw new EvalError(`module.${name} is not declared in ${this.source.dir}`);
      const [, keys, values] = this.moduleCalls().find(([n]) => n === name)!;
      if (call.for_each === undefined) this.moduleCache.set(name, this.child(name, undefined, undefined).outputs);
      else this.moduleCache.set(name, Object.fromEntries(keys.map((k, i) => [k, this.child(name, k, values[i]).outputs])));
    }
    return this.moduleCache.get(name);
  }

  /** Evaluate everything in this instance and its children into plain data. */
  render(out: Rendered): void {
    for (const name of Object.keys(this.source.variables)) {
      try {
        this.vars.get(name);
        this.validate(name);
      } catch (e) {
        this.error((e as Error).message);
      }
    }
    for (const mode of ['managed', 'data'] as const) {
      const blocks = mode === 'managed' ? this.source.resources : this.source.data;
      for (const [type, byName] of Object.entries(blocks)) {
        for (const [name, body] of Object.entries(byName)) {
          let pairs: [string | number | undefined, unknown][];
          try {
            pairs = this.instances(mode, type, name);
          } catch (e) {
            this.error((e as Error).message);
            continue;
          }
          for (const [key, each] of pairs) {
            const address = this.address(mode, type, name, key);
            let values: Record<string, unknown> = {};
            try {
              values = force(evaluateBody(body, this.instanceScope(key, each, body))) as Record<string, unknown>;
            } catch (e) {
              this.error(`${address}: ${(e as Error).message}`);
            }
            const lifecycle = ((body.lifecycle as Record<string, unknown>[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
            out.resources.push({ address, module: this.path, mode, type, name, ...(key === undefined ? {} : { index: key }), values, lifecycle, sourceDir: this.source.dir });
          }
        }
      }
    }
    let calls: ReturnType<ModuleInstance['moduleCalls']> = [];
    try {
      calls = this.moduleCalls();
    } catch (e) {
      this.error((e as Error).message);
    }
    for (const [name, keys, values] of calls) keys.forEach((k, i) => this.child(name, k, values[i]).render(out));
  }
}

/**
 * A block body with dynamic blocks expanded; `only` limits the work to one attribute. Meta-arguments
 * exist only at a resource's top level: inside a nested block `count` is an ordinary argument
 * (a Cloud Armor rate limit's threshold is one).
 */
export function evaluateBody(body: Record<string, unknown>, scope: Scope, only?: string, nested = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if ((!nested && META.has(k)) || k === 'dynamic' || (only !== undefined && k !== only)) continue;
    if (Array.isArray(v) && v.length > 0 && v.every(isObject)) out[k] = v.map((b) => evaluateBody(b as Record<string, unknown>, scope, undefined, true));
    else out[k] = evaluateValue(v, scope);
  }
  for (const [blockName, dyns] of Object.entries((body.dynamic ?? {}) as Record<string, Record<string, unknown>[]>)) {
    if (only !== undefined && blockName !== only) continue;
    for (const dyn of dyns) {
      const iterator = typeof dyn.iterator === 'string' ? stripInterpolation(dyn.iterator) : blockName;
      const items = evaluateValue(dyn.for_each, scope);
      if (items instanceof Unknown) throw new EvalError(`dynamic "${blockName}": for_each is not known until apply (${items.text})`);
      const pairs: [unknown, unknown][] = Array.isArray(items) ? items.map((v, i) => [i, v]) : forEachPairs(items, `dynamic "${blockName}"`);
      const content = ((dyn.content as Record<string, unknown>[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
      const list = (out[blockName] ??= []) as unknown[];
      for (const [key, value] of pairs) list.push(evaluateBody(content, scope.with({ [iterator]: { key, value } }), undefined, true));
    }
  }
  return out;
}

export interface RenderOptions {
  /** Root variable values, as -var would give them. */
  vars?: Record<string, unknown>;
  /** Parsed tfvars values (later ones win), applied before vars. */
  tfvars?: Record<string, unknown>[];
}

export async function renderConfiguration(rootDir: string, options: RenderOptions = {}): Promise<Rendered> {
  const root = resolve(rootDir);
  const sources = new Map<string, ModuleSource>();
  await loadTree(root, sources);
  const given: Record<string, unknown> = Object.assign({}, ...(options.tfvars ?? []), options.vars ?? {});
  await prepareValues(given);
  const errors: string[] = [];
  const inputs = new Map<string, () => unknown>();
  const source = sources.get(root)!;
  for (const [name, value] of Object.entries(given)) {
    if (!(name in source.variables)) errors.push(`var.${name}: a value was given for a variable this configuration does not declare`);
    else inputs.set(name, () => value);
  }
  const instance = new ModuleInstance(source, '', sources, inputs, root, errors);
  const out: Rendered = { resources: [], outputs: {}, imports: [], errors };
  instance.render(out);
  for (const name of Object.keys(source.outputs)) {
    try {
      out.outputs[name] = force(instance.outputs.get(name));
    } catch (e) {
      errors.push(`output.${name}: ${(e as Error).message}`);
    }
  }
  for (const imp of source.imports) {
    try {
      const to = stripInterpolation(imp.to);
      if (imp.for_each === undefined) {
        out.imports.push({ to, id: evaluateValue(imp.id, instance.scope()) });
        continue;
      }
      // One import per for_each element; the target's index is each.key or each.value.
      for (const [key, value] of forEachPairs(evaluateValue(imp.for_each, instance.scope()), 'import')) {
        const scope = instance.scope({ each: { key, value } });
        const target = to.replace(/\[each\.(key|value)\]/g, (_m, which: string) => keyText(String(which === 'key' ? key : value)));
        out.imports.push({ to: target, id: evaluateValue(imp.id, scope) });
      }
    } catch (e) {
      errors.push(`import: ${(e as Error).message}`);
    }
  }
  return out;
}
