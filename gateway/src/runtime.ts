// The embedded Hive Gateway runtime and its plugins, one per concern. The runtime's own security
// options (maxTokens, maxDepth, blockFieldSuggestions, rateLimiting, ...) are read only by Hive's
// command line, never by createGatewayRuntime, so each protection is a plugin added here, and a
// test proves each one works. Identity and the protections reach the runtime chained into one
// plugin, which calls their hooks in the same order (plugin-chain.ts).
//
// Order matters where hooks meet: identity first (every later hook reads the caller from the
// context), then the rate limits (they charge the caller identity found), then the limits on the
// document, the internal fields, and the hints removed from errors last.

// Values from the runtime package, never from @graphql-hive/gateway: that is Hive's command line,
// which loads its 22 MB Laboratory and every cache and transport (test/gateway/runtime-footprint).
import { createGatewayRuntime, type GatewayConfigSupergraph, type GatewayPlugin, type GatewayRuntime, type Logger } from '@graphql-hive/gateway-runtime';
import { useHiddenSuggestions } from './hidden-suggestions.ts';
import type { IdentityServices } from './identity-services.ts';
import { useGatewayIdentity, type SignedInRequests } from './identity-plugin.ts';
import { useInternalFields } from './internal-fields.ts';
import { useOperationLimits, type OperationLimits } from './operation-limits.ts';
import { chainPlugins } from './plugin-chain.ts';
import { DEFAULTS, type GatewayOptions } from './options.ts';
import type { ProtectionPart } from './protections.ts';
import { useRateLimits, type RateLimiter, type RateLimitSettings } from './rate-limits.ts';
import type { Refusals } from './refusals.ts';
import { trustedDocumentsSetting, type TrustedDocumentsManifest } from './trusted-documents.ts';
import { useTraceparentPropagation } from './trace-context.ts';

export const GRAPHQL_PATH = '/graphql';

export interface RuntimeParts {
  options: GatewayOptions;
  production: boolean;
  log: Logger;
  /** undefined runs the gateway without identity: the benchmark's baseline only. */
  identity: IdentityServices | undefined;
  signedIn: SignedInRequests;
  refusals: Refusals;
  limits: OperationLimits;
  internalFields: readonly string[];
  rateLimiter: RateLimiter;
  /** Per-second counts per user, in memory only. */
  burstLimiter: RateLimiter;
  rateLimits: RateLimitSettings;
  trustedDocuments: TrustedDocumentsManifest | undefined;
  /** Hive's merging of identical in-flight subgraph requests (tests of the second layer only). */
  mergeIdenticalSubgraphRequests: boolean;
  /** false leaves the protections out: the benchmark's baseline only. */
  protections: boolean;
  /** Protections left out one by one: the benchmark only. */
  leaveOut: ReadonlySet<ProtectionPart>;
  /** Hive's OpenTelemetry plugin when spans are exported (tracing.ts); it then propagates the trace itself. */
  tracing: GatewayPlugin | null;
}

export function createRuntime(parts: RuntimeParts): GatewayRuntime {
  const { options, production, identity, signedIn, refusals } = parts;
  const remoteSupergraph = options.supergraph === undefined || /^https?:\/\//i.test(options.supergraph);
  const supergraph: GatewayConfigSupergraph['supergraph'] =
    options.supergraph ?? { type: 'hive', endpoint: options.hiveCdnEndpoint!, key: options.hiveCdnKey! };
  const requireTrusted = options.requireTrustedDocuments === true;

  const plugins: GatewayPlugin[] = [
    // First, so its spans cover every later hook; it passes its own span's context to subgraphs.
    // Without it, Cloud Run's traceparent is passed on as received (before identity, whose
    // subgraph headers build on the ones set here).
    parts.tracing ?? useTraceparentPropagation(),
    // Identity and the protections in that order, as one plugin: the runtime's every hook costs
    // each request a couple of kilobytes of garbage, however little the hook does (plugin-chain.ts).
    chainPlugins([
      ...(identity
        ? [useGatewayIdentity({ authenticator: identity.authenticator, identities: identity.identities, idTokens: identity.idTokens, signedIn: parts.trustedDocuments ? signedIn : undefined })]
        : []),
      ...(parts.protections && !parts.leaveOut.has('rate-limits') ? [useRateLimits(parts.rateLimiter, parts.rateLimits, refusals, parts.burstLimiter)] : []),
      ...(parts.protections && !parts.leaveOut.has('operation-limits') ? [useOperationLimits(parts.limits, refusals)] : []),
      ...(parts.protections && !parts.leaveOut.has('internal-fields') ? [useInternalFields(parts.internalFields, refusals)] : []),
    ]),
    ...(parts.protections && production ? [useHiddenSuggestions()] : []),
  ];

  return withoutRuntimeSignalHandlers(() =>
    createGatewayRuntime({
      supergraph,
      pollingInterval: remoteSupergraph ? (options.supergraphPollSeconds ?? DEFAULTS.supergraphPollSeconds) * 1000 : undefined,
      logging: parts.log,
      landingPage: false,
      graphiql: !production,
      disableIntrospection: production ? {} : undefined,
      graphqlEndpoint: GRAPHQL_PATH,
      // The limits plugin refuses larger batches first, with its own code; this is the backstop.
      batching: { limit: parts.limits.maxBatchOperations },
      ...(parts.trustedDocuments
        ? {
            persistedDocuments: trustedDocumentsSetting({
              manifest: parts.trustedDocuments,
              allowArbitraryDocuments: (request) => !requireTrusted && signedIn.has(request),
            }),
          }
        : {}),
      // Merging identical in-flight subgraph requests rarely applies when every request carries
      // its user's identity, costs a copy of every result, and would hand one user's answer to
      // another the day the merge key missed a header.
      transportEntries: { '*.http': { options: { deduplicateInflightRequests: parts.mergeIdenticalSubgraphRequests } } },
      plugins: () => plugins,
    }),
  );
}

/**
 * Hive's runtime registers process-wide SIGTERM/SIGINT handlers that dispose it at once, which
 * aborts in-flight requests. Shutdown belongs to whoever owns the process (main.ts drains first),
 * so the handlers it adds are removed again.
 */
function withoutRuntimeSignalHandlers<T>(create: () => T): T {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const created = create();
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return created;
}
