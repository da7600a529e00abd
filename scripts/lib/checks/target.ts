// Where the spoof check and the voucher e2e point: the local stack (TARGET=local, from
// .local/outputs.json) or production (TARGET=production: the gateway and service URLs from
// OpenTofu's outputs, the Supabase keys from Secret Manager, read through the step engine).

import { existsSync, readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { gcloud, tofu } from '../cli.ts';
import { runtimeVar } from '../command.ts';
import type { VarSpec } from '../env-schema.ts';
import { PROJECT_ID } from '../gcp.ts';
import { INFRA_DIR, repoInfra } from '../infra.ts';
import { LocalStackDir, makeLine, readOutputs, stoppedAt, whyNoAnswer } from '../local-state.ts';
import { sourceOf } from '../paths.ts';
import { StepFailure, UsageFailure, type Step, type StepContext } from '../runbook.ts';

export interface Target {
  name: 'local' | 'production';
  gatewayUrl: string;
  /** The Supabase project URL (https://<ref>.supabase.co, or the local issuer). */
  supabaseUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  /** The Supabase database, for issuing and removing vouchers as service_role. */
  databaseUrl: string;
  databasePassword?: string;
  /** Each mesh service's URL, to prove it refuses a call that bypasses the gateway. */
  services: Record<string, string>;
  /** The local auth issuer's signing key, so claim attacks can carry a genuine signature. */
  signingKey?: JWK;
  /** The local stack's mailbox (Mailpit's API), where the local auth's mail lands. */
  mailboxUrl?: string;
}

export const TARGET_PARAM: VarSpec = {
  name: 'TARGET',
  description: 'local (the stack of make local-deploy, the default) or production.',
  example: '',
  check: (v) => (v === 'local' || v === 'production' ? null : 'expected local or production'),
};

export const targetOf = (env: NodeJS.ProcessEnv) => (env.TARGET === 'production' ? 'production' : 'local');

const GATEWAY_URL = runtimeVar('GATEWAY_URL');
const SERVICE_URLS = runtimeVar('SERVICE_URLS');
const SUPABASE_ANON_KEY = runtimeVar('SUPABASE_ANON_KEY', true);
const SUPABASE_SERVICE_ROLE_KEY = runtimeVar('SUPABASE_SERVICE_ROLE_KEY', true);

const readGatewayUrl = tofu`-chdir=${INFRA_DIR} output -raw gateway_url`.captureInto(GATEWAY_URL);
const readServiceUrls = tofu`-chdir=${INFRA_DIR} output -json service_urls`.captureInto(SERVICE_URLS);
const readAnonKey = gcloud`secrets versions access latest --secret=supabase-anon-key --project ${PROJECT_ID}`.captureInto(SUPABASE_ANON_KEY);
const readServiceRoleKey = gcloud`secrets versions access latest --secret=supabase-service-role-key --project ${PROJECT_ID}`.captureInto(SUPABASE_SERVICE_ROLE_KEY);
const productionReads = [repoInfra.init, readGatewayUrl, readServiceUrls, readAnonKey, readServiceRoleKey];

/** The steps that find the target; the production one reads what it needs through the engine. */
export function targetSteps(): Step[] {
  return [
    {
      id: 'local-target',
      title: 'Read the local stack’s outputs (TARGET=local)',
      code: sourceOf(import.meta.url),
      commands: [],
      applies: (env) => (targetOf(env) === 'local' ? null : 'TARGET=production'),
      async run(ctx) {
        const localDir = ctx.config.get('LOCAL_DIR');
        const layout = new LocalStackDir(localDir);
        const file = layout.path('outputs.json');
        const o = readOutputs(layout);
        if (!o) throw new UsageFailure(`${file} does not exist: start the local stack with \`${makeLine('local-deploy', localDir)}\` (or pass TARGET=production)`);
        // A stopped stack is said to be stopped, not found out about as "fetch failed" halfway through a check.
        const fix = `run \`${makeLine('local-up', localDir)}\``;
        const stopped = stoppedAt(o);
        if (stopped) throw new StepFailure(`no gateway at ${String(o.gatewayUrl)} (the local stack was stopped by make local-down at ${stopped}): ${fix}`);
        for (const [part, url] of [['gateway', o.gatewayUrl], ['auth', o.supabaseUrl]] as const) {
          const why = await whyNoAnswer(String(url));
          if (why) throw new StepFailure(`no ${part} at ${String(url)} (${why}): ${fix}, or see which parts answer with \`${makeLine('local-status', localDir)}\``);
        }
        const keysFile = layout.path('keys.json');
        const signingKey = existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as { auth: { signingKey: JWK } }).auth.signingKey : undefined;
        const target: Target = {
          name: 'local',
          gatewayUrl: String(o.gatewayUrl),
          supabaseUrl: String(o.supabaseUrl),
          anonKey: String(o.anonKey),
          serviceRoleKey: String(o.serviceRoleKey),
          databaseUrl: String(o.databaseUrl),
          services: o.services as Record<string, string>,
          signingKey,
          mailboxUrl: typeof o.mailboxUrl === 'string' ? o.mailboxUrl : undefined,
        };
        // The local keys are keys all the same: masked in everything printed from here on.
        ctx.setValue(SUPABASE_ANON_KEY, target.anonKey);
        ctx.setValue(SUPABASE_SERVICE_ROLE_KEY, target.serviceRoleKey);
        ctx.state.set('target', target);
        return { note: target.gatewayUrl };
      },
    },
    {
      id: 'production-target',
      title: 'Read production’s URLs and keys (TARGET=production)',
      code: sourceOf(import.meta.url),
      commands: productionReads,
      applies: (env) => (targetOf(env) === 'production' ? null : 'TARGET=local'),
      requires: ['SUPABASE_PROJECT_REF', 'SUPABASE_DB_URL', 'SUPABASE_DB_PASSWORD'],
      async run(ctx: StepContext) {
        for (const c of productionReads) await ctx.run(c);
        const services = JSON.parse(ctx.value(SERVICE_URLS)) as Record<string, string>;
        delete services.gateway;
        const ref = ctx.config.require('SUPABASE_PROJECT_REF');
        const target: Target = {
          name: 'production',
          gatewayUrl: ctx.value(GATEWAY_URL),
          supabaseUrl: `https://${ref}.supabase.co`,
          anonKey: ctx.value(SUPABASE_ANON_KEY),
          serviceRoleKey: ctx.value(SUPABASE_SERVICE_ROLE_KEY),
          databaseUrl: ctx.config.require('SUPABASE_DB_URL'),
          databasePassword: ctx.config.require('SUPABASE_DB_PASSWORD'),
          services,
        };
        if (!target.gatewayUrl.startsWith('https://')) throw new StepFailure(`the gateway URL from OpenTofu is not https: ${target.gatewayUrl}`);
        ctx.state.set('target', target);
        return { note: target.gatewayUrl };
      },
    },
  ];
}

export const targetIn = (ctx: StepContext) => ctx.state.get('target') as Target;
