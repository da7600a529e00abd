// A stand-in for the Compute metadata server's identity endpoint: Google-style ID tokens (RS256,
// iss accounts.google.com, aud = the URL asked for) for one service account. The gateway
// reaches it through GCE_METADATA_HOST, the variable Google's auth libraries honour; the local
// mesh services verify its tokens the way Cloud Run's IAM check does, so the local stack
// refuses a direct call exactly as production does.

import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { listen, sendJson, type Listening } from '../http.ts';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface MetadataKeys {
  signingKey: JWK;
}

export async function createMetadataKeys(): Promise<MetadataKeys> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { signingKey: { ...(await exportJWK(privateKey)), kid: `local-${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' } };
}

export interface MetadataServerOptions {
  keys: MetadataKeys;
  /** The service account the tokens speak for (the gateway's). */
  serviceAccountEmail: string;
  port?: number;
}

export interface RunningMetadataServer extends Listening {
  /** Where verifiers fetch the public keys (Google's is https://www.googleapis.com/oauth2/v3/certs). */
  certsUrl: string;
  /** host:port, the value of GCE_METADATA_HOST. */
  host: string;
}

export async function startMetadataServer(options: MetadataServerOptions): Promise<RunningMetadataServer> {
  const key = await importJWK(options.keys.signingKey, 'RS256');
  const { d, p, q, dp, dq, qi, ...publicJwk } = options.keys.signingKey;
  void [d, p, q, dp, dq, qi];
  const listening = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/oauth2/v3/certs') return sendJson(res, 200, { keys: [publicJwk] });
    if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/identity') {
      // The real server refuses requests without this header, so a redirected browser cannot use it.
      if (req.headers['metadata-flavor'] !== 'Google') return sendJson(res, 403, { error: 'Missing Metadata-Flavor:Google header.' });
      const audience = url.searchParams.get('audience');
      if (!audience) return sendJson(res, 400, { error: 'audience is required' });
      const now = Math.floor(Date.now() / 1000);
      new SignJWT({ email: options.serviceAccountEmail, email_verified: true, azp: options.serviceAccountEmail })
        .setProtectedHeader({ alg: 'RS256', kid: options.keys.signingKey.kid!, typ: 'JWT' })
        .setIssuer(GOOGLE_ISSUER)
        .setAudience(audience)
        .setSubject('100000000000000000001')
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(key)
        .then((token) => {
          res.writeHead(200, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' });
          res.end(token);
        });
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }, options.port ?? 0);
  return { ...listening, certsUrl: `${listening.url}/oauth2/v3/certs`, host: listening.url.replace('http://', '') };
}
