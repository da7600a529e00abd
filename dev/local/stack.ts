// Runs the parts of the local stack in the background, like a tiny service manager:
//   node --import tsx dev/local/stack.ts start <part> | stop | status | logs [part]
//                                        | bootstrap | url database | outputs
// Each part is a detached process with a pid file and a log; `start` waits until the part
// answers its health check, and does nothing for a part already running with the same settings.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { applySupabaseBootstrap } from '../supabase/bootstrap.ts';
import { composeLocalSupergraph } from '../mesh/supergraph.ts';
import { processRuns } from './processes.ts';
import { COMPONENTS, GATEWAY_SERVICE_ACCOUNT, Layout, mailboxUrlOf, portOf, repoRoot, urlOf, type Component, type StackSettings } from './layout.ts';

const layout = new Layout();
const START_TIMEOUT_MS = 60_000;

function fail(message: string, code = 1): never {
  console.error(`error: ${message}`);
  process.exit(code);
}

/** pid and the settings fingerprint it was started with. */
function readPid(c: Component): { pid: number; fingerprint: string } | null {
  const file = layout.pidFile(c);
  if (!existsSync(file)) return null;
  const [pid, fingerprint] = readFileSync(file, 'utf8').trim().split(' ');
  return pid && processRuns(Number(pid)) ? { pid: Number(pid), fingerprint: fingerprint ?? '' } : null;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function healthy(c: Component, settings: StackSettings): Promise<boolean> {
  try {
    if (c === 'database') {
      const client = new pg.Client({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 2_000 });
      await client.connect();
      await client.query('select 1');
      await client.end();
      return true;
    }
    const path = { auth: '/auth/v1/health', metadata: '/oauth2/v3/certs', users: '/health', workouts: '/health', gateway: '/readiness' }[c];
    const response = await fetch(`${urlOf(settings, c)}${path}`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

function gatewayEnvironment(settings: StackSettings): NodeJS.ProcessEnv {
  const supergraph = layout.path('supergraph.graphql');
  writeFileSync(supergraph, composeLocalSupergraph({ users: `${urlOf(settings, 'users')}/graphql`, workouts: `${urlOf(settings, 'workouts')}/graphql` }));
  return {
    PORT: String(portOf(settings, 'gateway')),
    HOST: '127.0.0.1',
    METRICS_PORT: String(portOf(settings, 'gatewayMetrics')),
    SUPABASE_URL: urlOf(settings, 'auth'),
    USERS_SERVICE_URL: `${urlOf(settings, 'users')}/graphql`,
    SUPERGRAPH: supergraph,
    // Like Cloud Run with IAM on: every subgraph call carries an ID token from the metadata server.
    SUBGRAPH_ID_TOKENS: 'true',
    GCE_METADATA_HOST: `127.0.0.1:${portOf(settings, 'metadata')}`,
    ...(settings.redisUrl ? { REDIS_URL: settings.redisUrl, REDIS_KEY_PREFIX: `mindmirror:local:${settings.portBase}:sub2iid:` } : {}),
    IMAGE_TAG: 'local',
    NODE_ENV: 'development',
  };
}

async function start(c: Component): Promise<void> {
  layout.ensure();
  const settings = layout.settings();
  await layout.keys();
  if (c === 'database' && !settings.embeddedDatabase) {
    if (!(await healthy('database', settings))) fail(`DATABASE_URL does not answer: check that the database is up and the URL is right`);
    console.log('database: using DATABASE_URL');
    return;
  }
  const fingerprint = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 12);
  const running = readPid(c);
  if (running && running.fingerprint === fingerprint && (await healthy(c, settings))) {
    console.log(`${c}: already running (pid ${running.pid})`);
    return;
  }
  if (running) {
    console.log(`${c}: restarting (its settings changed or it stopped answering)`);
    await stop(c);
  }
  const port = portOf(settings, c);
  if (await portAnswers(port)) fail(`${c}: port ${port} is taken by another program; stop it, or choose other ports with LOCAL_PORT_BASE=<port>`);

  const entry = c === 'gateway' ? join(repoRoot, 'gateway', 'src', 'main.ts') : join(repoRoot, 'dev', 'local', 'run.ts');
  const env = { ...process.env, ...(c === 'gateway' ? gatewayEnvironment(settings) : {}), LOCAL_DIR: layout.dir };
  const log = openSync(layout.logFile(c), 'a', 0o600);
  const child = spawn(process.execPath, ['--no-webstorage', '--import', 'tsx', entry, ...(c === 'gateway' ? [] : [c])], { cwd: repoRoot, env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(layout.pidFile(c), `${child.pid} ${fingerprint}\n`, { mode: 0o600 });

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!processRuns(child.pid!)) break;
    if (await healthy(c, settings)) {
      console.log(`${c}: started (pid ${child.pid}, port ${port})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = existsSync(layout.logFile(c)) ? readFileSync(layout.logFile(c), 'utf8').trim().split('\n').slice(-15).join('\n') : '';
  await stop(c);
  fail(`${c} did not become healthy within ${START_TIMEOUT_MS / 1000} s; the end of ${layout.logFile(c)}:\n${tail}`);
}

async function stop(c: Component): Promise<void> {
  const running = readPid(c);
  rmSync(layout.pidFile(c), { force: true });
  if (!running) return;
  // Each part leads its own process group: signal the group, so nothing it started survives.
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-running.pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (processRuns(running.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (processRuns(running.pid)) signal('SIGKILL');
  console.log(`${c}: stopped (pid ${running.pid})`);
}

async function stopAll(): Promise<void> {
  for (const c of [...COMPONENTS].reverse()) await stop(c);
  const settings = layout.savedSettings();
  if (!settings) return;
  const busy: string[] = [];
  for (const c of COMPONENTS) {
    if (c === 'database' && !settings.embeddedDatabase) continue;
    if (await portAnswers(portOf(settings, c))) busy.push(c);
  }
  if (busy.length) fail(`still answering after stop: ${busy.join(', ')} (not started by this stack?)`);
  console.log('every part is stopped and its port is free');
}

async function status(): Promise<void> {
  const settings = layout.savedSettings();
  if (!settings) {
    console.log('the local stack has not been started (make local-deploy)');
    return;
  }
  const rows: string[][] = [];
  for (const c of COMPONENTS) {
    if (c === 'database' && !settings.embeddedDatabase) {
      rows.push([c, '-', (await healthy(c, settings)) ? 'up (DATABASE_URL)' : 'DOWN (DATABASE_URL)', settings.databaseUrl]);
      continue;
    }
    const running = readPid(c);
    const state = !running ? 'stopped' : (await healthy(c, settings)) ? 'up' : 'NOT ANSWERING';
    rows.push([c, running ? String(running.pid) : '-', state, c === 'database' ? settings.databaseUrl : urlOf(settings, c)]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['part', 'pid', 'state'][i]!.length));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ');
  console.log([line(['part', 'pid', 'state', 'where']), ...rows.map(line)].join('\n'));
  console.log(`\nMailbox: ${mailboxUrlOf(settings)}/ (the mail the local auth sent; Mailpit's API under /api/v1).`);
  console.log(`Redis: ${settings.redisUrl ?? 'none (the gateway caches in process)'}. Outputs: ${layout.path('outputs.json')}. Logs: ${layout.path('logs')}/`);
}

function logs(only?: string): void {
  const lines = Number(process.env.LINES || 40);
  for (const c of COMPONENTS) {
    if (only && c !== only) continue;
    const file = layout.logFile(c);
    if (!existsSync(file)) continue;
    console.log(`==> ${file} <==`);
    console.log(readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'));
  }
}

async function outputs(): Promise<void> {
  const settings = layout.savedSettings() ?? fail('the local stack has not been started');
  const keys = await layout.keys();
  const doc = {
    gatewayUrl: urlOf(settings, 'gateway'),
    supabaseUrl: urlOf(settings, 'auth'),
    authUrl: `${urlOf(settings, 'auth')}/auth/v1`,
    mailboxUrl: mailboxUrlOf(settings),
    anonKey: keys.auth.anonKey,
    serviceRoleKey: keys.auth.serviceRoleKey,
    databaseUrl: settings.databaseUrl,
    services: { users_service: `${urlOf(settings, 'users')}/graphql`, workouts_service: `${urlOf(settings, 'workouts')}/graphql` },
    metadataHost: `127.0.0.1:${portOf(settings, 'metadata')}`,
    gatewayServiceAccount: GATEWAY_SERVICE_ACCOUNT,
  };
  writeFileSync(layout.path('outputs.json'), `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  console.log(`wrote ${layout.path('outputs.json')} (owner-only: it holds the local keys)`);
}

const [command, arg] = process.argv.slice(2);
const isPart = (x: string | undefined): x is Component => COMPONENTS.includes(x as Component);
switch (command) {
  case 'start':
    if (!isPart(arg)) fail(`start what? one of ${COMPONENTS.join(', ')}`, 2);
    await start(arg);
    break;
  case 'stop':
    if (arg && !isPart(arg)) fail(`stop what? one of ${COMPONENTS.join(', ')}, or nothing for all`, 2);
    if (isPart(arg)) await stop(arg);
    else await stopAll();
    break;
  case 'status':
    await status();
    break;
  case 'logs':
    logs(arg);
    break;
  case 'bootstrap': {
    const settings = layout.savedSettings() ?? fail('start the database first');
    await applySupabaseBootstrap(settings.databaseUrl);
    console.log('Supabase-compatible bootstrap applied (roles, auth and extensions schemas, auth.users, auth.uid() and friends)');
    break;
  }
  case 'url':
    if (arg !== 'database') fail('url of what? database', 2);
    console.log((layout.savedSettings() ?? layout.settings()).databaseUrl);
    break;
  case 'outputs':
    await outputs();
    break;
  default:
    fail('usage: stack.ts start <part> | stop [part] | status | logs [part] | bootstrap | url database | outputs', 2);
}
