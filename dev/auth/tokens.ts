// Access tokens: ES256 JWTs with Supabase's claims (iss <url>/auth/v1, sub, aud "authenticated" as
// a string, role, aal, amr, session_id, email, phone, app_metadata, user_metadata, is_anonymous),
// and the check of a bearer token as GoTrue makes it: an ES256 token under our kid or an HS256
// one under the project's secret (the anon and service_role keys), with exp enforced.

import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, importJWK, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { forbidden } from './errors.ts';
import type { AuthKeys } from './keys.ts';

export interface Amr {
  method: string;
  timestamp: number;
}

/** What an access token says about its user, taken from the users table at issue time. */
export interface TokenSubject {
  id: string;
  email: string | null;
  phone: string | null;
  role: string | null;
  aud: string | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  is_anonymous: boolean;
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
  expiresAt: number;
}

export type VerifiedClaims = JWTPayload & { role?: string; session_id?: string; email?: string };

export class AccessTokens {
  private constructor(
    private readonly keys: AuthKeys,
    private readonly signingKey: CryptoKey | Uint8Array,
    private readonly verifyingKey: CryptoKey | Uint8Array,
    private readonly projectSecret: KeyObject,
    /** iss of every token: <project URL>/auth/v1. */
    readonly issuer: string,
    private readonly expirySeconds: number,
  ) {}

  static async create(keys: AuthKeys, issuer: string, expirySeconds: number): Promise<AccessTokens> {
    const { d: _private, ...publicJwk } = keys.signingKey;
    return new AccessTokens(
      keys,
      await importJWK(keys.signingKey, 'ES256'),
      await importJWK(publicJwk, 'ES256'),
      createSecretKey(Buffer.from(keys.jwtSecret)),
      issuer,
      expirySeconds,
    );
  }

  async sign(user: TokenSubject, sessionId: string, amr: Amr[]): Promise<IssuedAccessToken> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      email: user.email ?? '',
      phone: user.phone ?? '',
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role || 'authenticated',
      aal: 'aal1',
      amr,
      session_id: sessionId,
      is_anonymous: user.is_anonymous,
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.keys.signingKey.kid!, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(user.aud || 'authenticated')
      .setSubject(user.id)
      .setIssuedAt(now)
      .setExpirationTime(now + this.expirySeconds)
      .sign(this.signingKey);
    return { token, expiresIn: this.expirySeconds, expiresAt: now + this.expirySeconds };
  }

  /** A bearer's claims, or GoTrue's 403 bad_jwt saying why not. */
  async verify(token: string): Promise<VerifiedClaims> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          if (header.alg === 'HS256') return this.projectSecret;
          if (header.alg === 'ES256' && header.kid === this.keys.signingKey.kid) return this.verifyingKey;
          throw new Error(`token is unverifiable: unrecognized JWT kid ${String(header.kid)} for algorithm ${String(header.alg)}`);
        },
        { algorithms: ['ES256', 'HS256'] },
      );
      return payload as VerifiedClaims;
    } catch (error) {
      throw forbidden('bad_jwt', `invalid JWT: unable to parse or verify signature, ${why(error)}`);
    }
  }
}

function why(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token has invalid claims: token is expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid: signature is invalid';
  if (error instanceof joseErrors.JOSEError) return `token is malformed: ${error.message}`;
  return error instanceof Error ? error.message : 'token is malformed';
}
