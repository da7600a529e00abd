// The rendered configuration in the shape of `tofu show -json <plan>` (format 1.2) for a first
// apply: every resource a create, computed values left out of `after` and flagged in
// `after_unknown`, as OpenTofu writes them.

import type { Rendered } from './hcl/render.ts';
import { Unknown } from './hcl/values.ts';

function split(value: unknown): { after: unknown; unknown: unknown } {
  if (value instanceof Unknown) return { after: undefined, unknown: true };
  if (Array.isArray(value)) {
    const parts = value.map(split);
    return { after: parts.map((p) => p.after ?? null), unknown: parts.map((p) => p.unknown) };
  }
  if (value && typeof value === 'object') {
    const after: Record<string, unknown> = {};
    const unknown: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = split(v);
      if (p.after !== undefined) after[k] = p.after;
      if (p.unknown !== false && !(typeof p.unknown === 'object' && Object.keys(p.unknown as object).length === 0)) unknown[k] = p.unknown;
    }
    return { after, unknown };
  }
  return { after: value, unknown: false };
}

export function toPlanJson(rendered: Rendered, variables: Record<string, unknown>): Record<string, unknown> {
  const changes = rendered.resources.map((r) => {
    const { after, unknown } = split(r.values);
    return {
      address: r.address,
      ...(r.module ? { module_address: r.module } : {}),
      mode: r.mode,
      type: r.type,
      name: r.name,
      ...(r.index === undefined ? {} : { index: r.index }),
      provider_name: 'registry.opentofu.org/hashicorp/google',
      change: { actions: r.mode === 'data' ? ['read'] : ['create'], before: null, after, after_unknown: unknown, before_sensitive: false, after_sensitive: {} },
    };
  });
  const outputs = Object.fromEntries(
    Object.entries(rendered.outputs).map(([name, value]) => {
      const { after, unknown } = split(value);
      return [name, { actions: ['create'], before: null, after: after ?? null, after_unknown: unknown, before_sensitive: false, after_sensitive: false }];
    }),
  );
  return {
    format_version: '1.2',
    terraform_version: '1.12.6',
    variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, { value: v }])),
    resource_changes: changes,
    output_changes: outputs,
    errored: false,
  };
}
