// Errors as GoTrue sends them, so supabase-js turns each into the same AuthError it would get from
// a hosted project. The body's shape follows the request's X-Supabase-Api-Version (supabase-js
// always sends 2024-01-01): {code, message} with the version echoed, else the legacy
// {code: <status>, error_code, msg}. Coded errors also carry x-sb-error-code.

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields of the body, e.g. weak_password: {reasons}. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The OAuth-style errors a few token paths answer with: {error, error_description}. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export const badRequest = (code: string, message: string) => new AuthError(400, code, message);
export const forbidden = (code: string, message: string) => new AuthError(403, code, message);
export const unprocessable = (code: string, message: string) => new AuthError(422, code, message);
export const notFound = (code: string, message: string) => new AuthError(404, code, message);
export const tooManyRequests = (code: string, message: string) => new AuthError(429, code, message);

export const API_VERSION_HEADER = 'x-supabase-api-version';
const API_VERSION_2024 = '2024-01-01';

/** The API version a request asked for, as GoTrue picks it: the newest known one not after it. */
export function apiVersionOf(header: string | string[] | undefined): '2024-01-01' | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  return value >= API_VERSION_2024 ? API_VERSION_2024 : null;
}

export interface ErrorReply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** The reply for an error a handler threw; anything unexpected is a 500 that says nothing of its cause. */
export function errorReply(error: unknown, apiVersion: '2024-01-01' | null): ErrorReply {
  if (error instanceof OAuthError) return { status: 400, body: { error: error.error, error_description: error.description }, headers: {} };
  const e = error instanceof AuthError ? error : new AuthError(500, 'unexpected_failure', 'Unexpected failure, please check server logs for more information');
  const headers: Record<string, string> = { 'x-sb-error-code': e.code };
  if (apiVersion) {
    headers[API_VERSION_HEADER] = apiVersion;
    return { status: e.status, body: { code: e.code, message: e.message, ...e.extra }, headers };
  }
  return { status: e.status, body: { code: e.status, error_code: e.code, msg: e.message, ...e.extra }, headers };
}
