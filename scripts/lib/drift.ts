// What a plan against the live state says differs, per resource: what OpenTofu would do to it and
// which attributes differ, so the person on call sees "the gateway's max instances were changed
// in the console", not a 400-line plan.

export type DriftAction = 'create' | 'update' | 'replace' | 'destroy';

export interface DriftedResource {
  address: string;
  type: string;
  action: DriftAction;
  /** Top-level attributes whose planned value differs from the live one (updates and replacements). */
  attributes: string[];
}

export interface DriftSummary {
  resources: DriftedResource[];
  outputs: string[];
}

interface PlannedChange {
  address: string;
  type: string;
  change: { actions: string[]; before?: Record<string, unknown> | null; after?: Record<string, unknown> | null; after_unknown?: Record<string, unknown> };
}

function actionOf(actions: string[]): DriftAction | null {
  if (actions.includes('delete') && actions.includes('create')) return 'replace';
  if (actions.includes('create')) return 'create';
  if (actions.includes('update')) return 'update';
  if (actions.includes('delete')) return 'destroy';
  return null;
}

function differing(change: PlannedChange['change']): string[] {
  const before = change.before ?? {};
  const after = change.after ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(change.after_unknown ?? {})]);
  return [...keys].filter((k) => change.after_unknown?.[k] === true || JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

export function summarizeDrift(planJson: string): DriftSummary {
  const plan = JSON.parse(planJson) as { resource_changes?: PlannedChange[]; output_changes?: Record<string, { actions: string[] }> };
  const resources: DriftedResource[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const action = actionOf(rc.change.actions);
    if (!action) continue;
    resources.push({ address: rc.address, type: rc.type, action, attributes: action === 'update' || action === 'replace' ? differing(rc.change) : [] });
  }
  resources.sort((a, b) => a.address.localeCompare(b.address));
  const outputs = Object.entries(plan.output_changes ?? {})
    .filter(([, oc]) => !oc.actions.includes('no-op'))
    .map(([name]) => name)
    .sort();
  return { resources, outputs };
}

const VERB: Record<DriftAction, string> = {
  create: 'missing in production: the code would create it',
  update: 'differs: the code would change',
  replace: 'differs so that the code would replace it:',
  destroy: 'in production but not in the code: the code would destroy it',
};

/** Grouped by resource type, one line per resource. */
export function describeDrift(summary: DriftSummary): string {
  const byType = new Map<string, DriftedResource[]>();
  for (const r of summary.resources) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const lines = [`Production differs from the code in ${summary.resources.length} resource${summary.resources.length === 1 ? '' : 's'}:`];
  for (const [type, resources] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${type}`);
    for (const r of resources) lines.push(`    ${r.address}: ${VERB[r.action]}${r.attributes.length ? ` ${r.attributes.join(', ')}` : ''}`);
  }
  if (summary.outputs.length) lines.push(`  outputs that would change: ${summary.outputs.join(', ')}`);
  lines.push('Changed by hand on purpose: put the change in infra/ and deploy it. Otherwise: make production-deploy puts production back as the code says.');
  return lines.join('\n');
}
