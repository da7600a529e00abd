// make production-db-backup: an on-demand backup of production's Cloud SQL instance (all its
// databases at once), waited for and listed. Every deploy takes one before its migration jobs
// run, so a migration gone wrong has a restore point minutes old. On-demand backups are kept
// until deleted; the daily automated ones, 14 of them, roll over by themselves.

import { databaseBackupSteps } from './lib/database-backup.ts';
import { runIfMain } from './lib/engine.ts';
import { defineRunbook } from './lib/runbook.ts';

export const databaseBackup = defineRunbook({
  id: 'db-backup',
  title: 'Back up the application databases',
  make: 'production-db-backup',
  steps: databaseBackupSteps,
});

runIfMain(import.meta.url, databaseBackup);
