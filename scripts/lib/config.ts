// Loads env/<ENV>.env (or ENV_FILE) with dotenv and validates it against the schema, collecting
// every problem before reporting, so a person fixes the file once rather than once per run.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { PRODUCTION_VARS, type VarSpec } from './env-schema.ts';
import { repoRoot } from './paths.ts';
import { redactor } from './redact.ts';

export type ValueSource = 'environment' | 'file' | 'default';

export class Config {
  constructor(
    private readonly values: ReadonlyMap<string, { value: string; source: ValueSource }>,
    readonly file: string,
    readonly schema: readonly VarSpec[],
  ) {}

  get(name: string): string | undefined {
    return this.values.get(name)?.value;
  }

  source(name: string): ValueSource | undefined {
    return this.values.get(name)?.source;
  }

  /** A value the caller has already validated as required. */
  require(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw new Error(`config variable ${name} is not set`);
    return v;
  }

  spec(name: string): VarSpec | undefined {
    return this.schema.find((s) => s.name === name);
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  schema?: readonly VarSpec[];
  /** Variables the runbook cannot run without. */
  required?: Iterable<string>;
}

export interface LoadResult {
  config: Config;
  problems: string[];
}

/** Which file to read: ENV_FILE, else env/<ENV>.env with ENV defaulting to production. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): { path: string; explicit: boolean } {
  if (env.ENV_FILE) return { path: isAbsolute(env.ENV_FILE) ? env.ENV_FILE : join(process.cwd(), env.ENV_FILE), explicit: true };
  return { path: join(repoRoot, 'env', `${env.ENV || 'production'}.env`), explicit: false };
}

export function loadConfig(options: LoadOptions = {}): LoadResult {
  const env = options.env ?? process.env;
  const schema = options.schema ?? PRODUCTION_VARS;
  const required = new Set(options.required ?? []);
  const problems: string[] = [];
  const { path, explicit } = configFilePath(env);
  const shown = relative(process.cwd(), path) || path;
  const exampleHint = `see env/${env.ENV || 'production'}.env.example`;

  if (env.ENV !== undefined && !/^[a-z][a-z0-9-]*$/.test(env.ENV)) {
    problems.push(`ENV="${env.ENV}" is not an environment name: use lowercase letters, e.g. ENV=production`);
  }

  // An environment nobody has set up: one clear problem instead of one per missing variable.
  const envName = env.ENV || 'production';
  if (!explicit && !existsSync(path) && !existsSync(join(repoRoot, 'env', `${envName}.env.example`))) {
    const known = readdirSync(join(repoRoot, 'env')).filter((f) => f.endsWith('.env.example')).map((f) => f.replace(/\.env\.example$/, ''));
    const guess = closest(envName, known);
    problems.push(
      `ENV=${envName}: there is no env/${envName}.env and no env/${envName}.env.example${guess && guess !== envName ? ` (did you mean ENV=${guess}?)` : ''}. ` +
        `Environments set up here: ${known.join(', ') || 'none'}. To add ${envName}, copy env/production.env.example to env/${envName}.env and fill it in, or point ENV_FILE at its file.`,
    );
    return { config: new Config(new Map(), path, schema), problems };
  }

  let fileValues: Record<string, string> = {};
  const fileExists = existsSync(path);
  if (fileExists) {
    fileValues = parseDotenv(readFileSync(path));
  } else if (explicit) {
    problems.push(`ENV_FILE=${env.ENV_FILE} does not exist: point ENV_FILE at your config file, or unset it to use env/${env.ENV || 'production'}.env`);
  }

  const known = new Set(schema.map((s) => s.name));
  for (const key of Object.keys(fileValues)) {
    if (!known.has(key)) {
      const guess = closest(key, [...known]);
      problems.push(`${key} in ${shown} is not a known variable${guess ? ` (did you mean ${guess}?)` : ''}: remove it or fix its name (${exampleHint})`);
    }
  }

  const values = new Map<string, { value: string; source: ValueSource }>();
  for (const spec of schema) {
    const fromEnv = env[spec.name];
    const fromFile = fileValues[spec.name];
    let entry: { value: string; source: ValueSource } | undefined;
    if (fromEnv !== undefined && fromEnv !== '') entry = { value: fromEnv, source: 'environment' };
    else if (fromFile !== undefined && fromFile !== '') entry = { value: fromFile, source: 'file' };
    else if (spec.default !== undefined) entry = { value: spec.default, source: 'default' };

    if (entry && spec.secret) redactor.add(entry.value, spec.name);
    if (!entry) {
      if (required.has(spec.name)) {
        const where = fileExists ? `in ${shown}` : `in ${shown} (it does not exist yet: copy env/${env.ENV || 'production'}.env.example to it)`;
        problems.push(`${spec.name} is not set: ${spec.description} Set it ${where} or in the environment.`);
      }
      continue;
    }
    const wrong = spec.check?.(entry.value);
    if (wrong) {
      // Never echo a secret back, even a malformed one.
      const shownValue = spec.secret ? '(hidden)' : `"${withoutUrlPasswords(entry.value)}"`;
      problems.push(`${spec.name}=${shownValue} (from ${entry.source === 'file' ? shown : entry.source}) is not valid: ${wrong}.`);
    }
    values.set(spec.name, entry);
  }

  for (const name of required) {
    if (!known.has(name)) problems.push(`internal: the runbook needs ${name}, which the config schema does not define`);
  }
  return { config: new Config(values, path, schema), problems };
}

/**
 * A value as it may be shown: a URL's password (before the @, or password=/passfile= in its
 * query string) replaced, so an error about a password in the wrong place does not print it.
 */
export function withoutUrlPasswords(value: string): string {
  return value
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/i, '$1:***@')
    .replace(/([?&](?:password|passfile|sslpassword)=)[^&#\s]*/gi, '$1***');
}

/** The nearest known name by edit distance, for "did you mean". */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}

/** The committed example file's text, generated from the schema (a test keeps them equal). */
export function renderExampleFile(schema: readonly VarSpec[] = PRODUCTION_VARS, env = 'production'): string {
  const lines = [
    `# ${env} configuration. Copy to env/${env}.env (gitignored) and fill in.`,
    '# Values set in the environment win over this file. Secrets may be left empty here and',
    '# exported in the shell instead; they are masked in everything the runbooks print or write.',
    '',
  ];
  for (const spec of schema) {
    lines.push(`# ${spec.description}`);
    if (spec.default !== undefined) lines.push(`# Default: ${spec.default}`);
    lines.push(`${spec.name}=${spec.example}`, '');
  }
  return lines.join('\n');
}
