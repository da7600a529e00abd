// make preflight: is this machine and this project ready for a production runbook?
// Every check runs, whatever the others found, and the answers come back as one table.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gcloud, supabase, tofu, TOFU_MIN_VERSION } from './lib/cli.ts';
import { runIfMain } from './lib/engine.ts';
import { PROJECT_ID, REQUIRED_APIS, STATE_BUCKET } from './lib/gcp.ts';
import { repoRoot } from './lib/paths.ts';
import { defineRunbook, type CheckSpec, type Step } from './lib/runbook.ts';
import { compareVersions, extractVersion } from './lib/versions.ts';
import type { CommandResult } from './lib/exec.ts';

const SUPABASE_CLI_VERSION: string = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).dependencies.supabase;

const firstLine = (r: CommandResult) => (r.stderr || r.stdout).trim().split('\n')[0] ?? '';

function checkStep(id: string, title: string, commands: Step['commands'], check: CheckSpec): Step {
  return { id, title, commands, check };
}

const tofuVersion = tofu`version -json`;
const gcloudVersion = gcloud`version --format=json`;
const activeAccount = gcloud`auth list --filter=status:ACTIVE --format=${'value(account)'}`;
const adcToken = gcloud`auth application-default print-access-token`.secretStdout();
const supabaseVersion = supabase`--version`;
const projectDescribe = gcloud`projects describe ${PROJECT_ID} --format=${'value(projectId,lifecycleState)'}`;
const enabledApis = gcloud`services list --enabled --project ${PROJECT_ID} --format=${'value(config.name)'}`;
const stateBucket = gcloud`storage buckets describe gs://${STATE_BUCKET} --format=${'value(versioning_enabled)'}`;

export const steps: Step[] = [
  checkStep('tofu', 'OpenTofu is installed', [tofuVersion], {
    name: 'tofu',
    needed: `>= ${TOFU_MIN_VERSION}`,
    evaluate([r]) {
      if (!r!.ok) return { found: `error (exit ${r!.exitCode})`, ok: false, hint: firstLine(r!) };
      let version: string | null = null;
      try {
        version = (JSON.parse(r!.stdout) as { terraform_version?: string }).terraform_version ?? null;
      } catch {
        version = extractVersion(r!.stdout);
      }
      if (!version) return { found: 'unrecognised output', ok: false, hint: 'is TOFU_BIN really OpenTofu?' };
      const ok = compareVersions(version, TOFU_MIN_VERSION) >= 0;
      return { found: version, ok, hint: ok ? undefined : `upgrade OpenTofu to ${TOFU_MIN_VERSION} or newer: https://opentofu.org/docs/intro/install/` };
    },
  }),
  checkStep('gcloud', 'Google Cloud CLI is installed', [gcloudVersion], {
    name: 'gcloud',
    needed: 'installed',
    evaluate([r]) {
      if (!r!.ok) return { found: `error (exit ${r!.exitCode})`, ok: false, hint: firstLine(r!) };
      let version: string | null = null;
      try {
        version = (JSON.parse(r!.stdout) as Record<string, string>)['Google Cloud SDK'] ?? null;
      } catch {
        version = extractVersion(r!.stdout);
      }
      return { found: version ?? 'installed', ok: true };
    },
  }),
  checkStep('gcloud-account', 'gcloud has an active account', [activeAccount], {
    name: 'gcloud account',
    needed: 'an active account',
    needs: ['gcloud'],
    evaluate([r]) {
      const account = r!.ok ? r!.stdout.trim().split('\n')[0] : '';
      return account
        ? { found: account, ok: true }
        : { found: 'none', ok: false, hint: 'run `gcloud auth login` (or in CI, authenticate with Workload Identity Federation)' };
    },
  }),
  checkStep('adc', 'Application-default credentials work', [adcToken], {
    name: 'application-default credentials',
    needed: 'a usable token',
    needs: ['gcloud'],
    evaluate([r]) {
      return r!.ok && r!.stdout.trim()
        ? { found: 'present', ok: true }
        : { found: 'missing', ok: false, hint: 'run `gcloud auth application-default login`; OpenTofu and the Secret Manager client use these credentials' };
    },
  }),
  checkStep('supabase', 'Supabase CLI is installed', [supabaseVersion], {
    name: 'supabase CLI',
    needed: SUPABASE_CLI_VERSION,
    evaluate([r]) {
      if (!r!.ok) return { found: `error (exit ${r!.exitCode})`, ok: false, hint: firstLine(r!) };
      const version = extractVersion(r!.stdout) ?? 'unknown';
      const ok = version === SUPABASE_CLI_VERSION;
      return { found: version, ok, hint: ok ? undefined : `run \`npm ci\` to install the pinned ${SUPABASE_CLI_VERSION}` };
    },
  }),
  checkStep('supabase-token', 'Supabase access token is set', [], {
    name: 'SUPABASE_ACCESS_TOKEN',
    needed: 'set (sbp_...)',
    evaluate(_results, ctx) {
      const token = ctx.config.get('SUPABASE_ACCESS_TOKEN');
      if (!token) return { found: 'not set', ok: false, hint: 'create one at https://supabase.com/dashboard/account/tokens and set SUPABASE_ACCESS_TOKEN in your env file or environment' };
      const wrong = ctx.config.spec('SUPABASE_ACCESS_TOKEN')?.check?.(token);
      return wrong ? { found: 'malformed', ok: false, hint: `SUPABASE_ACCESS_TOKEN: ${wrong}` } : { found: 'set', ok: true };
    },
  }),
  checkStep('project', 'The project exists and is reachable', [projectDescribe], {
    name: 'project',
    needed: 'PROJECT_ID, ACTIVE',
    needs: ['gcloud-account'],
    evaluate([r], ctx) {
      const [id, state] = r!.stdout.trim().split(/\s+/);
      if (!r!.ok || id !== ctx.config.get('PROJECT_ID')) {
        return { found: 'not accessible', ok: false, hint: `check PROJECT_ID and that your account can see it: ${firstLine(r!)}` };
      }
      return { found: `${id}, ${state ?? 'unknown'}`, ok: state === 'ACTIVE', hint: state === 'ACTIVE' ? undefined : 'the project is not ACTIVE' };
    },
  }),
  checkStep('apis', 'Required APIs are enabled', [enabledApis], {
    name: 'required APIs',
    needed: `${REQUIRED_APIS.length} enabled`,
    needs: ['project'],
    evaluate([r]) {
      if (!r!.ok) return { found: `error (exit ${r!.exitCode})`, ok: false, hint: firstLine(r!) };
      const enabled = new Set(r!.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
      const missing = REQUIRED_APIS.filter((api) => !enabled.has(api));
      return missing.length
        ? { found: `${REQUIRED_APIS.length - missing.length} enabled, missing ${missing.length}`, ok: false, hint: `run \`make production-bootstrap\`, or enable: ${missing.join(' ')}` }
        : { found: `${REQUIRED_APIS.length} enabled`, ok: true };
    },
  }),
  checkStep('state-bucket', 'The state bucket exists with versioning on', [stateBucket], {
    name: 'state bucket',
    needed: 'exists, versioning on',
    needs: ['gcloud-account'],
    evaluate([r]) {
      if (!r!.ok) return { found: 'not found', ok: false, hint: `run \`make production-bootstrap\` to create it (${firstLine(r!)})` };
      const versioned = r!.stdout.trim() === 'True';
      return versioned
        ? { found: 'exists, versioning on', ok: true }
        : { found: 'exists, versioning OFF', ok: false, hint: 'run `make production-bootstrap`, which turns versioning on (state recovery depends on it)' };
    },
  }),
];

export const preflight = defineRunbook({
  id: 'preflight',
  title: 'Preflight',
  make: 'preflight',
  steps,
});

runIfMain(import.meta.url, preflight);
