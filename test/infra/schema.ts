// Every argument the configuration writes must exist in the google provider's schema (the
// facts in test/fixtures/infra/google-provider-schema.json, with their source), and literal
// values of enumerated arguments must be ones the provider accepts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/process.ts';
import type { ModuleSource } from './hcl/parse.ts';

interface ResourceSchema {
  arguments: string[];
  blocks: string[];
}

export interface ProviderSchema {
  resources: Record<string, ResourceSchema>;
  data_sources: Record<string, ResourceSchema>;
  enums: Record<string, string[]>;
}

export function loadProviderSchema(): ProviderSchema {
  return JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/infra/google-provider-schema.json'), 'utf8')) as ProviderSchema;
}

const META = new Set(['count', 'for_each', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);
const isBlockList = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x));

/** Problems with one resource body, paths relative to the resource. */
function checkBody(kind: string, type: string, schema: ResourceSchema, enums: Record<string, string[]>, body: Record<string, unknown>, prefix: string, where: string): string[] {
  const out: string[] = [];
  const visit = (key: string, value: unknown) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!schema.arguments.includes(path)) {
      out.push(`${where}: ${kind} ${type} has no argument "${path}" in provider v7.45.0`);
      return;
    }
    const allowed = enums[`${type}.${path}`];
    if (allowed && typeof value === 'string' && !value.includes('${') && !allowed.includes(value)) out.push(`${where}: ${type}.${path} = "${value}" is not one of ${allowed.join(', ')}`);
    if (schema.blocks.includes(path)) {
      if (!isBlockList(value)) out.push(`${where}: ${type}.${path} is a block; write it as ${key} { ... }`);
      else for (const b of value) out.push(...checkBody(kind, type, schema, enums, b, path, where));
    }
  };
  for (const [key, value] of Object.entries(body)) {
    if (prefix === '' && META.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, dyns] of Object.entries(value as Record<string, Record<string, unknown>[]>)) {
        const path = prefix ? `${prefix}.${name}` : name;
        if (!schema.blocks.includes(path)) {
          out.push(`${where}: dynamic "${name}" is not a block of ${type} (${path})`);
          continue;
        }
        for (const dyn of dyns) for (const content of (dyn.content ?? []) as Record<string, unknown>[]) out.push(...checkBody(kind, type, schema, enums, content, path, where));
      }
      continue;
    }
    visit(key, value);
  }
  return out;
}

export function checkAgainstSchema(sources: ModuleSource[], schema: ProviderSchema): string[] {
  const out: string[] = [];
  for (const source of sources) {
    for (const [kind, blocks, table] of [
      ['resource', source.resources, schema.resources],
      ['data source', source.data, schema.data_sources],
    ] as const) {
      for (const [type, byName] of Object.entries(blocks)) {
        for (const [name, body] of Object.entries(byName)) {
          const where = `${source.dir.replace(`${repoRoot}/`, '').replace(/^.*?(infra\/)/, '$1')} ${type}.${name}`;
          const s = table[type];
          if (!s) {
            out.push(`${where}: ${kind} type ${type} is not in the provider schema facts (add it to test/fixtures/infra/google-provider-schema.json with its source)`);
            continue;
          }
          out.push(...checkBody(kind, type, s, schema.enums, body, '', where));
        }
      }
    }
  }
  return out;
}
