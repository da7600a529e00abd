// The step engine: runs a runbook's steps in order, or prints them (DRY_RUN=1) in the runbook's
// copy-paste form. One run is a RunbookRun: its configuration, its header, its steps, its check
// blocks and its report are methods, and the run's context is the object's state.
// Exit codes: 0 done, 1 a step failed, 2 bad usage or config, 130 interrupted.

import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAKE } from './cli.ts';
import type { Command, Var } from './command.ts';
import { loadConfig, type Config } from './config.ts';
import { ask, askHidden, confirm, isTrue } from './confirm.ts';
import { PRODUCTION_VARS } from './env-schema.ts';
import { commandEnv, execCommand, type CommandResult, type ExecContext } from './exec.ts';
import { ChecksFailed, EXIT, EXIT_MEANING, failureReport, Interrupted, type RunFailure } from './failure-report.ts';
import { appendLog } from './files.ts';
import { formatDryRun } from './mirror.ts';
import { runbookForTarget } from './nested.ts';
import { commandLineProblems, commandLineVars, formatHelp, parametersOf } from './parameters.ts';
import { RUNBOOK_DOC, runsDir } from './paths.ts';
import { Progress, type Output } from './progress.ts';
import { guardProcessOutput, redactor } from './redact.ts';
import { anchorOf, configVarsOf, DriftFound, StepFailure, UsageFailure, type CheckRow, type Runbook, type Step, type StepContext } from './runbook.ts';
import { renderTable } from './table.ts';

export { EXIT } from './failure-report.ts';

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

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const parsed: ParsedArgs = { dryRun: isTrue(env.DRY_RUN), yes: false, help: isTrue(env.HELP), json: isTrue(env.JSON), problems: [] };
  for (const arg of argv) {
    if (arg === '--dry-run' || arg === '-n') parsed.dryRun = true;
    else if (arg === '--yes' || arg === '-y') parsed.yes = true;
    else if (arg === '--help' || arg === '-h') parsed.help = true;
    else if (arg === '--json') parsed.json = true;
    else parsed.problems.push(`unknown argument "${arg}"`);
  }
  return parsed;
}

/** Run a runbook and return its exit code; never calls process.exit itself. */
export async function runRunbook(runbook: Runbook, options: RunOptions): Promise<number> {
  return new RunbookRun(runbook, options).execute();
}

/** Where a value shown in the header or the dry run came from. */
type Origin = 'command line' | 'environment' | 'default' | string;

class RunbookRun {
  private readonly env: NodeJS.ProcessEnv;
  private readonly args: ParsedArgs;
  /** Where results go (stdout); with JSON=1 only the result document goes there. */
  private readonly stdout: Output;
  private readonly out: Output;
  private readonly err: Output;
  private readonly commandLine: Map<string, string>;
  private config!: Config;
  private progress!: Progress;
  private logFile = '';
  private shownLog = '';
  private readonly controller = new AbortController();
  /** Cleanup steps (always: true) must still run after Ctrl-C, so they get their own signal. */
  private readonly cleanupController = new AbortController();
  private readonly runtime = new Map<string, string>();
  private readonly state = new Map<string, unknown>();
  private failure: RunFailure | null = null;

  constructor(
    private readonly runbook: Runbook,
    private readonly options: RunOptions,
  ) {
    this.env = options.env ?? process.env;
    this.args = parseArgs(options.argv, this.env);
    this.commandLine = commandLineVars(this.env);
    // Everything the engine prints is masked here, whatever stream it ends up on.
    const masked = (base: Output): Output => ({ isTTY: base.isTTY, write: (t: string) => base.write(redactor.redact(t)) });
    this.stdout = masked(options.out ?? { write: (t: string) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) && this.env.CI !== 'true' });
    this.err = masked(options.err ?? { write: (t: string) => process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) });
    this.out = this.args.json ? this.err : this.stdout;
  }

  async execute(): Promise<number> {
    if (this.args.help) return this.help();
    if (this.args.problems.length) {
      this.err.write(`${this.args.problems.map((p) => `error: ${p}`).join('\n')}\n${this.usage()}\n`);
      return EXIT.usage;
    }
    if (!(await this.configure())) return EXIT.usage;
    if (this.args.dryRun) return this.dryRun();
    this.header();
    await this.steps();
    return this.report();
  }

  // --- configuration ------------------------------------------------------------------------

  private usage(): string {
    return `Usage: make ${this.runbook.make} [NAME=value ...] [DRY_RUN=1] [YES=1] [HELP=1]\nRunbook: ${this.runbook.doc ?? RUNBOOK_DOC}#${this.runbook.id}`;
  }

  private async help(): Promise<number> {
    this.out.write(formatHelp(this.runbook, await parametersOf(this.runbook), new Set([...(this.runbook.requires ?? []), ...configVarsOf(this.runbook, this.env)])));
    return EXIT.ok;
  }

  /** Command-line variables and the configuration, every problem at once; false when any. */
  private async configure(): Promise<boolean> {
    // What the target reads means loading the runbooks it runs: only worth it when make's command line holds variables to judge.
    const problems = this.commandLine.size ? commandLineProblems(this.runbook, await parametersOf(this.runbook), this.commandLine) : [];
    const loaded = loadConfig({ env: this.env, required: configVarsOf(this.runbook, this.env), schema: [...PRODUCTION_VARS, ...(this.runbook.params ?? [])] });
    this.config = loaded.config;
    problems.push(...loaded.problems);
    if (!problems.length) return true;
    const file = relative(process.cwd(), this.config.file) || this.config.file;
    this.err.write(
      `Cannot run ${this.runbook.title}: ${problems.length} problem${problems.length > 1 ? 's' : ''} with the command line or the configuration (${file}):\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        `\nNothing was run. Fix these, then run \`make ${this.runbook.make}\` again.\n`,
    );
    return false;
  }

  private originOf(name: string): Origin {
    if (this.commandLine.has(name)) return 'command line';
    const source = this.config.source(name);
    if (source === 'file') return relative(process.cwd(), this.config.file) || this.config.file;
    return source ?? 'unset';
  }

  /** Every configuration value this run reads, as shown to a person: never a secret's value. */
  private resolvedRows(): string[][] {
    const names = [...configVarsOf(this.runbook, this.env), ...(this.runbook.params ?? []).map((p) => p.name)];
    const specs = [...PRODUCTION_VARS, ...(this.runbook.params ?? [])].filter((s, i, all) => names.includes(s.name) && all.findIndex((x) => x.name === s.name) === i);
    return specs
      .filter((s) => this.config.get(s.name) !== undefined)
      .map((s) => [s.name, s.secret ? '(secret, hidden)' : this.config.get(s.name)!, this.originOf(s.name)]);
  }

  private dryRun(): number {
    const rows = this.resolvedRows();
    const table = rows.length ? `\nWith this configuration the variables resolve to:\n\n${renderTable(['variable', 'value', 'from'], rows)}\nValues in $VARS written in capitals after the first step are captured while the run goes.\n` : '';
    this.out.write(`${formatDryRun(this.runbook)}${table}`);
    return EXIT.ok;
  }

  // --- header -------------------------------------------------------------------------------

  /** The first lines of every run, and of its log: what it acts on. */
  private header(): void {
    this.logFile = join(this.env.RUNS_DIR || runsDir, `${utcStamp()}-${this.runbook.id}.log`);
    this.shownLog = relative(process.cwd(), this.logFile) || this.logFile;
    this.progress = new Progress(this.out);
    const configShown = existsSync(this.config.file) ? relative(process.cwd(), this.config.file) || this.config.file : 'environment only';
    const rows = this.resolvedRows();
    const acting = rows.length ? `${renderTable(['acts on', 'value', 'from'], rows).replace(/\n+$/, '')}\n` : '';
    this.out.write(`${this.runbook.title} · make ${this.runbook.make} · config ${configShown} · log ${this.shownLog}\n${acting}`);
    this.log(`# ${this.runbook.title} started ${new Date().toISOString()}\n${acting.replace(/^/gm, '# ')}`);
  }

  private log(text: string): void {
    appendLog(this.logFile, text);
  }

  // --- steps --------------------------------------------------------------------------------

  private async steps(): Promise<void> {
    // Every command in flight listens for an interrupt, and checks over all services run at once.
    setMaxListeners(0, this.controller.signal, this.cleanupController.signal);
    const onAbort = () => this.controller.abort();
    this.options.signal?.addEventListener('abort', onAbort);
    const onSignal = () => this.interrupt();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const total = this.runbook.steps.length;
    try {
      for (let index = 0; index < total; index++) {
        const step = this.runbook.steps[index]!;
        if (this.failure && !step.always) continue;
        if (this.controller.signal.aborted && !step.always) {
          this.failure ??= { step, index, error: new Interrupted('interrupted') };
          continue;
        }
        if (step.check) index = await this.checkBlock(index);
        else await this.step(step, index);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      this.options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private interrupt(): void {
    if (this.controller.signal.aborted) {
      this.cleanupController.abort(); // second Ctrl-C: give up on cleanup too
      return;
    }
    this.progress.print('\nInterrupted: stopping the current command, then running cleanup steps.');
    this.controller.abort();
  }

  private async step(step: Step, index: number): Promise<void> {
    const label = `[${index + 1}/${this.runbook.steps.length}] ${step.title}`;
    const ctx = this.contextFor(step);
    const skip = step.applies?.(this.env) ?? step.skipIf?.(ctx);
    if (skip) {
      this.progress.start(label);
      this.progress.end('skip', skip);
      this.log(`# step ${anchorOf(this.runbook, step)} skipped: ${skip}\n`);
      return;
    }
    if (step.confirm && !this.failure) {
      try {
        await ctx.confirm(step.confirm);
      } catch (error) {
        this.failure = { step, index, error: error as StepFailure };
        return;
      }
    }
    this.progress.start(label);
    this.log(`# step ${anchorOf(this.runbook, step)}: ${step.title}\n`);
    try {
      const outcome = step.run ? await step.run(ctx) : await runInOrder(step, ctx);
      this.progress.end(outcome?.status ?? 'ok', outcome?.note ?? '');
    } catch (error) {
      this.progress.end('fail');
      const wrapped = error instanceof StepFailure || error instanceof Interrupted ? error : new StepFailure(describeError(error));
      if (this.controller.signal.aborted && !(wrapped instanceof Interrupted)) this.failure ??= { step, index, error: new Interrupted('interrupted') };
      else this.failure ??= { step, index, error: wrapped };
    }
  }

  private lookup = (v: Var): string => {
    const value = v.source === 'config' ? this.config.get(v.name) : this.runtime.get(v.name);
    if (value === undefined) {
      throw new StepFailure(
        v.source === 'config' ? `config variable ${v.name} is not set` : `${v.name} has no value yet: the step that captures it did not run or printed nothing`,
      );
    }
    return value;
  };

  private contextFor(step: Step): StepContext {
    const declared = new Set<Command>(step.commands);
    const signal = step.always ? this.cleanupController.signal : this.controller.signal;
    const { env, progress } = this;
    const exec: ExecContext = { lookup: this.lookup, env, signal, log: (t) => this.log(t), onOutput: (text) => progress.stream(text) };
    const attempt = async (command: Command): Promise<CommandResult> => {
      if (!declared.has(command)) throw new Error(`${anchorOf(this.runbook, step)} ran a command it does not declare: ${command.render()}`);
      if (signal.aborted) throw new Interrupted('interrupted');
      const result = (await runNestedRunbook(command, exec)) ?? (await execCommand(command, exec));
      if (signal.aborted) throw new Interrupted('interrupted');
      if (result.ok && command.options.capture) this.runtime.set(command.options.capture.name, result.stdout.trim());
      return result;
    };
    const run = async (command: Command): Promise<CommandResult> => {
      const result = await attempt(command);
      if (!result.ok) throw new StepFailure(result.notFound ? `${result.notFound}. ${command.program.installHint}` : `command exited with ${result.exitCode}`, result);
      return result;
    };
    const stopProgress = () => progress.stop();
    return {
      config: this.config,
      env,
      state: this.state,
      signal,
      json: this.args.json,
      emitJson: (value) => this.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
      attempt,
      run,
      async runConcurrently(commands) {
        const settled = await Promise.allSettled(commands.map((c) => run(c)));
        const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (rejected) throw rejected.reason;
        return settled.map((s) => (s as PromiseFulfilledResult<CommandResult>).value);
      },
      value: this.lookup,
      setValue: (v, value, secret = false) => {
        if (secret || v.secret) redactor.add(value, v.name);
        this.runtime.set(v.name, value);
      },
      confirm: async (question) => {
        stopProgress();
        const answer = await confirm(question, { env, yes: this.args.yes, input: this.options.stdin });
        if (!answer.proceed) {
          throw new StepFailure(
            answer.reason === 'no-terminal'
              ? `"${question}" needs an answer, and there is no terminal to ask: re-run with YES=1 (make) or --yes to confirm`
              : 'stopped: the answer was no',
          );
        }
        this.log(`# confirmed: ${question} (${answer.how === 'assumed' ? 'YES=1/--yes/CI' : 'answered yes'})\n`);
      },
      ask: async (question) => {
        stopProgress();
        return ask(question, { input: this.options.stdin });
      },
      askSecret: async (question) => {
        stopProgress();
        const answer = await askHidden(question, { input: this.options.stdin });
        if (answer) redactor.add(answer, 'typed secret');
        return answer;
      },
      print: (text) => {
        progress.print(text);
        this.log(`${text}\n`);
      },
    };
  }

  // --- checks -------------------------------------------------------------------------------

  /**
   * A run of consecutive check steps is one block: every check starts at once (a check with
   * `needs` waits for those), their lines print in step order as soon as each and all before it
   * have finished, and the table follows. Returns the index of the block's last step.
   */
  private async checkBlock(first: number): Promise<number> {
    const steps = this.runbook.steps;
    let last = first;
    while (last + 1 < steps.length && steps[last + 1]!.check) last++;
    const block = steps.slice(first, last + 1);
    const rows = new Map<string, Promise<{ row: CheckRow; ms: number }>>();
    const started = performance.now();
    this.progress.start(`running ${block.length} checks`);
    for (const step of block) {
      rows.set(
        step.id,
        (async () => {
          const needs = await Promise.all((step.check!.needs ?? []).map(async (id) => (await rows.get(id)!).row));
          const blocking = needs.filter((row) => !row.ok).map((row) => row.check);
          const row: CheckRow = blocking.length
            ? { check: step.check!.name, needed: step.check!.needed, found: `not checked (needs ${blocking.join(', ')})`, ok: false }
            : await runCheck(step, this.contextFor(step)).catch((error: unknown) => ({ check: step.check!.name, needed: step.check!.needed, found: 'error', ok: false, hint: describeError(error) }));
          return { row, ms: performance.now() - started };
        })(),
      );
    }
    const results: { step: Step; row: CheckRow }[] = [];
    for (const step of block) {
      const { row, ms } = await rows.get(step.id)!;
      const index = steps.indexOf(step);
      this.progress.report(row.ok ? 'ok' : 'fail', `[${index + 1}/${steps.length}] ${step.title}`, ms, row.ok ? '' : row.found);
      this.log(`# check ${anchorOf(this.runbook, step)}: ${row.ok ? 'ok' : 'FAILED'} (${row.found})\n`);
      results.push({ step, row });
    }
    this.progress.stop();
    this.out.write(`\n${renderTable(['check', 'needed', 'found', 'ok'], results.map(({ row }) => [row.check, row.needed, row.found, row.ok ? 'yes' : 'NO']))}\n`);
    const failed = results.filter(({ row }) => !row.ok);
    if (failed.length) {
      const hints = failed.filter(({ row }) => row.hint).map(({ row }) => `  - ${row.check}: ${row.hint}`);
      this.out.write(`${hints.length ? `\nTo fix:\n${hints.join('\n')}\n` : ''}\n`);
      this.failure ??= {
        step: failed[0]!.step,
        index: steps.indexOf(failed[0]!.step),
        error: this.controller.signal.aborted
          ? new Interrupted('interrupted')
          : new ChecksFailed(`${failed.length} of ${results.length} checks failed: ${failed.map(({ row }) => row.check).join(', ')}`),
      };
    }
    return last;
  }

  // --- report -------------------------------------------------------------------------------

  private report(): number {
    const total = this.runbook.steps.length;
    if (!this.failure) {
      this.out.write(`\n${this.runbook.title}: done (${total} ${total === 1 ? 'step' : 'steps'}). Log: ${this.shownLog}\n`);
      this.log(`# done ${new Date().toISOString()}\n# exit ${EXIT.ok} (${EXIT_MEANING[EXIT.ok]})\n`);
      return EXIT.ok;
    }
    const error = this.failure.error;
    const code = error instanceof Interrupted ? EXIT.interrupted : error instanceof UsageFailure || error instanceof DriftFound ? EXIT.usage : EXIT.stepFailed;
    const report = failureReport(this.runbook, this.failure, this.shownLog, code);
    this.err.write(report);
    this.log(report);
    return code;
  }
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
  // The person's command line was checked against the outer target, which covers this one.
  const env = { ...commandEnv(command, ctx), MAKEFLAGS: '', MAKELEVEL: '' };
  const exitCode = await runRunbook(nested, { argv: [], env, out: stream((t) => (stdout += t)), err: stream((t) => (stderr += t)), signal: ctx.signal });
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
