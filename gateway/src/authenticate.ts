// Establishes who is calling, for one HTTP request or one WebSocket operation, and nothing else:
// no transport details beyond the Authorization value and the operations asked for. Every way
// it can refuse maps to one HTTP status and one stable `extensions.code`.

import type { Logger } from '@graphql-hive/gateway';
import type { ClientIdentitySource, Identity } from './headers.ts';
import type { IdentityResolver } from './identity.ts';
import { hotCounter, type GatewayMetrics } from './metrics.ts';
import { persistedDocumentId } from './trusted-documents.ts';
import { IdentityUnavailableError } from './users-lookup.ts';
import { TokenRejectedError, type TokenVerifier, type VerifiedToken } from './verify.ts';
import { LOG_EVENTS } from './log-events.ts';
import type { RevokedSessions } from './revoked-sessions.ts';

export type ClientInternalIdMode = 'ignore' | 'reject';

export interface Refusal {
  status: 400 | 401 | 503;
  code: 'CLIENT_IDENTITY_FORBIDDEN' | 'UNAUTHENTICATED' | 'AMBIGUOUS_CREDENTIALS' | 'AUTH_UNAVAILABLE' | 'IDENTITY_UNAVAILABLE';
  message: string;
  /** Why, for logs and metrics; never sent to the client. */
  reason: string;
}

export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

export interface OperationRequest {
  operationName?: string | null;
  query?: string;
  extensions?: unknown;
  documentId?: unknown;
}

/**
 * More than one credential in one request (two Authorization header lines, two spellings of the
 * connection param): refused, never resolved by picking one, since a proxy on the way may have
 * picked the other.
 */
export const AMBIGUOUS = Symbol('ambiguous credentials');

export interface AuthenticationInput {
  transport: 'http' | 'websocket';
  /** The raw credential (the Authorization header or its WebSocket connection-param twin); undefined when absent. */
  authorization: string | undefined | typeof AMBIGUOUS;
  operations: readonly OperationRequest[];
  clientIdentity: readonly ClientIdentitySource[];
}

export interface AuthenticatorOptions {
  verifier: TokenVerifier;
  identities: IdentityResolver;
  /** sha256 hashes of the trusted documents callers without a token may run (PUBLIC_OPERATIONS). */
  publicDocuments: ReadonlySet<string>;
  clientInternalIdMode: ClientInternalIdMode;
  /** Users whose sessions an admin revoked before their tokens expire (revoked-sessions.ts). */
  revoked: RevokedSessions;
  metrics: GatewayMetrics;
  log: Logger;
}

export interface Authenticator {
  /**
   * Synchronous when the token and the user are already cached (the common case, and it keeps
   * the per-request cost of the hook down); a promise otherwise. Refusals are thrown either way
   * as RequestRefusedError.
   */
  authenticate(input: AuthenticationInput): Identity | Promise<Identity>;
}

const MESSAGES = {
  clientIdentity: 'x-internal-id and x-supabase-id are set by the gateway only: remove them from the request (headers, extensions, connection params).',
  missing: 'Authentication required: send your Supabase access token as "Authorization: Bearer <token>".',
  malformedHeader: 'The Authorization header must be exactly "Bearer <token>".',
  ambiguous: 'Send exactly one Authorization header (or connection param): this request has more than one.',
  invalid: 'The access token is invalid or expired: sign in again to get a new one.',
  revoked: 'This session was signed out by an administrator: sign in again.',
  authUnavailable: 'Sign-in cannot be checked right now: try again shortly.',
  identityUnavailable: 'Your account cannot be looked up right now: try again shortly.',
} as const;

const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous' });

/** undefined: no credential at all; null: something that is not "Bearer <token>" (an empty one included). */
export function bearerToken(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  const match = /^Bearer ([^\s,]+)$/i.exec(value);
  return match ? match[1]! : null;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { metrics, log } = options;
  const authenticated = hotCounter(metrics.authOutcomes, { outcome: 'authenticated', reason: '' });

  function refuse(refusal: Refusal, transport: string): never {
    metrics.authOutcomes.inc({ outcome: refusal.status === 503 ? 'unavailable' : 'rejected', reason: refusal.reason });
    const level = refusal.status === 503 ? 'error' : 'warn';
    log[level]({ event: LOG_EVENTS.authRefused, reason: refusal.reason, code: refusal.code, status: refusal.status, transport }, 'request refused: identity not established');
    throw new RequestRefusedError(refusal);
  }

  // Public means a trusted document named by its hash, with no text of the caller's own: the
  // runtime then runs exactly the stored text.
  function allPublic(operations: readonly OperationRequest[]): boolean {
    if (options.publicDocuments.size === 0 || operations.length === 0) return false;
    return operations.every((op) => {
      if (typeof op.query === 'string' && op.query !== '') return false;
      const id = persistedDocumentId(op);
      return id !== undefined && options.publicDocuments.has(id);
    });
  }

  function userIdentity(supabaseId: string, internalId: string | null): Identity {
    if (internalId === null) metrics.authOutcomes.inc({ outcome: 'authenticated_unregistered', reason: '' });
    else authenticated.inc();
    return { kind: 'user', supabaseId, internalId };
  }

  async function verifyAndResolve(token: string, transport: string, alreadyVerified: VerifiedToken | undefined): Promise<Identity> {
    let supabaseId: string;
    let issuedAt: number | undefined;
    try {
      ({ sub: supabaseId, iat: issuedAt } = alreadyVerified ?? (await options.verifier.verify(token)));
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      if (error.reason === 'keys_unavailable') {
        refuse({ status: 503, code: 'AUTH_UNAVAILABLE', message: MESSAGES.authUnavailable, reason: error.reason }, transport);
      }
      refuse({ status: 401, code: 'UNAUTHENTICATED', message: MESSAGES.invalid, reason: error.reason }, transport);
    }
    if (options.revoked.isRevoked(supabaseId, issuedAt)) refuse({ status: 401, code: 'UNAUTHENTICATED', message: MESSAGES.revoked, reason: 'session_revoked' }, transport);

    let internalId: string | null;
    try {
      internalId = await options.identities.resolve(supabaseId);
    } catch (error) {
      if (!(error instanceof IdentityUnavailableError)) throw error;
      log.error({ event: LOG_EVENTS.identityLookupFailed, reason: error.message }, 'users_service lookup failed');
      refuse({ status: 503, code: 'IDENTITY_UNAVAILABLE', message: MESSAGES.identityUnavailable, reason: 'users_service_unavailable' }, transport);
    }
    return userIdentity(supabaseId, internalId);
  }

  return {
    authenticate(input) {
      if (input.clientIdentity.length > 0) {
        const mode = options.clientInternalIdMode;
        // One line per source, so a log-based metric can count by where they came from.
        for (const source of input.clientIdentity) {
          metrics.clientIdentityHeaders.inc({ source, mode });
          log.info({ event: LOG_EVENTS.clientIdentityHeader, source, mode, transport: input.transport }, mode === 'reject' ? 'refused identity headers sent by the client' : 'dropped identity headers sent by the client');
        }
        if (mode === 'reject') {
          refuse({ status: 400, code: 'CLIENT_IDENTITY_FORBIDDEN', message: MESSAGES.clientIdentity, reason: 'client_identity_header' }, input.transport);
        }
      }

      if (input.authorization === AMBIGUOUS) {
        refuse({ status: 401, code: 'AMBIGUOUS_CREDENTIALS', message: MESSAGES.ambiguous, reason: 'ambiguous_credentials' }, input.transport);
      }
      const token = bearerToken(input.authorization);
      if (token === undefined) {
        if (allPublic(input.operations)) {
          metrics.authOutcomes.inc({ outcome: 'anonymous_public_operation', reason: '' });
          return ANONYMOUS;
        }
        refuse({ status: 401, code: 'UNAUTHENTICATED', message: MESSAGES.missing, reason: 'missing_token' }, input.transport);
      }
      if (token === null) refuse({ status: 401, code: 'UNAUTHENTICATED', message: MESSAGES.malformedHeader, reason: 'malformed_authorization' }, input.transport);

      const verified = options.verifier.cached(token);
      if (verified !== undefined && !options.revoked.isRevoked(verified.sub, verified.iat)) {
        const internalId = options.identities.remembered(verified.sub);
        if (internalId !== undefined) return userIdentity(verified.sub, internalId);
      }
      return verifyAndResolve(token, input.transport, verified);
    },
  };
}
