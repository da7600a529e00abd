// What a stopped run prints last: which step, why, the command and the end of its output, where
// the log is, and where to resume. One shape for every runbook, so the on-call reads it once.

import { RUNBOOK_DOC } from './paths.ts';
import { anchorOf, StepFailure, type Runbook, type Step } from './runbook.ts';

/** The run was interrupted (Ctrl-C, SIGTERM, or the caller's abort signal). */
export class Interrupted extends Error {}

/** One or more checks failed; the table above already says which and how to fix them. */
export class ChecksFailed extends StepFailure {}

export interface RunFailure {
  readonly step: Step;
  readonly index: number;
  readonly error: Error;
}

/** The exit codes every runbook script returns; make reports them as "Error <code>". */
export const EXIT = { ok: 0, stepFailed: 1, usage: 2, interrupted: 130 } as const;

export const EXIT_MEANING: Record<number, string> = {
  [EXIT.ok]: 'done',
  [EXIT.stepFailed]: 'a step failed',
  [EXIT.usage]: 'bad input or configuration, or production drifted (make production-plan)',
  [EXIT.interrupted]: 'interrupted',
};

export function failureReport(runbook: Runbook, failure: RunFailure, shownLog: string, exitCode: number): string {
  const { step, index, error } = failure;
  const anchor = anchorOf(runbook, step);
  const lines = [''];
  if (error instanceof Interrupted) {
    lines.push(`Interrupted during step ${index + 1}/${runbook.steps.length}: ${step.title} (${anchor}). Cleanup steps ran.`);
  } else if (error instanceof ChecksFailed) {
    lines.push(`${runbook.title} stopped: ${error.message} (see the table and fixes above).`);
  } else {
    lines.push(`Step ${index + 1}/${runbook.steps.length} failed: ${step.title} (${anchor})`);
    lines.push(`  reason:    ${error.message}`);
    const result = error instanceof StepFailure ? error.result : undefined;
    if (result) {
      lines.push(`  command:   ${result.rendered}`);
      lines.push(`  exit code: ${result.exitCode}`);
      const tail = tailLines(result.stderr || result.stdout, 15);
      if (tail.length) lines.push(`  ${result.stderr ? 'stderr' : 'stdout'} (last ${tail.length} lines):`, ...tail.map((l) => `    | ${l}`));
    }
  }
  if (step.code) lines.push(`  code:      ${step.code}`);
  lines.push(`  full log:  ${shownLog}`);
  lines.push(`  resume at: ${runbook.doc ?? RUNBOOK_DOC}#${anchor} (step ${index + 1}, "${step.title}"), by hand or by running \`make ${runbook.make}\` again`);
  lines.push(`  exit:      ${exitCode} (${EXIT_MEANING[exitCode] ?? 'see the reason above'})`);
  return `${lines.join('\n')}\n`;
}

export function tailLines(text: string, n: number): string[] {
  return text.replace(/\s+$/, '').split(/\r?\n/).filter((l, i, all) => l.length > 0 || i < all.length - 1).slice(-n);
}
