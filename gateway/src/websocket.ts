// GraphQL over WebSocket (graphql-ws) on the GraphQL endpoint. Every operation is authenticated
// from the connection's params before it reaches the gateway runtime; nothing reads identity from
// the merged `context.headers` Hive builds for sockets.

import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import type { ExecutionArgs } from 'graphql';
import { getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway';
import type { Authenticator, OperationRequest } from './authenticate.ts';
import { websocketIdentity, type IdentityCarrier } from './identity-plugin.ts';

function upgradeRequestAsFetchRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Request(new URL(req.url ?? '/', 'http://gateway.invalid'), { headers });
}

export interface WebSocketEndpoint {
  close(graceMs: number): Promise<void>;
}

type OperationContext = IdentityCarrier & { params: OperationRequest; connectionParams?: Record<string, unknown>; req?: IncomingMessage };

export function attachWebSocketEndpoint(server: Server, runtime: GatewayRuntime, path: string, authenticator: Authenticator | undefined): WebSocketEndpoint {
  const wss = new WebSocketServer({ server, path, maxPayload: 1024 * 1024 });
  const base = getGraphQLWSOptions<Record<string, unknown>, Extra>(runtime, (ctx) => ({
    req: ctx.extra.request,
    socket: ctx.extra.socket,
    request: upgradeRequestAsFetchRequest(ctx.extra.request),
  }));
  // Without an authenticator (the benchmark's baseline) operations pass straight through.
  const authenticated =
    (run: (args: ExecutionArgs) => unknown) =>
    async (args: ExecutionArgs): Promise<unknown> => {
      if (!authenticator) return run(args);
      const context = args.contextValue as OperationContext;
      const outcome = await websocketIdentity(authenticator, context, context.params);
      if ('refused' in outcome) return { errors: [outcome.refused] };
      context.params = outcome.params;
      return run(args);
    };
  const graphqlWs = useServer(
    {
      ...base,
      execute: authenticated(base.execute as (args: ExecutionArgs) => unknown) as typeof base.execute,
      subscribe: authenticated(base.subscribe as (args: ExecutionArgs) => unknown) as typeof base.subscribe,
      connectionInitWaitTimeout: 5_000,
    },
    wss,
  );
  return {
    async close(graceMs) {
      const fuse = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, graceMs);
      fuse.unref();
      try {
        await graphqlWs.dispose();
      } finally {
        clearTimeout(fuse);
      }
    },
  };
}
