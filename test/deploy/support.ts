// Reading the fake cloud the way a person reads the console.

import type { FakeCloud } from '../fakes/store.ts';

/** For each Cloud Run service: the revision serving 100% and its image. */
export function serving(cloud: FakeCloud): Record<string, { revision: string; image: string }> {
  const out: Record<string, { revision: string; image: string }> = {};
  for (const [key, svc] of Object.entries(cloud.run.services)) {
    const target = svc.traffic[0]!;
    const ready = svc.revisions.filter((r) => r.ready);
    const revision = target.latest ? ready[ready.length - 1]! : svc.revisions.find((r) => r.name === target.revisionName)!;
    out[key.split('/')[1]!] = { revision: revision.name, image: revision.image };
  }
  return out;
}
