// HTTP/1.1 written byte for byte on a socket, for what fetch cannot send: repeated header lines,
// a Content-Length larger than the body that follows, a body that never ends.

import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method?: string;
  path?: string;
  /** The Host header (default: the URL's host and port). */
  host?: string;
  /** Header lines in wire order; repeated names stay repeated. */
  headers: [string, string][];
  /** Written after the headers; may be shorter than a declared Content-Length. */
  body?: string | Buffer;
  /** Keep writing this chunk until the server answers or closes (a body that never ends). */
  endless?: Buffer;
}

/** Sends one request on a fresh connection and reads the answer until the server closes it or the body is complete. */
export function rawHttp(baseUrl: string, request: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms: ${received.toString('latin1').slice(0, 200)}`)), timeoutMs);
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      resolve(parse(received.toString('utf8')));
    };
    const complete = () => {
      const text = received.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      if (/^HTTP\/1\.1 101 /.test(text)) return true;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      return length !== null && Buffer.byteLength(text.slice(end + 4)) >= Number(length[1]);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (complete()) finish();
    });
    socket.on('close', () => finish());
    socket.on('error', (error) => (received.length > 0 ? finish() : finish(error)));
    socket.on('connect', () => {
      const head = [`${request.method ?? 'POST'} ${request.path ?? '/graphql'} HTTP/1.1`, `Host: ${request.host ?? url.host}`, ...request.headers.map(([n, v]) => `${n}: ${v}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      if (request.body !== undefined) socket.write(request.body);
      if (request.endless) {
        const chunk = request.endless;
        const pump = () => {
          while (!settled && !socket.destroyed && socket.write(chunk)) {
            /* keep writing until the socket pushes back */
          }
          if (!settled && !socket.destroyed) socket.once('drain', pump);
        };
        pump();
      }
    });
  });
}

/** One request's head, for a connection that sends several. */
export function requestHead(path: string, headers: [string, string][], method = 'POST'): string {
  return [`${method} ${path} HTTP/1.1`, 'Host: localhost', ...headers.map(([n, v]) => `${n}: ${v}`)].join('\r\n') + '\r\n\r\n';
}

/** A kept-alive connection: write raw bytes, read one complete response at a time. */
export class RawConnection {
  private received = '';
  private waiting: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static open(baseUrl: string): Promise<RawConnection> {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The next complete response (its Content-Length read whole); fails when the connection closes first. */
  async response(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.received.indexOf('\r\n\r\n');
      if (end >= 0) {
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(this.received.slice(0, end))?.[1] ?? 0);
        if (Buffer.byteLength(this.received.slice(end + 4)) >= length) {
          const whole = this.received.slice(0, end + 4 + length);
          this.received = this.received.slice(whole.length);
          return parse(whole);
        }
      }
      if (this.closed) throw new Error(`the connection closed before a complete response: ${this.received.slice(0, 200)}`);
      if (Date.now() > deadline) throw new Error(`no complete response within ${timeoutMs} ms: ${this.received.slice(0, 200)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function parse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end < 0 ? undefined : end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: end < 0 ? '' : text.slice(end + 4) };
}
