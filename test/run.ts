// `npm test`: every test/**/*.test.ts through node:test (one file list on every Node version, whatever its --test glob support).
// Arguments narrow the run: `npm test -- test/engine` or a single file.

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function findTests(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .filter((name) => name !== 'node_modules' && name !== 'fixtures')
    .flatMap((name) => findTests(join(path, name)))
    .sort();
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : [join(root, 'test')]).flatMap((t) => findTests(t)).map((f) => relative(root, f));
if (files.length === 0) {
  console.error(`no test files under ${targets.join(' ') || 'test/'}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--no-webstorage', '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
