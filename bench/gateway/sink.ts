// Where the attack benchmark's control phases send the attacker: a server that answers its
// documents the way the gateway does on the wire, and does nothing else. Delivering bytes over
// loopback is kernel work on the sending core (the load's core here), at no priority a process can
// set; sending the same documents at the same rate here instead of to the gateway shows what the
// attack costs the measurement itself, apart from what the gateway does with it.
//   oversized  413 at once from the headers, then the connection closed without reading the body
//              (body-limit.ts does the same);
//   capped     the body read to its end, then a 400 on the same connection (as a document limit).
//   node --import tsx bench/gateway/sink.ts oversized|capped   -> prints "READY <url>"

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const documents = process.argv[2];
if (documents !== 'oversized' && documents !== 'capped') {
  process.stderr.write(`sink.ts: expected oversized or capped, got ${documents}\n`);
  process.exit(2);
}
const refusal = (code: string) => JSON.stringify({ errors: [{ message: 'refused', extensions: { code } }] });

const server = createServer((req, res) => {
  if (documents === 'oversized') {
    const body = refusal('REQUEST_TOO_LARGE');
    res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
    res.once('finish', () => req.socket.destroy());
    return;
  }
  req.resume();
  req.once('end', () => {
    const body = refusal('MAX_TOKENS_EXCEEDED');
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
