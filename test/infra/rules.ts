// The security shape of production, as rules over the rendered configuration. Each rule
// returns its violations, so a broken configuration reports every problem at once.

import type { Rendered, RenderedResource } from './hcl/render.ts';
import { Unknown } from './hcl/values.ts';

export interface Violation {
  rule: string;
  message: string;
}

type Rule = (plan: Rendered) => string[];

const first = (v: unknown): Record<string, unknown> | undefined => (Array.isArray(v) ? (v[0] as Record<string, unknown> | undefined) : undefined);
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
const text = (v: unknown): string => (v instanceof Unknown ? v.toString() : typeof v === 'string' ? v : JSON.stringify(v));

/** The google_service_account a value (an email or IAM member) comes from, if any. */
export function accountOf(value: unknown): string | null {
  const m = /^(?:serviceAccount:)?\$\{(.*\bgoogle_service_account\.[A-Za-z0-9_]+)\.(?:email|member)\}$/.exec(text(value));
  return m ? m[1]! : null;
}

const byType = (plan: Rendered, ...types: string[]) => plan.resources.filter((r) => r.mode === 'managed' && types.includes(r.type));
const services = (plan: Rendered) => byType(plan, 'google_cloud_run_v2_service');
const serviceName = (r: RenderedResource) => String(r.values.name);
const template = (r: RenderedResource) => first(r.values.template) ?? {};
const containers = (r: RenderedResource) => list(template(r).containers);

/** Catalog service name by the address of its runtime account. */
function serviceByAccount(plan: Rendered): Map<string, string> {
  const map = new Map<string, string>();
  for (const s of services(plan)) {
    const account = accountOf(template(s).service_account);
    if (account) map.set(account, serviceName(s));
  }
  return map;
}

function invokerGrants(plan: Rendered): { service: string; member: unknown; address: string }[] {
  return byType(plan, 'google_cloud_run_v2_service_iam_member')
    .filter((r) => r.values.role === 'roles/run.invoker')
    .map((r) => ({ service: text(r.values.name), member: r.values.member, address: r.address }));
}

const SECRET_NAME = /(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIALS?|AUTH|AUTH_STRING|DATABASE_URL|DSN)$/i;
const SECRET_VALUES: [RegExp, string][] = [
  [/^[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:[^@\s]+@/i, 'a URL with a password in it'],
  [/^eyJ[\w-]+\.[\w-]+\./, 'a JWT'],
  [/^(sk|rk|pk)[-_][A-Za-z0-9_-]{16,}/, 'an API key'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^(?!\/)(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}$/, 'a long random token'],
];

export const RULES: Record<string, Rule> = {
  'cloud-run-v2-only': (plan) => {
    const out = plan.resources.filter((r) => /^google_cloud_run_service(_iam_.*)?$/.test(r.type)).map((r) => `${r.address} is Cloud Run v1; use google_cloud_run_v2_service`);
    return out;
  },

  'only-gateway-public': (plan) => {
    const out: string[] = [];
    for (const s of services(plan)) {
      // The gateway takes the internet directly, or only through the front door's load balancer
      // (whose Cloud Armor policy the front-door rule checks).
      const want = serviceName(s) === 'gateway' ? ['INGRESS_TRAFFIC_ALL', 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER'] : ['INGRESS_TRAFFIC_INTERNAL_ONLY'];
      if (!want.includes(text(s.values.ingress))) out.push(`${s.address} (${serviceName(s)}) has ingress ${text(s.values.ingress ?? 'unset (defaults to INGRESS_TRAFFIC_ALL)')}; expected ${want.join(' or ')}`);
    }
    for (const g of invokerGrants(plan)) {
      if (/^all(Authenticated)?Users$/.test(text(g.member)) && g.service !== 'gateway') out.push(`${g.address} lets ${text(g.member)} invoke ${g.service}; only the gateway is public`);
    }
    if (!invokerGrants(plan).some((g) => g.service === 'gateway' && text(g.member) === 'allUsers')) out.push('the gateway has no allUsers run.invoker grant, so nobody can reach it');
    for (const r of byType(plan, 'google_cloud_run_v2_service_iam_binding', 'google_cloud_run_v2_service_iam_policy')) out.push(`${r.address} is authoritative IAM; grant run.invoker with google_cloud_run_v2_service_iam_member`);
    return out;
  },

  'front-door-limits-each-address': (plan) => {
    const out: string[] = [];
    const gateway = services(plan).find((s) => serviceName(s) === 'gateway');
    const policies = new Map(byType(plan, 'google_compute_security_policy').map((p) => [p.address, p]));
    const negs = new Map(byType(plan, 'google_compute_region_network_endpoint_group').map((n) => [n.address, n]));
    const referenced = (value: unknown, type: string) => new RegExp(`^\\$\\{(.*\\b${type}\\.[A-Za-z0-9_]+)\\.(?:id|self_link|name)\\}$`).exec(text(value))?.[1];
    let gatewayFronted = false;
    for (const backend of byType(plan, 'google_compute_backend_service')) {
      const neg = list(backend.values.backend).map((b) => negs.get(referenced(b.group, 'google_compute_region_network_endpoint_group') ?? ''));
      if (neg.some((n) => n && text(first(n.values.cloud_run)?.service) === text(gateway?.values.name))) gatewayFronted = true;
      const policy = policies.get(referenced(backend.values.security_policy, 'google_compute_security_policy') ?? '');
      if (!policy) {
        out.push(`${backend.address} has no Cloud Armor policy of this configuration: every request through it reaches the gateway unlimited`);
        continue;
      }
      // Keyed on the TCP peer: X-Forwarded-For keys are what the client wrote, and ALL is one
      // bucket for everybody (the first flood would lock every user out).
      const perAddress = list(policy.values.rule).filter((r) => ['rate_based_ban', 'throttle'].includes(text(r.action)) && text(first(r.rate_limit_options)?.enforce_on_key) === 'IP' && r.preview !== true);
      if (perAddress.length === 0) out.push(`${policy.address} has no enforced throttle or rate_based_ban rule with enforce_on_key = "IP"`);
    }
    if (gateway) {
      const env = new Map(containers(gateway).flatMap((c) => list(c.env)).map((e) => [text(e.name), text(e.value)]));
      if (gateway.values.ingress === 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER' && !gatewayFronted) out.push(`${gateway.address} takes requests from a load balancer only, but no backend service of this configuration reaches it`);
      // Cloud Run's front end appends one entry to X-Forwarded-For, the load balancer one more for
      // requests naming its host. Without FRONT_DOOR_HOST every caller through the front door would
      // count as the load balancer's address, one bucket for all of them.
      if (env.get('TRUSTED_PROXY_HOPS') !== '1') out.push(`${gateway.address} sets TRUSTED_PROXY_HOPS=${env.get('TRUSTED_PROXY_HOPS') ?? '(unset)'}; Cloud Run's front end is one hop (the front door's is added by FRONT_DOOR_HOST)`);
      const domains = byType(plan, 'google_compute_managed_ssl_certificate').flatMap((c) => list(c.values.managed).flatMap((m) => (Array.isArray(m.domains) ? m.domains.map(text) : [])));
      if (gatewayFronted && !domains.includes(env.get('FRONT_DOOR_HOST') ?? '')) out.push(`${gateway.address} sets FRONT_DOOR_HOST=${env.get('FRONT_DOOR_HOST') ?? '(unset)'}, not the front door's domain (${domains.join(', ') || 'none'}): its callers would share the load balancer's address`);
    }
    return out;
  },

  'mesh-invoked-by-gateway-only': (plan) => {
    const out: string[] = [];
    const gateway = services(plan).find((s) => serviceName(s) === 'gateway');
    const gatewayAccount = gateway && accountOf(template(gateway).service_account);
    for (const s of services(plan).filter((x) => serviceName(x) !== 'gateway')) {
      const grants = invokerGrants(plan).filter((g) => g.service === serviceName(s));
      if (!grants.some((g) => accountOf(g.member) === gatewayAccount)) out.push(`${serviceName(s)}: the gateway's account has no run.invoker grant, so the gateway cannot call it`);
      for (const g of grants) if (accountOf(g.member) !== gatewayAccount) out.push(`${g.address}: ${text(g.member)} may invoke ${serviceName(s)}; only the gateway's account may`);
    }
    return out;
  },

  'gateway-egress-reaches-mesh': (plan) => {
    const gateway = services(plan).find((s) => serviceName(s) === 'gateway');
    if (!gateway) return ['no gateway service'];
    const vpc = first(template(gateway).vpc_access);
    if (!vpc) return ['the gateway has no VPC egress, so internal-only services reject its calls'];
    if (vpc.egress === 'ALL_TRAFFIC') return [];
    const nic = first(vpc.network_interfaces);
    const subnetRef = text(nic?.subnetwork).replace(/^\$\{(.*)\.(id|self_link|name)\}$/, '$1');
    const networkRef = text(nic?.network);
    const subnet = plan.resources.find((r) => r.address === subnetRef);
    const out: string[] = [];
    if (!subnet || subnet.values.private_ip_google_access !== true) out.push(`the gateway's egress is ${text(vpc.egress ?? 'PRIVATE_RANGES_ONLY')} and its subnet ${subnet?.address ?? subnetRef} lacks Private Google Access: calls to internal-only services would leave through the internet path and be rejected`);
    const zone = byType(plan, 'google_dns_managed_zone').find(
      (z) => z.values.dns_name === 'run.app.' && z.values.visibility === 'private' && list(first(z.values.private_visibility_config)?.networks).some((n) => text(n.network_url) === networkRef),
    );
    if (!zone) return [...out, "no private run.app. DNS zone on the gateway's network: *.run.app would resolve to public addresses"];
    const zoneName = `\${${zone.address}.name}`;
    const records = byType(plan, 'google_dns_record_set').filter((r) => text(r.values.managed_zone) === zoneName || r.values.managed_zone === zone.values.name);
    const apex = records.find((r) => r.values.name === 'run.app.' && r.values.type === 'A');
    const privateVip = (ip: unknown) => /^199\.36\.153\.(8|9|10|11|4|5|6|7)$/.test(String(ip));
    if (!apex || !list(apex.values.rrdatas).length || !(apex.values.rrdatas as unknown[]).every(privateVip)) out.push('the run.app. zone has no A record pointing at private.googleapis.com (199.36.153.8/30) or restricted.googleapis.com');
    if (!records.some((r) => r.values.name === '*.run.app.' && r.values.type === 'CNAME' && (r.values.rrdatas as unknown[] | undefined)?.[0] === 'run.app.')) out.push('the run.app. zone has no *.run.app. CNAME to run.app.');
    return out;
  },

  'one-account-per-service': (plan) => {
    const out: string[] = [];
    const seen = new Map<string, string>();
    for (const s of services(plan)) {
      const account = accountOf(template(s).service_account);
      if (!account) {
        out.push(`${serviceName(s)} does not run as a service account created for it (service_account = ${text(template(s).service_account ?? 'unset: the default compute account')})`);
        continue;
      }
      if (seen.has(account)) out.push(`${serviceName(s)} and ${seen.get(account)} share the account ${account}`);
      seen.set(account, serviceName(s));
    }
    return out;
  },

  // The drift check plans with this account: whatever it holds must only read.
  'drift-checker-read-only': (plan) => {
    const out: string[] = [];
    const readOnly = new Set(['roles/viewer', 'roles/storage.objectViewer']);
    const customRoles = new Map(byType(plan, 'google_project_iam_custom_role').map((r) => [r.address, r]));
    const grants = plan.resources.filter((r) => /_iam_member$/.test(r.type) && accountOf(r.values.member)?.endsWith('google_service_account.drift_checker'));
    if (grants.length === 0) out.push('the drift checker account holds no role: the drift check could not plan');
    for (const g of grants) {
      const role = text(g.values.role);
      const custom = /^\$\{(.*\bgoogle_project_iam_custom_role\.[A-Za-z0-9_]+)\.(?:name|id)\}$/.exec(role)?.[1];
      if (custom) {
        const permissions = (customRoles.get(custom)?.values.permissions ?? []) as unknown[];
        for (const p of permissions.map(text)) if (!/\.(get|list|getAuthString)$/.test(p)) out.push(`${g.address} gives the drift checker ${p}, which is not a read`);
      } else if (!readOnly.has(role)) out.push(`${g.address} gives the drift checker ${role}; it may hold ${[...readOnly].join(' or ')} and read-only custom roles`);
    }
    return out;
  },

  // The identity pool admits one repository by its numeric ids (a name can be re-registered), and
  // only the workflows that need a token, each pinned to the refs it runs from.
  'wif-admits-repository-ids-and-deploying-workflows': (plan) => {
    const out: string[] = [];
    for (const p of byType(plan, 'google_iam_workload_identity_pool_provider')) {
      const condition = text(p.values.attribute_condition);
      for (const claim of ['repository_id', 'repository_owner_id']) {
        if (!new RegExp(`assertion\\.${claim} == "\\d+"`).test(condition)) out.push(`${p.address} does not require assertion.${claim}: a deleted repository's name can be registered again by someone else`);
      }
      const refs = [...condition.matchAll(/assertion\.job_workflow_ref(?:\.startsWith\(|\s*==\s*)"([^"]+)"/g)].map((m) => m[1]!);
      if (!refs.length) out.push(`${p.address} admits every workflow of the repository: pin assertion.job_workflow_ref to the ones that deploy`);
      for (const ref of refs) if (!/@refs\/(tags\/v|heads\/main)$/.test(ref)) out.push(`${p.address} admits ${ref}: only release tags (refs/tags/v) or main`);
    }
    return out;
  },

  // A job of one GitHub environment becomes one account: the drift check never becomes the deployer.
  'impersonation-per-environment': (plan) => {
    const out: string[] = [];
    const byEnvironment = new Map<string, string>();
    for (const r of byType(plan, 'google_service_account_iam_member').filter((g) => g.values.role === 'roles/iam.workloadIdentityUser')) {
      const environment = /\/attribute\.environment\/([^/]+)$/.exec(text(r.values.member))?.[1];
      if (!environment) {
        out.push(`${r.address} lets ${text(r.values.member)} impersonate ${text(r.values.service_account_id)}: grant it to one environment (principalSet .../attribute.environment/<name>)`);
        continue;
      }
      const account = text(r.values.service_account_id);
      const other = byEnvironment.get(environment);
      if (other && other !== account) out.push(`environment ${environment} can become both ${other} and ${account}`);
      byEnvironment.set(environment, account);
    }
    return out;
  },

  'no-basic-roles': (plan) =>
    plan.resources
      .filter((r) => /_iam_(member|binding)$/.test(r.type) && ['roles/owner', 'roles/editor'].includes(String(r.values.role)))
      .map((r) => `${r.address} grants ${String(r.values.role)}`),

  'no-project-wide-secret-access': (plan) =>
    plan.resources
      .filter((r) => /^google_project_iam_(member|binding|policy)$/.test(r.type) && /^roles\/secretmanager\.(secretAccessor|admin)$/.test(String(r.values.role)))
      .map((r) => `${r.address} grants ${String(r.values.role)} on the whole project; grant it per secret`),

  'secrets-readable-only-by-mounting-services': (plan) => {
    const out: string[] = [];
    const owners = serviceByAccount(plan);
    // A job with an account of its own (database-access) reads what it mounts, like a service;
    // migration jobs run as their service's account and mount what it mounts.
    const jobs = byType(plan, 'google_cloud_run_v2_job').map((j) => ({ name: serviceName(j), t: first(template(j).template) ?? {} }));
    for (const j of jobs) {
      const account = accountOf(j.t.service_account);
      if (account && !owners.has(account)) owners.set(account, j.name);
    }
    const mounters = [
      ...services(plan).map((s) => ({ name: serviceName(s), volumes: list(template(s).volumes), containers: containers(s) })),
      ...jobs.filter((j) => owners.get(accountOf(j.t.service_account) ?? '') === j.name).map((j) => ({ name: j.name, volumes: list(j.t.volumes), containers: list(j.t.containers) })),
    ];
    const mounted = new Set<string>();
    for (const s of mounters) {
      for (const v of s.volumes) {
        const secret = first(v.secret);
        if (!secret) continue;
        mounted.add(`${text(secret.secret)} ${s.name}`);
        const mount = s.containers.flatMap((c) => list(c.volume_mounts)).find((m) => m.name === v.name);
        if (mount?.mount_path !== `/secrets/${String(v.name)}`) out.push(`${s.name} mounts secret ${text(secret.secret)} at ${text(mount?.mount_path ?? 'nowhere')}; expected /secrets/${String(v.name)}`);
      }
    }
    const granted = new Set<string>();
    for (const g of byType(plan, 'google_secret_manager_secret_iam_member').filter((r) => r.values.role === 'roles/secretmanager.secretAccessor')) {
      const service = owners.get(accountOf(g.values.member) ?? '');
      const secret = text(g.values.secret_id);
      if (!service) out.push(`${g.address} lets ${text(g.values.member)} read ${secret}, which is not the account of a service that mounts it`);
      else if (!mounted.has(`${secret} ${service}`)) out.push(`${g.address} lets ${service} read ${secret}, which it does not mount`);
      else granted.add(`${secret} ${service}`);
    }
    for (const m of mounted) if (!granted.has(m)) out.push(`${m.split(' ')[1]} mounts ${m.split(' ')[0]} but has no secretAccessor grant on it`);
    for (const r of byType(plan, 'google_secret_manager_secret_iam_binding', 'google_secret_manager_secret_iam_policy')) out.push(`${r.address} is authoritative IAM on a secret; use google_secret_manager_secret_iam_member`);
    return out;
  },

  'always-warm-login-path': (plan) => {
    const out: string[] = [];
    for (const name of ['gateway', 'users-service']) {
      const s = services(plan).find((x) => serviceName(x) === name);
      const min = first(template(s ?? ({ values: {} } as RenderedResource)).scaling)?.min_instance_count;
      if (typeof min !== 'number' || min < 1) out.push(`${name} has min_instance_count ${text(min ?? 'unset')}; it must keep at least 1 instance warm`);
    }
    return out;
  },

  'startup-cpu-boost': (plan) =>
    services(plan).flatMap((s) => containers(s).filter((c) => first(c.resources)?.startup_cpu_boost !== true).map(() => `${serviceName(s)} has startup CPU boost off`)),

  'no-secrets-in-env': (plan) => {
    const out: string[] = [];
    for (const r of byType(plan, 'google_cloud_run_v2_service', 'google_cloud_run_v2_job')) {
      const t = template(r);
      const cs = r.type === 'google_cloud_run_v2_job' ? list(first(t.template)?.containers) : list(t.containers);
      for (const env of cs.flatMap((c) => list(c.env))) {
        const name = String(env.name);
        if (env.value_source !== undefined) out.push(`${r.address}: env ${name} reads a secret into the environment; mount it as a file`);
        if (SECRET_NAME.test(name) && !name.endsWith('_FILE')) out.push(`${r.address}: env ${name} looks like a secret; mount it as a file and pass ${name}_FILE`);
        if (typeof env.value === 'string') for (const [re, what] of SECRET_VALUES) if (re.test(env.value)) out.push(`${r.address}: env ${name} holds what looks like ${what}`);
      }
    }
    return out;
  },

  'state-bucket-versioned': (plan) => {
    const imported = plan.imports.find((i) => /^google_storage_bucket\./.test(i.to));
    if (!imported) return ['the state bucket is not imported into the configuration, so its versioning is not kept as code'];
    const bucket = plan.resources.find((r) => r.address === imported.to);
    if (!bucket) return [`import target ${imported.to} is not declared`];
    const out: string[] = [];
    if (first(bucket.values.versioning)?.enabled !== true) out.push(`${bucket.address}: versioning is off, so a bad state write cannot be undone`);
    if (bucket.values.public_access_prevention !== 'enforced') out.push(`${bucket.address}: public_access_prevention must be enforced`);
    if (bucket.values.uniform_bucket_level_access !== true) out.push(`${bucket.address}: uniform_bucket_level_access must be on`);
    if (bucket.lifecycle.prevent_destroy !== true) out.push(`${bucket.address}: prevent_destroy must be set`);
    return out;
  },

  'explicit-deletion-protection': (plan) =>
    byType(plan, 'google_cloud_run_v2_service', 'google_cloud_run_v2_job')
      .filter((r) => typeof r.values.deletion_protection !== 'boolean')
      .map((r) => `${r.address} leaves deletion_protection to the provider default`),

  'traffic-left-to-deploys': (plan) =>
    services(plan)
      .filter((s) => !(s.lifecycle.ignore_changes as unknown[] | undefined)?.some((x) => text(x).includes('traffic')))
      .map((s) => `${s.address} does not ignore traffic changes: an apply would undo a rollback made with gcloud run services update-traffic`),

  'cloud-sql-private-ip-only': (plan) =>
    byType(plan, 'google_sql_database_instance').flatMap((r) => {
      const ip = first(first(r.values.settings)?.ip_configuration);
      const out: string[] = [];
      if (ip?.ipv4_enabled !== false) out.push(`${r.address} has a public IPv4 address (settings.ip_configuration.ipv4_enabled is ${text(ip?.ipv4_enabled ?? 'unset, which means true')}); set it false`);
      if (!ip?.private_network) out.push(`${r.address} has no private_network: it must take its address from private services access`);
      return out;
    }),

  'cloud-sql-encrypted-connections-only': (plan) =>
    byType(plan, 'google_sql_database_instance')
      .filter((r) => !['ENCRYPTED_ONLY', 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED'].includes(String(first(first(r.values.settings)?.ip_configuration)?.ssl_mode)))
      .map((r) => `${r.address} accepts unencrypted connections; set settings.ip_configuration.ssl_mode = "ENCRYPTED_ONLY"`),

  'cloud-sql-backups-and-pitr': (plan) =>
    byType(plan, 'google_sql_database_instance').flatMap((r) => {
      const b = first(first(r.values.settings)?.backup_configuration);
      const out: string[] = [];
      if (b?.enabled !== true) out.push(`${r.address} has no automated daily backups (backup_configuration.enabled)`);
      if (b?.point_in_time_recovery_enabled !== true) out.push(`${r.address} has point-in-time recovery off`);
      if (typeof b?.transaction_log_retention_days !== 'number' || b.transaction_log_retention_days < 7) out.push(`${r.address} keeps ${text(b?.transaction_log_retention_days ?? 'the default')} days of transaction logs; keep 7`);
      return out;
    }),

  'cloud-sql-deletion-protection': (plan) =>
    byType(plan, 'google_sql_database_instance').flatMap((r) => {
      const out: string[] = [];
      if (r.values.deletion_protection !== true) out.push(`${r.address}: deletion_protection (OpenTofu's guard) is not true`);
      if (first(r.values.settings)?.deletion_protection_enabled !== true) out.push(`${r.address}: settings.deletion_protection_enabled (the API's guard against gcloud and the console) is not true`);
      return out;
    }),

  // PostgreSQL 16+ defaults to Enterprise Plus, which refuses every small tier at create time.
  'cloud-sql-edition-explicit': (plan) =>
    byType(plan, 'google_sql_database_instance')
      .filter((r) => first(r.values.settings)?.edition !== 'ENTERPRISE')
      .map((r) => `${r.address}: settings.edition is ${text(first(r.values.settings)?.edition ?? 'unset (Enterprise Plus on PostgreSQL 16+)')}; set "ENTERPRISE"`),

  // Users made through the API join cloudsqlsuperuser and reach every database, so logins are
  // made in SQL; each service that reaches a database gets a URL (a login) of its own.
  'one-database-login-per-service': (plan) => {
    const out = byType(plan, 'google_sql_user').map((r) => `${r.address} is a user made through the API: it joins cloudsqlsuperuser and can reach every database; make service logins in database-access.sql`);
    const loginBySecret = new Map<string, Set<string>>();
    for (const v of byType(plan, 'google_secret_manager_secret_version')) {
      const login = /^(?:\$\{)?postgresql:\/\/([A-Za-z0-9_]+):/.exec(text(v.values.secret_data_wo))?.[1];
      if (!login) continue;
      const secret = text(v.values.secret);
      loginBySecret.set(secret, (loginBySecret.get(secret) ?? new Set()).add(login));
    }
    for (const [secret, logins] of loginBySecret) if (logins.size > 1) out.push(`secret ${secret} is written with the logins ${[...logins].join(', ')}; one login per secret`);
    const servicesByLogin = new Map<string, Set<string>>();
    for (const s of services(plan)) {
      for (const v of list(template(s).volumes)) {
        for (const login of loginBySecret.get(text(first(v.secret)?.secret)) ?? []) servicesByLogin.set(login, (servicesByLogin.get(login) ?? new Set()).add(serviceName(s)));
      }
    }
    for (const [login, names] of servicesByLogin) if (names.size > 1) out.push(`services ${[...names].sort().join(', ')} share the database login ${login}; each service needs its own`);
    return out;
  },

  'no-database-password-in-hcl-or-outputs': (plan) => {
    const out: string[] = [];
    for (const r of byType(plan, 'google_sql_database_instance', 'google_sql_user')) {
      for (const attr of ['password', 'root_password']) if (r.values[attr] !== undefined) out.push(`${r.address} sets ${attr}, which is kept in state; use ${attr}_wo from an ephemeral random_password`);
      for (const attr of ['password_wo', 'root_password_wo']) {
        if (r.values[attr] !== undefined && !text(r.values[attr]).includes('ephemeral.')) out.push(`${r.address}.${attr} is not generated by an ephemeral resource: a password written in HCL or a variable is in the configuration`);
      }
    }
    for (const v of byType(plan, 'google_secret_manager_secret_version')) {
      if (v.values.secret_data !== undefined) out.push(`${v.address} sets secret_data, which is kept in state; use secret_data_wo`);
      if (/^(?:\$\{)?postgresql:/.test(text(v.values.secret_data_wo)) && !text(v.values.secret_data_wo).includes('ephemeral.')) out.push(`${v.address} writes a database URL whose password is not generated by an ephemeral resource`);
    }
    for (const [name, value] of Object.entries(plan.outputs)) {
      // A generated password, or a URL with one in it.
      if (/ephemeral\.|:\/\/[^:/\s@"]+:[^@\s"]+@/.test(JSON.stringify(value, (_k, v: unknown) => (v instanceof Unknown ? v.toString() : v)))) out.push(`output ${name} carries a password`);
    }
    return out;
  },

  'outputs-carry-no-secrets': (plan) => {
    const out: string[] = [];
    for (const [name, value] of Object.entries(plan.outputs)) {
      if (/auth_string|secret_data/.test(JSON.stringify(value, (_k, v: unknown) => (v instanceof Unknown ? v.toString() : v)))) out.push(`output ${name} carries a secret value`);
    }
    return out;
  },
};

export function checkRules(plan: Rendered): Violation[] {
  return Object.entries(RULES).flatMap(([rule, check]) => check(plan).map((message) => ({ rule, message })));
}
