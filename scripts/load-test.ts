// make load-test: is the p95 objective (NFR1: under 500 ms) met? USERS throwaway users with real
// tokens, registered the way the app registers them, then `me` through the gateway at RATE
// requests per second for DURATION seconds on a fixed schedule; p50/p95/p99 and every error
// (429s included) against the objective, exit 1 when it is missed. Everything created is removed
// at the end, also when a step fails. TARGET=local (default) or production (asks first).

import { bearer, dataOf, errorCodes, meThroughGateway, postGraphql, type TestUser } from './lib/checks/clients.ts';
import { percentile, sendPaced, type Outcome, type PacedResult } from './lib/checks/paced-requests.ts';
import { TARGET_PARAM, targetIn, targetOf, targetSteps } from './lib/checks/target.ts';
import { runIfMain } from './lib/engine.ts';
import type { VarSpec } from './lib/env-schema.ts';
import { LOCAL_DIR_PARAM } from './lib/local-steps.ts';
import { defineRunbook, StepFailure, UsageFailure, type StepContext } from './lib/runbook.ts';
import { renderTable } from './lib/table.ts';
import { createRegisteredUsers, deleteThrowawayUsersStep } from './lib/checks/throwaway-users.ts';

/** The gateway's default per-user limit (RATE_LIMIT_PER_USER per RATE_LIMIT_WINDOW_SECONDS): 600/min. */
const GATEWAY_PER_USER_PER_SECOND = 10;
// Real users send a request every few seconds; staying at 80% of the per-user limit measures
// latency, not the rate limiter.
const PER_USER_SHARE = 0.8;
const MAX_IN_FLIGHT = 200;
const QUERY = 'query LoadTestMe { me { id } }';

const whole = (name: string, min: number, max: number, fallback: string, description: string): VarSpec => ({
  name,
  description,
  example: '',
  default: fallback,
  check: (v) => (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? null : `expected a whole number from ${min} to ${max}`),
});

const LOAD_PARAMS: VarSpec[] = [
  whole('USERS', 1, 50, '10', 'Throwaway users with real tokens that share the load (1-50, default 10).'),
  whole('RATE', 1, 200, '20', 'Requests per second over all users, on a fixed schedule (1-200, default 20).'),
  whole('DURATION', 1, 600, '60', 'Seconds of load (1-600, default 60).'),
  whole('P95_OBJECTIVE_MS', 1, 60_000, '500', 'The p95 latency to stay under, in ms (default 500, NFR1).'),
];

interface Plan {
  users: number;
  rate: number;
  duration: number;
  objectiveMs: number;
}

const planOf = (ctx: StepContext): Plan => ({
  users: Number(ctx.config.get('USERS')),
  rate: Number(ctx.config.get('RATE')),
  duration: Number(ctx.config.get('DURATION')),
  objectiveMs: Number(ctx.config.get('P95_OBJECTIVE_MS')),
});

const describe = (p: Plan) =>
  `${p.rate * p.duration} requests (\`${QUERY}\`), ${p.rate}/s for ${p.duration} s, from ${p.users} throwaway users (check-load-*@example.com, each registered with a voucher)`;

const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(1)} ms`);

function outcomeOf(status: number, codes: string[], id: unknown): { outcome: Outcome; detail?: string } {
  if (status === 429) return { outcome: 'rate-limited', detail: `HTTP 429 ${codes.join(',')}` };
  if (status === 200 && codes.length === 0 && typeof id === 'string') return { outcome: 'ok' };
  if (status >= 400 && status < 500) return { outcome: 'refused', detail: `HTTP ${status} ${codes.join(',')}` };
  return { outcome: 'failed', detail: `HTTP ${status} ${codes.join(',') || (typeof id === 'string' ? '' : 'no id in the answer')}`.trim() };
}

export const loadTest = defineRunbook({
  id: 'load-test',
  title: 'Load test',
  make: 'load-test',
  params: [TARGET_PARAM, LOCAL_DIR_PARAM, ...LOAD_PARAMS],
  steps: [
    {
      id: 'plan',
      title: 'Say what it will send (production: ask first)',
      commands: [],
      async run(ctx) {
        const plan = planOf(ctx);
        const perUser = plan.rate / plan.users;
        if (perUser > GATEWAY_PER_USER_PER_SECOND * PER_USER_SHARE) {
          const needed = Math.ceil(plan.rate / (GATEWAY_PER_USER_PER_SECOND * PER_USER_SHARE));
          throw new UsageFailure(
            `RATE=${plan.rate} over USERS=${plan.users} is ${perUser.toFixed(1)} requests per second per user, more than ${GATEWAY_PER_USER_PER_SECOND * PER_USER_SHARE} (80% of the gateway's per-user limit of 600 a minute), so it would measure the rate limiter: use USERS=${needed} or more, or a lower RATE`,
          );
        }
        ctx.print(`Will send ${describe(plan)}; objective: p95 under ${plan.objectiveMs} ms.`);
        if (targetOf(ctx.env) === 'production') await ctx.confirm(`Send ${describe(plan)} to production's gateway?`);
        return { note: `${plan.rate * plan.duration} requests` };
      },
    },
    ...targetSteps(),
    {
      id: 'users',
      title: 'Create the throwaway users, register them and warm their sessions',
      commands: [],
      async run(ctx) {
        const users = await createRegisteredUsers(ctx, Array(planOf(ctx).users).fill('load'));
        // The first request resolves the identity; the measured ones are a returning user's.
        for (const user of users) {
          if (!(await meThroughGateway(targetIn(ctx).gatewayUrl, user, true))) throw new StepFailure(`${user.email} is registered but \`me\` stays null through the gateway`);
        }
        return { note: `${users.length} users` };
      },
    },
    {
      id: 'load',
      title: 'Send the load and measure',
      commands: [],
      async run(ctx) {
        const target = targetIn(ctx);
        const users = ctx.state.get('users') as TestUser[];
        const plan = planOf(ctx);
        const result = await sendPaced({
          ratePerSecond: plan.rate,
          durationSeconds: plan.duration,
          maxInFlight: MAX_IN_FLIGHT,
          async send(i) {
            const reply = await postGraphql(target.gatewayUrl, bearer(users[i % users.length]!), { query: QUERY });
            return outcomeOf(reply.status, errorCodes(reply), (dataOf(reply)?.me as { id?: unknown } | null | undefined)?.id);
          },
        });
        ctx.state.set('result', result);
        return { note: `${result.latencies.length} answered in ${result.elapsedSeconds.toFixed(1)} s` };
      },
    },
    {
      id: 'report',
      title: 'Compare with the objective',
      commands: [],
      skipIf: (ctx) => (ctx.state.get('result') ? null : 'no load was sent'),
      async run(ctx) {
        const plan = planOf(ctx);
        const result = ctx.state.get('result') as PacedResult;
        const sorted = result.latencies.slice().sort();
        const [p50, p95, p99] = [0.5, 0.95, 0.99].map((f) => percentile(sorted, f)) as [number, number, number];
        const sent = plan.rate * plan.duration;
        const errors = sent - result.outcomes.ok;
        const figures = {
          target: targetIn(ctx).name,
          sent,
          ratePerSecond: plan.rate,
          users: plan.users,
          p50Ms: p50,
          p95Ms: p95,
          p99Ms: p99,
          maxMs: sorted.at(-1) ?? Number.NaN,
          objectiveP95Ms: plan.objectiveMs,
          outcomes: result.outcomes,
          examples: result.examples,
        };
        if (ctx.json) ctx.emitJson(figures);
        else {
          ctx.print(
            renderTable(
              ['requests', 'ok', '429', 'refused', 'failed', 'not sent', 'p50', 'p95', 'p99', 'max'],
              [[String(sent), String(result.outcomes.ok), String(result.outcomes['rate-limited']), String(result.outcomes.refused), String(result.outcomes.failed), String(result.outcomes['not-sent']), ms(p50), ms(p95), ms(p99), ms(figures.maxMs)]],
            ),
          );
          for (const [outcome, detail] of Object.entries(result.examples)) ctx.print(`first ${outcome} answer: ${detail}`);
        }
        const missed: string[] = [];
        if (!(p95 < plan.objectiveMs)) missed.push(`p95 ${ms(p95)} is not under the objective of ${plan.objectiveMs} ms`);
        if (errors > 0) missed.push(`${errors} of ${sent} requests did not get a good answer${result.outcomes['not-sent'] ? ` (${result.outcomes['not-sent']} not sent: ${MAX_IN_FLIGHT} were already waiting)` : ''}`);
        if (missed.length) throw new StepFailure(`${missed.join('; ')} (table above)`);
        return { note: `p95 ${ms(p95)} < ${plan.objectiveMs} ms, no errors` };
      },
    },
    deleteThrowawayUsersStep,
  ],
});

runIfMain(import.meta.url, loadTest);
