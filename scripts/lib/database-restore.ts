// The steps make production-db-restore and make production-db-drill share: read the live
// instance, clone it into a NEW instance (now, at a point in time, or at a backup's end time),
// and verify the clone against the live databases with the database-check job (alembic
// revision and exact row counts per table). Nothing here writes to the live instance.

import { loadCatalog } from './catalog.ts';
import { gcloud } from './cli.ts';
import { runtimeVar, type Command, type Var } from './command.ts';
import { CHECK_JOB, DATABASE_INSTANCE, describeInstance, parseInstance, waitForOperation } from './cloud-sql.ts';
import type { VarSpec } from './env-schema.ts';
import { PROJECT_ID, REGION } from './gcp.ts';
import { sourceOf } from './paths.ts';
import { StepFailure, UsageFailure, type Step, type StepContext } from './runbook.ts';
import { renderTable } from './table.ts';

export const SOURCE_HOST = runtimeVar('SOURCE_HOST');
export const RESTORE_TARGET = runtimeVar('RESTORE_TARGET');
export const RESTORE_POINT = runtimeVar('RESTORE_POINT');
export const TARGET_HOST = runtimeVar('TARGET_HOST');
const SOURCE_CHECK = runtimeVar('SOURCE_CHECK');
const TARGET_CHECK = runtimeVar('TARGET_CHECK');
const CLONE_OPERATION = runtimeVar('CLONE_OPERATION');
const BACKUP_ID = runtimeVar('BACKUP_ID');

const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

export const POINT_IN_TIME_PARAM: VarSpec = {
  name: 'POINT_IN_TIME',
  description: 'Restore the databases as they were at this UTC time (RFC 3339, within the last 7 days), e.g. 2026-12-04T06:30:00Z. Default: now.',
  example: '',
  check: (v) => (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$/.test(v) && !Number.isNaN(Date.parse(v)) ? null : 'expected a UTC time such as 2026-12-04T06:30:00Z'),
};

export const BACKUP_ID_PARAM: VarSpec = {
  name: 'BACKUP_ID',
  description: 'Restore the databases as they were when this backup finished (make production-db-backup and make production-backups list the ids); within the 7 days of transaction logs.',
  example: '',
  check: (v) => (/^\d{1,20}$/.test(v) ? null : 'expected a backup id, digits only (make production-backups lists them)'),
};

export const TARGET_INSTANCE_PARAM: VarSpec = {
  name: 'TARGET_INSTANCE',
  description: `Name of the NEW instance to restore into (default ${DATABASE_INSTANCE}-restore-<UTC time>); never the live ${DATABASE_INSTANCE}, and not an existing instance.`,
  example: '',
  check: (v) => (v === DATABASE_INSTANCE ? `${v} is the live instance: a restore always goes to a new one` : INSTANCE_NAME.test(v) ? null : 'expected an instance name: lowercase letters, digits and hyphens, starting with a letter'),
};

const describeSource = describeInstance(DATABASE_INSTANCE);
const describeTarget = describeInstance(RESTORE_TARGET);
const describeBackup = gcloud`sql backups describe ${BACKUP_ID} --instance=${DATABASE_INSTANCE} --project ${PROJECT_ID} --format=json`;
const cloneNow = gcloud`sql instances clone ${DATABASE_INSTANCE} ${RESTORE_TARGET} --project ${PROJECT_ID} --async --format=${'value(name)'}`.captureInto(CLONE_OPERATION);
const cloneAt = gcloud`sql instances clone ${DATABASE_INSTANCE} ${RESTORE_TARGET} --project ${PROJECT_ID} --point-in-time=${RESTORE_POINT} --async --format=${'value(name)'}`.captureInto(CLONE_OPERATION);
const waitForClone = waitForOperation(CLONE_OPERATION);

function checkCommands(host: Var, execution: Var): { execute: Command; read: Command } {
  return {
    execute: gcloud`run jobs execute ${CHECK_JOB} --region ${REGION} --project ${PROJECT_ID} --update-env-vars=PGHOST=${host} --wait --format=${'value(metadata.name)'}`.captureInto(execution),
    read: gcloud`logging read ${`resource.type="cloud_run_job" AND resource.labels.job_name="${CHECK_JOB}" AND labels."run.googleapis.com/execution_name"="`}${execution}${'"'} --project ${PROJECT_ID} --freshness=1d --format=json`,
  };
}
const sourceCheck = checkCommands(SOURCE_HOST, SOURCE_CHECK);
const targetCheck = checkCommands(TARGET_HOST, TARGET_CHECK);

/** One database as the check job read it. */
export interface DatabaseCheck {
  database: string;
  alembic: string | null;
  counts: Record<string, number>;
}

/** The check job's log lines (gcloud logging read --format=json), by database. */
export function parseCheck(json: string): Map<string, DatabaseCheck> {
  const out = new Map<string, DatabaseCheck>();
  for (const e of JSON.parse(json || '[]') as { jsonPayload?: Partial<DatabaseCheck> & { check?: string } }[]) {
    const p = e.jsonPayload;
    if (p?.check !== 'database' || typeof p.database !== 'string') continue;
    out.set(p.database, { database: p.database, alembic: p.alembic ?? null, counts: p.counts ?? {} });
  }
  return out;
}

/**
 * What differs between the live databases and the restored ones. The alembic revision and the
 * tables must match; row counts must match too when restoring the present (a point in the past
 * may rightly have fewer or more rows, so there they are shown, not required).
 */
export function compareChecks(source: Map<string, DatabaseCheck>, target: Map<string, DatabaseCheck>, exactCounts: boolean): { rows: string[][]; problems: string[] } {
  const rows: string[][] = [];
  const problems: string[] = [];
  for (const [name, s] of [...source].sort(([a], [b]) => a.localeCompare(b))) {
    const t = target.get(name);
    if (!t) {
      problems.push(`${name}: missing from the restored instance`);
      rows.push([name, 'alembic', String(s.alembic), '(missing)', 'DIFFERS']);
      continue;
    }
    const alembicOk = s.alembic === t.alembic;
    if (!alembicOk) problems.push(`${name}: alembic revision ${String(t.alembic)}, live ${String(s.alembic)}`);
    rows.push([name, 'alembic', String(s.alembic), String(t.alembic), alembicOk ? 'same' : 'DIFFERS']);
    for (const table of [...new Set([...Object.keys(s.counts), ...Object.keys(t.counts)])].sort()) {
      const [a, b] = [s.counts[table], t.counts[table]];
      const same = a === b;
      if (a === undefined || b === undefined) problems.push(`${name}.${table}: ${a === undefined ? 'only in the restored instance' : 'missing from the restored instance'}`);
      else if (!same && exactCounts) problems.push(`${name}.${table}: ${b} rows, live ${a}`);
      rows.push([name, table, a === undefined ? '-' : String(a), b === undefined ? '-' : String(b), same ? 'same' : 'DIFFERS']);
    }
  }
  return { rows, problems };
}

/** Log lines can take a few seconds to reach Cloud Logging: read until every database answered. */
async function readCheck(ctx: StepContext, read: Command, expected: number): Promise<Map<string, DatabaseCheck>> {
  let found = new Map<string, DatabaseCheck>();
  for (let attempt = 1; attempt <= 10; attempt++) {
    found = parseCheck((await ctx.run(read)).stdout);
    if (found.size >= expected) return found;
    await new Promise((r) => setTimeout(r, 3_000));
  }
  return found;
}

/** Step ids -> seconds, for the drill's recovery-time report. */
const durationsOf = (ctx: StepContext) => (ctx.state.get('durations') ?? ctx.state.set('durations', new Map<string, number>()).get('durations')) as Map<string, number>;

/** A step whose time counts towards the recovery time. */
function timed(step: Step & { run: NonNullable<Step['run']> }): Step {
  return {
    ...step,
    async run(ctx) {
      const started = Date.now();
      try {
        return await step.run(ctx);
      } finally {
        durationsOf(ctx).set(step.title, (Date.now() - started) / 1000);
      }
    },
  };
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase().slice(0, 13);

/** Read the live instance, name the new one and the point in time, read the live databases, clone, read the clone, compare. */
export function restoreSteps(purpose: 'restore' | 'drill'): Step[] {
  return [
    timed({
      id: 'source',
      code: sourceOf(import.meta.url),
      title: 'Read the live instance',
      commands: [describeSource],
      async run(ctx) {
        const live = parseInstance((await ctx.run(describeSource)).stdout);
        if (live.state !== 'RUNNABLE' || !live.privateIp) throw new StepFailure(`${DATABASE_INSTANCE} is ${live.state}${live.privateIp ? '' : ' without a private address'}; its databases cannot be read for the comparison`);
        ctx.setValue(SOURCE_HOST, live.privateIp);
        return { note: `${live.databaseVersion}, ${live.privateIp}` };
      },
    }),
    timed({
      id: 'target-name',
      code: sourceOf(import.meta.url),
      title: 'Name the new instance and the point in time',
      commands: [describeBackup, describeTarget],
      async run(ctx) {
        const given = purpose === 'restore' ? ctx.config.get('TARGET_INSTANCE') : '';
        const target = given || `${DATABASE_INSTANCE}-${purpose}-${stamp()}`;
        if (target === DATABASE_INSTANCE) throw new UsageFailure(`TARGET_INSTANCE=${target} is the live instance; a restore always goes to a new instance`);
        ctx.setValue(RESTORE_TARGET, target);
        if ((await ctx.attempt(describeTarget)).exitCode === 0) throw new UsageFailure(`an instance named ${target} exists already; choose another TARGET_INSTANCE (a restore never writes over an instance)`);
        const point = ctx.config.get('POINT_IN_TIME');
        const backup = ctx.config.get('BACKUP_ID');
        if (point && backup) throw new UsageFailure('give POINT_IN_TIME or BACKUP_ID, not both');
        if (backup) {
          ctx.setValue(BACKUP_ID, backup);
          const run = JSON.parse((await ctx.run(describeBackup)).stdout) as { status: string; endTime?: string };
          if (run.status !== 'SUCCESSFUL' || !run.endTime) throw new StepFailure(`backup ${backup} is ${run.status}; only a finished backup can be restored`);
          ctx.setValue(RESTORE_POINT, run.endTime);
          ctx.state.set('restorePoint', run.endTime);
        } else if (point) {
          ctx.setValue(RESTORE_POINT, point);
          ctx.state.set('restorePoint', point);
        }
        return { note: `${target}, ${(ctx.state.get('restorePoint') as string | undefined) ?? 'as of now'}` };
      },
    }),
    timed({
      id: 'source-check',
      code: sourceOf(import.meta.url),
      title: 'Read the live databases: alembic revision and row counts',
      commands: [sourceCheck.execute, sourceCheck.read],
      async run(ctx) {
        await ctx.run(sourceCheck.execute);
        const found = await readCheck(ctx, sourceCheck.read, loadCatalog().databases.length);
        if (found.size === 0) throw new StepFailure(`the ${CHECK_JOB} job of execution ${ctx.value(SOURCE_CHECK)} logged nothing; see its logs in the console`);
        ctx.state.set('sourceCheck', found);
        return { note: `${found.size} databases` };
      },
    }),
    timed({
      id: 'clone',
      code: sourceOf(import.meta.url),
      title: 'Clone the live instance into the new one',
      commands: [cloneNow, cloneAt, waitForClone],
      async run(ctx) {
        await ctx.run(ctx.state.has('restorePoint') ? cloneAt : cloneNow);
        await ctx.run(waitForClone);
        return { note: ctx.value(RESTORE_TARGET) };
      },
    }),
    timed({
      id: 'target',
      code: sourceOf(import.meta.url),
      title: 'Read the new instance',
      commands: [describeTarget],
      async run(ctx) {
        const restored = parseInstance((await ctx.run(describeTarget)).stdout);
        if (restored.state !== 'RUNNABLE' || !restored.privateIp) throw new StepFailure(`${restored.name} is ${restored.state}; it was kept for inspection`);
        ctx.setValue(TARGET_HOST, restored.privateIp);
        return { note: restored.privateIp };
      },
    }),
    timed({
      id: 'target-check',
      code: sourceOf(import.meta.url),
      title: 'Verify the new instance against the live one',
      commands: [targetCheck.execute, targetCheck.read],
      async run(ctx) {
        const source = ctx.state.get('sourceCheck') as Map<string, DatabaseCheck>;
        await ctx.run(targetCheck.execute);
        const target = await readCheck(ctx, targetCheck.read, source.size);
        const { rows, problems } = compareChecks(source, target, !ctx.state.has('restorePoint'));
        ctx.print(renderTable(['database', 'table', 'live', 'restored', ''], rows));
        if (problems.length) {
          throw new StepFailure(
            `the restored instance ${ctx.value(RESTORE_TARGET)} does not match the live one:\n  ${problems.join('\n  ')}\n` +
              `Nothing was switched: the services still use ${DATABASE_INSTANCE}. ${ctx.value(RESTORE_TARGET)} is kept for inspection; ` +
              `delete it when done: gcloud sql instances patch ${ctx.value(RESTORE_TARGET)} --no-deletion-protection && gcloud sql instances delete ${ctx.value(RESTORE_TARGET)}`,
          );
        }
        return { note: 'matches' };
      },
    }),
  ];
}

/** The drill's report: how long each step took, and the recovery time they add up to. */
export const durationsStep: Step = {
  id: 'durations',
  code: sourceOf(import.meta.url),
  title: 'Report how long each step took',
  commands: [],
  always: true,
  async run(ctx) {
    const durations = durationsOf(ctx);
    const total = [...durations.values()].reduce((a, b) => a + b, 0);
    ctx.print(renderTable(['step', 'seconds'], [...[...durations].map(([title, s]) => [title, s.toFixed(1)]), ['recovery time (total)', total.toFixed(1)]]));
    return { note: `${total.toFixed(1)} s in all` };
  },
};

export { timed };
