// Asks users_service which internal id belongs to a Supabase user id. One GraphQL request with a
// deadline; anything but a clear answer is an error, so the caller fails closed.

import type { GatewayMetrics } from './metrics.ts';
import { fetch } from './http-client.ts';
import { context, propagation } from '@opentelemetry/api';
import { requestTrace } from './trace-context.ts';

export const DEFAULT_USERS_LOOKUP_QUERY =
  'query UserBySupabaseId($supabaseId: String!) { userBySupabaseId(supabaseId: $supabaseId) { id } }';
export const DEFAULT_USERS_LOOKUP_PATH = 'userBySupabaseId.id';

export class IdentityUnavailableError extends Error {
  override readonly name = 'IdentityUnavailableError';
}

// The id becomes the x-internal-id header: anything that could smuggle a second value or a
// header break (commas, spaces, CR/LF) is refused rather than forwarded.
const SAFE_INTERNAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export interface UsersLookupOptions {
  url: string;
  query: string;
  operationName?: string;
  /** Dot path inside `data` where the id is, e.g. userBySupabaseId.id. */
  resultPath: string;
  timeoutMs: number;
  metrics: GatewayMetrics;
  /** Extra headers per call (the Cloud Run ID token for users_service). */
  headers?: () => Promise<Record<string, string>>;
}

/** Resolves to the internal id, or null when users_service does not know the user (yet). */
export type UsersLookup = (supabaseId: string) => Promise<string | null>;

export function createUsersLookup(options: UsersLookupOptions): UsersLookup {
  const path = options.resultPath.split('.');
  const { metrics } = options;
  return async (supabaseId) => {
    const stop = metrics.usersServiceDuration.startTimer();
    try {
      const id = await ask(supabaseId);
      stop({ outcome: id === null ? 'not_found' : 'found' });
      return id;
    } catch (error) {
      stop({ outcome: 'error' });
      throw error instanceof IdentityUnavailableError ? error : new IdentityUnavailableError(`users_service lookup failed: ${describe(error)}`);
    }
  };

  async function ask(supabaseId: string): Promise<string | null> {
    const extra: Record<string, string> = { ...(options.headers ? await options.headers() : {}) };
    // The lookup is part of the request being traced: users_service's span joins its trace, under
    // the gateway's own span when spans are exported (tracing.ts), else under Cloud Run's.
    propagation.inject(context.active(), extra);
    const trace = requestTrace.getStore();
    if (trace && !extra['traceparent']) extra['traceparent'] = trace.traceparent;
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { ...extra, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: options.query, operationName: options.operationName, variables: { supabaseId } }),
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'error',
    });
    const text = await response.text();
    if (!response.ok) throw new IdentityUnavailableError(`users_service answered HTTP ${response.status}`);
    let body: { data?: unknown; errors?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new IdentityUnavailableError('users_service answered with something that is not JSON');
    }
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      throw new IdentityUnavailableError(`users_service answered with GraphQL errors: ${describeErrors(body.errors)}`);
    }
    if (body.data === null || typeof body.data !== 'object') throw new IdentityUnavailableError('users_service answered without data');
    let value: unknown = body.data;
    for (const segment of path) {
      if (value === null || value === undefined) return null;
      if (typeof value !== 'object') throw new IdentityUnavailableError(`users_service answer has no object at "${segment}" of ${options.resultPath}`);
      value = (value as Record<string, unknown>)[segment];
    }
    if (value === null || value === undefined) return null;
    const id = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof id !== 'string' || !SAFE_INTERNAL_ID.test(id)) {
      throw new IdentityUnavailableError(`users_service returned an internal id that is not a safe header value at ${options.resultPath}`);
    }
    return id;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer within the deadline';
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? `${error.message} (${cause.code})` : error.message;
}

function describeErrors(errors: unknown[]): string {
  return errors
    .slice(0, 3)
    .map((e) => (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : 'error'))
    .join('; ');
}
