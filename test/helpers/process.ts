// Run a repository command (make target or script) the way a person would, and collect what
// it printed, so tests assert on real output and real exit codes.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Output } from '../../scripts/lib/progress.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Where the runbooks these tests run write their logs: a temporary directory of this test
 * process, never the repository's `.runs/` (a person's own runs are kept there, and thousands of
 * test logs would bury them). Set in this process's environment, so whatever runs a script
 * inherits it: run() and make() below, and runbooks run in-process with `process.env`. A test
 * that reads the logs gives its own RUNS_DIR (a workspace uses its `.runs/`).
 */
export const testRunsDir = tempDir('mindmirror-runs-');
process.env.RUNS_DIR = testRunsDir;

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in arrival order. */
  all: string;
}

export function run(
  command: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string; onStdout?: (chunk: string) => void } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    // A clean slate: not the suite's own make (MAKELEVEL would change make's messages), answers or config.
    const env: NodeJS.ProcessEnv = { ...process.env, CI: '', YES: '', DRY_RUN: '', ENV: '', ENV_FILE: '', MAKELEVEL: '', MAKEFLAGS: '', MFLAGS: '', ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined || v === '') delete env[k];
    const child = spawn(command, args, { cwd: opts.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let all = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      all += d;
      opts.onStdout?.(d.toString());
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      all += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, all });
    });
    // A command that exits without reading its input (make printing help) closes the pipe
    // first; the EPIPE that leaves on stdin says nothing about the command, whose exit code and
    // output are what the caller asserts.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** `make <target> VAR=value ...` from the repository root. */
export function make(target: string, vars: Record<string, string> = {}, env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<Ran> {
  return run('make', ['--no-print-directory', target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], { env, timeoutMs });
}

export function tempDir(prefix = 'mindmirror-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every file under a directory, with its text, for "the secret is in none of these" checks. */
export function filesUnder(dir: string): { path: string; text: string; mode: number }[] {
  const out: { path: string; text: string; mode: number }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push({ path: p, text: readFileSync(p, 'utf8'), mode: st.mode & 0o777 });
    }
  };
  walk(dir);
  return out;
}

/** An Output that records what the engine printed (for in-process engine tests). */
export function captureOutput(isTTY = false): Output & { text: () => string } {
  let text = '';
  return {
    isTTY,
    write: (t: string) => {
      text += t;
    },
    text: () => text,
  };
}
