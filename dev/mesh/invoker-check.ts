// What Cloud Run does in front of a service with IAM on: a request without a Google-signed ID
// token for this service's URL, from an account allowed to invoke it, never reaches the code.

import { createRemoteJWKSet, jwtVerify } from 'jose';
import { GOOGLE_ISSUER } from '../metadata/server.ts';

export interface InvokerCheckOptions {
  /** Public keys of the token issuer (the metadata stand-in's /oauth2/v3/certs). */
  certsUrl: string;
  /** This service's own origin: the audience a caller must ask for. */
  audience: string;
  /** Service accounts with run.invoker on this service (the gateway's only). */
  invokers: readonly string[];
}

export type InvokerCheck = (authorization: string | null) => Promise<{ ok: true } | { ok: false; status: 401 | 403; reason: string }>;

export function createInvokerCheck(options: InvokerCheckOptions): InvokerCheck {
  const keys = createRemoteJWKSet(new URL(options.certsUrl));
  return async (authorization) => {
    const token = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '')?.[1];
    if (!token) return { ok: false, status: 401, reason: 'no identity token' };
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: GOOGLE_ISSUER, audience: options.audience, algorithms: ['RS256'], requiredClaims: ['exp', 'email'] });
      if (!options.invokers.includes(String(payload.email))) return { ok: false, status: 403, reason: `${String(payload.email)} may not invoke this service` };
      return { ok: true };
    } catch (error) {
      return { ok: false, status: 401, reason: `identity token rejected: ${(error as Error).message}` };
    }
  };
}

/** The body Cloud Run sends back when the check fails. */
export const FORBIDDEN_PAGE = '<html><head><title>403 Forbidden</title></head><body><h1>Error: Forbidden</h1><h2>Your client does not have permission to get URL from this server.</h2></body></html>';
