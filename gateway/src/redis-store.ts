// The shared layer of the identity cache: Supabase id -> internal id in Redis, so every gateway
// instance benefits from one lookup. Redis is an optimisation, never a dependency: every failure
// is counted and reported as a miss (redis-connection.ts makes failures fast).

import type { Redis } from 'ioredis';
import type { Logger } from '@graphql-hive/gateway';
import type { GatewayMetrics } from './metrics.ts';
import { LOG_EVENTS } from './log-events.ts';

export interface RedisIdentityStoreOptions {
  /** The gateway's Redis connection (redis-connection.ts); its owner closes it. */
  client: Redis;
  keyPrefix: string;
  log: Logger;
  metrics: GatewayMetrics;
}

export type RedisState = 'ready' | 'down';

export class RedisIdentityStore {
  private readonly client: Redis;
  private reportedDown = false;

  constructor(private readonly options: RedisIdentityStoreOptions) {
    this.client = options.client;
    this.client.on('error', (error: Error) => this.markDown(error));
    this.client.on('ready', () => this.markUp());
  }

  get state(): RedisState {
    return this.client.status === 'ready' ? 'ready' : 'down';
  }

  /** The cached internal id, or undefined on a miss or any failure. */
  async get(supabaseId: string): Promise<string | undefined> {
    if (this.client.status !== 'ready') return this.failed('get');
    try {
      const value = await this.client.get(this.options.keyPrefix + supabaseId);
      this.markUp();
      return value ?? undefined;
    } catch (error) {
      return this.failed('get', error);
    }
  }

  async set(supabaseId: string, internalId: string, ttlSeconds: number): Promise<void> {
    if (this.client.status !== 'ready') {
      this.failed('set');
      return;
    }
    try {
      await this.client.set(this.options.keyPrefix + supabaseId, internalId, 'EX', ttlSeconds);
      this.markUp();
    } catch (error) {
      this.failed('set', error);
    }
  }

  private failed(operation: 'get' | 'set', error?: unknown): undefined {
    this.options.metrics.redisErrors.inc({ operation });
    if (error) this.markDown(error);
    else if (!this.reportedDown) this.markDown(new Error(`Redis is not connected (${this.client.status})`));
    return undefined;
  }

  private markUp(): void {
    if (!this.reportedDown) return;
    this.reportedDown = false;
    this.options.log.info({ event: LOG_EVENTS.redisAvailable }, 'Redis is reachable again; the identity cache is shared again');
  }

  // One warning per outage, not one per request.
  private markDown(error: unknown): void {
    if (this.reportedDown) return;
    this.reportedDown = true;
    this.options.log.warn(
      { event: LOG_EVENTS.redisUnavailable, reason: error instanceof Error ? error.message : String(error) },
      'Redis unavailable; serving identities from memory and users_service until it is back',
    );
  }
}
