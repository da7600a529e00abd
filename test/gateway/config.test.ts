// The environment -> options mapping: documented defaults, every rule with a variable that breaks
// it, and the same rules guarding startGateway() when it is handed an options object.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GATEWAY_ENV_VARS, optionsFromEnv, problemsWith, redactUrl } from '../../gateway/src/config.ts';
import { DEFAULTS } from '../../gateway/src/options.ts';

const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
const supergraph = join(dir, 'supergraph.graphql');
writeFileSync(supergraph, 'type Query { a: Int }');
after(() => rmSync(dir, { recursive: true, force: true }));

const minimal = { SUPABASE_URL: 'https://abc.supabase.co', USERS_SERVICE_URL: 'https://users.internal/graphql', SUPERGRAPH: supergraph };

test('the three required settings are enough; everything else has its documented default', () => {
  const { options, problems } = optionsFromEnv(minimal);
  assert.deepEqual(problems, []);
  assert.equal(options.port, 4000);
  assert.equal(options.metricsPort, 9464);
  assert.equal(options.supabaseUrl, 'https://abc.supabase.co');
  for (const unset of ['redisUrl', 'supabaseJwtSecretFile', 'clientInternalIdMode', 'publicOperations', 'subgraphIdTokens', 'trustedDocumentsFile', 'maxTokens', 'rateLimitPerUser', 'metricsHost'] as const) {
    assert.equal(options[unset], undefined, `${unset} left to its default`);
  }
  assert.equal(DEFAULTS.identityCacheTtlSeconds, 3600);
  assert.equal(DEFAULTS.clientInternalIdMode, 'ignore');
  assert.equal(DEFAULTS.unregisteredCacheTtlSeconds, 5);
  assert.equal(DEFAULTS.metricsHost, '127.0.0.1');
  assert.equal(DEFAULTS.maxRequestBytes, 102_400);
  assert.equal(DEFAULTS.rateLimitPerUser, 600);
});

test('values are parsed: lists, flags, numbers, modes', () => {
  const { options, problems } = optionsFromEnv({
    ...minimal,
    PORT: '8080',
    INTERNAL_FIELDS: ' Query.userByEmail, User.stripeCustomerId ,',
    MAX_TOKENS: '2000',
    RATE_LIMIT_PER_ADDRESS: '0',
    TRUSTED_PROXY_HOPS: '1',
    FRONT_DOOR_HOST: 'api.example.com',
    SUBGRAPH_ID_TOKENS: 'true',
    CLIENT_INTERNAL_ID_MODE: 'reject',
    IDENTITY_CACHE_TTL_SECONDS: '600',
    REDIS_URL: 'rediss://10.0.0.3:6378',
    LOG_LEVEL: 'debug',
  });
  assert.deepEqual(problems, []);
  assert.equal(options.port, 8080);
  assert.deepEqual(options.internalFields, ['Query.userByEmail', 'User.stripeCustomerId']);
  assert.equal(options.maxTokens, 2000);
  assert.equal(options.rateLimitPerAddress, 0, '0 switches the limit off');
  assert.equal(options.trustedProxyHops, 1);
  assert.equal(options.frontDoorHost, 'api.example.com');
  assert.match(optionsFromEnv({ ...minimal, FRONT_DOOR_HOST: 'api.example.com' }).problems.join('\n'), /FRONT_DOOR_HOST is set but TRUSTED_PROXY_HOPS is 0/);
  assert.equal(options.subgraphIdTokens, true);
  assert.equal(options.clientInternalIdMode, 'reject');
  assert.equal(options.identityCacheTtlSeconds, 600);
  assert.equal(options.logLevel, 'debug');
});

test('production asks for https and keeps metrics off the public port', () => {
  const { problems } = optionsFromEnv({
    ...minimal,
    NODE_ENV: 'production',
    SUPABASE_URL: 'http://abc.supabase.co',
    PORT: '9464',
  });
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems.join('\n'), /SUPABASE_URL=http:\/\/abc\.supabase\.co is not valid in production: use https:\/\//);
  assert.match(problems.join('\n'), /METRICS_PORT=9464 is the same as PORT/);
});

test('every limit has a range, reported with the variable and the fix', () => {
  const { problems } = optionsFromEnv({
    ...minimal,
    MAX_REQUEST_BYTES: '100',
    MAX_BATCH_OPERATIONS: '0',
    MAX_DEPTH: '1',
    MAX_COST: '5',
    RATE_LIMIT_WINDOW_SECONDS: '86400',
    TRUSTED_PROXY_HOPS: '11',
    METRICS_HOST: 'http://0.0.0.0',
    RATE_LIMIT_KEY_PREFIX: 'has spaces',
    RATE_LIMIT_BURST_PER_USER: '1000000',
    GOOGLE_CLOUD_PROJECT: 'Not_A_Project',
    FRONT_DOOR_HOST: 'https://api.example.com',
  });
  const all = problems.join('\n');
  assert.equal(problems.length, 11, all);
  for (const name of ['MAX_REQUEST_BYTES=100', 'MAX_BATCH_OPERATIONS=0', 'MAX_DEPTH=1', 'MAX_COST=5', 'RATE_LIMIT_WINDOW_SECONDS=86400', 'TRUSTED_PROXY_HOPS=11', 'METRICS_HOST="http://0.0.0.0"', 'RATE_LIMIT_KEY_PREFIX="has spaces"', 'RATE_LIMIT_BURST_PER_USER=1000000', 'GOOGLE_CLOUD_PROJECT="Not_A_Project"', 'FRONT_DOOR_HOST="https://api.example.com"']) {
    assert.ok(all.includes(`${name} is not valid`), `${name} reported: ${all}`);
  }
});

test('each supergraph source needs its pieces, and only one source at a time', () => {
  const cdn = { SUPABASE_URL: minimal.SUPABASE_URL, USERS_SERVICE_URL: minimal.USERS_SERVICE_URL };
  assert.deepEqual(optionsFromEnv({ ...cdn, HIVE_CDN_ENDPOINT: 'https://cdn.graphql-hive.com/artifacts/v1/abc', HIVE_CDN_KEY: 'k' }).problems, []);
  assert.match(optionsFromEnv({ ...cdn, HIVE_CDN_ENDPOINT: 'https://cdn.graphql-hive.com/x' }).problems.join('\n'), /HIVE_CDN_ENDPOINT is set but HIVE_CDN_KEY is not/);
  assert.match(optionsFromEnv(cdn).problems.join('\n'), /No supergraph: set SUPERGRAPH/);
  assert.deepEqual(optionsFromEnv({ ...cdn, SUPERGRAPH: 'https://example.org/supergraph.graphql' }).problems, []);
});

test('files that hold secrets must exist and be readable; their content is never quoted', () => {
  const shortSecret = join(dir, 'short');
  writeFileSync(shortSecret, 'not-long-enough-secret');
  const { problems } = optionsFromEnv({
    ...minimal,
    SUPABASE_JWT_SECRET_FILE: shortSecret,
    REDIS_PASSWORD_FILE: join(dir, 'missing'),
  });
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems.join('\n'), /SUPABASE_JWT_SECRET_FILE=.*holds fewer than 32 characters/);
  assert.match(problems.join('\n'), /REDIS_PASSWORD_FILE is set but REDIS_URL is not/);
  assert.match(problems.join('\n'), /REDIS_PASSWORD_FILE=.*missing does not exist/);
  assert.ok(!problems.join('\n').includes('not-long-enough-secret'));
});

test('the lookup operation is checked before it is ever sent', () => {
  const check = (query: string) => optionsFromEnv({ ...minimal, USERS_LOOKUP_QUERY: query }).problems.join('\n');
  assert.match(check('query {'), /USERS_LOOKUP_QUERY is not valid: it does not parse/);
  assert.match(check('mutation M($supabaseId: String!) { a(id: $supabaseId) { id } }'), /it is not a query/);
  assert.match(check('query A($supabaseId: String!) { a } query B { b }'), /it has 2 operations, expected exactly 1/);
  assert.equal(check('query Find($supabaseId: String!) { user(id: $supabaseId) { id } }'), '');
  assert.match(optionsFromEnv({ ...minimal, USERS_LOOKUP_PATH: 'user..id' }).problems.join('\n'), /USERS_LOOKUP_PATH="user\.\.id" is not valid/);
});

test('passwords in URLs are hidden in every message', () => {
  assert.equal(redactUrl('redis://:s3cret@10.0.0.3:6379'), 'redis://:(hidden)@10.0.0.3:6379');
  assert.equal(redactUrl('https://abc.supabase.co'), 'https://abc.supabase.co');
  const { problems } = optionsFromEnv({ ...minimal, REDIS_URL: 'memcached://user:s3cret@host' });
  assert.ok(!problems.join('\n').includes('s3cret'), problems.join('\n'));
});

test('startGateway() applies the same rules to an options object', async () => {
  const { startGateway, GatewayConfigError } = await import('../../gateway/src/server.ts');
  await assert.rejects(
    startGateway({ supabaseUrl: 'not a url', usersServiceUrl: '', identityCacheTtlSeconds: -1 }),
    (error: unknown) => {
      assert.ok(error instanceof GatewayConfigError);
      assert.equal(error.problems.length, 4, error.problems.join('\n'));
      return true;
    },
  );
  assert.deepEqual(problemsWith({ supabaseUrl: 'http://127.0.0.1:1', usersServiceUrl: 'http://127.0.0.1:2/graphql', supergraph }), []);
});

test('every variable the gateway reads is documented in gateway-auth.md', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/infrastructure/gateway-auth.md', import.meta.url), 'utf8');
  for (const name of GATEWAY_ENV_VARS) assert.match(doc, new RegExp('`' + name + '`'), `${name} is documented`);
});
