// docs/infrastructure/ci-cd.md is enough to set up and use the pipeline: everything the
// workflows read is documented with where it lives, every link into it lands on a heading,
// every make target it or the workflows name exists, and every gcloud command in it and in the
// workflows parses with the real gcloud.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunbookDoc } from '../../scripts/lib/mirror.ts';
import { repoRoot, tempDir } from '../helpers/process.ts';
import { jobsOf, loadWorkflows, stepsOf, type Doc } from './helpers.ts';

const DOC = 'docs/infrastructure/ci-cd.md';
const doc = readFileSync(join(repoRoot, DOC), 'utf8');
const workflows = [...loadWorkflows().values()];

/** Where the documentation says each name is set: from its table and its gh commands. */
function documented(name: string) {
  const row = doc.match(new RegExp(`^\\| \`${name}\` \\| (variable|secret) \\| ([^|]+?) \\|`, 'm'));
  const command = doc.match(new RegExp(`^gh (variable|secret) set ${name}( --env production)?\\b`, 'm'));
  return { row: row ? { kind: row[1], where: row[2]!.trim() } : null, command: command ? { kind: command[1], env: Boolean(command[2]) } : null };
}

test('every variable and secret the workflows read is documented with where it lives and how to set it', () => {
  const read = new Map<string, { kind: 'variable' | 'secret'; outsideEnvironment: boolean }>();
  for (const wf of workflows) {
    for (const [, job] of jobsOf(wf)) {
      const text = JSON.stringify(job);
      for (const m of text.matchAll(/\b(vars|secrets)\.([A-Z][A-Z0-9_]*)/g)) {
        const entry = read.get(m[2]!) ?? { kind: m[1] === 'vars' ? 'variable' : 'secret', outsideEnvironment: false };
        if (!job.environment) entry.outsideEnvironment = true;
        read.set(m[2]!, entry);
      }
    }
  }
  assert.ok(read.size >= 10, [...read.keys()].join());
  const problems: string[] = [];
  for (const [name, { kind, outsideEnvironment }] of read) {
    const { row, command } = documented(name);
    if (!row || !command) {
      problems.push(`${name}: no table row and gh command in ${DOC}`);
      continue;
    }
    if (row.kind !== kind || command.kind !== kind) problems.push(`${name} is a ${kind}, documented as a ${row.kind} / gh ${command.kind}`);
    const inEnvironment = row.where === 'environment `production`';
    if (inEnvironment !== command.env) problems.push(`${name}: the table and the gh command disagree on where it lives`);
    if (outsideEnvironment && inEnvironment) problems.push(`${name} is read by a job outside the production environment, so it must be a repository ${kind}`);
    if (kind === 'secret' && !inEnvironment) problems.push(`${name}: secrets live in the production environment, where only approved jobs read them`);
  }
  for (const m of doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (?:variable|secret) \|/gm)) if (!read.has(m[1]!)) problems.push(`${m[1]} is documented but no workflow reads it`);
  assert.deepEqual(problems, []);
});

test('no secret value is ever put on a command line in the setup steps', () => {
  for (const m of doc.matchAll(/^gh secret set .*$/gm)) assert.doesNotMatch(m[0], /--body|-b /, `${m[0]}: let gh ask for the value`);
});

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .replace(/<a id="[^"]+"><\/a>/, '')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

test('every link to a part of ci-cd.md, from itself or from the workflows, lands on a heading', () => {
  const anchors = new Set<string>();
  for (const line of doc.split('\n')) {
    const heading = line.match(/^#{1,6} (.+)$/);
    if (heading) anchors.add(slug(heading[1]!));
    for (const m of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(m[1]!);
  }
  const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => ({ from: DOC, anchor: m[1]! }));
  for (const wf of workflows) for (const m of wf.text.matchAll(/ci-cd\.md#([a-z0-9-]+(?:\.[a-z0-9-]+)*)/g)) links.push({ from: wf.file, anchor: m[1]! });
  assert.ok(links.length >= 5);
  assert.deepEqual(
    links.filter((l) => !anchors.has(l.anchor)).map((l) => `${l.from} links to #${l.anchor}, which is not a heading of ${DOC}`),
    [],
  );
});

test('every make target the guide or the workflows name exists', () => {
  const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
  const targets = new Set([...makefile.matchAll(/^([a-z][a-z0-9-]*):/gm)].map((m) => m[1]!));
  const named = new Set<string>();
  for (const text of [doc, ...workflows.map((w) => w.text)]) for (const m of text.matchAll(/\bmake ([a-z][a-z0-9-]*)/g)) named.add(m[1]!);
  assert.ok(named.has('production-deploy') && named.has('production-rollback-traffic'));
  assert.deepEqual([...named].filter((t) => !targets.has(t)).map((t) => `make ${t} is not a Makefile target`), []);
});

const SAMPLES: Record<string, string> = {
  ARTIFACT_REGISTRY: 'us-central1-docker.pkg.dev/mindmirror-prod/services',
  WIF_PROVIDER: 'projects/123456789/locations/global/workloadIdentityPools/github/providers/github',
  REGION: 'us-central1',
  PROJECT_ID: 'mindmirror-prod',
  PREVIOUS_TAG: 'v1.3.0',
  RELEASE_TAG: 'v1.4.0',
  image: 'users-service',
};

/** The gcloud commands of a script or a doc, one per line as written (continuations joined). */
function gcloudLines(text: string): string[] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('gcloud '));
}

function parseWithRealGcloud(line: string): Promise<{ code: number | null; stderr: string }> {
  const home = tempDir('mindmirror-gcloud-home-');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], {
      env: { ...process.env, ...SAMPLES, HOME: home, CLOUDSDK_CONFIG: join(home, 'gcloud'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('every gcloud command in the workflows and in ci-cd.md parses with the real gcloud', async () => {
  const lines = new Set<string>();
  for (const wf of workflows) for (const [, job] of jobsOf(wf)) for (const step of stepsOf(job) as Doc[]) if (typeof step.run === 'string') gcloudLines(step.run).forEach((l) => lines.add(l));
  const docCommands = parseRunbookDoc(doc).allCommands;
  docCommands.flatMap(gcloudLines).forEach((l) => lines.add(l));
  assert.ok(lines.size >= 3, [...lines].join('\n'));
  // Exit 2 is a usage error; a resource that cannot be parsed exits 1 but is as wrong.
  const wrong = (r: { code: number | null; stderr: string }) => r.code === 2 || /unrecognized arguments|Invalid choice|Error parsing|argument .*: /.test(r.stderr);
  const problems: string[] = [];
  for (const line of lines) {
    const r = await parseWithRealGcloud(line);
    if (wrong(r)) problems.push(`${line}\n  ${r.stderr.trim().split('\n')[0]}`);
  }
  assert.deepEqual(problems, []);
  for (const bad of ['gcloud artifacts docker tags add "$ARTIFACT_REGISTRY/$image:$PREVIOUS_TAG" --tag "$RELEASE_TAG"', 'gcloud iam workload-identity-pools providers describe github']) {
    assert.ok(wrong(await parseWithRealGcloud(bad)), `the check let through: ${bad}`);
  }
});
