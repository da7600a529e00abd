// One way to refuse a request for exceeding a limit: a GraphQL error with a stable
// `extensions.code`, a counter per limit, and a log line that says which limit, by how much and
// for whom, with at most a short excerpt of the document (never an anonymous caller's text in
// full). Log lines are themselves limited, so a flood of refused requests costs a counter
// increment each, not a log line each.

import type { Logger } from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { Identity } from './headers.ts';
import type { GatewayMetrics } from './metrics.ts';
import { sha256Hex } from './trusted-documents.ts';
import { LOG_EVENTS } from './log-events.ts';

export const LIMIT_CODES = {
  body_size: 'REQUEST_TOO_LARGE',
  batch_size: 'BATCH_TOO_LARGE',
  characters: 'MAX_CHARACTERS_EXCEEDED',
  tokens: 'MAX_TOKENS_EXCEEDED',
  depth: 'MAX_DEPTH_EXCEEDED',
  aliases: 'MAX_ALIASES_EXCEEDED',
  directives: 'MAX_DIRECTIVES_EXCEEDED',
  cost: 'MAX_COST_EXCEEDED',
  // Refused as if the field did not exist, which is what a client should believe.
  internal_field: 'GRAPHQL_VALIDATION_FAILED',
  rate_user: 'RATE_LIMITED',
  rate_address: 'RATE_LIMITED',
} as const;

export type Limit = keyof typeof LIMIT_CODES;

export interface RefusalDetails {
  /** What was measured against the limit, for the log (e.g. "depth 14 > 10"). */
  detail?: string;
  /** The caller, when known; anonymous otherwise. */
  identity?: Identity;
  /** The document text, when there is one: only its hash, size and a short excerpt are logged. */
  document?: string;
}

export interface Answer {
  /** The HTTP status and headers, where the refusal ends the whole HTTP request. */
  http?: { status: number; headers?: Record<string, string> };
  /** More for the client beside the code (e.g. when to retry, on a WebSocket). */
  extensions?: Record<string, unknown>;
}

export interface Refusals {
  /** Counts and logs a refusal; returns the error to answer with. */
  refuse(limit: Limit, message: string, details?: RefusalDetails, answer?: Answer): GraphQLError;
  /** Counts and logs a refusal answered by someone else (an error already built). */
  record(limit: Limit, details?: RefusalDetails): void;
}

const EXCERPT_CHARACTERS = 120;
/** Log lines per limit per interval; the rest are counted and reported with the next line. */
const LOG_LINES_PER_INTERVAL = 20;
const LOG_INTERVAL_MS = 10_000;

export function createRefusals(options: { log: Logger; metrics: GatewayMetrics; now?: () => number }): Refusals {
  const now = options.now ?? Date.now;
  const counters = Object.fromEntries(Object.keys(LIMIT_CODES).map((limit) => [limit, options.metrics.requestsRefused.labels({ limit })])) as Record<Limit, { inc(): void }>;
  const budget = new Map<Limit, { intervalStart: number; logged: number; suppressed: number }>();

  function record(limit: Limit, details: RefusalDetails = {}): void {
    counters[limit].inc();
    const t = now();
    let state = budget.get(limit);
    if (state === undefined || t - state.intervalStart >= LOG_INTERVAL_MS) {
      state = { intervalStart: t, logged: 0, suppressed: state?.suppressed ?? 0 };
      budget.set(limit, state);
    }
    if (state.logged >= LOG_LINES_PER_INTERVAL) {
      state.suppressed++;
      return;
    }
    state.logged++;
    const identity = details.identity;
    const document = details.document;
    options.log.warn(
      {
        event: LOG_EVENTS.requestRefused,
        limit,
        code: LIMIT_CODES[limit],
        ...(details.detail ? { detail: details.detail } : {}),
        caller: identity?.kind === 'user' ? 'user' : 'anonymous',
        ...(identity?.kind === 'user' ? { supabaseId: identity.supabaseId } : {}),
        ...(document !== undefined
          ? { documentSha256: sha256Hex(document), documentCharacters: document.length, excerpt: document.slice(0, EXCERPT_CHARACTERS) }
          : {}),
        ...(state.suppressed > 0 ? { suppressedBefore: state.suppressed } : {}),
      },
      'request refused: limit exceeded',
    );
    state.suppressed = 0;
  }

  return {
    record,
    refuse(limit, message, details, answer = {}) {
      record(limit, details);
      return createGraphQLError(message, {
        extensions: { code: LIMIT_CODES[limit], ...answer.extensions, ...(answer.http ? { http: answer.http } : {}) },
      });
    },
  };
}
