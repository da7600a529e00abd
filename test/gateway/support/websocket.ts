// One GraphQL operation over graphql-ws, the way a browser client would send it.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface WsResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export async function graphqlOverWebSocket(
  httpUrl: string,
  connectionParams: Record<string, unknown>,
  payload: { query: string; extensions?: Record<string, unknown> },
  upgradeHeaders: Record<string, string> = {},
): Promise<WsResult> {
  // The ws package lets a client (unlike a browser) put headers on the upgrade request.
  class WebSocketWithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: upgradeHeaders });
    }
  }
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocketWithHeaders,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  try {
    const results: WsResult[] = [];
    for await (const result of client.iterate(payload)) results.push(result as WsResult);
    if (results.length !== 1) throw new Error(`expected one result, got ${results.length}`);
    return results[0]!;
  } catch (error) {
    // graphql-ws delivers operation errors as an array of GraphQL errors.
    if (Array.isArray(error)) return { errors: error as WsResult['errors'] };
    throw error;
  } finally {
    await client.dispose();
  }
}
