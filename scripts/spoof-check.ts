// make spoof-check: can anybody be somebody else? Two throwaway users, A and B; A (or nobody)
// tries every known way to be served as B, through the gateway and around it; then everything
// is cleaned up. A table (or --json) says what was tried, what had to happen, and what did.
// Exit 1 on any leak. TARGET=local (default) or TARGET=production.

import type { TestUser } from './lib/checks/clients.ts';
import { runAttacks, type AttackResult } from './lib/checks/attacks.ts';
import { TARGET_PARAM, targetIn, targetSteps } from './lib/checks/target.ts';
import { runIfMain } from './lib/engine.ts';
import { LOCAL_DIR_PARAM } from './lib/local-steps.ts';
import { defineRunbook, StepFailure } from './lib/runbook.ts';
import { renderTable } from './lib/table.ts';
import { createRegisteredUsers, deleteThrowawayUsersStep } from './lib/checks/throwaway-users.ts';

export const spoofCheck = defineRunbook({
  id: 'spoof-check',
  title: 'Spoof check',
  make: 'spoof-check',
  params: [TARGET_PARAM, LOCAL_DIR_PARAM],
  steps: [
    ...targetSteps(),
    {
      id: 'users',
      title: 'Create two throwaway users and register them',
      commands: [],
      async run(ctx) {
        const users = await createRegisteredUsers(ctx, ['spoof-a', 'spoof-b']);
        return { note: `A = ${users[0]!.internalId}, B = ${users[1]!.internalId}` };
      },
    },
    {
      id: 'attacks',
      title: 'Try to be B',
      commands: [],
      async run(ctx) {
        const target = targetIn(ctx);
        const [a, b] = ctx.state.get('users') as TestUser[];
        const results: AttackResult[] = await runAttacks(target, a!, b!, { signingKey: target.signingKey });
        const leaks = results.filter((r) => r.verdict === 'LEAK').length;
        const failures = results.filter((r) => r.verdict === 'FAIL').length;
        if (ctx.json) ctx.emitJson({ target: target.name, gateway: target.gatewayUrl, attacks: results.length, leaks, failures, results });
        else ctx.print(renderTable(['attack', 'expected', 'got', 'result'], results.map((r) => [r.attack, r.expected, r.got, r.verdict])));
        if (leaks || failures) throw new StepFailure(`${leaks} leak${leaks === 1 ? '' : 's'} and ${failures} unexpected answer${failures === 1 ? '' : 's'} in ${results.length} attacks (table above)`);
        return { note: `${results.length} attacks, no leak` };
      },
    },
    deleteThrowawayUsersStep,
  ],
});

runIfMain(import.meta.url, spoofCheck);
