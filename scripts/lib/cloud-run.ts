// Cloud Run facts the runbooks read and the commands that change traffic, one set per service
// in the catalog, so verification and rollback run over every service at once.

import { gcloud } from './cli.ts';
import { runtimeVar, type Command, type Var } from './command.ts';
import { loadCatalog, type Service } from './catalog.ts';
import { PROJECT_ID, REGION } from './gcp.ts';

export const services: readonly Service[] = loadCatalog().services;

/** SERVICE-NAME -> SERVICE_NAME, for per-service shell variables. */
export const varName = (service: string, suffix: string) => `${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${suffix}`;

export interface ServiceCommands {
  service: Service;
  /** Route all traffic to the revisions held in `target` ("name=percent[,name=percent]"). */
  routeTo: Command;
  target: Var;
  routeToLatest: Command;
}

function commandsFor(service: Service): ServiceCommands {
  const target = runtimeVar(varName(service.name, 'TARGET_TRAFFIC'));
  const name = service.name;
  return {
    service,
    routeTo: gcloud`run services update-traffic ${name} --region ${REGION} --project ${PROJECT_ID} --to-revisions=${target}`,
    target,
    routeToLatest: gcloud`run services update-traffic ${name} --region ${REGION} --project ${PROJECT_ID} --to-latest`,
  };
}

export const perService: readonly ServiceCommands[] = services.map(commandsFor);

/**
 * Every service of the region in one call (status, traffic, conditions), and every revision in
 * another: reading all services costs the same as reading one, whatever the catalog's size.
 */
export const listServices = gcloud`run services list --region ${REGION} --project ${PROJECT_ID} --format=json`;
export const listRevisions = gcloud`run revisions list --region ${REGION} --project ${PROJECT_ID} --format=json`;

export interface TrafficTarget {
  revisionName: string;
  percent: number;
}

export interface ServiceStatus {
  ready: boolean;
  latestReady?: string;
  latestCreated?: string;
  traffic: TrafficTarget[];
  url?: string;
}

interface ServiceDoc {
  metadata?: { name?: string };
  status?: {
    url?: string;
    latestReadyRevisionName?: string;
    latestCreatedRevisionName?: string;
    conditions?: { type: string; status: string }[];
    traffic?: { revisionName?: string; percent?: number }[];
  };
}

function statusOf(doc: ServiceDoc): ServiceStatus {
  const s = doc.status ?? {};
  return {
    ready: (s.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    latestReady: s.latestReadyRevisionName,
    latestCreated: s.latestCreatedRevisionName,
    url: s.url,
    traffic: (s.traffic ?? []).filter((t) => t.revisionName && (t.percent ?? 0) > 0).map((t) => ({ revisionName: t.revisionName!, percent: t.percent ?? 0 })),
  };
}

/** `gcloud run services list --format=json` as service name -> status (absent: not deployed). */
export function parseServiceList(json: string): Map<string, ServiceStatus> {
  const docs = JSON.parse(json) as ServiceDoc[];
  return new Map(docs.filter((d) => d.metadata?.name).map((d) => [d.metadata!.name!, statusOf(d)]));
}

export interface RevisionInfo {
  name: string;
  ready: boolean;
  created: string;
}

/** `gcloud run revisions list --format=json` as service name -> its revisions, newest first. */
export function parseRevisionList(json: string): Map<string, RevisionInfo[]> {
  const items = JSON.parse(json) as {
    metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
  const byService = new Map<string, RevisionInfo[]>();
  for (const r of items) {
    const service = r.metadata.labels?.['serving.knative.dev/service'];
    if (!service) continue;
    const list = byService.get(service) ?? [];
    list.push({ name: r.metadata.name, created: r.metadata.creationTimestamp, ready: (r.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') });
    byService.set(service, list);
  }
  for (const list of byService.values()) list.sort((a, b) => b.created.localeCompare(a.created));
  return byService;
}

/** The `--to-revisions` value that restores a traffic split. */
export const trafficSpec = (traffic: readonly TrafficTarget[]) => traffic.map((t) => `${t.revisionName}=${t.percent}`).join(',');

/**
 * The revision to go back to: the newest ready revision older than the oldest one now serving.
 * Null when there is none (a service deployed once has nothing to go back to).
 */
export function previousReadyRevision(status: ServiceStatus, revisions: readonly RevisionInfo[]): string | null {
  const serving = new Set(status.traffic.map((t) => t.revisionName));
  const servingCreated = revisions.filter((r) => serving.has(r.name)).map((r) => r.created);
  if (servingCreated.length === 0) return null;
  const oldestServing = servingCreated.sort()[0]!;
  return revisions.find((r) => r.ready && r.created < oldestServing && !serving.has(r.name))?.name ?? null;
}
