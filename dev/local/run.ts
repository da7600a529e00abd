// One part of the local stack, in the foreground: `node --import tsx dev/local/run.ts <part>`.
// stack.ts starts each part this way in the background. SIGTERM closes it cleanly.

import { startAuthIssuer } from '../auth/issuer.ts';
import { startMetadataServer } from '../metadata/server.ts';
import { startUsersService } from '../mesh/users.ts';
import { startWorkoutsService } from '../mesh/workouts.ts';
import { startEmbeddedPostgres } from '../postgres/embedded.ts';
import { authSettings, GATEWAY_SERVICE_ACCOUNT, Layout, portOf, urlOf, type Component } from './layout.ts';

const part = process.argv[2] as Component | undefined;
const layout = new Layout();
const settings = layout.savedSettings();
if (!settings) {
  console.error('no stack settings yet: start the stack with `make local-up` or `make local-deploy`');
  process.exit(2);
}
const keys = await layout.keys();
const invoker = { certsUrl: `${urlOf(settings, 'metadata')}/oauth2/v3/certs`, invokers: [GATEWAY_SERVICE_ACCOUNT] };

async function start(): Promise<{ close(): Promise<void> }> {
  switch (part) {
    case 'database':
      return startEmbeddedPostgres({ dataDir: layout.path('pgdata'), port: portOf(settings!, 'database') });
    case 'auth':
      return startAuthIssuer({ databaseUrl: settings!.databaseUrl, keys: keys.auth, port: portOf(settings!, 'auth'), settings: authSettings() });
    case 'metadata':
      return startMetadataServer({ keys: keys.metadata, serviceAccountEmail: GATEWAY_SERVICE_ACCOUNT, port: portOf(settings!, 'metadata') });
    case 'users':
      return startUsersService({ databaseUrl: settings!.databaseUrl, port: portOf(settings!, 'users'), invoker });
    case 'workouts':
      return startWorkoutsService({ databaseUrl: settings!.databaseUrl, port: portOf(settings!, 'workouts'), invoker });
    default:
      console.error(`unknown part "${String(part)}": one of database, auth, metadata, users, workouts (the gateway runs gateway/src/main.ts)`);
      process.exit(2);
  }
}

const running = await start();
console.log(JSON.stringify({ severity: 'INFO', message: `${part} ready`, time: new Date().toISOString() }));
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
