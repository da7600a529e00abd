// Reads and validates services.yaml, the one list of deployable services. OpenTofu reads the
// same file with yamldecode(); these checks keep it something both can rely on.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './paths.ts';

export interface Service {
  readonly name: string;
  readonly image: string;
  readonly dockerfile: string;
  readonly paths: readonly string[];
  readonly uses: readonly string[];
  readonly port: number;
  readonly ingress: 'public' | 'internal';
  readonly subgraph?: string;
  readonly health_path: string;
  readonly min_instances: number;
  readonly max_instances: number;
  readonly cpu: string;
  readonly memory: string;
  /** Secrets it mounts besides its databases' connection secrets. */
  readonly secrets: readonly string[];
  readonly databases: readonly string[];
}

export interface Database {
  readonly name: string;
  readonly secret: string;
  readonly migrate_with: string;
}

/** How long secrets' values may live before they are due for rotation. */
export interface SecretRotation {
  readonly default_days: number;
  readonly days: Readonly<Record<string, number>>;
  /** Not credentials: never due. */
  readonly never: readonly string[];
}

export interface Catalog {
  readonly services: readonly Service[];
  readonly databases: readonly Database[];
  readonly secret_rotation: SecretRotation;
  readonly shared: Readonly<Record<string, { paths: readonly string[] }>>;
}

export const CATALOG_FILE = 'services.yaml';

const NAME = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const SECRET = /^[a-z][a-z0-9-]{0,254}$/;

/** Validate a parsed catalog; every problem is reported, not just the first. */
export function validateCatalog(raw: unknown): { catalog: Catalog; problems: string[] } {
  const problems: string[] = [];
  const doc = (raw ?? {}) as Record<string, unknown>;
  const shared = (doc.shared ?? {}) as Record<string, { paths?: unknown }>;
  const rawDbs = (doc.databases ?? {}) as Record<string, Record<string, unknown>>;
  const rawServices = (doc.services ?? {}) as Record<string, Record<string, unknown>>;
  if (Object.keys(rawServices).length === 0) problems.push('services: no services are listed');

  const stringList = (where: string, v: unknown): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      problems.push(`${where}: expected a list of strings`);
      return [];
    }
    return v as string[];
  };

  for (const [key, value] of Object.entries(shared)) stringList(`shared.${key}.paths`, value?.paths);

  const databases: Database[] = Object.entries(rawDbs).map(([name, d]) => {
    if (typeof d?.secret !== 'string' || !SECRET.test(d.secret)) problems.push(`databases.${name}.secret: expected a Secret Manager secret name`);
    if (typeof d?.migrate_with !== 'string' || !rawServices[d.migrate_with]) problems.push(`databases.${name}.migrate_with: expected the name of a service in this file`);
    return { name, secret: String(d?.secret), migrate_with: String(d?.migrate_with) };
  });

  const services: Service[] = Object.entries(rawServices).map(([name, s]) => {
    const at = `services.${name}`;
    if (!NAME.test(name)) problems.push(`${at}: a Cloud Run service name is 2-50 lowercase letters, digits or hyphens`);
    const str = (field: string) => {
      const v = s?.[field];
      if (typeof v !== 'string' || v === '') problems.push(`${at}.${field}: expected text`);
      return String(v ?? '');
    };
    const int = (field: string, min: number) => {
      const v = s?.[field];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${at}.${field}: expected a whole number >= ${min}`);
      return Number(v);
    };
    const service: Service = {
      name,
      image: str('image'),
      dockerfile: str('dockerfile'),
      paths: stringList(`${at}.paths`, s?.paths),
      uses: stringList(`${at}.uses`, s?.uses),
      port: int('port', 1),
      ingress: s?.ingress as Service['ingress'],
      ...(s?.subgraph !== undefined ? { subgraph: String(s.subgraph) } : {}),
      health_path: str('health_path'),
      min_instances: int('min_instances', 0),
      max_instances: int('max_instances', 1),
      cpu: str('cpu'),
      memory: str('memory'),
      secrets: stringList(`${at}.secrets`, s?.secrets),
      databases: stringList(`${at}.databases`, s?.databases),
    };
    if (service.ingress !== 'public' && service.ingress !== 'internal') problems.push(`${at}.ingress: expected public or internal`);
    if (service.ingress === 'internal' && !service.subgraph) problems.push(`${at}.subgraph: an internal service is a subgraph; name it`);
    if (service.paths.length === 0) problems.push(`${at}.paths: list the paths whose changes rebuild it`);
    if (!service.health_path.startsWith('/')) problems.push(`${at}.health_path: expected a path starting with /`);
    if (service.max_instances < service.min_instances) problems.push(`${at}.max_instances: must be >= min_instances`);
    if (!/^\d+(\.\d+)?$/.test(service.cpu)) problems.push(`${at}.cpu: expected a number of CPUs such as "1"`);
    if (!/^\d+(Mi|Gi)$/.test(service.memory)) problems.push(`${at}.memory: expected a size such as 512Mi or 1Gi`);
    for (const u of service.uses) if (!shared[u]) problems.push(`${at}.uses: "${u}" is not a key of shared`);
    for (const d of service.databases) if (!rawDbs[d]) problems.push(`${at}.databases: "${d}" is not a key of databases`);
    for (const secret of service.secrets) if (!SECRET.test(secret)) problems.push(`${at}.secrets: "${secret}" is not a Secret Manager secret name`);
    return service;
  });

  const secret_rotation = validateRotation(doc.secret_rotation, problems);

  const publics = services.filter((s) => s.ingress === 'public');
  if (publics.length !== 1 || publics[0]?.name !== 'gateway') problems.push('services: the gateway, and only the gateway, has ingress public');

  return {
    catalog: { services, databases, secret_rotation, shared: Object.fromEntries(Object.entries(shared).map(([k, v]) => [k, { paths: (v?.paths as string[]) ?? [] }])) },
    problems,
  };
}

// Secret Manager takes rotation periods from an hour to 100 years.
const MAX_ROTATION_DAYS = 36500;

function validateRotation(raw: unknown, problems: string[]): SecretRotation {
  const r = (raw ?? {}) as Record<string, unknown>;
  const days = (at: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_ROTATION_DAYS) problems.push(`${at}: expected a whole number of days from 1 to ${MAX_ROTATION_DAYS}`);
    return Number(v);
  };
  if (raw === undefined) problems.push('secret_rotation: missing; give default_days (and days, never) so every secret has a maximum age');
  for (const key of Object.keys(r)) if (!['default_days', 'days', 'never'].includes(key)) problems.push(`secret_rotation.${key}: unknown key (expected default_days, days or never)`);
  const perSecret = (r.days ?? {}) as Record<string, unknown>;
  if (typeof perSecret !== 'object' || Array.isArray(perSecret)) problems.push('secret_rotation.days: expected secret name: days');
  const never = Array.isArray(r.never) && r.never.every((x) => typeof x === 'string') ? (r.never as string[]) : (problems.push('secret_rotation.never: expected a list of secret names'), []);
  for (const name of [...Object.keys(perSecret), ...never]) if (!SECRET.test(name)) problems.push(`secret_rotation: "${name}" is not a Secret Manager secret name`);
  for (const name of never) if (name in perSecret) problems.push(`secret_rotation: ${name} is under both days and never; keep one`);
  return {
    default_days: days('secret_rotation.default_days', r.default_days),
    days: Object.fromEntries(Object.entries(perSecret).map(([name, v]) => [name, days(`secret_rotation.days.${name}`, v)])),
    never,
  };
}

let cached: Catalog | null = null;

/** The catalog of this repository; throws with every problem listed if it is not valid. */
export function loadCatalog(file = join(repoRoot, CATALOG_FILE)): Catalog {
  if (cached && file === join(repoRoot, CATALOG_FILE)) return cached;
  const { catalog, problems } = validateCatalog(parse(readFileSync(file, 'utf8')));
  if (problems.length) throw new Error(`${CATALOG_FILE} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  if (file === join(repoRoot, CATALOG_FILE)) cached = catalog;
  return catalog;
}

/** Every secret a service mounts: its own plus the connection secret of each database. */
export function mountedSecrets(catalog: Catalog, service: Service): string[] {
  const fromDatabases = service.databases.map((d) => catalog.databases.find((db) => db.name === d)!.secret);
  return [...new Set([...service.secrets, ...fromDatabases])];
}
