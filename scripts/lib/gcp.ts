// Facts about the Google Cloud project that more than one runbook needs.

import { configVar } from './command.ts';

export const PROJECT_ID = configVar('PROJECT_ID');
export const REGION = configVar('REGION');
export const STATE_BUCKET = configVar('STATE_BUCKET');
export const STATE_PREFIX = configVar('STATE_PREFIX');
export const IMAGE_TAG = configVar('IMAGE_TAG');
export const SUPABASE_PROJECT_REF = configVar('SUPABASE_PROJECT_REF');
export const SUPABASE_ACCESS_TOKEN = configVar('SUPABASE_ACCESS_TOKEN', true);
export const SUPABASE_DB_PASSWORD = configVar('SUPABASE_DB_PASSWORD', true);

/** The Artifact Registry repository every image goes to; bootstrap creates it, infra/ adopts it. */
export const ARTIFACT_REPOSITORY = 'mindmirror';

/**
 * APIs production needs before OpenTofu's first run. Bootstrap enables them; preflight
 * checks them; infra/ declares the same list so a project built by hand matches.
 */
export const REQUIRED_APIS = [
  'artifactregistry.googleapis.com',
  'billingbudgets.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'compute.googleapis.com',
  'containerscanning.googleapis.com',
  'dns.googleapis.com',
  'iam.googleapis.com',
  'iamcredentials.googleapis.com',
  'logging.googleapis.com',
  'monitoring.googleapis.com',
  'pubsub.googleapis.com',
  'redis.googleapis.com',
  'run.googleapis.com',
  'secretmanager.googleapis.com',
  'servicenetworking.googleapis.com',
  'sqladmin.googleapis.com',
  'storage.googleapis.com',
  'sts.googleapis.com',
] as const;

/** The Pub/Sub subscription that keeps Secret Manager's SECRET_ROTATE reminders (infra's secrets module). */
export const ROTATION_REMINDERS = 'secret-rotation-due';
