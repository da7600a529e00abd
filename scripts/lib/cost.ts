// Monthly cost of a planned production, from `tofu show -json <plan>` and a dated price table
// (infra/pricing/gcp-prices.json). Pure: the caller reads both files and prints the result.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export const PRICE_TABLE = 'infra/pricing/gcp-prices.json';

export interface PriceTable {
  date: string;
  currency: string;
  region: string;
  hours_per_month: number;
  sources: Record<string, string>;
  prices: Record<string, number>;
  usage: Record<string, number>;
}

/** The part of `tofu show -json` (format 1.x) the estimate reads. */
export interface PlanJson {
  format_version?: string;
  resource_changes?: {
    address: string;
    type: string;
    mode?: string;
    change: { actions: string[]; after?: Record<string, unknown> | null };
  }[];
}

export interface LineItem {
  /** What is priced: a resource address, or a usage line such as "container scanning". */
  item: string;
  monthly: number;
  /** How the figure was reached, in words and numbers a reviewer can check. */
  basis: string;
}

export interface Estimate {
  items: LineItem[];
  total: number;
  currency: string;
  priceDate: string;
  /** Resource types in the plan that have no price model; free ones are listed as such, not here. */
  unpriced: string[];
}

/** Types that cost nothing by themselves (IAM, networking without traffic, budgets, APIs). */
const FREE = new Set([
  'google_project_service',
  'google_project_iam_member',
  'google_project_iam_custom_role',
  'google_service_account',
  'google_service_account_iam_member',
  'google_cloud_run_v2_service_iam_member',
  'google_secret_manager_secret_iam_member',
  'google_secret_manager_secret_version',
  'google_artifact_registry_repository_iam_member',
  'google_storage_bucket_iam_member',
  'google_compute_network',
  'google_compute_subnetwork',
  'google_compute_global_address',
  'google_service_networking_connection',
  'google_dns_record_set',
  'google_iam_workload_identity_pool',
  'google_iam_workload_identity_pool_provider',
  'google_monitoring_notification_channel',
  'google_monitoring_uptime_check_config',
  'google_billing_budget',
  'google_monitoring_dashboard',
  // A handful of low-cardinality counters stays inside the 150 MiB of chargeable Monitoring data
  // each billing account gets free every month.
  'google_logging_metric',
  // Secret rotation reminders: a few messages a year, inside Pub/Sub's 10 GiB of free
  // throughput a month; unacknowledged messages within a week's retention are not billed as storage.
  'google_pubsub_topic',
  'google_pubsub_subscription',
  'google_pubsub_topic_iam_member',
  // Databases are part of their instance's price.
  'google_sql_database',
  // The front door's parts other than its forwarding rules and Cloud Armor policy, priced below.
  'google_compute_region_network_endpoint_group',
  'google_compute_backend_service',
  'google_compute_url_map',
  'google_compute_managed_ssl_certificate',
  'google_compute_ssl_policy',
  'google_compute_target_https_proxy',
  'google_compute_target_http_proxy',
]);

export function loadPriceTable(file = join(repoRoot, PRICE_TABLE)): PriceTable {
  return JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
}

const round = (n: number) => Math.round(n * 100) / 100;
const first = (v: unknown): Record<string, unknown> => (Array.isArray(v) && v[0] && typeof v[0] === 'object' ? (v[0] as Record<string, unknown>) : {});

/** "512Mi" or "1Gi" in GiB; "1" or "0.5" CPUs as a number. */
export function gibOf(memory: unknown): number {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi)$/.exec(String(memory));
  if (!m) throw new Error(`cannot read memory size ${JSON.stringify(memory)}`);
  return Number(m[1]) / (m[2] === 'Mi' ? 1024 : 1);
}

function cpuOf(cpu: unknown): number {
  const n = Number(String(cpu).replace(/m$/, '')) / (String(cpu).endsWith('m') ? 1000 : 1);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`cannot read CPU limit ${JSON.stringify(cpu)}`);
  return n;
}

/** A Cloud SQL instance: its tier, its SSD, its backups and its point-in-time-recovery logs. */
function cloudSqlItems(address: string, after: Record<string, unknown>, table: PriceTable, price: (n: string) => number, use: (n: string) => number): LineItem[] {
  const settings = first(after.settings);
  const tier = String(settings.tier);
  const regional = settings.availability_type === 'REGIONAL';
  const ha = regional ? 2 : 1;
  const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  const hourly = custom ? Number(custom[1]) * price('cloudsql_vcpu_hour') + (Number(custom[2]) / 1024) * price('cloudsql_memory_gb_hour') : price(`cloudsql_${tier}_hour`);
  const disk = Number(settings.disk_size ?? 10);
  const backup = first(settings.backup_configuration);
  const items: LineItem[] = [
    { item: address, monthly: ha * hourly * table.hours_per_month, basis: `${tier}${regional ? ', regional (x2)' : ', zonal'} x ${table.hours_per_month} h x $${Math.round(hourly * 1e4) / 1e4}/h` },
    { item: `${address} storage`, monthly: ha * disk * price('cloudsql_ssd_gb_month'), basis: `${disk} GB SSD x $${price('cloudsql_ssd_gb_month')}/GB-month` },
  ];
  if (backup.enabled === true) items.push({ item: `${address} backups`, monthly: use('cloudsql_backup_gb') * price('cloudsql_backup_gb_month'), basis: `${use('cloudsql_backup_gb')} GB of daily and on-demand backups (incremental) x $${price('cloudsql_backup_gb_month')}/GB-month` });
  if (backup.point_in_time_recovery_enabled === true) items.push({ item: `${address} transaction logs`, monthly: use('cloudsql_pitr_log_gb') * price('cloudsql_pitr_log_gb_month'), basis: `${use('cloudsql_pitr_log_gb')} GB of PITR logs, ${String(backup.transaction_log_retention_days ?? 7)} days, kept in Cloud Storage at no charge` });
  return items;
}

export function estimateMonthlyCost(plan: PlanJson, table: PriceTable): Estimate {
  const p = table.prices;
  const u = table.usage;
  const price = (name: string) => {
    const v = p[name];
    if (typeof v !== 'number') throw new Error(`price table ${table.date} has no price "${name}"`);
    return v;
  };
  const use = (name: string) => {
    const v = u[name];
    if (typeof v !== 'number') throw new Error(`price table ${table.date} has no usage figure "${name}"`);
    return v;
  };
  const seconds = table.hours_per_month * 3600;
  const items: LineItem[] = [];
  const unpriced = new Set<string>();
  const planned = (plan.resource_changes ?? []).filter((r) => (r.mode ?? 'managed') === 'managed' && !(r.change.actions.length === 1 && r.change.actions[0] === 'delete') && r.change.after);

  let services = 0;
  let activeCpuSeconds = 0;
  let activeGibSeconds = 0;
  let meanShape = { cpu: 0, gib: 0 };
  for (const r of planned) {
    const after = r.change.after!;
    switch (r.type) {
      case 'google_cloud_run_v2_service': {
        services += 1;
        const t = first(after.template);
        const limits = (first(first(t.containers).resources).limits ?? {}) as Record<string, unknown>;
        const cpu = cpuOf(limits.cpu ?? '1');
        const gib = gibOf(limits.memory ?? '512Mi');
        meanShape = { cpu: meanShape.cpu + cpu, gib: meanShape.gib + gib };
        const min = Number(first(t.scaling).min_instance_count ?? 0);
        const alwaysOn = first(first(t.containers).resources).cpu_idle === false;
        const cpuRate = alwaysOn ? price('cloud_run_cpu_second_active') : price('cloud_run_cpu_second_idle');
        const memRate = alwaysOn ? price('cloud_run_memory_gib_second_active') : price('cloud_run_memory_gib_second_idle');
        const monthly = min * seconds * (cpu * cpuRate + gib * memRate);
        items.push({ item: r.address, monthly, basis: `${min} warm instance(s) x ${cpu} vCPU, ${gib} GiB, ${alwaysOn ? 'CPU always allocated' : 'idle rate between requests'}, ${table.hours_per_month} h` });
        break;
      }
      case 'google_cloud_run_v2_job': {
        const tt = first(first(after.template).template);
        const limits = (first(first(tt.containers).resources).limits ?? {}) as Record<string, unknown>;
        const runs = use('releases_per_month') * use('migration_seconds');
        activeCpuSeconds += runs * cpuOf(limits.cpu ?? '1');
        activeGibSeconds += runs * gibOf(limits.memory ?? '512Mi');
        break;
      }
      case 'google_redis_instance': {
        const gb = Number(after.memory_size_gb ?? 1);
        const standard = after.tier === 'STANDARD_HA';
        const rate = price(standard ? 'memorystore_standard_gb_hour' : 'memorystore_basic_gb_hour');
        items.push({ item: r.address, monthly: gb * table.hours_per_month * rate, basis: `${gb} GB ${standard ? 'Standard' : 'Basic'} x ${table.hours_per_month} h x $${rate}/GB-h` });
        break;
      }
      case 'google_sql_database_instance':
        items.push(...cloudSqlItems(r.address, after, table, price, use));
        break;
      case 'google_dns_managed_zone':
        items.push({ item: r.address, monthly: price('dns_managed_zone_month'), basis: 'one managed zone' });
        break;
      case 'google_monitoring_alert_policy': {
        const conditions = Array.isArray(after.conditions) ? after.conditions.length : 1;
        const monthly = conditions * (price('alert_condition_month') + (use('alert_time_series_per_condition_month') / 1e6) * price('alert_million_time_series'));
        items.push({ item: r.address, monthly, basis: `${conditions} condition(s) x $${price('alert_condition_month')} + time series returned` });
        break;
      }
      case 'google_storage_bucket':
        items.push({ item: r.address, monthly: use('state_gb') * price('gcs_standard_gb_month'), basis: `${use('state_gb')} GB of state and its versions` });
        break;
      case 'google_compute_security_policy': {
        // Every request through the load balancer is evaluated by the policy.
        const rules = Array.isArray(after.rule) ? after.rule.length : 1;
        const monthly = price('armor_policy_month') + rules * price('armor_rule_month') + (use('requests_per_month') / 1e6) * price('armor_million_requests');
        items.push({ item: r.address, monthly, basis: `Cloud Armor: one policy, ${rules} rule(s), ${use('requests_per_month')} requests` });
        break;
      }
      case 'google_secret_manager_secret':
      case 'google_artifact_registry_repository':
      case 'google_compute_global_forwarding_rule':
        break; // priced below, from the counts
      default:
        if (!FREE.has(r.type)) unpriced.add(r.type);
    }
  }

  // Traffic: every request passes the gateway and one subgraph; free allotments apply per
  // billing account, so they are taken off once.
  if (services > 0) {
    const requests = use('requests_per_month');
    const hops = 1 + use('subgraph_calls_per_request');
    const shape = { cpu: meanShape.cpu / services, gib: meanShape.gib / services };
    activeCpuSeconds += requests * hops * use('request_seconds') * shape.cpu;
    activeGibSeconds += requests * hops * use('request_seconds') * shape.gib;
    const cpu = Math.max(0, activeCpuSeconds - price('cloud_run_free_cpu_seconds')) * price('cloud_run_cpu_second_active');
    const mem = Math.max(0, activeGibSeconds - price('cloud_run_free_gib_seconds')) * price('cloud_run_memory_gib_second_active');
    const req = Math.max(0, (requests * hops) / 1e6 - price('cloud_run_free_million_requests')) * price('cloud_run_million_requests');
    items.push({ item: 'Cloud Run requests (services and migration jobs)', monthly: cpu + mem + req, basis: `${requests} requests x ${hops} hops x ${use('request_seconds')} s, after the free allotment` });
  }

  // Spans the services export themselves (TRACE_EXPORTER=cloud-trace), at their sampling ratio.
  for (const r of planned.filter((x) => x.type === 'google_cloud_run_v2_service')) {
    const env = new Map(((r.change.after!['template'] as { containers?: { env?: { name: string; value?: string }[] }[] }[] | undefined)?.[0]?.containers?.[0]?.env ?? []).map((e) => [e.name, e.value]));
    if (env.get('TRACE_EXPORTER') !== 'cloud-trace') continue;
    const ratio = Number(env.get('TRACE_SAMPLE_RATIO') ?? 1);
    const spans = use('requests_per_month') * ratio * use('spans_per_traced_request');
    const monthly = Math.max(0, spans / 1e6 - price('cloud_trace_free_million_spans')) * price('cloud_trace_million_spans');
    items.push({ item: `Cloud Trace spans (${String(r.change.after!['name'])})`, monthly, basis: `${use('requests_per_month')} requests x ${ratio} sampled x ${use('spans_per_traced_request')} spans, ${price('cloud_trace_free_million_spans')} million free` });
  }

  // The load balancer: its first five forwarding rules cost one hourly price together, and every
  // request's bytes are processed once.
  const forwardingRules = planned.filter((r) => r.type === 'google_compute_global_forwarding_rule').length;
  if (forwardingRules > 0) {
    const hourly = price('lb_first_five_forwarding_rules_hour') + Math.max(0, forwardingRules - 5) * price('lb_forwarding_rule_hour_after_five');
    const gb = (use('requests_per_month') * use('kb_per_request')) / 1e6;
    items.push({
      item: `Load balancer (${forwardingRules} forwarding rule(s))`,
      monthly: hourly * table.hours_per_month + gb * price('lb_data_processed_gb'),
      basis: `${table.hours_per_month} h x $${hourly}/h, ${gb} GB processed; its address is free while a forwarding rule holds it`,
    });
  }

  const secrets = planned.filter((r) => r.type === 'google_secret_manager_secret').length;
  if (secrets > 0) {
    const versions = Math.max(0, secrets - price('secret_free_active_versions'));
    const monthly = versions * price('secret_active_version_month') + (use('secret_accesses_per_month') / 1e4) * price('secret_ten_thousand_accesses');
    items.push({ item: `Secret Manager (${secrets} secrets)`, monthly, basis: `${secrets} active versions, ${price('secret_free_active_versions')} free; ${use('secret_accesses_per_month')} accesses` });
  }

  if (planned.some((r) => r.type === 'google_artifact_registry_repository')) {
    const gb = services * use('image_versions_kept') * use('image_gb');
    items.push({ item: 'Artifact Registry storage', monthly: Math.max(0, gb - price('artifact_registry_free_gb')) * price('artifact_registry_gb_month'), basis: `${services} images x ${use('image_versions_kept')} versions x ${use('image_gb')} GB` });
    const scans = services * use('releases_per_month');
    items.push({ item: 'Container scanning', monthly: scans * price('container_scan_per_image'), basis: `${services} images x ${use('releases_per_month')} releases x $${price('container_scan_per_image')}` });
  }

  const rounded = items.map((i) => ({ ...i, monthly: round(i.monthly) }));
  return { items: rounded, total: round(rounded.reduce((s, i) => s + i.monthly, 0)), currency: table.currency, priceDate: table.date, unpriced: [...unpriced].sort() };
}

/** The estimate as an aligned table, for the CLI wrapper. */
export function formatEstimate(estimate: Estimate): string {
  const width = Math.max(...estimate.items.map((i) => i.item.length), 5);
  const lines = estimate.items.map((i) => `${i.item.padEnd(width)}  ${i.monthly.toFixed(2).padStart(8)}  ${i.basis}`);
  lines.push(`${'total'.padEnd(width)}  ${estimate.total.toFixed(2).padStart(8)}  ${estimate.currency} per month, list prices of ${estimate.priceDate}`);
  if (estimate.unpriced.length) lines.push(`not priced: ${estimate.unpriced.join(', ')}`);
  return lines.join('\n');
}
