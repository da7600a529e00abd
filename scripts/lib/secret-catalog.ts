// Which Secret Manager secrets exist, who provides each value (the operator with make
// production-secrets, the Supabase project with make production-supabase, or OpenTofu), who
// reads it, and how old its value may get before it is due for rotation (services.yaml
// secret_rotation, which OpenTofu turns into Secret Manager rotation schedules).

import { loadCatalog, mountedSecrets, type SecretRotation } from './catalog.ts';
import { SUPABASE_SECRETS } from './outputs.ts';

/**
 * First written by OpenTofu: Memorystore's AUTH string, and the empty revoked-sessions list
 * (make production-revoke-session adds its later versions).
 */
export const INFRA_SECRETS = ['redis-auth', 'revoked-sessions'] as const;

export type SecretSource = 'operator' | 'supabase' | 'infra';

export interface SecretEntry {
  name: string;
  source: SecretSource;
  /** Services that mount it (services.yaml), so a rotation knows whom to verify. */
  consumers: string[];
  /** Days its enabled version may live before it is flagged as due; null: never due (not a credential). */
  maxAgeDays: number | null;
}


/** Secrets whose values only a person has: database URLs, third-party API keys. */
export function operatorSecrets(): string[] {
  const catalog = loadCatalog();
  const all = new Set(catalog.services.flatMap((s) => mountedSecrets(catalog, s)));
  for (const s of [...SUPABASE_SECRETS, ...INFRA_SECRETS]) all.delete(s);
  return [...all].sort();
}

/** The catalog's rotation policy for one secret (services.yaml secret_rotation). */
export function maxAgeDays(policy: SecretRotation, name: string): number | null {
  if (policy.never.includes(name)) return null;
  return policy.days[name] ?? policy.default_days;
}

/** Every secret production has, with its source, consumers and maximum age. */
export function secretCatalog(): SecretEntry[] {
  const catalog = loadCatalog();
  const consumers = new Map<string, string[]>();
  for (const service of catalog.services) for (const s of mountedSecrets(catalog, service)) consumers.set(s, [...(consumers.get(s) ?? []), service.name]);
  const sourceOf = (name: string): SecretSource =>
    (INFRA_SECRETS as readonly string[]).includes(name) ? 'infra' : (SUPABASE_SECRETS as readonly string[]).includes(name) ? 'supabase' : 'operator';
  const names = new Set([...consumers.keys(), ...SUPABASE_SECRETS, ...INFRA_SECRETS]);
  return [...names].sort().map((name) => ({
    name,
    source: sourceOf(name),
    consumers: consumers.get(name) ?? [],
    maxAgeDays: maxAgeDays(catalog.secret_rotation, name),
  }));
}
