import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, commandFactory, configVar, runtimeVar, shellQuote, type Program } from '../../scripts/lib/command.ts';

const program: Program = { display: 'gcloud', resolve: () => ({ file: 'gcloud', leadingArgs: [] }), installHint: '' };
const gcloud = commandFactory(program);
const PROJECT_ID = configVar('PROJECT_ID');
const BUCKET = configVar('STATE_BUCKET');
const TOKEN = configVar('SUPABASE_ACCESS_TOKEN', true);
const lookup = (values: Record<string, string>) => (v: { name: string }) => values[v.name]!;

test('renders variables as shell variables and resolves them to values for execution', () => {
  const c = gcloud`services list --enabled --project ${PROJECT_ID} --format=${'value(config.name)'}`;
  assert.equal(c.render(), `gcloud services list --enabled --project "$PROJECT_ID" --format='value(config.name)'`);
  assert.deepEqual(c.resolveArgs(lookup({ PROJECT_ID: 'my-proj' })), ['services', 'list', '--enabled', '--project', 'my-proj', '--format=value(config.name)']);
});

test('a variable inside a word keeps the word whole', () => {
  const c = gcloud`storage buckets describe gs://${BUCKET}/state --x=${BUCKET}_suffix`;
  assert.equal(c.render(), `gcloud storage buckets describe "gs://$STATE_BUCKET/state" "--x=\${STATE_BUCKET}_suffix"`);
  assert.deepEqual(c.resolveArgs(lookup({ STATE_BUCKET: 'b1' })), ['storage', 'buckets', 'describe', 'gs://b1/state', '--x=b1_suffix']);
});

test('quoted literals keep their spelling in the runbook and lose their quotes in argv', () => {
  const c = gcloud`auth list --format='value(account)' --filter="status:ACTIVE"`;
  assert.equal(c.render(), `gcloud auth list --format='value(account)' --filter="status:ACTIVE"`);
  assert.deepEqual(c.resolveArgs(lookup({})), ['auth', 'list', '--format=value(account)', '--filter=status:ACTIVE']);
});

test('a list interpolation expands to one argument per item', () => {
  const apis = ['run.googleapis.com', 'redis.googleapis.com'];
  const c = gcloud`services enable ${apis} --project ${PROJECT_ID}`;
  assert.equal(c.render(), `gcloud services enable run.googleapis.com redis.googleapis.com --project "$PROJECT_ID"`);
  assert.equal(c.resolveArgs(lookup({ PROJECT_ID: 'p' })).length, 6);
  assert.throws(() => gcloud`services enable x${apis}`, /separated from other text/);
});

test('shell expansions in a template are refused: values must be Vars', () => {
  assert.throws(() => gcloud`projects describe $PROJECT_ID`, /use a Var/);
  assert.throws(() => gcloud`projects describe \`whoami\``, /use a Var/);
});

test('a secret can never be a command-line argument', () => {
  assert.throws(() => gcloud`secrets versions add x --token=${TOKEN}`, /must not be passed as a command-line argument/);
  const viaEnv = gcloud`projects list`.withEnv({ SUPABASE_ACCESS_TOKEN: TOKEN });
  // An exported config variable is not repeated in the runbook form.
  assert.equal(viaEnv.render(), 'gcloud projects list');
  assert.deepEqual(
    viaEnv.vars().map((v) => v.name),
    ['SUPABASE_ACCESS_TOKEN'],
  );
});

test('capture, stdin and stdout-to-file have runbook forms a person can paste', () => {
  const REVISION = runtimeVar('GATEWAY_REVISION');
  const VALUE = runtimeVar('NEW_VALUE', true);
  const FILE = runtimeVar('BACKUP_FILE');
  assert.equal(
    gcloud`run services describe gateway --region ${configVar('REGION')}`.captureInto(REVISION).render(),
    `GATEWAY_REVISION=$(gcloud run services describe gateway --region "$REGION")`,
  );
  assert.equal(gcloud`secrets versions add api-key --data-file=-`.withStdin(VALUE).render(), `printf '%s' "$NEW_VALUE" | gcloud secrets versions add api-key --data-file=-`);
  assert.equal(gcloud`state pull`.stdoutTo(FILE).render(), `(umask 077 && gcloud state pull > "$BACKUP_FILE")`);
  assert.equal(gcloud`state pull`.stdoutTo(".backups/prod/x.tfstate").render(), `(umask 077 && mkdir -p .backups/prod && gcloud state pull > .backups/prod/x.tfstate)`);
  assert.equal(gcloud`x`.captureInto(VALUE).options.secretOutput, true, 'capturing into a secret variable masks the output');
});

test('shellQuote leaves safe words alone and single-quotes the rest', () => {
  assert.equal(shellQuote('abc-1.2/x=y'), 'abc-1.2/x=y');
  assert.equal(shellQuote('value(a,b)'), `'value(a,b)'`);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(''), `''`);
});

test('builders return new commands and leave the original unchanged', () => {
  const base = gcloud`version`;
  const tolerant = base.allowExitCodes(2);
  assert.deepEqual(base.options.okExitCodes, [0]);
  assert.deepEqual(tolerant.options.okExitCodes, [0, 2]);
  assert.ok(tolerant instanceof Command);
});
