// make production-db-drill: the restore, rehearsed. Production's databases are cloned into a
// throwaway instance (as of now, or POINT_IN_TIME), verified against the live ones, and the
// instance deleted; each step's duration is printed, and their sum is the recovery time to write
// in the runbook. The live instance and the services' secrets are never touched. A failed
// verification keeps the throwaway instance for inspection and exits 1.

import { gcloud } from './lib/cli.ts';
import { checkModeStep } from './lib/database-backup.ts';
import { durationsStep, POINT_IN_TIME_PARAM, RESTORE_TARGET, restoreSteps, timed } from './lib/database-restore.ts';
import { runIfMain } from './lib/engine.ts';
import { PROJECT_ID } from './lib/gcp.ts';
import { defineRunbook } from './lib/runbook.ts';

// A clone keeps the live instance's settings, deletion protection among them.
const unprotect = gcloud`sql instances patch ${RESTORE_TARGET} --project ${PROJECT_ID} --no-deletion-protection`;
const remove = gcloud`sql instances delete ${RESTORE_TARGET} --project ${PROJECT_ID} --quiet`;

export const databaseDrill = defineRunbook({
  id: 'db-drill',
  title: 'Rehearse a database restore',
  make: 'production-db-drill',
  params: [POINT_IN_TIME_PARAM],
  steps: [
    checkModeStep('production-db-drill'),
    ...restoreSteps('drill'),
    timed({
      id: 'unprotect',
      title: 'Lift deletion protection from the throwaway instance',
      commands: [unprotect],
      async run(ctx) {
        await ctx.run(unprotect);
      },
    }),
    timed({
      id: 'delete',
      title: 'Delete the throwaway instance',
      commands: [remove],
      async run(ctx) {
        await ctx.run(remove);
        return { note: ctx.value(RESTORE_TARGET) };
      },
    }),
    durationsStep,
  ],
});

runIfMain(import.meta.url, databaseDrill);
