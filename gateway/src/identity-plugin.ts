// The Hive Gateway plugin that makes the gateway the one place identity is established:
// - HTTP (single, batched, GET, SSE): authenticate once per request after parsing, before any
//   operation runs, so a refusal is a real HTTP 400/401/503.
// - WebSocket: websocket.ts authenticates every operation the same way, with websocketIdentity().
// - Every subgraph call: identity headers rebuilt from this request's own context; a call whose
//   context carries no identity fails instead of going out anonymous.
//
// The identity goes into the subgraph request's `extensions.headers`: Hive's HTTP executor makes
// them the fetch's headers and includes them in the key it uses to merge identical in-flight
// subgraph requests, so two users' identical queries are never merged into one upstream request
// (a header added later, in a fetch hook, would be applied after the merge). runtime.ts also
// switches that merging off; each layer alone keeps users apart.

import type { IncomingMessage } from 'node:http';
import { OperationTypeNode } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import type { ExecutionRequest } from '@graphql-tools/utils';
import { AMBIGUOUS, RequestRefusedError, type Authenticator, type OperationRequest, type Refusal } from './authenticate.ts';
import { clientExtensionsWithoutHeaders, clientIdentitySources, setIdentityHeaders, type Identity } from './headers.ts';
import { audienceFor, type IdTokenSource } from './id-tokens.ts';
import type { IdentityResolver } from './identity.ts';

/** Where a request's identity lives on its context: a symbol, so no client input can name it. */
export const IDENTITY = Symbol('mindmirror.identity');

export type IdentityCarrier = { [IDENTITY]?: Identity };

/** Requests whose caller proved a user identity: trusted documents let only these send their own text. */
export type SignedInRequests = WeakSet<Request>;

export interface IdentityPluginOptions {
  authenticator: Authenticator;
  identities: IdentityResolver;
  idTokens?: IdTokenSource;
  /** Only when trusted documents are in use: marking every request would cost for nothing otherwise. */
  signedIn?: SignedInRequests;
}

export function refusalError(refusal: Refusal) {
  return createGraphQLError(refusal.message, {
    extensions: {
      code: refusal.code,
      http: { status: refusal.status, ...(refusal.status === 401 ? { headers: { 'www-authenticate': 'Bearer' } } : {}) },
    },
  });
}

export function withoutClientHeaders<T extends OperationRequest>(params: T): T {
  if (params.extensions === undefined) return params;
  return { ...params, extensions: clientExtensionsWithoutHeaders(params.extensions) };
}

/**
 * A WebSocket client's credential: an `Authorization` connection param, in any letter case.
 * Several spellings at once are ambiguous and a value that is not a string is malformed (both
 * refused), never "no credential" (which a public operation would accept).
 */
export function connectionParamsAuthorization(params: Record<string, unknown>): string | undefined | typeof AMBIGUOUS {
  const values = Object.entries(params)
    .filter(([key]) => key.toLowerCase() === 'authorization')
    .map(([, value]) => value);
  if (values.length === 0) return undefined;
  if (values.length > 1) return AMBIGUOUS;
  return typeof values[0] === 'string' ? values[0] : 'not a string';
}

/**
 * The Authorization header as it came on the wire. Node keeps only the first of repeated
 * Authorization lines in `headers`, so the raw lines are counted: two lines are ambiguous.
 */
export function authorizationHeader(req: Pick<IncomingMessage, 'rawHeaders'> | undefined, request?: Request): string | undefined | typeof AMBIGUOUS {
  if (req === undefined) return request?.headers.get('authorization') ?? undefined;
  let value: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
    if (value !== undefined) return AMBIGUOUS;
    value = raw[i + 1]!;
  }
  return value;
}

function identityOf(executionRequest: ExecutionRequest | undefined): Identity {
  const identity = (executionRequest?.context as IdentityCarrier | undefined)?.[IDENTITY];
  // Fail closed: a subgraph call without an established identity is a bug, not an anonymous call.
  if (identity === undefined) throw createGraphQLError('Identity was not established for this request.', { extensions: { code: 'UNAUTHENTICATED' } });
  return identity;
}

/**
 * Authenticates one WebSocket operation from its connection params and marks its context, or
 * returns the refusal to send back as the operation's result.
 */
export async function websocketIdentity(
  authenticator: Authenticator,
  signedIn: SignedInRequests | undefined,
  context: IdentityCarrier & { connectionParams?: Record<string, unknown>; req?: IncomingMessage; request?: Request },
  params: OperationRequest,
): Promise<{ params: OperationRequest } | { refused: ReturnType<typeof refusalError> }> {
  const connectionParams = context.connectionParams ?? {};
  try {
    const identity = await authenticator.authenticate({
      transport: 'websocket',
      authorization: connectionParamsAuthorization(connectionParams),
      operations: [params],
      // The upgrade request's own headers count too: a client may try to set identity there.
      clientIdentity: clientIdentitySources({ headers: context.req?.headers, operations: [params], connectionParams }),
    });
    context[IDENTITY] = identity;
    if (identity.kind === 'user' && context.request) signedIn?.add(context.request);
  } catch (error) {
    if (error instanceof RequestRefusedError) return { refused: refusalError(error.refusal) };
    throw error;
  }
  return { params: withoutClientHeaders(params) };
}

export function useGatewayIdentity(options: IdentityPluginOptions): GatewayPlugin {
  const { authenticator, signedIn } = options;
  return {
    onRequestParse({ request, serverContext }) {
      return {
        onRequestParseDone({ requestParserResult, setRequestParserResult }) {
          const operations = (Array.isArray(requestParserResult) ? requestParserResult : [requestParserResult]) as OperationRequest[];
          const established = (identity: Identity) => {
            (serverContext as IdentityCarrier)[IDENTITY] = identity;
            if (identity.kind === 'user') signedIn?.add(request);
            setRequestParserResult(
              (Array.isArray(requestParserResult) ? requestParserResult.map(withoutClientHeaders) : withoutClientHeaders(requestParserResult)) as typeof requestParserResult,
            );
          };
          // Thrown from this hook, a refusal becomes the HTTP response itself, status included.
          const refused = (error: unknown): never => {
            throw error instanceof RequestRefusedError ? refusalError(error.refusal) : error;
          };
          const req = (serverContext as { req?: IncomingMessage }).req;
          let outcome: Identity | Promise<Identity>;
          try {
            outcome = authenticator.authenticate({
              transport: 'http',
              authorization: authorizationHeader(req, request),
              operations,
              // Node's header object when the request came through node:http: the fetch Headers
              // would have to build a map of every header just to list the names.
              clientIdentity: clientIdentitySources({ headers: req?.headers ?? request.headers, operations }),
            });
          } catch (error) {
            return refused(error);
          }
          // Cached tokens and users are answered synchronously: no promise, no extra tick.
          if (outcome instanceof Promise) return outcome.then(established, refused);
          established(outcome);
          return undefined;
        },
      };
    },

    // Every subgraph request's headers come from this request's own identity, in the request's
    // `extensions.headers`, which Hive's HTTP executor turns into the fetch's headers (and keys
    // its merging of identical requests on). The Google ID token goes the same way, so no hook
    // runs on the fetch itself: a fetch hook costs Hive's fetch path its fast lane.
    onSubgraphExecute({ executionRequest, setExecutionRequest, transportEntry }) {
      const identity = identityOf(executionRequest);
      const headers = { ...((executionRequest.extensions?.['headers'] as Record<string, string> | undefined) ?? {}) };
      setIdentityHeaders(headers, identity);
      const send = (idToken?: string) => {
        if (idToken !== undefined) {
          for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
          headers['authorization'] = `Bearer ${idToken}`;
        }
        setExecutionRequest({ ...executionRequest, extensions: { ...executionRequest.extensions, headers } });
        if (identity.kind === 'user' && identity.internalId === null && executionRequest.operationType === OperationTypeNode.MUTATION) {
          // The mutation may be the user's registration: stop answering "not registered" once it is done.
          return () => options.identities.forgetUnregistered(identity.supabaseId);
        }
        return undefined;
      };
      if (!options.idTokens) return send();
      const location = transportEntry?.location;
      // Fail closed: without the subgraph's URL there is no audience, and nothing goes out unauthorised.
      if (!location) throw createGraphQLError('The subgraph has no URL to authorise the call for.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      const audience = audienceFor(location);
      const cached = options.idTokens.cached(audience);
      return cached !== undefined ? send(cached) : options.idTokens.get(audience).then(send);
    },
  };
}
