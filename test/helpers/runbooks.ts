// Every runbook script in scripts/, found by loading them (importing a script never runs it).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runbookDocPath } from '../../scripts/lib/paths.ts';
import type { Runbook } from '../../scripts/lib/runbook.ts';
import { repoRoot } from './process.ts';

function isRunbook(value: unknown): value is Runbook {
  return typeof value === 'object' && value !== null && Array.isArray((value as Runbook).steps) && typeof (value as Runbook).make === 'string';
}

export async function allRunbooks(): Promise<{ file: string; runbook: Runbook }[]> {
  const dir = join(repoRoot, 'scripts');
  const found: { file: string; runbook: Runbook }[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
    const mod = (await import(pathToFileURL(join(dir, name)).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (isRunbook(value)) found.push({ file: `scripts/${name}`, runbook: value });
  }
  return found;
}

export function runbookDoc(): string {
  return readFileSync(runbookDocPath, 'utf8');
}

/** The text of the written runbook a runbook script mirrors. */
export function docOf(runbook: Runbook): string {
  return runbook.doc ? readFileSync(join(repoRoot, runbook.doc), 'utf8') : runbookDoc();
}
