// Trusted-documents manifests for tests, in the flat shape the apps' build writes, and the ways a
// client names a stored document.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const APP_VERSION = 'query AppVersion { appVersion }';

export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes `{ "<sha256>": "<text>" }` for the documents and returns its path. */
export function writeManifest(dir: string, documents: readonly string[], name = 'trusted-documents.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(Object.fromEntries(documents.map((d) => [hashOf(d), d])), null, 2));
  return path;
}

/** A request body naming a stored document the Apollo way (extensions.persistedQuery). */
export function byHash(text: string, variables?: Record<string, unknown>): { extensions: Record<string, unknown>; variables?: Record<string, unknown> } {
  return { extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(text) } }, ...(variables ? { variables } : {}) };
}
