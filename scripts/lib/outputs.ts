// What a deploy leaves behind for people: production-outputs.json (for scripts) and a readable
// summary (also in production-outputs.txt): every URL, and where each credential lives by
// secret name, never by value.

import { join } from 'node:path';
import { loadCatalog, mountedSecrets } from './catalog.ts';
import type { Config } from './config.ts';
import { writeReport } from './files.ts';
import { repoRoot } from './paths.ts';
import { renderTable } from './table.ts';

export const OUTPUTS_JSON = 'production-outputs.json';
export const OUTPUTS_TEXT = 'production-outputs.txt';

/** Secrets the Supabase runbook keeps in Secret Manager (values from the Supabase project). */
export const SUPABASE_SECRETS = ['supabase-url', 'supabase-anon-key', 'supabase-service-role-key'] as const;

type TofuOutputs = Record<string, { value: unknown; sensitive?: boolean }>;

export function writeDeploymentOutputs(tofuOutputJson: string, config: Config): string {
  const raw = JSON.parse(tofuOutputJson) as TofuOutputs;
  const outputs: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(raw)) outputs[name] = o.sensitive ? '(sensitive: not written; read it with tofu output)' : o.value;
  const catalog = loadCatalog();
  const ref = config.get('SUPABASE_PROJECT_REF');
  const credentials: Record<string, string[]> = {};
  for (const s of catalog.services) for (const secret of mountedSecrets(catalog, s)) (credentials[secret] ??= []).push(s.name);
  for (const secret of SUPABASE_SECRETS) credentials[secret] ??= [];

  const doc = {
    generated: new Date().toISOString(),
    project_id: config.get('PROJECT_ID'),
    region: config.get('REGION'),
    image_tag: config.get('IMAGE_TAG'),
    gateway_url: outputs.gateway_url ?? null,
    service_urls: outputs.service_urls ?? {},
    supabase_url: ref ? `https://${ref}.supabase.co` : null,
    credentials: Object.fromEntries(
      Object.entries(credentials)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([secret, users]) => [secret, { secret_manager: `projects/${config.get('PROJECT_ID')}/secrets/${secret}`, mounted_by: users }]),
    ),
    tofu_outputs: outputs,
  };
  writeReport(join(repoRoot, OUTPUTS_JSON), `${JSON.stringify(doc, null, 2)}\n`);

  const urls = Object.entries((doc.service_urls ?? {}) as Record<string, string>).map(([k, v]) => [k, String(v)]);
  const summary = [
    `Gateway:   ${String(doc.gateway_url ?? '(no gateway_url output)')}`,
    `Supabase:  ${doc.supabase_url ?? '(SUPABASE_PROJECT_REF not set)'}`,
    '',
    renderTable(['service', 'URL (internal: reachable from the VPC only)'], urls),
    '',
    renderTable(
      ['credential (Secret Manager secret)', 'mounted by'],
      Object.entries(doc.credentials).map(([secret, c]) => [secret, c.mounted_by.join(', ') || '(read by the runbooks)']),
    ),
    '',
    `Written to ${OUTPUTS_JSON} and ${OUTPUTS_TEXT}.`,
  ].join('\n');
  writeReport(join(repoRoot, OUTPUTS_TEXT), `${summary}\n`);
  return summary;
}
