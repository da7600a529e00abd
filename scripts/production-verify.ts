// make production-verify: is production answering? The gateway's health and readiness from the
// outside, and every internal service through the Cloud Run API (they cannot be reached from
// outside), all at once.

import { curl, make, tofu } from './lib/cli.ts';
import { isTrue } from './lib/confirm.ts';
import { runtimeVar } from './lib/command.ts';
import { listServices, parseServiceList, perService } from './lib/cloud-run.ts';
import { runIfMain } from './lib/engine.ts';
import { INFRA_DIR, repoInfra } from './lib/infra.ts';
import { defineRunbook, StepFailure } from './lib/runbook.ts';
import { renderTable } from './lib/table.ts';

export const GATEWAY_URL = runtimeVar('GATEWAY_URL');

const gatewayUrl = tofu`-chdir=${INFRA_DIR} output -raw gateway_url`.captureInto(GATEWAY_URL);
const health = curl`--fail --silent --show-error --max-time 10 ${GATEWAY_URL}/healthcheck`;
const readiness = curl`--fail --silent --show-error --max-time 10 ${GATEWAY_URL}/readiness`;

const spoofCheck = make('spoof-check').withEnv({ TARGET: 'production' });
const voucherE2e = make('voucher-e2e').withEnv({ TARGET: 'production' });

export const verify = defineRunbook({
  id: 'verify',
  title: 'Verify production',
  make: 'production-verify',
  params: [
    { name: 'E2E', description: 'Set to 1 to also run the voucher end-to-end check.', example: '', check: (v) => (/^[01]$/.test(v) ? null : 'expected 1 or 0') },
    {
      name: 'SKIP_SPOOF_CHECK',
      description: 'Set to 1 only when Supabase itself is down and the spoof check cannot create its users; the run says it was skipped.',
      example: '',
      check: (v) => (/^[01]$/.test(v) ? null : 'expected 1 or 0'),
    },
  ],
  steps: [
    { id: 'tofu-init', title: 'Initialise OpenTofu with the state bucket', commands: [repoInfra.init] },
    { id: 'gateway-url', title: 'Read the gateway URL', commands: [gatewayUrl] },
    {
      id: 'checks',
      title: 'Check the gateway and every service',
      commands: [health, readiness, listServices],
      async run(ctx) {
        const [healthResult, readinessResult, listed] = await Promise.all([ctx.attempt(health), ctx.attempt(readiness), ctx.run(listServices)]);
        const live = parseServiceList(listed.stdout);
        const rows: string[][] = [];
        const failed: string[] = [];
        for (const [name, r] of [['gateway /healthcheck', healthResult], ['gateway /readiness', readinessResult]] as const) {
          const ok = r.exitCode === 0;
          rows.push([name, ok ? 'answers' : `failed (${(r.stderr || `exit ${r.exitCode}`).trim().split('\n')[0]})`, ok ? 'ok' : 'FAIL']);
          if (!ok) failed.push(name);
        }
        for (const p of perService) {
          const s = live.get(p.service.name);
          if (!s) {
            rows.push([p.service.name, 'not deployed', 'FAIL']);
            failed.push(p.service.name);
            continue;
          }
          const serving = s.traffic.map((t) => t.revisionName).join(',');
          const problems = [
            !s.ready && 'not ready',
            s.latestCreated && s.latestReady !== s.latestCreated && `latest revision ${s.latestCreated} is not ready`,
            s.latestReady && !s.traffic.some((t) => t.revisionName === s.latestReady) && `serving ${serving || 'nothing'}, not the latest ${s.latestReady}`,
          ].filter(Boolean);
          rows.push([p.service.name, problems.length ? problems.join('; ') : `ready, serving ${serving}`, problems.length ? 'FAIL' : 'ok']);
          if (problems.length) failed.push(p.service.name);
        }
        ctx.print(renderTable(['check', 'found', 'ok'], rows));
        if (failed.length) throw new StepFailure(`${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.join(', ')}`);
      },
    },
    {
      id: 'spoof-check',
      title: 'Check that nobody can be somebody else',
      commands: [spoofCheck],
      applies: (env) => (isTrue(env.SKIP_SPOOF_CHECK) ? 'SKIPPED with SKIP_SPOOF_CHECK=1: run make spoof-check TARGET=production as soon as you can' : null),
    },
    {
      id: 'voucher-e2e',
      title: 'Check the voucher journey end to end (E2E=1)',
      commands: [voucherE2e],
      applies: (env) => (isTrue(env.E2E) ? null : 'only with E2E=1'),
    },
  ],
});

runIfMain(import.meta.url, verify);
