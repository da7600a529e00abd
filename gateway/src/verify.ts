// Verifies a Supabase access token and says, in one stable word, why a token was refused.
//
// Two key sources, each with its own algorithm allow-list, chosen by the token's `alg`:
// the project's asymmetric keys (ES256, RS256) from the JWKS endpoint, and, only when a secret
// file is configured, the legacy HS256 secret. An HS256 token never meets a public key and an
// asymmetric one never meets the secret, which closes the algorithm-confusion attacks.
// A verified token is remembered, under a hash of it, until it expires, so a client's stream of
// requests costs one signature check.

import { hash } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { KeysUnavailableError, type RemoteJwks } from './jwks.ts';
import { ExpiringLru } from './lru.ts';
import { hotCounter, type GatewayMetrics } from './metrics.ts';

export type TokenRejection =
  | 'token_too_large'
  | 'malformed'
  | 'alg_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_role'
  | 'missing_claim'
  | 'invalid_claim'
  | 'keys_unavailable';

export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
  constructor(readonly reason: TokenRejection) {
    super(`token rejected: ${reason}`);
  }
}

export interface VerifiedToken {
  /** Supabase user id. */
  sub: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issued at, seconds since the epoch, when the token says (a revocation applies to tokens issued before it). */
  iat?: number;
}

export interface TokenVerifierOptions {
  supabaseUrl: string;
  jwks: RemoteJwks;
  /** The legacy HS256 secret; HS256 tokens are refused when absent. */
  legacySecret?: Uint8Array;
  clockToleranceSeconds: number;
  maxTokenBytes: number;
  cacheMaxEntries: number;
  metrics: GatewayMetrics;
  now?: () => number;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
  /** The token's verified claims if it was verified before and has not expired, without any I/O. */
  cached(token: string): VerifiedToken | undefined;
  /** The same question, not counted as a cache hit: asked before the runtime verifies the token. */
  verifiedBefore(token: string): boolean;
}

const ASYMMETRIC_ALGORITHMS = ['ES256', 'RS256'];
const LEGACY_ALGORITHMS = ['HS256'];
// Three base64url segments; the signature may be empty so that `alg: none` tokens are reported
// as a refused algorithm rather than as noise.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// `sub` travels on to the subgraphs as the x-supabase-id header: only header-safe ids pass.
const SAFE_SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._:@|-]{0,127}$/;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const issuer = `${options.supabaseUrl.replace(/\/+$/, '')}/auth/v1`;
  const cache = new ExpiringLru<VerifiedToken>(options.cacheMaxEntries, now);
  const inflight = new Map<string, Promise<VerifiedToken>>();
  const { metrics } = options;
  // Bound once: the hot path increments without hashing label sets.
  const cacheHit = hotCounter(metrics.tokenCache, { result: 'hit' });
  const cacheMiss = hotCounter(metrics.tokenCache, { result: 'miss' });

  async function verifyUncached(token: string): Promise<VerifiedToken> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenRejectedError('malformed');
    }
    let payload: JWTPayload;
    try {
      const common = {
        issuer,
        audience: 'authenticated',
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSeconds,
        currentDate: new Date(now()),
      };
      if (typeof alg === 'string' && ASYMMETRIC_ALGORITHMS.includes(alg)) {
        ({ payload } = await jwtVerify(token, options.jwks.getKey, { ...common, algorithms: ASYMMETRIC_ALGORITHMS }));
      } else if (alg === 'HS256' && options.legacySecret) {
        ({ payload } = await jwtVerify(token, options.legacySecret, { ...common, algorithms: LEGACY_ALGORITHMS }));
      } else {
        throw new TokenRejectedError('alg_not_allowed');
      }
    } catch (error) {
      throw new TokenRejectedError(rejectionOf(error));
    }
    if (payload.role !== 'authenticated') throw new TokenRejectedError('wrong_role');
    if (typeof payload.sub !== 'string' || !SAFE_SUBJECT.test(payload.sub)) throw new TokenRejectedError('invalid_claim');
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw new TokenRejectedError('invalid_claim');
    return { sub: payload.sub, exp: payload.exp, ...(typeof payload.iat === 'number' && Number.isFinite(payload.iat) ? { iat: payload.iat } : {}) };
  }

  // The HTTP server asks whether a request's token was verified before (to read its body first),
  // then identity verifies the same token: the last key is kept so it is hashed once.
  let lastToken = '';
  let lastKey = '';
  function keyOf(token: string): string {
    if (token !== lastToken) {
      lastKey = hash('sha256', token, 'base64url');
      lastToken = token;
    }
    return lastKey;
  }

  function fromCache(key: string): VerifiedToken | undefined {
    // The entry expires with the token (see verify), so what the cache returns is unexpired.
    const cached = cache.get(key);
    if (cached === undefined) return undefined;
    cacheHit.inc();
    return cached;
  }

  return {
    cached(token) {
      // Only byte-identical tokens that passed every check before can match the hash.
      if (token.length > options.maxTokenBytes) return undefined;
      return fromCache(keyOf(token));
    },

    verifiedBefore(token) {
      return token.length <= options.maxTokenBytes && cache.get(keyOf(token)) !== undefined;
    },

    async verify(token: string): Promise<VerifiedToken> {
      if (token.length > options.maxTokenBytes) throw new TokenRejectedError('token_too_large');
      if (!COMPACT_JWS.test(token)) throw new TokenRejectedError('malformed');
      const key = keyOf(token);
      const cached = fromCache(key);
      if (cached !== undefined) return cached;
      cacheMiss.inc();
      let pending = inflight.get(key);
      if (pending === undefined) {
        pending = verifyUncached(token).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      const verified = await pending;
      // Cached no longer than the token's own expiry; after that jose decides again, tolerance included.
      cache.set(key, verified, verified.exp * 1000 - now());
      return verified;
    },
  };
}

function rejectionOf(error: unknown): TokenRejection {
  if (error instanceof TokenRejectedError) return error.reason;
  if (error instanceof KeysUnavailableError) return 'keys_unavailable';
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'missing_claim';
    switch (error.claim) {
      case 'nbf':
        return 'not_yet_valid';
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
      default:
        return 'invalid_claim';
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) return 'alg_not_allowed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'unknown_key';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'bad_signature';
  return 'malformed';
}
