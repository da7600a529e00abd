// Supabase's signing keys, fetched from its JWKS endpoint. Unlike jose's createRemoteJWKSet this
// keeps serving the last good key set when a refresh fails (Supabase Auth down must not log
// everyone out), refreshes stale keys in the background, and fetches again on an unknown `kid`
// at most once per cooldown, so random kids cannot turn into a flood of outgoing requests.

import { createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters, type KeyObject, type CryptoKey } from 'jose';
import { fetch } from './http-client.ts';
import type { Logger } from '@graphql-hive/gateway';
import type { GatewayMetrics } from './metrics.ts';
import { LOG_EVENTS } from './log-events.ts';

export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

export interface RemoteJwksOptions {
  url: string;
  log: Logger;
  metrics: GatewayMetrics;
  /** Keys older than this are refreshed in the background (Supabase's edge caches them 10 min). */
  maxAgeMs?: number;
  /** Least time between two fetches triggered by an unknown kid or a failed background refresh. */
  cooldownMs?: number;
  /** Least time between two fetches while no key set has ever been loaded. */
  coldRetryMs?: number;
  timeoutMs?: number;
  maxBytes?: number;
  now?: () => number;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey | KeyObject>;

interface LoadedKeys {
  resolve: KeyResolver;
  kids: ReadonlySet<string>;
  fetchedAt: number;
}

// Only public key types: a symmetric (`oct`) member would let an HS256 token be checked against a
// key the attacker can read, the classic algorithm-confusion hole.
const ASYMMETRIC_KTY = new Set(['EC', 'RSA', 'OKP']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export class RemoteJwks {
  private keys: LoadedKeys | undefined;
  private refreshing: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private readonly maxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly coldRetryMs: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(private readonly options: RemoteJwksOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.coldRetryMs = options.coldRetryMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.now = options.now ?? Date.now;
  }

  get loaded(): boolean {
    return this.keys !== undefined;
  }

  /** Fetch once at startup so the first request does not wait; a failure is logged, not thrown. */
  warmUp(): Promise<void> {
    return this.refresh();
  }

  /** A jose key resolver (the second argument of jwtVerify). */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | KeyObject> => {
    const now = this.now();
    if (this.keys === undefined) {
      if (now - this.lastAttemptAt >= this.coldRetryMs || this.refreshing) await this.refresh();
      if (this.keys === undefined) throw new KeysUnavailableError('no Supabase signing keys could be loaded');
    } else if (now - this.keys.fetchedAt > this.maxAgeMs) {
      if (now - this.lastAttemptAt >= this.cooldownMs) void this.refresh();
    } else if (typeof header.kid === 'string' && !this.keys.kids.has(header.kid) && now - this.lastAttemptAt >= this.cooldownMs) {
      // A rotated-in key: wait for the fetch so the first token signed with it is accepted.
      await this.refresh();
    }
    const keys = this.keys as LoadedKeys;
    return keys.resolve(header, token);
  };

  private refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.lastAttemptAt = this.now();
    this.refreshing = this.fetchKeys()
      .then(
        (keys) => {
          this.keys = keys;
          this.options.metrics.jwksRefreshes.inc({ result: 'ok' });
        },
        (error: unknown) => {
          this.options.metrics.jwksRefreshes.inc({ result: 'error' });
          this.options.log.warn(
            { event: LOG_EVENTS.jwksRefreshFailed, reason: error instanceof Error ? error.message : String(error), keysCached: this.keys !== undefined },
            this.keys ? 'JWKS refresh failed; still verifying with the cached keys' : 'JWKS fetch failed; tokens cannot be verified yet',
          );
        },
      )
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async fetchKeys(): Promise<LoadedKeys> {
    const response = await fetch(this.options.url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`JWKS endpoint answered HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > this.maxBytes) throw new Error(`JWKS document is larger than ${this.maxBytes} bytes`);
    const document = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(document.keys)) throw new Error('JWKS document has no "keys" array');
    const keys = (document.keys as JWK[]).filter(
      (k) => k && typeof k === 'object' && ASYMMETRIC_KTY.has(String(k.kty)) && !PRIVATE_MEMBERS.some((m) => m in k),
    );
    if (keys.length === 0) throw new Error('JWKS document has no usable public keys');
    const set: JSONWebKeySet = { keys };
    return {
      resolve: createLocalJWKSet(set) as KeyResolver,
      kids: new Set(keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string')),
      fetchedAt: this.now(),
    };
  }
}
