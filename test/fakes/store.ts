// The fake cloud both fakes share: one JSON document in FAKE_CLOUD_DIR, changed under a lock
// so concurrent invocations (the engine runs checks in parallel) never lose an update. The
// fake tofu's GCS backend and the fake gcloud's `storage` commands see the same buckets.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface GcsGeneration {
  generation: number;
  size: number;
  updated: string;
  deleted?: boolean;
}

export interface Bucket {
  location: string;
  versioning: boolean;
  uniformAccess: boolean;
  publicAccessPrevention: 'enforced' | 'inherited';
  /** object name -> generations, oldest first; the live one is the last not deleted. */
  objects: Record<string, GcsGeneration[]>;
}

export interface Revision {
  name: string;
  image: string;
  created: string;
  ready: boolean;
}

export interface RunService {
  region: string;
  revisions: Revision[];
  /** percent per revision; `latest: true` follows the newest ready revision. */
  traffic: { revisionName?: string; latest?: boolean; percent: number }[];
  url: string;
  ingress: string;
  /** The service's labels as the last apply set them (infra/ records git-commit there). */
  labels?: Record<string, string>;
}

export interface RunJob {
  region: string;
  image: string;
  executions: { name: string; succeeded: boolean; created: string }[];
}

export interface SecretVersion {
  version: number;
  data: string; // base64
  state: 'ENABLED' | 'DISABLED' | 'DESTROYED';
  /** When it was added (ISO 8601); seeds may set it to age a version. */
  created?: string;
}

/** Secret Manager's rotation schedule of a secret (set by OpenTofu in production). */
export interface SecretRotation {
  /** e.g. "7776000s". */
  rotationPeriod: string;
  /** RFC 3339: when the next SECRET_ROTATE reminder is published. */
  nextRotationTime: string;
}

export interface SecretState {
  versions: SecretVersion[];
  rotation?: SecretRotation;
  /** Pub/Sub topics (projects/P/topics/T) Secret Manager publishes the secret's events to. */
  topics?: string[];
}

/** A message waiting in a Pub/Sub subscription until acknowledged. */
export interface PubsubMessage {
  messageId: string;
  attributes: Record<string, string>;
  /** base64 */
  data: string;
  publishTime: string;
  /** Set while pulled and not yet acknowledged: not delivered again before this time (ms). */
  leasedUntil?: number;
}

export interface Fault {
  /** Which fake: "tofu" or "gcloud". */
  tool: 'tofu' | 'gcloud';
  /** Leading words of the command, e.g. "apply" or "run services update-traffic". */
  command: string;
  exitCode?: number;
  stderr?: string;
  /** How many calls it applies to; absent means every call. */
  times?: number;
  /** For tofu apply: how many resource changes succeed before the failure. */
  afterChanges?: number;
  /** Instead of failing: another writer changes the state just before this command runs. */
  touchStateFirst?: boolean;
  /** Match only when the argv contains this text (e.g. a service name). */
  argContains?: string;
}

/** What the database-check job reads in one database: its alembic revision and row counts. */
export interface SqlDatabaseData {
  alembic: string | null;
  counts: Record<string, number>;
}

export interface SqlInstance {
  region: string;
  databaseVersion: string;
  tier: string;
  state: 'RUNNABLE' | 'PENDING_CREATE';
  privateIp: string;
  deletionProtectionEnabled: boolean;
  createTime: string;
  /** The databases' contents as the check job would find them. */
  data: Record<string, SqlDatabaseData>;
}

export interface SqlBackup {
  id: string;
  instance: string;
  type: 'AUTOMATED' | 'ON_DEMAND';
  status: 'SUCCESSFUL' | 'RUNNING' | 'FAILED';
  description?: string;
  startTime: string;
  endTime?: string;
  /** The contents it holds, for a later clone at its end time. */
  data: Record<string, SqlDatabaseData>;
}

export interface SqlOperation {
  name: string;
  operationType: 'BACKUP_VOLUME' | 'CLONE' | 'DELETE' | 'UPDATE';
  status: 'PENDING' | 'RUNNING' | 'DONE';
  targetId: string;
  insertTime: string;
  endTime?: string;
  error?: string;
  backupId?: string;
}

export interface FakeCloud {
  account: string | null;
  adc: boolean;
  projects: Record<string, { lifecycleState: string; apis: string[] }>;
  buckets: Record<string, Bucket>;
  run: { services: Record<string, RunService>; jobs: Record<string, RunJob> };
  secrets: Record<string, SecretState>;
  /** Pub/Sub subscriptions by short name, with their undelivered messages. */
  subscriptions?: Record<string, { ackDeadlineSeconds: number; messages: PubsubMessage[] }>;
  /** Service agents created with `beta services identity create`, as "<project>/<service>". */
  serviceIdentities?: string[];
  /** Cloud Logging entries (LogEntry JSON: timestamp, resource, jsonPayload), for `logging read`. */
  logEntries?: Record<string, unknown>[];
  /** Cloud SQL: instances by name, backup runs, operations by name. */
  sql?: {
    instances: Record<string, SqlInstance>;
    backups: SqlBackup[];
    operations: Record<string, SqlOperation>;
    /**
     * A broken restore, for tests: the next clone comes up with this table short of rows (the
     * verification must notice and keep the secrets where they are).
     */
    cloneDrift?: { database: string; table: string; missingRows: number };
  };
  /** Artifact Registry repositories, as "<location>/<name>". */
  repositories?: string[];
  faults: Fault[];
  /** Added to every call, to measure concurrency. */
  latencyMs: number;
  /** How long tofu apply takes per resource change (to interrupt an apply half-way). */
  applyDelayMs?: number;
  nextGeneration: number;
  /**
   * Per working directory, what `tofu init` leaves in its .terraform: that it ran (providers and
   * modules installed), the backend config (none after `init -backend=false`) and the workspace.
   */
  tofuWorkdirs: Record<string, { bucket?: string; prefix?: string; workspace: string }>;
  tofuVersion: string;
}

export function emptyCloud(): FakeCloud {
  return {
    account: null,
    adc: false,
    projects: {},
    buckets: {},
    run: { services: {}, jobs: {} },
    secrets: {},
    faults: [],
    latencyMs: 0,
    nextGeneration: 1_700_000_000_000_001,
    tofuWorkdirs: {},
    tofuVersion: '1.12.6',
  };
}

export function cloudDir(): string {
  const dir = process.env.FAKE_CLOUD_DIR;
  if (!dir) {
    process.stderr.write('fake: FAKE_CLOUD_DIR is not set; the fakes keep their state there\n');
    process.exit(70);
  }
  return dir;
}

const stateFile = (dir: string) => join(dir, 'cloud.json');

export function readCloud(dir = cloudDir()): FakeCloud {
  const file = stateFile(dir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as FakeCloud) : emptyCloud();
}

function writeCloud(dir: string, cloud: FakeCloud): void {
  const temp = `${stateFile(dir)}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(cloud, null, 1));
  renameSync(temp, stateFile(dir));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Read-modify-write the cloud under a directory lock (mkdir is atomic). */
export function withCloud<T>(fn: (cloud: FakeCloud) => T, dir = cloudDir()): T {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A holder that died leaves its lock behind; a lock older than the deadline is stale.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 20_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // it went away between the two calls
      }
      if (Date.now() > deadline) throw new Error('fake cloud: could not take the state lock');
      sleepSync(3);
    }
  }
  try {
    const cloud = readCloud(dir);
    const result = fn(cloud);
    writeCloud(dir, cloud);
    return result;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CallRecord {
  tool: string;
  argv: string[];
  exitCode: number;
  at: string;
  cwd: string;
}

export function recordCall(call: CallRecord, dir = cloudDir()): void {
  appendFileSync(join(dir, 'calls.jsonl'), `${JSON.stringify(call)}\n`);
}

export function readCalls(dir: string): CallRecord[] {
  const file = join(dir, 'calls.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CallRecord);
}

/** The fault that applies to this call, consuming one use of it. */
export function takeFault(tool: 'tofu' | 'gcloud', words: string[], argv: string[]): Fault | null {
  const joined = words.join(' ');
  const matches = (f: Fault) =>
    f.tool === tool &&
    (joined === f.command || joined.startsWith(`${f.command} `)) &&
    (!f.argContains || argv.join(' ').includes(f.argContains)) &&
    (f.times === undefined || f.times > 0);
  // Most calls have no fault waiting: look without the lock, and take it only to consume one.
  if (!readCloud().faults.some(matches)) return null;
  return withCloud((cloud) => {
    const index = cloud.faults.findIndex(matches);
    if (index < 0) return null;
    const fault = { ...cloud.faults[index]! };
    if (fault.times !== undefined) cloud.faults[index]!.times = fault.times - 1;
    return fault;
  });
}

/** The live generation of an object, or undefined. */
export function liveObject(bucket: Bucket, name: string): GcsGeneration | undefined {
  const gens = bucket.objects[name];
  const last = gens?.[gens.length - 1];
  return last && !last.deleted ? last : undefined;
}

// Object bytes live in blobs/<generation>, not in cloud.json: every call reads cloud.json, and
// state files and backups would otherwise make each read and write cost megabytes.
const blobPath = (dir: string, generation: number) => join(dir, 'blobs', String(generation));

export function putObject(cloud: FakeCloud, bucket: Bucket, name: string, data: string | Buffer, dir = cloudDir()): GcsGeneration {
  const gens = (bucket.objects[name] ??= []);
  const bytes = Buffer.from(data);
  const generation: GcsGeneration = { generation: cloud.nextGeneration++, size: bytes.length, updated: new Date().toISOString() };
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  writeFileSync(blobPath(dir, generation.generation), bytes);
  // Without versioning, an overwrite replaces the object: only the live generation is kept.
  if (!bucket.versioning) gens.length = 0;
  gens.push(generation);
  return generation;
}

/** Replace the bytes of a generation (the lock object records its own id once it has one). */
export function rewriteObject(generation: GcsGeneration, data: string | Buffer, dir = cloudDir()): void {
  const bytes = Buffer.from(data);
  writeFileSync(blobPath(dir, generation.generation), bytes);
  generation.size = bytes.length;
}

export function objectBytes(generation: GcsGeneration, dir = cloudDir()): Buffer {
  return readFileSync(blobPath(dir, generation.generation));
}

export function deleteObject(bucket: Bucket, name: string): boolean {
  const gens = bucket.objects[name];
  const live = gens && liveObject(bucket, name);
  if (!gens || !live) return false;
  if (bucket.versioning) live.deleted = true;
  else delete bucket.objects[name];
  return true;
}
