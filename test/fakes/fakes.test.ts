// The fakes follow the real CLIs' rules (../shared/reference/tofu-cli.md): if these fail, the
// deploy and rollback tests built on the fakes would prove nothing.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installFakes, type Fakes } from './install.ts';
import { liveObject } from './store.ts';
import { run, tempDir } from '../helpers/process.ts';

let fakes: Fakes;
before(async () => {
  fakes = await installFakes();
});
after(() => fakes.cleanup());

function workdir(model: object): string {
  const dir = tempDir('mindmirror-tofu-wd-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fake-model.json'), JSON.stringify(model));
  return dir;
}

const tofu = (dir: string, ...args: string[]) => run(fakes.tofuBin, [`-chdir=${dir}`, ...args], { env: fakes.env });
const gcloud = (...args: string[]) => run(fakes.gcloudBin, args, { env: fakes.env });

const MODEL = {
  variables: { image_tag: {} },
  resources: {
    'module.services.google_cloud_run_v2_service.this["gateway"]': {
      type: 'google_cloud_run_v2_service',
      attributes: { name: 'gateway', location: 'us-central1', image: 'registry/gateway:${var.image_tag}', ingress: 'INGRESS_TRAFFIC_ALL' },
    },
    'google_storage_bucket.assets': { type: 'google_storage_bucket', attributes: { name: 'assets' } },
  },
  outputs: { gateway_url: { value: 'https://gateway.example' } },
};

function freshBucket(name: string) {
  fakes.seed((c) => {
    c.account = 'oncall@example.com';
    c.buckets[name] = { location: 'us-central1', versioning: true, uniformAccess: true, publicAccessPrevention: 'enforced', objects: {} };
  });
}

function remoteState(bucket: string, object = 'prod/default.tfstate') {
  return JSON.parse(fakes.objectText(bucket, object)!) as { serial: number; lineage: string; resources: unknown[] };
}

test('init needs an existing bucket, and every other command needs init', async () => {
  const dir = workdir(MODEL);
  const early = await tofu(dir, 'plan', '-input=false');
  assert.equal(early.code, 1);
  assert.match(early.stderr, /Backend initialization required, please run "tofu init"/);
  const noBucket = await tofu(dir, 'init', '-input=false', '-backend-config=bucket=missing-bucket', '-backend-config=prefix=prod');
  assert.equal(noBucket.code, 1);
  assert.match(noBucket.stderr, /bucket doesn't exist/);
  freshBucket('b-init');
  assert.equal((await tofu(dir, 'init', '-input=false', '-backend-config=bucket=b-init', '-backend-config=prefix=prod')).code, 0);
  const changed = await tofu(dir, 'init', '-input=false', '-backend-config=bucket=b-init', '-backend-config=prefix=other');
  assert.equal(changed.code, 1);
  assert.match(changed.stderr, /Backend configuration changed/);
  assert.equal((await tofu(dir, 'init', '-input=false', '-reconfigure', '-backend-config=bucket=b-init', '-backend-config=prefix=other')).code, 0);
});

test('plan -detailed-exitcode answers 2 for changes, 0 for none and 1 for errors; a saved plan applies once', async () => {
  freshBucket('b-plan');
  const dir = workdir(MODEL);
  await tofu(dir, 'init', '-input=false', '-backend-config=bucket=b-plan', '-backend-config=prefix=prod');
  const missingVar = await tofu(dir, 'plan', '-input=false', '-detailed-exitcode');
  assert.equal(missingVar.code, 1);
  assert.match(missingVar.stderr, /No value for required variable/);

  const plan = await tofu(dir, 'plan', '-input=false', '-detailed-exitcode', '-var', 'image_tag=v1', '-out=prod.tfplan');
  assert.equal(plan.code, 2, plan.all);
  assert.match(plan.stdout, /Plan: 2 to add, 0 to change, 0 to destroy\./);
  const before = remoteState('b-plan');

  const applied = await tofu(dir, 'apply', '-input=false', 'prod.tfplan');
  assert.equal(applied.code, 0, applied.all);
  const afterApply = remoteState('b-plan');
  assert.equal(afterApply.serial, before.serial + 1);
  assert.equal(afterApply.lineage, before.lineage);
  assert.equal(afterApply.resources.length, 2);

  const stale = await tofu(dir, 'apply', '-input=false', 'prod.tfplan');
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /Saved plan is stale/);

  assert.equal((await tofu(dir, 'plan', '-input=false', '-detailed-exitcode', '-var', 'image_tag=v1')).code, 0);
  const update = await tofu(dir, 'plan', '-input=false', '-detailed-exitcode', '-var', 'image_tag=v2');
  assert.equal(update.code, 2);
  assert.match(update.stdout, /0 to add, 1 to change, 0 to destroy/);

  const svc = fakes.cloud().run.services['us-central1/gateway']!;
  assert.equal(svc.revisions.length, 1);
  assert.equal(svc.revisions[0]!.image, 'registry/gateway:v1');
  const outputs = JSON.parse((await tofu(dir, 'output', '-json')).stdout);
  assert.deepEqual(outputs.gateway_url, { sensitive: false, type: 'string', value: 'https://gateway.example' });
});

test('a held lock stops plan and apply at once, naming the holder; -lock-timeout waits for it', async () => {
  freshBucket('b-lock');
  const dir = workdir(MODEL);
  await tofu(dir, 'init', '-input=false', '-backend-config=bucket=b-lock', '-backend-config=prefix=prod');
  const lockObject = JSON.stringify({ ID: '1', Operation: 'OperationTypeApply', Who: 'alice@laptop', Version: '1.12.6', Created: '2026-11-22T00:00:00Z', Path: 'gs://b-lock/prod/default.tflock', Info: '' });
  const holder = await run(fakes.gcloudBin, ['storage', 'cp', '-', 'gs://b-lock/prod/default.tflock', '--if-generation-match=0'], { env: fakes.env, input: lockObject });
  assert.equal(holder.code, 0, holder.all);
  const blocked = await tofu(dir, 'plan', '-input=false', '-var', 'image_tag=v1');
  assert.equal(blocked.code, 1);
  assert.match(blocked.stderr, /Error acquiring the state lock[\s\S]*Who: {7}alice@laptop/);

  const waiting = tofu(dir, 'plan', '-input=false', '-lock-timeout=10s', '-var', 'image_tag=v1');
  setTimeout(() => void gcloud('storage', 'rm', 'gs://b-lock/prod/default.tflock'), 500);
  assert.equal((await waiting).code, 0);
});

test('state push refuses another lineage, an older serial and a same-serial rewrite; -force overrides', async () => {
  freshBucket('b-push');
  const dir = workdir(MODEL);
  await tofu(dir, 'init', '-input=false', '-backend-config=bucket=b-push', '-backend-config=prefix=prod');
  await tofu(dir, 'apply', '-input=false', '-auto-approve', '-var', 'image_tag=v1');
  const pulled = await tofu(dir, 'state', 'pull');
  const state = JSON.parse(pulled.stdout);
  const write = (name: string, s: object) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(s));
    return file;
  };

  const other = await tofu(dir, 'state', 'push', write('other.tfstate', { ...state, lineage: 'another-lineage', serial: state.serial + 5 }));
  assert.equal(other.code, 1);
  assert.match(other.stderr, /cannot import state with lineage "another-lineage" over unrelated state/);

  const older = await tofu(dir, 'state', 'push', write('older.tfstate', { ...state, serial: state.serial - 1 }));
  assert.equal(older.code, 1);
  assert.match(older.stderr, new RegExp(`cannot import state with serial ${state.serial - 1} over newer state with serial ${state.serial}`));

  const rewrite = await tofu(dir, 'state', 'push', write('same.tfstate', { ...state, resources: [] }));
  assert.equal(rewrite.code, 1);
  assert.match(rewrite.stderr, /with a different state that has the same serial/);

  const newer = await tofu(dir, 'state', 'push', write('newer.tfstate', { ...state, serial: state.serial + 1, resources: [] }));
  assert.equal(newer.code, 0, newer.all);
  assert.equal(remoteState('b-push').serial, state.serial + 2, 'the written serial is the pushed serial + 1');

  const forced = await tofu(dir, 'state', 'push', '-force', write('forced.tfstate', { ...state, lineage: 'another-lineage', serial: 1 }));
  assert.equal(forced.code, 0);
  assert.equal(remoteState('b-push').lineage, 'another-lineage');
});

test('flags follow Go rules: unknown flags exit 1, and flags after a positional are not flags', async () => {
  const dir = workdir(MODEL);
  const unknown = await tofu(dir, 'plan', '-no-such-flag');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /flag provided but not defined: -no-such-flag/);
  freshBucket('b-flags');
  await tofu(dir, 'init', '-backend-config=bucket=b-flags', '-backend-config=prefix=prod');
  const late = await tofu(dir, 'apply', 'plan.file', '-auto-approve');
  assert.equal(late.code, 1);
  assert.match(late.stderr, /Too many command line arguments/);
});

function configDir(files: Record<string, string>): string {
  const dir = tempDir('mindmirror-tofu-config-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('fmt -check lists the files it would rewrite and exits 3, 0 when all are formatted, 2 for a missing target', async () => {
  const dir = configDir({
    'main.tf': 'locals {\n  a = "x"\n}\n',
    'vars.tfvars': 'a = "x" \n',
    'notes.md': 'trailing  \n',
    'settings.tf.json': '{"locals": {"a": "x"}}   \n',
    'mod/tabbed.tf': 'locals {\n\ta = "x"\n}\n',
    '.terraform/modules/vendored.tf': 'locals {\n\ta = "x"\n}\n',
  });
  const fmt = (...args: string[]) => run(fakes.tofuBin, ['fmt', ...args], { cwd: dir, env: fakes.env });
  const here = await fmt('-check');
  assert.equal(here.code, 3, here.all);
  assert.equal(here.stdout, 'vars.tfvars\n', 'only its extensions, only the current directory without -recursive');
  const all = await fmt('-check', '-recursive', '.');
  assert.equal(all.code, 3);
  assert.equal(all.stdout, 'mod/tabbed.tf\nvars.tfvars\n', 'subdirectories with -recursive, never hidden ones like .terraform');
  assert.equal((await fmt('-check', '-list=false', '-recursive')).stdout, '');
  const one = await fmt('-check', 'main.tf');
  assert.deepEqual([one.code, one.stdout], [0, '']);
  const missing = await fmt('-check', 'nowhere');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Error: Invalid file or directory path\n\nNo file or directory at nowhere/);
  const wrongKind = await fmt('-check', 'notes.md');
  assert.equal(wrongKind.code, 2);
  assert.match(wrongKind.stderr, /Only \.tf, \.tofu, \.tfvars, \.tftest\.hcl, and \.tofutest\.hcl files can be processed/);
  assert.equal((await fmt('-chek')).code, 1, 'a flag error exits 1');
  const stdin = await run(fakes.tofuBin, ['fmt', '-check', '-'], { cwd: dir, env: fakes.env, input: 'a = 1\t\n' });
  assert.deepEqual([stdin.code, stdin.stdout], [3, '']);
});

test('fmt judges only what real fmt rewrites: tabs in indentation, blanks at line ends outside comments and heredocs', async () => {
  const judged: [string, string, 0 | 3][] = [
    ['canonical', 'resource "x" "y" {\n  name = "a"\n}\n', 0],
    ['tab indentation', 'resource "x" "y" {\n\tname = "a"\n}\n', 3],
    ['a tab-indented comment', 'locals {\n\t# why\n  a = 1\n}\n', 3],
    ['trailing blanks after code', 'locals {\n  a = 1 \n}\n', 3],
    ['a blank line of spaces', 'locals {\n  a = 1\n  \n}\n', 3],
    ['trailing blanks before CRLF', 'locals {\r\n  a = 1 \r\n}\r\n', 3],
    // hclwrite keeps newline tokens as they are and adds none.
    ['CRLF line endings', 'locals {\r\n  a = 1\r\n}\r\n', 0],
    ['no final newline', 'locals {\n  a = 1\n}', 0],
    // A line comment's bytes, heredoc text and block comments are kept as written.
    ['trailing blanks in a comment', 'locals {\n  a = 1 # why \n}\n', 0],
    ['tabs and blanks in a heredoc', 'locals {\n  a = <<EOT\n\tkept \nEOT\n}\n', 0],
    ['tabs in a block comment', '/*\n\tkept \n*/\nlocals {}\n', 0],
  ];
  for (const [what, text, expected] of judged) {
    const r = await run(fakes.tofuBin, ['fmt', '-check', '-'], { env: fakes.env, input: text });
    assert.equal(r.code, expected, what);
  }
  const dir = configDir({ 'main.tf': 'locals {\n\ta = 1\n}\n' });
  const rewrite = await run(fakes.tofuBin, ['fmt'], { cwd: dir, env: fakes.env });
  assert.equal(rewrite.code, 70, 'the fake never pretends to rewrite a file');
  assert.equal(readFileSync(join(dir, 'main.tf'), 'utf8'), 'locals {\n\ta = 1\n}\n');
});

test('validate needs init, with or without a backend: missing modules first, then missing providers', async () => {
  const withModules = configDir({
    'main.tf': 'module "network" {\n  source = "./modules/network"\n}\n\nresource "google_storage_bucket" "b" {\n  name = "b"\n}\n',
    'modules/network/main.tf': 'resource "google_compute_network" "n" {}\n',
  });
  const bare = await tofu(withModules, 'validate', '-no-color');
  assert.equal(bare.code, 1);
  assert.match(bare.stderr, /Error: Module not installed\n\n {2}on main\.tf line 1:\n {2}1: module "network" \{\n\nThis module is not yet installed\. Run "tofu init" to install all modules required by this configuration\./);
  assert.doesNotMatch(bare.stderr, /Missing required provider/, 'without its modules the configuration never loads far enough');
  const bareJson = JSON.parse((await tofu(withModules, 'validate', '-json')).stdout) as { valid: boolean; diagnostics: { summary: string; range: unknown }[] };
  assert.equal(bareJson.valid, false);
  assert.deepEqual(bareJson.diagnostics.map((d) => [d.summary, d.range]), [
    ['Module not installed', { filename: 'main.tf', start: { line: 1, column: 1, byte: 0 }, end: { line: 1, column: 17, byte: 16 } }],
  ]);

  const providersOnly = configDir({
    'versions.tf': 'terraform {\n  required_providers {\n    google = {\n      source  = "hashicorp/google"\n      version = ">= 7.45.0"\n    }\n  }\n}\n',
    'main.tf': 'resource "random_id" "x" {\n  byte_length = 4\n}\n\nresource "terraform_data" "y" {}\n',
  });
  const json = await tofu(providersOnly, 'validate', '-json');
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout) as { format_version: string; valid: boolean; error_count: number; warning_count: number; diagnostics: { severity: string; summary: string; detail: string }[] };
  assert.deepEqual([doc.format_version, doc.valid, doc.error_count, doc.warning_count], ['1.0', false, 2, 0]);
  assert.deepEqual(
    doc.diagnostics.map((d) => [d.severity, d.summary, /requires provider (\S+),/.exec(d.detail)?.[1]]),
    [
      ['error', 'Missing required provider', 'registry.opentofu.org/hashicorp/google'],
      ['error', 'Missing required provider', 'registry.opentofu.org/hashicorp/random'],
    ],
  );
  assert.match(doc.diagnostics[0]!.detail, /You may be able to install it automatically by running:\n {2}tofu init$/);

  assert.equal((await tofu(withModules, 'init', '-backend=false', '-input=false')).code, 0);
  const valid = await tofu(withModules, 'validate', '-no-color');
  assert.deepEqual([valid.code, valid.stdout], [0, 'Success! The configuration is valid.\n']);
  assert.deepEqual(JSON.parse((await tofu(withModules, 'validate', '-json')).stdout), { format_version: '1.0', valid: true, error_count: 0, warning_count: 0, diagnostics: [] });
  const plan = await tofu(withModules, 'plan', '-input=false');
  assert.equal(plan.code, 1, 'init -backend=false configures no backend');
  assert.match(plan.stderr, /Backend initialization required/);
  freshBucket('b-validate');
  assert.equal((await tofu(withModules, 'init', '-input=false', '-backend-config=bucket=b-validate', '-backend-config=prefix=prod')).code, 0, 'a first backend is no change of backend');
  assert.equal((await tofu(withModules, 'init', '-backend=false')).code, 0);
  assert.equal((await tofu(withModules, 'output', '-json')).code, 0, 'a later init -backend=false keeps the backend');
  assert.equal((await tofu(withModules, 'validate', 'a', 'b')).code, 1);
});

test('a requested failure stops apply half-way and leaves the partial state a real apply would', async () => {
  freshBucket('b-fault');
  const dir = workdir(MODEL);
  await tofu(dir, 'init', '-input=false', '-backend-config=bucket=b-fault', '-backend-config=prefix=prod');
  const before = remoteState('b-fault').serial;
  fakes.seed((c) => c.faults.push({ tool: 'tofu', command: 'apply', afterChanges: 1, times: 1 }));
  const failed = await tofu(dir, 'apply', '-input=false', '-auto-approve', '-var', 'image_tag=v1');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /injected failure/);
  const partial = remoteState('b-fault');
  assert.equal(partial.resources.length, 1);
  assert.equal(partial.serial, before + 1);
  assert.equal(liveObject(fakes.cloud().buckets['b-fault']!, 'prod/default.tflock'), undefined, 'the lock was released');
  assert.equal((await tofu(dir, 'apply', '-input=false', '-auto-approve', '-var', 'image_tag=v1')).code, 0, 'the fault applied once');
  const calls = fakes.calls('tofu').filter((c) => c.argv.includes('apply'));
  assert.deepEqual(
    calls.slice(-2).map((c) => c.exitCode),
    [1, 0],
  );
});

test('gcloud storage keeps noncurrent generations in a versioned bucket and honours if-generation-match', async () => {
  freshBucket('b-gcs');
  const file = join(tempDir(), 'obj.txt');
  writeFileSync(file, 'one');
  assert.equal((await gcloud('storage', 'cp', file, 'gs://b-gcs/x.txt', '--if-generation-match=0')).code, 0);
  const again = await gcloud('storage', 'cp', file, 'gs://b-gcs/x.txt', '--if-generation-match=0');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /412/);
  writeFileSync(file, 'two');
  await gcloud('storage', 'cp', file, 'gs://b-gcs/x.txt');
  const listing = await gcloud('storage', 'ls', '--all-versions', 'gs://b-gcs/');
  assert.equal(listing.stdout.trim().split('\n').length, 2);
  const first = listing.stdout.trim().split('\n')[0]!;
  assert.equal((await gcloud('storage', 'cat', first)).stdout, 'one');
  assert.equal((await gcloud('storage', 'cat', 'gs://b-gcs/x.txt')).stdout, 'two');
  const out = join(tempDir(), 'back.txt');
  await gcloud('storage', 'cp', 'gs://b-gcs/x.txt', out);
  assert.equal(readFileSync(out, 'utf8'), 'two');
});

test('gcloud run traffic moves between ready revisions and back to latest', async () => {
  fakes.seed((c) => {
    c.account = 'oncall@example.com';
    c.run.services['us-central1/users'] = {
      region: 'us-central1',
      url: 'https://users.example',
      ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
      traffic: [{ latest: true, percent: 100 }],
      revisions: [
        { name: 'users-00001-aaa', image: 'i:1', created: '2026-11-01T00:00:00Z', ready: true },
        { name: 'users-00002-bbb', image: 'i:2', created: '2026-11-02T00:00:00Z', ready: true },
        { name: 'users-00003-ccc', image: 'i:3', created: '2026-11-03T00:00:00Z', ready: false },
      ],
    };
  });
  const serving = async () => (await gcloud('run', 'services', 'describe', 'users', '--region', 'us-central1', '--format=value(status.traffic[0].revisionName)')).stdout.trim();
  assert.equal(await serving(), 'users-00002-bbb', 'latest means the newest ready revision');
  assert.equal((await gcloud('run', 'services', 'update-traffic', 'users', '--region', 'us-central1', '--to-revisions=users-00001-aaa=100')).code, 0);
  assert.equal(await serving(), 'users-00001-aaa');
  const notReady = await gcloud('run', 'services', 'update-traffic', 'users', '--region', 'us-central1', '--to-revisions=users-00003-ccc=100');
  assert.equal(notReady.code, 1);
  const both = await gcloud('run', 'services', 'update-traffic', 'users', '--region', 'us-central1', '--to-latest', '--to-revisions=users-00001-aaa=100');
  assert.equal(both.code, 2, 'mutually exclusive flags are a usage error, as in the real CLI');
  assert.equal((await gcloud('run', 'services', 'update-traffic', 'users', '--region', 'us-central1', '--to-latest')).code, 0);
  assert.equal(await serving(), 'users-00002-bbb');
});
