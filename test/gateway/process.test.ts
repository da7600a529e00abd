// The gateway as a process: `node --import tsx gateway/src/main.ts` (what `make gateway` runs)
// refuses a bad environment with every problem listed and exit code 2; the compiled entry the
// container runs serves from the documented variables and, on SIGTERM, stops taking requests,
// finishes the ones in flight and exits well within Cloud Run's 10 seconds.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildGateway } from '../../gateway/build.ts';
import { repoRoot, run } from '../helpers/process.ts';
import { TestStack, bearer, postGraphQL, waitUntilReady } from './support/gateway.ts';
import { freePort } from './support/redis.ts';

let stack: TestStack;
let buildDir: string;

before(async () => {
  stack = await TestStack.start();
  buildDir = mkdtempSync(join(tmpdir(), 'gateway-build-'));
  // The image puts node_modules next to the compiled entry; so does this.
  symlinkSync(join(repoRoot, 'node_modules'), join(buildDir, 'node_modules'));
  await buildGateway(join(buildDir, 'gateway.mjs'));
});
after(async () => {
  await stack?.close();
  rmSync(buildDir, { recursive: true, force: true });
});

test('a bad environment: every problem at once, exit code 2, no secret echoed', async () => {
  const secretFile = join(stack.dir, 'short-secret');
  writeFileSync(secretFile, 'too-short');
  const r = await run(process.execPath, ['--no-webstorage', '--import', 'tsx', 'gateway/src/main.ts'], {
    env: {
      PORT: 'eighty',
      SUPABASE_URL: 'https://abc.supabase.co/auth/v1',
      USERS_SERVICE_URL: undefined,
      REDIS_URL: 'http://:hunter2-redis-password@127.0.0.1:6379',
      IDENTITY_CACHE_TTL_SECONDS: '0',
      CLIENT_INTERNAL_ID_MODE: 'drop',
      PUBLIC_OPERATIONS: 'AppVersion,not a name',
      USERS_LOOKUP_QUERY: 'query Lookup($id: String!) { userBySupabaseId(supabaseId: $id) { id } }',
      SUPERGRAPH: '/nonexistent/supergraph.graphql',
      HIVE_CDN_KEY: 'cdn-secret-value-123',
      SUPABASE_JWT_SECRET_FILE: secretFile,
      SUBGRAPH_ID_TOKENS: 'yes',
      SHUTDOWN_TIMEOUT_SECONDS: '30',
      MAX_TOKENS: '10',
      RATE_LIMIT_PER_USER: 'lots',
      INTERNAL_FIELDS: 'userBySupabaseId',
    },
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 2, r.all);
  assert.equal(r.stdout, '');
  const expected = [
    /PORT="eighty" is not valid: expected a whole number/,
    /SUBGRAPH_ID_TOKENS="yes" is not valid: expected true or false/,
    /CLIENT_INTERNAL_ID_MODE="drop" is not valid/,
    /IDENTITY_CACHE_TTL_SECONDS=0 is not valid/,
    /SHUTDOWN_TIMEOUT_SECONDS=30 is not valid: .*Cloud Run kills the container 10 s after SIGTERM/,
    /SUPABASE_URL=https:\/\/abc\.supabase\.co\/auth\/v1 is not valid: give the project URL without a path/,
    /USERS_SERVICE_URL is not set/,
    /SUPABASE_JWT_SECRET_FILE=.* holds fewer than 32 characters/,
    /USERS_LOOKUP_QUERY is not valid: it does not declare the variable \$supabaseId/,
    /REDIS_URL=.* is not valid: expected redis:\/\/host:port/,
    /PUBLIC_OPERATIONS contains "AppVersion", an operation name: .*sha256/,
    /PUBLIC_OPERATIONS contains "not a name", which is not a sha256 hash/,
    /MAX_TOKENS=10 is not valid: expected a whole number from 100 to 50000/,
    /RATE_LIMIT_PER_USER="lots" is not valid: expected a whole number/,
    /INTERNAL_FIELDS contains "userBySupabaseId": expected Type\.field entries/,
    /Both SUPERGRAPH and HIVE_CDN_ENDPOINT\/HIVE_CDN_KEY are set/,
    /SUPERGRAPH=\/nonexistent\/supergraph\.graphql is neither an http\(s\) URL nor an existing file/,
    /HIVE_CDN_KEY is set but HIVE_CDN_ENDPOINT is not/,
  ];
  for (const pattern of expected) assert.match(r.stderr, pattern);
  assert.match(r.stderr, new RegExp(`has ${expected.length} problem\\(s\\)`), r.stderr);
  assert.ok(!r.stderr.includes('hunter2-redis-password'), 'the Redis password is hidden');
  assert.ok(!r.stderr.includes('cdn-secret-value-123'), 'the CDN key is never printed');
  assert.ok(!r.stderr.includes('too-short'), 'the secret file content is never printed');
});

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

async function startProcess(args: string[], cwd: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), METRICS_PORT: String(await freePort()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${output}`);
  }
  return { child, url, output: () => output, exited };
}

test('`make gateway` (main.ts under tsx) starts from the documented variables and stops on SIGTERM', async () => {
  const gateway = await startProcess(['--no-webstorage', '--import', 'tsx', 'gateway/src/main.ts'], repoRoot, {
    SUPABASE_URL: stack.issuer.url,
    USERS_SERVICE_URL: stack.mesh.usersUrl,
    SUPERGRAPH: stack.supergraphPath,
  });
  try {
    const ready = (await (await fetch(`${gateway.url}/readiness`)).json()) as { checks: Record<string, string> };
    assert.deepEqual(ready.checks, { supergraph: 'loaded', redis: 'disabled', jwks: 'loaded' });
    assert.equal((await postGraphQL(`${gateway.url}/graphql`, { query: '{ me { internalId } }' })).status, 401);
    gateway.child.kill('SIGTERM');
    assert.equal((await gateway.exited).code, 0, gateway.output());
  } finally {
    gateway.child.kill('SIGKILL');
  }
});

test('the compiled entry (the container image) serves from the environment and drains on SIGTERM', async () => {
  const gateway = await startProcess([join(buildDir, 'gateway.mjs')], buildDir, {
    SUPABASE_URL: stack.issuer.url,
    USERS_SERVICE_URL: stack.mesh.usersUrl,
    SUPERGRAPH: stack.supergraphPath,
    IMAGE_TAG: 'v9.9.9',
    SHUTDOWN_TIMEOUT_SECONDS: '8',
  });
  try {
    const sub = randomUUID();
    stack.mesh.register(sub, 'iid-process');
    const token = await stack.issuer.sign({ sub });
    const health = (await (await fetch(`${gateway.url}/healthcheck`)).json()) as { version: string };
    assert.equal(health.version, 'v9.9.9');
    assert.deepEqual((await postGraphQL(`${gateway.url}/graphql`, { query: '{ me { internalId } }' }, bearer(token))).body.data, { me: { internalId: 'iid-process' } });

    // A request that takes 1.5 s is in flight when SIGTERM arrives.
    const inFlight = postGraphQL(`${gateway.url}/graphql`, { query: '{ slow(ms: 1500) }' }, bearer(token));
    await new Promise((r) => setTimeout(r, 300));
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(fetch(`${gateway.url}/healthcheck`), 'no new connections are accepted while draining');

    const finished = await inFlight;
    assert.equal(finished.status, 200);
    assert.deepEqual(finished.body.data, { slow: 'waited 1500 ms' });
    const { code, at } = await gateway.exited;
    assert.equal(code, 0, gateway.output());
    assert.ok(at - signalledAt < 8_000, `exited ${at - signalledAt} ms after SIGTERM`);
    assert.match(gateway.output(), /shutting down: no new requests, draining in-flight ones/);
    assert.match(gateway.output(), /"message":"gateway stopped"/);
  } finally {
    gateway.child.kill('SIGKILL');
  }
});

test('TRACE_EXPORTER=console writes the spans of a request Cloud Run sampled to stdout (the compiled entry)', async () => {
  const gateway = await startProcess([join(buildDir, 'gateway.mjs')], buildDir, {
    SUPABASE_URL: stack.issuer.url,
    USERS_SERVICE_URL: stack.mesh.usersUrl,
    SUPERGRAPH: stack.supergraphPath,
    TRACE_EXPORTER: 'console',
  });
  try {
    const traceId = randomUUID().replace(/-/g, '');
    const res = await postGraphQL(`${gateway.url}/graphql`, { query: '{ me { internalId } }' }, { traceparent: `00-${traceId}-${'ab'.repeat(8)}-01` });
    assert.equal(res.status, 401);
    const deadline = Date.now() + 5_000;
    while (!gateway.output().includes(traceId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(gateway.output(), new RegExp(`traceId: '${traceId}'`), gateway.output().slice(-2000));
  } finally {
    gateway.child.kill('SIGKILL');
  }
});
