// The installed Google Cloud CLI parses every command offline and exits 2 on a usage error
// before it ever asks for credentials (exit 1). So every gcloud command the scripts build,
// every one the runbook shows, and every command and flag the fake accepts, goes through the
// real gcloud here: none of the three can drift from the real CLI unnoticed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { loadCatalog } from '../scripts/lib/catalog.ts';
import { GCLOUD } from '../scripts/lib/cli.ts';
import type { Var } from '../scripts/lib/command.ts';
import { parseRunbookDoc } from '../scripts/lib/mirror.ts';
import { FAKE_GCLOUD_COMMANDS, GLOBAL_FLAGS } from './fakes/gcloud.ts';
import { installFakes } from './fakes/install.ts';
import { allRunbooks, runbookDoc } from './helpers/runbooks.ts';
import { tempDir } from './helpers/process.ts';

const gcloudConfig = tempDir('mindmirror-gcloud-config-');
/** Sample values for runbook variables, shaped like real ones. */
const SAMPLES: Record<string, string> = {
  PROJECT_ID: 'mm-prod-1',
  REGION: 'us-central1',
  STATE_BUCKET: 'mm-prod-1-tfstate',
  STATE_PREFIX: 'mindmirror/production',
  IMAGE_TAG: 'v1.2.3',
  SUPABASE_PROJECT_REF: 'abcdefghijklmnopqrst',
  RESTORE_POINT: '2026-12-04T06:30:00Z',
};
/** A value shaped like the real one, so gcloud judges the flag and not a placeholder. */
function sample(name: string): string {
  if (SAMPLES[name]) return SAMPLES[name]!;
  if (name.endsWith('_TARGET_TRAFFIC')) return 'gateway-00041-abc=100';
  if (name.endsWith('_GENERATION')) return '1700000000000001';
  return `sample-${name.toLowerCase().replace(/_/g, '-')}`;
}

/** One command per shape: the same command for eight services needs parsing once. */
function distinctShapes<T>(items: T[], line: (item: T) => string): T[] {
  const names = loadCatalog().services.map((s) => s.name).sort((a, b) => b.length - a.length);
  const seen = new Set<string>();
  return items.filter((item) => {
    let shape = line(item);
    for (const n of names) shape = shape.replaceAll(n, '<service>').replaceAll(n.toUpperCase().replace(/-/g, '_'), '<SERVICE>');
    if (seen.has(shape)) return false;
    seen.add(shape);
    return true;
  });
}

interface Parsed {
  code: number | null;
  stderr: string;
}

// Never a skip: without the real parser these checks would pass while proving nothing.
const GCLOUD_MISSING =
  'the real gcloud is not on PATH, and these tests parse every gcloud command with it (offline, no account needed). ' +
  'Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install; on Debian/Ubuntu the google-cloud-cli package from Google\'s apt repository), then run the tests again.';

function runReal(argv: string[], viaShell = false, env: Record<string, string> = {}): Promise<Parsed> {
  return new Promise<Parsed>((resolve, reject) => {
    const child = viaShell
      ? spawn('bash', ['-c', argv[0]!], { env: { ...process.env, ...env, CLOUDSDK_CONFIG: gcloudConfig, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' } })
      : spawn('gcloud', argv, { env: { ...process.env, CLOUDSDK_CONFIG: gcloudConfig, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.resume();
    child.stdin.on('error', () => {}); // gcloud may exit before its stdin is closed; the exit code is the answer
    child.stdin.end();
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new Error(GCLOUD_MISSING) : error));
    child.on('close', (code) => resolve({ code, stderr }));
  }).then((r) => {
    // Through bash, a missing gcloud is exit 127 rather than a spawn error.
    if (viaShell && r.code === 127 && /gcloud: (command )?not found/.test(r.stderr)) throw new Error(GCLOUD_MISSING);
    return r;
  });
}

/** Run at most `limit` at once: each gcloud start costs about a second of CPU. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

const usageError = (r: Parsed) => r.code === 2 || /unrecognized arguments|Invalid choice|argument .*: /.test(r.stderr);

test('the real gcloud is installed (these checks need it)', async () => {
  const r = await runReal(['version', '--format=json']);
  assert.equal(r.code, 0, `gcloud is required for the CLI honesty tests: ${r.stderr}`);
});

test('a usage error is detectable: a bogus flag exits 2 in the real gcloud and in the fake', async () => {
  const real = await runReal(['services', 'list', '--no-such-flag']);
  assert.equal(real.code, 2);
  const fakes = await installFakes();
  const fake = await new Promise<number | null>((resolve) => {
    const child = spawn(fakes.gcloudBin, ['services', 'list', '--no-such-flag'], { env: { ...process.env, ...fakes.env } });
    child.on('close', resolve);
  });
  fakes.cleanup();
  assert.equal(fake, 2);
});

test('every gcloud command the runbook scripts build parses with the real gcloud', async () => {
  const commands = distinctShapes(
    (await allRunbooks()).flatMap(({ runbook }) =>
      runbook.steps.flatMap((step) => step.commands.filter((c) => c.program === GCLOUD).map((c) => ({ where: `${runbook.id}.${step.id}`, c }))),
    ),
    ({ c }) => c.render(),
  );
  assert.ok(commands.length > 0);
  const results = await pool(commands, 3, async ({ where, c }) => ({ where, line: c.render(), r: await runReal(c.resolveArgs((v: Var) => sample(v.name))) }));
  const bad = results.filter(({ r }) => usageError(r));
  assert.deepEqual(
    bad.map(({ where, line, r }) => `${where}: ${line}\n${r.stderr.trim().split('\n').slice(0, 2).join('\n')}`),
    [],
  );
});

test('every gcloud command in the written runbook parses with the real gcloud', async () => {
  const lines = distinctShapes(
    parseRunbookDoc(runbookDoc())
      .allCommands.flatMap(gcloudInvocations)
      .filter((g, i, all) => all.indexOf(g) === i && !g.includes('<')),
    (g) => g,
  );
  assert.ok(lines.length > 0);
  const vars = Object.fromEntries([...new Set(lines.flatMap((l) => [...l.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!)))].map((n) => [n, sample(n)]));
  const results = await pool(lines, 3, async (line) => ({ line, r: await runReal([line], true, vars) }));
  const bad = results.filter(({ r }) => usageError(r));
  assert.deepEqual(
    bad.map(({ line, r }) => `${line}\n${r.stderr.trim().split('\n').slice(0, 2).join('\n')}`),
    [],
  );
});

/** The gcloud invocations in a shell line: from `gcloud` to an unquoted |, &, ;, ) or >. */
function gcloudInvocations(line: string): string[] {
  const found: string[] = [];
  for (const m of line.matchAll(/(^|[\s(|&;])gcloud /g)) {
    let i = m.index! + m[1]!.length;
    const start = i;
    let quote: string | null = null;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === "'" || c === '"') quote = c;
      else if ('|&;)>'.includes(c)) break;
    }
    found.push(line.slice(start, i).trim());
  }
  return found;
}

/** A value each flag accepts, so the real parser judges the flag and not the sample. */
const FLAG_SAMPLES: Record<string, string> = {
  '--format': 'json',
  '--filter': 'status:ACTIVE',
  '--limit': '5',
  '--page-size': '5',
  '--sort-by': 'name',
  '--verbosity': 'info',
  '--region': 'us-central1',
  '--location': 'us-central1',
  '--to-revisions': 'svc-00001-abc=100',
  '--to-tags': 'blue=100',
  '--data-file': '-',
  '--if-generation-match': '0',
  '--if-metageneration-match': '1',
  '--default-storage-class': 'STANDARD',
  '--task-timeout': '10m',
  '--tasks': '1',
  '--update-env-vars': 'A=B',
  '--args': 'upgrade',
  '--project': 'mm-prod-1',
  '--account': 'oncall@example.com',
  '--impersonate-service-account': 'deployer@mm-prod-1.iam.gserviceaccount.com',
  '--billing-project': 'mm-prod-1',
  '--configuration': 'default',
  '--flatten': 'status.traffic',
  '--trace-token': 'token',
  '--access-token-file': '/dev/null',
  '--scopes': 'https://www.googleapis.com/auth/cloud-platform',
  '--secret': 'supabase-url',
  '--out-file': '/dev/null',
  '--filter-account': 'oncall@example.com',
  '--service': 'gateway',
  '--replication-policy': 'automatic',
  '--labels': 'team=platform',
  '--locations': 'us-central1',
  '--repository-format': 'docker',
  '--description': 'images',
  '--lifetime': '3600',
  '--etag': '"1"',
  '--revision-suffix': 'rotated-20261204t0640',
  '--freshness': '30d',
  '--order': 'desc',
  '--bucket': '_Default',
  '--view': '_AllLogs',
  '--next-rotation-time': '2027-03-04T00:00:00Z',
  '--rotation-period': '7776000s',
  '--update-labels': 'team=platform',
  '--ack-ids': 'ack-1,ack-2',
  '--instance': 'mindmirror-pg',
  '--point-in-time': '2026-12-04T08:00:00.000Z',
  '--preferred-zone': 'us-central1-a',
  '--timeout': '3600',
};
const POSITIONALS: Record<string, string[]> = {
  'config get-value': ['project'],
  'projects describe': ['mm-prod-1'],
  'services enable': ['run.googleapis.com'],
  'storage cp': ['gs://mm-prod-1-tfstate/a', 'gs://mm-prod-1-tfstate/b'],
  'storage mv': ['gs://mm-prod-1-tfstate/backups/*', 'gs://mm-prod-1-tfstate/mindmirror/production/backups/'],
  'secrets versions access': ['latest'],
  'secrets create': ['supabase-url'],
  'artifacts repositories describe': ['mindmirror'],
  'artifacts repositories create': ['mindmirror'],
  'logging read': ['resource.type="cloud_run_revision"'],
  'secrets versions enable': ['2'],
  'secrets versions disable': ['2'],
  'secrets update': ['openai-api-key'],
  'pubsub subscriptions pull': ['secret-rotation-due'],
  'pubsub subscriptions ack': ['secret-rotation-due'],
  'sql instances describe': ['mindmirror-pg'],
  'sql instances clone': ['mindmirror-pg', 'mindmirror-pg-drill-20261204t0800'],
  'sql instances patch': ['mindmirror-pg-drill-20261204t0800'],
  'sql instances delete': ['mindmirror-pg-drill-20261204t0800'],
  'sql backups describe': ['1733000000001'],
  'sql operations wait': ['0a1b2c3d-4e5f-6789-abcd-ef0123456789'],
};

test('every command and flag the fake gcloud accepts exists in the real gcloud', async () => {
  const invocations = Object.entries(FAKE_GCLOUD_COMMANDS).map(([name, spec]) => {
    const excluded = new Set((spec.exclusive ?? []).flatMap((group) => group.slice(1)));
    const flags = Object.entries({ ...spec.flags, '--project': GLOBAL_FLAGS['--project']!, '--verbosity': GLOBAL_FLAGS['--verbosity']! })
      .filter(([flag]) => !excluded.has(flag))
      .map(([flag, arity]) => (arity === 'bool' ? flag : `${flag}=${FLAG_SAMPLES[flag] ?? assert.fail(`no sample value for ${flag}`)}`));
    const positionals = POSITIONALS[name] ?? Array.from({ length: spec.positionals[0] }, () => (name.startsWith('storage') ? 'gs://mm-prod-1-tfstate/x' : 'gateway'));
    return [...name.split(' '), ...positionals, ...flags];
  });
  const results = await pool(invocations, 3, async (argv) => ({ argv, r: await runReal(argv) }));
  const bad = results.filter(({ r }) => usageError(r));
  assert.deepEqual(
    bad.map(({ argv, r }) => `gcloud ${argv.join(' ')}\n${r.stderr.trim().split('\n').slice(0, 2).join('\n')}`),
    [],
  );
});
