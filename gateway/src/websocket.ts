// GraphQL over WebSocket (graphql-ws) on the GraphQL endpoint. Each operation's context carries
// the connection params under a symbol, so the identity plugin authenticates every operation
// from them; nothing reads identity from the merged `context.headers` Hive builds for sockets.

import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway';
import { WEBSOCKET_CONNECTION_PARAMS } from './identity-plugin.ts';

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

export function attachWebSocketEndpoint(server: Server, runtime: GatewayRuntime, path: string): WebSocketEndpoint {
  const wss = new WebSocketServer({ server, path, maxPayload: 1024 * 1024 });
  const graphqlWs = useServer(
    {
      ...getGraphQLWSOptions<Record<string, unknown>, Extra>(runtime, (ctx) => ({
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        request: upgradeRequestAsFetchRequest(ctx.extra.request),
        [WEBSOCKET_CONNECTION_PARAMS]: (ctx.connectionParams ?? {}) as Record<string, unknown>,
      })),
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
