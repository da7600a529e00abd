// `make <target>` inside a runbook, where the target runs one runbook script (the Makefile's
// `@$(RUN) scripts/<name>.ts` form, which a test keeps exact): the step engine runs that
// runbook in this process, with the same environment, output and exit code, instead of
// starting make, Node and tsx again (about a second each time).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.ts';
import type { Runbook } from './runbook.ts';

let recipes: Map<string, string> | null = null;

/** make target -> the script its recipe runs, for targets whose recipe is exactly one script. */
export function scriptTargets(makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8')): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of makefile.matchAll(/^([a-z][a-z0-9-]*):[^\n]*\n\t@\$\(RUN\) (scripts\/[a-z0-9-]+\.ts)\n(?!\t)/gm)) found.set(m[1]!, m[2]!);
  return found;
}

/** The runbook `make <target>` would run, or null when the target is not a single runbook script. */
export async function runbookForTarget(target: string): Promise<Runbook | null> {
  recipes ??= scriptTargets();
  const script = recipes.get(target);
  if (!script || !existsSync(join(repoRoot, script))) return null;
  const mod = (await import(pathToFileURL(join(repoRoot, script)).href)) as Record<string, unknown>;
  for (const value of Object.values(mod)) {
    const r = value as Runbook;
    if (r && typeof r === 'object' && Array.isArray(r.steps) && r.make === target) return r;
  }
  return null;
}
