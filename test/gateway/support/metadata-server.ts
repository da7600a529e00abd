// A stand-in for the Cloud Run metadata server's identity and token endpoints: it insists on the
// Metadata-Flavor header like the real one, mints real RS256 ID tokens for any audience, and hands
// out access tokens of the instance's service account.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { createSigningKey, type SigningKey } from './issuer.ts';

export class TestMetadataServer {
  readonly requests: { audience: string | null; format: string | null; flavor: string | undefined }[] = [];
  lifetimeSeconds = 3600;
  accessTokensIssued = 0;
  failWith: number | undefined;

  private constructor(
    private readonly server: Server,
    readonly key: SigningKey,
  ) {}

  static async start(): Promise<TestMetadataServer> {
    const key = await createSigningKey('RS256', 'google-key');
    let self: TestMetadataServer | undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://metadata');
      const flavor = req.headers['metadata-flavor'] as string | undefined;
      self!.requests.push({ audience: url.searchParams.get('audience'), format: url.searchParams.get('format'), flavor });
      if (flavor !== 'Google' && url.pathname.startsWith('/computeMetadata/')) return void res.writeHead(403).end('Missing Metadata-Flavor:Google header.');
      if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
        // An OAuth access token of the instance's service account, in the metadata server's JSON shape.
        self!.accessTokensIssued++;
        const body = { access_token: `ya29.metadata-token-${self!.accessTokensIssued}`, expires_in: self!.lifetimeSeconds, token_type: 'Bearer' };
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
      if (url.pathname !== '/computeMetadata/v1/instance/service-accounts/default/identity') return void res.writeHead(404).end();
      if (self!.failWith) return void res.writeHead(self!.failWith).end();
      const audience = url.searchParams.get('audience');
      if (!audience) return void res.writeHead(400).end('audience required');
      const now = Math.floor(Date.now() / 1000);
      void new SignJWT({ email: 'gateway@project.iam.gserviceaccount.com', email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer('https://accounts.google.com')
        .setAudience(audience)
        .setSubject('1234567890')
        .setIssuedAt(now)
        .setExpirationTime(now + self!.lifetimeSeconds)
        .sign(key.privateKey)
        .then((token) => res.writeHead(200, { 'content-type': 'text/html' }).end(token));
    });
    self = new TestMetadataServer(server, key);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  /** host:port, the form GCE_METADATA_HOST takes. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
