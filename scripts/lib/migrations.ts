// One Cloud Run job per database runs `alembic upgrade head`; the deploy executes them all and
// waits. Names follow the catalog: migrate-<database>.

import { gcloud } from './cli.ts';
import { loadCatalog } from './catalog.ts';
import { PROJECT_ID, REGION } from './gcp.ts';

export const migrationJobName = (database: string) => `migrate-${database}`;

export const migrationJobs = loadCatalog().databases.map((db) => ({
  database: db.name,
  job: migrationJobName(db.name),
  execute: gcloud`run jobs execute ${migrationJobName(db.name)} --region ${REGION} --project ${PROJECT_ID} --wait`.liveOutput(),
}));
