// The OpenTofu commands the production runbooks share, for the repository's configuration or
// for an older commit's configuration checked out in a worktree (rollback).

import { runtimeVar, type Var } from './command.ts';
import { git, gcloud, tofu } from './cli.ts';
import { identityModeEnv } from './identity-mode.ts';
import { IMAGE_TAG, PROJECT_ID, REGION, STATE_BUCKET, STATE_PREFIX } from './gcp.ts';
import { configVar } from './command.ts';

export const INFRA_DIR = 'infra/environments/production';
/** Plan file, relative to the configuration directory (tofu resolves paths after -chdir). */
export const PLAN_FILE = 'production.tfplan';
/** Settings besides project, region and image tag; gitignored, documented by its .example. */
export const TFVARS_FILE = 'production.tfvars';

/** The commit being deployed: the plan records it, so a state backup knows what produced it. */
export const GIT_COMMIT = runtimeVar('GIT_COMMIT');
export const UNCOMMITTED = runtimeVar('UNCOMMITTED_CHANGES');

/**
 * What every plan passes besides -var: the gateway's identity mode the state records, and where
 * the databases live (DATABASE_MODE of env/production.env). Environment rather than -var, so a
 * configuration from before a variable existed ignores it instead of failing.
 */
export const planEnv = { ...identityModeEnv, TF_VAR_database_mode: configVar('DATABASE_MODE') };

export const gitCommit = git`rev-parse HEAD`.captureInto(GIT_COMMIT);
export const uncommittedChanges = git`status --porcelain -- infra services.yaml supabase`.captureInto(UNCOMMITTED);

export interface InfraCommands {
  /** `tofu output -raw <name>` of this configuration's state. */
  outputRaw(name: string): ReturnType<typeof tofu>;
  init: ReturnType<typeof tofu>;
  plan: ReturnType<typeof tofu>;
  show: ReturnType<typeof tofu>;
  apply: ReturnType<typeof tofu>;
  output: ReturnType<typeof tofu>;
}

/**
 * Commands against one configuration directory. `dir` is the repository's own configuration
 * (a literal path) or a Var holding a worktree; `tfvars` must then be absolute.
 */
export function infraCommands(where: { dir: string } | { worktree: Var; tfvars: Var }, imageTag: Var = IMAGE_TAG): InfraCommands {
  if ('dir' in where) {
    const d = where.dir;
    return {
      outputRaw: (name) => tofu`-chdir=${d} output -raw ${name}`,
      init: tofu`-chdir=${d} init -input=false -backend-config=bucket=${STATE_BUCKET} -backend-config=prefix=${STATE_PREFIX}`,
      plan: tofu`-chdir=${d} plan -input=false -detailed-exitcode -var-file=${TFVARS_FILE} -var=project_id=${PROJECT_ID} -var=region=${REGION} -var=image_tag=${imageTag} -var=git_commit=${GIT_COMMIT} -out=${PLAN_FILE}`
        .withEnv(planEnv)
        .allowExitCodes(2)
        .liveOutput(),
      show: tofu`-chdir=${d} show -json ${PLAN_FILE}`.withoutLoggingStdout(),
      apply: tofu`-chdir=${d} apply -input=false ${PLAN_FILE}`.liveOutput(),
      output: tofu`-chdir=${d} output -json`.withoutLoggingStdout(),
    };
  }
  const w = where.worktree;
  const f = where.tfvars;
  return {
    outputRaw: (name) => tofu`-chdir=${w}/${INFRA_DIR} output -raw ${name}`,
    init: tofu`-chdir=${w}/${INFRA_DIR} init -input=false -backend-config=bucket=${STATE_BUCKET} -backend-config=prefix=${STATE_PREFIX}`,
    plan: tofu`-chdir=${w}/${INFRA_DIR} plan -input=false -detailed-exitcode -var-file=${f} -var=project_id=${PROJECT_ID} -var=region=${REGION} -var=image_tag=${imageTag} -var=git_commit=${GIT_COMMIT} -out=${PLAN_FILE}`
      .withEnv(planEnv)
      .allowExitCodes(2)
      .liveOutput(),
    show: tofu`-chdir=${w}/${INFRA_DIR} show -json ${PLAN_FILE}`.withoutLoggingStdout(),
    apply: tofu`-chdir=${w}/${INFRA_DIR} apply -input=false ${PLAN_FILE}`.liveOutput(),
    output: tofu`-chdir=${w}/${INFRA_DIR} output -json`.withoutLoggingStdout(),
  };
}

export const repoInfra = infraCommands({ dir: INFRA_DIR });

/** What `tofu show -json <plan>` says will change, for the summary printed before apply. */
export interface PlanSummary {
  create: string[];
  update: string[];
  replace: string[];
  destroy: string[];
  outputsChanged: string[];
}

export function summarizePlan(planJson: string): PlanSummary {
  const plan = JSON.parse(planJson) as {
    resource_changes?: { address: string; change: { actions: string[] } }[];
    output_changes?: Record<string, { actions: string[] }>;
  };
  const summary: PlanSummary = { create: [], update: [], replace: [], destroy: [], outputsChanged: [] };
  for (const rc of plan.resource_changes ?? []) {
    const a = rc.change.actions;
    if (a.includes('delete') && a.includes('create')) summary.replace.push(rc.address);
    else if (a.includes('create')) summary.create.push(rc.address);
    else if (a.includes('update')) summary.update.push(rc.address);
    else if (a.includes('delete')) summary.destroy.push(rc.address);
  }
  for (const [name, oc] of Object.entries(plan.output_changes ?? {})) if (!oc.actions.includes('no-op')) summary.outputsChanged.push(name);
  return summary;
}

export function formatPlanSummary(s: PlanSummary): string {
  const lines = [`Plan: ${s.create.length} to add, ${s.update.length} to change, ${s.replace.length} to replace, ${s.destroy.length} to destroy.`];
  const section = (label: string, items: string[]) => {
    if (items.length) lines.push(`  ${label}:`, ...items.map((i) => `    ${i}`));
  };
  section('replace (destroy, then create)', s.replace);
  section('destroy', s.destroy);
  section('create', s.create);
  section('update in place', s.update);
  return lines.join('\n');
}
