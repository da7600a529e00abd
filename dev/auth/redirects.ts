// Where a link in a mail, or a verified link, may send the browser: GoTrue's rules, so a
// redirect_to that production would ignore is ignored here too. Allowed: the site URL's scheme
// and host (any port on localhost), a loopback address, or a match for an entry of the allow list
// (additional_redirect_urls, globs with `*` inside one segment and `**` across). Anything else
// falls back to the site URL. The same list names the browser origins CORS lets in.

import type { AuthSettings } from './settings.ts';

/** GoTrue's globs: `*` and `?` stop at '.' and '/', `**` does not. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^./]*';
    else if (c === '?') source += '[^./]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

const isLocalhost = (host: string) => host === 'localhost' || isLoopbackIp(host);

function isLoopbackIp(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]';
}

/**
 * The host as written in the URL (lower-cased, without port). Not URL.hostname: WHATWG parsing
 * turns http://2130706433/ or http://0x7f.1/ into 127.0.0.1, which GoTrue, reading the text,
 * refuses; reading it the same way keeps such tricks out of the loopback rule.
 */
function writtenHostOf(url: string): string | null {
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)/i.exec(url);
  return match ? match[1]!.toLowerCase() : null;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

export function isRedirectAllowed(settings: AuthSettings, redirect: string): boolean {
  if (!redirect) return false;
  const base = parse(settings.siteUrl);
  const target = parse(redirect);
  const host = writtenHostOf(redirect);
  if (!base || !target || host === null) return false;
  if (base.hostname === host && base.protocol === target.protocol && (base.port === target.port || isLocalhost(host))) return true;
  if (/^[0-9]+$/.test(host)) return false;
  if (/^[0-9.]+$/.test(host) || host.startsWith('[')) return isLoopbackIp(host);
  if (/^https?:$/.test(target.protocol) && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host)) return false;
  const withoutFragment = redirect.split('#')[0]!;
  return settings.redirectAllowList.some((pattern) => globToRegExp(pattern).test(withoutFragment));
}

/** The redirect a request asked for (redirect_to), if allowed; else the site URL. */
export function redirectFor(settings: AuthSettings, requested: string | null | undefined): string {
  return requested && isRedirectAllowed(settings, requested) ? requested : settings.siteUrl;
}

/** The scheme://host[:port] part of an allow-list entry, kept as a glob. */
function originPattern(entry: string): string | null {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]+)/i.exec(entry);
  return match ? match[1]! : null;
}

/** Whether a browser at this Origin may call the auth: the site URL's origin or an allow-list entry's. */
export function isOriginAllowed(settings: AuthSettings, origin: string): boolean {
  const patterns = [settings.siteUrl, ...settings.redirectAllowList].map(originPattern).filter((p): p is string => p !== null);
  return patterns.some((p) => globToRegExp(p).test(origin));
}
