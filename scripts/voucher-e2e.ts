// make voucher-e2e: the alpha user's path, end to end. Sign up (admin API, confirmed), sign in,
// an admin issues a voucher to that email, redeem it through the gateway, `me` has an internal
// id, log a workout, see it in myWorkouts, and make sure a second user cannot. Everything it
// created is removed at the end, also when a step fails. TARGET=local (default) or production.

import { randomBytes } from 'node:crypto';
import { bearer, createSignedInUser, dataOf, deleteUser, errorCodes, issueVoucher, meThroughGateway, postGraphql, register, removeVouchers, type TestUser } from './lib/checks/clients.ts';
import { TARGET_PARAM, targetIn, targetSteps } from './lib/checks/target.ts';
import { runIfMain } from './lib/engine.ts';
import { LOCAL_DIR_PARAM } from './lib/local-steps.ts';
import { defineRunbook, StepFailure, type StepContext } from './lib/runbook.ts';

interface Journey {
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

export const voucherE2e = defineRunbook({
  id: 'voucher-e2e',
  title: 'Voucher end to end',
  make: 'voucher-e2e',
  params: [TARGET_PARAM, LOCAL_DIR_PARAM],
  steps: [
    ...targetSteps(),
    {
      id: 'sign-up',
      title: 'Sign up a test user (admin API, confirmed) and sign in',
      commands: [],
      async run(ctx) {
        const j: Journey = { codes: [] };
        ctx.state.set('journey', j);
        j.user = await createSignedInUser(targetIn(ctx), 'e2e');
        return { note: j.user.email };
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
        const users = [j.user, j.other].filter((u): u is TestUser => u !== undefined);
        for (const u of users) await deleteUser(target, u.id);
        await removeVouchers(target, j.codes);
        return { note: `${users.length} users and ${j.codes.length} vouchers removed` };
      },
    },
  ],
});

runIfMain(import.meta.url, voucherE2e);
