// The workflows as data (parsed YAML and raw text), their step scripts run the way a GitHub
// runner runs them, and throwaway git repositories to run them in.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, tempDir } from '../helpers/process.ts';

export const WORKFLOWS_DIR = join(repoRoot, '.github', 'workflows');

export type Doc = Record<string, any>;

export interface Workflow {
  readonly file: string;
  readonly text: string;
  readonly doc: Doc;
}

export function parseWorkflow(file: string, text: string): Workflow {
  return { file, text, doc: parse(text) as Doc };
}

export function loadWorkflows(): Map<string, Workflow> {
  const found = new Map<string, Workflow>();
  for (const name of readdirSync(WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    found.set(name, parseWorkflow(name, readFileSync(join(WORKFLOWS_DIR, name), 'utf8')));
  }
  return found;
}

export function workflow(name: string): Workflow {
  const wf = loadWorkflows().get(name);
  if (!wf) throw new Error(`.github/workflows/${name} does not exist`);
  return wf;
}

/** A deep copy to break a rule in, leaving the original alone. */
export function mutate(wf: Workflow, change: (doc: Doc) => void): Workflow {
  const doc = structuredClone(wf.doc);
  change(doc);
  return { ...wf, doc };
}

export function jobsOf(wf: Workflow): [string, Doc][] {
  return Object.entries((wf.doc.jobs ?? {}) as Record<string, Doc>);
}

export function stepsOf(job: Doc): Doc[] {
  return (job.steps ?? []) as Doc[];
}

export function findStep(wf: Workflow, jobId: string, name: string): Doc {
  const job = wf.doc.jobs?.[jobId];
  if (!job) throw new Error(`${wf.file} has no job ${jobId}`);
  const step = stepsOf(job).find((s) => s.name === name || s.id === name);
  if (!step) throw new Error(`${wf.file} job ${jobId} has no step "${name}"`);
  return step;
}

export interface StepRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the step wrote to $GITHUB_OUTPUT, as name -> value. */
  outputs: Record<string, string>;
  /** What it wrote to $GITHUB_STEP_SUMMARY. */
  summary: string;
  /** ::error:: annotations, without the prefix. */
  errors: string[];
}

/**
 * Run a step's `run:` script as the runner does with `shell: bash`
 * (`bash --noprofile --norc -eo pipefail {0}`), with the step's environment replaced by `env`.
 */
export function runStep(script: string, opts: { env?: Record<string, string>; cwd?: string; pathPrepend?: string } = {}): Promise<StepRun> {
  const dir = tempDir('mindmirror-step-');
  const scriptFile = join(dir, 'step.sh');
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(scriptFile, script);
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp);
  const env: NodeJS.ProcessEnv = {
    PATH: opts.pathPrepend ? `${opts.pathPrepend}:${process.env.PATH}` : process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    GITHUB_SHA: '0'.repeat(40),
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptFile], { cwd: opts.cwd ?? dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const outputs: Record<string, string> = {};
      for (const line of readFileSync(outputFile, 'utf8').split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
      }
      const errors = [...stdout.matchAll(/^::error::(.*)$/gm)].map((m) => m[1]!);
      resolve({ code, stdout, stderr, outputs, summary: readFileSync(summaryFile, 'utf8'), errors });
    });
  });
}

/** A git repository in a temporary directory, with commits made on demand. */
export class TempRepo {
  readonly dir = tempDir('mindmirror-repo-');
  private readonly env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Release Tester',
    GIT_AUTHOR_EMAIL: 'release@example.com',
    GIT_COMMITTER_NAME: 'Release Tester',
    GIT_COMMITTER_EMAIL: 'release@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };

  constructor() {
    this.git('init', '--quiet', '--initial-branch=main');
  }

  git(...args: string[]): string {
    const r = spawnSync('git', args, { cwd: this.dir, env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Write the files and commit them; returns the commit SHA. */
  commit(message: string, files: Record<string, string>): string {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, path)), { recursive: true });
      writeFileSync(join(this.dir, path), content);
    }
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  tag(name: string): void {
    this.git('tag', '--annotate', '-m', name, name);
  }

  get gitDir(): string {
    return join(this.dir, '.git');
  }
}
