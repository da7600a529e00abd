// CORS for a browser app calling the local auth with supabase-js. Origins come from
// config.toml: the site URL's and each additional_redirect_urls entry's (a hosted project's
// gateway answers `*`; allowing only the app's own origins here means an app that works locally
// is configured the way production's redirect rules expect). The allowed request headers are
// supabase-js's own list; the exposed ones are what the client reads (pagination, the API version,
// the error code).

import type { IncomingMessage } from 'node:http';
import { isOriginAllowed } from './redirects.ts';
import type { AuthSettings } from './settings.ts';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'authorization, apikey, content-type, x-client-info, x-supabase-api-version, x-retry-count, x-jwt-aud, traceparent, tracestate, baggage';
const EXPOSED_HEADERS = 'X-Total-Count, Link, X-Supabase-Api-Version, x-sb-error-code';

/** The browser origin of a request, when it sent one and it is allowed. */
export function allowedOrigin(settings: AuthSettings, req: IncomingMessage): string | null {
  const origin = req.headers.origin;
  return origin && isOriginAllowed(settings, origin) ? origin : null;
}

/** Headers for every answer to an allowed origin: errors and the /verify redirect included. */
export function corsHeaders(origin: string | null): Record<string, string> {
  return origin ? { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': EXPOSED_HEADERS } : {};
}

/** The extra headers of a preflight answer. */
export function preflightHeaders(origin: string): Record<string, string> {
  return { ...corsHeaders(origin), 'access-control-allow-methods': ALLOWED_METHODS, 'access-control-allow-headers': ALLOWED_HEADERS, 'access-control-max-age': '600' };
}
