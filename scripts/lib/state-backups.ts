// State backups: a pulled state file (it holds secrets: 0600, never printed) and a manifest
// that says what it is (checksum, serial, lineage, which commits), kept locally in
// .state-backups/production/ and copied to gs://$STATE_BUCKET/backups/.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { gcloud, tofu } from './cli.ts';
import { runtimeVar } from './command.ts';
import { writeReport } from './files.ts';
import { STATE_BUCKET } from './gcp.ts';
import { INFRA_DIR } from './infra.ts';
import { repoRoot } from './paths.ts';
import { UsageFailure, type StepContext } from './runbook.ts';

export const BACKUP_DIR = '.state-backups/production';
/** Where `tofu state pull` writes before the file gets its final name. */
export const PULLED_FILE = `${BACKUP_DIR}/pulled.tfstate`;

export const BACKUP_FILE = runtimeVar('BACKUP_FILE');
export const BACKUP_MANIFEST = runtimeVar('BACKUP_MANIFEST');
export const BACKUP_ID = runtimeVar('BACKUP_ID');

export const pullState = tofu`-chdir=${INFRA_DIR} state pull`.stdoutTo(PULLED_FILE);
export const uploadBackup = gcloud`storage cp ${BACKUP_FILE} gs://${STATE_BUCKET}/backups/`;
export const uploadManifest = gcloud`storage cp ${BACKUP_MANIFEST} gs://${STATE_BUCKET}/backups/`;
// An empty backups/ folder makes `storage ls` exit 1 ("matched no objects"), which is not an error here.
export const listRemoteBackups = gcloud`storage ls gs://${STATE_BUCKET}/backups/`.allowExitCodes(1);
export const MANIFEST_DOWNLOAD = runtimeVar('MANIFEST_DOWNLOAD');
export const STATE_DOWNLOAD = runtimeVar('STATE_DOWNLOAD');
// Downloaded to stdout and written by the engine, owner-only: a state holds secrets, and a file
// the download tool creates gets whatever mode its umask gives (0644 on most machines).
export const downloadManifest = gcloud`storage cp gs://${STATE_BUCKET}/backups/${BACKUP_ID}.manifest.json -`.stdoutTo(MANIFEST_DOWNLOAD);
export const downloadBackup = gcloud`storage cp gs://${STATE_BUCKET}/backups/${BACKUP_ID}.tfstate -`.stdoutTo(STATE_DOWNLOAD);

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

/** Give the freshly pulled state its final name and write its manifest. */
export function finishBackup(opts: { now: Date; deployingCommit: string | null }): BackupManifest {
  const pulled = join(repoRoot, PULLED_FILE);
  const bytes = readFileSync(pulled);
  const state = parseState(bytes.toString('utf8'), PULLED_FILE);
  const stamp = opts.now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const id = `${stamp}-serial-${state.serial}`;
  const file = `${BACKUP_DIR}/${id}.tfstate`;
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
  writeReport(join(repoRoot, manifestPath(id)), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export const manifestPath = (id: string) => `${BACKUP_DIR}/${id}.manifest.json`;
export const backupPath = (id: string) => `${BACKUP_DIR}/${id}.tfstate`;

/** Local manifests, newest first. */
export function localManifests(): BackupManifest[] {
  const dir = join(repoRoot, BACKUP_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.manifest.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BackupManifest)
    .sort((a, b) => b.id.localeCompare(a.id));
}

export const BACKUP_ID_PATTERN = /^\d{8}T\d{6}Z-serial-\d+$/;

/** Backup ids in a `gcloud storage ls` listing of gs://bucket/backups/; objects not named like a backup are ignored. */
export function remoteIds(listing: string): string[] {
  return [...new Set([...listing.matchAll(/\/backups\/([^/\s]+)\.(?:tfstate|manifest\.json)\s*$/gm)].map((m) => m[1]!))].filter((id) => BACKUP_ID_PATTERN.test(id));
}

const COMMIT = /^[0-9a-f]{7,40}$/;
const IMAGE_TAG_SHAPE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The manifest of backup `id`, read from .state-backups and checked field by field: it may come
 * from the bucket, and its id, file, commits and image tag go on to paths, git and tofu.
 */
export function readManifest(id: string): BackupManifest {
  const path = manifestPath(id);
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
  if (m.file !== backupPath(id)) problems.push(`file is not ${backupPath(id)}`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) problems.push('sha256 is not a sha256 checksum');
  if (!Number.isInteger(m.serial) || (m.serial as number) < 0) problems.push('serial is not a whole number');
  if (typeof m.lineage !== 'string' || !/^[0-9a-f-]{36}$/.test(m.lineage)) problems.push('lineage is not a state lineage');
  nullable('state_commit', COMMIT, 'a commit');
  nullable('deploying_commit', COMMIT, 'a commit');
  nullable('state_image_tag', IMAGE_TAG_SHAPE, 'an image tag');
  if (problems.length) throw new UsageFailure(`the manifest of backup ${id} cannot be trusted: ${problems.join('; ')}. Choose another backup (make production-backups).`);
  return m as unknown as BackupManifest;
}

/** An id typed, given or listed becomes a path: anything not shaped like a backup id is bad input. */
export function checkBackupId(id: string): void {
  if (!BACKUP_ID_PATTERN.test(id)) throw new UsageFailure(`"${id.slice(0, 80)}" is not a backup id (expected one such as 20261122T010203Z-serial-42; make production-backups lists them)`);
}

/** Select the backup the next download commands fetch. */
export function selectBackup(ctx: Pick<StepContext, 'setValue'>, id: string): void {
  checkBackupId(id);
  ctx.setValue(BACKUP_ID, id);
  ctx.setValue(MANIFEST_DOWNLOAD, manifestPath(id));
  ctx.setValue(STATE_DOWNLOAD, backupPath(id));
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
