// A local project's keys, made once per stack: the ES256 key access tokens are signed with (its
// public half is the JWKS), and the HS256 secret the project's anon and service_role keys are
// signed with, as Supabase's legacy API keys are.

import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface AuthKeys {
  /** The ES256 signing key (private JWK, with kid). */
  signingKey: JWK;
  /** HS256 secret the project keys below are signed with. */
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

/** New keys for a new local project. */
export async function createAuthKeys(): Promise<AuthKeys> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
  const jwtSecret = randomBytes(32).toString('base64url');
  const secret = new TextEncoder().encode(jwtSecret);
  const projectKey = (role: string) =>
    new SignJWT({ role, ref: 'local' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer('supabase').setIssuedAt().setExpirationTime('10y').sign(secret);
  return { signingKey, jwtSecret, anonKey: await projectKey('anon'), serviceRoleKey: await projectKey('service_role') };
}

/** The JWKS entry for the signing key: its public half only, as GoTrue lists it. */
export function publicJwkOf(signingKey: JWK): JWK {
  const { kty, crv, x, y, kid } = signingKey;
  return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig', key_ops: ['verify'] };
}
