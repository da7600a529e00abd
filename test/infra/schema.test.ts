import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModuleSource } from './hcl/parse.ts';
import { brokenCopy, INFRA } from './production.ts';
import { checkAgainstSchema, loadProviderSchema } from './schema.ts';

async function allModules(infraDir: string) {
  const dirs = [join(infraDir, 'environments/production'), ...readdirSync(join(infraDir, 'modules')).map((m) => join(infraDir, 'modules', m))];
  return Promise.all(dirs.map((d) => loadModuleSource(d)));
}

test('every argument the configuration writes exists in the google provider v7.45.0', async () => {
  assert.deepEqual(checkAgainstSchema(await allModules(INFRA), loadProviderSchema()), []);
});

test('the schema facts name their source', () => {
  const schema = loadProviderSchema() as unknown as { _source: Record<string, unknown>; resources: Record<string, { source: string }> };
  assert.match(JSON.stringify(schema._source), /terraform-provider-google/);
  for (const [name, r] of Object.entries(schema.resources)) assert.ok(r.source, `${name} has no source`);
});

test('an argument the provider lacks, a misplaced one and a bad enum value are all reported at once', async () => {
  const copy = brokenCopy([
    { file: 'infra/modules/cloud-run-service/main.tf', find: '      image = var.image\n', replace: '      image = var.image\n      imagePullPolicy = "Always"\n' },
    { file: 'infra/modules/network/main.tf', find: '  routing_mode            = "REGIONAL"', replace: '  routing_mode            = "REGIONAL"\n  private_ip_google_access = true' },
    { file: 'infra/modules/monitoring/main.tf', find: '  severity              = "WARNING"', replace: '  severity              = "LOW"' },
  ]);
  try {
    const problems = checkAgainstSchema(await allModules(copy.dir), loadProviderSchema());
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems.join('\n'), /google_cloud_run_v2_service has no argument "template\.containers\.imagePullPolicy"/);
    assert.match(problems.join('\n'), /google_compute_network has no argument "private_ip_google_access"/);
    assert.match(problems.join('\n'), /severity = "LOW" is not one of CRITICAL, ERROR, WARNING/);
  } finally {
    copy.cleanup();
  }
});
