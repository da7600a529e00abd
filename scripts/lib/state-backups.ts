// State backups: a pulled state file (it holds secrets: 0600, never printed) and a manifest
// that says what it is (checksum, serial, lineage, which commits). Both are kept per environment,
// beside the state they back up: in gs://$STATE_BUCKET/$STATE_PREFIX/backups/ and locally in
// .state-backups/$STATE_BUCKET/$STATE_PREFIX/, so two environments sharing a bucket (or a
// checkout) never list, restore or roll back to each other's backups.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { gcloud, tofu } from './cli.ts';
import { runtimeVar, shellQuote } from './command.ts';
import { writeReport } from './files.ts';
import { STATE_BUCKET, STATE_PREFIX } from './gcp.ts';
import { INFRA_DIR } from './infra.ts';
import { repoRoot } from './paths.ts';
import { UsageFailure, type StepContext } from './runbook.ts';

/** Where local backups went before they were kept per environment; old manifests name it. */
const OLD_BACKUP_DIR = '.state-backups/production';

export const BACKUP_FILE = runtimeVar('BACKUP_FILE');
export const BACKUP_MANIFEST = runtimeVar('BACKUP_MANIFEST');
export const BACKUP_ID = runtimeVar('BACKUP_ID');
/** Where `tofu state pull` writes before the file gets its final name (in this environment's directory). */
export const PULLED_FILE = runtimeVar('PULLED_FILE');

export const pullState = tofu`-chdir=${INFRA_DIR} state pull`.stdoutTo(PULLED_FILE);
export const uploadBackup = gcloud`storage cp ${BACKUP_FILE} gs://${STATE_BUCKET}/${STATE_PREFIX}/backups/`;
export const uploadManifest = gcloud`storage cp ${BACKUP_MANIFEST} gs://${STATE_BUCKET}/${STATE_PREFIX}/backups/`;
// An empty backups/ folder makes `storage ls` exit 1 ("matched no objects"), which is not an error here.
export const listRemoteBackups = gcloud`storage ls gs://${STATE_BUCKET}/${STATE_PREFIX}/backups/`.allowExitCodes(1);
/**
 * The place every environment's backups went before they were kept under STATE_PREFIX. Listed
 * only to say that backups are still there and how to move them: which environment each belongs
 * to is not recorded, so they are never offered for a restore or a rollback from there.
 */
export const listOldPlaceBackups = gcloud`storage ls gs://${STATE_BUCKET}/backups/`.allowExitCodes(1);
export const MANIFEST_DOWNLOAD = runtimeVar('MANIFEST_DOWNLOAD');
export const STATE_DOWNLOAD = runtimeVar('STATE_DOWNLOAD');
// Downloaded to stdout and written by the engine, owner-only: a state holds secrets, and a file
// the download tool creates gets whatever mode its umask gives (0644 on most machines).
export const downloadManifest = gcloud`storage cp gs://${STATE_BUCKET}/${STATE_PREFIX}/backups/${BACKUP_ID}.manifest.json -`.stdoutTo(MANIFEST_DOWNLOAD);
export const downloadBackup = gcloud`storage cp gs://${STATE_BUCKET}/${STATE_PREFIX}/backups/${BACKUP_ID}.tfstate -`.stdoutTo(STATE_DOWNLOAD);

type Settings = { get(name: string): string | undefined };

/** This environment's place for backups in the bucket, e.g. gs://mm-tfstate/mindmirror/production/backups/. */
export function remoteBackupsUrl(config: Settings): string {
  return `gs://${config.get('STATE_BUCKET')}/${config.get('STATE_PREFIX')}/backups/`;
}

/**
 * This environment's local backup directory, relative to the repository: the bucket's layout
 * under .state-backups/, so it is as unique as the state itself. STATE_PREFIX becomes a path
 * here, so a `.` or `..` segment (which the bucket would accept) is refused.
 */
export function backupDir(config: Settings): string {
  const bucket = config.get('STATE_BUCKET') ?? '';
  const prefix = config.get('STATE_PREFIX') ?? '';
  const segments = [bucket, ...prefix.split('/')];
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UsageFailure(`STATE_BUCKET="${bucket}" and STATE_PREFIX="${prefix}" do not make a backup directory: use names without empty, . or .. parts (e.g. STATE_PREFIX=mindmirror/production)`);
  }
  return `.state-backups/${segments.join('/')}`;
}

/**
 * Backups at the old place (gs://$STATE_BUCKET/backups/), from its listing: null when there are
 * none, else what to tell a person, with the one-time command that moves them to this
 * environment's place (the runbook's "Backups from before" says when that is right).
 */
export function oldPlaceNote(listing: { exitCode: number; stdout: string }, config: Settings): string | null {
  const ids = listing.exitCode === 0 ? remoteIds(listing.stdout) : [];
  if (!ids.length) return null;
  const from = `gs://${config.get('STATE_BUCKET')}/backups/*`;
  return (
    `${ids.length} backup${ids.length === 1 ? ' is' : 's are'} still at the old place gs://${config.get('STATE_BUCKET')}/backups/ (from before backups were kept per environment), ` +
    `so ${ids.length === 1 ? 'it is' : 'they are'} not listed here. If ${ids.length === 1 ? 'it belongs' : 'they belong'} to this environment (${config.get('STATE_PREFIX')}), move ${ids.length === 1 ? 'it' : 'them'} once:\n` +
    `  gcloud storage mv ${shellQuote(from)} ${shellQuote(remoteBackupsUrl(config))}\n` +
    'See docs/infrastructure/production-deployment.md#backups (Backups from before) first if this bucket holds more than one environment.'
  );
}

export interface BackupManifest {
  id: string;
  created: string;
  file: string;
  sha256: string;
  serial: number;
  lineage: string;
  /** The OpenTofu version that wrote the state. */
  tofu_version: string;
  /** The commit whose configuration produced this state (recorded by the deploy that applied it). */
  state_commit: string | null;
  /** The image tag that state deployed. */
  state_image_tag: string | null;
  /** The commit checked out when the backup was taken (the one about to be deployed). */
  deploying_commit: string | null;
}

export interface StateFile {
  version: number;
  serial: number;
  lineage: string;
  terraform_version: string;
  outputs?: Record<string, { value: unknown }>;
  resources?: unknown[];
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function parseState(text: string, where: string): StateFile {
  let state: StateFile;
  try {
    state = JSON.parse(text) as StateFile;
  } catch {
    throw new Error(`${where} is not a state file: it is not JSON`);
  }
  if (state.version !== 4 || typeof state.serial !== 'number' || typeof state.lineage !== 'string') {
    throw new Error(`${where} is not an OpenTofu state file (format version 4 with serial and lineage)`);
  }
  return state;
}

export const manifestPath = (dir: string, id: string) => `${dir}/${id}.manifest.json`;
export const backupPath = (dir: string, id: string) => `${dir}/${id}.tfstate`;
export const pulledPath = (dir: string) => `${dir}/pulled.tfstate`;

/** Give the freshly pulled state (in `dir`) its final name and write its manifest. */
export function finishBackup(dir: string, opts: { now: Date; deployingCommit: string | null }): BackupManifest {
  const pulled = join(repoRoot, pulledPath(dir));
  const bytes = readFileSync(pulled);
  const state = parseState(bytes.toString('utf8'), pulledPath(dir));
  const stamp = opts.now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const id = `${stamp}-serial-${state.serial}`;
  const file = backupPath(dir, id);
  renameSync(pulled, join(repoRoot, file));
  const output = (name: string) => {
    const v = state.outputs?.[name]?.value;
    return typeof v === 'string' && v ? v : null;
  };
  const manifest: BackupManifest = {
    id,
    created: opts.now.toISOString(),
    file,
    sha256: sha256(bytes),
    serial: state.serial,
    lineage: state.lineage,
    tofu_version: state.terraform_version,
    state_commit: output('deployed_commit'),
    state_image_tag: output('image_tag'),
    deploying_commit: opts.deployingCommit,
  };
  writeReport(join(repoRoot, manifestPath(dir, id)), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Local manifests of one environment (its `dir`), newest first. */
export function localManifests(dir: string): BackupManifest[] {
  const full = join(repoRoot, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => f.endsWith('.manifest.json'))
    .map((f) => JSON.parse(readFileSync(join(full, f), 'utf8')) as BackupManifest)
    .sort((a, b) => b.id.localeCompare(a.id));
}

export const BACKUP_ID_PATTERN = /^\d{8}T\d{6}Z-serial-\d+$/;

/** Backup ids in a `gcloud storage ls` listing of a backups/ folder; objects not named like a backup are ignored. */
export function remoteIds(listing: string): string[] {
  return [...new Set([...listing.matchAll(/\/backups\/([^/\s]+)\.(?:tfstate|manifest\.json)\s*$/gm)].map((m) => m[1]!))].filter((id) => BACKUP_ID_PATTERN.test(id));
}

const COMMIT = /^[0-9a-f]{7,40}$/;
const IMAGE_TAG_SHAPE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The manifest of backup `id`, read from this environment's `dir` and checked field by field: it
 * may come from the bucket, and its id, file, commits and image tag go on to paths, git and tofu.
 */
export function readManifest(dir: string, id: string): BackupManifest {
  const path = manifestPath(dir, id);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new UsageFailure(`${path} is not a readable manifest (${(error as Error).message}); choose another backup (make production-backups)`);
  }
  const problems: string[] = [];
  const nullable = (key: string, re: RegExp, what: string) => {
    if (m[key] !== null && m[key] !== undefined && !(typeof m[key] === 'string' && re.test(m[key] as string))) problems.push(`${key} is not ${what}`);
  };
  if (m.id !== id) problems.push(`id is not ${id}`);
  // A backup taken before backups were kept per environment names the old directory; moved to
  // this environment's place, it is the same backup, and its file is now beside its manifest.
  if (m.file !== backupPath(dir, id) && m.file !== backupPath(OLD_BACKUP_DIR, id)) problems.push(`file is not ${backupPath(dir, id)}`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) problems.push('sha256 is not a sha256 checksum');
  if (!Number.isInteger(m.serial) || (m.serial as number) < 0) problems.push('serial is not a whole number');
  if (typeof m.lineage !== 'string' || !/^[0-9a-f-]{36}$/.test(m.lineage)) problems.push('lineage is not a state lineage');
  nullable('state_commit', COMMIT, 'a commit');
  nullable('deploying_commit', COMMIT, 'a commit');
  nullable('state_image_tag', IMAGE_TAG_SHAPE, 'an image tag');
  if (problems.length) throw new UsageFailure(`the manifest of backup ${id} cannot be trusted: ${problems.join('; ')}. Choose another backup (make production-backups).`);
  return { ...(m as unknown as BackupManifest), file: backupPath(dir, id) };
}

/** An id typed, given or listed becomes a path: anything not shaped like a backup id is bad input. */
export function checkBackupId(id: string): void {
  if (!BACKUP_ID_PATTERN.test(id)) throw new UsageFailure(`"${id.slice(0, 80)}" is not a backup id (expected one such as 20261122T010203Z-serial-42; make production-backups lists them)`);
}

/** Select the backup the next download commands fetch, into this environment's `dir`. */
export function selectBackup(ctx: Pick<StepContext, 'setValue'>, dir: string, id: string): void {
  checkBackupId(id);
  ctx.setValue(BACKUP_ID, id);
  ctx.setValue(MANIFEST_DOWNLOAD, manifestPath(dir, id));
  ctx.setValue(STATE_DOWNLOAD, backupPath(dir, id));
}

/** Problems with a backup file against its manifest; empty when it is intact. */
export function verifyBackup(manifest: BackupManifest): string[] {
  const path = join(repoRoot, manifest.file);
  if (!existsSync(path)) return [`${manifest.file} is missing`];
  const bytes = readFileSync(path);
  const problems: string[] = [];
  if (sha256(bytes) !== manifest.sha256) problems.push(`${manifest.file} does not match its manifest's checksum (corrupted or edited)`);
  try {
    const state = parseState(bytes.toString('utf8'), manifest.file);
    if (state.serial !== manifest.serial || state.lineage !== manifest.lineage) problems.push(`${manifest.file} says serial ${state.serial}/lineage ${state.lineage}, its manifest says ${manifest.serial}/${manifest.lineage}`);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}
