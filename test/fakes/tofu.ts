// A stand-in for OpenTofu with a GCS backend, faithful where the runbooks depend on it: Go-style
// flags (an unknown flag exits 1), `plan -detailed-exitcode` (0 none / 1 error / 2 changes),
// saved plans that go stale when the state's serial moves, the lock object with
// DoesNotExist semantics, `state push` refusals on lineage and serial, state format v4,
// `fmt -check` (0 formatted / 3 not / 2 IO errors) and `validate` after init.
// Facts: ../shared/reference/tofu-cli.md. Unimplemented commands exit 70.

import { randomUUID, createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve, isAbsolute, join, normalize } from 'node:path';
import { deleteObject, liveObject, objectBytes, putObject, rewriteObject, readCloud, recordCall, takeFault, withCloud, type FakeCloud, type RunService } from './store.ts';
import { FMT_EXTENSIONS, isIgnoredName, needsFormatting, requirements } from './tofu-config.ts';
import { joinAddress, parseTfvars, readModel, resolveModel, splitAddress, type Model, type ModelResource, MODEL_FILE } from './tofu-model.ts';

type Kind = 'bool' | 'value' | 'multi';
interface Flags {
  values: Map<string, string | boolean | string[]>;
  positionals: string[];
}

const VAR_FLAGS: Record<string, Kind> = { var: 'multi', 'var-file': 'multi' };
const VIEW_FLAGS: Record<string, Kind> = { json: 'bool', 'json-into': 'value', 'no-color': 'bool' };
const TARGETING: Record<string, Kind> = {
  destroy: 'bool', 'refresh-only': 'bool', refresh: 'bool', replace: 'multi', target: 'multi', 'target-file': 'value',
  exclude: 'multi', 'exclude-file': 'value', parallelism: 'value', 'compact-warnings': 'bool', concise: 'bool', 'show-sensitive': 'bool',
};

const SPECS: Record<string, Record<string, Kind>> = {
  version: { json: 'bool' },
  init: {
    ...VAR_FLAGS, ...VIEW_FLAGS, 'backend-config': 'multi', backend: 'bool', cloud: 'bool', reconfigure: 'bool', 'migrate-state': 'bool',
    'force-copy': 'bool', input: 'bool', lock: 'bool', 'lock-timeout': 'value', lockfile: 'value', upgrade: 'bool', get: 'bool',
    'plugin-dir': 'multi', 'from-module': 'value', 'test-directory': 'value', 'compact-warnings': 'bool', 'consolidate-warnings': 'bool',
    'consolidate-errors': 'bool', 'ignore-remote-version': 'bool',
  },
  plan: {
    ...VAR_FLAGS, ...VIEW_FLAGS, ...TARGETING, out: 'value', 'detailed-exitcode': 'bool', lock: 'bool', 'lock-timeout': 'value', input: 'bool',
    'generate-config-out': 'value', state: 'value', deprecation: 'value',
  },
  apply: {
    ...VAR_FLAGS, ...VIEW_FLAGS, ...TARGETING, 'auto-approve': 'bool', lock: 'bool', 'lock-timeout': 'value', input: 'bool', backup: 'value',
    state: 'value', 'state-out': 'value', 'suppress-forget-errors': 'bool',
  },
  'state pull': { ...VAR_FLAGS },
  'state push': { ...VAR_FLAGS, json: 'bool', 'json-into': 'value', force: 'bool', lock: 'bool', 'lock-timeout': 'value', 'ignore-remote-version': 'bool' },
  output: { ...VAR_FLAGS, ...VIEW_FLAGS, raw: 'bool', state: 'value', 'show-sensitive': 'bool' },
  show: { ...VAR_FLAGS, json: 'bool', 'no-color': 'bool', 'show-sensitive': 'bool', state: 'bool', plan: 'value', config: 'bool', module: 'value' },
  'workspace select': { ...VAR_FLAGS, json: 'bool', 'json-into': 'value', 'or-create': 'bool' },
  'force-unlock': { force: 'bool' },
  fmt: { list: 'bool', write: 'bool', diff: 'bool', check: 'bool', recursive: 'bool', 'no-color': 'bool' },
  validate: { ...VAR_FLAGS, json: 'bool', 'no-tests': 'bool', 'test-directory': 'value', 'no-color': 'bool' },
};

class TofuError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}

function parseFlags(args: string[], spec: Record<string, Kind>): Flags {
  const values = new Map<string, string | boolean | string[]>();
  let i = 0;
  // Go's flag package: flags first, parsing stops at the first non-flag argument.
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const kind = spec[name];
    if (!kind) throw new TofuError(`flag provided but not defined: -${name}\n\nRun "tofu -help" for usage.`);
    if (kind === 'bool') {
      if (inline !== undefined && !/^(true|false|1|0|t|f)$/i.test(inline)) throw new TofuError(`invalid boolean value "${inline}" for -${name}`);
      values.set(name, inline === undefined ? true : /^(true|1|t)$/i.test(inline));
    } else {
      const value = inline ?? args[++i];
      if (value === undefined) throw new TofuError(`flag needs an argument: -${name}`);
      if (kind === 'multi') values.set(name, [...((values.get(name) as string[]) ?? []), value]);
      else values.set(name, value);
    }
  }
  return { values, positionals: args.slice(i) };
}

const str = (f: Flags, name: string) => f.values.get(name) as string | undefined;
const bool = (f: Flags, name: string, dflt = false) => (f.values.has(name) ? Boolean(f.values.get(name)) : dflt);
const multi = (f: Flags, name: string) => (f.values.get(name) as string[] | undefined) ?? [];

function durationMs(text: string | undefined): number {
  if (!text) return 0;
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new TofuError(`invalid duration "${text}" for -lock-timeout`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

interface StateV4 {
  version: 4;
  terraform_version: string;
  serial: number;
  lineage: string;
  outputs: Record<string, { value: unknown; type: unknown; sensitive?: boolean }>;
  resources: {
    module?: string;
    mode: 'managed';
    type: string;
    name: string;
    each?: 'map' | 'list';
    provider: string;
    instances: { index_key?: string | number; schema_version: number; attributes: Record<string, unknown>; sensitive_attributes: unknown[] }[];
  }[];
  check_results: null;
}

function emptyState(version: string): StateV4 {
  return { version: 4, terraform_version: version, serial: 1, lineage: randomUUID(), outputs: {}, resources: [], check_results: null };
}

/** address -> attributes, from a v4 state. */
function flatten(state: StateV4): Map<string, ModelResource> {
  const out = new Map<string, ModelResource>();
  for (const r of state.resources) {
    for (const inst of r.instances) out.set(joinAddress(r, inst.index_key), { type: r.type, attributes: inst.attributes });
  }
  return out;
}

function unflatten(resources: Map<string, ModelResource>): StateV4['resources'] {
  const groups = new Map<string, StateV4['resources'][number]>();
  for (const [address, res] of [...resources.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const parts = splitAddress(address);
    const key = `${parts.module ?? ''}|${parts.type}|${parts.name}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        ...(parts.module ? { module: parts.module } : {}),
        mode: 'managed',
        type: parts.type,
        name: parts.name,
        ...(parts.indexKey !== undefined ? { each: typeof parts.indexKey === 'number' ? ('list' as const) : ('map' as const) } : {}),
        provider: 'provider["registry.opentofu.org/hashicorp/google"]',
        instances: [],
      };
      groups.set(key, group);
    }
    group.instances.push({ ...(parts.indexKey !== undefined ? { index_key: parts.indexKey } : {}), schema_version: 0, attributes: res.attributes, sensitive_attributes: [] });
  }
  return [...groups.values()];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

interface Change {
  address: string;
  type: string;
  actions: ('create' | 'update' | 'delete' | 'no-op')[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

interface PlanFile {
  fakeTofuPlan: 1;
  lineage: string;
  serial: number;
  variables: Record<string, string>;
  changes: Change[];
  outputs: Model['outputs'];
  outputChanges: string[];
  workdir: string;
}

class Backend {
  constructor(
    readonly bucket: string,
    readonly prefix: string,
    readonly workspace: string,
  ) {}
  get stateObject() {
    return `${this.prefix}${this.workspace}.tfstate`;
  }
  get lockObject() {
    return `${this.prefix}${this.workspace}.tflock`;
  }

  read(cloud: FakeCloud): StateV4 | null {
    const b = cloud.buckets[this.bucket];
    if (!b) throw new TofuError(`Error: Failed to get existing workspaces: querying Cloud Storage failed: storage: bucket doesn't exist`);
    const live = liveObject(b, this.stateObject);
    return live ? (JSON.parse(objectBytes(live).toString('utf8')) as StateV4) : null;
  }

  write(cloud: FakeCloud, state: StateV4): void {
    putObject(cloud, cloud.buckets[this.bucket]!, this.stateObject, JSON.stringify(state, null, 2));
  }

  /** Write the lock object if it does not exist; the lock id is its generation. */
  tryLock(cloud: FakeCloud, operation: string): { id: number } | { holder: Record<string, string> } {
    const b = cloud.buckets[this.bucket]!;
    const existing = liveObject(b, this.lockObject);
    if (existing) return { holder: JSON.parse(objectBytes(existing).toString('utf8')) };
    const info = {
      ID: '',
      Operation: operation,
      Info: '',
      Who: process.env.FAKE_TOFU_WHO ?? `${userInfo().username}@${hostname()}`,
      Version: cloud.tofuVersion,
      Created: new Date().toISOString(),
      Path: `gs://${this.bucket}/${this.lockObject}`,
    };
    const gen = putObject(cloud, b, this.lockObject, JSON.stringify(info));
    info.ID = String(gen.generation);
    rewriteObject(gen, JSON.stringify(info));
    return { id: gen.generation };
  }

  unlock(cloud: FakeCloud, id: number): boolean {
    const b = cloud.buckets[this.bucket]!;
    const existing = liveObject(b, this.lockObject);
    if (!existing || existing.generation !== id) return false;
    deleteObject(b, this.lockObject);
    return true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Tofu {
  out = '';
  err = '';

  /** Writes what is buffered and `line` now, instead of when the command ends. */
  stream(line: string): void {
    process.stdout.write(this.out + line);
    this.out = '';
  }
  private heldLock: { backend: Backend; id: number } | null = null;

  constructor(readonly workdir: string) {}

  private workdirKey() {
    return createHash('sha256').update(resolve(this.workdir)).digest('hex').slice(0, 16);
  }

  backend(): Backend {
    const rec = readCloud().tofuWorkdirs[this.workdirKey()];
    if (rec?.bucket === undefined) throw new TofuError('Error: Backend initialization required, please run "tofu init"\n\nReason: Initial configuration of the requested backend "gcs"');
    return new Backend(rec.bucket, rec.prefix ?? '', rec.workspace);
  }

  async lock(backend: Backend, operation: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 1000;
    for (;;) {
      const result = withCloud((cloud) => backend.tryLock(cloud, operation));
      if ('id' in result) {
        this.heldLock = { backend, id: result.id };
        return;
      }
      if (Date.now() >= deadline) {
        const h = result.holder;
        throw new TofuError(
          `Error: Error acquiring the state lock\n\nError message: writing "gs://${backend.bucket}/${backend.lockObject}" failed: googleapi: Error 412: At least one of the pre-conditions you specified did not hold., conditionNotMet\nLock Info:\n  ID:        ${h.ID}\n  Path:      ${h.Path}\n  Operation: ${h.Operation}\n  Who:       ${h.Who}\n  Version:   ${h.Version}\n  Created:   ${h.Created}\n  Info:      ${h.Info}\n\n\nOpenTofu acquires a state lock to protect the state from being written\nby multiple users at the same time. Please resolve the issue above and try\nagain. For most commands, you can disable locking with the "-lock=false"\nflag, but this is not recommended.`,
        );
      }
      await sleep(Math.min(delay, Math.max(10, deadline - Date.now())));
      delay = Math.min(delay * 2, 16_000);
    }
  }

  unlock(): void {
    if (!this.heldLock) return;
    const { backend, id } = this.heldLock;
    withCloud((cloud) => backend.unlock(cloud, id));
    this.heldLock = null;
  }

  private variables(f: Flags): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('TF_VAR_') && v !== undefined) values[k.slice(7)] = v;
    const auto = join(this.workdir, 'terraform.tfvars');
    if (existsSync(auto)) Object.assign(values, parseTfvars(readFileSync(auto, 'utf8')));
    for (const file of multi(f, 'var-file')) {
      const path = isAbsolute(file) ? file : join(this.workdir, file);
      if (!existsSync(path)) throw new TofuError(`Error: Failed to read variables file\n\nGiven variables file ${file} does not exist.`);
      Object.assign(values, parseTfvars(readFileSync(path, 'utf8')));
    }
    for (const pair of multi(f, 'var')) {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new TofuError(`Error: Invalid -var option\n\nThe given -var option "${pair}" is not correctly specified. Must be a variable name and value separated by an equals sign, like -var="key=value".`);
      values[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return values;
  }

  private model(values: Record<string, string>): Model {
    const raw = readModel(this.workdir);
    if (!raw) throw new TofuError(`fake tofu: no ${MODEL_FILE} in ${this.workdir}; the fake plans towards that model`, 70);
    const { model, missing } = resolveModel(raw, values);
    if (missing.length) {
      throw new TofuError(missing.map((m) => `Error: No value for required variable\n\nThe root module input variable "${m}" is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable.`).join('\n\n'));
    }
    return model;
  }

  private diff(state: StateV4, model: Model): { changes: Change[]; outputChanges: string[] } {
    const current = flatten(state);
    const changes: Change[] = [];
    for (const [address, want] of Object.entries(model.resources)) {
      const have = current.get(address);
      if (!have) changes.push({ address, type: want.type, actions: ['create'], before: null, after: want.attributes });
      else if (!same(have.attributes, want.attributes)) changes.push({ address, type: want.type, actions: ['update'], before: have.attributes, after: want.attributes });
    }
    for (const [address, have] of current) {
      if (!model.resources[address]) changes.push({ address, type: have.type, actions: ['delete'], before: have.attributes, after: null });
    }
    const outputChanges = [...new Set([...Object.keys(model.outputs), ...Object.keys(state.outputs)])].filter(
      (name) => !same(state.outputs[name]?.value, model.outputs[name]?.value),
    );
    return { changes, outputChanges };
  }

  private summary(changes: Change[]): string {
    const count = (a: string) => changes.filter((c) => c.actions.includes(a as Change['actions'][number])).length;
    return `Plan: ${count('create')} to add, ${count('update')} to change, ${count('delete')} to destroy.`;
  }

  async init(f: Flags): Promise<number> {
    if (f.positionals.length) throw new TofuError('Error: Too many command line arguments\n\nDid you mean to use -chdir?');
    if (bool(f, 'reconfigure') && bool(f, 'migrate-state')) throw new TofuError('Error: Invalid backend configuration options\n\nThe -migrate-state and -reconfigure options are mutually-exclusive.');
    if (bool(f, 'backend', true) === false) {
      // Providers and modules are installed all the same; a backend configured earlier stays.
      const key = this.workdirKey();
      withCloud((cloud) => {
        cloud.tofuWorkdirs[key] ??= { workspace: 'default' };
      });
      this.out += 'Initializing the backend... skipped (-backend=false)\nOpenTofu has been successfully initialized!\n';
      return 0;
    }
    const config: Record<string, string> = {};
    for (const pair of multi(f, 'backend-config')) {
      const eq = pair.indexOf('=');
      if (eq < 0) throw new TofuError(`fake tofu: -backend-config=${pair}: backend config files are not implemented`, 70);
      config[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    if (!config.bucket) {
      throw new TofuError('Error: "bucket": required field is not set\n\nThe backend "gcs" needs a bucket; pass -backend-config=bucket=NAME.');
    }
    const prefix = (config.prefix ?? '').replace(/^\/+/, '').replace(/\/*$/, '/').replace(/^\/$/, '');
    const key = this.workdirKey();
    withCloud((cloud) => {
      if (!cloud.buckets[config.bucket!]) {
        throw new TofuError(`Error: Failed to get existing workspaces: querying Cloud Storage failed: storage: bucket doesn't exist`);
      }
      const previous = cloud.tofuWorkdirs[key];
      if (previous?.bucket !== undefined && (previous.bucket !== config.bucket || previous.prefix !== prefix) && !bool(f, 'reconfigure') && !bool(f, 'migrate-state') && !bool(f, 'force-copy')) {
        throw new TofuError('Error: Backend configuration changed\n\nA change in the backend configuration has been detected, which may require migrating existing state.\n\nIf you wish to attempt automatic migration of the state, use "tofu init -migrate-state".\nIf you wish to store the current configuration with no changes to the state, use "tofu init -reconfigure".');
      }
      const workspace = previous?.workspace ?? 'default';
      cloud.tofuWorkdirs[key] = { bucket: config.bucket!, prefix, workspace };
      const backend = new Backend(config.bucket!, prefix, workspace);
      // The gcs backend creates the workspace's state object when it first opens it.
      if (!backend.read(cloud)) backend.write(cloud, emptyState(cloud.tofuVersion));
    });
    this.out += '\nInitializing the backend...\n\nSuccessfully configured the backend "gcs"! OpenTofu will automatically\nuse this backend unless the backend configuration changes.\n\nOpenTofu has been successfully initialized!\n';
    return 0;
  }

  async plan(f: Flags): Promise<number> {
    if (f.positionals.length) throw new TofuError('Error: Too many command line arguments');
    const backend = this.backend();
    const values = this.variables(f);
    const model = this.model(values);
    if (bool(f, 'lock', true)) await this.lock(backend, 'OperationTypePlan', durationMs(str(f, 'lock-timeout')));
    try {
      const state = withCloud((cloud) => backend.read(cloud)) ?? emptyState(readCloud().tofuVersion);
      const { changes, outputChanges } = this.diff(state, model);
      const outPath = str(f, 'out');
      if (outPath) {
        const plan: PlanFile = { fakeTofuPlan: 1, lineage: state.lineage, serial: state.serial, variables: values, changes, outputs: model.outputs, outputChanges, workdir: resolve(this.workdir) };
        writeFileSync(isAbsolute(outPath) ? outPath : join(this.workdir, outPath), JSON.stringify(plan));
      }
      if (changes.length === 0 && outputChanges.length === 0) {
        this.out += '\nNo changes. Your infrastructure matches the configuration.\n';
        return 0;
      }
      for (const c of changes) this.out += `  # ${c.address} will be ${c.actions[0] === 'create' ? 'created' : c.actions[0] === 'delete' ? 'destroyed' : 'updated in-place'}\n`;
      this.out += `\n${this.summary(changes)}\n`;
      if (outputChanges.length) this.out += `\nChanges to Outputs:\n${outputChanges.map((o) => `  ~ ${o}`).join('\n')}\n`;
      if (outPath) this.out += `\nSaved the plan to: ${outPath}\n`;
      return bool(f, 'detailed-exitcode') ? 2 : 0;
    } finally {
      this.unlock();
    }
  }

  async apply(f: Flags): Promise<number> {
    if (f.positionals.length > 1) throw new TofuError('Error: Too many command line arguments\n\nExpected at most one positional argument.');
    const backend = this.backend();
    const planPath = f.positionals[0];
    let plan: PlanFile;
    if (planPath) {
      const path = isAbsolute(planPath) ? planPath : join(this.workdir, planPath);
      if (!existsSync(path)) throw new TofuError(`Error: Failed to load "${planPath}" as a plan file\n\nopen ${planPath}: no such file or directory`);
      plan = JSON.parse(readFileSync(path, 'utf8')) as PlanFile;
      if (plan.fakeTofuPlan !== 1) throw new TofuError(`Error: Failed to read plan from plan file`);
      for (const [k, v] of Object.entries(this.variables(f))) {
        if (multi(f, 'var').some((p) => p.startsWith(`${k}=`)) && plan.variables[k] !== v) {
          throw new TofuError(`Error: Mismatch between input and plan variable value\n\nValue saved in the plan file for variable "${k}" is different from the one given to the current command.`);
        }
      }
    } else {
      if (!bool(f, 'auto-approve') && bool(f, 'input', true) === false) {
        throw new TofuError('Error: No configuration files\n\nApply requires either a saved plan file or -auto-approve when input is disabled.');
      }
      if (!bool(f, 'auto-approve')) throw new TofuError('fake tofu: interactive approval is not implemented; pass a plan file or -auto-approve', 70);
      const values = this.variables(f);
      const model = this.model(values);
      const state = withCloud((cloud) => backend.read(cloud)) ?? emptyState(readCloud().tofuVersion);
      const { changes, outputChanges } = this.diff(state, model);
      plan = { fakeTofuPlan: 1, lineage: state.lineage, serial: state.serial, variables: values, changes, outputs: model.outputs, outputChanges, workdir: resolve(this.workdir) };
    }

    let fault = takeFault('tofu', ['apply'], process.argv.slice(2));
    if (fault?.touchStateFirst) {
      // Someone else's apply lands between this plan and this apply.
      withCloud((cloud) => {
        const current = backend.read(cloud)!;
        backend.write(cloud, { ...current, serial: current.serial + 1, outputs: { ...current.outputs, written_by_someone_else: { value: 'x', type: 'string' } } });
      });
      fault = null;
    }
    if (bool(f, 'lock', true)) await this.lock(backend, 'OperationTypeApply', durationMs(str(f, 'lock-timeout')));
    const cloudNow = readCloud();
    const delay = cloudNow.applyDelayMs ?? cloudNow.latencyMs;
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const state = withCloud((cloud) => backend.read(cloud))!;
      if (state.lineage !== plan.lineage) throw new TofuError('Error: Saved plan does not match the given state\n\nThe given plan file can not be applied because it was created from a different state lineage.');
      if (state.serial !== plan.serial) {
        throw new TofuError('Error: Saved plan is stale\n\nThe given plan file can no longer be applied because the state was changed by another operation after the plan was created.');
      }
      const resources = flatten(state);
      let applied = 0;
      let failure: string | null = null;
      for (const change of plan.changes) {
        if (interrupted) {
          failure = 'Error: execution halted';
          break;
        }
        if (fault && fault.afterChanges !== undefined && applied >= fault.afterChanges) {
          failure = fault.stderr ?? `Error: Error creating ${change.type}: googleapi: Error 500: injected failure\n\n  with ${change.address}`;
          break;
        }
        if (delay > 0) await sleep(delay);
        if (change.actions.includes('delete')) resources.delete(change.address);
        else resources.set(change.address, { type: change.type, attributes: change.after! });
        withCloud((cloud) => applyToCloud(cloud, change));
        // Streamed as each change completes, as real apply does: a person (or a test) watching the
        // output sees the apply in progress and can interrupt it there.
        this.stream(`${change.address}: ${change.actions[0] === 'create' ? 'Creation' : change.actions[0] === 'delete' ? 'Destruction' : 'Modifications'} complete\n`);
        applied++;
      }
      if (fault && fault.afterChanges === undefined) failure = fault.stderr ?? 'Error: injected failure';
      const outputs = failure
        ? state.outputs
        : Object.fromEntries(Object.entries(plan.outputs).map(([k, o]) => [k, { value: o.value, type: typeof o.value === 'string' ? 'string' : 'dynamic', ...(o.sensitive ? { sensitive: true } : {}) }]));
      if (applied > 0 || !failure) {
        const next: StateV4 = { ...state, serial: state.serial + (applied > 0 || !same(outputs, state.outputs) ? 1 : 0), resources: unflatten(resources), outputs };
        withCloud((cloud) => backend.write(cloud, next));
      }
      if (failure) {
        this.err += `${failure}\n`;
        return 1;
      }
      const count = (a: string) => plan.changes.filter((c) => c.actions.includes(a as Change['actions'][number])).length;
      this.out += `\nApply complete! Resources: ${count('create')} added, ${count('update')} changed, ${count('delete')} destroyed.\n`;
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      this.unlock();
    }
  }

  async statePull(f: Flags): Promise<number> {
    if (f.positionals.length) throw new TofuError('Error: Too many command line arguments');
    const backend = this.backend();
    const state = withCloud((cloud) => backend.read(cloud)) ?? emptyState(readCloud().tofuVersion);
    this.out += `${JSON.stringify({ ...state, terraform_version: readCloud().tofuVersion }, null, 2)}\n`;
    return 0;
  }

  async statePush(f: Flags): Promise<number> {
    if (f.positionals.length !== 1) throw new TofuError('Exactly one argument expected.\n\nUsage: tofu [global options] state push [options] PATH');
    const path = f.positionals[0]!;
    let pushed: StateV4;
    try {
      const text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(isAbsolute(path) ? path : join(this.workdir, path), 'utf8');
      pushed = JSON.parse(text) as StateV4;
    } catch (error) {
      throw new TofuError(`Error: Failed to load state: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (pushed.version !== 4 || typeof pushed.serial !== 'number' || typeof pushed.lineage !== 'string') {
      throw new TofuError('Error: Failed to load state: unsupported state file format');
    }
    const backend = this.backend();
    if (bool(f, 'lock', true)) await this.lock(backend, 'state-push', durationMs(str(f, 'lock-timeout')));
    try {
      return withCloud((cloud) => {
        const remote = backend.read(cloud);
        const remoteEmpty = !remote || (remote.resources.length === 0 && Object.keys(remote.outputs).length === 0);
        if (!bool(f, 'force') && remote && !remoteEmpty && remote.lineage !== '' && pushed.lineage !== '') {
          if (remote.lineage !== pushed.lineage) {
            throw new TofuError(`Failed to write state: cannot import state with lineage "${pushed.lineage}" over unrelated state with lineage "${remote.lineage}"`);
          }
          if (pushed.serial < remote.serial) {
            throw new TofuError(`Failed to write state: cannot import state with serial ${pushed.serial} over newer state with serial ${remote.serial}`);
          }
          if (pushed.serial === remote.serial && !same({ ...pushed, terraform_version: '' }, { ...remote, terraform_version: '' })) {
            throw new TofuError(`Failed to write state: cannot overwrite existing state with serial ${pushed.serial} with a different state that has the same serial`);
          }
        }
        const unchanged = remote && same({ ...pushed, terraform_version: '' }, { ...remote, terraform_version: '' });
        if (!unchanged) backend.write(cloud, { ...pushed, serial: pushed.serial + 1, terraform_version: cloud.tofuVersion });
        return 0;
      });
    } finally {
      this.unlock();
    }
  }

  async output(f: Flags): Promise<number> {
    if (f.positionals.length > 1) throw new TofuError('Error: Unexpected argument\n\nThe output command expects exactly one argument with the name of an output variable or no arguments to show all outputs.');
    const backend = this.backend();
    const state = withCloud((cloud) => backend.read(cloud)) ?? emptyState(readCloud().tofuVersion);
    const name = f.positionals[0];
    if (name) {
      const o = state.outputs[name];
      if (!o) throw new TofuError(`Error: Output "${name}" not found\n\nThe output variable requested could not be found in the state file.`);
      if (bool(f, 'raw')) this.out += typeof o.value === 'string' ? o.value : JSON.stringify(o.value);
      else this.out += `${JSON.stringify(o.value, null, 2)}\n`;
      return 0;
    }
    if (!bool(f, 'json')) throw new TofuError('fake tofu: human-readable output is not implemented; use -json', 70);
    this.out += `${JSON.stringify(Object.fromEntries(Object.entries(state.outputs).map(([k, o]) => [k, { sensitive: Boolean(o.sensitive), type: o.type, value: o.value }])), null, 2)}\n`;
    return 0;
  }

  async show(f: Flags): Promise<number> {
    if (!bool(f, 'json')) throw new TofuError('fake tofu: human-readable show is not implemented; use -json', 70);
    const file = str(f, 'plan') ?? f.positionals[0];
    if (!file) throw new TofuError('fake tofu: show of the current state is not implemented; pass a plan file', 70);
    const path = isAbsolute(file) ? file : join(this.workdir, file);
    if (!existsSync(path)) throw new TofuError(`Error: Failed to read the given file as a state or plan file\n\nopen ${file}: no such file or directory`);
    const plan = JSON.parse(readFileSync(path, 'utf8')) as PlanFile;
    const cloud = readCloud();
    this.out += `${JSON.stringify({
      format_version: '1.2',
      terraform_version: cloud.tofuVersion,
      variables: Object.fromEntries(Object.entries(plan.variables).map(([k, v]) => [k, { value: v }])),
      planned_values: { root_module: { resources: plan.changes.filter((c) => c.after).map((c) => ({ address: c.address, type: c.type, values: c.after })) } },
      resource_changes: plan.changes.map((c) => {
        const parts = splitAddress(c.address);
        return {
          address: c.address,
          ...(parts.module ? { module_address: parts.module } : {}),
          mode: 'managed',
          type: c.type,
          name: parts.name,
          ...(parts.indexKey !== undefined ? { index: parts.indexKey } : {}),
          provider_name: 'registry.opentofu.org/hashicorp/google',
          change: { actions: c.actions, before: c.before, after: c.after, after_unknown: {}, before_sensitive: {}, after_sensitive: {} },
        };
      }),
      output_changes: Object.fromEntries(plan.outputChanges.map((o) => [o, { actions: ['update'], after: plan.outputs[o]?.value ?? null }])),
      errored: false,
    })}\n`;
    return 0;
  }

  async workspaceSelect(f: Flags): Promise<number> {
    if (f.positionals.length !== 1) throw new TofuError('Expected a single argument: NAME.');
    if (process.env.TF_WORKSPACE) throw new TofuError('Error: The selected workspace is overridden using the TF_WORKSPACE environment variable.');
    const name = f.positionals[0]!;
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new TofuError(`Error: Invalid workspace name "${name}"`);
    const backend = this.backend();
    const key = this.workdirKey();
    return withCloud((cloud) => {
      const target = new Backend(backend.bucket, backend.prefix, name);
      if (!target.read(cloud)) {
        if (!bool(f, 'or-create')) throw new TofuError(`Workspace "${name}" doesn't exist.\n\nYou can create this workspace with the "new" subcommand\nor include the "-or-create" flag with the "select" subcommand.`);
        target.write(cloud, emptyState(cloud.tofuVersion));
      }
      cloud.tofuWorkdirs[key]!.workspace = name;
      this.out += `Switched to workspace "${name}".\n`;
      return 0;
    });
  }

  async fmt(f: Flags): Promise<number> {
    const check = bool(f, 'check');
    const list = bool(f, 'list', true);
    const diff = bool(f, 'diff');
    // -check never writes, but it still prints the diffs -diff asks for.
    const rewrite = (bool(f, 'write', true) && !check) || diff;
    const notImplemented = () => new TofuError('fake tofu: fmt judges files but cannot rewrite them or show diffs; use -check or -write=false', 70);
    if (f.positionals[0] === '-') {
      // Standard input: nothing is listed or written, the formatted text goes to stdout.
      const source = readFileSync(0, 'utf8');
      const changed = needsFormatting(source);
      if (changed && (diff || !check)) throw notImplemented();
      if (check) return changed ? 3 : 0;
      if (!diff) this.out += source;
      return 0;
    }
    const listed: string[] = [];
    const errors: string[] = [];
    const supported = (name: string) => FMT_EXTENSIONS.some((ext) => name.endsWith(ext));
    const visitFile = (path: string, shown: string) => {
      if (needsFormatting(readFileSync(path, 'utf8'))) listed.push(shown);
    };
    const visitDir = (path: string, shown: string) => {
      const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (isIgnoredName(entry.name)) continue;
        if (entry.isDirectory()) {
          if (bool(f, 'recursive')) visitDir(join(path, entry.name), join(shown, entry.name));
        } else if (supported(entry.name)) {
          visitFile(join(path, entry.name), join(shown, entry.name));
        }
      }
    };
    for (const target of f.positionals.length ? f.positionals : ['.']) {
      const path = isAbsolute(target) ? target : join(this.workdir, target);
      const shown = normalize(target).replace(/(.)\/+$/, '$1');
      let isDir: boolean;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        errors.push(`Error: Invalid file or directory path\n\nNo file or directory at ${shown}`);
        break; // real tofu stops at the first missing target
      }
      if (isDir) visitDir(path, shown);
      else if (supported(target)) visitFile(path, shown);
      else errors.push('Error: Invalid file extension\n\nOnly .tf, .tofu, .tfvars, .tftest.hcl, and .tofutest.hcl files can be processed with tofu fmt');
    }
    if (listed.length && rewrite) throw notImplemented();
    // Without -check the names are printed as the files are processed, so before any error.
    if (!check && list) this.out += listed.map((name) => `${name}\n`).join('');
    if (errors.length) throw new TofuError(errors.join('\n\n'), 2);
    if (!check) return 0;
    if (list) this.out += listed.map((name) => `${name}\n`).join('');
    return listed.length ? 3 : 0;
  }

  /**
   * Judges only whether init ran: real validate needs the modules and provider plugins init
   * installs, and the fake has neither. The configuration itself is checked offline by
   * test/infra, and by real OpenTofu in CI (make infra-validate).
   */
  async validate(f: Flags): Promise<number> {
    if (f.positionals.length > 1) throw new TofuError('Error: Too many command line arguments\n\nExpected at most one positional argument.');
    const dir = f.positionals[0] ? (isAbsolute(f.positionals[0]) ? f.positionals[0] : join(this.workdir, f.positionals[0])) : this.workdir;
    type At = { file: string; line: number; text: string; column: number; byte: number; length: number };
    const diagnostics: { summary: string; detail: string; at?: At }[] = [];
    if (!readCloud().tofuWorkdirs[this.workdirKey()]) {
      const needs = requirements(dir);
      // The configuration does not load without its modules, so missing providers are never reached.
      for (const m of needs.modules) {
        diagnostics.push({
          summary: 'Module not installed',
          detail: 'This module is not yet installed. Run "tofu init" to install all modules required by this configuration.',
          at: { file: m.file, line: m.line, text: m.text, column: m.column, byte: m.byte, length: m.header.length },
        });
      }
      if (!needs.modules.length) {
        for (const provider of needs.providers) {
          diagnostics.push({
            summary: 'Missing required provider',
            detail: `This configuration requires provider ${provider}, but that provider isn't available. You may be able to install it automatically by running:\n  tofu init`,
          });
        }
      }
    }
    if (bool(f, 'json')) {
      this.out += `${JSON.stringify(
        {
          format_version: '1.0',
          valid: diagnostics.length === 0,
          error_count: diagnostics.length,
          warning_count: 0,
          diagnostics: diagnostics.map((d) => ({
            severity: 'error',
            summary: d.summary,
            detail: d.detail,
            ...(d.at
              ? {
                  range: {
                    filename: d.at.file,
                    start: { line: d.at.line, column: d.at.column, byte: d.at.byte },
                    end: { line: d.at.line, column: d.at.column + d.at.length, byte: d.at.byte + d.at.length },
                  },
                }
              : {}),
          })),
        },
        null,
        2,
      )}\n`;
      return diagnostics.length ? 1 : 0;
    }
    if (diagnostics.length) {
      throw new TofuError(diagnostics.map((d) => `Error: ${d.summary}\n\n${d.at ? `  on ${d.at.file} line ${d.at.line}:\n  ${d.at.line}: ${d.at.text.trim()}\n\n` : ''}${d.detail}`).join('\n\n'));
    }
    this.out += 'Success! The configuration is valid.\n';
    return 0;
  }

  async forceUnlock(f: Flags): Promise<number> {
    if (f.positionals.length !== 1) throw new TofuError('Expected a single argument: LOCK_ID');
    if (!bool(f, 'force')) throw new TofuError('Error: Failed to unlock state: force-unlock needs confirmation; without a terminal pass -force', 1);
    const backend = this.backend();
    const id = Number(f.positionals[0]);
    const done = withCloud((cloud) => backend.unlock(cloud, id));
    if (!done) throw new TofuError(`Error: Failed to unlock state: lock ID "${f.positionals[0]}" does not match existing lock`);
    this.out += 'OpenTofu state has been successfully unlocked!\n';
    return 0;
  }
}

/** What an applied change does to the fake cloud: Cloud Run services get a new revision. */
function applyToCloud(cloud: FakeCloud, change: Change): void {
  if (change.type === 'google_cloud_run_v2_service') {
    const attrs = (change.after ?? change.before)!;
    const name = String(attrs.name);
    const key = `${String(attrs.location)}/${name}`;
    if (change.actions.includes('delete')) {
      delete cloud.run.services[key];
      return;
    }
    const svc: RunService = (cloud.run.services[key] ??= {
      region: String(attrs.location),
      revisions: [],
      traffic: [{ latest: true, percent: 100 }],
      url: `https://${name}-abc123xyz-uc.a.run.app`,
      ingress: String(attrs.ingress ?? 'INGRESS_TRAFFIC_ALL'),
    });
    svc.ingress = String(attrs.ingress ?? svc.ingress);
    if (attrs.labels && typeof attrs.labels === 'object') svc.labels = attrs.labels as Record<string, string>;
    const n = svc.revisions.length + 1;
    // Creation times strictly increase, as they do for revisions of one service.
    const last = svc.revisions[svc.revisions.length - 1];
    const created = new Date(Math.max(Date.now(), last ? Date.parse(last.created) + 1000 : 0)).toISOString();
    svc.revisions.push({
      name: `${name}-${String(n).padStart(5, '0')}-${Math.random().toString(36).slice(2, 5)}`,
      image: String(attrs.image ?? ''),
      created,
      ready: attrs.ready !== false,
    });
    // Traffic is set when a service is created (all to the latest revision) and then left alone:
    // infra/ ignores changes to it, so an apply never undoes a pin or a rollback.
  } else if (change.type === 'google_sql_database_instance') {
    // The instance comes up with its (empty) databases; its private address is the fake's own.
    const attrs = (change.after ?? change.before)!;
    const name = String(attrs.name);
    const sql = (cloud.sql ??= { instances: {}, backups: [], operations: {} });
    if (change.actions.includes('delete')) {
      delete sql.instances[name];
      return;
    }
    const settings = (Array.isArray(attrs.settings) ? attrs.settings[0] : {}) as Record<string, unknown>;
    const existing = sql.instances[name];
    sql.instances[name] = {
      region: String(attrs.region),
      databaseVersion: String(attrs.database_version),
      tier: String(settings.tier ?? 'db-f1-micro'),
      state: 'RUNNABLE',
      privateIp: existing?.privateIp ?? '10.30.0.3',
      deletionProtectionEnabled: settings.deletion_protection_enabled === true,
      createTime: existing?.createTime ?? new Date().toISOString(),
      data: existing?.data ?? Object.fromEntries(((attrs.databases as string[] | undefined) ?? []).map((db) => [db, { alembic: null, counts: {} }])),
    };
  } else if (change.type === 'google_cloud_run_v2_job') {
    const attrs = (change.after ?? change.before)!;
    const key = `${String(attrs.location)}/${String(attrs.name)}`;
    if (change.actions.includes('delete')) delete cloud.run.jobs[key];
    else cloud.run.jobs[key] = { region: String(attrs.location), image: String(attrs.image ?? ''), executions: cloud.run.jobs[key]?.executions ?? [] };
  }
}

export async function main(argv: string[]): Promise<number> {
  let workdir = process.cwd();
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    if (a.startsWith('-chdir=')) workdir = resolve(a.slice('-chdir='.length));
    else if (a === '-version' || a === '--version' || a === '-v') {
      process.stdout.write(`OpenTofu v${readCloud().tofuVersion}\non linux_amd64\n`);
      return 0;
    } else {
      process.stderr.write(`Error: unknown global option ${a}\n`);
      return 1;
    }
  }
  const rest = argv.slice(i);
  const two = rest.slice(0, 2).join(' ');
  const name = SPECS[two] ? two : rest[0] ?? '';
  const spec = SPECS[name];
  const tofu = new Tofu(workdir);
  let code: number;
  if (!spec) {
    code = name ? 70 : 1;
    tofu.err += name ? `fake tofu: "${name}" is not implemented by the fake\n` : 'Usage: tofu [global options] <subcommand> [args]\n';
  } else {
    try {
      if (readCloud().latencyMs > 0) await sleep(readCloud().latencyMs);
      const f = parseFlags(rest.slice(name.split(' ').length), spec);
      const fault = name === 'apply' ? null : takeFault('tofu', name.split(' '), argv);
      if (fault) {
        tofu.err += `${fault.stderr ?? `Error: injected failure in tofu ${name}`}\n`;
        code = fault.exitCode ?? 1;
      } else {
        code = await (
          {
            version: async () => {
              const v = readCloud().tofuVersion;
              tofu.out += bool(f, 'json')
                ? `${JSON.stringify({ terraform_version: v, platform: 'linux_amd64', provider_selections: {}, terraform_outdated: false }, null, 2)}\n`
                : `OpenTofu v${v}\non linux_amd64\n`;
              return 0;
            },
            init: () => tofu.init(f),
            plan: () => tofu.plan(f),
            apply: () => tofu.apply(f),
            'state pull': () => tofu.statePull(f),
            'state push': () => tofu.statePush(f),
            output: () => tofu.output(f),
            show: () => tofu.show(f),
            'workspace select': () => tofu.workspaceSelect(f),
            'force-unlock': () => tofu.forceUnlock(f),
            fmt: () => tofu.fmt(f),
            validate: () => tofu.validate(f),
          } as Record<string, () => Promise<number>>
        )[name]!();
      }
    } catch (error) {
      if (!(error instanceof TofuError)) throw error;
      tofu.err += `\n${error.message}\n`;
      code = error.code;
    }
  }
  process.stdout.write(tofu.out);
  process.stderr.write(tofu.err);
  recordCall({ tool: 'tofu', argv, exitCode: code, at: new Date().toISOString(), cwd: process.cwd() });
  return code;
}
