// make production-db-restore: production's databases restored into a NEW Cloud SQL instance (as
// of now, POINT_IN_TIME, or a backup's end time), verified against the live ones (alembic
// revision per database, row counts per table), and only then, after a confirmation, every
// service's URL secret pointed at the new instance. Nothing restores over the live instance; a
// failed verification switches nothing and keeps the new instance for inspection.

import { gcloud } from './lib/cli.ts';
import { ACCESS_JOB, DATABASE_INSTANCE } from './lib/cloud-sql.ts';
import { checkModeStep } from './lib/database-backup.ts';
import { BACKUP_ID_PARAM, POINT_IN_TIME_PARAM, RESTORE_TARGET, restoreSteps, TARGET_HOST, TARGET_INSTANCE_PARAM } from './lib/database-restore.ts';
import { runIfMain } from './lib/engine.ts';
import { PROJECT_ID, REGION } from './lib/gcp.ts';
import { redactor } from './lib/redact.ts';
import { defineRunbook, StepFailure } from './lib/runbook.ts';
import { cloudSqlUrlSecrets } from './lib/secret-catalog.ts';
import { secretCommands } from './lib/secret-versions.ts';
import { renderTable } from './lib/table.ts';

const urlSecrets = cloudSqlUrlSecrets().map((s) => ({ ...s, commands: secretCommands(s.name) }));
// The restore brought back the logins' passwords as of its point in time; this sets them to
// what Secret Manager holds (database-access.sql, on the new instance).
const resetPasswords = gcloud`run jobs execute ${ACCESS_JOB} --region ${REGION} --project ${PROJECT_ID} --update-env-vars=PGHOST=${TARGET_HOST} --wait`.liveOutput();

/** The same URL with the restored instance's address: login, password and database stay. */
export function pointUrlAt(url: string, host: string): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  return parsed.toString();
}

export const databaseRestore = defineRunbook({
  id: 'db-restore',
  title: 'Restore the application databases into a new instance',
  make: 'production-db-restore',
  params: [POINT_IN_TIME_PARAM, BACKUP_ID_PARAM, TARGET_INSTANCE_PARAM],
  steps: [
    checkModeStep('production-db-restore'),
    ...restoreSteps('restore'),
    {
      id: 'passwords',
      title: "Set the logins' passwords on the new instance to Secret Manager's",
      commands: [resetPasswords],
    },
    {
      id: 'switch',
      title: "Point every service's database URL at the new instance",
      confirm: `Point every service's database URL secret at the restored instance? New revisions of the services will then use it instead of ${DATABASE_INSTANCE}.`,
      commands: urlSecrets.flatMap((s) => [s.commands.current, s.commands.add]),
      async run(ctx) {
        const rows: string[][] = [];
        for (const s of urlSecrets) {
          const current = await ctx.run(s.commands.current);
          if (current.exitCode !== 0) throw new StepFailure(`${s.name} has no readable version; the secrets switched so far are in the table above`);
          redactor.add(current.stdout, `${s.name} value`);
          ctx.setValue(s.commands.next, pointUrlAt(current.stdout.trim(), ctx.value(TARGET_HOST)), true);
          await ctx.run(s.commands.add);
          rows.push([s.name, s.service, s.database, ctx.value(RESTORE_TARGET)]);
        }
        ctx.print(renderTable(['secret', 'service', 'database', 'now points at'], rows));
        ctx.print(
          `\nNext: new revisions read the new URLs; make production-deploy IMAGE_TAG=<the tag production runs> starts them.\n` +
            `Then make ${ctx.value(RESTORE_TARGET)} production's instance in infra/ (docs/infrastructure/production-deployment.md#db-restore) and keep ${DATABASE_INSTANCE} until you are sure.`,
        );
        return { note: `${rows.length} secrets now point at ${ctx.value(RESTORE_TARGET)}` };
      },
    },
  ],
});

runIfMain(import.meta.url, databaseRestore);
