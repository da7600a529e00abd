// A JSON body handed to the runtime already parsed, as `req.body`, which the runtime's Node
// adapter takes as it takes one from a framework's body parser. Left to itself the runtime reads
// every body through a chain of web streams (a Request around the Node stream, and Yoga's own
// 25 MB check piped through a TransformStream into another), whose objects outlive young-
// generation collections: a third more bytes promoted to the old generation, for everyone
// (bench/gateway/RESULTS.md).
//
// Only for a request nothing would refuse before its body: a caller whose token the gateway has
// already verified (identity still checks it again), or any caller when the gateway runs without
// identity and protections (the benchmark's baseline). A caller without a token is charged by
// address, and a new or bad token is verified, before a byte of the body is read, as before; a
// known caller already over a limit was refused before this (rate-limits.ts).

import type { IncomingMessage } from 'node:http';
import type { BodyOutcome } from './body-limit.ts';
import type { IdentityServices } from './identity-services.ts';

type WithBody = IncomingMessage & { body?: unknown };

/** Whose body may be read before the runtime runs. */
export function whoseBodyFirst(identity: Pick<IdentityServices, 'verifiedBefore'> | undefined, protections: boolean): (req: IncomingMessage) => boolean {
  if (!identity) return () => !protections;
  // A hash of the token (kept for identity's own check that follows) and a cache lookup.
  return (req) => req.headers.authorization !== undefined && identity.verifiedBefore(req.headers.authorization);
}

/** What the runtime's JSON request parser accepts (Yoga's isPOSTJsonRequest). */
function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type']?.split(',')[0];
  if (type === undefined) return false;
  return ['application/json', 'application/graphql+json'].some((t) => type === t || type.startsWith(`${t};`));
}

/**
 * Reads and parses the body of a request the runtime would otherwise stream, when `readFirst`
 * says nothing refuses it before its body. 'refused' only when the client went away meanwhile.
 */
export function parseBodyFirst(req: IncomingMessage, readFirst: (req: IncomingMessage) => boolean): BodyOutcome {
  if (req.method !== 'POST' || !isJson(req) || !readFirst(req)) return 'continue';
  const withBody = req as WithBody;
  // A chunked body was already read, for the cap (body-limit.ts).
  if (Buffer.isBuffer(withBody.body)) {
    handOn(withBody, withBody.body);
    return 'continue';
  }
  const declared = req.headers['content-length'];
  // Without protections (the benchmark's baseline) nothing capped the body: the runtime's 25 MB.
  if (declared === undefined || declared === '0' || Number(declared) > 25_000_000) return 'continue';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      handOn(withBody, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      resolve('continue');
    });
    req.once('error', () => resolve('refused'));
  });
}

function handOn(req: WithBody, bytes: Buffer): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Invalid JSON: the runtime reads the bytes and answers as it always has (400 BAD_REQUEST).
  }
  // The adapter takes a parsed body only when it has keys; anything else goes on as the bytes.
  req.body = parsed !== null && typeof parsed === 'object' && Object.keys(parsed).length > 0 ? parsed : bytes;
}
