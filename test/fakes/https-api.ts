// A stand-in for a public HTTPS API on 127.0.0.1, reached by the real curl the scripts run: a
// CURL_HOME/.curlrc sends <host>:443 here and trusts this server's own certificate (made with
// openssl for that host name), so the commands under test are byte for byte the production ones.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/process.ts';

export interface FakeHttpsApi {
  /** Environment for a process whose curl should reach this server instead of the real host. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeHttpsApi(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeHttpsApi> {
  const dir = tempDir('mindmirror-fake-api-');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`], { stdio: 'ignore' });
  const server = createServer({ key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(join(dir, '.curlrc'), `connect-to = ${host}:443:127.0.0.1:${port}\ncacert = ${certFile}\n`);
  return {
    env: { CURL_HOME: dir },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
