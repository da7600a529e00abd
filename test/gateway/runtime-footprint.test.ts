// The gateway embeds Hive's runtime, not Hive's command line. `@graphql-hive/gateway`'s main
// entry is the command line: it loads every cache, transport and pub/sub Hive ships and its
// Laboratory (GraphiQL), a 22 MB script held as source text, which alone made half of the
// gateway's heap (128 MB in use after a full collection against 70 MB without it) and lengthened
// every full collection. Types may still come from there; values must not.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { repoRoot } from '../helpers/process.ts';

/** Every module specifier resolved while `script` runs, as the module loader sees them. */
function resolvedWhile(script: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-footprint-'));
  try {
    const hook = join(dir, 'record.mjs');
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';
registerHooks({ resolve(specifier, context, next) { process.stderr.write('RESOLVED ' + specifier + '\\n'); return next(specifier, context); } });
`,
    );
    const r = spawnSync(process.execPath, ['--no-webstorage', '--import', pathToFileURL(hook).href, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return [...r.stderr.matchAll(/^RESOLVED (.+)$/gm)].map((m) => m[1]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the gateway's modules load Hive's runtime and never its command line or Laboratory", () => {
  const resolved = resolvedWhile("await import('./gateway/src/server.ts');");
  assert.ok(resolved.includes('@graphql-hive/gateway-runtime'), `the runtime is loaded (resolved: ${resolved.filter((s) => s.startsWith('@graphql-hive')).join(', ')})`);
  const cli = resolved.filter((s) => s === '@graphql-hive/gateway' || s.startsWith('@graphql-hive/render-laboratory') || s.startsWith('@graphql-hive/laboratory'));
  assert.deepEqual(cli, [], 'import values from @graphql-hive/gateway-runtime or @graphql-hive/logger, not from @graphql-hive/gateway');
});

test('the check sees the command line when it is loaded', () => {
  const resolved = resolvedWhile("await import('@graphql-hive/gateway');");
  assert.ok(resolved.includes('@graphql-hive/render-laboratory'), 'loading the command line resolves its Laboratory');
});
