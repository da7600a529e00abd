// The mailbox over HTTP: Mailpit's API (list, search, read one, delete), with its paths, field
// names and plain-text errors, and a page a person can open to click a link. Served under a path
// prefix of the local auth's port (/mailbox), so one Mailpit client base URL reaches it.
//
//   GET    <prefix>/api/v1/messages?start=&limit=     newest first
//   GET    <prefix>/api/v1/search?query=&start=&limit= the same, filtered (to:, from:, subject:, is:, words)
//   GET    <prefix>/api/v1/message/{ID|latest}[?query=]
//   DELETE <prefix>/api/v1/messages   body {"IDs": [...]}, none = all
//   DELETE <prefix>/api/v1/search?query=
//   GET    <prefix>/                  the list as a page; <prefix>/view/{ID} one message

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Mailbox, MAX_QUERY_LENGTH, summaryOf, type StoredMessage } from './mailbox.ts';

const MAX_DELETE_BODY_BYTES = 64 * 1024;
const MAX_DELETE_IDS = 1000;
const NO_UNSUBSCRIBE = { Header: '', Links: [], Errors: '', HeaderPost: '' };

class MailpitError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...headers });
  res.end(body);
}

/** Mailpit's start and limit: non-negative integers, defaults 0 and 50; anything else is ignored as Mailpit does. */
function startAndLimit(url: URL): { start: number; limit: number } {
  const int = (name: string, fallback: number) => {
    const n = Number(url.searchParams.get(name));
    return url.searchParams.has(name) && Number.isInteger(n) && n >= 0 ? n : fallback;
  };
  return { start: int('start', 0), limit: int('limit', 50) };
}

function queryOf(url: URL, required: boolean): string {
  const query = (url.searchParams.get('query') ?? '').trim();
  if (required && !query) throw new MailpitError(400, 'Error: no search query');
  if (query.length > MAX_QUERY_LENGTH) throw new MailpitError(400, `Error: search query longer than ${MAX_QUERY_LENGTH} characters`);
  return query;
}

async function readIds(req: IncomingMessage): Promise<string[]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DELETE_BODY_BYTES) {
      req.resume();
      throw new MailpitError(413, `request body larger than ${MAX_DELETE_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  // Mailpit deletes everything when the body does not name any IDs.
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const ids = (parsed as { IDs?: unknown } | null)?.IDs;
  if (!Array.isArray(ids)) return [];
  if (ids.length > MAX_DELETE_IDS) throw new MailpitError(400, `at most ${MAX_DELETE_IDS} IDs at once`);
  return ids.filter((id): id is string => typeof id === 'string');
}

function listing(mailbox: Mailbox, url: URL, query: string) {
  const { start, limit } = startAndLimit(url);
  const found = mailbox.find(query || undefined);
  const page = found.slice(start, start + limit);
  const unreadFound = found.filter((m) => !m.Read).length;
  return {
    total: mailbox.count,
    unread: mailbox.unread,
    count: page.length,
    messages_count: found.length,
    messages_unread: unreadFound,
    start,
    tags: [],
    messages: page.map(summaryOf),
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The text part with its links clickable; everything else escaped. */
function linkified(text: string): string {
  return escapeHtml(text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
}

const PAGE_HEADERS = { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" };

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}td,th{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #ddd}pre{white-space:pre-wrap}</style>
</head><body>${body}</body></html>`;
}

function listPage(prefix: string, messages: StoredMessage[]): string {
  const rows = messages
    .map((m) => `<tr><td>${escapeHtml(m.Created)}</td><td>${escapeHtml(m.To.map((a) => a.Address).join(', '))}</td><td><a href="${prefix}/view/${m.ID}">${escapeHtml(m.Subject)}</a></td></tr>`)
    .join('');
  return page(
    'Local mailbox',
    `<h1>Local mailbox</h1><p>What the local auth sent, newest first (${messages.length}). Mailpit's API: <code>${prefix}/api/v1/messages</code>.</p>` +
      `<table><tr><th>sent</th><th>to</th><th>subject</th></tr>${rows}</table>`,
  );
}

function messagePage(prefix: string, m: StoredMessage): string {
  return page(
    m.Subject,
    `<p><a href="${prefix}/">All messages</a></p><h1>${escapeHtml(m.Subject)}</h1>` +
      `<p>To ${escapeHtml(m.To.map((a) => a.Address).join(', '))}, ${escapeHtml(m.Created)}</p><pre>${linkified(m.Text)}</pre>`,
  );
}

/** Serves a request whose path starts with the prefix. */
export async function serveMailbox(mailbox: Mailbox, prefix: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.slice(prefix.length) || '/';
  const route = `${req.method} ${path}`;
  try {
    if (route === 'GET /api/v1/messages') return send(res, 200, 'application/json', JSON.stringify(listing(mailbox, url, '')));
    if (route === 'GET /api/v1/search') return send(res, 200, 'application/json', JSON.stringify(listing(mailbox, url, queryOf(url, true))));
    const one = /^GET \/api\/v1\/message\/([A-Za-z0-9]{1,64})$/.exec(route);
    if (one) {
      const message = mailbox.read(one[1]!, queryOf(url, false) || undefined);
      if (!message) throw new MailpitError(404, 'Not found');
      const { Read: _read, Created, ...rest } = message;
      return send(res, 200, 'application/json', JSON.stringify({ ...rest, ReturnPath: message.From.Address, ListUnsubscribe: NO_UNSUBSCRIBE, Date: Created, Username: '', Inline: [], Attachments: [] }));
    }
    if (route === 'DELETE /api/v1/messages') {
      mailbox.delete(await readIds(req));
      return send(res, 200, 'text/plain', 'ok');
    }
    if (route === 'DELETE /api/v1/search') {
      mailbox.deleteMatching(queryOf(url, true));
      return send(res, 200, 'text/plain', 'ok');
    }
    if (route === 'GET /') return send(res, 200, 'text/html; charset=utf-8', listPage(prefix, mailbox.find()), PAGE_HEADERS);
    const view = /^GET \/view\/([A-Za-z0-9]{1,64})$/.exec(route);
    if (view) {
      const message = mailbox.read(view[1]!);
      if (!message) throw new MailpitError(404, 'Not found');
      return send(res, 200, 'text/html; charset=utf-8', messagePage(prefix, message), PAGE_HEADERS);
    }
    throw new MailpitError(404, 'Not found');
  } catch (error) {
    if (error instanceof MailpitError) return send(res, error.status, 'text/plain', error.message, error.status === 413 ? { connection: 'close' } : {});
    throw error;
  }
}
