// GraphQL over WebSocket (graphql-ws) on the GraphQL endpoint. Every operation is authenticated
// from the connection's params before it reaches the gateway runtime; nothing reads identity from
// the merged `context.headers` Hive builds for sockets, and each is then charged to its caller's
// rate limits. The upgrade request itself is refused when it carries two Authorization lines, as
// an HTTP request would be. Operations then run through the runtime's own request pipeline, so the
// limits, trusted documents and internal fields apply to them as to HTTP.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { AMBIGUOUS, RequestRefusedError, type Authenticator, type OperationRequest, type Refusal } from './authenticate.ts';
import { authorizationHeader, websocketIdentity, type IdentityCarrier, type SignedInRequests } from './identity-plugin.ts';

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

type OperationContext = IdentityCarrier & { params: OperationRequest; connectionParams?: Record<string, unknown>; req?: IncomingMessage; request?: Request };

export interface WebSocketEndpointOptions {
  path: string;
  /** Without one (the benchmark's baseline) operations pass straight through. */
  authenticator: Authenticator | undefined;
  signedIn: SignedInRequests | undefined;
  /** The largest message accepted, the same cap as an HTTP body. */
  maxPayloadBytes: number;
  /** Charges each operation to its caller: the refusal that answers it, if any (rate-limits.ts). */
  rateLimit: ((context: OperationContext) => GraphQLError | undefined | Promise<GraphQLError | undefined>) | undefined;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(text)}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

export function attachWebSocketEndpoint(server: Server, runtime: GatewayRuntime, options: WebSocketEndpointOptions): WebSocketEndpoint {
  const { path, authenticator, signedIn, rateLimit } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== path) {
      rejectUpgrade(socket, 404, 'Not Found', { error: `WebSocket connections are served at ${path} only` });
      return;
    }
    if (authenticator && authorizationHeader(req) === AMBIGUOUS) {
      // The authenticator refuses it (and counts and logs it) like any ambiguous credential.
      try {
        void authenticator.authenticate({ transport: 'websocket', authorization: AMBIGUOUS, operations: [], clientIdentity: [] });
      } catch (error) {
        if (!(error instanceof RequestRefusedError)) throw error;
        const refusal: Refusal = error.refusal;
        rejectUpgrade(socket, refusal.status, 'Unauthorized', { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }, { 'WWW-Authenticate': 'Bearer' });
        return;
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const base = getGraphQLWSOptions<Record<string, unknown>, Extra>(runtime, (ctx) => ({
    req: ctx.extra.request,
    socket: ctx.extra.socket,
    request: upgradeRequestAsFetchRequest(ctx.extra.request),
  }));
  const authenticated =
    (run: (args: ExecutionArgs) => unknown) =>
    async (args: ExecutionArgs): Promise<unknown> => {
      if (!authenticator && !rateLimit) return run(args);
      const context = args.contextValue as OperationContext;
      if (authenticator) {
        const outcome = await websocketIdentity(authenticator, signedIn, context, context.params);
        if ('refused' in outcome) return { errors: [outcome.refused] };
        context.params = outcome.params;
      }
      const overLimit = await rateLimit?.(context);
      if (overLimit) return { errors: [overLimit] };
      try {
        return await run(args);
      } catch (error) {
        // A refusal thrown before execution (a trusted document required, say) is the
        // operation's answer; thrown on to graphql-ws it would close the whole connection.
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
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
