// What the fake tofu plans towards. Real tofu evaluates HCL; the fake reads a model file,
// `fake-model.json`, from the working directory (-chdir): the resources and outputs that
// configuration would produce, with `${var.x}` placeholders filled from -var/-var-file.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ModelResource {
  type: string;
  attributes: Record<string, unknown>;
}

export interface Model {
  resources: Record<string, ModelResource>;
  outputs: Record<string, { value: unknown; sensitive?: boolean }>;
  /** Variables the configuration declares; a required one without a value fails the plan. */
  variables?: Record<string, { default?: string }>;
}

export const MODEL_FILE = 'fake-model.json';

export function readModel(workdir: string): Model | null {
  const file = join(workdir, MODEL_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Model;
}

/** Parse `name = "value"` lines of a .tfvars file (the subset the fake needs). */
export function parseTfvars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (m && !line.trim().startsWith('#')) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/** Substitute ${var.x}; report variables that are used but have no value. */
export function resolveModel(model: Model, values: Record<string, string>): { model: Model; missing: string[] } {
  const missing = new Set<string>();
  const all: Record<string, string> = {};
  for (const [name, decl] of Object.entries(model.variables ?? {})) if (decl.default !== undefined) all[name] = decl.default;
  Object.assign(all, values);
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$\{var\.([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
        if (all[name] === undefined) {
          missing.add(name);
          return '';
        }
        return all[name]!;
      });
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  for (const name of Object.keys(model.variables ?? {})) if (all[name] === undefined) missing.add(name);
  return { model: fill(model) as Model, missing: [...missing] };
}

/** Split a resource address into the fields of a v4 state entry. */
export function splitAddress(address: string): { module?: string; type: string; name: string; indexKey?: string | number } {
  const m = /^((?:module\.[A-Za-z0-9_-]+(?:\[[^\]]+\])?\.)*)([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[(.+)\])?$/.exec(address);
  if (!m) throw new Error(`fake tofu: cannot parse resource address ${address}`);
  const index = m[4];
  return {
    module: m[1] ? m[1].replace(/\.$/, '') : undefined,
    type: m[2]!,
    name: m[3]!,
    indexKey: index === undefined ? undefined : /^\d+$/.test(index) ? Number(index) : JSON.parse(index),
  };
}

export function joinAddress(entry: { module?: string; type: string; name: string }, indexKey?: string | number): string {
  const base = `${entry.module ? `${entry.module}.` : ''}${entry.type}.${entry.name}`;
  if (indexKey === undefined) return base;
  return `${base}[${typeof indexKey === 'number' ? indexKey : JSON.stringify(indexKey)}]`;
}
