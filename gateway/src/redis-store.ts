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
  /** While Redis stays down, a reminder line this often, so an alert can tell an outage that lasts. */
  stillDownLogMs?: number;
}

export type RedisState = 'ready' | 'down';

export class RedisIdentityStore {
  private readonly client: Redis;
  private reportedDown = false;
  private downSince = 0;
  private reminder: NodeJS.Timeout | undefined;

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
    clearInterval(this.reminder);
    this.reminder = undefined;
    this.options.log.info({ event: LOG_EVENTS.redisAvailable }, 'Redis is reachable again; the identity cache is shared again');
  }

  // One warning per outage, not one per request.
  private markDown(error: unknown): void {
    if (this.reportedDown) return;
    this.reportedDown = true;
    this.downSince = Date.now();
    this.reminder = setInterval(() => {
      const downForSeconds = Math.round((Date.now() - this.downSince) / 1000);
      this.options.log.warn({ event: LOG_EVENTS.redisUnavailable, downForSeconds }, `Redis still unavailable after ${downForSeconds} s; serving identities from memory and users_service`);
    }, this.options.stillDownLogMs ?? 60_000).unref();
    this.options.log.warn(
      { event: LOG_EVENTS.redisUnavailable, reason: error instanceof Error ? error.message : String(error) },
      'Redis unavailable; serving identities from memory and users_service until it is back',
    );
  }

  /** Stops the reminder; the connection belongs to its owner. */
  close(): void {
    clearInterval(this.reminder);
    this.reminder = undefined;
  }
}
