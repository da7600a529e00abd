// The step engine: runs a runbook's steps in order, or prints them (--dry-run) in the runbook's
// copy-paste form. Exit codes: 0 done, 1 a step failed, 2 bad usage or config, 130 interrupted.

import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { Command, Var } from './command.ts';
import { loadConfig } from './config.ts';
import { PRODUCTION_VARS } from './env-schema.ts';
import { ask, askHidden, confirm, isTrue } from './confirm.ts';
import { commandEnv, execCommand, type CommandResult, type ExecContext } from './exec.ts';
import { MAKE } from './cli.ts';
import { runbookForTarget } from './nested.ts';
import { appendLog } from './files.ts';
import { formatDryRun } from './mirror.ts';
import { RUNBOOK_DOC, runsDir } from './paths.ts';
import { Progress, type Output } from './progress.ts';
import { guardProcessOutput, redactor } from './redact.ts';
import { anchorOf, configVarsOf, DriftFound, StepFailure, UsageFailure, type CheckRow, type Runbook, type Step, type StepContext } from './runbook.ts';
import { renderTable } from './table.ts';

export const EXIT = { ok: 0, stepFailed: 1, usage: 2, interrupted: 130 } as const;

export interface RunOptions {
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  out?: Output;
  err?: Output;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborting this stops the run as Ctrl-C does. */
  signal?: AbortSignal;
}

interface ParsedArgs {
  dryRun: boolean;
  yes: boolean;
  help: boolean;
  json: boolean;
  problems: string[];
}

const USAGE = (runbook: Runbook) =>
  `Usage: make ${runbook.make} [DRY_RUN=1] [YES=1] [ENV=production | ENV_FILE=path]\n` +
  `   or: node --import tsx scripts/<script>.ts [--dry-run] [--yes]\n` +
  `Runbook: ${runbook.doc ?? RUNBOOK_DOC}#${runbook.id}`;

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const parsed: ParsedArgs = { dryRun: isTrue(env.DRY_RUN), yes: false, help: false, json: isTrue(env.JSON), problems: [] };
  for (const arg of argv) {
    if (arg === '--dry-run' || arg === '-n') parsed.dryRun = true;
    else if (arg === '--yes' || arg === '-y') parsed.yes = true;
    else if (arg === '--help' || arg === '-h') parsed.help = true;
    else if (arg === '--json') parsed.json = true;
    else parsed.problems.push(`unknown argument "${arg}"`);
  }
  return parsed;
}

class Interrupted extends Error {}

/** One or more checks failed; the table above already says which and how to fix them. */
class ChecksFailed extends StepFailure {}

/** Run a runbook and return its exit code; never calls process.exit itself. */
export async function runRunbook(runbook: Runbook, options: RunOptions): Promise<number> {
  const env = options.env ?? process.env;
  // Everything the engine prints is masked here, whatever stream it ends up on.
  const masked = (base: Output): Output => ({ isTTY: base.isTTY, write: (t: string) => base.write(redactor.redact(t)) });
  const args = parseArgs(options.argv, env);
  const stdout = masked(options.out ?? { write: (t: string) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) && env.CI !== 'true' });
  const err = masked(options.err ?? { write: (t: string) => process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) });
  // With --json, stdout carries only the result document; progress goes to stderr.
  const out = args.json ? err : stdout;

  if (args.help) {
    out.write(`${runbook.title}\n${USAGE(runbook)}\n`);
    return EXIT.ok;
  }
  if (args.problems.length) {
    err.write(`${args.problems.map((p) => `error: ${p}`).join('\n')}\n${USAGE(runbook)}\n`);
    return EXIT.usage;
  }
  if (args.dryRun) {
    out.write(formatDryRun(runbook));
    return EXIT.ok;
  }

  const { config, problems } = loadConfig({ env, required: configVarsOf(runbook, env), schema: [...PRODUCTION_VARS, ...(runbook.params ?? [])] });
  if (problems.length) {
    err.write(
      `Cannot run ${runbook.title}: ${problems.length} problem${problems.length > 1 ? 's' : ''} with the configuration (${relative(process.cwd(), config.file) || config.file}):\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        `\nNothing was run. Fix these, then run \`make ${runbook.make}\` again.\n`,
    );
    return EXIT.usage;
  }

  const logFile = join(env.RUNS_DIR || runsDir, `${utcStamp()}-${runbook.id}.log`);
  const log = (text: string) => appendLog(logFile, text);
  const shownLog = relative(process.cwd(), logFile) || logFile;
  const progress = new Progress(out);
  const configShown = existsSync(config.file) ? relative(process.cwd(), config.file) || config.file : 'environment only';
  out.write(`${runbook.title} · make ${runbook.make} · config ${configShown} · log ${shownLog}\n`);
  log(`# ${runbook.title} started ${new Date().toISOString()}\n`);

  const controller = new AbortController();
  // Cleanup steps (always: true) must still run after Ctrl-C, so they get their own signal.
  const cleanupController = new AbortController();
  // Every command in flight listens for an interrupt, and checks over all services run at once.
  setMaxListeners(0, controller.signal, cleanupController.signal);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort);
  const runtime = new Map<string, string>();
  const state = new Map<string, unknown>();
  const total = runbook.steps.length;
  let failure: { step: Step; index: number; error: StepFailure | Interrupted | Error } | null = null;

  const lookup = (v: Var): string => {
    const value = v.source === 'config' ? config.get(v.name) : runtime.get(v.name);
    if (value === undefined) {
      throw new StepFailure(
        v.source === 'config'
          ? `config variable ${v.name} is not set`
          : `${v.name} has no value yet: the step that captures it did not run or printed nothing`,
      );
    }
    return value;
  };

  const contextFor = (step: Step): StepContext => {
    const declared = new Set<Command>(step.commands);
    const signal = step.always ? cleanupController.signal : controller.signal;
    const attempt = async (command: Command): Promise<CommandResult> => {
      if (!declared.has(command)) {
        throw new Error(`${anchorOf(runbook, step)} ran a command it does not declare: ${command.render()}`);
      }
      if (signal.aborted) throw new Interrupted('interrupted');
      const result =
        (await runNestedRunbook(command, { lookup, env, signal, log, onOutput: (text) => progress.stream(text) })) ??
        (await execCommand(command, { lookup, env, signal, log, onOutput: (text) => progress.stream(text) }));
      if (signal.aborted) throw new Interrupted('interrupted');
      if (result.ok && command.options.capture) runtime.set(command.options.capture.name, result.stdout.trim());
      return result;
    };
    const run = async (command: Command): Promise<CommandResult> => {
      const result = await attempt(command);
      if (!result.ok) throw new StepFailure(result.notFound ? `${result.notFound}. ${command.program.installHint}` : `command exited with ${result.exitCode}`, result);
      return result;
    };
    return {
      config,
      env,
      state,
      signal,
      json: args.json,
      emitJson(value) {
        stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      },
      attempt,
      run,
      async runConcurrently(commands) {
        const settled = await Promise.allSettled(commands.map((c) => run(c)));
        const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (rejected) throw rejected.reason;
        return settled.map((s) => (s as PromiseFulfilledResult<CommandResult>).value);
      },
      value: lookup,
      setValue(v, value, secret = false) {
        if (secret || v.secret) redactor.add(value, v.name);
        runtime.set(v.name, value);
      },
      async confirm(question) {
        progress.stop();
        const answer = await confirm(question, { env, yes: args.yes, input: options.stdin });
        if (!answer.proceed) {
          throw new StepFailure(
            answer.reason === 'no-terminal'
              ? `"${question}" needs an answer, and there is no terminal to ask: re-run with YES=1 (make) or --yes to confirm`
              : 'stopped: the answer was no',
          );
        }
        log(`# confirmed: ${question} (${answer.how === 'assumed' ? 'YES=1/--yes/CI' : 'answered yes'})\n`);
      },
      async ask(question) {
        progress.stop();
        return ask(question, { input: options.stdin });
      },
      async askSecret(question) {
        progress.stop();
        const answer = await askHidden(question, { input: options.stdin });
        if (answer) redactor.add(answer, 'typed secret');
        return answer;
      },
      print(text) {
        progress.print(text);
        log(`${text}\n`);
      },
    };
  };

  /**
   * A run of consecutive check steps is one block: every check starts at once (a check with
   * `needs` waits for those), each prints its line as it finishes, and the table follows.
   */
  const runCheckBlock = async (first: number): Promise<number> => {
    let last = first;
    while (last + 1 < total && runbook.steps[last + 1]!.check) last++;
    const block = runbook.steps.slice(first, last + 1);
    const rows = new Map<string, Promise<CheckRow>>();
    const started = performance.now();
    progress.start(`running ${block.length} checks`);
    for (const step of block) {
      const index = runbook.steps.indexOf(step);
      rows.set(
        step.id,
        (async () => {
          const needs = await Promise.all((step.check!.needs ?? []).map(async (id) => ({ id, row: await rows.get(id)! })));
          const blocking = needs.filter((n) => !n.row.ok).map((n) => n.row.check);
          const row: CheckRow = blocking.length
            ? { check: step.check!.name, needed: step.check!.needed, found: `not checked (needs ${blocking.join(', ')})`, ok: false }
            : await runCheck(step, contextFor(step)).catch((error: unknown) => ({
                check: step.check!.name,
                needed: step.check!.needed,
                found: 'error',
                ok: false,
                hint: describeError(error),
              }));
          progress.report(row.ok ? 'ok' : 'fail', `[${index + 1}/${total}] ${step.title}`, performance.now() - started, row.ok ? '' : row.found);
          log(`# check ${anchorOf(runbook, step)}: ${row.ok ? 'ok' : 'FAILED'} (${row.found})\n`);
          return row;
        })(),
      );
    }
    const results = await Promise.all(block.map(async (step) => ({ step, row: await rows.get(step.id)! })));
    progress.stop();
    out.write(`\n${renderTable(['check', 'needed', 'found', 'ok'], results.map(({ row }) => [row.check, row.needed, row.found, row.ok ? 'yes' : 'NO']))}\n`);
    const failed = results.filter(({ row }) => !row.ok);
    if (failed.length) {
      const hints = failed.filter(({ row }) => row.hint).map(({ row }) => `  - ${row.check}: ${row.hint}`);
      out.write(`${hints.length ? `\nTo fix:\n${hints.join('\n')}\n` : ''}\n`);
      const at = runbook.steps.indexOf(failed[0]!.step);
      failure ??= {
        step: failed[0]!.step,
        index: at,
        error: controller.signal.aborted
          ? new Interrupted('interrupted')
          : new ChecksFailed(`${failed.length} of ${results.length} checks failed: ${failed.map(({ row }) => row.check).join(', ')}`),
      };
    }
    return last;
  };

  const onSignal = () => {
    if (controller.signal.aborted) {
      cleanupController.abort(); // second Ctrl-C: give up on cleanup too
      return;
    }
    progress.print('\nInterrupted: stopping the current command, then running cleanup steps.');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    for (let index = 0; index < total; index++) {
      const step = runbook.steps[index]!;
      if (failure && !step.always) continue;
      if (controller.signal.aborted && !step.always) {
        failure ??= { step, index, error: new Interrupted('interrupted') };
        continue;
      }
      if (step.check) {
        index = await runCheckBlock(index);
        continue;
      }
      const label = `[${index + 1}/${total}] ${step.title}`;
      const ctx = contextFor(step);
      const skip = step.applies?.(env) ?? step.skipIf?.(ctx);
      if (skip) {
        progress.start(label);
        progress.end('skip', skip);
        log(`# step ${anchorOf(runbook, step)} skipped: ${skip}\n`);
        continue;
      }
      if (step.confirm && !failure) {
        try {
          await ctx.confirm(step.confirm);
        } catch (error) {
          failure = { step, index, error: error as StepFailure };
          continue;
        }
      }
      progress.start(label);
      log(`# step ${anchorOf(runbook, step)}: ${step.title}\n`);
      try {
        const outcome = step.run ? await step.run(ctx) : await runInOrder(step, ctx);
        progress.end(outcome?.status ?? 'ok', outcome?.note ?? '');
      } catch (error) {
        progress.end('fail');
        const wrapped = error instanceof StepFailure || error instanceof Interrupted ? error : new StepFailure(describeError(error));
        if (controller.signal.aborted && !(wrapped instanceof Interrupted)) failure ??= { step, index, error: new Interrupted('interrupted') };
        else failure ??= { step, index, error: wrapped };
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onAbort);
  }

  if (!failure) {
    out.write(`\n${runbook.title}: done (${total} ${total === 1 ? 'step' : 'steps'}). Log: ${shownLog}\n`);
    log(`# done ${new Date().toISOString()}\n`);
    return EXIT.ok;
  }
  const report = failureReport(runbook, failure, shownLog);
  err.write(report);
  log(report);
  if (failure.error instanceof Interrupted) return EXIT.interrupted;
  return failure.error instanceof UsageFailure || failure.error instanceof DriftFound ? EXIT.usage : EXIT.stepFailed;
}

/**
 * A `make <target>` whose target is one runbook script runs here, in process (see nested.ts);
 * anything else returns null and runs as a process.
 */
async function runNestedRunbook(command: Command, ctx: ExecContext): Promise<CommandResult | null> {
  if (command.program !== MAKE || command.args.length !== 1 || command.options.stdin || command.options.capture) return null;
  const target = command.resolveArgs(ctx.lookup)[0]!;
  const nested = await runbookForTarget(target);
  if (!nested) return null;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let stdout = '';
  let stderr = '';
  const stream = (collect: (t: string) => void): Output => ({
    isTTY: false,
    write: (text) => {
      collect(text);
      ctx.onOutput?.(text);
    },
  });
  const rendered = command.render();
  ctx.log(`$ ${rendered}\n# the runbook of make ${target}, run in this process; its own log has its commands\n`);
  const exitCode = await runRunbook(nested, {
    argv: [],
    env: commandEnv(command, ctx),
    out: stream((t) => (stdout += t)),
    err: stream((t) => (stderr += t)),
    signal: ctx.signal,
  });
  const durationMs = performance.now() - started;
  ctx.log(`--- exit ${exitCode} (${Math.round(durationMs)} ms, started ${startedAt})\n`);
  return { command, rendered, exitCode, stdout, stderr, durationMs, ok: command.options.okExitCodes.includes(exitCode) };
}

async function runInOrder(step: Step, ctx: StepContext): Promise<void> {
  for (const command of step.commands) await ctx.run(command);
}

async function runCheck(step: Step, ctx: StepContext): Promise<CheckRow> {
  const spec = step.check!;
  const results: CommandResult[] = [];
  for (const command of step.commands) results.push(await ctx.attempt(command));
  const missing = results.find((r) => r.notFound);
  if (missing) {
    return { check: spec.name, needed: spec.needed, found: 'not found', ok: false, hint: `${missing.notFound}. ${missing.command.program.installHint}` };
  }
  return { check: spec.name, needed: spec.needed, ...spec.evaluate(results, ctx) };
}

function failureReport(runbook: Runbook, failure: { step: Step; index: number; error: Error }, shownLog: string): string {
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
  lines.push(`  full log:  ${shownLog}`);
  lines.push(`  resume at: ${runbook.doc ?? RUNBOOK_DOC}#${anchor} (step ${index + 1}, "${step.title}"), by hand or by running \`make ${runbook.make}\` again`);
  return `${lines.join('\n')}\n`;
}

function tailLines(text: string, n: number): string[] {
  return text.replace(/\s+$/, '').split(/\r?\n/).filter((l, i, all) => l.length > 0 || i < all.length - 1).slice(-n);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function utcStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Entry point for a runbook script: runs it when the file is executed directly (not when a
 * test imports it) and exits with the engine's code.
 */
export function runIfMain(moduleUrl: string, runbook: Runbook): void {
  const entry = process.argv[1];
  if (!entry || resolve(entry) !== fileURLToPath(moduleUrl)) return;
  guardProcessOutput();
  runRunbook(runbook, { argv: process.argv.slice(2) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`internal error in the step engine: ${describeError(error)}\n`);
      process.exit(EXIT.stepFailed);
    },
  );
}
