// Which handler answers which request, and what every answer shares. Under /auth/v1, as behind
// Supabase's gateway: an API key (the anon or service_role key) on every route but the ones a
// browser reaches without one (GET /verify from a mail, the JWKS, health), Kong's 401 without it;
// admin routes also need an admin bearer; CORS for the app's origins; GoTrue's error shapes for
// everything refused. Anything not listed is a 404 that names the route, never a crash. The
// mailbox is served beside it under /mailbox.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveMailbox } from '../mail/mailpit-api.ts';
import type { Mailbox } from '../mail/mailbox.ts';
import { AuthRequest, requireAdmin, type AuthContext, type Reply } from './context.ts';
import { allowedOrigin, corsHeaders, preflightHeaders } from './cors.ts';
import { API_VERSION_HEADER, apiVersionOf, AuthError, errorReply } from './errors.ts';
import { publicJwkOf } from './keys.ts';
import * as admin from './routes/admin.ts';
import * as signUp from './routes/sign-up.ts';
import { token } from './routes/token.ts';
import * as user from './routes/user.ts';
import { verifyGet, verifyPost } from './routes/verify.ts';

export const AUTH_PREFIX = '/auth/v1';
export const MAILBOX_PREFIX = '/mailbox';

type Handler = (ctx: AuthContext, request: AuthRequest, id: string) => Promise<Reply>;

interface Route {
  method: string;
  /** The path under /auth/v1; {id} matches one path segment. */
  path: string;
  handler: Handler;
  /** open: no API key (links in mails, the JWKS, health); admin: an admin bearer too. */
  access: 'open' | 'apikey' | 'admin';
}

const jwks: Handler = async (ctx) => ({ status: 200, body: { keys: [publicJwkOf(ctx.keys.signingKey)] }, headers: { 'cache-control': 'public, max-age=600' } });
const health: Handler = async () => ({ status: 200, body: { version: 'local', name: 'GoTrue', description: 'MindMirror local stand-in for Supabase Auth' } });
const settings: Handler = async (ctx) => ({
  status: 200,
  body: {
    external: { anonymous_users: false, apple: false, email: true, github: false, google: false, phone: false },
    disable_signup: !ctx.settings.signupEnabled,
    mailer_autoconfirm: !ctx.settings.confirmEmail,
    phone_autoconfirm: false,
    sms_provider: '',
    saml_enabled: false,
    passkeys_enabled: false,
  },
});

const ROUTES: Route[] = [
  { method: 'GET', path: '/.well-known/jwks.json', handler: jwks, access: 'open' },
  { method: 'GET', path: '/health', handler: health, access: 'open' },
  { method: 'GET', path: '/verify', handler: verifyGet, access: 'open' },
  { method: 'GET', path: '/settings', handler: settings, access: 'apikey' },
  { method: 'POST', path: '/signup', handler: signUp.signUp, access: 'apikey' },
  { method: 'POST', path: '/otp', handler: signUp.oneTimeLink, access: 'apikey' },
  { method: 'POST', path: '/magiclink', handler: signUp.oneTimeLink, access: 'apikey' },
  { method: 'POST', path: '/resend', handler: signUp.resend, access: 'apikey' },
  { method: 'POST', path: '/recover', handler: signUp.recover, access: 'apikey' },
  { method: 'POST', path: '/verify', handler: verifyPost, access: 'apikey' },
  { method: 'POST', path: '/token', handler: token, access: 'apikey' },
  { method: 'GET', path: '/user', handler: user.getUser, access: 'apikey' },
  { method: 'PUT', path: '/user', handler: user.updateUser, access: 'apikey' },
  { method: 'GET', path: '/reauthenticate', handler: user.reauthenticate, access: 'apikey' },
  { method: 'POST', path: '/logout', handler: user.logout, access: 'apikey' },
  { method: 'POST', path: '/invite', handler: admin.invite, access: 'admin' },
  { method: 'GET', path: '/admin/users', handler: admin.listUsers, access: 'admin' },
  { method: 'POST', path: '/admin/users', handler: admin.createUser, access: 'admin' },
  { method: 'GET', path: '/admin/users/{id}', handler: admin.getUserById, access: 'admin' },
  { method: 'PUT', path: '/admin/users/{id}', handler: admin.updateUserById, access: 'admin' },
  { method: 'DELETE', path: '/admin/users/{id}', handler: admin.deleteUser, access: 'admin' },
  { method: 'POST', path: '/admin/generate_link', handler: admin.generateLink, access: 'admin' },
];

function match(path: string): { routes: Route[]; id: string } {
  const id = /^\/admin\/users\/([^/]+)$/.exec(path)?.[1];
  const shape = id !== undefined ? '/admin/users/{id}' : path;
  let decoded = '';
  try {
    decoded = id !== undefined ? decodeURIComponent(id) : '';
  } catch {
    decoded = id ?? '';
  }
  return { routes: ROUTES.filter((r) => r.path === shape), id: decoded };
}

/** Kong's answer when the API key is missing or not the project's (a hosted project's gateway, not GoTrue, refuses these). */
function apiKeyProblem(ctx: AuthContext, req: IncomingMessage): Reply | null {
  const key = req.headers.apikey;
  const value = Array.isArray(key) ? key[0] : key;
  if (!value) return { status: 401, body: { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' } };
  if (value !== ctx.keys.anonKey && value !== ctx.keys.serviceRoleKey) return { status: 401, body: { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' } };
  return null;
}

function write(res: ServerResponse, reply: Reply, extra: Record<string, string>): void {
  const headers: Record<string, string> = { ...extra, ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(reply.body));
}

/** Logs an unexpected failure: its message only (never a request's body, where passwords and tokens travel). */
function logFailure(route: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(JSON.stringify({ severity: 'ERROR', message: `${route} failed: ${message}`, time: new Date().toISOString() }));
}

async function answerAuth(ctx: AuthContext, req: IncomingMessage, url: URL): Promise<{ reply: Reply; cors: Record<string, string> }> {
  const path = url.pathname.slice(AUTH_PREFIX.length) || '/';
  const origin = allowedOrigin(ctx.settings, req);
  const cors = corsHeaders(origin);
  const apiVersion = apiVersionOf(req.headers[API_VERSION_HEADER]);
  const fail = (error: unknown): { reply: Reply; cors: Record<string, string> } => {
    const e = errorReply(error, apiVersion);
    if (e.status >= 500) logFailure(`${req.method} ${url.pathname}`, error);
    // A body left unread after a refusal: close the connection rather than read it.
    return { reply: { status: e.status, body: e.body, headers: e.status === 413 ? { ...e.headers, connection: 'close' } : e.headers }, cors };
  };
  if (req.method === 'OPTIONS') {
    if (origin) return { reply: { status: 204, headers: preflightHeaders(origin) }, cors: {} };
    if (req.headers.origin) return fail(new AuthError(403, 'cors_origin_not_allowed', `Origin ${req.headers.origin.slice(0, 200)} is not the site URL's or an additional redirect URL's (supabase/config.toml)`));
    return { reply: { status: 204, headers: { allow: 'GET, POST, PUT, DELETE, OPTIONS' } }, cors: {} };
  }
  const { routes, id } = match(path);
  const route = routes.find((r) => r.method === req.method);
  try {
    if (!route) {
      req.resume();
      if (routes.length) throw new AuthError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`);
      throw new AuthError(404, 'not_found', `The local auth does not serve ${req.method} ${url.pathname} (see docs/infrastructure/local-environment.md)`);
    }
    if (route.access !== 'open') {
      const problem = apiKeyProblem(ctx, req);
      if (problem) {
        req.resume();
        return { reply: problem, cors };
      }
    }
    if (route.access === 'admin') await requireAdmin(ctx, req);
    return { reply: await route.handler(ctx, new AuthRequest(req, url), id), cors };
  } catch (error) {
    req.resume();
    return fail(error);
  }
}

/** The request handler: the auth under /auth/v1, the mailbox under /mailbox. */
export function createRouter(ctx: AuthContext, mailbox: Mailbox): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      req.resume();
      write(res, { status: 400, body: { code: 400, error_code: 'validation_failed', msg: 'malformed request URL' } }, {});
      return;
    }
    if (url.pathname === MAILBOX_PREFIX || url.pathname.startsWith(`${MAILBOX_PREFIX}/`)) {
      serveMailbox(mailbox, MAILBOX_PREFIX, req, res, url).catch((error: unknown) => {
        logFailure(`${req.method} ${url.pathname}`, error);
        if (!res.headersSent) write(res, { status: 500, body: { Error: 'unexpected failure' } }, {});
      });
      return;
    }
    if (url.pathname !== AUTH_PREFIX && !url.pathname.startsWith(`${AUTH_PREFIX}/`)) {
      req.resume();
      write(res, { status: 404, body: { code: 404, error_code: 'not_found', msg: `nothing is served at ${url.pathname}: the auth is under ${AUTH_PREFIX}, the mailbox under ${MAILBOX_PREFIX}` } }, {});
      return;
    }
    answerAuth(ctx, req, url).then(
      ({ reply, cors }) => {
        // Whatever a route did not read of the body is drained, so the connection can be reused.
        req.resume();
        write(res, reply, cors);
      },
      (error: unknown) => {
        logFailure(`${req.method} ${url.pathname}`, error);
        if (!res.headersSent) write(res, { status: 500, body: { code: 500, error_code: 'unexpected_failure', msg: 'Unexpected failure' } }, {});
      },
    );
  };
}
