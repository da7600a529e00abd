// The release filter rules: which services a set of changed files rebuilds, the pattern
// matcher against picomatch (the matcher dorny/paths-filter uses), and the generator that
// writes the rules into the workflows.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import picomatch from 'picomatch';
import { loadCatalog, type Catalog } from '../../scripts/lib/catalog.ts';
import { catalogPatternProblems, compilePattern, parseChangedFiles, patternProblem, planRelease, serviceFilters } from '../../scripts/lib/changed-services.ts';
import { MARKER, syncWorkflows, syncWorkflowText } from '../../scripts/lib/workflow-catalog.ts';
import { repoRoot, tempDir } from '../helpers/process.ts';

const catalog = loadCatalog();
const built = (files: string[]) => planRelease(catalog, files).build.map((b) => b.service);
const everyMeshService = catalog.services.filter((s) => s.uses.includes('python-shared')).map((s) => s.name);

test('a change under one service path builds only that service', () => {
  assert.deepEqual(built(['habits_service/app/routes.py']), ['habits-service']);
  assert.deepEqual(built(['src/agent_service/Dockerfile', 'src/agent_service/tools/search.py']), ['agent-service']);
});

test('the gateway is one of the services', () => {
  assert.deepEqual(built(['gateway/src/verify.ts']), ['gateway']);
});

test('a change to shared code builds every service that uses it, and not the gateway', () => {
  const plan = planRelease(catalog, ['src/shared/db/session.py']);
  assert.deepEqual(plan.build.map((b) => b.service), everyMeshService);
  assert.ok(everyMeshService.length >= 7);
  assert.ok(plan.unchanged.includes('gateway'));
  assert.ok(plan.build.every((b) => b.because[0]!.rule.shared === 'python-shared'));
});

test('docs, infra, scripts and services.yaml build nothing', () => {
  const files = ['docs/infrastructure/ci-cd.md', 'README.md', 'infra/modules/redis/main.tf', 'scripts/production-deploy.ts', 'services.yaml', '.github/workflows/deploy.yml'];
  const plan = planRelease(catalog, files);
  assert.deepEqual(plan.build, []);
  assert.deepEqual(plan.ignored, files);
  assert.equal(plan.unchanged.length, catalog.services.length);
});

test('a path that only starts like a service path does not count', () => {
  assert.deepEqual(built(['gateway-notes.md', 'src/shared_old/x.py', 'users_service_legacy/main.py', 'src/agent_services/x.py']), []);
});

test('files behind dot-directories count, as they do for paths-filter', () => {
  assert.deepEqual(built(['meals_service/.env.example']), ['meals-service']);
});

test('the matcher agrees with picomatch, the matcher paths-filter uses', () => {
  const patterns = ['gateway/**', 'src/shared/**', '**', '**/Dockerfile', 'a/**/b', 'a/*', '*.md', 'a/*/c/**', 'docs/*.md'];
  const paths = ['gateway', 'gateway/', 'gateway/a', 'gateway/a/b.ts', 'gatewayx/a', 'src/shared', 'src/shared/.env', 'src/shared/a/b/c.py', 'Dockerfile', 'x/Dockerfile', 'x/Dockerfile.dev', 'a/b', 'a/x/b', 'a/x/y/b', 'a/.h', 'a/b/c', 'README.md', 'docs/README.md', 'docs/a/b.md', 'a/x/c/d', 'a/x/c', '.github/x.md'];
  for (const pattern of patterns) {
    const ours = compilePattern(pattern);
    const theirs = picomatch(pattern, { dot: true });
    for (const path of paths) assert.equal(ours(path), theirs(path), `"${pattern}" on "${path}"`);
  }
  for (const { rules } of serviceFilters(catalog)) {
    for (const { pattern } of rules) {
      const theirs = picomatch(pattern, { dot: true });
      for (const path of paths.concat(['users_service/main.py', 'src/agent_service/x'])) assert.equal(compilePattern(pattern)(path), theirs(path), `"${pattern}" on "${path}"`);
    }
  }
});

test('patterns the two matchers could read differently are refused, each with a fix', () => {
  for (const bad of ['src/{a,b}/**', 'src/[ab]/**', 'src/?/x', '!docs/**', '/gateway/**', './gateway/**', 'gateway/', 'gate**/x', 'a//b', 'src/@(a|b)/**']) {
    assert.ok(patternProblem(bad), `accepted "${bad}"`);
    assert.throws(() => compilePattern(bad));
  }
  for (const good of ['gateway/**', 'src/shared/**', '**/*.py', 'a/b/Dockerfile']) assert.equal(patternProblem(good), null, good);
});

test('every unusable pattern in a catalog is reported at once, by where it is', () => {
  const broken: Catalog = {
    ...catalog,
    shared: { 'python-shared': { paths: ['src/{shared,common}/**'] } },
    services: catalog.services.map((s, i) => (i === 0 ? { ...s, paths: ['/gateway/**'] } : s)),
  };
  const problems = catalogPatternProblems(broken);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /^shared\.python-shared\.paths: .*braces/);
  assert.match(problems[1]!, /^services\.gateway\.paths: .*leading/);
  assert.throws(() => planRelease(broken, ['x']), /services\.yaml has paths the pipeline cannot match/);
});

/** The repository paths a Dockerfile copies into its image (COPY and ADD from the build context). */
function contextSources(dockerfile: string): string[] {
  const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
  const sources: string[] = [];
  for (const line of instructions) {
    const m = line.match(/^(COPY|ADD)\s+(.*)$/i);
    if (!m) continue;
    const words = m[2]!.startsWith('[') ? (JSON.parse(m[2]!) as string[]) : m[2]!.split(/\s+/);
    if (words.some((w) => w.startsWith('--from='))) continue;
    sources.push(...words.filter((w) => !w.startsWith('--')).slice(0, -1));
  }
  return [...new Set(sources)];
}

test('every file a Dockerfile here copies into its image is under its service paths, so changing it rebuilds the image', () => {
  const checked: string[] = [];
  const problems: string[] = [];
  for (const service of catalog.services) {
    const file = join(repoRoot, service.dockerfile);
    if (!existsSync(file)) continue; // the Python services' source lives in the backend repository
    const filter = serviceFilters(catalog).find((f) => f.service === service.name)!;
    for (const source of contextSources(readFileSync(file, 'utf8'))) {
      const abs = join(repoRoot, source);
      const sample = existsSync(abs) && statSync(abs).isDirectory() ? `${source.replace(/\/$/, '')}/x` : source.replace(/\*/g, 'x');
      checked.push(`${service.name}: ${source}`);
      if (!filter.rules.some((r) => compilePattern(r.pattern)(sample))) {
        problems.push(`${service.dockerfile} copies ${source}, which the paths of ${service.name} in services.yaml do not cover: a change to it would not rebuild the image (add it to paths)`);
      }
    }
  }
  assert.ok(checked.length > 0, 'the gateway Dockerfile is in this repository');
  assert.deepEqual(problems, []);
});

test('the Dockerfile reader finds what a change would have to cover', () => {
  const dockerfile = 'FROM node:20 AS build\nCOPY package.json package-lock.json ./\nCOPY --chown=app gateway ./gateway\nCOPY --from=build /app/dist ./\nADD ["docs/a b.md", "/x"]\nRUN true\n';
  assert.deepEqual(contextSources(dockerfile), ['package.json', 'package-lock.json', 'gateway', 'docs/a b.md']);
});

test('file names git quotes are read back as they are', () => {
  assert.deepEqual(parseChangedFiles('a.txt\n"docs/caf\\303\\251.md"\n"tab\\there"\n\n'), ['a.txt', 'docs/café.md', 'tab\there']);
});

test('the generator rewrites a stale block and leaves everything else alone', () => {
  const text = [
    'jobs:',
    '  x:',
    '    steps:',
    '      - uses: dorny/paths-filter@x',
    '        with:',
    `          ${MARKER} path-filters`,
    '          filters: |',
    '            old:',
    "              - 'old/**'",
    '',
    '      - run: echo after',
    '',
  ].join('\n');
  const synced = syncWorkflowText(text, catalog);
  assert.deepEqual(synced.problems, []);
  assert.deepEqual(synced.blocks, ['path-filters']);
  assert.doesNotMatch(synced.text, /old/);
  assert.match(synced.text, /\n {12}gateway:\n {14}- 'gateway\/\*\*'\n/);
  assert.match(synced.text, /'src\/shared\/\*\*' {2}# shared code python-shared\n\n {6}- run: echo after\n$/);
  assert.equal(syncWorkflowText(synced.text, catalog).text, synced.text, 'a second run changes nothing');
});

test('an unknown block or a marker away from its key is an error, not a silent skip', () => {
  const unknown = syncWorkflowText(`a:\n  ${MARKER} filterz\n  filters: |\n    x\n`, catalog, 'w.yml');
  assert.match(unknown.problems.join(), /w\.yml:2: unknown generated block "filterz"/);
  const detached = syncWorkflowText(`a:\n  ${MARKER} images\n\n  IMAGES: |\n    {}\n`, catalog, 'w.yml');
  assert.match(detached.problems.join(), /right above the key/);
});

test('the generator command fixes stale workflows, and --check reports them without writing', () => {
  const dir = tempDir('mindmirror-workflows-');
  const stale = `on: push\n${MARKER} rollback-services\noptions:\n  - all\n`;
  writeFileSync(join(dir, 'one.yml'), stale);
  writeFileSync(join(dir, 'notes.txt'), stale);
  const generator = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/lib/workflow-catalog.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });

  const check = generator('--check', dir);
  assert.equal(check.status, 1);
  assert.match(check.stderr, /one\.yml is out of date with services\.yaml\nRun `node --import tsx scripts\/lib\/workflow-catalog\.ts` to regenerate/);
  assert.equal(readFileSync(join(dir, 'one.yml'), 'utf8'), stale);

  const write = generator(dir);
  assert.equal(write.status, 0, write.stderr);
  assert.match(readFileSync(join(dir, 'one.yml'), 'utf8'), /options:\n {2}- all\n {2}- gateway\n {2}- users-service\n/);
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), stale, 'only workflow files are touched');
  assert.equal(generator('--check', dir).status, 0);
  assert.equal(syncWorkflows(catalog, dir)[0]!.result.text, readFileSync(join(dir, 'one.yml'), 'utf8'));

  const real = generator('--check');
  assert.equal(real.status, 0, `the committed workflows are stale: ${real.stderr}`);
});
