// The machine-readable name of each log line something counts: production's log-based metrics
// (infra/modules/monitoring/log-metrics.tf) filter on `jsonPayload.event`, never on the message
// text, so a reworded message cannot silently stop a metric. test/gateway/log-metrics.test.ts
// feeds the lines the gateway really writes through those filters.

export const LOG_EVENTS = {
  /** One per identity header a client sent (label: source), dropped or refused (mode). */
  clientIdentityHeader: 'client_identity_header',
  /** A request refused because no identity could be established (label: code). */
  authRefused: 'auth_refused',
  /** users_service did not answer an identity lookup: the request failed closed. */
  identityLookupFailed: 'identity_lookup_failed',
  /** Redis became unreachable: identities come from memory and users_service until it is back. */
  redisUnavailable: 'redis_unavailable',
  redisAvailable: 'redis_available',
  /** The JWKS could not be fetched or refreshed. */
  jwksRefreshFailed: 'jwks_refresh_failed',
  /** A request refused by a limit or a rate limit (label: limit); lines are budgeted per limit. */
  requestRefused: 'request_refused',
  /** The revoked sessions list could not be read or has errors: the last good list stays. */
  revokedSessionsUnreadable: 'revoked_sessions_unreadable',
} as const;
