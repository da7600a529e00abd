// Supabase user id -> MindMirror internal id, through three layers: this process's memory, the
// shared Redis cache, users_service. Concurrent first requests of one user share a single
// lookup. "Not registered yet" is remembered only briefly and only here, so a user who has just
// registered gets their id within seconds and no other instance ever caches the absence.

import { ExpiringLru } from './lru.ts';
import { hotCounter, type GatewayMetrics } from './metrics.ts';
import type { RedisIdentityStore } from './redis-store.ts';
import type { UsersLookup } from './users-lookup.ts';

export interface IdentityResolverOptions {
  lookup: UsersLookup;
  store?: RedisIdentityStore;
  /** How long Redis keeps a mapping (IDENTITY_CACHE_TTL_SECONDS). */
  ttlSeconds: number;
  /** How long memory keeps a mapping; shorter than ttlSeconds when Redis is the shared truth. */
  memoryTtlSeconds: number;
  /** How long "not registered" is remembered. */
  unregisteredTtlSeconds: number;
  memoryMaxEntries: number;
  metrics: GatewayMetrics;
  now?: () => number;
}

export interface IdentityResolver {
  /** The internal id, or null when the user is not registered; throws IdentityUnavailableError. */
  resolve(supabaseId: string): Promise<string | null>;
  /** What memory already knows (an id or null), or undefined; never any I/O. */
  remembered(supabaseId: string): string | null | undefined;
  /** Drop a remembered "not registered" (after the user's own mutation, which may have registered them). */
  forgetUnregistered(supabaseId: string): void;
}

export function createIdentityResolver(options: IdentityResolverOptions): IdentityResolver {
  const memory = new ExpiringLru<string | null>(options.memoryMaxEntries, options.now);
  const inflight = new Map<string, Promise<string | null>>();
  const { metrics, store } = options;
  const memoryHit = hotCounter(metrics.identityCache, { layer: 'memory', result: 'hit' });
  const memoryMiss = hotCounter(metrics.identityCache, { layer: 'memory', result: 'miss' });

  async function fromSharedLayers(supabaseId: string): Promise<string | null> {
    if (store) {
      const shared = await store.get(supabaseId);
      if (shared !== undefined) {
        metrics.identityCache.inc({ layer: 'redis', result: 'hit' });
        memory.set(supabaseId, shared, options.memoryTtlSeconds * 1000);
        return shared;
      }
      metrics.identityCache.inc({ layer: 'redis', result: 'miss' });
    }
    const internalId = await options.lookup(supabaseId);
    if (internalId === null) {
      memory.set(supabaseId, null, options.unregisteredTtlSeconds * 1000);
      return null;
    }
    memory.set(supabaseId, internalId, options.memoryTtlSeconds * 1000);
    if (store) await store.set(supabaseId, internalId, options.ttlSeconds);
    return internalId;
  }

  function remembered(supabaseId: string): string | null | undefined {
    const value = memory.get(supabaseId);
    if (value !== undefined) memoryHit.inc();
    return value;
  }

  return {
    remembered,
    resolve(supabaseId) {
      const known = remembered(supabaseId);
      if (known !== undefined) return Promise.resolve(known);
      memoryMiss.inc();
      let pending = inflight.get(supabaseId);
      if (pending === undefined) {
        pending = fromSharedLayers(supabaseId).finally(() => inflight.delete(supabaseId));
        inflight.set(supabaseId, pending);
      }
      return pending;
    },
    forgetUnregistered(supabaseId) {
      if (memory.get(supabaseId) === null) memory.delete(supabaseId);
    },
  };
}
