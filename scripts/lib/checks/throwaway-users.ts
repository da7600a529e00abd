// The throwaway users a check creates live in the run's state under 'users' (and their vouchers
// under 'vouchers'), kept there as each is made, so deleteThrowawayUsersStep removes them all,
// also after a failure or Ctrl-C halfway through creating them.

import type { Step, StepContext } from '../runbook.ts';
import { sourceOf } from '../paths.ts';
import { createSignedInUser, deleteUser, register, removeVouchers, type TestUser } from './clients.ts';
import { targetIn } from './target.ts';

/** Confirmed, signed-in users registered with a voucher each, one per label (email check-<label>-...). */
export async function createRegisteredUsers(ctx: StepContext, labels: readonly string[]): Promise<TestUser[]> {
  const target = targetIn(ctx);
  const users: TestUser[] = [];
  const codes: string[] = [];
  ctx.state.set('users', users);
  ctx.state.set('vouchers', codes);
  for (const label of labels) {
    const user = await createSignedInUser(target, label);
    users.push(user);
    await register(target, user, codes);
  }
  return users;
}

export const deleteThrowawayUsersStep: Step = {
  id: 'cleanup',
  title: 'Delete the throwaway users and their vouchers',
  code: sourceOf(import.meta.url),
  commands: [],
  always: true,
  skipIf: (ctx) => ((ctx.state.get('users') as TestUser[] | undefined)?.length ? null : 'no user was created'),
  async run(ctx) {
    const target = targetIn(ctx);
    const users = ctx.state.get('users') as TestUser[];
    for (const u of users) await deleteUser(target, u.id);
    await removeVouchers(target, (ctx.state.get('vouchers') as string[] | undefined) ?? []);
    return { note: `${users.length} users removed` };
  },
};
