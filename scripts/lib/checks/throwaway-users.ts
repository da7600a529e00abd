// The throwaway users a check creates live in the run's state under 'users' (and their vouchers
// under 'vouchers'); this step removes them all, also after a failure or Ctrl-C.

import type { Step } from '../runbook.ts';
import { deleteUser, removeVouchers, type TestUser } from './clients.ts';
import { targetIn } from './target.ts';

export const deleteThrowawayUsersStep: Step = {
  id: 'cleanup',
  title: 'Delete the throwaway users and their vouchers',
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
