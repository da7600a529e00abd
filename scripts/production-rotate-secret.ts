// make production-rotate-secret SECRET=<name>: a new value without downtime. The new value is
// added as a new version while the old one stays enabled; every service that mounts the secret
// gets a new revision of its current template (they read their secret files at start-up); the
// gateway and every service are verified; only then is the old version disabled (never
// destroyed). ROLLBACK=1 goes back: the previous value is enabled again and added as the newest
// version (services mount `latest`, which is the most recently created version, not the newest
// enabled one), the services are rolled and verified, and the bad version is disabled.
//
// Values come from VALUE_FILE or a hidden prompt, for the secrets a person provides. Supabase's
// keys rotate in its dashboard and reach Secret Manager through make production-supabase;
// redis-auth is written by OpenTofu; revoked-sessions is a list, not a credential. A finished
// rotation acknowledges the secret's rotation reminders and starts its schedule again.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gcloud, make } from './lib/cli.ts';
import { listServices, parseServiceList } from './lib/cloud-run.ts';
import { configVar, runtimeVar } from './lib/command.ts';
import { closest } from './lib/config.ts';
import { isTrue } from './lib/confirm.ts';
import { runIfMain } from './lib/engine.ts';
import { failureReason } from './lib/exec.ts';
import { PROJECT_ID, REGION, ROTATION_REMINDERS } from './lib/gcp.ts';
import { defineRunbook, StepFailure, UsageFailure, type StepContext } from './lib/runbook.ts';
import { secretCatalog, type SecretEntry } from './lib/secret-catalog.ts';
import { parseVersionList } from './lib/secret-versions.ts';

const SECRET = configVar('SECRET');
const NEW_VALUE = runtimeVar('NEW_VALUE', true);
const OLD_VERSION = runtimeVar('OLD_VERSION');
const PREVIOUS_VERSION = runtimeVar('PREVIOUS_VERSION');
const BAD_VERSION = runtimeVar('BAD_VERSION');
const SUFFIX = runtimeVar('ROTATION_SUFFIX');
const SERVICE = runtimeVar('CONSUMER');
const NEXT_ROTATION = runtimeVar('NEXT_ROTATION_TIME');
const ACK_IDS = runtimeVar('ACK_IDS');

const listVersions = gcloud`secrets versions list ${SECRET} --project ${PROJECT_ID} --format=json`;
const addVersion = gcloud`secrets versions add ${SECRET} --project ${PROJECT_ID} --data-file=-`.withStdin(NEW_VALUE);
const enablePrevious = gcloud`secrets versions enable ${PREVIOUS_VERSION} --secret=${SECRET} --project ${PROJECT_ID}`;
const readPrevious = gcloud`secrets versions access ${PREVIOUS_VERSION} --secret=${SECRET} --project ${PROJECT_ID}`.captureInto(NEW_VALUE);
const rollService = gcloud`run services update ${SERVICE} --region ${REGION} --project ${PROJECT_ID} --revision-suffix=${SUFFIX}`;
const verify = make('production-verify');
const disableOld = gcloud`secrets versions disable ${OLD_VERSION} --secret=${SECRET} --project ${PROJECT_ID}`;
const disableBad = gcloud`secrets versions disable ${BAD_VERSION} --secret=${SECRET} --project ${PROJECT_ID}`;
const reschedule = gcloud`secrets update ${SECRET} --project ${PROJECT_ID} --next-rotation-time=${NEXT_ROTATION}`.allowExitCodes(1);
const pullReminders = gcloud`pubsub subscriptions pull ${ROTATION_REMINDERS} --project ${PROJECT_ID} --limit=100 --format=json`.allowExitCodes(1);
const ackReminders = gcloud`pubsub subscriptions ack ${ROTATION_REMINDERS} --project ${PROJECT_ID} --ack-ids=${ACK_IDS}`;

const catalog = secretCatalog();
const rollingBack = (ctx: StepContext) => isTrue(ctx.config.get('ROLLBACK'));
const entryOf = (ctx: StepContext): SecretEntry => ctx.state.get('entry') as SecretEntry;


const NOT_HERE: Partial<Record<SecretEntry['source'], string>> = {
  supabase: 'rotate it in the Supabase dashboard (Project Settings > API Keys), then make production-supabase stores the new value; see docs/infrastructure/production-deployment.md#rotate-secret',
  infra:
    'OpenTofu writes it (redis-auth from Memorystore; revoked-sessions through make production-revoke-session; on Cloud SQL the database URLs and the admin password: raise database_password_generation in production.tfvars and deploy, which sets the new passwords in PostgreSQL right after the apply)',
};

export const rotateSecret = defineRunbook({
  id: 'rotate-secret',
  title: 'Rotate a secret',
  make: 'production-rotate-secret',
  params: [
    {
      name: 'SECRET',
      description: 'The secret to rotate (make production-secrets-status lists them).',
      example: '',
      check: (v) => {
        if (catalog.some((s) => s.name === v)) return null;
        const close = closest(v, catalog.map((s) => s.name));
        return `no secret ${v}${close ? ` (did you mean ${close}?)` : ''}; make production-secrets-status lists them`;
      },
    },
    { name: 'VALUE_FILE', description: 'File holding the new value (otherwise it is asked for, hidden).', example: '', check: (v) => (existsSync(resolve(v)) ? null : `${v} does not exist`) },
    { name: 'ROLLBACK', description: 'Set to 1 to go back to the previous value of SECRET.', example: '', check: (v) => (/^[01]$/.test(v) ? null : 'expected 1 or 0') },
  ],
  requires: ['SECRET'],
  steps: [
    {
      id: 'versions',
      title: 'Read the secret’s versions and who reads it',
      commands: [listVersions],
      async run(ctx) {
        const entry = catalog.find((s) => s.name === ctx.value(SECRET))!;
        if (NOT_HERE[entry.source]) throw new UsageFailure(`${entry.name} is not rotated here: ${NOT_HERE[entry.source]}`);
        ctx.state.set('entry', entry);
        const versions = parseVersionList((await ctx.run(listVersions)).stdout);
        const newest = versions[0];
        if (!newest || newest.state !== 'ENABLED') throw new StepFailure(`${entry.name}'s newest version is ${newest ? newest.state : 'missing'}: services mount the newest version, so fix that first (gcloud secrets versions enable ...)`);
        if (rollingBack(ctx)) {
          const previous = versions.slice(1).find((v) => v.state !== 'DESTROYED');
          if (!previous) throw new StepFailure(`${entry.name} has no earlier version to go back to`);
          ctx.setValue(BAD_VERSION, newest.id);
          ctx.setValue(PREVIOUS_VERSION, previous.id);
          return { note: `back from v${newest.id} to v${previous.id}; read by ${entry.consumers.join(', ') || 'nobody'}` };
        }
        ctx.setValue(OLD_VERSION, newest.id);
        return { note: `now v${newest.id}; read by ${entry.consumers.join(', ') || 'nobody'}` };
      },
    },
    {
      id: 'serving-latest',
      title: 'Check each reader serves its latest revision',
      commands: [listServices],
      async run(ctx) {
        // A new revision repeats the latest template: after a traffic rollback that would be
        // the release that was rolled back from.
        const live = parseServiceList((await ctx.run(listServices)).stdout);
        const pinned = entryOf(ctx).consumers.filter((name) => {
          const s = live.get(name);
          return !s || s.traffic.length !== 1 || s.traffic[0]!.revisionName !== s.latestReady;
        });
        if (pinned.length) throw new StepFailure(`${pinned.join(', ')} do not serve their latest revision (a traffic rollback?): deploy or finish the rollback first`);
      },
    },
    {
      id: 'add',
      title: 'Add the new value as a new version',
      commands: [addVersion],
      skipIf: (ctx) => (rollingBack(ctx) ? 'rolling back' : null),
      async run(ctx) {
        const file = ctx.config.get('VALUE_FILE');
        const value = file ? readFileSync(resolve(file), 'utf8').replace(/\r?\n$/, '') : await ctx.askSecret(`New value of ${ctx.value(SECRET)} (not shown): `);
        if (value === null) throw new UsageFailure('no terminal to ask for the new value on: give it in a file with VALUE_FILE=<path> (mode 0600)');
        if (value.trim() === '') throw new UsageFailure('the new value is empty');
        ctx.setValue(NEW_VALUE, value, true);
        await ctx.run(addVersion);
      },
    },
    {
      id: 'restore-previous',
      title: 'Enable the previous version and add its value as the newest',
      commands: [enablePrevious, readPrevious, addVersion],
      skipIf: (ctx) => (rollingBack(ctx) ? null : 'not rolling back'),
      async run(ctx) {
        await ctx.run(enablePrevious);
        await ctx.run(readPrevious);
        await ctx.run(addVersion);
      },
    },
    {
      id: 'roll',
      title: 'Start a new revision of every reader',
      commands: [rollService],
      async run(ctx) {
        const consumers = entryOf(ctx).consumers;
        // To the millisecond: a revision name is never reused, and two runs in one second (a retry
        // straight after a failure) would otherwise ask for the same one.
        ctx.setValue(SUFFIX, `rot-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 18).toLowerCase()}`);
        // One at a time: the variable names the service of the command being run.
        for (const service of consumers) {
          ctx.setValue(SERVICE, service);
          await ctx.run(rollService);
        }
        return { note: consumers.length ? consumers.join(', ') : 'nobody mounts it' };
      },
    },
    { id: 'verify', title: 'Verify the gateway and every service', commands: [verify] },
    {
      id: 'disable-old',
      title: 'Disable the old version',
      commands: [disableOld],
      skipIf: (ctx) => (rollingBack(ctx) ? 'rolling back' : null),
      confirm: 'Every reader runs on the new value and production verified. Disable the old version (it can be enabled again)?',
    },
    {
      id: 'disable-bad',
      title: 'Disable the version rolled back from',
      commands: [disableBad],
      skipIf: (ctx) => (rollingBack(ctx) ? null : 'not rolling back'),
    },
    {
      id: 'clear-reminder',
      title: 'Move the next reminder a full period on and acknowledge the waiting ones',
      commands: [reschedule, pullReminders, ackReminders],
      skipIf: (ctx) => (rollingBack(ctx) ? 'rolling back: the old value is back, so its reminder stands' : entryOf(ctx).maxAgeDays === null ? 'no maximum age, so no reminders' : null),
      async run(ctx) {
        const entry = entryOf(ctx);
        // The rotation is done by now; a reminder that cannot be cleared is reported, not fatal.
        ctx.setValue(NEXT_ROTATION, new Date(Date.now() + entry.maxAgeDays! * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
        const rescheduled = await ctx.run(reschedule);
        const pulled = await ctx.run(pullReminders);
        const problems = [rescheduled, pulled].filter((r) => r.exitCode !== 0).map(failureReason);
        // Other secrets' reminders pulled here return to the subscription when their lease ends.
        const mine = pulled.exitCode === 0 ? remindersOf(pulled.stdout, entry.name) : [];
        if (mine.length) {
          ctx.setValue(ACK_IDS, mine.join(','));
          await ctx.run(ackReminders);
        }
        const done = `next reminder ${ctx.value(NEXT_ROTATION)}; ${mine.length} waiting reminder(s) acknowledged`;
        if (problems.length) return { status: 'warn', note: `${rescheduled.exitCode === 0 ? done : 'reminder not moved'}: ${problems.join('; ')} (run make production-deploy: it adds the rotation schedule and the reminders subscription)` };
        return { note: done };
      },
    },
  ],
});

/** Ack ids of the SECRET_ROTATE reminders of one secret, from `pubsub subscriptions pull --format=json`. */
export function remindersOf(pulledJson: string, secret: string): string[] {
  const received = JSON.parse(pulledJson || '[]') as { ackId: string; message?: { attributes?: Record<string, string> } }[];
  return received
    .filter((r) => r.message?.attributes?.eventType === 'SECRET_ROTATE' && r.message.attributes.secretId?.split('/').pop() === secret)
    .map((r) => r.ackId);
}

runIfMain(import.meta.url, rotateSecret);
