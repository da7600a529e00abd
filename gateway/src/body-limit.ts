// The request-body cap, enforced in the HTTP server before the GraphQL runtime sees the request:
// the runtime would read up to 25 MB (Yoga's fixed default, which the embedded runtime does not
// let us change). A declared Content-Length over the cap is answered 413 at once, without reading
// a byte of the body; a body without one (chunked) is read up to the cap and refused the moment
// it goes past it, so at most MAX_REQUEST_BYTES of it is ever held.

import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BodyLimit {
  maxBytes: number;
  /** Counts and logs the refusal. */
  onRefused: (detail: string) => void;
  /** The message for the client. */
  message: string;
}

const NO_BODY = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * 'refused' when it answered 413 itself; 'continue' when the request may go on (a chunked body
 * then already read, and handed on as `req.body`, which the runtime's Node adapter reads first).
 */
export function limitRequestBody(req: IncomingMessage, res: ServerResponse, limit: BodyLimit): BodyOutcome {
  if (NO_BODY.has(req.method ?? 'GET')) return 'continue';
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    // Node has already refused a malformed or repeated Content-Length; this one is a number.
    const length = Number(declared);
    if (length <= limit.maxBytes) return 'continue';
    refuse(req, res, limit, `Content-Length ${length} > ${limit.maxBytes}`);
    return 'refused';
  }
  if (req.headers['transfer-encoding'] === undefined) return 'continue';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit.maxBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        refuse(req, res, limit, `chunked body past ${limit.maxBytes} bytes`);
        resolve('refused');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks);
      resolve('continue');
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => resolve('refused'));
  });
}

function refuse(req: IncomingMessage, res: ServerResponse, limit: BodyLimit, detail: string): void {
  limit.onRefused(detail);
  const body = JSON.stringify({ errors: [{ message: limit.message, extensions: { code: 'REQUEST_TOO_LARGE' } }] });
  // The unread rest of the body must not be parsed as the next request: the connection closes once
  // the answer is handed to the kernel, and nothing more of the body is read. Node would close it
  // then too (Connection: close), but read and discard whatever had arrived first: under a flood
  // of 550 kB bodies 130 kB more an attempt, an eighth of its CPU time (bench/gateway/RESULTS.md,
  // "What a refused upload costs"). A client still sending gets a reset after the answer either way.
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
  res.once('finish', () => req.socket.destroy());
}

export type BodyOutcome = 'continue' | 'refused' | Promise<'continue' | 'refused'>;

/** Runs `next` once a body step lets the request go on, at once when it already has. */
export function afterBody(outcome: BodyOutcome, next: () => void): void {
  if (outcome === 'continue') next();
  else if (outcome !== 'refused') void outcome.then((settled) => void (settled === 'continue' && next()));
}
