// A stand-in for Supabase Auth's key endpoint: real ES256 and RS256 key pairs, the public halves
// served as a JWKS at /auth/v1/.well-known/jwks.json, and a signer for real tokens (valid ones
// and every kind of forgery the gateway must refuse).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigningKey(alg: 'ES256' | 'RS256', kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenSpec {
  sub?: string;
  key?: SigningKey;
  /** Overrides or additions to the standard claims; undefined removes a claim. */
  claims?: Record<string, unknown>;
  /** Overrides of the protected header (e.g. a kid that does not match the key). */
  header?: Record<string, unknown>;
  expiresInSeconds?: number;
}

export class TestIssuer {
  readonly keys: SigningKey[] = [];
  jwksRequests = 0;
  /** Answer JWKS requests with this status instead of the keys (for outage tests). */
  failWith: number | undefined;
  private server: Server | undefined;
  private port = 0;

  private constructor(readonly es256: SigningKey, readonly rs256: SigningKey) {
    this.keys.push(es256, rs256);
  }

  static async start(): Promise<TestIssuer> {
    const issuer = new TestIssuer(await createSigningKey('ES256', 'es-main'), await createSigningKey('RS256', 'rs-main'));
    await issuer.listen();
    return issuer;
  }

  /** The Supabase project URL (SUPABASE_URL). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get issuer(): string {
    return `${this.url}/auth/v1`;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/auth/v1/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      this.jwksRequests++;
      if (this.failWith) {
        res.writeHead(this.failWith).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stop answering at all: connections to the JWKS endpoint are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async sign(spec: TokenSpec = {}): Promise<string> {
    const key = spec.key ?? this.es256;
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: 'authenticated',
      role: 'authenticated',
      sub: spec.sub ?? randomUUID(),
      iat: now,
      exp: now + (spec.expiresInSeconds ?? 3600),
      email: 'someone@example.com',
      ...spec.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...spec.header }).sign(key.privateKey);
  }
}
