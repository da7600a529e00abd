// Runs one Command through zx: resolves the binary, fills in Vars, feeds stdin, captures and
// masks output, and reports a missing tool as such instead of as a cryptic shell error.

import { resolve } from 'node:path';
import { $, type ProcessOutput } from 'zx';
import type { Command, Var } from './command.ts';
import { findExecutable } from './cli.ts';
import { redactor } from './redact.ts';
import { writeSecretFile } from './files.ts';
import { repoRoot } from './paths.ts';

/** How long an interrupted command gets to stop cleanly before it is terminated. */
const ABORT_GRACE_MS = 10_000;

export interface CommandResult {
  readonly command: Command;
  /** The runbook form, e.g. `gcloud services list --project "$PROJECT_ID"`. */
  readonly rendered: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Set when the program could not be found or executed; explains where it was looked for. */
  readonly notFound?: string;
  readonly ok: boolean;
}

/** Why a command failed, in one line: gcloud's own ERROR line when it printed one, else the last line of stderr. */
export function failureReason(r: CommandResult): string {
  if (r.notFound) return r.notFound;
  const lines = r.stderr.trim().split('\n').filter(Boolean);
  return (lines.find((l) => l.startsWith('ERROR:')) ?? lines.pop() ?? '') || `exit ${r.exitCode}`;
}

export interface ExecContext {
  lookup(v: Var): string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log(text: string): void;
  /** Where a live command's output goes as it arrives. */
  onOutput?(text: string): void;
}

// zx prints commands and output only when verbose; if anyone turns that on, it is masked too.
const zxLog = $.log;
$.log = Object.assign((entry: Parameters<typeof zxLog>[0]) => {
  if (entry.kind === 'cmd') return zxLog({ ...entry, cmd: redactor.redact(entry.cmd) });
  if (entry.kind === 'stdout' || entry.kind === 'stderr') {
    return zxLog({ ...entry, data: Buffer.from(redactor.redact(entry.data.toString('utf8'))) });
  }
  return zxLog(entry);
}, { formatters: zxLog.formatters, output: zxLog.output });
$.verbose = false;

/** The environment a command runs with: the run's, plus the variables the command sets. */
export function commandEnv(command: Command, ctx: Pick<ExecContext, 'env' | 'lookup'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ctx.env };
  for (const [key, value] of Object.entries(command.options.env)) env[key] = typeof value === 'string' ? value : ctx.lookup(value);
  return env;
}

export async function execCommand(command: Command, ctx: ExecContext): Promise<CommandResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const rendered = command.render();
  const { file, leadingArgs } = command.program.resolve(ctx.env);
  const finish = (partial: Omit<CommandResult, 'command' | 'rendered' | 'durationMs' | 'ok'>): CommandResult => ({
    command,
    rendered,
    durationMs: performance.now() - started,
    ok: command.options.okExitCodes.includes(partial.exitCode),
    ...partial,
  });

  const executable = findExecutable(file, ctx.env);
  if (!executable) {
    const via = command.program.overrideEnv && ctx.env[command.program.overrideEnv] ? ` (from ${command.program.overrideEnv})` : ' on PATH';
    // The program's own name starts the message ("tofu was not found on PATH"), said once.
    const notFound = `${file} was not found${via}`;
    ctx.log(`$ ${rendered}\n! ${notFound}\n`);
    return finish({ exitCode: 127, stdout: '', stderr: notFound, notFound });
  }

  const childEnv = commandEnv(command, ctx);
  const args = [...leadingArgs, ...command.resolveArgs(ctx.lookup)];
  const input = command.options.stdin ? command.stdinText(ctx.lookup(command.options.stdin)) : undefined;

  let output: ProcessOutput;
  let stopTimers: NodeJS.Timeout[] = [];
  let onAbort = () => {};
  try {
    const child = $({
      quiet: true,
      nothrow: true,
      cwd: repoRoot,
      env: childEnv,
      input,
      timeout: command.options.timeoutMs,
    })`${executable} ${args}`;
    // Stop the whole process tree the way Ctrl-C would (tofu finishes its current operation
    // and releases its lock on SIGINT), then insist if it does not go.
    onAbort = () => {
      void child.kill('SIGINT').catch(() => {});
      stopTimers = [
        setTimeout(() => void child.kill('SIGTERM').catch(() => {}), ABORT_GRACE_MS),
        setTimeout(() => void child.kill('SIGKILL').catch(() => {}), 2 * ABORT_GRACE_MS),
      ];
    };
    if (ctx.signal?.aborted) onAbort();
    else ctx.signal?.addEventListener('abort', onAbort, { once: true });
    if (command.options.live && ctx.onOutput) {
      const forward = (chunk: Buffer) => ctx.onOutput!(redactor.redact(chunk.toString('utf8')));
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
    }
    output = await child;
  } catch (error) {
    // zx rejects only when it could not start the process at all (or it was aborted).
    const message = error instanceof Error ? error.message : String(error);
    ctx.log(`$ ${rendered}\n! ${message}\n`);
    return finish({ exitCode: 126, stdout: '', stderr: message });
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    for (const t of stopTimers) clearTimeout(t);
  }

  const stdout = output.stdout;
  const stderr = output.stderr;
  if (command.options.secretOutput) redactor.add(stdout.trim(), command.options.capture?.name ?? 'command output');
  if (command.options.stdoutFile !== undefined) {
    const f = command.options.stdoutFile;
    if (output.exitCode === 0) writeSecretFile(resolve(repoRoot, typeof f === 'string' ? f : ctx.lookup(f)), stdout);
  }
  const exitCode = output.exitCode ?? (output.signal ? 128 + signalNumber(output.signal) : 1);
  const loggedStdout =
    command.options.stdoutFile !== undefined || command.options.unloggedStdout
      ? `(${Buffer.byteLength(stdout)} bytes of output${command.options.stdoutFile !== undefined ? ' written to file' : ''}, not logged)\n`
      : stdout;
  // The start time and duration let a reader (or bench/deploy) tell CLI time from the runbook's own.
  ctx.log(`$ ${rendered}\n${loggedStdout}${stderr ? `--- stderr ---\n${stderr}` : ''}--- exit ${exitCode} (${Math.round(performance.now() - started)} ms, started ${startedAt})\n`);
  return finish({ exitCode, stdout, stderr });
}

function signalNumber(signal: string): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}
