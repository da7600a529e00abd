// One Node.js line everywhere: the gateway image, the workflows, `engines`, the bundles' target and
// the tests all follow .node-version, and that line must still be supported. A dead runtime gets
// no security fixes, and the gateway is the only public door.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import semver from 'semver';
import { imageNodeArguments } from '../gateway/node-arguments.ts';
import { loadCatalog } from '../scripts/lib/catalog.ts';
import { gibOf } from '../scripts/lib/cost.ts';
import { repoRoot } from './helpers/process.ts';
import { loadWorkflows } from './workflows/helpers.ts';

// https://github.com/nodejs/Release (schedule.json): end of life of each LTS line. Odd lines are
// never LTS, so they are absent on purpose. Add a line here when a new LTS starts.
const LTS_END_OF_LIFE: Record<number, string> = {
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
  26: '2029-04-30',
};

const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');
const pinned = read('.node-version').trim();
const major = semver.major(pinned);

test('.node-version pins an exact release of a supported LTS line, the one supported longest', () => {
  assert.ok(semver.valid(pinned), `.node-version must hold an exact version like 26.12.1, not ${JSON.stringify(pinned)}`);
  const endOfLife = LTS_END_OF_LIFE[major];
  assert.ok(endOfLife, `Node.js ${major} is not an LTS line: production runs LTS only`);
  assert.ok(
    new Date(`${endOfLife}T00:00:00Z`).getTime() > Date.now(),
    `Node.js ${major} reached end of life on ${endOfLife}: move .node-version to a supported LTS line`,
  );
  const longest = Math.max(...Object.keys(LTS_END_OF_LIFE).map(Number));
  assert.equal(major, longest, `Node.js ${longest} is supported longer than ${major}`);
});

test('package.json engines asks for the pinned major, and every locked package accepts the pinned version', () => {
  const manifest = JSON.parse(read('package.json')) as { engines?: { node?: string } };
  assert.equal(manifest.engines?.node, `>=${major}`);
  // What `npm ci` warns about as EBADENGINE, checked against the lock file instead of a run.
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
  const refusing = Object.entries(lock.packages)
    .filter(([, p]) => p.engines && !Array.isArray(p.engines) && p.engines.node)
    .filter(([, p]) => !semver.satisfies(pinned, (p.engines as { node: string }).node, { includePrerelease: true }))
    .map(([path, p]) => `${path || 'the root package'} wants node ${(p.engines as { node: string }).node}`);
  assert.deepEqual(refusing, [], `these packages refuse Node.js ${pinned}`);
});

test('the gateway image builds and runs on the pinned major, on images that are still updated', () => {
  const from = [...read('gateway/Dockerfile').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(from.length >= 2, 'the Dockerfile has build stages and a runtime stage');
  for (const image of from) {
    // Distroless stopped updating its Debian 12 Node images; only the Debian 13 ones get fixes.
    const ok = image === `node:${major}-trixie-slim` || image === `gcr.io/distroless/nodejs${major}-debian13:nonroot`;
    assert.ok(ok, `FROM ${image}: use node:${major}-trixie-slim to build and gcr.io/distroless/nodejs${major}-debian13:nonroot to run`);
  }
  assert.ok(from.at(-1)!.startsWith('gcr.io/distroless/'), 'the image runs on distroless');
});

test('every workflow sets up Node.js from .node-version, never a literal version', () => {
  const steps: string[] = [];
  for (const [file, workflow] of loadWorkflows()) {
    for (const [jobName, job] of Object.entries(workflow.doc.jobs ?? {}) as [string, any][]) {
      for (const step of job.steps ?? []) {
        if (!String(step.uses ?? '').startsWith('actions/setup-node@')) continue;
        steps.push(`${file}:${jobName}`);
        assert.equal(step.with?.['node-version-file'], '.node-version', `${file} job ${jobName}`);
        assert.equal(step.with?.['node-version'], undefined, `${file} job ${jobName} sets a literal node-version`);
      }
    }
  }
  assert.ok(steps.length >= 3, `the deploy, rollback and CI workflows set up Node.js (found ${steps.join(', ')})`);
});

test('the bundles target the pinned major, and the tests run on it', () => {
  for (const file of ['gateway/build.ts', 'test/fakes/install.ts']) {
    assert.match(read(file), new RegExp(`target: 'node${major}'`), `${file} bundles for node${major}`);
  }
  assert.equal(
    semver.major(process.versions.node),
    major,
    `the tests run on Node.js ${process.versions.node}, production on ${pinned}: run \`bash .ci/run\`, which fetches it, or put Node.js ${major} first on PATH`,
  );
});

test('the image starts Node.js with options the pinned version accepts, and loading Hive Gateway prints nothing', () => {
  const match = /NODE_OPTIONS="([^"]+)"|NODE_OPTIONS=(\S+)/.exec(read('gateway/Dockerfile'));
  assert.ok(match, 'the Dockerfile sets NODE_OPTIONS');
  const nodeOptions = match[1] ?? match[2]!;
  // A warning on stderr at every start is a log line on call would learn to ignore.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', 'await import("@graphql-hive/gateway")'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', `NODE_OPTIONS="${nodeOptions}"`);
});

test("the gateway image's node arguments are ones the pinned Node accepts, V8's flags included", () => {
  // A misspelt or retired flag stops node before the gateway starts: the new revision would
  // never become ready.
  const args = imageNodeArguments(repoRoot);
  assert.ok(args.length > 0, 'the image passes node arguments (NODE_OPTIONS and the CMD flags)');
  const r = spawnSync(process.execPath, [...args, '-e', 'process.stdout.write(process.version)'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, `node ${args.join(' ')} refused: ${r.stderr}`);
  assert.equal(semver.major(r.stdout), major, 'the tests run on the major the image runs');
});

test("the gateway image sizes V8's heap for the instance's memory in services.yaml", () => {
  // Left to itself, Node.js sizes the heap from the memory it can see: 4 GB on a large machine,
  // 256 MB in a 512 MiB container. The image says it outright, so the instance, the benchmarks
  // and a laptop all run the gateway with the heap production has; raising the memory in
  // services.yaml without the heap (or the heap without the memory) fails here.
  const args = imageNodeArguments(repoRoot);
  for (const flag of ['--max-old-space-size=', '--max-semi-space-size=']) {
    assert.ok(args.some((a) => a.startsWith(flag)), `gateway/Dockerfile's CMD must set ${flag}<MB> (V8's heap for the instance)`);
  }
  // The catalog entry this image is built for.
  const gateway = loadCatalog().services.find((s) => s.dockerfile === 'gateway/Dockerfile');
  assert.ok(gateway, 'services.yaml has the service built from gateway/Dockerfile');
  const { memory } = gateway;
  const instanceMiB = gibOf(memory) * 1024;
  const r = spawnSync(process.execPath, [...args, '-p', "require('node:v8').getHeapStatistics().heap_size_limit"], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const heapMiB = Number(r.stdout) / 2 ** 20;
  // The rest of the instance holds what lives outside V8's heap: socket and body buffers, the
  // code, Node.js itself.
  assert.ok(heapMiB <= (instanceMiB * 2) / 3, `V8's heap limit ${heapMiB.toFixed(0)} MiB leaves too little of the instance's ${memory}: keep --max-old-space-size near half of it`);
  assert.ok(heapMiB >= instanceMiB * 0.25, `V8's heap limit ${heapMiB.toFixed(0)} MiB uses too little of the instance's ${memory}: raise --max-old-space-size to about half of it`);
});
