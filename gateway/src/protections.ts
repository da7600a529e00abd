// One gateway's limits, built from its options: what the runtime's plugins enforce (the document
// limits and the rate limits per user) and the refusals the HTTP server gives before the runtime
// sees a request (a caller already known to be over a limit, the body cap, the limit per address).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { BodyLimit } from './body-limit.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { OperationLimits } from './operation-limits.ts';
import { DEFAULTS, type GatewayOptions } from './options.ts';
import { RateLimiter, refuseAddressOverLimit, refuseKnownOverLimit, webSocketRateLimits, type RateLimitSettings } from './rate-limits.ts';
import type { Refusals } from './refusals.ts';

/** The protections one by one, for the benchmark that measures each one's cost. */
export const PROTECTION_PARTS = ['http-refusals', 'rate-limits', 'operation-limits', 'internal-fields'] as const;
export type ProtectionPart = (typeof PROTECTION_PARTS)[number];

export interface Protections {
  /** false: the benchmark's baseline, without any of them. */
  enabled: boolean;
  /** Left out although enabled: the benchmark only. */
  leaveOut: ReadonlySet<ProtectionPart>;
  limits: OperationLimits;
  rateLimiter: RateLimiter;
  /** Per-second counts per user, in memory only. */
  burstLimiter: RateLimiter;
  rateLimits: RateLimitSettings;
  maxRequestBytes: number;
  /** The 429 before the body; undefined without protections (the benchmark's baseline). */
  overLimit: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  /** The 413 before the body; undefined without protections. */
  bodyLimit: BodyLimit | undefined;
  /** Callers without a token, charged by address before the body (429); undefined when not limited. */
  addressLimit: ReturnType<typeof refuseAddressOverLimit>;
  /** Each WebSocket operation charged to its caller; undefined without protections. */
  webSocketRateLimit: ReturnType<typeof webSocketRateLimits> | undefined;
  close(): void;
}

export interface ProtectionParts {
  production: boolean;
  /** false leaves the HTTP server's refusals out (the runtime leaves its plugins out too). */
  enabled: boolean;
  /** Parts left out all the same (the benchmark's measure of each one). */
  leaveOut: ReadonlySet<ProtectionPart>;
  refusals: Refusals;
  metrics: GatewayMetrics;
  /** The shared counts, when Redis is configured. */
  redis: Redis | undefined;
  /** Who a token belongs to, when identity already verified it. */
  knownSubject: RateLimitSettings['knownSubject'];
}

export function createProtections(options: GatewayOptions, parts: ProtectionParts): Protections {
  const { production, refusals, metrics } = parts;
  const limits: OperationLimits = {
    maxBatchOperations: options.maxBatchOperations ?? DEFAULTS.maxBatchOperations,
    maxDocumentCharacters: options.maxDocumentCharacters ?? DEFAULTS.maxDocumentCharacters,
    maxTokens: options.maxTokens ?? DEFAULTS.maxTokens,
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    maxAliases: options.maxAliases ?? DEFAULTS.maxAliases,
    maxDirectives: options.maxDirectives ?? DEFAULTS.maxDirectives,
    maxCost: options.maxCost ?? DEFAULTS.maxCost,
    exposeLimits: !production,
  };
  const rateLimiter = new RateLimiter({
    windowSeconds: options.rateLimitWindowSeconds ?? DEFAULTS.rateLimitWindowSeconds,
    maxBuckets: DEFAULTS.rateLimitBuckets,
    syncIntervalMs: DEFAULTS.rateLimitSyncMs,
    redis: parts.redis,
    keyPrefix: options.rateLimitKeyPrefix ?? DEFAULTS.rateLimitKeyPrefix,
    metrics,
  });
  // Bursts are an instance's own business: one second is too short to share through Redis, and
  // only the callers of the last second need a bucket.
  const burstLimiter = new RateLimiter({ windowSeconds: 1, maxBuckets: DEFAULTS.rateLimitBuckets / 10, syncIntervalMs: DEFAULTS.rateLimitSyncMs, keyPrefix: '', metrics });
  const rateLimits: RateLimitSettings = {
    perUser: options.rateLimitPerUser ?? DEFAULTS.rateLimitPerUser,
    burstPerUser: options.rateLimitBurstPerUser ?? DEFAULTS.rateLimitBurstPerUser,
    knownSubject: parts.knownSubject,
    perAddress: options.rateLimitPerAddress ?? DEFAULTS.rateLimitPerAddress,
    trustedProxyHops: options.trustedProxyHops ?? DEFAULTS.trustedProxyHops,
    frontDoorHost: options.frontDoorHost?.toLowerCase(),
  };
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULTS.maxRequestBytes;
  const httpRefusals = parts.enabled && !parts.leaveOut.has('http-refusals');
  return {
    enabled: parts.enabled,
    leaveOut: parts.leaveOut,
    limits,
    rateLimiter,
    burstLimiter,
    rateLimits,
    maxRequestBytes,
    overLimit: httpRefusals ? refuseKnownOverLimit(rateLimiter, burstLimiter, rateLimits, refusals, maxRequestBytes) : undefined,
    bodyLimit: httpRefusals
      ? {
          maxBytes: maxRequestBytes,
          onRefused: (detail) => refusals.record('body_size', { detail }),
          message: production ? 'The request body is too large.' : `The request body is larger than ${maxRequestBytes} bytes.`,
        }
      : undefined,
    addressLimit: parts.enabled && !parts.leaveOut.has('rate-limits') ? refuseAddressOverLimit(rateLimiter, rateLimits, refusals) : undefined,
    webSocketRateLimit: parts.enabled && !parts.leaveOut.has('rate-limits') ? webSocketRateLimits(rateLimiter, rateLimits, refusals, burstLimiter) : undefined,
    close() {
      rateLimiter.close();
      burstLimiter.close();
    },
  };
}
