// Reading a request as GoTrue does, within bounds: the body at most 64 KiB of JSON (413
// request_entity_too_large beyond, 400 bad_json for anything but an object), each field of the
// type GoTrue's structs declare (a wrong type is bad_json, as Go's decoder makes it), strings no
// longer than a field can sensibly be, and metadata objects neither huge nor deeply nested, so a
// hostile body costs a bounded amount of memory and never reaches the database malformed.

import type { IncomingMessage } from 'node:http';
import { AuthError, badRequest } from './errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;
/** user_metadata / app_metadata: serialised size and nesting, once merged. */
export const MAX_METADATA_BYTES = 16 * 1024;
const MAX_METADATA_DEPTH = 8;

export type JsonObject = Record<string, unknown>;

const tooLarge = () => new AuthError(413, 'request_entity_too_large', `Request body too large (max ${MAX_BODY_BYTES} bytes)`);

/** The body as a JSON object ({} when empty). Stops reading at the bound. */
export async function readJsonBody(req: IncomingMessage): Promise<JsonObject> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      // Let the rest drain unread; the reply closes the connection.
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badRequest('bad_json', `Could not parse request body as JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('bad_json', 'Could not parse request body as JSON: expected an object');
  return parsed as JsonObject;
}

const wrongType = (name: string, expected: string) => badRequest('bad_json', `Could not parse request body as JSON: ${name} must be ${expected}`);

/** A string field ('' when absent or null, as Go leaves it). */
export function stringField(body: JsonObject, name: string, maxLength = 1024): string {
  const value = body[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw wrongType(name, 'a string');
  if (value.length > maxLength) throw badRequest('validation_failed', `${name} is too long (at most ${maxLength} characters)`);
  return value;
}

/** A string field that may be absent (undefined) rather than empty: a password to set, say. */
export function optionalStringField(body: JsonObject, name: string, maxLength = 1024): string | undefined {
  return body[name] === undefined || body[name] === null ? undefined : stringField(body, name, maxLength);
}

export function booleanField(body: JsonObject, name: string): boolean {
  const value = body[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw wrongType(name, 'true or false');
  return value;
}

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_METADATA_DEPTH) return depth;
  if (typeof value !== 'object' || value === null) return depth;
  let deepest = depth + 1;
  for (const v of Object.values(value)) deepest = Math.max(deepest, depthOf(v, depth + 1));
  return deepest;
}

/** Metadata as stored and put in tokens: an object, bounded in size and depth. */
export function checkMetadata(name: string, value: JsonObject): JsonObject {
  if (depthOf(value) > MAX_METADATA_DEPTH) throw badRequest('validation_failed', `${name} is nested too deeply (at most ${MAX_METADATA_DEPTH} levels)`);
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES) throw badRequest('validation_failed', `${name} is too large (at most ${MAX_METADATA_BYTES} bytes as JSON)`);
  return value;
}

/** An object field (metadata): undefined when absent or null. */
export function objectField(body: JsonObject, name: string): JsonObject | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(name, 'an object');
  return checkMetadata(name, value as JsonObject);
}

/** PKCE is not served here: a request that asks for it is refused rather than silently given the implicit flow. */
export function refusePkce(body: JsonObject): void {
  const challenge = stringField(body, 'code_challenge', 256);
  const method = stringField(body, 'code_challenge_method', 16);
  if (challenge || method) throw badRequest('validation_failed', 'PKCE is not served by the local auth: use the implicit flow (supabase-js flowType "implicit", its default)');
}

/** The bearer token of the Authorization header, if any. */
export function bearerOf(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}
