// make production-bootstrap on a new project, against the fake gcloud: the APIs, Secret
// Manager's service agent (it publishes rotation reminders), the state bucket with versioning and
// no public access, and the image repository; a second run changes nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REQUIRED_APIS } from '../../scripts/lib/gcp.ts';
import { BUCKET, createWorkspace, PROJECT, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;

before(async () => {
  ws = await createWorkspace();
  // A project as it is created: nothing enabled, no bucket.
  ws.fakes.seed((cloud) => {
    cloud.projects[PROJECT] = { lifecycleState: 'ACTIVE', apis: [] };
    delete cloud.buckets[BUCKET];
  });
});
after(async () => ws.cleanup());

test('a new project gets its APIs, the Secret Manager agent, the state bucket and the image repository', async () => {
  const r = await ws.make('production-bootstrap', { YES: '1' }, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.all);
  const cloud = ws.fakes.cloud();
  assert.deepEqual([...cloud.projects[PROJECT]!.apis].sort(), [...REQUIRED_APIS].sort());
  assert.deepEqual(cloud.serviceIdentities, [`${PROJECT}/secretmanager.googleapis.com`]);
  const bucket = cloud.buckets[BUCKET]!;
  assert.deepEqual([bucket.versioning, bucket.uniformAccess, bucket.publicAccessPrevention], [true, true, 'enforced']);
  assert.equal(cloud.repositories?.length, 1);
});

test('a second run finds everything in place and creates nothing', async () => {
  const calls = ws.fakes.calls('gcloud').length;
  const r = await ws.make('production-bootstrap', { YES: '1' }, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.all);
  const created = ws.fakes.calls('gcloud').slice(calls).map((c) => c.argv.join(' ')).filter((c) => /(buckets|repositories) create/.test(c));
  assert.deepEqual(created, []);
  assert.equal(ws.fakes.cloud().serviceIdentities?.length, 1);
});
