// The gateway's one Redis connection, shared by the identity cache and the rate limits. Redis
// speeds the gateway up and shares state between instances, but is never needed to answer: a
// command fails fast while disconnected (no offline queue, no retries, a short timeout) and ioredis
// reconnects on its own in the background.

import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  password?: string;
  /** A hung Redis must not hold a request longer than this. */
  commandTimeoutMs: number;
}

export function connectRedis(options: RedisConnectionOptions): Redis {
  return new Redis(options.url, {
    ...(options.password ? { password: options.password } : {}),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 250, 2_000),
    lazyConnect: false,
  });
}

export async function closeRedis(client: Redis): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}
