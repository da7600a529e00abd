// Refusing a request whose body is left unread, and closing its connection without reading it.
//
// node:http, told `connection: close`, pulls the rest of such a body off the wire until the socket
// is gone (a fresh buffer for every chunk of it, which V8 answers with full collections under a
// flood) and then destroys the socket with bytes still unread, which the kernel turns into a
// reset: a client still uploading loses the answer it was sent (8% of the 413s under the
// benchmark's flood of 550 kB bodies, more of its early 429s). Here the answer is written straight
// to the socket, followed by our half of the close, and nothing more is read: the client's upload
// stalls once the kernel's window is full, it reads the answer and closes. The socket is destroyed
// half a second later, by which time the client has long read an answer already in its buffers; a
// flood cannot keep more than MAX_LINGERING waiting (each holds at most the kernel's receive
// buffer, about 128 kB).

import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';

/** The answer is in the client's buffers one round trip after it is sent. */
const LINGER_MS = 500;
/** Sockets left to linger at once; past this one closes at once (its answer may be lost to a reset). */
const MAX_LINGERING = 256;

let lingering = 0;

/**
 * Answers `status` with `body` (JSON), then closes the connection without reading another byte of
 * the request. Headers already set on `res` (the security headers) go out with the answer.
 */
export function refuseAndCloseUnread(req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  const socket = req.socket;
  // Stop reading first: the parser may still hold body bytes of the current read, and the request
  // stream must not ask for more.
  req.pause();
  socket.pause();
  const all: OutgoingHttpHeaders = {
    ...res.getHeaders(),
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    date: new Date().toUTCString(),
    connection: 'close',
  };
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(all)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${one}\r\n`;
  }
  // The response object never writes: everything after this is the socket's.
  socket.end(`${head}\r\n${body}`);
  if (lingering >= MAX_LINGERING) {
    socket.once('finish', () => socket.destroy());
    return;
  }
  lingering++;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => {
    lingering--;
    clearTimeout(timer);
  });
}
