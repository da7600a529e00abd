// make production-supabase: the production Supabase project as code. Push pending migrations,
// show the auth configuration diff and push it only when asked explicitly, then keep the
// project's URL and API keys in Secret Manager. Every command names the project itself
// (--remote), so nothing depends on a `supabase link` left in the working copy.

import { curl, supabase } from './lib/cli.ts';
import { configVar } from './lib/command.ts';
import { failureReason, type CommandResult } from './lib/exec.ts';
import { runIfMain } from './lib/engine.ts';
import { SUPABASE_ACCESS_TOKEN, SUPABASE_DB_PASSWORD, SUPABASE_PROJECT_REF } from './lib/gcp.ts';
import { isTrue } from './lib/confirm.ts';
import { SUPABASE_SECRETS } from './lib/outputs.ts';
import { defineRunbook, StepFailure, type Step } from './lib/runbook.ts';
import { secretCommands, storeIfChanged } from './lib/secret-versions.ts';
import { renderTable } from './lib/table.ts';

const SUPABASE_DB_URL = configVar('SUPABASE_DB_URL');
// The password goes to the CLI's Postgres driver as PGPASSWORD, never on the command line.
const dbEnv = { PGPASSWORD: SUPABASE_DB_PASSWORD };
const apiEnv = { SUPABASE_ACCESS_TOKEN };
// supabase/config.toml reads these with env(); the CLI must see them to diff or push the config.
const authEnv = { ...apiEnv, SUPABASE_AUTH_SITE_URL: configVar('SUPABASE_AUTH_SITE_URL'), SUPABASE_AUTH_ADDITIONAL_REDIRECT_URL: configVar('SUPABASE_AUTH_ADDITIONAL_REDIRECT_URL') };

export const pendingMigrations = supabase`db push --remote=${SUPABASE_DB_URL} --dry-run`.withEnv(dbEnv);
export const pushMigrations = supabase`db push --remote=${SUPABASE_DB_URL} --yes`.withEnv(dbEnv).liveOutput();
const authDiff = supabase`config diff --remote=${SUPABASE_PROJECT_REF} --exit-code`.withEnv(authEnv).allowExitCodes(2);
const authPush = supabase`config push --remote=${SUPABASE_PROJECT_REF} --yes`.withEnv(authEnv).liveOutput();
const apiKeys = supabase`projects api-keys --remote=${SUPABASE_PROJECT_REF} --reveal --output-format json`.withEnv(apiEnv).secretStdout().withoutLoggingStdout();
const storedSecrets = SUPABASE_SECRETS.map(secretCommands);
// The project's auth settings as the Management API reports them; they hold secrets (SMTP, hooks),
// so the answer is neither logged nor shown: only password_hibp_enabled is read from it.
export const authSettings = curl`--fail-with-body --silent --show-error --max-time 15 -H @- https://api.supabase.com/v1/projects/${SUPABASE_PROJECT_REF}/config/auth`
  .withStdin(SUPABASE_ACCESS_TOKEN, 'Authorization: Bearer %s')
  .secretStdout()
  .withoutLoggingStdout();

export const LEAKED_PASSWORDS_FIX =
  'turn it on in the dashboard: Authentication > Attack Protection (Providers > Email on older dashboards) > Prevent use of leaked passwords (a Pro plan feature; it is not in config.toml)';

/**
 * Leaked-password protection (HaveIBeenPwned) cannot be set from config.toml, so it is checked:
 * a warning, not a failure, because it needs a paid plan and changes nothing else here.
 */
export const leakedPasswordsStep: Step = {
  id: 'leaked-passwords',
  title: 'Check leaked-password protection',
  commands: [authSettings],
  async run(ctx) {
    const r = await ctx.attempt(authSettings);
    if (!r.ok) return { status: 'warn', note: `unknown: the Management API answered ${failureReason(r)}; check it in the dashboard` };
    let enabled: unknown;
    try {
      enabled = (JSON.parse(r.stdout) as { password_hibp_enabled?: unknown }).password_hibp_enabled;
    } catch {
      return { status: 'warn', note: 'unknown: the Management API answered something that is not JSON; check it in the dashboard' };
    }
    if (enabled === true) return { note: 'on' };
    ctx.print(`Leaked-password protection is off: ${LEAKED_PASSWORDS_FIX}.`);
    return { status: 'warn', note: 'off' };
  },
};

/** Migration files `db push --dry-run` would apply (it lists them on stderr). */
export function parsePending(result: CommandResult): string[] {
  return [...`${result.stdout}\n${result.stderr}`.matchAll(/^\s*•\s+(\S+\.sql)\s*$/gm)].map((m) => m[1]!);
}

interface ApiKey {
  name?: string;
  type?: string;
  api_key?: string;
}

/** The anon and service-role keys in `projects api-keys` output (legacy JWT keys preferred). */
export function pickKeys(json: string): { anon: string; serviceRole: string } {
  const keys = JSON.parse(json) as ApiKey[];
  const find = (legacyName: string, newType: string) =>
    keys.find((k) => k.name === legacyName && k.api_key)?.api_key ?? keys.find((k) => k.type === newType && k.api_key)?.api_key;
  const anon = find('anon', 'publishable');
  const serviceRole = find('service_role', 'secret');
  if (!anon || !serviceRole) throw new StepFailure('the project did not return both an anon (publishable) and a service-role (secret) key');
  return { anon, serviceRole };
}

export const supabaseProject = defineRunbook({
  id: 'supabase',
  title: 'Supabase project',
  make: 'production-supabase',
  params: [
    {
      name: 'SUPABASE_CONFIG_PUSH',
      description: 'Set to 1 to push the auth configuration after reviewing its diff (it can enable paid add-ons, so it is never pushed by default).',
      example: '',
      check: (v) => (/^[01]$/.test(v) ? null : 'expected 1 (push) or 0'),
    },
  ],
  requires: ['SUPABASE_ACCESS_TOKEN'],
  steps: [
    {
      id: 'pending',
      title: 'Show pending migrations',
      commands: [pendingMigrations],
      async run(ctx) {
        const pending = parsePending(await ctx.run(pendingMigrations));
        ctx.state.set('pending', pending);
        if (pending.length) ctx.print(`Pending migrations:\n${pending.map((m) => `  ${m}`).join('\n')}`);
        return { note: pending.length ? `${pending.length} pending` : 'up to date' };
      },
    },
    {
      id: 'push',
      title: 'Push the migrations',
      commands: [pushMigrations],
      confirm: 'Push these migrations to the production database?',
      skipIf: (ctx) => ((ctx.state.get('pending') as string[]).length ? null : 'nothing pending'),
    },
    {
      id: 'auth-diff',
      title: 'Show the auth configuration diff',
      commands: [authDiff],
      async run(ctx) {
        const r = await ctx.run(authDiff);
        ctx.state.set('authChanged', r.exitCode === 2);
        if (r.exitCode === 2) ctx.print(r.stdout.trim());
        return { note: r.exitCode === 2 ? 'differs from supabase/config.toml' : 'matches supabase/config.toml' };
      },
    },
    {
      id: 'auth-push',
      title: 'Push the auth configuration (only with SUPABASE_CONFIG_PUSH=1)',
      commands: [authPush],
      confirm: 'Push this auth configuration to the production project? Review the diff above: it may enable paid add-ons.',
      skipIf: (ctx) => {
        if (!ctx.state.get('authChanged')) return 'no difference';
        return isTrue(ctx.config.get('SUPABASE_CONFIG_PUSH')) ? null : 'differs: review the diff, then run again with SUPABASE_CONFIG_PUSH=1';
      },
    },
    leakedPasswordsStep,
    {
      id: 'api-keys',
      title: 'Read the project’s API keys',
      commands: [apiKeys],
      async run(ctx) {
        const keys = pickKeys((await ctx.run(apiKeys)).stdout);
        ctx.state.set('keys', keys);
      },
    },
    {
      id: 'store',
      title: 'Keep the URL and keys in Secret Manager',
      commands: storedSecrets.flatMap((s) => [s.describe, s.create, s.current, s.add]),
      async run(ctx) {
        const keys = ctx.state.get('keys') as { anon: string; serviceRole: string };
        const values: Record<string, string> = {
          'supabase-url': `https://${ctx.config.require('SUPABASE_PROJECT_REF')}.supabase.co`,
          'supabase-anon-key': keys.anon,
          'supabase-service-role-key': keys.serviceRole,
        };
        const rows: string[][] = [];
        for (const secret of storedSecrets) rows.push([secret.name, await storeIfChanged(ctx, secret, values[secret.name]!)]);
        ctx.print(renderTable(['secret', 'result'], rows));
        const changed = rows.filter((r) => r[1] !== 'unchanged').length;
        return { note: changed ? `${changed} new versions` : 'all unchanged' };
      },
    },
  ],
});

runIfMain(import.meta.url, supabaseProject);
