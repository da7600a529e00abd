// A stand-in for `gcloud` that keeps state in FAKE_CLOUD_DIR. It accepts only the flags the
// real CLI has for each command (a test runs every spec here through the real gcloud), exits
// 2 on a usage error like the real one, 1 on an API error, and 70 for anything the fake does
// not implement, so a gap in the fake can never pass for a real answer.

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { matches as matchesLogFilter } from '../infra/log-filter.ts';
import { applyFilter, formatOutput, sortBy, UnsupportedByFake } from './gcloud-format.ts';
import {
  deleteObject,
  liveObject,
  objectBytes,
  putObject,
  recordCall,
  takeFault,
  withCloud,
  readCloud,
  type Bucket,
  type FakeCloud,
  type RunService,
  type SqlBackup,
  type SqlInstance,
  type SqlOperation,
} from './store.ts';

type Arity = 'bool' | 'value';
interface Parsed {
  positionals: string[];
  flags: Map<string, string | true | false>;
}
interface Outcome {
  exit: number;
  stdout?: string;
  stderr?: string;
  /** A resource (describe) or resources (list), printed according to --format. */
  data?: unknown;
}
interface CommandSpec {
  flags: Record<string, Arity>;
  positionals: [number, number];
  /** Groups of flags that cannot be used together (gcloud exits 2). */
  exclusive?: string[][];
  /** Flags gcloud requires (exits 2 without them). */
  required?: string[];
  isList?: boolean;
  /** Reads only: runs on a snapshot, without the fake cloud's lock (as reads do not block in GCP). */
  readOnly?: boolean;
  run(args: Parsed, cloud: FakeCloud): Outcome;
}

export const GLOBAL_FLAGS: Record<string, Arity> = {
  '--project': 'value',
  '--format': 'value',
  '--quiet': 'bool',
  '--verbosity': 'value',
  '--account': 'value',
  '--configuration': 'value',
  '--impersonate-service-account': 'value',
  '--billing-project': 'value',
  '--log-http': 'bool',
  '--user-output-enabled': 'bool',
  '--flatten': 'value',
  '--trace-token': 'value',
  '--access-token-file': 'value',
};
const SHORT: Record<string, string> = { '-q': '--quiet', '-a': '--all-versions', '-l': '--long', '-r': '--recursive', '-n': '--no-clobber' };
const LIST_FLAGS: Record<string, Arity> = { '--filter': 'value', '--limit': 'value', '--page-size': 'value', '--sort-by': 'value' };

/** What `gcloud auth print-access-token` prints for the signed-in account; the fake Monitoring API accepts only it. */
export const FAKE_ACCESS_TOKEN = `ya29.fake-user-token-${'y'.repeat(40)}`;

const ok = (stdout = '', stderr = ''): Outcome => ({ exit: 0, stdout, stderr });
const apiError = (command: string, message: string): Outcome => ({ exit: 1, stderr: `ERROR: (gcloud.${command}) ${message}\n` });

function needAccount(cloud: FakeCloud, command: string): Outcome | null {
  if (cloud.account) return null;
  return {
    exit: 1,
    stderr: `ERROR: (gcloud.${command}) You do not currently have an active account selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.\n`,
  };
}

function projectOf(args: Parsed): string | undefined {
  const p = args.flags.get('--project');
  return typeof p === 'string' ? p : undefined;
}

function flag(args: Parsed, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function parseGs(url: string): { bucket: string; object: string; generation?: number } | null {
  const m = /^gs:\/\/([^/#]+)\/?([^#]*)(?:#(\d+))?$/.exec(url);
  if (!m) return null;
  return { bucket: m[1]!, object: m[2]!, generation: m[3] ? Number(m[3]) : undefined };
}

function bucketOr404(cloud: FakeCloud, name: string, command: string): Bucket | Outcome {
  const b = cloud.buckets[name];
  return b ?? apiError(command, `HTTPError 404: The specified bucket does not exist.`);
}

const isOutcome = (x: unknown): x is Outcome => typeof x === 'object' && x !== null && 'exit' in x;

function serviceKey(region: string, name: string) {
  return `${region}/${name}`;
}

function serviceJson(name: string, svc: RunService) {
  const ready = svc.revisions.filter((r) => r.ready);
  const latestReady = ready[ready.length - 1];
  const latestCreated = svc.revisions[svc.revisions.length - 1];
  const traffic = svc.traffic.map((t) => ({
    revisionName: t.latest ? latestReady?.name : t.revisionName,
    percent: t.percent,
    ...(t.latest ? { latestRevision: true } : {}),
  }));
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, annotations: { 'run.googleapis.com/ingress': svc.ingress }, labels: { ...svc.labels, 'cloud.googleapis.com/location': svc.region } },
    spec: { template: { spec: { containers: [{ image: latestCreated?.image }] } }, traffic },
    status: {
      url: svc.url,
      latestReadyRevisionName: latestReady?.name,
      latestCreatedRevisionName: latestCreated?.name,
      conditions: [{ type: 'Ready', status: latestCreated?.ready ? 'True' : 'False' }],
      traffic,
    },
  };
}

function setVersionState(a: Parsed, cloud: FakeCloud, verb: 'enable' | 'disable', state: 'ENABLED' | 'DISABLED'): Outcome {
  const denied = needAccount(cloud, `secrets.versions.${verb}`);
  if (denied) return denied;
  const name = flag(a, '--secret') ?? '';
  const version = cloud.secrets[name]?.versions.find((v) => String(v.version) === a.positionals[0]);
  if (!version) return apiError(`secrets.versions.${verb}`, `NOT_FOUND: Secret Version [projects/123456789012/secrets/${name}/versions/${a.positionals[0]}] not found.`);
  if (version.state === 'DESTROYED') return apiError(`secrets.versions.${verb}`, `FAILED_PRECONDITION: Secret Version [projects/123456789012/secrets/${name}/versions/${version.version}] is destroyed.`);
  version.state = state;
  return ok('', `${verb === 'enable' ? 'Enabled' : 'Disabled'} version [${version.version}] of the secret [${name}].\n`);
}


// Cloud SQL. Operations finish when waited for (`sql operations wait`), as a person sees them do;
// until then a backup is RUNNING and a clone PENDING_CREATE.
type SqlState = NonNullable<FakeCloud['sql']>;
const sqlOf = (cloud: FakeCloud): SqlState => (cloud.sql ??= { instances: {}, backups: [], operations: {} });
const sqlProject = (a: Parsed) => projectOf(a) ?? 'mindmirror-prod';
const instanceNotFound = (command: string, name: string) => apiError(command, `HTTPError 404: The Cloud SQL instance ${name} does not exist.`);

function sqlInstanceJson(project: string, name: string, i: SqlInstance) {
  return {
    kind: 'sql#instance',
    name,
    project,
    connectionName: `${project}:${i.region}:${name}`,
    region: i.region,
    databaseVersion: i.databaseVersion,
    state: i.state,
    createTime: i.createTime,
    ipAddresses: [{ type: 'PRIVATE', ipAddress: i.privateIp }],
    settings: { tier: i.tier, edition: 'ENTERPRISE', deletionProtectionEnabled: i.deletionProtectionEnabled, ipConfiguration: { ipv4Enabled: false, sslMode: 'ENCRYPTED_ONLY' }, backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true, transactionLogRetentionDays: 7 } },
  };
}

function backupJson(b: SqlBackup) {
  const { data: _data, ...rest } = b;
  return { kind: 'sql#backupRun', ...rest, windowStartTime: b.startTime, enqueuedTime: b.startTime };
}

function newOperation(sql: SqlState, type: SqlOperation['operationType'], target: string, extra: Partial<SqlOperation> = {}): SqlOperation {
  const op: SqlOperation = { name: `${Math.random().toString(16).slice(2, 10)}-${Math.random().toString(16).slice(2, 6)}-${Date.now().toString(16)}`, operationType: type, status: 'PENDING', targetId: target, insertTime: new Date().toISOString(), ...extra };
  sql.operations[op.name] = op;
  return op;
}

function operationJson(project: string, op: SqlOperation) {
  return { kind: 'sql#operation', name: op.name, operationType: op.operationType, status: op.status, targetId: op.targetId, targetProject: project, insertTime: op.insertTime, ...(op.endTime ? { endTime: op.endTime } : {}), ...(op.backupId ? { backupContext: { backupId: op.backupId } } : {}) };
}

/** Finish what an operation started. */
function completeOperation(sql: SqlState, op: SqlOperation): void {
  if (op.status === 'DONE') return;
  op.status = 'DONE';
  op.endTime = new Date().toISOString();
  if (op.operationType === 'BACKUP_VOLUME') {
    const b = sql.backups.find((x) => x.id === op.backupId);
    if (b) Object.assign(b, { status: 'SUCCESSFUL', endTime: op.endTime });
  } else if (op.operationType === 'CLONE') {
    const i = sql.instances[op.targetId];
    if (i) i.state = 'RUNNABLE';
  }
}

/** An async command prints its operation; a synchronous one waits for it first. */
function startedOrDone(a: Parsed, sql: SqlState, op: SqlOperation, done: string): Outcome {
  if (a.flags.get('--async') === true) return { exit: 0, data: operationJson(sqlProject(a), op) };
  completeOperation(sql, op);
  return ok('', done);
}

/**
 * What the database-check job (infra/modules/cloud-sql) does: connect to PGHOST (the live
 * instance unless --update-env-vars names another) and log one JSON line per database.
 */
function logDatabaseCheck(cloud: FakeCloud, region: string, execution: string, envVars: string | undefined): string | null {
  const host = /(?:^|,)PGHOST=([^,]+)/.exec(envVars ?? '')?.[1];
  const instances = Object.entries(cloud.sql?.instances ?? {});
  const target = host ? instances.find(([, i]) => i.privateIp === host) : instances.find(([name]) => name === 'mindmirror-pg');
  if (!target) return `psql: error: connection to server at "${host ?? '(the live instance)'}", port 5432 failed: Connection timed out`;
  if (target[1].state !== 'RUNNABLE') return `psql: error: connection to server at "${target[1].privateIp}", port 5432 failed: Connection refused`;
  const at = new Date().toISOString();
  for (const [database, d] of Object.entries(target[1].data).sort(([x], [y]) => x.localeCompare(y))) {
    (cloud.logEntries ??= []).push({
      timestamp: at,
      resource: { type: 'cloud_run_job', labels: { job_name: 'database-check', location: region } },
      labels: { 'run.googleapis.com/execution_name': execution },
      jsonPayload: { check: 'database', database, alembic: d.alembic, counts: d.counts },
    });
  }
  return null;
}

const COMMANDS: Record<string, CommandSpec> = {
  version: {
    readOnly: true,
    flags: {},
    positionals: [0, 0],
    run: () => ({ exit: 0, data: { 'Google Cloud SDK': '528.0.0', core: '2025.06.20' } }),
  },
  'auth list': {
    readOnly: true,
    flags: { ...LIST_FLAGS, '--filter-account': 'value' },
    positionals: [0, 0],
    isList: true,
    run: (_a, cloud) => ok('', cloud.account ? '' : 'No credentialed accounts.\n'),
  },
  'auth application-default print-access-token': {
    readOnly: true,
    flags: { '--scopes': 'value' },
    positionals: [0, 0],
    run: (_a, cloud) =>
      cloud.adc
        ? ok(`ya29.fake-adc-token-${'x'.repeat(40)}\n`)
        : apiError('auth.application-default.print-access-token', 'Your default credentials were not found. To set up Application Default Credentials, see https://cloud.google.com/docs/authentication/external/set-up-adc for more information.'),
  },
  'auth print-access-token': {
    readOnly: true,
    flags: { '--lifetime': 'value', '--scopes': 'value' },
    positionals: [0, 1],
    run: (_a, cloud) => {
      const denied = needAccount(cloud, 'auth.print-access-token');
      return denied ?? ok(`${FAKE_ACCESS_TOKEN}\n`);
    },
  },
  'logging read': {
    readOnly: true,
    flags: { '--freshness': 'value', '--limit': 'value', '--order': 'value', '--bucket': 'value', '--location': 'value', '--view': 'value' },
    positionals: [0, 1],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'logging.read');
      if (denied) return denied;
      const freshness = /^(\d+)([smhd])$/.exec(flag(a, '--freshness') ?? '1d');
      if (!freshness) return { exit: 2, stderr: `ERROR: (gcloud.logging.read) argument --freshness: given value must be of the form INTEGER[UNIT]\n` };
      const since = Date.now() - Number(freshness[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[freshness[2] as 's' | 'm' | 'h' | 'd'];
      const filter = a.positionals[0] ?? '';
      const order = flag(a, '--order') ?? 'desc';
      const entries = (cloud.logEntries ?? [])
        .filter((e) => Date.parse(String(e.timestamp)) >= since && (filter === '' || matchesLogFilter(filter, e)))
        .sort((x, y) => (order === 'asc' ? 1 : -1) * String(x.timestamp).localeCompare(String(y.timestamp)));
      const limit = flag(a, '--limit');
      return { exit: 0, data: limit ? entries.slice(0, Number(limit)) : entries };
    },
  },
  'config get-value': {
    readOnly: true,
    flags: {},
    positionals: [1, 1],
    run: (a, cloud) => ok(a.positionals[0] === 'account' && cloud.account ? `${cloud.account}\n` : '', '(unset)\n'),
  },
  'projects describe': {
    readOnly: true,
    flags: {},
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'projects.describe');
      if (denied) return denied;
      const id = a.positionals[0]!;
      const p = cloud.projects[id];
      if (!p) return apiError('projects.describe', `[${cloud.account}] does not have permission to access projects instance [${id}] (or it may not exist)`);
      return { exit: 0, data: { projectId: id, lifecycleState: p.lifecycleState, name: id, projectNumber: '123456789012' } };
    },
  },
  'services list': {
    readOnly: true,
    flags: { ...LIST_FLAGS, '--enabled': 'bool', '--available': 'bool' },
    positionals: [0, 0],
    exclusive: [['--enabled', '--available']],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'services.list');
      if (denied) return denied;
      const p = cloud.projects[projectOf(a) ?? ''];
      if (!p) return apiError('services.list', 'PERMISSION_DENIED: Permission denied to list services for consumer container');
      return { exit: 0, data: p.apis.map((name) => ({ config: { name }, state: 'ENABLED' })) };
    },
  },
  'services enable': {
    flags: { '--async': 'bool' },
    positionals: [1, 100],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'services.enable');
      if (denied) return denied;
      const p = cloud.projects[projectOf(a) ?? ''];
      if (!p) return apiError('services.enable', 'PERMISSION_DENIED: Not found or permission denied for service(s)');
      for (const api of a.positionals) if (!p.apis.includes(api)) p.apis.push(api);
      return ok('', 'Operation finished successfully.\n');
    },
  },
  'storage buckets describe': {
    readOnly: true,
    flags: { '--raw': 'bool' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.buckets.describe');
      if (denied) return denied;
      const url = parseGs(a.positionals[0]!);
      if (!url) return { exit: 1, stderr: 'ERROR: (gcloud.storage.buckets.describe) Expected a bucket URL\n' };
      const b = bucketOr404(cloud, url.bucket, 'storage.buckets.describe');
      if (isOutcome(b)) return b;
      return {
        exit: 0,
        data: {
          name: url.bucket,
          storage_url: `gs://${url.bucket}/`,
          location: b.location.toUpperCase(),
          versioning_enabled: b.versioning,
          uniform_bucket_level_access: b.uniformAccess,
          public_access_prevention: b.publicAccessPrevention,
        },
      };
    },
  },
  'storage buckets create': {
    flags: { '--location': 'value', '--uniform-bucket-level-access': 'bool', '--public-access-prevention': 'bool', '--default-storage-class': 'value' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.buckets.create');
      if (denied) return denied;
      const url = parseGs(a.positionals[0]!);
      if (!url) return { exit: 1, stderr: 'ERROR: (gcloud.storage.buckets.create) Expected a bucket URL\n' };
      if (cloud.buckets[url.bucket]) return apiError('storage.buckets.create', `HTTPError 409: Your previous request to create the named bucket succeeded and you already own it.`);
      cloud.buckets[url.bucket] = {
        location: flag(a, '--location') ?? 'us',
        versioning: false,
        uniformAccess: a.flags.get('--uniform-bucket-level-access') === true,
        publicAccessPrevention: a.flags.get('--public-access-prevention') === true ? 'enforced' : 'inherited',
        objects: {},
      };
      return ok('', `Creating gs://${url.bucket}/...\n`);
    },
  },
  'storage buckets update': {
    flags: { '--versioning': 'bool', '--uniform-bucket-level-access': 'bool', '--public-access-prevention': 'bool' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.buckets.update');
      if (denied) return denied;
      const url = parseGs(a.positionals[0]!);
      const b = url && bucketOr404(cloud, url.bucket, 'storage.buckets.update');
      if (!b) return { exit: 1, stderr: 'ERROR: (gcloud.storage.buckets.update) Expected a bucket URL\n' };
      if (isOutcome(b)) return b;
      const v = a.flags.get('--versioning');
      if (v !== undefined) b.versioning = v === true;
      const u = a.flags.get('--uniform-bucket-level-access');
      if (u !== undefined) b.uniformAccess = u === true;
      const pap = a.flags.get('--public-access-prevention');
      if (pap !== undefined) b.publicAccessPrevention = pap === true ? 'enforced' : 'inherited';
      return ok('', `Updating gs://${url!.bucket}/...\n`);
    },
  },
  'storage cp': {
    flags: { '--if-generation-match': 'value', '--if-metageneration-match': 'value', '--no-clobber': 'bool' },
    positionals: [2, 2],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.cp');
      if (denied) return denied;
      const [src, dst] = a.positionals as [string, string];
      const s = parseGs(src);
      const d = parseGs(dst);
      let data: Buffer;
      if (s) {
        const b = bucketOr404(cloud, s.bucket, 'storage.cp');
        if (isOutcome(b)) return b;
        const gen = s.generation !== undefined ? b.objects[s.object]?.find((g) => g.generation === s.generation) : liveObject(b, s.object);
        if (!gen) return apiError('storage.cp', `The following URLs matched no objects or files:\n-${src}`);
        data = objectBytes(gen);
      } else {
        try {
          data = src === '-' ? readFileSync(0) : readFileSync(src);
        } catch {
          return apiError('storage.cp', `The following URLs matched no objects or files:\n-${src}`);
        }
      }
      const basename = (s?.object ?? src).split('/').pop()!;
      if (d) {
        const b = bucketOr404(cloud, d.bucket, 'storage.cp');
        if (isOutcome(b)) return b;
        // A destination ending in / is a folder: the object keeps the source's name.
        if (d.object === '' || d.object.endsWith('/')) d.object += basename;
        const existing = liveObject(b, d.object);
        const match = flag(a, '--if-generation-match');
        if (match !== undefined && String(existing?.generation ?? 0) !== match) {
          return apiError('storage.cp', 'HTTPError 412: At least one of the pre-conditions you specified did not hold.');
        }
        if (a.flags.get('--no-clobber') === true && existing) return ok('', `Skipping existing destination item (no-clobber): ${dst}\n`);
        putObject(cloud, b, d.object, data);
      } else if (dst === '-') {
        return ok(data.toString('utf8'));
      } else {
        const target = dst.endsWith('/') || (existsSync(dst) && statSync(dst).isDirectory()) ? join(dst, basename) : dst;
        if (!existsSync(join(target, '..'))) return apiError('storage.cp', `[Errno 2] No such file or directory: '${target}'`);
        if (a.flags.get('--no-clobber') === true && existsSync(target)) return ok('', `Skipping existing destination item (no-clobber): ${target}\n`);
        writeFileSync(target, data, { mode: 0o600 });
      }
      return ok('', `Copying ${src} to ${dst}\n  Completed files 1/1\n`);
    },
  },
  'storage cat': {
    readOnly: true,
    flags: {},
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.cat');
      if (denied) return denied;
      const s = parseGs(a.positionals[0]!);
      if (!s) return apiError('storage.cat', 'Expected a cloud URL');
      const b = bucketOr404(cloud, s.bucket, 'storage.cat');
      if (isOutcome(b)) return b;
      const gen = s.generation !== undefined ? b.objects[s.object]?.find((g) => g.generation === s.generation) : liveObject(b, s.object);
      if (!gen) return apiError('storage.cat', `The following URLs matched no objects or files:\n-${a.positionals[0]}`);
      return ok(objectBytes(gen).toString('utf8'));
    },
  },
  'storage ls': {
    readOnly: true,
    flags: { '--all-versions': 'bool', '--long': 'bool', '--recursive': 'bool' },
    positionals: [1, 10],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.ls');
      if (denied) return denied;
      const lines: string[] = [];
      for (const url of a.positionals) {
        const s = parseGs(url);
        if (!s) return apiError('storage.ls', 'Expected a cloud URL');
        const b = bucketOr404(cloud, s.bucket, 'storage.ls');
        if (isOutcome(b)) return b;
        for (const [name, gens] of Object.entries(b.objects).sort(([x], [y]) => x.localeCompare(y))) {
          if (!name.startsWith(s.object)) continue;
          const rest = name.slice(s.object.length);
          if (a.flags.get('--recursive') !== true && rest.includes('/') && !s.object.endsWith('*')) continue;
          const shown = a.flags.get('--all-versions') === true ? gens : gens.filter((g) => g === liveObject(b, name));
          for (const g of shown) {
            const u = `gs://${s.bucket}/${name}${a.flags.get('--all-versions') === true ? `#${g.generation}` : ''}`;
            lines.push(a.flags.get('--long') === true ? `${String(g.size).padStart(10)}  ${g.updated}  ${u}` : u);
          }
        }
      }
      if (lines.length === 0) return apiError('storage.ls', 'One or more URLs matched no objects.');
      return ok(lines.map((l) => `${l}\n`).join(''));
    },
  },
  'storage rm': {
    flags: { '--if-generation-match': 'value', '--all-versions': 'bool' },
    positionals: [1, 10],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.rm');
      if (denied) return denied;
      for (const url of a.positionals) {
        const s = parseGs(url);
        if (!s) return apiError('storage.rm', 'Expected a cloud URL');
        const b = bucketOr404(cloud, s.bucket, 'storage.rm');
        if (isOutcome(b)) return b;
        const live = liveObject(b, s.object);
        const match = flag(a, '--if-generation-match');
        if (match !== undefined && String(live?.generation ?? 0) !== match) {
          return apiError('storage.rm', 'HTTPError 412: At least one of the pre-conditions you specified did not hold.');
        }
        if (!deleteObject(b, s.object)) return apiError('storage.rm', `The following URLs matched no objects or files:\n-${url}`);
      }
      return ok('', `Removing objects:\n  Completed 1\n`);
    },
  },
  // The one-time move of backups from the old shared place (the runbook's "Backups from before"):
  // bucket to bucket, one object or a trailing `*` (which, as in gcloud, stops at the next `/`).
  'storage mv': {
    flags: {},
    positionals: [2, 2],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.mv');
      if (denied) return denied;
      const [src, dst] = a.positionals as [string, string];
      const s = parseGs(src);
      const d = parseGs(dst);
      if (!s || !d || s.generation !== undefined || d.generation !== undefined) throw new UnsupportedByFake('storage mv other than between bucket objects');
      const from = bucketOr404(cloud, s.bucket, 'storage.mv');
      if (isOutcome(from)) return from;
      const to = bucketOr404(cloud, d.bucket, 'storage.mv');
      if (isOutcome(to)) return to;
      const wildcard = s.object.endsWith('*');
      if (s.object.slice(0, -1).includes('*')) throw new UnsupportedByFake('storage mv with a wildcard other than a trailing *');
      const stem = wildcard ? s.object.slice(0, -1) : s.object;
      const names = Object.keys(from.objects).filter((n) => liveObject(from, n) && (wildcard ? n.startsWith(stem) && !n.slice(stem.length).includes('/') : n === stem));
      if (!names.length) return apiError('storage.mv', `The following URLs matched no objects or files:\n-${src}`);
      if (names.length > 1 && !(d.object === '' || d.object.endsWith('/'))) return apiError('storage.mv', `Destination URL must name a directory, bucket, or bucket subdirectory for the multiple source form of mv command: ${dst}`);
      for (const name of names) {
        const target = d.object === '' || d.object.endsWith('/') ? d.object + name.split('/').pop()! : d.object;
        putObject(cloud, to, target, objectBytes(liveObject(from, name)!));
        deleteObject(from, name);
      }
      return ok('', `Copying ${names.length} objects\n  Completed files ${names.length}/${names.length}\n`);
    },
  },
  'storage objects describe': {
    readOnly: true,
    flags: {},
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'storage.objects.describe');
      if (denied) return denied;
      const s = parseGs(a.positionals[0]!);
      if (!s) return apiError('storage.objects.describe', 'Expected a cloud URL');
      const b = bucketOr404(cloud, s.bucket, 'storage.objects.describe');
      if (isOutcome(b)) return b;
      const live = liveObject(b, s.object);
      if (!live) return apiError('storage.objects.describe', `gs://${s.bucket}/${s.object} not found: 404.`);
      return { exit: 0, data: { name: s.object, bucket: s.bucket, generation: String(live.generation), size: String(live.size), update_time: live.updated } };
    },
  },
  'run services describe': {
    readOnly: true,
    flags: { '--region': 'value' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'run.services.describe');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const svc = cloud.run.services[serviceKey(flag(a, '--region') ?? '', name)];
      if (!svc) return apiError('run.services.describe', `Cannot find service [${name}]`);
      return { exit: 0, data: serviceJson(name, svc) };
    },
  },
  'run services list': {
    readOnly: true,
    flags: { ...LIST_FLAGS, '--region': 'value' },
    positionals: [0, 0],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'run.services.list');
      if (denied) return denied;
      const region = flag(a, '--region');
      const items = Object.entries(cloud.run.services)
        .filter(([, s]) => !region || s.region === region)
        .map(([key, s]) => serviceJson(key.split('/')[1]!, s));
      return { exit: 0, data: items };
    },
  },
  'run revisions list': {
    readOnly: true,
    flags: { ...LIST_FLAGS, '--region': 'value', '--service': 'value' },
    positionals: [0, 0],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'run.revisions.list');
      if (denied) return denied;
      const region = flag(a, '--region') ?? '';
      const service = flag(a, '--service');
      const items = Object.entries(cloud.run.services)
        .filter(([key, s]) => s.region === region && (!service || key === serviceKey(region, service)))
        .flatMap(([key, s]) =>
          [...s.revisions].reverse().map((r) => ({
            metadata: { name: r.name, creationTimestamp: r.created, labels: { 'serving.knative.dev/service': key.split('/')[1] } },
            spec: { containers: [{ image: r.image }] },
            status: { conditions: [{ type: 'Ready', status: r.ready ? 'True' : 'False' }] },
          })),
        );
      return { exit: 0, data: items };
    },
  },
  'run services update': {
    flags: { '--region': 'value', '--revision-suffix': 'value', '--async': 'bool' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'run.services.update');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const svc = cloud.run.services[serviceKey(flag(a, '--region') ?? '', name)];
      if (!svc) return apiError('run.services.update', `Cannot find service [${name}]`);
      const suffix = flag(a, '--revision-suffix');
      if (!suffix) throw new UnsupportedByFake('run services update without --revision-suffix');
      const revision = `${name}-${suffix}`;
      if (svc.revisions.some((r) => r.name === revision)) return apiError('run.services.update', `Revision named '${revision}' with different configuration already exists.`);
      const template = svc.revisions[svc.revisions.length - 1]!;
      // The same template again: a new revision whose instances read the secrets anew.
      svc.revisions.push({ name: revision, image: template.image, created: new Date().toISOString(), ready: true });
      return ok('', `Deploying...\nDone.\nService [${name}] revision [${revision}] has been deployed.\n`);
    },
  },
  'run services update-traffic': {
    flags: { '--region': 'value', '--to-revisions': 'value', '--to-latest': 'bool', '--to-tags': 'value', '--async': 'bool' },
    positionals: [1, 1],
    exclusive: [['--to-revisions', '--to-latest', '--to-tags']],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'run.services.update-traffic');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const svc = cloud.run.services[serviceKey(flag(a, '--region') ?? '', name)];
      if (!svc) return apiError('run.services.update-traffic', `Cannot find service [${name}]`);
      if (a.flags.get('--to-latest') === true) {
        svc.traffic = [{ latest: true, percent: 100 }];
      } else {
        const spec = flag(a, '--to-revisions');
        if (!spec) return { exit: 2, stderr: 'ERROR: (gcloud.run.services.update-traffic) Exactly one of (--to-latest | --to-revisions | --to-tags) must be specified.\n' };
        const traffic: RunService['traffic'] = [];
        for (const pair of spec.split(',')) {
          const [rev, pct] = pair.split('=');
          const revision = rev === 'LATEST' ? undefined : svc.revisions.find((r) => r.name === rev);
          if (rev !== 'LATEST' && !revision) return apiError('run.services.update-traffic', `Revision [${rev}] not found.`);
          if (revision && !revision.ready) return apiError('run.services.update-traffic', `Revision [${rev}] is not ready and cannot serve traffic.`);
          traffic.push(rev === 'LATEST' ? { latest: true, percent: Number(pct) } : { revisionName: rev!, percent: Number(pct) });
        }
        if (traffic.reduce((s, t) => s + t.percent, 0) !== 100) return { exit: 1, stderr: 'ERROR: (gcloud.run.services.update-traffic) The traffic percentages must add up to 100.\n' };
        svc.traffic = traffic;
      }
      return ok('', `Updating traffic...done.\nTraffic:\n${svc.traffic.map((t) => `  ${t.percent}% ${t.latest ? 'LATEST' : t.revisionName}`).join('\n')}\n`);
    },
  },
  'run jobs execute': {
    flags: { '--region': 'value', '--wait': 'bool', '--async': 'bool', '--args': 'value', '--update-env-vars': 'value', '--tasks': 'value', '--task-timeout': 'value' },
    positionals: [1, 1],
    exclusive: [['--wait', '--async']],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'run.jobs.execute');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const job = cloud.run.jobs[serviceKey(flag(a, '--region') ?? '', name)];
      if (!job) return apiError('run.jobs.execute', `Cannot find job [${name}]`);
      const execution = { name: `${name}-${Math.random().toString(36).slice(2, 7)}`, succeeded: true, created: new Date().toISOString() };
      job.executions.push(execution);
      if (name === 'database-check') {
        const failed = logDatabaseCheck(cloud, flag(a, '--region') ?? '', execution.name, flag(a, '--update-env-vars'));
        if (failed) {
          execution.succeeded = false;
          return apiError('run.jobs.execute', `The execution failed. ${failed}`);
        }
      }
      const done = `Creating execution...done.\nExecution [${execution.name}] has successfully completed.\n`;
      // With --format, gcloud prints the execution resource; without, only progress.
      if (flag(a, '--format')) return { exit: 0, stderr: done, data: { apiVersion: 'run.googleapis.com/v1', kind: 'Execution', metadata: { name: execution.name }, status: { succeededCount: 1 } } };
      return ok('', done);
    },
  },
  'sql instances describe': {
    readOnly: true,
    flags: {},
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.instances.describe');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const i = cloud.sql?.instances[name];
      if (!i) return instanceNotFound('sql.instances.describe', name);
      return { exit: 0, data: sqlInstanceJson(sqlProject(a), name, i) };
    },
  },
  'sql instances clone': {
    flags: { '--async': 'bool', '--point-in-time': 'value', '--preferred-zone': 'value' },
    positionals: [2, 2],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.instances.clone');
      if (denied) return denied;
      const sql = sqlOf(cloud);
      const [source, destination] = a.positionals as [string, string];
      const from = sql.instances[source];
      if (!from) return instanceNotFound('sql.instances.clone', source);
      if (sql.instances[destination]) return apiError('sql.instances.clone', 'HTTPError 409: The Cloud SQL instance already exists.');
      const at = flag(a, '--point-in-time');
      if (at !== undefined) {
        const t = Date.parse(at);
        if (Number.isNaN(t)) return { exit: 2, stderr: `ERROR: (gcloud.sql.instances.clone) argument --point-in-time: Failed to parse date/time: ${at}\n` };
        // Transaction logs are kept 7 days; nothing before the instance existed can come back.
        if (t > Date.now() || t < Date.now() - 7 * 864e5 || t < Date.parse(from.createTime)) {
          return apiError('sql.instances.clone', `HTTPError 400: Invalid request: The requested point-in-time ${at} is not within the recovery window of instance ${source}.`);
        }
      }
      // Nothing changes between backups in this fake, so any point in time has the data of now.
      const data = structuredClone(from.data);
      const drift = sql.cloneDrift;
      if (drift && data[drift.database]) {
        const counts = data[drift.database]!.counts;
        counts[drift.table] = Math.max(0, (counts[drift.table] ?? 0) - drift.missingRows);
        delete sql.cloneDrift;
      }
      const n = Object.keys(sql.instances).length + 3;
      sql.instances[destination] = { ...structuredClone(from), state: 'PENDING_CREATE', privateIp: `10.20.0.${n}`, createTime: new Date().toISOString(), data };
      const op = newOperation(sql, 'CLONE', destination);
      return startedOrDone(a, sql, op, `Cloning Cloud SQL instance...done.\nCreated [https://sqladmin.googleapis.com/sql/v1beta4/projects/${sqlProject(a)}/instances/${destination}].\n`);
    },
  },
  'sql instances patch': {
    flags: { '--async': 'bool', '--deletion-protection': 'bool' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.instances.patch');
      if (denied) return denied;
      const sql = sqlOf(cloud);
      const name = a.positionals[0]!;
      const i = sql.instances[name];
      if (!i) return instanceNotFound('sql.instances.patch', name);
      const protect = a.flags.get('--deletion-protection');
      if (typeof protect === 'boolean') i.deletionProtectionEnabled = protect;
      const op = newOperation(sql, 'UPDATE', name);
      return startedOrDone(a, sql, op, `Patching Cloud SQL instance...done.\nUpdated [https://sqladmin.googleapis.com/sql/v1beta4/projects/${sqlProject(a)}/instances/${name}].\n`);
    },
  },
  'sql instances delete': {
    flags: { '--async': 'bool' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.instances.delete');
      if (denied) return denied;
      // Without --quiet gcloud asks first; with no terminal to ask on, it refuses.
      if (a.flags.get('--quiet') !== true) return apiError('sql.instances.delete', 'This prompt could not be answered because you are not in an interactive session. Please re-run the command with the --quiet flag to accept the default prompt answers.');
      const sql = sqlOf(cloud);
      const name = a.positionals[0]!;
      const i = sql.instances[name];
      if (!i) return instanceNotFound('sql.instances.delete', name);
      if (i.deletionProtectionEnabled) return apiError('sql.instances.delete', 'HTTPError 400: Invalid request: The instance is protected from deletion. Disable deletion protection and try again.');
      delete sql.instances[name];
      // An instance's own backups go with it (retain_backups_on_delete is a production setting).
      sql.backups = sql.backups.filter((b) => b.instance !== name);
      const op = newOperation(sql, 'DELETE', name);
      return startedOrDone(a, sql, op, `Deleting Cloud SQL instance...done.\nDeleted [https://sqladmin.googleapis.com/sql/v1beta4/projects/${sqlProject(a)}/instances/${name}].\n`);
    },
  },
  'sql backups create': {
    flags: { '--instance': 'value', '--description': 'value', '--async': 'bool', '--location': 'value' },
    positionals: [0, 0],
    required: ['--instance'],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.backups.create');
      if (denied) return denied;
      const sql = sqlOf(cloud);
      const name = flag(a, '--instance')!;
      const i = sql.instances[name];
      if (!i) return instanceNotFound('sql.backups.create', name);
      if (i.state !== 'RUNNABLE') return apiError('sql.backups.create', 'HTTPError 409: Invalid request: The instance or operation is not in an appropriate state to handle the request.');
      const id = String(1_733_000_000_000 + sql.backups.length + 1);
      sql.backups.push({ id, instance: name, type: 'ON_DEMAND', status: 'RUNNING', description: flag(a, '--description'), startTime: new Date().toISOString(), data: structuredClone(i.data) });
      const op = newOperation(sql, 'BACKUP_VOLUME', name, { backupId: id });
      return startedOrDone(a, sql, op, `Backing up Cloud SQL instance...done.\n[${name}] backed up.\n`);
    },
  },
  'sql backups list': {
    readOnly: true,
    flags: { '--instance': 'value' },
    positionals: [0, 0],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.backups.list');
      if (denied) return denied;
      const name = flag(a, '--instance');
      if (name && !cloud.sql?.instances[name]) return instanceNotFound('sql.backups.list', name);
      // Newest first, as the API lists them.
      const runs = (cloud.sql?.backups ?? []).filter((b) => !name || b.instance === name).sort((x, y) => y.startTime.localeCompare(x.startTime));
      return { exit: 0, data: runs.map(backupJson) };
    },
  },
  'sql backups describe': {
    readOnly: true,
    flags: { '--instance': 'value' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.backups.describe');
      if (denied) return denied;
      const name = flag(a, '--instance');
      const b = (cloud.sql?.backups ?? []).find((x) => x.id === a.positionals[0] && (!name || x.instance === name));
      if (!b) return apiError('sql.backups.describe', `HTTPError 404: The backup run ${a.positionals[0]} does not exist.`);
      return { exit: 0, data: backupJson(b) };
    },
  },
  'sql operations wait': {
    flags: { '--timeout': 'value' },
    positionals: [1, 9],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'sql.operations.wait');
      if (denied) return denied;
      const sql = sqlOf(cloud);
      const ops: SqlOperation[] = [];
      for (const name of a.positionals) {
        const op = sql.operations[name];
        if (!op) return apiError('sql.operations.wait', `HTTPError 404: The operation ${name} does not exist.`);
        completeOperation(sql, op);
        if (op.error) return apiError('sql.operations.wait', op.error);
        ops.push(op);
      }
      return { exit: 0, data: ops.length === 1 ? operationJson(sqlProject(a), ops[0]!) : ops.map((op) => operationJson(sqlProject(a), op)) };
    },
  },
  'secrets versions access': {
    readOnly: true,
    flags: { '--secret': 'value', '--out-file': 'value' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'secrets.versions.access');
      if (denied) return denied;
      const name = flag(a, '--secret') ?? '';
      const secret = cloud.secrets[name];
      if (!secret) return apiError('secrets.versions.access', `NOT_FOUND: Secret [projects/123456789012/secrets/${name}] not found or has no versions.`);
      // `latest` is the most recently created version, whatever its state (Secret Manager's rule).
      const wanted = a.positionals[0] === 'latest' ? secret.versions[secret.versions.length - 1] : secret.versions.find((v) => String(v.version) === a.positionals[0]);
      if (!wanted) return apiError('secrets.versions.access', `NOT_FOUND: Secret Version [projects/123456789012/secrets/${name}/versions/${a.positionals[0]}] not found.`);
      if (wanted.state !== 'ENABLED') return apiError('secrets.versions.access', `FAILED_PRECONDITION: Secret Version [projects/123456789012/secrets/${name}/versions/${wanted.version}] is in ${wanted.state} state.`);
      return ok(Buffer.from(wanted.data, 'base64').toString('utf8'));
    },
  },
  'secrets versions add': {
    flags: { '--data-file': 'value' },
    positionals: [1, 1],
    required: ['--data-file'],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'secrets.versions.add');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const secret = cloud.secrets[name];
      if (!secret) return apiError('secrets.versions.add', `NOT_FOUND: Secret [projects/123456789012/secrets/${name}] not found.`);
      const file = flag(a, '--data-file')!;
      const data = file === '-' ? readFileSync(0) : readFileSync(file);
      const version = (secret.versions[secret.versions.length - 1]?.version ?? 0) + 1;
      secret.versions.push({ version, data: data.toString('base64'), state: 'ENABLED', created: new Date().toISOString() });
      return ok('', `Created version [${version}] of the secret [${name}].\n`);
    },
  },
  'secrets versions enable': {
    flags: { '--secret': 'value', '--etag': 'value' },
    positionals: [1, 1],
    required: ['--secret'],
    run: (a, cloud) => setVersionState(a, cloud, 'enable', 'ENABLED'),
  },
  'secrets versions disable': {
    flags: { '--secret': 'value', '--etag': 'value' },
    positionals: [1, 1],
    required: ['--secret'],
    run: (a, cloud) => setVersionState(a, cloud, 'disable', 'DISABLED'),
  },
  'secrets versions list': {
    readOnly: true,
    flags: { ...LIST_FLAGS, '--uri': 'bool' },
    positionals: [1, 1],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'secrets.versions.list');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const secret = cloud.secrets[name];
      if (!secret) return apiError('secrets.versions.list', `NOT_FOUND: Secret [projects/123456789012/secrets/${name}] not found or has no versions.`);
      // Newest first, as the real command lists them.
      const items = [...secret.versions].reverse().map((v) => ({
        name: `projects/123456789012/secrets/${name}/versions/${v.version}`,
        state: v.state,
        createTime: v.created ?? '2026-01-01T00:00:00.000000Z',
        replicationStatus: { automatic: {} },
        etag: `"${v.version}"`,
      }));
      return { exit: 0, data: applyFilter(items, flag(a, '--filter')) };
    },
  },
  'artifacts repositories describe': {
    readOnly: true,
    flags: { '--location': 'value' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'artifacts.repositories.describe');
      if (denied) return denied;
      const name = `${flag(a, '--location')}/${a.positionals[0]}`;
      if (!cloud.repositories?.includes(name)) return apiError('artifacts.repositories.describe', `NOT_FOUND: Requested entity was not found.`);
      return { exit: 0, data: { name: `projects/${projectOf(a)}/locations/${name.replace('/', '/repositories/')}`, format: 'DOCKER' } };
    },
  },
  'artifacts repositories create': {
    flags: { '--location': 'value', '--repository-format': 'value', '--description': 'value', '--async': 'bool' },
    positionals: [1, 1],
    required: ['--repository-format'],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'artifacts.repositories.create');
      if (denied) return denied;
      const name = `${flag(a, '--location')}/${a.positionals[0]}`;
      cloud.repositories ??= [];
      if (cloud.repositories.includes(name)) return apiError('artifacts.repositories.create', 'ALREADY_EXISTS: the repository already exists');
      cloud.repositories.push(name);
      return ok('', `Created repository [${a.positionals[0]}].\n`);
    },
  },
  'secrets create': {
    flags: { '--replication-policy': 'value', '--data-file': 'value', '--labels': 'value', '--locations': 'value' },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'secrets.create');
      if (denied) return denied;
      const name = a.positionals[0]!;
      if (cloud.secrets[name]) return apiError('secrets.create', `ALREADY_EXISTS: Secret [projects/123456789012/secrets/${name}] already exists.`);
      const file = flag(a, '--data-file');
      const versions = file ? [{ version: 1, data: (file === '-' ? readFileSync(0) : readFileSync(file)).toString('base64'), state: 'ENABLED' as const }] : [];
      cloud.secrets[name] = { versions };
      return ok('', `Created secret [${name}].\n`);
    },
  },
  'secrets update': {
    // Only the rotation schedule's next time is implemented; any other change exits 70 below.
    flags: {
      '--next-rotation-time': 'value',
      '--rotation-period': 'value',
      '--remove-next-rotation-time': 'bool',
      '--remove-rotation-period': 'bool',
      '--remove-rotation-schedule': 'bool',
      '--etag': 'value',
      '--location': 'value',
      '--update-labels': 'value',
    },
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'secrets.update');
      if (denied) return denied;
      const name = a.positionals[0]!;
      const secret = cloud.secrets[name];
      if (!secret) return apiError('secrets.update', `NOT_FOUND: Secret [projects/123456789012/secrets/${name}] not found.`);
      const next = flag(a, '--next-rotation-time');
      if (next === undefined || [...a.flags.keys()].some((f) => !['--next-rotation-time', '--project', '--format', '--quiet', '--verbosity'].includes(f))) throw new UnsupportedByFake('secrets update: only --next-rotation-time');
      if (Number.isNaN(Date.parse(next))) return { exit: 2, stderr: `ERROR: (gcloud.secrets.update) argument --next-rotation-time: Failed to parse date/time: ${next}\n` };
      // Secret Manager: a rotation schedule needs a topic to publish its reminders to.
      if (!secret.topics?.length) return apiError('secrets.update', 'INVALID_ARGUMENT: Secret must have at least one topic to set rotation.');
      secret.rotation = { rotationPeriod: secret.rotation?.rotationPeriod ?? '', nextRotationTime: new Date(next).toISOString().replace('.000Z', 'Z') };
      if (!secret.rotation.rotationPeriod) delete (secret.rotation as Partial<typeof secret.rotation>).rotationPeriod;
      return ok('', `Updated secret [${name}].\n`);
    },
  },
  'pubsub subscriptions pull': {
    flags: { '--auto-ack': 'bool', '--uri': 'bool' },
    positionals: [1, 1],
    isList: true,
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'pubsub.subscriptions.pull');
      if (denied) return denied;
      const name = a.positionals[0]!.split('/').pop()!;
      const sub = cloud.subscriptions?.[name];
      if (!sub) return apiError('pubsub.subscriptions.pull', `NOT_FOUND: Resource not found (resource=${name}).`);
      const limit = Number(flag(a, '--limit') ?? 1);
      const now = Date.now();
      const delivered = sub.messages.filter((m) => !m.leasedUntil || m.leasedUntil <= now).slice(0, limit);
      const autoAck = a.flags.get('--auto-ack') === true;
      const items = delivered.map((m) => {
        const ackId = `ack-${m.messageId}-${now}`;
        if (autoAck) sub.messages = sub.messages.filter((x) => x !== m);
        else m.leasedUntil = now + sub.ackDeadlineSeconds * 1000;
        return { ackId, message: { attributes: m.attributes, data: m.data, messageId: m.messageId, publishTime: m.publishTime } };
      });
      return { exit: 0, data: items };
    },
  },
  'pubsub subscriptions ack': {
    flags: { '--ack-ids': 'value' },
    positionals: [1, 1],
    required: ['--ack-ids'],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'pubsub.subscriptions.ack');
      if (denied) return denied;
      const name = a.positionals[0]!.split('/').pop()!;
      const sub = cloud.subscriptions?.[name];
      if (!sub) return apiError('pubsub.subscriptions.ack', `NOT_FOUND: Resource not found (resource=${name}).`);
      // An ack id names one delivery; an expired or unknown one is ignored, as Pub/Sub does.
      const ids = new Set(flag(a, '--ack-ids')!.split(','));
      const now = Date.now();
      sub.messages = sub.messages.filter((m) => !(m.leasedUntil && m.leasedUntil > now && [...ids].some((id) => id.startsWith(`ack-${m.messageId}-`))));
      return ok('', `Acked the messages with the following ackIds: [${[...ids].join(', ')}]\n`);
    },
  },
  'beta services identity create': {
    // --folder and --organization exist too; only a project's agent is needed here.
    flags: { '--service': 'value' },
    positionals: [0, 0],
    required: ['--service'],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'beta.services.identity.create');
      if (denied) return denied;
      const project = projectOf(a) ?? '';
      if (!cloud.projects[project]) return apiError('beta.services.identity.create', `PERMISSION_DENIED: Permission denied on resource project ${project}.`);
      const service = flag(a, '--service')!;
      if (!cloud.projects[project]!.apis.includes(service)) return apiError('beta.services.identity.create', `FAILED_PRECONDITION: Service ${service} is not enabled for consumer project ${project}.`);
      const key = `${project}/${service}`;
      cloud.serviceIdentities ??= [];
      if (!cloud.serviceIdentities.includes(key)) cloud.serviceIdentities.push(key);
      return ok('', `Service identity created: service-123456789012@gcp-sa-${service.split('.')[0]}.iam.gserviceaccount.com\n`);
    },
  },
  'secrets describe': {
    readOnly: true,
    flags: {},
    positionals: [1, 1],
    run: (a, cloud) => {
      const denied = needAccount(cloud, 'secrets.describe');
      if (denied) return denied;
      const name = a.positionals[0]!;
      if (!cloud.secrets[name]) return apiError('secrets.describe', `NOT_FOUND: Secret [projects/123456789012/secrets/${name}] not found.`);
      return { exit: 0, data: { name: `projects/123456789012/secrets/${name}`, replication: { automatic: {} } } };
    },
  },
};

/** The command table, for the test that runs each spec through the real gcloud. */
export const FAKE_GCLOUD_COMMANDS: Record<string, { flags: Record<string, Arity>; positionals: [number, number]; exclusive?: string[][]; required?: string[] }> = COMMANDS;

class UsageError extends Error {}

function parse(tokens: string[], spec: CommandSpec): Parsed {
  const allowed: Record<string, Arity> = { ...GLOBAL_FLAGS, ...spec.flags, ...(spec.isList ? LIST_FLAGS : {}) };
  const flags = new Map<string, string | true | false>();
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let token = tokens[i]!;
    if (token === '--') {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (SHORT[token]) token = SHORT[token]!;
    if (!token.startsWith('--') || token === '-') {
      if (token.startsWith('-') && token !== '-') throw new UsageError(`unrecognized arguments: ${token}`);
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq >= 0 ? token.slice(0, eq) : token;
    const inline = eq >= 0 ? token.slice(eq + 1) : undefined;
    if (allowed[name] === 'value') {
      const value = inline ?? tokens[++i];
      if (value === undefined) throw new UsageError(`argument ${name}: expected one argument`);
      flags.set(name, value);
    } else if (allowed[name] === 'bool') {
      if (inline !== undefined) throw new UsageError(`argument ${name}: ignored explicit argument '${inline}'`);
      flags.set(name, true);
    } else if (name.startsWith('--no-') && allowed[`--${name.slice(5)}`] === 'bool') {
      flags.set(`--${name.slice(5)}`, false);
    } else {
      throw new UsageError(`unrecognized arguments: ${token}`);
    }
  }
  const [min, max] = spec.positionals;
  if (positionals.length < min) throw new UsageError('argument: Must be specified.');
  if (positionals.length > max) throw new UsageError(`unrecognized arguments: ${positionals.slice(max).join(' ')}`);
  for (const group of spec.exclusive ?? []) {
    const used = group.filter((f) => flags.has(f));
    if (used.length > 1) throw new UsageError(`argument ${used.join(', ')}: At most one of ${group.join(' | ')} can be specified.`);
  }
  for (const req of spec.required ?? []) if (!flags.has(req)) throw new UsageError(`argument ${req}: Must be specified.`);
  return { positionals, flags };
}

export function main(argv: string[]): number {
  // The command is the longest run of leading words that names a command in the table.
  const words: string[] = [];
  for (const t of argv) {
    if (t.startsWith('-')) break;
    words.push(t);
  }
  let name = '';
  for (let n = Math.min(words.length, 4); n > 0; n--) {
    const candidate = words.slice(0, n).join(' ');
    if (COMMANDS[candidate]) {
      name = candidate;
      break;
    }
  }
  const finish = (outcome: Outcome): number => {
    if (outcome.stdout) process.stdout.write(outcome.stdout);
    if (outcome.stderr) process.stderr.write(outcome.stderr);
    recordCall({ tool: 'gcloud', argv, exitCode: outcome.exit, at: new Date().toISOString(), cwd: process.cwd() });
    return outcome.exit;
  };
  if (!name) {
    return finish({ exit: words.length ? 70 : 2, stderr: words.length ? `fake gcloud: "${words.join(' ')}" is not implemented by the fake\n` : 'ERROR: (gcloud) Command name argument expected.\n' });
  }
  const spec = COMMANDS[name]!;
  const dotted = name.replace(/ /g, '.');
  let args: Parsed;
  try {
    args = parse(argv.slice(name.split(' ').length), spec);
  } catch (error) {
    if (error instanceof UsageError) {
      return finish({ exit: 2, stderr: `ERROR: (gcloud.${dotted}) ${error.message}\nUsage: gcloud ${name} [optional flags]\n` });
    }
    throw error;
  }
  const latency = readCloud().latencyMs;
  if (latency > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, latency);
  const fault = takeFault('gcloud', name.split(' '), argv);
  if (fault) {
    return finish({ exit: fault.exitCode ?? 1, stderr: fault.stderr ?? `ERROR: (gcloud.${dotted}) injected failure\n` });
  }
  try {
    const outcome = spec.readOnly ? spec.run(args, readCloud()) : withCloud((cloud) => spec.run(args, cloud));
    if (outcome.exit === 0 && outcome.data !== undefined) {
      const data = outcome.data;
      const format = flag(args, '--format');
      const filtered = spec.isList ? sortBy(applyFilter(data as unknown[], flag(args, '--filter')), flag(args, '--sort-by')) : data;
      return finish({ ...outcome, stdout: formatOutput(format, filtered, Boolean(spec.isList), () => `${JSON.stringify(filtered, null, 2)}\n`) });
    }
    if (outcome.exit === 0 && spec.isList && name === 'auth list') {
      const cloud = readCloud();
      const accounts = cloud.account ? [{ account: cloud.account, status: 'ACTIVE' }] : [];
      const filtered = applyFilter(accounts, flag(args, '--filter'));
      return finish({ ...outcome, stdout: formatOutput(flag(args, '--format'), filtered, true, () => filtered.map((x) => `* ${x.account}\n`).join('')) });
    }
    return finish(outcome);
  } catch (error) {
    if (error instanceof UnsupportedByFake) return finish({ exit: 70, stderr: `fake gcloud: ${error.message} is not implemented by the fake\n` });
    throw error;
  }
}

