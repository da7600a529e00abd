// Which Secret Manager secrets exist and who provides each value: the operator (make
// production-secrets), the Supabase project (make production-supabase), or OpenTofu.

import { loadCatalog, mountedSecrets } from './catalog.ts';
import { SUPABASE_SECRETS } from './outputs.ts';

/**
 * First written by OpenTofu: Memorystore's AUTH string, and the empty revoked-sessions list
 * (make production-revoke-session adds its later versions).
 */
export const INFRA_SECRETS = ['redis-auth', 'revoked-sessions'] as const;

/** Secrets whose values only a person has: database URLs, third-party API keys. */
export function operatorSecrets(): string[] {
  const catalog = loadCatalog();
  const all = new Set(catalog.services.flatMap((s) => mountedSecrets(catalog, s)));
  for (const s of [...SUPABASE_SECRETS, ...INFRA_SECRETS]) all.delete(s);
  return [...all].sort();
}
