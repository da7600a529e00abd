// What a runbook is: an ordered list of named steps, each with the commands it runs. The same
// description drives the script, its --dry-run, and the mirror test against the written runbook.

import type { Command, Var } from './command.ts';
import type { CommandResult } from './exec.ts';
import type { Config } from './config.ts';
import type { VarSpec } from './env-schema.ts';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.ts';

export interface CheckRow {
  readonly check: string;
  readonly needed: string;
  readonly found: string;
  readonly ok: boolean;
  /** How to fix it; shown under the table when the check fails. */
  readonly hint?: string;
}

export interface CheckSpec {
  /** Short name for the table's first column. */
  readonly name: string;
  readonly needed: string;
  /** Ids of checks that must pass before this one means anything (e.g. gcloud before its account). */
  readonly needs?: readonly string[];
  evaluate(results: readonly CommandResult[], ctx: StepContext): Omit<CheckRow, 'check' | 'needed'>;
}

export interface StepOutcome {
  status?: 'ok' | 'warn' | 'skip';
  note?: string;
}

export interface StepContext {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  /** Run one of this step's declared commands; throws StepFailure unless its exit code is ok. */
  run(command: Command): Promise<CommandResult>;
  /** Run several declared commands at once; throws the first failure after all have finished. */
  runConcurrently(commands: readonly Command[]): Promise<CommandResult[]>;
  /** Run a declared command and return its result whatever the exit code. */
  attempt(command: Command): Promise<CommandResult>;
  /** The value of a variable (config or captured). */
  value(v: Var): string;
  setValue(v: Var, value: string, secret?: boolean): void;
  /** Ask before something destructive; see confirm.ts for who answers. */
  confirm(question: string): Promise<void>;
  /** Ask a question; null when there is no terminal to ask on. */
  ask(question: string): Promise<string | null>;
  /** Ask for a secret without echoing it; null when there is no terminal to ask on. */
  askSecret(question: string): Promise<string | null>;
  print(text: string): void;
  /** Scratch space shared by the steps of one run (e.g. revisions recorded before apply). */
  readonly state: Map<string, unknown>;
  /** Run with --json: print results with this instead of tables (progress goes to stderr). */
  readonly json: boolean;
  emitJson(value: unknown): void;
  readonly signal: AbortSignal;
}

export interface Step {
  /** Stable id; the runbook anchor is `<runbook id>.<step id>`. */
  readonly id: string;
  /** The heading this step has in the runbook. */
  readonly title: string;
  /** Every command the step may run, in runbook order. Nothing else is ever executed. */
  readonly commands: readonly Command[];
  /** Custom logic over the declared commands; the default runs them in order. */
  run?(ctx: StepContext): Promise<StepOutcome | void>;
  /** A check contributes a row to the table instead of stopping the run on its own. */
  readonly check?: CheckSpec;
  /** Asked before the step runs; answered by --yes, YES=1 or CI=true. */
  readonly confirm?: string;
  /** Return a reason to skip the step, or null to run it. */
  skipIf?(ctx: StepContext): string | null;
  /** Runs even after a failure or an interrupt (releasing a lock). */
  readonly always?: boolean;
  /**
   * Whether the step applies to this run at all, decided from the parameters before the
   * configuration is read: null when it does, or why not. A step that does not apply needs
   * none of the configuration its commands use.
   */
  applies?(env: NodeJS.ProcessEnv): string | null;
  /** Config variables the step's own logic reads (its commands' are found by themselves). */
  readonly requires?: readonly string[];
  /**
   * The file that defines the step, relative to the repository (`sourceOf(import.meta.url)`),
   * for steps shared from a module; defineRunbook fills in the runbook's own script otherwise.
   * The written runbook names it under the step, so a reader is one hop from the code.
   */
  readonly code?: string;
}

export interface Runbook {
  /** Anchor of the runbook's section in docs/infrastructure/production-deployment.md. */
  readonly id: string;
  readonly title: string;
  /** The make target that runs it. */
  readonly make: string;
  readonly steps: readonly Step[];
  /** Config variables needed beyond those the commands reference. */
  readonly requires?: readonly string[];
  /** Parameters of this runbook (make VAR=value), validated like configuration. */
  readonly params?: readonly VarSpec[];
  /** The written runbook that mirrors it (default docs/infrastructure/production-deployment.md). */
  readonly doc?: string;
  /** The script that defines it, relative to the repository; defineRunbook finds it. */
  readonly script?: string;
}

/** Raised by a step to stop the run; the engine turns it into the failure report. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly result?: CommandResult,
  ) {
    super(message);
  }
}

/** Bad input found while running (a malformed file the runbook reads): exit 2, like bad config. */
export class UsageFailure extends StepFailure {}

/** Production differs from the code (make production-plan): exit 2, as `tofu plan -detailed-exitcode` does. */
export class DriftFound extends StepFailure {}

/** The file that called defineRunbook: the first stack frame outside this module. */
function callerFile(): string | undefined {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  for (const frame of frames) {
    const m = /(file:\/\/[^\s):]+|\/[^\s():]+\.[cm]?[jt]s)(?::\d+)+\)?$/.exec(frame.trim());
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (file !== fileURLToPath(import.meta.url)) return relative(repoRoot, file);
  }
  return undefined;
}

export function defineRunbook(definition: Runbook): Runbook {
  const script = definition.script ?? callerFile();
  const runbook: Runbook = { ...definition, script, steps: definition.steps.map((step) => (step.code || !script ? step : { ...step, code: script })) };
  const seen = new Set<string>();
  for (const step of runbook.steps) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(step.id)) throw new Error(`${runbook.id}: step id "${step.id}" must be lowercase words joined by hyphens`);
    if (seen.has(step.id)) throw new Error(`${runbook.id}: step id "${step.id}" is used twice`);
    seen.add(step.id);
    for (const need of step.check?.needs ?? []) {
      if (!seen.has(need)) throw new Error(`${runbook.id}.${step.id} needs check "${need}", which must come before it`);
    }
  }
  return runbook;
}

export function anchorOf(runbook: Runbook, step: Step): string {
  return `${runbook.id}.${step.id}`;
}

/** Config variables a runbook's commands reference, plus the ones it declares. */
export function configVarsOf(runbook: Runbook, env?: NodeJS.ProcessEnv): Set<string> {
  const names = new Set<string>(runbook.requires ?? []);
  for (const step of runbook.steps) {
    if (env && step.applies?.(env)) continue;
    for (const name of step.requires ?? []) names.add(name);
    for (const command of step.commands) {
      for (const v of command.vars()) if (v.source === 'config') names.add(v.name);
    }
  }
  return names;
}
