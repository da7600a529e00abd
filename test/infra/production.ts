// The production configuration as the deploy plans it: production.tfvars.example plus the
// variables the deploy passes on the command line. Broken variants are copies of infra/ with
// one edit, so each rule is proven against the real configuration, not a toy.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/process.ts';
import { parseFile } from './hcl/parse.ts';
import { renderConfiguration, type Rendered } from './hcl/render.ts';

export const INFRA = join(repoRoot, 'infra');
export const PRODUCTION = 'environments/production';
export const DEPLOY_VARS = { project_id: 'mindmirror-prod', region: 'us-central1', image_tag: 'v1.4.0', git_commit: '0123456789abcdef0123456789abcdef01234567' };

export async function readTfvars(file: string): Promise<Record<string, unknown>> {
  return parseFile(file, readFileSync(file, 'utf8'));
}

export async function renderProduction(infraDir = INFRA, vars: Record<string, unknown> = DEPLOY_VARS, tfvarsText?: string): Promise<Rendered> {
  const example = join(infraDir, PRODUCTION, 'production.tfvars.example');
  const tfvars = tfvarsText === undefined ? await readTfvars(example) : await parseFile('production.tfvars', tfvarsText);
  return renderConfiguration(join(infraDir, PRODUCTION), { tfvars: [tfvars], vars });
}

/** production.tfvars.example with some of its settings changed (name => HCL value). */
export function tfvarsWith(settings: Record<string, string>, infraDir = INFRA): string {
  let text = readFileSync(join(infraDir, PRODUCTION, 'production.tfvars.example'), 'utf8');
  for (const [name, value] of Object.entries(settings)) {
    const line = new RegExp(`^${name} = .*$`, 'm');
    if (!line.test(text)) throw new Error(`production.tfvars.example has no ${name} line`);
    text = text.replace(line, `${name} = ${value}`);
  }
  return text;
}

export interface Edit {
  file: string;
  find: string;
  replace: string;
}

/** A copy of infra/ (and the catalog it reads) with edits applied; every edit must match. */
export function brokenCopy(edits: Edit[]): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'infra-rule-'));
  cpSync(INFRA, join(root, 'infra'), { recursive: true, filter: (src) => !src.includes('.terraform') });
  cpSync(join(repoRoot, 'services.yaml'), join(root, 'services.yaml'));
  for (const edit of edits) {
    const path = join(root, edit.file);
    const before = readFileSync(path, 'utf8');
    if (!before.includes(edit.find)) throw new Error(`fixture edit does not apply: ${edit.file} has no ${JSON.stringify(edit.find)}`);
    writeFileSync(path, before.replace(edit.find, edit.replace));
  }
  return { dir: join(root, 'infra'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
