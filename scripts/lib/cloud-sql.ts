// The application databases on Cloud SQL (infra/modules/cloud-sql): the instance's name, the
// gcloud commands the database runbooks share, and how their answers are read. Nothing here
// restores over the live instance: a restore always makes a new one (instances clone).

import { gcloud } from './cli.ts';
import { configVar, runtimeVar, type Var } from './command.ts';
import { PROJECT_ID, REGION } from './gcp.ts';
import { DEFAULT_DATABASE_MODE, type DatabaseMode } from './secret-catalog.ts';
import { UsageFailure, type StepContext } from './runbook.ts';

/** The production instance (infra/environments/production local.database_instance; a test keeps them equal). */
export const DATABASE_INSTANCE = 'mindmirror-pg';
/** The jobs infra/modules/cloud-sql defines. */
export const ACCESS_JOB = 'database-access';
export const CHECK_JOB = 'database-check';

export const DATABASE_MODE = configVar('DATABASE_MODE');

export function databaseMode(ctx: Pick<StepContext, 'config'>): DatabaseMode {
  return (ctx.config.get('DATABASE_MODE') || DEFAULT_DATABASE_MODE) as DatabaseMode;
}

/** The database runbooks act on production's Cloud SQL instance; external databases are backed up where they live. */
export function requireCloudSql(ctx: Pick<StepContext, 'config'>, runbook: string): void {
  if (databaseMode(ctx) === 'cloudsql') return;
  throw new UsageFailure(
    `make ${runbook} works on production's Cloud SQL instance, and DATABASE_MODE is external: the databases live elsewhere, so back them up and restore them with their provider's tools. Set DATABASE_MODE=cloudsql in env/production.env once production uses its own instance.`,
  );
}

export const BACKUP_DESCRIPTION = runtimeVar('BACKUP_DESCRIPTION');
export const BACKUP_OPERATION = runtimeVar('BACKUP_OPERATION');

export const createBackup = gcloud`sql backups create --instance=${DATABASE_INSTANCE} --project ${PROJECT_ID} --description=${BACKUP_DESCRIPTION} --async --format=${'value(name)'}`.captureInto(BACKUP_OPERATION);
export const waitForOperation = (operation: Var) => gcloud`sql operations wait ${operation} --project ${PROJECT_ID} --timeout=3600 --format=json`.liveOutput();
export const listBackups = gcloud`sql backups list --instance=${DATABASE_INSTANCE} --project ${PROJECT_ID} --limit=10 --format=json`;
export const describeInstance = (instance: Var | string) => gcloud`sql instances describe ${instance} --project ${PROJECT_ID} --format=json`;

/** Cloud SQL's answer for one backup run (gcloud sql backups list/describe --format=json). */
export interface BackupRun {
  id: string;
  status: string;
  type: string;
  description?: string;
  windowStartTime?: string;
  startTime?: string;
  endTime?: string;
}

/** Backups, newest first (by when they ended, or began when still running). */
export function parseBackups(json: string): BackupRun[] {
  const runs = JSON.parse(json || '[]') as BackupRun[];
  const when = (b: BackupRun) => b.endTime ?? b.startTime ?? b.windowStartTime ?? '';
  return runs.map((b) => ({ ...b, id: String(b.id) })).sort((a, b) => when(b).localeCompare(when(a)));
}

/** The newest backup that finished, if any. */
export function newestSuccessful(backups: BackupRun[]): BackupRun | undefined {
  return backups.find((b) => b.status === 'SUCCESSFUL' && b.endTime);
}

/** "3 h 12 min" from milliseconds: how old a backup is, in words a person reads at a glance. */
export function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** What `gcloud sql instances describe --format=json` says that the runbooks use. */
export interface InstanceInfo {
  name: string;
  state: string;
  databaseVersion: string;
  privateIp: string | null;
  deletionProtectionEnabled: boolean;
}

export function parseInstance(json: string): InstanceInfo {
  const raw = JSON.parse(json) as {
    name: string;
    state: string;
    databaseVersion: string;
    ipAddresses?: { type: string; ipAddress: string }[];
    settings?: { deletionProtectionEnabled?: boolean };
  };
  return {
    name: raw.name,
    state: raw.state,
    databaseVersion: raw.databaseVersion,
    privateIp: raw.ipAddresses?.find((a) => a.type === 'PRIVATE')?.ipAddress ?? null,
    deletionProtectionEnabled: raw.settings?.deletionProtectionEnabled === true,
  };
}

/** Runs the least-privilege SQL against the instance PGHOST names (the live one by default). */
export const runAccessJob = gcloud`run jobs execute ${ACCESS_JOB} --region ${REGION} --project ${PROJECT_ID} --wait`.liveOutput();
