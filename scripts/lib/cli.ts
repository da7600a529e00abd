// Typed entry points for the outside tools. Every command a runbook runs is built here, so
// each tool is found the same way (TOFU_BIN, GCLOUD_BIN, SUPABASE_BIN) and explained the same
// way when it is missing.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { commandFactory, type Program } from './command.ts';
import { repoRoot } from './paths.ts';

// The configuration's required_version (infra/environments/production/versions.tf); a test keeps them equal.
export const TOFU_MIN_VERSION = '1.11.0';

function fromEnv(overrideEnv: string, fallback: string) {
  return (env: NodeJS.ProcessEnv) => ({ file: env[overrideEnv] || fallback, leadingArgs: [] });
}

export const TOFU: Program = {
  display: 'tofu',
  overrideEnv: 'TOFU_BIN',
  resolve: fromEnv('TOFU_BIN', 'tofu'),
  installHint: `Install OpenTofu ${TOFU_MIN_VERSION} or newer: https://opentofu.org/docs/intro/install/ (or set TOFU_BIN to its path)`,
};

export const GCLOUD: Program = {
  display: 'gcloud',
  overrideEnv: 'GCLOUD_BIN',
  resolve: fromEnv('GCLOUD_BIN', 'gcloud'),
  installHint: 'Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install (or set GCLOUD_BIN to its path)',
};

export const SUPABASE: Program = {
  // The runbook uses the CLI version pinned in package.json, exactly as the scripts do.
  display: 'npx supabase',
  overrideEnv: 'SUPABASE_BIN',
  resolve: fromEnv('SUPABASE_BIN', join(repoRoot, 'node_modules', '.bin', 'supabase')),
  installHint: 'Run `npm ci` in the repository to install the pinned Supabase CLI (or set SUPABASE_BIN to its path)',
};

export const CURL: Program = {
  display: 'curl',
  resolve: () => ({ file: 'curl', leadingArgs: [] }),
  installHint: 'Install curl (Debian/Ubuntu: apt-get install curl)',
};

export const GIT: Program = {
  display: 'git',
  resolve: () => ({ file: 'git', leadingArgs: [] }),
  installHint: 'Install git: https://git-scm.com/downloads',
};

export const MAKE: Program = {
  display: 'make',
  // A make started from a make recipe announces directories; the runbook line stays `make <target>`.
  resolve: () => ({ file: 'make', leadingArgs: ['--no-print-directory'] }),
  installHint: 'Install GNU make (Debian/Ubuntu: apt-get install make)',
};

/** This repository's own TypeScript tools (dev/), run the way the Makefile runs scripts. */
export const NODE: Program = {
  display: 'node --import tsx',
  resolve: () => ({ file: process.execPath, leadingArgs: ['--import', 'tsx'] }),
  installHint: 'Install Node.js 26 (see .node-version) and run `npm ci`',
};

export const tofu = commandFactory(TOFU);
export const node = commandFactory(NODE);
export const gcloud = commandFactory(GCLOUD);
export const supabase = commandFactory(SUPABASE);
export const curl = commandFactory(CURL);
export const git = commandFactory(GIT);
/** Another runbook as one step of this one: the runbook shows `make <target>`, and so it runs. */
export const make = (target: string) => commandFactory(MAKE)`${target}`.liveOutput();

/** Find an executable the way a shell would; null when it is not there. */
export function findExecutable(file: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = file.includes('/') ? [file] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, file));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}
