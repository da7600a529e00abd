// make ci-changed-services BASE=<ref> HEAD=<ref>: which services a release from BASE to HEAD
// would build, by the catalog and filter rules the deploy workflow uses. Run it before tagging.

import { parse } from 'yaml';
import { validateCatalog } from './lib/catalog.ts';
import { planRelease, parseChangedFiles, type ReleasePlan } from './lib/changed-services.ts';
import { git } from './lib/cli.ts';
import { configVar, runtimeVar } from './lib/command.ts';
import { runIfMain } from './lib/engine.ts';
import type { VarSpec } from './lib/env-schema.ts';
import { defineRunbook, StepFailure, type Step } from './lib/runbook.ts';
import { renderTable } from './lib/table.ts';

const BASE = configVar('BASE');
const HEAD = configVar('HEAD');
const BASE_COMMIT = runtimeVar('BASE_COMMIT');
const HEAD_COMMIT = runtimeVar('HEAD_COMMIT');
const CATALOG = runtimeVar('CATALOG');
const CHANGED_FILES = runtimeVar('CHANGED_FILES');

/** One revision git can resolve; ranges and anything that could pass for an option are refused. */
function checkRevision(value: string): string | null {
  if (value.length > 256 || !/^[A-Za-z0-9_][A-Za-z0-9_./@{}^~+-]*$/.test(value) || value.includes('..')) {
    return 'expected one git revision (a tag such as v1.2.0, a branch or a commit SHA), not a range or an option';
  }
  return null;
}

const params: VarSpec[] = [
  {
    name: 'BASE',
    description: 'The previous release: the tag (or any commit) the pipeline compares against, e.g. BASE=v1.2.0.',
    example: 'v1.2.0',
    check: checkRevision,
  },
  {
    name: 'HEAD',
    description: 'The commit you are about to tag, e.g. HEAD=main.',
    example: 'HEAD',
    default: 'HEAD',
    check: checkRevision,
  },
];

const resolveBase = git`rev-parse --verify --quiet ${BASE}'^{commit}'`.captureInto(BASE_COMMIT);
const resolveHead = git`rev-parse --verify --quiet ${HEAD}'^{commit}'`.captureInto(HEAD_COMMIT);
// The catalog as of HEAD, because the workflow that runs for the new tag is the one at HEAD.
const catalogAtHead = git`show ${HEAD_COMMIT}:services.yaml`.captureInto(CATALOG);
// Two-dot diff without rename detection: exactly the comparison paths-filter makes against a base commit.
const changedFiles = git`-c core.quotePath=false diff --no-renames --name-only ${BASE_COMMIT} ${HEAD_COMMIT}`.captureInto(CHANGED_FILES);

function formatPlan(plan: ReleasePlan, fileCount: number, base: string, head: string): string {
  const total = plan.build.length + plan.unchanged.length;
  const lines = [`${base} -> ${head}: ${fileCount} file${fileCount === 1 ? '' : 's'} changed; ${plan.build.length} of ${total} services to build.`, ''];
  if (plan.build.length) {
    const rows = plan.build.map(({ service, because }) => {
      const first = because[0]!;
      const more = because.length > 1 ? `, and ${because.length - 1} more` : '';
      return [service, `${first.file}${first.rule.shared ? ` (shared code ${first.rule.shared})` : ''}${more}`];
    });
    lines.push(renderTable(['build', 'because of'], rows), '');
  }
  if (plan.unchanged.length) lines.push(`Unchanged, their images carry over to the new tag: ${plan.unchanged.join(', ')}`);
  if (plan.ignored.length) {
    const shown = plan.ignored.slice(0, 10).join(', ');
    lines.push(`Changed files no image is built from: ${shown}${plan.ignored.length > 10 ? `, and ${plan.ignored.length - 10} more` : ''}`);
  }
  return lines.join('\n');
}

export const steps: Step[] = [
  {
    id: 'resolve',
    title: 'Resolve BASE and HEAD to commits',
    commands: [resolveBase, resolveHead],
    async run(ctx) {
      const problems: string[] = [];
      for (const [command, name] of [[resolveBase, 'BASE'], [resolveHead, 'HEAD']] as const) {
        const result = await ctx.attempt(command);
        if (!result.ok) problems.push(`${name}=${ctx.config.get(name)} is not a commit in this repository (fetch the tags with \`git fetch --tags\`, or check the spelling)`);
      }
      if (problems.length) throw new StepFailure(problems.join('; '));
    },
  },
  {
    id: 'catalog',
    title: 'Read the service catalog at HEAD',
    commands: [catalogAtHead],
  },
  {
    id: 'diff',
    title: 'List the files changed between them',
    commands: [changedFiles],
  },
  {
    id: 'match',
    title: 'Match the changed files against the catalog',
    commands: [],
    async run(ctx) {
      let raw: unknown;
      try {
        raw = parse(ctx.value(CATALOG));
      } catch (error) {
        throw new StepFailure(`services.yaml at HEAD is not valid YAML: ${(error as Error).message}`);
      }
      const { catalog, problems } = validateCatalog(raw);
      if (problems.length) throw new StepFailure(`services.yaml at HEAD is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      let plan: ReleasePlan;
      try {
        plan = planRelease(catalog, parseChangedFiles(ctx.value(CHANGED_FILES)));
      } catch (error) {
        throw new StepFailure((error as Error).message);
      }
      const files = parseChangedFiles(ctx.value(CHANGED_FILES)).length;
      const short = (v: typeof BASE_COMMIT) => ctx.value(v).slice(0, 12);
      ctx.print(formatPlan(plan, files, `${ctx.config.get('BASE')} (${short(BASE_COMMIT)})`, `${ctx.config.get('HEAD')} (${short(HEAD_COMMIT)})`));
      return { note: `${plan.build.length} to build: ${plan.build.map((b) => b.service).join(', ') || 'none'}` };
    },
  },
];

export const ciChangedServices = defineRunbook({
  id: 'ci-changed-services',
  title: 'Services a release would build',
  make: 'ci-changed-services',
  doc: 'docs/infrastructure/ci-cd.md',
  params,
  steps,
});

runIfMain(import.meta.url, ciChangedServices);
