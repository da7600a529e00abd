// The steps of the local stack's runbooks: the database with the Supabase-compatible bootstrap
// and the production migrations, the stand-ins and the gateway in the background, the outputs.
// Parameters: DATABASE_URL (else an embedded PostgreSQL), REDIS_URL (else the gateway's
// in-process cache), LOCAL_DIR (default .local), LOCAL_PORT_BASE (default 4000).

import { node, supabase } from './cli.ts';
import { runtimeVar } from './command.ts';
import type { VarSpec } from './env-schema.ts';
import type { Step } from './runbook.ts';

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
    description: 'First of the seven local ports (default 4000: gateway 4000, auth 4001, users 4002, workouts 4003, metadata 4004, database 4005, metrics 4006).',
    example: '',
    check: (v) => (/^\d+$/.test(v) && Number(v) >= 1024 && Number(v) <= 65528 ? null : 'expected a port between 1024 and 65528'),
  },
];

const LOCAL_DATABASE_URL = runtimeVar('LOCAL_DATABASE_URL');
// Live: the stack says what it started, found running or restarted.
const stack = (...args: string[]) => node`dev/local/stack.ts ${args}`.liveOutput();

export const startDatabase = stack('start', 'database');
export const localDatabaseUrl = node`dev/local/stack.ts url database`.captureInto(LOCAL_DATABASE_URL);
export const pushLocalMigrations = supabase`db push --remote=${LOCAL_DATABASE_URL} --yes`.liveOutput();
export const startParts = ['auth', 'metadata', 'users', 'workouts'].map((p) => stack('start', p));
export const startGateway = stack('start', 'gateway');
export const writeOutputs = stack('outputs');
export const showStatus = stack('status');
export const stopAll = stack('stop');
export const showLogs = stack('logs');

/** From nothing (or from a stopped stack) to a running one; each step does nothing if already done. */
export const upSteps: Step[] = [
  { id: 'database', title: 'Start the database', commands: [startDatabase] },
  { id: 'bootstrap', title: 'Apply the Supabase-compatible bootstrap', commands: [stack('bootstrap')] },
  { id: 'migrations', title: 'Push the production migrations with the Supabase CLI', commands: [localDatabaseUrl, pushLocalMigrations] },
  { id: 'stand-ins', title: 'Start auth, the metadata server and the mesh services', commands: startParts },
  { id: 'gateway', title: 'Start the gateway', commands: [startGateway] },
  { id: 'outputs', title: 'Write .local/outputs.json', commands: [writeOutputs] },
];
