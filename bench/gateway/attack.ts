// One attacker with a valid token, sending refused documents as fast as they are answered, one
// request at a time. Three kinds:
//   oversized  the 550 kB document of 50,000 repeated fields that once held the gateway for 38 s:
//              refused (413) by the body cap before a byte of it is read;
//   long       9,000 repeated fields, 99 kB, just under the body cap: read, parsed as JSON and
//              refused for its length;
//   tokens     5,000 one-letter fields, 10 kB, under the character limit: parsed up to the token
//              limit and refused there;
//   capped     long and tokens in turn: the most work a refused document can cost under the caps.
// Each document starts with a different alias, so no cache ever answers for the gateway.
// With perSecond, the attacker sends no faster than that: what one address gets past the front
// door's Cloud Armor limit without being banned (infra/modules/edge).
//   node --import tsx bench/gateway/attack.ts '<config JSON>'   (config.windows: when to attack)
//     -> {"sent": n, "refused": n (answered with a refusal), "closed": n (connection closed first), "other": n (served)}

import { Agent, request } from 'node:http';

interface AttackConfig {
  url: string;
  token: string;
  /** When to attack: [from, to] in ms since the epoch, in order; the attacker waits in between. */
  windows: [number, number][];
  /** Requests in flight at once (1: one attacker waiting for each answer). */
  connections: number;
  documents: 'oversized' | 'long' | 'tokens' | 'capped';
  /** At most this many requests a second (all connections together); unset: as fast as answered. */
  perSecond?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as AttackConfig;
const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
const long = '__typename '.repeat(9_000);
const manyTokens = 'a '.repeat(5_000);
const shapes = { oversized: ['__typename '.repeat(50_000)], long: [long], tokens: [manyTokens], capped: [long, manyTokens] }[config.documents];
let sent = 0;
let refused = 0;
let closed = 0;
let other = 0;

function once(n: number): Promise<void> {
  const body = JSON.stringify({ query: `{ a${n}: __typename ${shapes[n % shapes.length]}}` });
  return new Promise((resolve) => {
    let answered = false;
    const req = request(config.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${config.token}` } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => {
        answered = true;
        if (/MAX_(TOKENS|CHARACTERS)_EXCEEDED|REQUEST_TOO_LARGE|RATE_LIMITED/.test(text)) refused++;
        else other++;
        resolve();
      });
    });
    // The gateway answers an oversized body before reading it and closes the connection, so the
    // upload may fail before the answer is read: the connection closed on the attacker.
    req.on('error', () => {
      if (answered) return;
      closed++;
      resolve();
    });
    req.end(body);
  });
}

// Paced: request n of a window is due at from + n / perSecond; a late answer delays the next
// request, never adds a burst.
let due = 0;
async function attacker(): Promise<void> {
  for (const [from, to] of config.windows) {
    if (Date.now() < from) await new Promise((r) => setTimeout(r, from - Date.now()));
    due = from;
    while (Date.now() < to) {
      if (config.perSecond) {
        const wait = due - Date.now();
        due = Math.max(due, Date.now()) + 1000 / config.perSecond;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (Date.now() >= to) break;
      }
      await once(sent++);
    }
  }
}

await Promise.all(Array.from({ length: config.connections }, attacker));
agent.destroy();
process.stdout.write(JSON.stringify({ sent, refused, closed, other }) + '\n');
