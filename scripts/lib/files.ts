// The only ways the runbooks write files: reports are redacted, secret-bearing files are 0600.
// Both write to a temporary name and rename, so an interrupted run never leaves half a file.

import { mkdirSync, renameSync, writeFileSync, appendFileSync, chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactor } from './redact.ts';

function writeAtomically(path: string, data: string | Uint8Array, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.partial`;
  writeFileSync(temp, data, { mode });
  chmodSync(temp, mode); // writeFileSync's mode is filtered by umask; be explicit
  renameSync(temp, path);
}

/** A report a person reads (outputs, summaries, manifests): secrets masked, owner-only. */
export function writeReport(path: string, text: string): void {
  writeAtomically(path, redactor.redact(text), 0o600);
}

/** A file that must keep secrets to be useful (a state backup): never masked, never shared. */
export function writeSecretFile(path: string, data: string | Uint8Array): void {
  writeAtomically(path, data, 0o600);
}

/** Append to a run log, masked, created owner-only. */
export function appendLog(path: string, text: string): void {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, '', { mode: 0o600 });
  }
  appendFileSync(path, redactor.redact(text));
}
