// Compiles the gateway's own TypeScript into one ESM file for the container image, so production
// starts with plain `node` instead of a TypeScript loader. Dependencies stay external (loaded
// from node_modules): Hive Gateway's packages do not survive being bundled.
//
//   node --import tsx gateway/build.ts <outfile>

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Builds the container's entry, or another one (the benchmark's gateway process) the same way. */
export async function buildGateway(outfile: string, entry = fileURLToPath(new URL('./src/main.ts', import.meta.url))): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node26',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outfile = process.argv[2];
  if (!outfile) {
    process.stderr.write('usage: node --import tsx gateway/build.ts <outfile>\n');
    process.exit(2);
  }
  await buildGateway(outfile);
}
