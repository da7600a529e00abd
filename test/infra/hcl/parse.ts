// HCL through HashiCorp's own parser (hcl2json, compiled to WebAssembly): files to JSON, and
// expressions to syntax trees. Expressions are parsed ahead of evaluation and cached, so the
// evaluator itself can stay synchronous.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getExpressionAst, parse } from '@cdktf/hcl2json';
import type { ExpressionType } from '@cdktf/hcl2json/lib/syntax-tree.js';

export type Ast = ExpressionType;

/** One module directory: every .tf file merged, plus each file's own JSON for reporting. */
export interface ModuleSource {
  dir: string;
  files: Record<string, Record<string, unknown>>;
  variables: Record<string, Record<string, unknown>>;
  locals: Record<string, unknown>;
  resources: Record<string, Record<string, Record<string, unknown>>>;
  data: Record<string, Record<string, Record<string, unknown>>>;
  /** Ephemeral resources: never in a plan or state; their values are known only during apply. */
  ephemeral: Record<string, Record<string, Record<string, unknown>>>;
  modules: Record<string, Record<string, unknown>>;
  outputs: Record<string, Record<string, unknown>>;
  imports: Record<string, unknown>[];
  terraform: Record<string, unknown>[];
  providers: Record<string, Record<string, unknown>[]>;
}

const astCache = new Map<string, Ast>();

export async function parseFile(name: string, text: string): Promise<Record<string, unknown>> {
  return (await parse(name, text)) as Record<string, unknown>;
}

export async function loadModuleSource(dir: string): Promise<ModuleSource> {
  const source: ModuleSource = { dir, files: {}, variables: {}, locals: {}, resources: {}, data: {}, ephemeral: {}, modules: {}, outputs: {}, imports: [], terraform: [], providers: {} };
  const names = readdirSync(dir).filter((n) => n.endsWith('.tf')).sort();
  for (const name of names) {
    const json = await parseFile(join(dir, name), readFileSync(join(dir, name), 'utf8'));
    source.files[name] = json;
    const one = <T>(block: unknown): T => (Array.isArray(block) ? block[0] : block) as T;
    for (const [k, v] of Object.entries((json.variable ?? {}) as Record<string, unknown>)) source.variables[k] = one(v);
    for (const l of (json.locals ?? []) as Record<string, unknown>[]) Object.assign(source.locals, l);
    for (const [type, byName] of Object.entries((json.resource ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const [n, v] of Object.entries(byName)) (source.resources[type] ??= {})[n] = one(v);
    }
    for (const [type, byName] of Object.entries((json.data ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const [n, v] of Object.entries(byName)) (source.data[type] ??= {})[n] = one(v);
    }
    for (const [type, byName] of Object.entries((json.ephemeral ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const [n, v] of Object.entries(byName)) (source.ephemeral[type] ??= {})[n] = one(v);
    }
    for (const [k, v] of Object.entries((json.module ?? {}) as Record<string, unknown>)) source.modules[k] = one(v);
    for (const [k, v] of Object.entries((json.output ?? {}) as Record<string, unknown>)) source.outputs[k] = one(v);
    source.imports.push(...((json.import ?? []) as Record<string, unknown>[]));
    source.terraform.push(...((json.terraform ?? []) as Record<string, unknown>[]));
    for (const [k, v] of Object.entries((json.provider ?? {}) as Record<string, Record<string, unknown>[]>)) (source.providers[k] ??= []).push(...v);
  }
  await prepareExpressions(source);
  return source;
}

/** Split a JSON string from hcl2json into literal text and `${...}` interpolations. */
export function splitTemplate(text: string): ({ literal: string } | { expr: string })[] {
  const parts: ({ literal: string } | { expr: string })[] = [];
  let i = 0;
  let literal = '';
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    // A stack of what we are inside: an expression ('{' for a brace, '$' for ${) or a string.
    const stack: string[] = ['$'];
    let j = i + 2;
    while (j < text.length && stack.length > 0) {
      const c = text[j]!;
      const top = stack[stack.length - 1];
      if (top === '"') {
        if (c === '\\') j += 1;
        else if (c === '"') stack.pop();
        else if (c === '$' && text[j + 1] === '{') {
          stack.push('$');
          j += 1;
        }
      } else if (c === '"') stack.push('"');
      else if (c === '{') stack.push('{');
      else if (c === '}') stack.pop();
      j += 1;
    }
    const depth = stack.length;
    if (depth !== 0) throw new Error(`unterminated interpolation in ${JSON.stringify(text)}`);
    if (literal) parts.push({ literal });
    literal = '';
    parts.push({ expr: text.slice(i + 2, j - 1) });
    i = j;
  }
  if (literal) parts.push({ literal });
  return parts;
}

export function cachedAst(expr: string): Ast {
  const ast = astCache.get(expr);
  if (!ast) throw new Error(`expression was not prepared: ${expr}`);
  return ast;
}

/** Parse an expression and every sub-expression the evaluator will ask for by its text. */
export async function prepareExpression(expr: string): Promise<void> {
  if (astCache.has(expr)) return;
  const ast = await getExpressionAst('expression.tf', expr);
  if (!ast) throw new Error(`could not parse expression: ${expr}`);
  astCache.set(expr, ast);
  const pending: string[] = [];
  const walk = (node: Ast) => {
    if (node.type === 'for') {
      const m = node.meta;
      for (const e of [m.collectionExpression, m.keyExpression, m.valueExpression, m.conditionalExpression]) if (e) pending.push(e);
    } else if (node.type === 'object') {
      for (const [key, value] of Object.entries(node.meta.items)) {
        pending.push(value);
        if (/^[("]/.test(key)) pending.push(key);
      }
    }
    for (const child of node.children ?? []) if (child && child.type) walk(child);
  };
  walk(ast);
  for (const e of pending) await prepareExpression(e);
}

async function prepareValue(value: unknown): Promise<void> {
  if (typeof value === 'string') {
    if (!value.includes('${')) return;
    for (const part of splitTemplate(value)) if ('expr' in part) await prepareExpression(part.expr);
  } else if (Array.isArray(value)) {
    for (const v of value) await prepareValue(v);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) await prepareValue(v);
  }
}

async function prepareExpressions(source: ModuleSource): Promise<void> {
  for (const json of Object.values(source.files)) await prepareValue(json);
}

/** Parse and prepare values given from outside (tfvars files, -var). */
export async function prepareValues(value: unknown): Promise<void> {
  await prepareValue(value);
}
