// Which Secret Manager secrets exist, who provides each value (the operator with make
// production-secrets, the Supabase project with make production-supabase, or OpenTofu), who
// reads it, and how old its value may get before it is due for rotation.

import { loadCatalog, mountedSecrets } from './catalog.ts';
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

/**
 * The rotation policy. A credential gets older only by being exposed more: database URLs (they
 * carry a password) every 90 days, API keys every 180, Supabase's keys and Redis AUTH yearly
 * (their rotation touches the project or the cache); the revoked-sessions list is not a
 * credential. A secret not named here is due after DEFAULT_MAX_AGE_DAYS.
 */
const MAX_AGE_DAYS: Record<string, number | null> = {
  'revoked-sessions': null,
  'redis-auth': 365,
  'supabase-url': null,
  'supabase-anon-key': 365,
  'supabase-service-role-key': 365,
  'openai-api-key': 180,
  'qdrant-api-key': 180,
};
const DEFAULT_MAX_AGE_DAYS = 90;

/** Secrets whose values only a person has: database URLs, third-party API keys. */
export function operatorSecrets(): string[] {
  const catalog = loadCatalog();
  const all = new Set(catalog.services.flatMap((s) => mountedSecrets(catalog, s)));
  for (const s of [...SUPABASE_SECRETS, ...INFRA_SECRETS]) all.delete(s);
  return [...all].sort();
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
    maxAgeDays: name in MAX_AGE_DAYS ? MAX_AGE_DAYS[name]! : DEFAULT_MAX_AGE_DAYS,
  }));
}
