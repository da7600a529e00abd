// Redis for tests. Shared-cache tests use the machine's Redis on 6379 under a unique key prefix
// they delete afterwards; fault tests start a throwaway redis-server of their own on a free port,
// because stopping the shared one would break everyone else's tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export function uniquePrefix(): string {
  return `test:gateway:${randomUUID()}:`;
}

export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function readKey(url: string, key: string): Promise<{ value: string | null; ttl: number }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const [value, ttl] = await Promise.all([redis.get(key), redis.ttl(key)]);
    return { value, ttl };
  } finally {
    redis.disconnect();
  }
}

/**
 * A port nothing listens on, below Linux's ephemeral range (32768 and up): a port the kernel hands
 * out for outgoing connections could be taken by one before a slow-starting process binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 after 50 attempts');
}

export class ThrowawayRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
    this.child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** The key's value once it is set (the gateway writes to Redis after it answers), or null after `timeoutMs`. */
export async function readKeyOnceSet(url: string, key: string, timeoutMs = 2_000): Promise<{ value: string | null; ttl: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const read = await readKey(url, key);
    if (read.value !== null || Date.now() > deadline) return read;
    await new Promise((r) => setTimeout(r, 50));
  }
}
