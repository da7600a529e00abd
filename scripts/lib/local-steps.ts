// The steps of the local stack's runbooks: the ports, the database with the Supabase-compatible
// bootstrap and the production migrations, the stand-ins and the gateway in the background, the
// outputs. Parameters: DATABASE_URL (else an embedded PostgreSQL), REDIS_URL (else the gateway's
// in-process cache), LOCAL_DIR (default .local), LOCAL_PORT_BASE (default: the base the stack
// was set up with, else 4000).

import { node, supabase } from './cli.ts';
import { runtimeVar } from './command.ts';
import type { VarSpec } from './env-schema.ts';
import { failureReason } from './exec.ts';
import { choosePortBase, LocalStackDir, makeLine, markStopped, metricsUrlOf, PortBaseConflict, portBaseProblem, readOutputs, runningParts, stoppedAt, whyNoAnswer } from './local-state.ts';
import { sourceOf } from './paths.ts';
import { StepFailure, UsageFailure, type Step, type StepContext } from './runbook.ts';

/** The steps below are shared by several runbooks; the written runbook names this file as their code. */
const code = sourceOf(import.meta.url);

export const LOCAL_DIR_PARAM: VarSpec = {
  name: 'LOCAL_DIR',
  description: 'Where the local stack keeps its settings, keys, data and logs (default .local).',
  example: '',
};

export const LOCAL_PARAMS: VarSpec[] = [
  {
    name: 'DATABASE_URL',
    description: 'A PostgreSQL to use instead of the embedded one (it gets the Supabase-compatible bootstrap).',
    example: '',
    check: (v) => (/^postgres(ql)?:\/\//.test(v) ? null : 'expected a postgresql:// URL'),
  },
  {
    name: 'REDIS_URL',
    description: "A Redis for the gateway's identity cache; without it the gateway caches in process.",
    example: '',
    check: (v) => (/^rediss?:\/\//.test(v) ? null : 'expected a redis:// URL'),
  },
  LOCAL_DIR_PARAM,
  {
    name: 'LOCAL_PORT_BASE',
    description:
      'First of the seven local ports (gateway +0, auth +1, users +2, workouts +3, metadata +4, database +5, gateway metrics +6). Default: the base the stack was set up with (remembered in LOCAL_DIR/stack.json), else 4000. Refused while the stack runs on another base: make local-down first.',
    example: '',
    check: portBaseProblem,
  },
];

const LOCAL_DATABASE_URL = runtimeVar('LOCAL_DATABASE_URL');
/** The port base the parts start on, as local-ports.ts chose it. */
const STACK_PORT_BASE = runtimeVar('STACK_PORT_BASE');
// Live: the stack says what it started, found running or restarted.
const stack = (...args: string[]) => node`dev/local/stack.ts ${args}`.liveOutput();
// `start` is the one stack command that reads LOCAL_PORT_BASE (the others read stack.json), so
// it alone gets the chosen base: a re-run without LOCAL_PORT_BASE must not mean 4000.
const start = (part: string) => stack('start', part).withEnv({ LOCAL_PORT_BASE: STACK_PORT_BASE });

export const choosePorts = node`scripts/lib/local-ports.ts`.captureInto(STACK_PORT_BASE);
export const startDatabase = start('database');
export const localDatabaseUrl = node`dev/local/stack.ts url database`.captureInto(LOCAL_DATABASE_URL);
export const pushLocalMigrations = supabase`db push --remote=${LOCAL_DATABASE_URL} --yes`.liveOutput();
export const startParts = ['auth', 'metadata', 'users', 'workouts'].map(start);
export const startGateway = start('gateway');
export const writeOutputs = stack('outputs');
export const showStatus = stack('status');
export const stopAll = stack('stop');
export const showLogs = stack('logs');

const layoutIn = (ctx: StepContext) => new LocalStackDir(ctx.config.get('LOCAL_DIR'));

/** Runs local-ports.ts; its exit 2 (LOCAL_PORT_BASE would move a running stack) is bad input here too. */
const portsStep: Step = {
  id: 'ports',
  title: 'Choose the ports: the ones the stack was set up with, and free',
  code,
  commands: [choosePorts],
  async run(ctx) {
    const result = await ctx.attempt(choosePorts);
    if (result.exitCode === 2) throw new UsageFailure(failureReason(result).replace(/^error: /, ''), result);
    if (!result.ok) throw new StepFailure(failureReason(result).replace(/^error: /, ''), result);
    const base = Number(ctx.value(STACK_PORT_BASE));
    return { note: `${base}-${base + 6}` };
  },
};

/** From nothing (or from a stopped stack) to a running one; each step does nothing if already done. */
export const upSteps: Step[] = [
  portsStep,
  { id: 'database', title: 'Start the database', commands: [startDatabase], code },
  { id: 'bootstrap', title: 'Apply the Supabase-compatible bootstrap', commands: [stack('bootstrap')], code },
  { id: 'migrations', title: 'Push the production migrations with the Supabase CLI', commands: [localDatabaseUrl, pushLocalMigrations], code },
  { id: 'stand-ins', title: 'Start auth, the metadata server and the mesh services', commands: startParts, code },
  { id: 'gateway', title: 'Start the gateway', commands: [startGateway], code },
  { id: 'outputs', title: 'Write .local/outputs.json', commands: [writeOutputs], code },
];

/**
 * stack.ts's table, then what it does not show: the gateway's metrics listener, and that make
 * local-down stopped the stack (from outputs.json). A LOCAL_PORT_BASE other than the running
 * stack's is refused as in local-up: the table would describe other ports than the ones asked for.
 */
export const statusStep: Step = {
  id: 'status',
  title: 'Show what runs where',
  code,
  commands: [showStatus],
  async run(ctx) {
    const layout = layoutIn(ctx);
    try {
      choosePortBase(layout, ctx.env.LOCAL_PORT_BASE, ctx.config.get('LOCAL_DIR'));
    } catch (error) {
      if (error instanceof PortBaseConflict) throw new UsageFailure(error.message);
      throw error;
    }
    await ctx.run(showStatus);
    const base = layout.savedPortBase();
    if (base === undefined) return;
    const metrics = metricsUrlOf(base);
    const gatewayRuns = runningParts(layout).includes('gateway');
    const why = gatewayRuns ? await whyNoAnswer(metrics) : null;
    ctx.print(`Gateway metrics: ${metrics} (${!gatewayRuns ? 'stopped with the gateway' : why ? `NOT ANSWERING: ${why}` : 'up'}; Prometheus, never on the public port).`);
    const stopped = stoppedAt(readOutputs(layout));
    if (stopped) ctx.print(`Stopped by make local-down at ${stopped}; \`${makeLine('local-up', ctx.config.get('LOCAL_DIR'))}\` starts it again on the same ports.`);
  },
};

/**
 * Stops every part, then marks outputs.json stopped once none of the stack's processes runs
 * (also when stack.ts then finds a port held by a program it did not start: its own parts are gone).
 */
export const stopStep: Step = {
  id: 'stop',
  title: 'Stop every part and free its port',
  code,
  commands: [stopAll],
  async run(ctx) {
    const layout = layoutIn(ctx);
    let marked = false;
    try {
      await ctx.run(stopAll);
    } finally {
      if (runningParts(layout).length === 0) marked = markStopped(layout);
    }
    return marked ? { note: 'outputs.json says stopped' } : undefined;
  },
};
