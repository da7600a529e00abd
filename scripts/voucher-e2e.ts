// make voucher-e2e: the alpha user's path, end to end, with supabase-js as the app uses it. Sign
// up (an admin's invitation while supabase/config.toml closes sign-up), confirm the e-mail through
// the link in the mailbox (the local stack's; in production a test mailbox, E2E_MAILBOX_URL), sign
// in with the password, an admin issues a voucher to that email, redeem it through the gateway,
// `me` has an internal id, log a workout, see it in myWorkouts, and make sure a second user cannot.
// Without a mailbox the admin API makes the link and the steps say so. Everything it created is
// removed at the end, also when a step fails. TARGET=local (default) or production.

import { randomBytes } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import {
  beginEnrolment,
  bearer,
  confirmEnrolment,
  createSignedInUser,
  dataOf,
  deleteUser,
  errorCodes,
  finishEnrolment,
  issueVoucher,
  meThroughGateway,
  postGraphql,
  register,
  removeVouchers,
  type Enrolment,
  type TestUser,
} from './lib/checks/clients.ts';
import { TARGET_PARAM, targetIn, targetSteps, type Target } from './lib/checks/target.ts';
import { runIfMain } from './lib/engine.ts';
import type { VarSpec } from './lib/env-schema.ts';
import { LOCAL_DIR_PARAM } from './lib/local-steps.ts';
import { defineRunbook, StepFailure, UsageFailure, type StepContext } from './lib/runbook.ts';

const MAILBOX_URL_PARAM: VarSpec = {
  name: 'E2E_MAILBOX_URL',
  description:
    "TARGET=production: a mailbox with Mailpit's HTTP API that receives the project's mail for E2E_MAILBOX_DOMAIN (credentials, if any, in the URL). With it the e-mail is confirmed from the real mail; without it the admin API's generate_link makes the link and the steps say so.",
  example: '',
  secret: true,
  check: (v) => (/^https?:\/\/[^/\s]+/.test(v) ? null : 'expected an http(s):// URL'),
};

const MAILBOX_DOMAIN_PARAM: VarSpec = {
  name: 'E2E_MAILBOX_DOMAIN',
  description: "TARGET=production, with E2E_MAILBOX_URL: the e-mail domain whose mail reaches that mailbox (the check's users are check-e2e-<random>@<domain>).",
  example: '',
  check: (v) => (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(v) ? null : 'expected a domain such as e2e.mindmirror.example'),
};

/** How long a confirmation mail may take: at once locally; through real SMTP, minutes. */
const MAIL_WAIT_MS = { local: 15_000, production: 180_000 };

interface Journey {
  enrolment?: Enrolment;
  /** Why the admin API stands in for the mail, when it does. */
  noMailbox?: string;
  linkSession?: SupabaseClient;
  user?: TestUser;
  other?: TestUser;
  codes: string[];
  workout?: { id: string; name: string };
}

const journey = (ctx: StepContext) => ctx.state.get('journey') as Journey;
const needs = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new StepFailure(`${what} is missing: an earlier step did not finish`);
  return value;
};

/** Where the confirmation mail is read: the local stack's mailbox, or production's test mailbox; else why there is none. */
function mailboxFor(ctx: StepContext, target: Target): { url: string; domain: string } | string {
  if (target.name === 'local') return target.mailboxUrl ? { url: target.mailboxUrl, domain: 'example.com' } : 'the local outputs.json names no mailbox: `make local-up` writes it';
  const url = ctx.config.get(MAILBOX_URL_PARAM.name);
  const domain = ctx.config.get(MAILBOX_DOMAIN_PARAM.name);
  if (url && !domain) throw new UsageFailure(`${MAILBOX_URL_PARAM.name} is set but ${MAILBOX_DOMAIN_PARAM.name} is not: name the e-mail domain whose mail reaches that mailbox`);
  return url && domain ? { url: url.replace(/\/+$/, ''), domain } : `no test mailbox (${MAILBOX_URL_PARAM.name} is not set)`;
}

export const voucherE2e = defineRunbook({
  id: 'voucher-e2e',
  title: 'Voucher end to end',
  make: 'voucher-e2e',
  params: [TARGET_PARAM, LOCAL_DIR_PARAM, MAILBOX_URL_PARAM, MAILBOX_DOMAIN_PARAM],
  steps: [
    ...targetSteps(),
    {
      id: 'sign-up',
      title: 'Sign up a test user with supabase-js (invited by an admin while sign-up is closed)',
      commands: [],
      async run(ctx) {
        const j: Journey = { codes: [] };
        ctx.state.set('journey', j);
        const target = targetIn(ctx);
        const mailbox = mailboxFor(ctx, target);
        if (typeof mailbox === 'string') j.noMailbox = mailbox;
        const e = await beginEnrolment(target, 'e2e', typeof mailbox === 'string' ? undefined : mailbox);
        j.enrolment = e;
        const how = e.via === 'sign-up' ? 'signed up' : 'sign-up is closed (supabase/config.toml), so an admin invited them';
        if (j.noMailbox) return { note: `${e.email}: ${how}; replaced by the admin API: generate_link made the ${e.via === 'sign-up' ? 'sign-up' : 'invitation'} and sent no mail (${j.noMailbox})` };
        return { note: `${e.email}: ${how}${e.via === 'sign-up' ? '; its password is refused (email_not_confirmed) until the e-mail is confirmed' : ' by mail'}` };
      },
    },
    {
      id: 'confirm',
      title: 'Confirm the e-mail through the link in the mailbox',
      commands: [],
      async run(ctx) {
        const target = targetIn(ctx);
        const j = journey(ctx);
        const { client, confirmedBy } = await confirmEnrolment(target, needs(j.enrolment, 'the signed-up user'), MAIL_WAIT_MS[target.name]);
        j.linkSession = client;
        return { note: j.noMailbox ? `replaced by the admin API: ${confirmedBy} (${j.noMailbox})` : `followed ${confirmedBy}: a 303 to the app with a session` };
      },
    },
    {
      id: 'sign-in',
      title: 'Sign in with the password',
      commands: [],
      async run(ctx) {
        const j = journey(ctx);
        const e = needs(j.enrolment, 'the signed-up user');
        j.user = await finishEnrolment(targetIn(ctx), e, needs(j.linkSession, "the confirmation link's session"));
        return { note: e.via === 'invite' ? "password chosen in the invitation's session, then signed in with it" : 'signed in' };
      },
    },
    {
      id: 'issue',
      title: 'An admin issues a voucher to that email',
      commands: [],
      async run(ctx) {
        const j = journey(ctx);
        j.codes.push(await issueVoucher(targetIn(ctx), needs(j.user, 'the test user').email));
      },
    },
    {
      id: 'redeem',
      title: 'Redeem it through the gateway',
      commands: [],
      async run(ctx) {
        const j = journey(ctx);
        const user = needs(j.user, 'the test user');
        const reply = await postGraphql(targetIn(ctx).gatewayUrl, bearer(user), {
          query: 'mutation Redeem($code: String!) { redeemVoucher(code: $code) { internalId } }',
          variables: { code: needs(j.codes[0], 'the voucher') },
        });
        const internalId = (dataOf(reply)?.redeemVoucher as { internalId?: string } | undefined)?.internalId;
        if (!internalId) throw new StepFailure(`redeemVoucher answered HTTP ${reply.status} ${errorCodes(reply).join(',') || JSON.stringify(reply.body)}`);
        user.internalId = internalId;
        return { note: `internal id ${internalId}` };
      },
    },
    {
      id: 'me',
      title: '`me` has the internal id',
      commands: [],
      async run(ctx) {
        const user = needs(journey(ctx).user, 'the test user');
        // A "not registered yet" answer may be cached for a few seconds; it must not last.
        const started = Date.now();
        const id = await meThroughGateway(targetIn(ctx).gatewayUrl, user, true);
        if (id !== user.internalId) throw new StepFailure(`me answered ${id ?? 'null'}, expected ${user.internalId}`);
        return { note: `after ${((Date.now() - started) / 1000).toFixed(1)} s` };
      },
    },
    {
      id: 'log-workout',
      title: 'Log a workout',
      commands: [],
      async run(ctx) {
        const j = journey(ctx);
        const name = `voucher-e2e ${randomBytes(4).toString('hex')}`;
        const reply = await postGraphql(targetIn(ctx).gatewayUrl, bearer(needs(j.user, 'the test user')), {
          query: 'mutation Log($input: WorkoutInput!) { logWorkout(input: $input) { id name } }',
          variables: { input: { name, durationMinutes: 30 } },
        });
        const workout = dataOf(reply)?.logWorkout as { id: string; name: string } | undefined;
        if (!workout) throw new StepFailure(`logWorkout answered HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
        j.workout = workout;
        return { note: workout.name };
      },
    },
    {
      id: 'my-workouts',
      title: 'myWorkouts shows it, and another user cannot see it',
      commands: [],
      async run(ctx) {
        const target = targetIn(ctx);
        const j = journey(ctx);
        const workout = needs(j.workout, 'the logged workout');
        const query = { query: '{ myWorkouts { id name } }' };
        const mine = dataOf(await postGraphql(target.gatewayUrl, bearer(needs(j.user, 'the test user')), query))?.myWorkouts as { id: string }[] | undefined;
        if (!mine?.some((w) => w.id === workout.id)) throw new StepFailure(`myWorkouts does not list the workout just logged: ${JSON.stringify(mine)}`);
        j.other = await createSignedInUser(target, 'e2e-other');
        await register(target, j.other, j.codes);
        await meThroughGateway(target.gatewayUrl, j.other, true);
        const theirs = dataOf(await postGraphql(target.gatewayUrl, bearer(j.other), query))?.myWorkouts as { id: string }[] | undefined;
        if (!theirs) throw new StepFailure("the second user's myWorkouts did not answer");
        if (theirs.some((w) => w.id === workout.id)) throw new StepFailure("the second user sees the first user's workout");
        return { note: `listed for its owner; the other user sees ${theirs.length} workouts` };
      },
    },
    {
      id: 'cleanup',
      title: 'Remove everything it created',
      commands: [],
      always: true,
      skipIf: (ctx) => (ctx.state.get('journey') ? null : 'nothing was created'),
      async run(ctx) {
        const target = targetIn(ctx);
        const j = journey(ctx);
        // Deleting a user removes their redemption (and, locally, their registration and workouts).
        const ids = [j.user?.id ?? j.enrolment?.userId, j.other?.id].filter((id): id is string => id !== undefined);
        for (const id of ids) await deleteUser(target, id);
        await removeVouchers(target, j.codes);
        return { note: `${ids.length} users and ${j.codes.length} vouchers removed` };
      },
    },
  ],
});

runIfMain(import.meta.url, voucherE2e);
