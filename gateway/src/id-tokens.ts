// Google-signed ID tokens for calls to Cloud Run services that keep IAM invoker checks on. Fetched
// from the metadata server (GCE_METADATA_HOST overrides its address, as in Google's own auth
// libraries) once per audience and reused until shortly before they expire.

import { decodeJwt } from 'jose';
import { fetch } from './http-client.ts';
import type { GatewayMetrics } from './metrics.ts';

export interface IdTokenSourceOptions {
  metadataHost: string;
  metrics: GatewayMetrics;
  /** Fetch a new token this long before the cached one expires. */
  refreshBeforeExpiryMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

export interface IdTokenSource {
  /** An ID token whose audience is the given URL. */
  get(audience: string): Promise<string>;
  /** The cached token for an audience while it is fresh, without any I/O or promise. */
  cached(audience: string): string | undefined;
}

export class IdTokenUnavailableError extends Error {
  override readonly name = 'IdTokenUnavailableError';
}

/** Cloud Run checks the audience against the service URL: scheme and host, no path. */
export function audienceFor(url: string): string {
  return new URL(url).origin;
}

export function createIdTokenSource(options: IdTokenSourceOptions): IdTokenSource {
  const now = options.now ?? Date.now;
  const refreshBeforeExpiryMs = options.refreshBeforeExpiryMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const cached = new Map<string, { token: string; refreshAt: number }>();
  const inflight = new Map<string, Promise<string>>();

  async function fetchToken(audience: string): Promise<string> {
    const url = new URL(`http://${options.metadataHost}/computeMetadata/v1/instance/service-accounts/default/identity`);
    url.searchParams.set('audience', audience);
    url.searchParams.set('format', 'full');
    let token: string;
    try {
      const response = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (!response.ok) throw new IdTokenUnavailableError(`metadata server answered HTTP ${response.status} for audience ${audience}`);
      token = (await response.text()).trim();
    } catch (error) {
      options.metrics.idTokenFetches.inc({ result: 'error' });
      throw error instanceof IdTokenUnavailableError ? error : new IdTokenUnavailableError(`metadata server unreachable: ${error instanceof Error ? error.message : String(error)}`);
    }
    let exp: unknown;
    try {
      exp = decodeJwt(token).exp;
    } catch {
      options.metrics.idTokenFetches.inc({ result: 'error' });
      throw new IdTokenUnavailableError(`metadata server returned something that is not a JWT for audience ${audience}`);
    }
    options.metrics.idTokenFetches.inc({ result: 'ok' });
    if (typeof exp === 'number') cached.set(audience, { token, refreshAt: exp * 1000 - refreshBeforeExpiryMs });
    return token;
  }

  return {
    cached(audience) {
      const hit = cached.get(audience);
      return hit && hit.refreshAt > now() ? hit.token : undefined;
    },
    get(audience) {
      const hit = cached.get(audience);
      if (hit && hit.refreshAt > now()) return Promise.resolve(hit.token);
      let pending = inflight.get(audience);
      if (pending === undefined) {
        pending = fetchToken(audience).finally(() => inflight.delete(audience));
        inflight.set(audience, pending);
      }
      return pending;
    },
  };
}
