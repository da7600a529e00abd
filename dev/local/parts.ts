// The local stack's parts and the port each listens on, relative to the port base. Nothing else
// here: the runbook scripts read these too (scripts/lib/local-state.ts), from a copy of the
// repository that holds this file but not the rest of dev/.

export const COMPONENTS = ['database', 'auth', 'metadata', 'users', 'workouts', 'gateway'] as const;
export type Component = (typeof COMPONENTS)[number];

export const PORT_OFFSETS: Record<Component | 'gatewayMetrics', number> = {
  gateway: 0,
  auth: 1,
  users: 2,
  workouts: 3,
  metadata: 4,
  database: 5,
  gatewayMetrics: 6,
};
