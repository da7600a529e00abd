// Sends N requests, each with a different valid token of a different user, and reports progress
// so the caller can sample the gateway's memory as distinct tokens pile up.
//   node --import tsx bench/gateway/token-flood.ts '<config JSON>'   -> "SENT <n>" lines, then "DONE <failures>"

import { importJWK, type CryptoKey, type JWK } from 'jose';
import { signToken } from './stand-ins.ts';

interface FloodConfig {
  url: string;
  supabaseUrl: string;
  privateJwk: JWK;
  count: number;
  concurrency: number;
  reportEvery: number;
  /** Send no Authorization header (the baseline gateway has no identity plugin). */
  withoutTokens?: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as FloodConfig;
const key = (await importJWK(config.privateJwk, 'ES256')) as CryptoKey;
const body = JSON.stringify({ query: '{ me { internalId plan } }' });
let issued = 0;
let sent = 0;
let failures = 0;

async function worker(): Promise<void> {
  while (issued < config.count) {
    const n = issued++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!config.withoutTokens) headers['authorization'] = `Bearer ${await signToken(key, String(config.privateJwk.kid), config.supabaseUrl, `flood-${n}`)}`;
    const res = await fetch(config.url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (res.status !== 200) failures++;
    sent++;
    if (sent % config.reportEvery === 0) process.stdout.write(`SENT ${sent}\n`);
  }
}

await Promise.all(Array.from({ length: config.concurrency }, worker));
process.stdout.write(`DONE ${failures}\n`);
