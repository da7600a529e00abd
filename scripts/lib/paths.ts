// Where things live, relative to the repository, whatever directory a script is started from.

import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const RUNBOOK_DOC = 'docs/infrastructure/production-deployment.md';
export const runbookDocPath = join(repoRoot, RUNBOOK_DOC);

/** Run logs: one file per run, masked, owner-only. */
export const runsDir = join(repoRoot, '.runs');

/** A module's file relative to the repository, from its import.meta.url: what the runbook names as its code. */
export function sourceOf(moduleUrl: string): string {
  return relative(repoRoot, fileURLToPath(moduleUrl));
}
