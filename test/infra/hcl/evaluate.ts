// Evaluates HCL expressions (syntax trees from hcl2json) the way OpenTofu does at plan time:
// variables and locals are known, provider-computed attributes are Unknown.

import { cachedAst, splitTemplate, type Ast } from './parse.ts';
import { functions } from './functions.ts';
import { containsUnknown, force, isObject, Lazy, toStr, typeName, Unknown } from './values.ts';

export interface Scope {
  /** Resolve the first name(s) of a reference; returns the value and how many parts it used. */
  resolve(parts: string[]): { value: unknown; used: number };
  rootDir: string;
  /** A scope with extra names (for-expression and dynamic-block iterators). */
  with(names: Record<string, unknown>): Scope;
}

export class EvalError extends Error {}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** The text of a quoted HCL string literal. */
export function unescapeHcl(raw: string): string {
  return raw
    .replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (m, c: string) => {
      if (c.length > 1) return String.fromCodePoint(parseInt(c.slice(1), 16));
      const out = ESCAPES[c];
      if (out === undefined) throw new EvalError(`invalid escape sequence ${m} in a string`);
      return out;
    })
    .replace(/\$\$\{/g, '${')
    .replace(/%%\{/g, '%{');
}

function segmentKey(segment: string): string | number {
  if (/^\d+$/.test(segment)) return Number(segment);
  if (segment.startsWith('"')) return JSON.parse(segment) as string;
  throw new EvalError(`unsupported index ${segment}`);
}

export function getAttr(v: unknown, name: string): unknown {
  if (v instanceof Unknown) return new Unknown(`${v.text}.${name}`);
  if (v instanceof Lazy) return v.get(name);
  if (isObject(v)) {
    if (!(name in v)) throw new EvalError(`object has no attribute "${name}" (it has ${Object.keys(v).join(', ') || 'none'})`);
    return v[name];
  }
  throw new EvalError(`cannot read attribute "${name}" of a ${typeName(v)} value`);
}

export function getIndex(v: unknown, key: unknown): unknown {
  if (key instanceof Unknown) return new Unknown(`(element of ${v instanceof Unknown ? v.text : 'a collection'} at a computed key)`);
  if (v instanceof Unknown) return new Unknown(`${v.text}[${JSON.stringify(key)}]`);
  if (Array.isArray(v)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= v.length) throw new EvalError(`index ${String(key)} out of range for a list of ${v.length}`);
    return v[i];
  }
  if (v instanceof Lazy) return v.get(String(key));
  if (isObject(v)) {
    const k = String(key);
    if (!(k in v)) throw new EvalError(`no element with key ${JSON.stringify(k)} (keys: ${Object.keys(v).join(', ') || 'none'})`);
    return v[k];
  }
  throw new EvalError(`cannot index a ${typeName(v)} value`);
}

function traverse(v: unknown, parts: { type: string; segment: string }[]): unknown {
  let out = v;
  for (const p of parts) out = p.type === 'nameTraversal' ? getAttr(out, p.segment) : getIndex(out, segmentKey(p.segment));
  return out;
}

function truthy(v: unknown, what: string): boolean | Unknown {
  if (v instanceof Unknown) return v;
  if (typeof v !== 'boolean') throw new EvalError(`${what} must be a bool, got ${typeName(v)}`);
  return v;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(force(a)) === JSON.stringify(force(b));
}

function binary(op: string, l: unknown, r: unknown): unknown {
  if (op === 'logicalAnd' || op === 'logicalOr') {
    const a = truthy(l, op);
    const b = truthy(r, op);
    if (a instanceof Unknown || b instanceof Unknown) return new Unknown(`(${op} of a computed value)`);
    return op === 'logicalAnd' ? a && b : a || b;
  }
  if (op === 'equal' || op === 'notEqual') {
    // A value with computed parts is still known not to be null.
    const nullCheck = (l === null && !(r instanceof Unknown)) || (r === null && !(l instanceof Unknown));
    if (!nullCheck && (containsUnknown(l) || containsUnknown(r))) return new Unknown('(comparison with a computed value)');
    if (nullCheck) return op === 'equal' ? l === r : l !== r;
    return op === 'equal' ? equal(l, r) : !equal(l, r);
  }
  if (l instanceof Unknown || r instanceof Unknown) return new Unknown('(arithmetic on a computed value)');
  const a = Number(l);
  const b = Number(r);
  if (Number.isNaN(a) || Number.isNaN(b)) throw new EvalError(`${op} needs numbers, got ${typeName(l)} and ${typeName(r)}`);
  switch (op) {
    case 'add': return a + b;
    case 'subtract': return a - b;
    case 'multiply': return a * b;
    case 'divide': return a / b;
    case 'modulo': return a % b;
    case 'greaterThan': return a > b;
    case 'greaterThanOrEqual': return a >= b;
    case 'lessThan': return a < b;
    case 'lessThanOrEqual': return a <= b;
    default: throw new EvalError(`unsupported operator ${op}`);
  }
}

function objectKey(key: string, scope: Scope): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return key;
  const k = toStr(evaluateExpression(key.startsWith('(') ? key.slice(1, -1) : key, scope));
  if (k instanceof Unknown) throw new EvalError(`object key ${key} is not known until apply`);
  return k;
}

function iterate(collection: unknown): [unknown, unknown][] {
  if (Array.isArray(collection)) return collection.map((v, i) => [i, v]);
  if (collection instanceof Lazy) return [...collection.keys()].sort().map((k) => [k, collection.get(k)]);
  if (isObject(collection)) return Object.keys(collection).sort().map((k) => [k, collection[k]]);
  throw new EvalError(`cannot iterate over a ${typeName(collection)} value`);
}

export function evaluateAst(ast: Ast, scope: Scope): unknown {
  switch (ast.type) {
    case 'literalValue': {
      const { type, value } = ast.meta;
      if (type === 'number') return Number(value);
      if (type === 'bool') return value === 'true';
      if (type === 'dynamic') return null;
      return value;
    }
    case 'templateWrap':
      return evaluateAst(ast.children[0]!, scope);
    case 'template': {
      // hcl2json hands quoted-string literals over as written, escapes and all.
      const quoted = ast.meta.value.startsWith('"');
      const parts = ast.children.map((c) => (quoted && c.type === 'literalValue' ? unescapeHcl(c.meta.value) : toStr(evaluateAst(c, scope))));
      if (parts.some((p) => p instanceof Unknown)) return new Unknown(parts.map((p) => (p instanceof Unknown ? p.toString() : p)).join(''));
      return parts.join('');
    }
    case 'tuple':
      return ast.children.map((c) => evaluateAst(c, scope));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(ast.meta.items)) out[objectKey(key, scope)] = evaluateExpression(value, scope);
      return out;
    }
    case 'scopeTraversal': {
      const parts = ast.meta.traversal;
      const { value, used } = scope.resolve(parts.map((p) => (p.type === 'nameTraversal' ? p.segment : `[${p.segment}]`)));
      return traverse(value, parts.slice(used));
    }
    case 'relativeTraversal':
      return traverse(evaluateAst(ast.children[0]!, scope), ast.meta.traversal);
    case 'index':
      return getIndex(evaluateAst(ast.children[0]!, scope), evaluateAst(ast.children[1]!, scope));
    case 'splat': {
      const source = evaluateAst(ast.children[0]!, scope);
      if (source instanceof Unknown) return new Unknown(`${source.text}[*]`);
      const each = ast.children[1] as { meta?: { traversal?: { type: string; segment: string }[] } } | undefined;
      const list = source === null ? [] : Array.isArray(source) ? source : [source];
      return list.map((v) => traverse(v, each?.meta?.traversal ?? []));
    }
    case 'conditional': {
      const c = truthy(evaluateAst(ast.children[0]!, scope), 'condition');
      if (c instanceof Unknown) return new Unknown(`(condition on ${c.text})`);
      return evaluateAst(ast.children[c ? 1 : 2]!, scope);
    }
    case 'unaryOp': {
      const v = evaluateAst(ast.children[0]!, scope);
      if (v instanceof Unknown) return v;
      if (ast.meta.operator === 'logicalNot') return !truthy(v, '!');
      return -Number(v);
    }
    case 'binaryOp':
      return binary(ast.meta.operator, evaluateAst(ast.children[0]!, scope), evaluateAst(ast.children[1]!, scope));
    case 'function': {
      const name = ast.meta.name;
      if (name === 'can') {
        try {
          const v = evaluateAst(ast.children[0]!, scope);
          return containsUnknown(v) ? new Unknown('(can of a computed value)') : true;
        } catch {
          return false;
        }
      }
      if (name === 'try') {
        for (const arg of ast.children) {
          try {
            return evaluateAst(arg, scope);
          } catch {
            // try the next one
          }
        }
        throw new EvalError('try: no argument could be evaluated');
      }
      const fn = functions[name];
      if (!fn) throw new EvalError(`function ${name}() is not supported by this evaluator`);
      let args = ast.children.map((c) => evaluateAst(c, scope));
      if (ast.meta.expandedFinalArgument) {
        const last = args.pop();
        if (!Array.isArray(last)) throw new EvalError(`${name}(...): the expanded argument must be a list`);
        args = [...args, ...last];
      }
      try {
        return fn(args, { rootDir: scope.rootDir });
      } catch (e) {
        throw new EvalError(`${name}(): ${(e as Error).message}`);
      }
    }
    case 'for': {
      const m = ast.meta;
      const collection = evaluateExpression(m.collectionExpression, scope);
      if (collection instanceof Unknown) return new Unknown(`(for over ${collection.text})`);
      const isMap = m.openRangeValue === '{';
      const out: unknown[] = [];
      const map: Record<string, unknown> = {};
      for (const [k, v] of iterate(collection)) {
        const names: Record<string, unknown> = { [m.valVar]: v };
        if (m.keyVar) names[m.keyVar] = k;
        const inner = scope.with(names);
        if (m.conditionalExpression) {
          const keep = truthy(evaluateExpression(m.conditionalExpression, inner), 'for condition');
          if (keep instanceof Unknown) throw new EvalError(`for expression filter depends on a computed value (${keep.text})`);
          if (!keep) continue;
        }
        const value = evaluateExpression(m.valueExpression, inner);
        if (!isMap) {
          out.push(value);
          continue;
        }
        const key = toStr(evaluateExpression(m.keyExpression, inner));
        if (key instanceof Unknown) throw new EvalError(`for expression key is not known until apply (${key.text})`);
        if (m.groupedValue) ((map[key] ??= []) as unknown[]).push(value);
        else if (key in map) throw new EvalError(`for expression produced the key "${key}" twice`);
        else map[key] = value;
      }
      return isMap ? map : out;
    }
    case '' as string:
      // A parenthesised expression.
      if ((ast as Ast).children?.length === 1) return evaluateAst((ast as Ast).children[0]!, scope);
      throw new EvalError('unsupported empty expression node');
    default:
      throw new EvalError(`unsupported expression type ${(ast as { type: string }).type}`);
  }
}

export function evaluateExpression(expr: string, scope: Scope): unknown {
  return evaluateAst(cachedAst(expr), scope);
}

/** Evaluate a JSON value from hcl2json: strings with ${...} are templates, the rest is data. */
export function evaluateValue(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const parts = splitTemplate(value);
    if (parts.length === 1 && 'expr' in parts[0]!) return evaluateExpression(parts[0].expr, scope);
    const strs = parts.map((p) => ('literal' in p ? p.literal : toStr(evaluateExpression(p.expr, scope))));
    if (strs.some((s) => s instanceof Unknown)) return new Unknown(strs.map((s) => (s instanceof Unknown ? s.toString() : s)).join(''));
    return strs.join('');
  }
  if (Array.isArray(value)) return value.map((v) => evaluateValue(v, scope));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateValue(v, scope)]));
  return value;
}
