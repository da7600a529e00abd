// Environment variables -> GatewayOptions, with every problem found in one pass so a person fixes
// the configuration once. Each problem names the variable, what is wrong and how to fix it.
// The same checks guard startGateway() when it is given an options object directly.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kind, OperationTypeNode, parse, type DocumentNode } from 'graphql';
import type { LogLevel } from '@graphql-hive/gateway';
import { isTypeAndField } from './internal-fields.ts';
import { DEFAULTS, isProduction, type GatewayOptions } from './options.ts';
import { parseRevocations } from './revoked-sessions.ts';
import { TRACE_EXPORTERS } from './tracing.ts';
import { isDocumentHash, readTrustedDocuments } from './trusted-documents.ts';

/** The variables the gateway reads, for documentation and for "did you mean" hints. */
export const GATEWAY_ENV_VARS = [
  'PORT', 'HOST', 'METRICS_PORT', 'METRICS_HOST', 'SUPABASE_URL', 'SUPABASE_JWT_SECRET_FILE', 'JWT_CLOCK_TOLERANCE_SECONDS',
  'USERS_SERVICE_URL', 'USERS_LOOKUP_QUERY', 'USERS_LOOKUP_PATH', 'USERS_SERVICE_TIMEOUT_MS',
  'REDIS_URL', 'REDIS_PASSWORD_FILE', 'REDIS_KEY_PREFIX', 'IDENTITY_CACHE_TTL_SECONDS', 'UNREGISTERED_CACHE_TTL_SECONDS',
  'CLIENT_INTERNAL_ID_MODE', 'PUBLIC_OPERATIONS', 'SUPERGRAPH', 'HIVE_CDN_ENDPOINT', 'HIVE_CDN_KEY', 'SUPERGRAPH_POLL_SECONDS',
  'SUBGRAPH_ID_TOKENS', 'GCE_METADATA_HOST', 'IMAGE_TAG', 'NODE_ENV', 'LOG_LEVEL', 'SHUTDOWN_TIMEOUT_SECONDS',
  'TRUSTED_DOCUMENTS_FILE', 'REQUIRE_TRUSTED_DOCUMENTS', 'INTERNAL_FIELDS',
  'MAX_REQUEST_BYTES', 'MAX_BATCH_OPERATIONS', 'MAX_DOCUMENT_CHARACTERS', 'MAX_TOKENS', 'MAX_DEPTH', 'MAX_ALIASES', 'MAX_DIRECTIVES', 'MAX_COST',
  'RATE_LIMIT_WINDOW_SECONDS', 'RATE_LIMIT_PER_USER', 'RATE_LIMIT_BURST_PER_USER', 'RATE_LIMIT_PER_ADDRESS', 'RATE_LIMIT_KEY_PREFIX', 'TRUSTED_PROXY_HOPS', 'FRONT_DOOR_HOST', 'GOOGLE_CLOUD_PROJECT',
  'TRACE_EXPORTER', 'TRACE_SAMPLE_RATIO', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'REVOKED_SESSIONS_FILE', 'REVOKED_SESSIONS_RELOAD_SECONDS',
] as const;

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const RESULT_PATH = /^[_A-Za-z][_0-9A-Za-z]*(\.[_A-Za-z][_0-9A-Za-z]*)*$/;

export interface ParsedEnvironment {
  options: GatewayOptions;
  problems: string[];
}

export function optionsFromEnv(env: NodeJS.ProcessEnv): ParsedEnvironment {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const integer = (name: string): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) {
      problems.push(`${name}="${v}" is not valid: expected a whole number. Set ${name} to digits only, e.g. ${name}=${exampleNumber(name)}.`);
      return undefined;
    }
    return Number(v);
  };
  const ratio = (name: string): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(v)) {
      problems.push(`${name}="${v}" is not valid: expected a number from 0 to 1, e.g. ${name}=0.1 (a tenth of requests).`);
      return undefined;
    }
    return Number(v);
  };
  const flag = (name: string): boolean | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    problems.push(`${name}="${v}" is not valid: expected true or false. Set ${name}=true or ${name}=false.`);
    return undefined;
  };

  const logLevel = text('LOG_LEVEL');
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel)) {
    problems.push(`LOG_LEVEL="${logLevel}" is not valid: expected one of ${LOG_LEVELS.join(', ')}. Set LOG_LEVEL=info or remove it.`);
  }
  const mode = text('CLIENT_INTERNAL_ID_MODE');
  if (mode !== undefined && mode !== 'ignore' && mode !== 'reject') {
    problems.push(`CLIENT_INTERNAL_ID_MODE="${mode}" is not valid: expected ignore (drop, log and count) or reject (answer 400). Set CLIENT_INTERNAL_ID_MODE=ignore or reject.`);
  }
  const list = (name: string) =>
    text(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);

  const options: GatewayOptions = {
    port: integer('PORT') ?? DEFAULTS.port,
    host: text('HOST'),
    metricsPort: integer('METRICS_PORT') ?? DEFAULTS.metricsPortFromEnv,
    metricsHost: text('METRICS_HOST'),
    supabaseUrl: text('SUPABASE_URL') ?? '',
    supabaseJwtSecretFile: text('SUPABASE_JWT_SECRET_FILE'),
    jwtClockToleranceSeconds: integer('JWT_CLOCK_TOLERANCE_SECONDS'),
    usersServiceUrl: text('USERS_SERVICE_URL') ?? '',
    usersLookupQuery: text('USERS_LOOKUP_QUERY'),
    usersLookupPath: text('USERS_LOOKUP_PATH'),
    usersServiceTimeoutMs: integer('USERS_SERVICE_TIMEOUT_MS'),
    redisUrl: text('REDIS_URL'),
    redisPasswordFile: text('REDIS_PASSWORD_FILE'),
    redisKeyPrefix: text('REDIS_KEY_PREFIX'),
    identityCacheTtlSeconds: integer('IDENTITY_CACHE_TTL_SECONDS'),
    unregisteredCacheTtlSeconds: integer('UNREGISTERED_CACHE_TTL_SECONDS'),
    clientInternalIdMode: mode === 'reject' ? 'reject' : mode === 'ignore' ? 'ignore' : undefined,
    publicOperations: list('PUBLIC_OPERATIONS'),
    trustedDocumentsFile: text('TRUSTED_DOCUMENTS_FILE'),
    requireTrustedDocuments: flag('REQUIRE_TRUSTED_DOCUMENTS'),
    internalFields: list('INTERNAL_FIELDS'),
    maxRequestBytes: integer('MAX_REQUEST_BYTES'),
    maxBatchOperations: integer('MAX_BATCH_OPERATIONS'),
    maxDocumentCharacters: integer('MAX_DOCUMENT_CHARACTERS'),
    maxTokens: integer('MAX_TOKENS'),
    maxDepth: integer('MAX_DEPTH'),
    maxAliases: integer('MAX_ALIASES'),
    maxDirectives: integer('MAX_DIRECTIVES'),
    maxCost: integer('MAX_COST'),
    rateLimitWindowSeconds: integer('RATE_LIMIT_WINDOW_SECONDS'),
    rateLimitPerUser: integer('RATE_LIMIT_PER_USER'),
    rateLimitBurstPerUser: integer('RATE_LIMIT_BURST_PER_USER'),
    rateLimitPerAddress: integer('RATE_LIMIT_PER_ADDRESS'),
    rateLimitKeyPrefix: text('RATE_LIMIT_KEY_PREFIX'),
    trustedProxyHops: integer('TRUSTED_PROXY_HOPS'),
    frontDoorHost: text('FRONT_DOOR_HOST'),
    supergraph: text('SUPERGRAPH'),
    hiveCdnEndpoint: text('HIVE_CDN_ENDPOINT'),
    hiveCdnKey: text('HIVE_CDN_KEY'),
    supergraphPollSeconds: integer('SUPERGRAPH_POLL_SECONDS'),
    subgraphIdTokens: flag('SUBGRAPH_ID_TOKENS'),
    gceMetadataHost: text('GCE_METADATA_HOST'),
    googleCloudProject: text('GOOGLE_CLOUD_PROJECT'),
    traceExporter: text('TRACE_EXPORTER') as GatewayOptions['traceExporter'],
    traceSampleRatio: ratio('TRACE_SAMPLE_RATIO'),
    traceEndpoint: text('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
    revokedSessionsFile: text('REVOKED_SESSIONS_FILE'),
    revokedSessionsReloadSeconds: integer('REVOKED_SESSIONS_RELOAD_SECONDS'),
    imageTag: text('IMAGE_TAG'),
    nodeEnv: text('NODE_ENV'),
    logLevel: LOG_LEVELS.includes(logLevel as LogLevel) ? (logLevel as LogLevel) : undefined,
    shutdownTimeoutSeconds: integer('SHUTDOWN_TIMEOUT_SECONDS'),
  };
  return { options, problems: [...problems, ...problemsWith(options)] };
}

function exampleNumber(name: string): number {
  const examples: Record<string, number> = {
    PORT: 4000,
    METRICS_PORT: 9464,
    IDENTITY_CACHE_TTL_SECONDS: 3600,
    SHUTDOWN_TIMEOUT_SECONDS: 8,
    MAX_REQUEST_BYTES: DEFAULTS.maxRequestBytes,
    MAX_TOKENS: DEFAULTS.maxTokens,
    MAX_COST: DEFAULTS.maxCost,
    RATE_LIMIT_PER_USER: DEFAULTS.rateLimitPerUser,
    RATE_LIMIT_BURST_PER_USER: DEFAULTS.rateLimitBurstPerUser,
    RATE_LIMIT_PER_ADDRESS: DEFAULTS.rateLimitPerAddress,
    RATE_LIMIT_WINDOW_SECONDS: DEFAULTS.rateLimitWindowSeconds,
  };
  return examples[name] ?? 5;
}

/** Every problem with an options object, worded in terms of the environment variables. */
export function problemsWith(options: GatewayOptions): string[] {
  const problems: string[] = [];
  const production = isProduction(options);

  const range = (name: string, value: number | undefined, min: number, max: number, why = '') => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${value} is not valid: expected a whole number from ${min} to ${max}${why}. Change ${name} to a value in that range.`);
    }
  };
  range('PORT', options.port, 0, 65535);
  range('METRICS_PORT', options.metricsPort, 0, 65535);
  if (options.metricsPort !== undefined && options.metricsPort !== 0 && options.metricsPort === options.port) {
    problems.push(`METRICS_PORT=${options.metricsPort} is the same as PORT: metrics must stay off the public port. Pick another METRICS_PORT (default ${DEFAULTS.metricsPortFromEnv}).`);
  }
  range('JWT_CLOCK_TOLERANCE_SECONDS', options.jwtClockToleranceSeconds, 0, 300);
  range('USERS_SERVICE_TIMEOUT_MS', options.usersServiceTimeoutMs, 50, 30_000);
  range('IDENTITY_CACHE_TTL_SECONDS', options.identityCacheTtlSeconds, 1, 7 * 86_400);
  range('UNREGISTERED_CACHE_TTL_SECONDS', options.unregisteredCacheTtlSeconds, 0, 60, ', so a user who just registered is not locked out');
  range('SUPERGRAPH_POLL_SECONDS', options.supergraphPollSeconds, 1, 86_400);
  range('SHUTDOWN_TIMEOUT_SECONDS', options.shutdownTimeoutSeconds, 1, 9, ' (Cloud Run kills the container 10 s after SIGTERM)');
  range('MAX_REQUEST_BYTES', options.maxRequestBytes, 1_024, 10 * 1024 * 1024);
  range('MAX_BATCH_OPERATIONS', options.maxBatchOperations, 1, 100);
  range('MAX_DOCUMENT_CHARACTERS', options.maxDocumentCharacters, 1_000, 1_000_000);
  range('MAX_TOKENS', options.maxTokens, 100, 50_000);
  range('MAX_DEPTH', options.maxDepth, 2, 100);
  range('MAX_ALIASES', options.maxAliases, 0, 1_000);
  range('MAX_DIRECTIVES', options.maxDirectives, 0, 1_000);
  range('MAX_COST', options.maxCost, 10, 10_000_000);
  range('RATE_LIMIT_WINDOW_SECONDS', options.rateLimitWindowSeconds, 1, 3_600);
  range('RATE_LIMIT_PER_USER', options.rateLimitPerUser, 0, 1_000_000, ' (0 switches the limit off)');
  range('RATE_LIMIT_BURST_PER_USER', options.rateLimitBurstPerUser, 0, 100_000, ' (0 switches the limit off)');
  range('RATE_LIMIT_PER_ADDRESS', options.rateLimitPerAddress, 0, 1_000_000, ' (0 switches the limit off)');
  range('TRUSTED_PROXY_HOPS', options.trustedProxyHops, 0, 10);
  if (options.frontDoorHost !== undefined) {
    if (!/^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/.test(options.frontDoorHost)) {
      problems.push(`FRONT_DOOR_HOST="${options.frontDoorHost}" is not valid: expected the front door's host name alone, e.g. api.example.com (no scheme, port or path).`);
    } else if (!options.trustedProxyHops) {
      problems.push('FRONT_DOOR_HOST is set but TRUSTED_PROXY_HOPS is 0: the front door adds one hop to the proxies in front of the gateway, so set TRUSTED_PROXY_HOPS to those (Cloud Run: 1).');
    }
  }
  if (options.metricsHost !== undefined && !/^[A-Za-z0-9.:-]{1,253}$/.test(options.metricsHost)) {
    problems.push(`METRICS_HOST="${options.metricsHost}" is not valid: expected an address to listen on, e.g. 127.0.0.1 (default) or 0.0.0.0 to let a scraper on the network read the metrics.`);
  }
  problems.push(...trustedDocumentProblems(options));
  for (const field of options.internalFields ?? []) {
    if (!isTypeAndField(field)) problems.push(`INTERNAL_FIELDS contains "${field}": expected Type.field entries separated by commas, e.g. INTERNAL_FIELDS=Query.userByEmail,User.stripeCustomerId.`);
  }
  if (options.rateLimitKeyPrefix !== undefined && !/^[\w:.-]{1,100}$/.test(options.rateLimitKeyPrefix)) {
    problems.push(`RATE_LIMIT_KEY_PREFIX="${options.rateLimitKeyPrefix}" is not valid: use up to 100 letters, digits, "_", ":", "." or "-", e.g. ${DEFAULTS.rateLimitKeyPrefix}`);
  }

  checkUrl(problems, 'SUPABASE_URL', options.supabaseUrl, {
    required: 'the Supabase project URL, e.g. https://<ref>.supabase.co (Project Settings > API)',
    https: production,
    noPath: true,
  });
  checkUrl(problems, 'USERS_SERVICE_URL', options.usersServiceUrl, {
    required: "users_service's GraphQL endpoint, e.g. https://users-service-<hash>.a.run.app/graphql",
    https: false,
  });

  if (options.supabaseJwtSecretFile !== undefined) {
    const secret = readableFile(problems, 'SUPABASE_JWT_SECRET_FILE', options.supabaseJwtSecretFile);
    if (secret !== undefined && secret.trim().length < 32) {
      problems.push(`SUPABASE_JWT_SECRET_FILE=${options.supabaseJwtSecretFile} holds fewer than 32 characters: it must contain the project's JWT secret (Project Settings > API > JWT Settings), or unset the variable to accept only asymmetric keys.`);
    }
  }

  if (options.usersLookupQuery !== undefined) {
    const wrong = lookupQueryProblem(options.usersLookupQuery);
    if (wrong) problems.push(`USERS_LOOKUP_QUERY is not valid: ${wrong}. It must be one GraphQL query that declares $supabaseId, e.g. the default: ${DEFAULTS.usersLookupQuery}`);
  }
  if (options.usersLookupPath !== undefined && !RESULT_PATH.test(options.usersLookupPath)) {
    problems.push(`USERS_LOOKUP_PATH="${options.usersLookupPath}" is not valid: expected field names joined by dots, e.g. ${DEFAULTS.usersLookupPath}.`);
  }

  if (options.redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(options.redisUrl)) {
    problems.push(`REDIS_URL=${redactUrl(options.redisUrl)} is not valid: expected redis://host:port or rediss://host:port (TLS). Fix it, or unset REDIS_URL to use the in-process cache only.`);
  }
  if (options.redisPasswordFile !== undefined) {
    if (options.redisUrl === undefined) problems.push('REDIS_PASSWORD_FILE is set but REDIS_URL is not: set REDIS_URL too, or unset REDIS_PASSWORD_FILE.');
    readableFile(problems, 'REDIS_PASSWORD_FILE', options.redisPasswordFile);
  }
  if (options.redisKeyPrefix !== undefined && !/^[\w:.-]{1,100}$/.test(options.redisKeyPrefix)) {
    problems.push(`REDIS_KEY_PREFIX="${options.redisKeyPrefix}" is not valid: use up to 100 letters, digits, "_", ":", "." or "-", e.g. ${DEFAULTS.redisKeyPrefix}`);
  }

  if (options.clientInternalIdMode !== undefined && options.clientInternalIdMode !== 'ignore' && options.clientInternalIdMode !== 'reject') {
    problems.push(`CLIENT_INTERNAL_ID_MODE="${String(options.clientInternalIdMode)}" is not valid: expected ignore or reject.`);
  }

  const sources = [options.supergraph !== undefined && 'SUPERGRAPH', (options.hiveCdnEndpoint !== undefined || options.hiveCdnKey !== undefined) && 'HIVE_CDN_ENDPOINT/HIVE_CDN_KEY'].filter(Boolean);
  if (sources.length === 0) {
    problems.push('No supergraph: set SUPERGRAPH to a supergraph file or URL, or HIVE_CDN_ENDPOINT and HIVE_CDN_KEY to load it from the Hive CDN.');
  } else if (sources.length > 1) {
    problems.push('Both SUPERGRAPH and HIVE_CDN_ENDPOINT/HIVE_CDN_KEY are set: keep one supergraph source and unset the other.');
  }
  if (options.supergraph !== undefined) {
    if (/^https?:\/\//i.test(options.supergraph)) {
      checkUrl(problems, 'SUPERGRAPH', options.supergraph, { https: false });
    } else {
      const path = resolve(options.supergraph);
      if (!existsSync(path) || !statSync(path).isFile()) {
        problems.push(`SUPERGRAPH=${options.supergraph} is neither an http(s) URL nor an existing file: compose the supergraph first or point SUPERGRAPH at it.`);
      }
    }
  }
  if (options.hiveCdnEndpoint !== undefined || options.hiveCdnKey !== undefined) {
    if (options.hiveCdnEndpoint === undefined) problems.push('HIVE_CDN_KEY is set but HIVE_CDN_ENDPOINT is not: set the CDN endpoint of your Hive target (Hive Console > target > CDN).');
    else checkUrl(problems, 'HIVE_CDN_ENDPOINT', options.hiveCdnEndpoint, { https: production });
    if (options.hiveCdnKey === undefined) problems.push('HIVE_CDN_ENDPOINT is set but HIVE_CDN_KEY is not: create a CDN access token in Hive Console and set HIVE_CDN_KEY.');
  }

  if (options.googleCloudProject !== undefined && !/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(options.googleCloudProject)) {
    problems.push(`GOOGLE_CLOUD_PROJECT="${options.googleCloudProject}" is not valid: expected a project id such as mindmirror-prod (6-30 lowercase letters, digits and hyphens).`);
  }
  if (options.traceExporter !== undefined && !TRACE_EXPORTERS.includes(options.traceExporter)) {
    problems.push(`TRACE_EXPORTER="${String(options.traceExporter)}" is not valid: expected ${TRACE_EXPORTERS.join(', ')}.`);
  }
  if (options.traceExporter === 'cloud-trace' && options.googleCloudProject === undefined) {
    problems.push('TRACE_EXPORTER=cloud-trace needs GOOGLE_CLOUD_PROJECT (the project whose Cloud Trace receives the spans): set it, or TRACE_EXPORTER=off.');
  }
  if (options.traceSampleRatio !== undefined && !(options.traceSampleRatio >= 0 && options.traceSampleRatio <= 1)) {
    problems.push(`TRACE_SAMPLE_RATIO=${String(options.traceSampleRatio)} is not valid: expected a number from 0 to 1.`);
  }
  if (options.traceEndpoint !== undefined) checkUrl(problems, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', options.traceEndpoint, { https: production });
  if (options.revokedSessionsFile !== undefined) {
    const text = readableFile(problems, 'REVOKED_SESSIONS_FILE', options.revokedSessionsFile);
    if (text !== undefined) for (const p of parseRevocations(text).problems) problems.push(`REVOKED_SESSIONS_FILE=${options.revokedSessionsFile}: ${p}.`);
  }
  if (options.revokedSessionsReloadSeconds !== undefined && !(options.revokedSessionsReloadSeconds >= 1 && options.revokedSessionsReloadSeconds <= 3600)) {
    problems.push(`REVOKED_SESSIONS_RELOAD_SECONDS=${options.revokedSessionsReloadSeconds} is not valid: expected 1 to 3600 (seconds between reads of the list).`);
  }
  if (options.gceMetadataHost !== undefined && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(options.gceMetadataHost)) {
    problems.push(`GCE_METADATA_HOST="${options.gceMetadataHost}" is not valid: expected host or host:port without a scheme, e.g. metadata.google.internal or 127.0.0.1:8080.`);
  }
  if (options.imageTag !== undefined && !/^[\w.+-]{1,128}$/.test(options.imageTag)) {
    problems.push(`IMAGE_TAG="${options.imageTag}" is not valid: use up to 128 letters, digits, ".", "_", "+" or "-" (the image tag being deployed).`);
  }
  if (options.logLevel !== undefined && !LOG_LEVELS.includes(options.logLevel)) {
    problems.push(`LOG_LEVEL="${String(options.logLevel)}" is not valid: expected one of ${LOG_LEVELS.join(', ')}.`);
  }
  return problems;
}

/** PUBLIC_OPERATIONS, TRUSTED_DOCUMENTS_FILE and REQUIRE_TRUSTED_DOCUMENTS together. */
function trustedDocumentProblems(options: GatewayOptions): string[] {
  const problems: string[] = [];
  const read = options.trustedDocumentsFile !== undefined ? readTrustedDocuments(options.trustedDocumentsFile) : undefined;
  if (read) problems.push(...read.problems);
  const manifest = read?.manifest;
  const guide = 'see "Anonymous operations" in docs/infrastructure/gateway-auth.md';
  for (const entry of options.publicOperations ?? []) {
    if (GRAPHQL_NAME.test(entry) && !isDocumentHash(entry)) {
      const known = manifest?.hashesByOperationName.get(entry);
      problems.push(
        `PUBLIC_OPERATIONS contains "${entry}", an operation name: anonymous operations are trusted documents listed by the sha256 of their text, since a name is chosen by the caller (any fields under it would run). ` +
          (known ? `The manifest's ${entry} is ${known}: list that instead (${guide}).` : `Put the document in TRUSTED_DOCUMENTS_FILE and list its sha256 instead (${guide}).`),
      );
    } else if (!isDocumentHash(entry)) {
      problems.push(`PUBLIC_OPERATIONS contains "${entry}", which is not a sha256 hash (64 lowercase hex digits): list the hashes of trusted documents separated by commas (${guide}).`);
    } else if (options.trustedDocumentsFile === undefined) {
      problems.push(`PUBLIC_OPERATIONS lists ${entry} but TRUSTED_DOCUMENTS_FILE is not set: set it to the manifest that holds the document (${guide}).`);
    } else if (manifest && !manifest.documents.has(entry)) {
      problems.push(`PUBLIC_OPERATIONS lists ${entry}, which is not in TRUSTED_DOCUMENTS_FILE=${options.trustedDocumentsFile}: add the document to the manifest or remove the hash.`);
    }
  }
  if (options.requireTrustedDocuments === true && options.trustedDocumentsFile === undefined) {
    problems.push('REQUIRE_TRUSTED_DOCUMENTS=true needs TRUSTED_DOCUMENTS_FILE: without a manifest no document could run. Set the file, or REQUIRE_TRUSTED_DOCUMENTS=false.');
  }
  return problems;
}

function checkUrl(problems: string[], name: string, value: string | undefined, rule: { required?: string; https: boolean; noPath?: boolean }): void {
  if (value === undefined || value === '') {
    if (rule.required) problems.push(`${name} is not set: ${rule.required}. Set it in the environment.`);
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name}=${redactUrl(value)} is not a URL: expected something like ${name === 'SUPABASE_URL' ? 'https://<ref>.supabase.co' : 'https://host/path'}.`);
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${name}=${redactUrl(value)} is not valid: expected an http:// or https:// URL.`);
  } else if (rule.https && url.protocol !== 'https:') {
    problems.push(`${name}=${redactUrl(value)} is not valid in production: use https://.`);
  }
  if (rule.noPath && url.pathname !== '/' && url.pathname !== '') {
    problems.push(`${name}=${redactUrl(value)} is not valid: give the project URL without a path (the gateway adds /auth/v1 itself), e.g. ${url.origin}.`);
  }
}

function readableFile(problems: string[], name: string, path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by the gateway' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    problems.push(`${name}=${path} ${why}: point ${name} at the mounted secret file (e.g. /secrets/<secret>/value) or unset it.`);
    return undefined;
  }
}

function lookupQueryProblem(query: string): string | null {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch (error) {
    return `it does not parse (${error instanceof Error ? error.message : String(error)})`;
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return `it has ${operations.length} operations, expected exactly 1`;
  const op = operations[0]!;
  if (op.kind !== Kind.OPERATION_DEFINITION || op.operation !== OperationTypeNode.QUERY) return 'it is not a query';
  if (!op.variableDefinitions?.some((v) => v.variable.name.value === 'supabaseId')) return 'it does not declare the variable $supabaseId';
  return null;
}

/** The operation name of a lookup query, sent along so users_service can log it. */
export function lookupOperationName(query: string): string | undefined {
  const op = parse(query, { noLocation: true }).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return op?.kind === Kind.OPERATION_DEFINITION ? op.name?.value : undefined;
}

/** A URL fit for messages and logs: any password in it is hidden. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = '(hidden)';
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@\s]*):[^@/\s]*@/, '//$1:(hidden)@');
  }
}
