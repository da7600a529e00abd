// Per-caller rate limits: operations per fixed window, per signed-in user (their Supabase id, so
// a refreshed token does not start a new count) and per client address for callers without a
// token. Over the limit: HTTP 429 with Retry-After (seconds to the window's end), before any
// subgraph is called; anonymous callers are refused before their body is even read. A signed-in
// user also has a per-second limit on each instance: a fixed window alone lets a whole minute's
// budget arrive in its first second (or two budgets across a window's edge), which one process
// would have to read and refuse at full speed.
//
// Each instance counts in memory and, every RATE_LIMIT_SYNC_MS, adds its new counts to the shared
// ones in Redis in one script call for all callers and reads the totals back, so all instances
// enforce one limit. A caller whose total this instance has not read within that interval waits
// for one such call (shared with every other caller in the same moment) before it is judged, so a
// caller moving between instances finds the count the others left; a busy caller is judged from
// memory, with at most one interval of the other instances' counts not yet seen. When Redis is
// down nobody waits: the in-memory counts go on limiting each instance on its own.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import type { GraphQLError } from 'graphql';
import { clientAddress } from './client-address.ts';
import { IDENTITY, type IdentityCarrier } from './identity-plugin.ts';
import { ExpiringLru } from './lru.ts';
import type { GatewayMetrics } from './metrics.ts';
import { LIMIT_CODES, type Refusals } from './refusals.ts';

export interface RateLimiterOptions {
  windowSeconds: number;
  /** Buckets remembered at once; the least recently used beyond that are forgotten. */
  maxBuckets: number;
  syncIntervalMs: number;
  /** Shared counters; without it, each instance limits on its own. */
  redis?: Redis;
  keyPrefix: string;
  metrics: GatewayMetrics;
  now?: () => number;
}

interface Bucket {
  window: number;
  /** When this instance last read the shared total (0: never). */
  readAt: number;
  /** The total across instances, as Redis last reported it (this instance's synced counts included). */
  shared: number;
  /** Counted here, not yet sent. */
  unsent: number;
  /** Sent, answer pending. */
  sending: number;
}

// INCRBY each key by its delta, give a new key its window's end as expiry, return the totals.
const ADD_AND_READ = `
local totals = {}
for i, key in ipairs(KEYS) do
  local total = redis.call('INCRBY', key, ARGV[2 * i - 1])
  if total == tonumber(ARGV[2 * i - 1]) then redis.call('PEXPIREAT', key, ARGV[2 * i]) end
  totals[i] = total
end
return totals`;
const KEYS_PER_CALL = 500;

export class RateLimiter {
  private readonly windowMs: number;
  private readonly buckets: ExpiringLru<Bucket>;
  private readonly pending = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: Promise<void> | undefined;
  /** Until when some caller is known to be over its limit (the end of that window). */
  private overUntil = 0;
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    this.windowMs = options.windowSeconds * 1000;
    this.now = options.now ?? Date.now;
    this.buckets = new ExpiringLru<Bucket>(options.maxBuckets, this.now);
  }

  /**
   * Counts `weight` operations for a bucket. Resolves to 0 when they are allowed, otherwise to
   * the seconds until the window ends (nothing is counted then). Synchronous unless the shared
   * total has to be read first.
   */
  charge(bucketKey: string, limit: number, weight = 1): number | Promise<number> {
    const t = this.now();
    const window = Math.floor(t / this.windowMs);
    let bucket = this.buckets.get(bucketKey);
    if (bucket === undefined || bucket.window !== window) {
      bucket = { window, readAt: 0, shared: 0, unsent: 0, sending: 0 };
      this.buckets.set(bucketKey, bucket, (window + 1) * this.windowMs - t);
    }
    if (this.options.redis?.status === 'ready' && t - bucket.readAt >= this.options.syncIntervalMs) {
      this.pending.set(bucketKey, bucket);
      const judged = bucket;
      return this.syncNow().then(() => this.decide(bucketKey, judged, limit, weight));
    }
    return this.decide(bucketKey, bucket, limit, weight);
  }

  /** Whether any caller was refused in the current window here: until then, nobody needs a peek. */
  someoneOver(): boolean {
    return this.now() < this.overUntil;
  }

  /**
   * Whether a bucket is already over its limit, from what this instance knows, without counting
   * anything or waiting: seconds until the window ends when it is, 0 otherwise.
   */
  peek(bucketKey: string, limit: number): number {
    const t = this.now();
    const bucket = this.buckets.get(bucketKey);
    if (bucket === undefined || bucket.window !== Math.floor(t / this.windowMs)) return 0;
    if (bucket.shared + bucket.unsent + bucket.sending < limit) return 0;
    return Math.max(1, Math.ceil(((bucket.window + 1) * this.windowMs - t) / 1000));
  }

  private decide(bucketKey: string, bucket: Bucket, limit: number, weight: number): number {
    if (bucket.shared + bucket.unsent + bucket.sending + weight > limit) {
      const windowEnd = (bucket.window + 1) * this.windowMs;
      this.overUntil = Math.max(this.overUntil, windowEnd);
      return Math.max(1, Math.ceil((windowEnd - this.now()) / 1000));
    }
    bucket.unsent += weight;
    if (this.options.redis) {
      this.pending.set(bucketKey, bucket);
      this.timer ??= setTimeout(() => void this.sync(), this.options.syncIntervalMs).unref();
    }
    return 0;
  }

  /** One sync for every caller that needs a fresh total in this turn of the event loop. */
  private syncNow(): Promise<void> {
    this.immediate ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.immediate = undefined;
        void this.sync().then(resolve);
      }),
    );
    return this.immediate;
  }

  /** Sends what was counted since the last sync and reads the shared totals back. */
  async sync(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const redis = this.options.redis;
    if (!redis || this.pending.size === 0) return;
    const batch = [...this.pending].slice(0, KEYS_PER_CALL);
    for (const [key] of batch) this.pending.delete(key);
    // More than one call's worth waits for the next tick of the timer.
    if (this.pending.size > 0) this.timer = setTimeout(() => void this.sync(), this.options.syncIntervalMs).unref();
    const deltas = batch.map(([, bucket]) => {
      const delta = bucket.unsent;
      bucket.unsent = 0;
      bucket.sending += delta;
      return delta;
    });
    try {
      if (redis.status !== 'ready') throw new Error(`Redis is not connected (${redis.status})`);
      const keys = batch.map(([key, bucket]) => `${this.options.keyPrefix}${key}:${bucket.window}`);
      const args = batch.flatMap(([, bucket], i) => [deltas[i]!, (bucket.window + 1) * this.windowMs + 1_000]);
      const totals = (await redis.eval(ADD_AND_READ, keys.length, ...keys, ...args)) as number[];
      const readAt = this.now();
      batch.forEach(([, bucket], i) => {
        bucket.sending -= deltas[i]!;
        bucket.shared = Math.max(bucket.shared, Number(totals[i]));
        bucket.readAt = readAt;
      });
    } catch {
      this.options.metrics.redisErrors.inc({ operation: 'rate_limit' });
      // Judged from memory until the next attempt, instead of waiting on a failing Redis.
      for (const [, bucket] of batch) bucket.readAt = this.now();
      // Kept here: they go on counting locally and are sent once Redis answers again.
      batch.forEach(([key, bucket], i) => {
        bucket.sending -= deltas[i]!;
        bucket.unsent += deltas[i]!;
        if (!this.pending.has(key) && bucket.window === Math.floor(this.now() / this.windowMs)) this.pending.set(key, bucket);
      });
      this.timer ??= setTimeout(() => void this.sync(), Math.max(this.options.syncIntervalMs, 1_000)).unref();
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface RateLimitSettings {
  /** Operations per window per signed-in user; 0: no limit. */
  perUser: number;
  /** Operations per second per signed-in user on this instance; 0: no limit. */
  burstPerUser: number;
  /** The Supabase id of an Authorization value already verified, if any (identity-services.ts). */
  knownSubject?: (authorization: string) => string | undefined;
  /** Operations per window per client address without a token; 0: no limit. */
  perAddress: number;
  trustedProxyHops: number;
  /** The front door's host name: requests naming it passed one more proxy. */
  frontDoorHost?: string;
}

type Context = IdentityCarrier & { req?: IncomingMessage };

/** The body of every 429: the same message and code whichever path refuses. */
function tooManyBody(limit: 'rate_user' | 'rate_address', retryAfter: number): string {
  return JSON.stringify({ errors: [{ message: tooManyMessage(retryAfter), extensions: { code: LIMIT_CODES[limit] } }] });
}
const tooManyMessage = (retryAfter: number) => `Too many requests: try again in ${retryAfter} s.`;

/** A 429 from the node:http handler, before the body is read; `close`: the body stays unread and the connection closes. */
function answerTooMany(res: ServerResponse, limit: 'rate_user' | 'rate_address', retryAfter: number, close: boolean): void {
  const body = tooManyBody(limit, retryAfter);
  res.writeHead(429, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(retryAfter),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

const addressKey = (req: IncomingMessage | undefined, settings: RateLimitSettings) => `address:${clientAddress(req, settings.trustedProxyHops, settings.frontDoorHost)}`;

/** What a caller is charged, by user or by address; 0 when allowed, else the seconds to wait. */
function callerCharges(limiter: RateLimiter, settings: RateLimitSettings, burstLimiter: RateLimiter) {
  return {
    limitsUsers: settings.perUser > 0 || settings.burstPerUser > 0,
    limitsAddresses: settings.perAddress > 0,
    // The burst limiter has no Redis, so its verdict is always immediate.
    user(supabaseId: string, weight: number): number | Promise<number> {
      const key = `user:${supabaseId}`;
      const burst = settings.burstPerUser > 0 ? (burstLimiter.charge(key, settings.burstPerUser, weight) as number) : 0;
      if (burst > 0) return burst;
      return settings.perUser > 0 ? limiter.charge(key, settings.perUser, weight) : 0;
    },
    address(req: IncomingMessage | undefined): number | Promise<number> {
      return limiter.charge(addressKey(req, settings), settings.perAddress);
    },
  };
}

/**
 * Over HTTP: signed-in callers are charged once their identity is known, one count per operation
 * of a batch. Callers without a token are charged by address in the HTTP server, before the
 * runtime sees the request (refuseAddressOverLimit), and a caller whose token is already known and
 * who is already over the limit is refused there too (refuseKnownOverLimit), so a flood costs a
 * header each, not a body each.
 */
export function useRateLimits(limiter: RateLimiter, settings: RateLimitSettings, refusals: Refusals, burstLimiter: RateLimiter): GatewayPlugin {
  const charge = callerCharges(limiter, settings, burstLimiter);
  return {
    onRequestParse({ request, serverContext }) {
      if (!charge.limitsUsers || request.headers.get('authorization') === null) return undefined;
      const context = serverContext as Context;
      return {
        onRequestParseDone({ requestParserResult }) {
          const identity = context[IDENTITY];
          if (identity?.kind !== 'user') return undefined;
          const refuseUser = (retryAfter: number) => {
            if (retryAfter === 0) return;
            throw refusals.refuse('rate_user', tooManyMessage(retryAfter), { identity }, { http: { status: 429, headers: { 'retry-after': String(retryAfter) } } });
          };
          const verdict = charge.user(identity.supabaseId, Array.isArray(requestParserResult) ? requestParserResult.length : 1);
          return typeof verdict === 'number' ? refuseUser(verdict) : verdict.then(refuseUser);
        },
      };
    },
  };
}

/**
 * Callers without a token, charged by client address in the node:http handler before the body is
 * read; undefined when addresses are not limited. A caller over its limit gets 429 and the
 * connection closes with the body unread (a caller over its limit gets nothing more for free).
 */
export function refuseAddressOverLimit(limiter: RateLimiter, settings: RateLimitSettings, refusals: Refusals) {
  if (settings.perAddress <= 0) return undefined;
  return (req: IncomingMessage, res: ServerResponse): 'continue' | 'refused' | Promise<'continue' | 'refused'> => {
    // A browser's CORS preflight never carries a token, whoever sends it, and costs the runtime a
    // header: charged, it would spend a signed-in web user's requests from the address's budget.
    if (req.headers.authorization !== undefined || req.method === 'OPTIONS') return 'continue';
    const refuse = (retryAfter: number): 'continue' | 'refused' => {
      if (retryAfter === 0) return 'continue';
      refusals.record('rate_address');
      answerTooMany(res, 'rate_address', retryAfter, true);
      return 'refused';
    };
    const verdict = limiter.charge(addressKey(req, settings), settings.perAddress);
    // The limiter answers from memory when Redis fails; should it ever reject, the request goes on,
    // as it does whenever the shared count cannot be read.
    return typeof verdict === 'number' ? refuse(verdict) : verdict.then(refuse, () => 'continue' as const);
  };
}

/**
 * Over WebSocket every operation is charged as it arrives (one connection carries many), by the
 * identity its connection established, or by address without one. Resolves to the refusal that is
 * the operation's answer, or undefined when it may run. Called by the WebSocket endpoint itself,
 * not from a runtime hook every HTTP request would pay for.
 */
export function webSocketRateLimits(limiter: RateLimiter, settings: RateLimitSettings, refusals: Refusals, burstLimiter: RateLimiter) {
  const charge = callerCharges(limiter, settings, burstLimiter);
  return (context: Context): GraphQLError | undefined | Promise<GraphQLError | undefined> => {
    const identity = context[IDENTITY];
    const user = identity?.kind === 'user';
    if (user ? !charge.limitsUsers : !charge.limitsAddresses) return undefined;
    const refusal = (retryAfter: number) =>
      retryAfter === 0 ? undefined : refusals.refuse(user ? 'rate_user' : 'rate_address', tooManyMessage(retryAfter), { identity }, { extensions: { retryAfterSeconds: retryAfter } });
    const verdict = user ? charge.user(identity.supabaseId, 1) : charge.address(context.req);
    return typeof verdict === 'number' ? refusal(verdict) : verdict.then(refusal);
  };
}

/**
 * The cheapest refusal there is, for the node:http handler before the gateway sees the request:
 * a caller whose token is already known and who is already over a limit gets 429 before the body
 * is read and before any request object is built. A body the gateway would have accepted (its
 * length declared and within the cap) is then discarded by node:http and the connection kept:
 * draining at most the cap costs less than a new connection, and in production the connection is
 * the front end's, pooled for every caller. Any other body closes the connection unread.
 */
export function refuseKnownOverLimit(limiter: RateLimiter, burstLimiter: RateLimiter, settings: RateLimitSettings, refusals: Refusals, maxRequestBytes: number) {
  const over = (key: string) =>
    Math.max(settings.perUser > 0 ? limiter.peek(key, settings.perUser) : 0, settings.burstPerUser > 0 ? burstLimiter.peek(key, settings.burstPerUser) : 0);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    // Hashing the token to find its caller costs a little; only worth it while someone is over.
    if (!limiter.someoneOver() && !burstLimiter.someoneOver()) return false;
    const authorization = req.headers.authorization;
    if (authorization === undefined) return false;
    const known = settings.knownSubject?.(authorization);
    const retryAfter = known === undefined ? 0 : over(`user:${known}`);
    if (retryAfter === 0) return false;
    refusals.record('rate_user');
    const declared = req.headers['content-length'];
    const drainable = req.headers['transfer-encoding'] === undefined && (declared === undefined || Number(declared) <= maxRequestBytes);
    answerTooMany(res, 'rate_user', retryAfter, !drainable);
    return true;
  };
}
