// The Hive Gateway plugin that makes the gateway the one place identity is established:
// - HTTP (single, batched, GET, SSE): authenticate once per request after parsing, before any
//   operation runs, so a refusal is a real HTTP 400/401/503.
// - WebSocket: authenticate every operation from its connection params.
// - Every subgraph call: identity headers rebuilt from this request's own context.
//
// The identity goes into the subgraph request's `extensions.headers`, not only into the fetch:
// Hive's HTTP executor includes those headers in the key it uses to merge identical in-flight
// subgraph requests, so two users' identical queries are never merged into one upstream request
// (a header added later, in onFetch, would be applied after the merge). server.ts also switches
// that merging off; each layer alone keeps users apart. onFetch rewrites the final headers once
// more.

import { Kind, OperationTypeNode, type DocumentNode } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import type { ExecutionRequest } from '@graphql-tools/utils';
import { RequestRefusedError, type Authenticator, type OperationRequest, type Refusal } from './authenticate.ts';
import { clientExtensionsWithoutHeaders, clientIdentitySources, setIdentityHeaders, type Identity } from './headers.ts';
import { audienceFor, type IdTokenSource } from './id-tokens.ts';
import type { IdentityResolver } from './identity.ts';

/** Where a request's identity lives on its context: a symbol, so no client input can name it. */
export const IDENTITY = Symbol('mindmirror.identity');
/** Set by the WebSocket server on each operation's context. */
export const WEBSOCKET_CONNECTION_PARAMS = Symbol('mindmirror.websocket.connectionParams');

type IdentityCarrier = { [IDENTITY]?: Identity; [WEBSOCKET_CONNECTION_PARAMS]?: Record<string, unknown> };

export interface IdentityPluginOptions {
  authenticator: Authenticator;
  identities: IdentityResolver;
  idTokens?: IdTokenSource;
}

export function refusalError(refusal: Refusal) {
  return createGraphQLError(refusal.message, {
    extensions: {
      code: refusal.code,
      http: { status: refusal.status, ...(refusal.status === 401 ? { headers: { 'www-authenticate': 'Bearer' } } : {}) },
    },
  });
}

function withoutClientHeaders<T extends OperationRequest>(params: T): T {
  if (params.extensions === undefined) return params;
  return { ...params, extensions: clientExtensionsWithoutHeaders(params.extensions) };
}

/** A WebSocket client's credential: an `Authorization` connection param, in any letter case. */
export function connectionParamsAuthorization(params: Record<string, unknown>): string | null | undefined {
  const values = Object.entries(params)
    .filter(([key]) => key.toLowerCase() === 'authorization')
    .map(([, value]) => value);
  if (values.length === 0) return undefined;
  if (values.length > 1 || typeof values[0] !== 'string') return '';
  return values[0];
}

function identityOf(executionRequest: ExecutionRequest | undefined): Identity {
  const identity = (executionRequest?.context as IdentityCarrier | undefined)?.[IDENTITY];
  // Fail closed: a subgraph call without an established identity is a bug, not an anonymous call.
  if (identity === undefined) throw createGraphQLError('Identity was not established for this request.', { extensions: { code: 'UNAUTHENTICATED' } });
  return identity;
}

export function useGatewayIdentity(options: IdentityPluginOptions): GatewayPlugin {
  const { authenticator } = options;
  return {
    onRequestParse({ request, serverContext }) {
      return {
        async onRequestParseDone({ requestParserResult, setRequestParserResult }) {
          const operations = (Array.isArray(requestParserResult) ? requestParserResult : [requestParserResult]) as OperationRequest[];
          try {
            (serverContext as IdentityCarrier)[IDENTITY] = await authenticator.authenticate({
              transport: 'http',
              authorization: request.headers.get('authorization'),
              operations,
              clientIdentity: clientIdentitySources({ headers: request.headers, operations }),
            });
          } catch (error) {
            if (error instanceof RequestRefusedError) throw refusalError(error.refusal);
            throw error;
          }
          setRequestParserResult(
            (Array.isArray(requestParserResult) ? requestParserResult.map(withoutClientHeaders) : withoutClientHeaders(requestParserResult)) as typeof requestParserResult,
          );
        },
      };
    },

    async onParams({ params, context, setParams, setResult }) {
      const carrier = context as IdentityCarrier;
      // Batched operations inherit the HTTP request's identity through their context's prototype.
      if (carrier[IDENTITY] !== undefined) return;
      const connectionParams = carrier[WEBSOCKET_CONNECTION_PARAMS];
      if (connectionParams === undefined) {
        setResult({ errors: [createGraphQLError('Identity was not established for this request.', { extensions: { code: 'UNAUTHENTICATED' } })] });
        return;
      }
      try {
        carrier[IDENTITY] = await authenticator.authenticate({
          transport: 'websocket',
          authorization: connectionParamsAuthorization(connectionParams),
          operations: [params],
          clientIdentity: clientIdentitySources({ operations: [params], connectionParams }),
        });
      } catch (error) {
        if (!(error instanceof RequestRefusedError)) throw error;
        setResult({ errors: [refusalError(error.refusal)] });
        return;
      }
      setParams(withoutClientHeaders(params));
    },

    onExecute({ args }) {
      const identity = (args.contextValue as IdentityCarrier)[IDENTITY];
      if (identity?.kind !== 'user' || identity.internalId !== null) return;
      const isMutation = (args.document as DocumentNode).definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.MUTATION);
      if (!isMutation) return;
      // The mutation may be the user's registration: do not keep answering "not registered".
      return {
        onExecuteDone() {
          options.identities.forgetUnregistered(identity.supabaseId);
        },
      };
    },

    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const identity = identityOf(executionRequest);
      const headers = { ...((executionRequest.extensions?.['headers'] as Record<string, string> | undefined) ?? {}) };
      setIdentityHeaders(headers, identity);
      setExecutionRequest({ ...executionRequest, extensions: { ...executionRequest.extensions, headers } });
    },

    onFetch({ executionRequest, url, options: init, setOptions }) {
      // Fetches without an execution request are the gateway's own (the supergraph from the CDN).
      if (executionRequest === undefined) return;
      const headers = { ...((init.headers as Record<string, string> | undefined) ?? {}) };
      setIdentityHeaders(headers, identityOf(executionRequest));
      if (!options.idTokens) {
        setOptions({ ...init, headers });
        return;
      }
      return options.idTokens.get(audienceFor(url)).then((token) => {
        for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
        headers['authorization'] = `Bearer ${token}`;
        setOptions({ ...init, headers });
      });
    },
  };
}
