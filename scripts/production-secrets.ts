// make production-secrets: put the values only a person has (API keys, and the database URLs
// when DATABASE_MODE=external) into Secret Manager. On Cloud SQL (the default) OpenTofu writes
// each service's database URL itself, so none is asked for. Preflight first, as every runbook that changes production: a missing tool or
// credential stops it before a value is asked for. Values come from a gitignored file
// (SECRETS_FILE, default env/production.secrets.env, `secret-name=value` lines) or hidden
// prompts; a secret gets a new version only when its value changed, and no value is ever echoed.

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { make } from './lib/cli.ts';
import { closest } from './lib/config.ts';
import { runIfMain } from './lib/engine.ts';
import { repoRoot } from './lib/paths.ts';
import { redactor } from './lib/redact.ts';
import { defineRunbook, StepFailure, UsageFailure, type StepContext } from './lib/runbook.ts';
import { databaseUrlSecrets, operatorSecrets } from './lib/secret-catalog.ts';
import { databaseMode } from './lib/cloud-sql.ts';
import { hasValue, secretCommands, storeIfChanged } from './lib/secret-versions.ts';
import { renderTable } from './lib/table.ts';

const DEFAULT_FILE = 'env/production.secrets.env';
// Every secret a person may provide, in either mode; a run asks only for those of its mode.
const managed = operatorSecrets().map(secretCommands);
const databaseUrls = new Set(databaseUrlSecrets());
const wanted = (ctx: StepContext) => managed.filter((s) => databaseMode(ctx) === 'external' || !databaseUrls.has(s.name));

function readSecretsFile(path: string): Map<string, string> {
  const values = parseDotenv(readFileSync(path));
  const known = new Set(managed.map((s) => s.name));
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  for (const v of Object.values(values)) redactor.add(v, 'secrets file value');
  if (unknown.length) {
    // A misspelt name would otherwise leave the real secret unchanged without a word.
    const named = unknown.map((k) => {
      const guess = closest(k, [...known]);
      return guess ? `${k} (did you mean ${guess}?)` : k;
    });
    throw new UsageFailure(
      `${path} names secrets this project does not use: ${named.join(', ')}. The secrets it uses are: ${[...known].join(', ')}. Fix the names; nothing was stored.`,
    );
  }
  return new Map(Object.entries(values).filter(([, v]) => v !== ''));
}

export const productionSecrets = defineRunbook({
  id: 'secrets',
  title: 'Secrets',
  make: 'production-secrets',
  params: [
    {
      name: 'SECRETS_FILE',
      description: `File of secret-name=value lines (gitignored; default ${DEFAULT_FILE}). Without it, values are asked for without echo.`,
      example: '',
    },
  ],
  steps: [
    { id: 'preflight', title: 'Preflight', commands: [make('preflight')] },
    {
      id: 'values',
      title: 'Collect the values',
      commands: [],
      requires: ['DATABASE_MODE'],
      async run(ctx) {
        const given = ctx.config.get('SECRETS_FILE');
        const file = given ? (isAbsolute(given) ? given : join(process.cwd(), given)) : join(repoRoot, DEFAULT_FILE);
        let values = new Map<string, string>();
        if (existsSync(file)) values = readSecretsFile(file);
        else if (given) throw new UsageFailure(`SECRETS_FILE=${given} does not exist`);
        const written = [...values.keys()].filter((k) => !wanted(ctx).some((s) => s.name === k));
        if (written.length) {
          throw new UsageFailure(
            `${written.join(', ')}: OpenTofu writes the database URLs on Cloud SQL (DATABASE_MODE=cloudsql), one per service with its own login. Remove ${written.length > 1 ? 'them' : 'it'} from the secrets file, or set DATABASE_MODE=external in env/production.env if the databases live elsewhere; nothing was stored.`,
          );
        }
        for (const secret of wanted(ctx)) {
          if (values.has(secret.name)) continue;
          const typed = await ctx.askSecret(`${secret.name} (Enter keeps the current value): `);
          if (typed) values.set(secret.name, typed);
        }
        ctx.state.set('values', values);
        return { note: `${values.size} of ${wanted(ctx).length} given${databaseMode(ctx) === 'cloudsql' ? '; database URLs are written by OpenTofu' : ''}` };
      },
    },
    {
      id: 'store',
      title: 'Store changed values as new versions',
      requires: ['DATABASE_MODE'],
      commands: managed.flatMap((s) => [s.describe, s.create, s.current, s.add]),
      async run(ctx) {
        const values = ctx.state.get('values') as Map<string, string>;
        const rows: string[][] = [];
        const missing: string[] = [];
        for (const secret of wanted(ctx)) {
          const value = values.get(secret.name);
          if (value === undefined) {
            const kept = await hasValue(ctx, secret);
            rows.push([secret.name, kept ? 'kept (no new value given)' : 'MISSING']);
            if (!kept) missing.push(secret.name);
            continue;
          }
          rows.push([secret.name, await storeIfChanged(ctx, secret, value)]);
        }
        ctx.print(renderTable(['secret', 'result'], rows));
        if (missing.length) {
          throw new StepFailure(`${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no value yet; the services that mount them cannot start. Add them to ${DEFAULT_FILE} (or SECRETS_FILE) and run again.`);
        }
        const changed = rows.filter((r) => r[1] === 'created' || r[1] === 'updated').length;
        return { note: changed ? `${changed} new versions` : 'nothing changed' };
      },
    },
  ],
});

runIfMain(import.meta.url, productionSecrets);
