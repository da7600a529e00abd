// make production-rotate-secret against the fakes, after a real deploy: the new value is added
// while the old stays enabled, every reader gets a new revision, production is verified, then the
// old version is disabled; ROLLBACK=1 brings the old value back as the newest version (what
// `latest` mounts) and disables the bad one; no value reaches the output or a command line; a
// failed verification leaves the old version enabled; bad input is exit 2.

import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { filesUnder, run } from '../helpers/process.ts';
import { createWorkspace, type Workspace } from '../helpers/workspace.ts';

let ws: Workspace;
const OLD = 'sk-old-openai-key-0123456789';
const NEW = 'sk-new-openai-key-9876543210';

before(async () => {
  ws = await createWorkspace();
  const deployed = await ws.make('production-deploy', { YES: '1' }, { timeoutMs: 180_000 });
  assert.equal(deployed.code, 0, deployed.all);
  ws.fakes.seed((cloud) => {
    cloud.secrets['openai-api-key'] = {
      versions: [{ version: 1, data: Buffer.from(OLD).toString('base64'), state: 'ENABLED', created: new Date(Date.now() - 200 * 86_400_000).toISOString() }],
      // As OpenTofu left it: a 180-day schedule whose reminder has already been published.
      rotation: { rotationPeriod: '15552000s', nextRotationTime: new Date(Date.now() + 160 * 86_400_000).toISOString() },
      topics: ['projects/mm-prod-1/topics/secret-rotation-reminders'],
    };
    cloud.subscriptions = { 'secret-rotation-due': { ackDeadlineSeconds: 60, messages: [reminder('openai-api-key', '1'), reminder('qdrant-api-key', '2')] } };
  });
});
after(async () => ws.cleanup());

function reminder(secret: string, id: string) {
  return {
    messageId: id,
    attributes: { eventType: 'SECRET_ROTATE', secretId: `projects/123456789012/secrets/${secret}`, dataFormat: 'JSON_API_V1', timestamp: new Date().toISOString() },
    data: Buffer.from(JSON.stringify({ name: `projects/123456789012/secrets/${secret}` })).toString('base64'),
    publishTime: new Date().toISOString(),
  };
}
const waiting = () => ws.fakes.cloud().subscriptions!['secret-rotation-due']!.messages.map((m) => m.attributes.secretId!.split('/').pop());
const versions = () => ws.fakes.cloud().secrets['openai-api-key']!.versions.map((v) => ({ v: v.version, state: v.state, value: Buffer.from(v.data, 'base64').toString('utf8') }));
const latest = () => versions().at(-1)!;
const revisionsOf = (service: string) => Object.entries(ws.fakes.cloud().run.services).find(([k]) => k.endsWith(`/${service}`))![1].revisions.map((r) => r.name);
const script = (env: Record<string, string>) => run(process.execPath, ['--no-webstorage', '--import', 'tsx', 'scripts/production-rotate-secret.ts'], { cwd: ws.dir, env: { ...ws.env, ...env }, timeoutMs: 120_000 });
const valueFile = (value: string) => {
  const file = join(ws.dir, 'new-value');
  writeFileSync(file, `${value}\n`);
  chmodSync(file, 0o600);
  return file;
};
const leaked = (texts: string[], secrets: string[]) => texts.some((t) => secrets.some((s) => t.includes(s)));

test('a rotation adds the new value, rolls every reader, verifies, then disables the old version', async () => {
  const before = revisionsOf('agent-service').length;
  const gatewayBefore = revisionsOf('gateway').length;
  const r = await script({ SECRET: 'openai-api-key', VALUE_FILE: valueFile(NEW), YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(versions().map((v) => [v.v, v.state, v.value]), [
    [1, 'DISABLED', OLD],
    [2, 'ENABLED', NEW],
  ]);
  assert.equal(revisionsOf('agent-service').length, before + 1, 'agent-service, which reads it, got a new revision');
  assert.match(revisionsOf('agent-service').at(-1)!, /^agent-service-rot-\d{8}t\d{9}$/);
  assert.equal(revisionsOf('gateway').length, gatewayBefore, 'services that do not read it are left alone');
  const calls = ws.fakes.calls('gcloud').map((c) => c.argv.join(' '));
  const order = ['versions add', 'run services update agent-service', 'versions disable 1'].map((needle) => calls.findIndex((c) => c.includes(needle)));
  assert.ok(order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!, `added, rolled, then disabled: ${order}`);
  assert.ok(!leaked([r.all, ...calls, ...filesUnder(join(ws.dir, '.runs')).map((f) => f.text)], [OLD, NEW]), 'no value in the output, the logs or a command line');

  // The reminder: this secret's is acknowledged (the alert closes), another secret's stays, and
  // the next one comes a full 180 days after this rotation, not after the old schedule.
  assert.deepEqual(waiting(), ['qdrant-api-key']);
  const next = Date.parse(ws.fakes.cloud().secrets['openai-api-key']!.rotation!.nextRotationTime);
  assert.ok(Math.abs(next - (Date.now() + 180 * 86_400_000)) < 3_600_000, `next rotation ${new Date(next).toISOString()}`);
  assert.match(r.all, /1 waiting reminder\(s\) acknowledged/);
});

test('ROLLBACK=1 brings the previous value back as the newest version and disables the bad one', async () => {
  ws.fakes.seed((cloud) => void cloud.subscriptions!['secret-rotation-due']!.messages.push(reminder('openai-api-key', '3')));
  const r = await script({ SECRET: 'openai-api-key', ROLLBACK: '1', YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.ok(waiting().includes('openai-api-key'), 'the old value is back, so its reminder stands');
  assert.deepEqual(latest(), { v: 3, state: 'ENABLED', value: OLD }, 'latest (what services mount) is the old value again');
  assert.equal(versions().find((v) => v.v === 2)!.state, 'DISABLED');
  assert.ok(!leaked([r.all], [OLD, NEW]));
});

test('when verification fails the old version stays enabled, and the run says how to go back', async () => {
  ws.health.status = 503;
  try {
    const r = await script({ SECRET: 'openai-api-key', VALUE_FILE: valueFile('sk-broken-key-5555555555'), YES: '1' });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /failed: Verify the gateway and every service/);
    const enabled = versions().filter((v) => v.state === 'ENABLED').map((v) => v.value);
    assert.ok(enabled.includes(OLD) && enabled.includes('sk-broken-key-5555555555'), 'both enabled: nothing was disabled');
  } finally {
    ws.health.status = 200;
  }
});

test('a project without the reminders subscription still rotates, and the run says what to deploy', async () => {
  ws.fakes.seed((cloud) => {
    cloud.secrets['qdrant-api-key'] = { versions: [{ version: 1, data: Buffer.from('qdrant-key-1111').toString('base64'), state: 'ENABLED' }] };
    delete cloud.subscriptions;
  });
  const r = await script({ SECRET: 'qdrant-api-key', VALUE_FILE: valueFile('qdrant-key-2222'), YES: '1' });
  assert.equal(r.code, 0, r.all);
  assert.deepEqual(ws.fakes.cloud().secrets['qdrant-api-key']!.versions.map((v) => v.state), ['DISABLED', 'ENABLED']);
  assert.match(r.all, /reminder not moved: .*at least one topic.*NOT_FOUND.*run make production-deploy/s);
});

test('bad input is exit 2 and changes nothing: an unknown secret (with a suggestion), a Supabase key, no value without a terminal', async () => {
  const count = versions().length;
  const unknown = await script({ SECRET: 'openai-api-kee', YES: '1' });
  assert.equal(unknown.code, 2, unknown.all);
  assert.match(unknown.all, /no secret openai-api-kee \(did you mean openai-api-key\?\)/);
  const supabaseKey = await script({ SECRET: 'supabase-service-role-key', YES: '1' });
  assert.equal(supabaseKey.code, 2, supabaseKey.all);
  assert.match(supabaseKey.all, /not rotated here: rotate it in the Supabase dashboard/);
  ws.fakes.seed((cloud) => {
    cloud.secrets['qdrant-api-key'] = { versions: [{ version: 1, data: Buffer.from('qdrant-key-0000').toString('base64'), state: 'ENABLED' }] };
  });
  const noValue = await script({ SECRET: 'qdrant-api-key', YES: '1' });
  assert.match(noValue.all, /give it in a file with VALUE_FILE=<path>/);
  assert.equal(noValue.code, 2, noValue.all);
  assert.equal(versions().length, count);
  assert.equal(ws.fakes.cloud().secrets['qdrant-api-key']!.versions.length, 1);
});
