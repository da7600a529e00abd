// The identity headers only the gateway may set, and how client attempts to set them are found.
// A client can try through any letter case, an underscore spelling (x_internal_id, which
// CGI-style servers fold into the same variable), a repeated header, GraphQL `extensions`, or
// WebSocket connection params; all of them count as an attempt and none is ever forwarded.

import type { IncomingHttpHeaders } from 'node:http';

export const INTERNAL_ID_HEADER = 'x-internal-id';
export const SUPABASE_ID_HEADER = 'x-supabase-id';

const GATEWAY_ONLY = new Set([INTERNAL_ID_HEADER, SUPABASE_ID_HEADER]);

// Both names are 13 characters long and start with an x; checking those first keeps the
// per-header cost near zero (Authorization is 13 characters long too, and in every request).
const NAME_LENGTH = 13;
const LOWER_X = 0x78;

export function isGatewayOnlyName(name: string): boolean {
  return name.length === NAME_LENGTH && (name.charCodeAt(0) | 0x20) === LOWER_X && GATEWAY_ONLY.has(name.toLowerCase().replace(/_/g, '-'));
}

export type ClientIdentitySource = 'header' | 'extensions' | 'connection_params';

/** True when any key of a (nested) object names a gateway-only header. */
function mentionsGatewayOnly(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 4) return false;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (isGatewayOnlyName(key) || mentionsGatewayOnly(inner, depth + 1)) return true;
  }
  return false;
}

export interface ClientIdentityInput {
  /** The request's headers: Node's own object when available (reading it costs nothing), else fetch Headers. */
  headers?: Headers | IncomingHttpHeaders;
  operations: readonly { extensions?: unknown }[];
  connectionParams?: Record<string, unknown>;
}

export function clientIdentitySources(input: ClientIdentityInput): ClientIdentitySource[] {
  const found: ClientIdentitySource[] = [];
  if (input.headers) {
    // Fetch Headers (global or Hive's own) list their names; Node's header object is a plain record.
    if (typeof input.headers.keys === 'function' ? [...(input.headers as Headers).keys()].some(isGatewayOnlyName) : someKey(input.headers, isGatewayOnlyName)) found.push('header');
  }
  if (input.operations.some((op) => mentionsGatewayOnly(op.extensions))) found.push('extensions');
  if (input.connectionParams && mentionsGatewayOnly(input.connectionParams)) found.push('connection_params');
  return found;
}

/** Like Object.keys(record).some(test), without building the array on every request. */
function someKey(record: object, test: (key: string) => boolean): boolean {
  for (const key in record) if (Object.hasOwn(record, key) && test(key)) return true;
  return false;
}

/**
 * A client's GraphQL `extensions` without anything that could become a subgraph header: the
 * `headers` member and gateway-only names are removed.
 */
export function clientExtensionsWithoutHeaders(extensions: unknown): Record<string, unknown> | undefined {
  if (extensions === null || typeof extensions !== 'object') return undefined;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extensions as Record<string, unknown>)) {
    if (key.toLowerCase() === 'headers' || isGatewayOnlyName(key)) continue;
    kept[key] = value;
  }
  return kept;
}

export type Identity =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly supabaseId: string; readonly internalId: string | null };

/**
 * Rewrites a subgraph request's headers in place: every spelling of a gateway-only header goes,
 * then this request's own identity is set.
 */
export function setIdentityHeaders(headers: Record<string, string>, identity: Identity): void {
  for (const name of Object.keys(headers)) if (isGatewayOnlyName(name)) delete headers[name];
  if (identity.kind !== 'user') return;
  headers[SUPABASE_ID_HEADER] = identity.supabaseId;
  if (identity.internalId !== null) headers[INTERNAL_ID_HEADER] = identity.internalId;
}
