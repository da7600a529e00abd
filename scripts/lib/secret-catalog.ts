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
  /** Set when it exists in one DATABASE_MODE only: the databases' shared URLs (external) or OpenTofu's per-service URLs and admin password (cloudsql). */
  mode?: DatabaseMode;
}


/**
 * Where the application databases live (DATABASE_MODE): `cloudsql`, production's own instance,
 * whose per-service URLs OpenTofu writes; or `external`, databases elsewhere whose URLs a person
 * stores with make production-secrets.
 */
export const DATABASE_MODES = ['cloudsql', 'external'] as const;
export type DatabaseMode = (typeof DATABASE_MODES)[number];
export const DEFAULT_DATABASE_MODE: DatabaseMode = 'cloudsql';

/** The databases' shared URL secrets (services.yaml `databases.*.secret`): a person fills them in external mode only. */
export function databaseUrlSecrets(): string[] {
  return loadCatalog().databases.map((d) => d.secret).sort();
}

/** Secrets whose values only a person has: third-party API keys, and the database URLs when external. */
export function operatorSecrets(mode: DatabaseMode | 'any' = 'any'): string[] {
  const catalog = loadCatalog();
  const all = new Set(catalog.services.flatMap((s) => mountedSecrets(catalog, s)));
  for (const s of [...SUPABASE_SECRETS, ...INFRA_SECRETS]) all.delete(s);
  if (mode === 'cloudsql') for (const s of databaseUrlSecrets()) all.delete(s);
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
  const shared = new Set(databaseUrlSecrets());
  const entries: SecretEntry[] = [...names].map((name) => ({
    name,
    source: sourceOf(name),
    consumers: consumers.get(name) ?? [],
    maxAgeDays: maxAgeDays(catalog.secret_rotation, name),
    ...(shared.has(name) ? { mode: 'external' as const } : {}),
  }));
  // On Cloud SQL OpenTofu writes one URL per service (its own login) and the admin password.
  for (const u of cloudSqlUrlSecrets()) entries.push({ name: u.name, source: 'infra', consumers: [u.service], maxAgeDays: maxAgeDays(catalog.secret_rotation, u.name), mode: 'cloudsql' });
  entries.push({ name: DATABASE_ADMIN_SECRET, source: 'infra', consumers: [], maxAgeDays: maxAgeDays(catalog.secret_rotation, DATABASE_ADMIN_SECRET), mode: 'cloudsql' });
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

/** The secrets of one DATABASE_MODE: every entry not bound to the other mode. */
export const secretsOfMode = (entries: SecretEntry[], mode: DatabaseMode) => entries.filter((e) => !e.mode || e.mode === mode);

/** The postgres password OpenTofu writes on Cloud SQL (read by the database jobs only). */
export const DATABASE_ADMIN_SECRET = 'database-admin-password';

/** On Cloud SQL, each service's own URL of each database it reaches (infra writes them): db-<database>-<service>. */
export function cloudSqlUrlSecrets(): { name: string; service: string; database: string }[] {
  return loadCatalog()
    .services.flatMap((s) => s.databases.map((database) => ({ name: `db-${database}-${s.name}`, service: s.name, database })))
    .sort((a, b) => a.name.localeCompare(b.name));
}
