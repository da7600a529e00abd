// Writes test/fixtures/infra/production-plan.json: the production plan for a first apply, in
// `tofu show -json` form, from the configuration as it is now. Run it after changing infra/:
//   node --import tsx test/infra/record-plan.ts
// With a real OpenTofu and credentials, `tofu show -json` of a real plan can replace it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/process.ts';
import { toPlanJson } from './plan-json.ts';
import { DEPLOY_VARS, renderProduction } from './production.ts';

export const PLAN_FIXTURE = join(repoRoot, 'test/fixtures/infra/production-plan.json');

export async function recordedPlan(): Promise<Record<string, unknown>> {
  const rendered = await renderProduction();
  if (rendered.errors.length) throw new Error(`the configuration does not plan:\n${rendered.errors.join('\n')}`);
  return toPlanJson(rendered, DEPLOY_VARS);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(PLAN_FIXTURE, `${JSON.stringify(await recordedPlan(), null, 1)}\n`);
  console.log(`wrote ${PLAN_FIXTURE}`);
}
