// The arguments the gateway image gives Node.js (its NODE_OPTIONS, then the CMD's flags before
// the script), read from gateway/Dockerfile so that whatever else starts the compiled gateway
// (the benchmarks) starts it the same way, and a test can prove this Node accepts them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function imageNodeArguments(repoRoot: string): string[] {
  const dockerfile = readFileSync(join(repoRoot, 'gateway', 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const options = /NODE_OPTIONS="([^"]*)"/.exec(runtime)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(runtime);
  if (!cmd) throw new Error('gateway/Dockerfile: the runtime stage has no CMD ["...", "gateway.mjs"] line');
  const words = JSON.parse(cmd[1]!) as string[];
  return [...options, ...words.slice(0, -1)];
}
