// What deciding a release's builds costs, against what paths-filter itself pays.
//   node --import tsx bench/ci/changed-services.bench.ts [runs]
// 1. Matching: planRelease() over N changed files, against the baseline of picomatch used the
//    way dorny/paths-filter uses it (every filter's patterns compiled once; for each filter,
//    the list of every changed file it matches).
// 2. End to end: `scripts/ci-changed-services.ts` on a repository whose release range changes
//    5,000 files, against the baseline of the `git diff` paths-filter runs for the same range.
// Medians of `runs` (default 7); the same inputs for both sides, run side by side.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import picomatch from 'picomatch';
import { loadCatalog } from '../../scripts/lib/catalog.ts';
import { planRelease, serviceFilters } from '../../scripts/lib/changed-services.ts';
import { repoRoot } from '../../scripts/lib/paths.ts';

const runs = Number(process.argv[2] ?? 7);
const catalog = loadCatalog();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(fn: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

/** A deterministic mix: 40% under a service, 10% shared code, 50% docs, infra and scripts. */
function changedFiles(n: number): string[] {
  const roots = catalog.services.map((s) => s.paths[0]!.replace('/**', ''));
  const elsewhere = ['docs/infrastructure', 'infra/modules/redis', 'scripts/lib', 'test/engine', 'supabase/migrations'];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const r = next() % 10;
    const depth = 'abcd'.slice(0, next() % 4);
    const sub = depth.split('').join('/');
    const root = r < 4 ? roots[next() % roots.length]! : r < 5 ? 'src/shared' : elsewhere[next() % elsewhere.length]!;
    return `${root}/${sub ? `${sub}/` : ''}file${i}.${r < 5 ? 'py' : 'md'}`;
  });
}

/** What paths-filter computes: for every filter, the list of changed files it matches. */
function pathsFilterBaseline(files: string[]): string[] {
  const filters = serviceFilters(catalog).map((f) => ({ name: f.service, rules: f.rules.map((r) => picomatch(r.pattern, { dot: true })) }));
  const matches = filters.map((f) => ({ name: f.name, files: files.filter((file) => f.rules.some((isMatch) => isMatch(file))) }));
  return matches.filter((m) => m.files.length > 0).map((m) => m.name);
}

const rows: string[][] = [];
for (const n of [1_000, 10_000, 100_000]) {
  const files = changedFiles(n);
  const ours = planRelease(catalog, files).build.map((b) => b.service);
  const theirs = pathsFilterBaseline(files);
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) throw new Error(`the two disagree for ${n} files: ${ours} vs ${theirs}`);
  const baseline = time(() => pathsFilterBaseline(files));
  const measured = time(() => planRelease(catalog, files));
  rows.push([n.toLocaleString('en'), baseline.toFixed(2), measured.toFixed(2), (measured / baseline).toFixed(2)]);
}

const files100k = changedFiles(100_000);
(globalThis as { gc?: () => void }).gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const plan = planRelease(catalog, files100k);
const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

// End to end on a real repository.
const dir = mkdtempSync(join(tmpdir(), 'mindmirror-bench-ci-'));
const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = (...args: string[]) => {
  const r = spawnSync('git', args, { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
};
git('init', '--quiet');
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};
write('services.yaml', readFileSync(join(repoRoot, 'services.yaml'), 'utf8'));
const e2eFiles = changedFiles(5_000);
for (const f of e2eFiles) write(f, 'v1\n');
git('add', '--all');
git('commit', '--quiet', '-m', 'base');
const base = git('rev-parse', 'HEAD');
for (const f of e2eFiles) write(f, 'v2\n');
git('commit', '--quiet', '-am', 'head');
const head = git('rev-parse', 'HEAD');

const wall = (cmd: string, args: string[], extraEnv: Record<string, string> = {}) =>
  time(() => {
    const r = spawnSync(cmd, args, { cwd: repoRoot, env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  });
const runsDir = join(dir, '.runs');
const gitDiff = wall('git', ['--git-dir', join(dir, '.git'), 'diff', '--no-renames', '--name-status', '-z', `${base}..${head}`]);
const nodeStart = wall(process.execPath, ['--import', 'tsx', '-e', '']);
const script = wall(process.execPath, ['--import', 'tsx', 'scripts/ci-changed-services.ts'], { BASE: base, HEAD: head, GIT_DIR: join(dir, '.git'), RUNS_DIR: runsDir });
rmSync(dir, { recursive: true, force: true });

const table = (headers: string[], body: string[][]) =>
  [`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

process.stdout.write(
  [
    `Matching changed files against the catalog (${catalog.services.length} services), median of ${runs}:`,
    '',
    table(['changed files', 'picomatch as paths-filter (baseline) ms', 'planRelease ms', 'ratio'], rows),
    '',
    `Heap growth for one plan over 100,000 files: ${heapGrowth.toFixed(1)} MiB (${plan.build.length} services built, ${plan.ignored.length.toLocaleString('en')} files ignored).`,
    '',
    `End to end, 5,000 files changed in the range, median of ${runs}:`,
    '',
    table(
      ['command', 'ms', 'ratio to git diff'],
      [
        ['git diff --no-renames --name-status -z (baseline, what paths-filter runs)', gitDiff.toFixed(0), '1.00'],
        ['node --import tsx -e "" (start-up alone)', nodeStart.toFixed(0), (nodeStart / gitDiff).toFixed(2)],
        ['scripts/ci-changed-services.ts (make ci-changed-services)', script.toFixed(0), (script / gitDiff).toFixed(2)],
      ],
    ),
    '',
  ].join('\n'),
);
