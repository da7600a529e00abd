// Brings a local or test database to the production schema: the Supabase-compatible
// bootstrap, then the production migrations pushed by the real supabase CLI, unchanged.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { applySupabaseBootstrap } from './bootstrap.ts';

/** The repository root: the CLI finds supabase/config.toml and supabase/migrations from here. */
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export function supabaseBin(): string {
  return process.env.SUPABASE_BIN || join(projectRoot, 'node_modules', '.bin', 'supabase');
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the supabase CLI in the repository root. Asynchronous on purpose: an embedded PGlite
 * server may live in this very process and must keep answering while the CLI talks to it.
 */
export function runSupabaseCli(args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(supabaseBin(), args, { cwd: projectRoot, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
      reject(error);
    });
    child.stdin?.end();
  });
}

/** `supabase db push --remote=<url> --yes`. */
export function pushMigrations(databaseUrl: string): Promise<CliRun> {
  return runSupabaseCli(['db', 'push', `--remote=${databaseUrl}`, '--yes']);
}

/**
 * Bootstrap, then push. Idempotent: on a database that already has both, the push reports
 * it up to date. Throws with the CLI's own output when the push fails (that output names the
 * host and port, never the password).
 */
export async function prepareLocalSupabaseDatabase(databaseUrl: string): Promise<void> {
  await applySupabaseBootstrap(databaseUrl);
  const push = await pushMigrations(databaseUrl);
  if (push.code !== 0) throw new Error(`supabase db push failed with exit code ${push.code}:\n${push.stdout}${push.stderr}`);
}
