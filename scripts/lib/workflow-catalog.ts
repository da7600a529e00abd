// The parts of .github/workflows that list services are generated from services.yaml, so
// adding a service is still one catalog entry. Each generated value sits under a marker
// comment naming its block; `node --import tsx scripts/lib/workflow-catalog.ts` rewrites them
// all, and a test fails while any of them differs from what the catalog says.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog, type Catalog } from './catalog.ts';
import { serviceFilters } from './changed-services.ts';
import { repoRoot } from './paths.ts';

export const WORKFLOWS_DIR = join(repoRoot, '.github', 'workflows');
export const MARKER = '# generated from services.yaml:';

interface BlockSpec {
  /** How the value starts on the key's line: a literal block (`|`) or a YAML list. */
  readonly style: 'literal' | 'list';
  render(catalog: Catalog): string[];
}

export const BLOCKS: Readonly<Record<string, BlockSpec>> = {
  // dorny/paths-filter's `filters` input: one filter per service, named after it.
  'path-filters': {
    style: 'literal',
    render: (catalog) =>
      serviceFilters(catalog).flatMap((f) => [
        `${f.service}:`,
        ...f.rules.map((r) => `  - '${r.pattern}'${r.shared ? `  # shared code ${r.shared}` : ''}`),
      ]),
  },
  // What the build job needs per service, as JSON for jq.
  'images': {
    style: 'literal',
    render: (catalog) => [
      '{',
      ...catalog.services.map(
        (s, i) =>
          `  ${JSON.stringify(s.name)}: {"image": ${JSON.stringify(s.image)}, "dockerfile": ${JSON.stringify(s.dockerfile)}}${i < catalog.services.length - 1 ? ',' : ''}`,
      ),
      '}',
    ],
  },
  // The rollback form's service choice: every service, or one.
  'rollback-services': {
    style: 'list',
    render: (catalog) => ['- all', ...catalog.services.map((s) => `- ${s.name}`)],
  },
};

export interface SyncResult {
  readonly text: string;
  /** Names of the blocks found, in file order. */
  readonly blocks: readonly string[];
  readonly problems: readonly string[];
}

const indentOf = (line: string) => line.length - line.trimStart().length;

/** Regenerate every marked block of one workflow file's text. */
export function syncWorkflowText(text: string, catalog: Catalog, file = 'workflow'): SyncResult {
  const lines = text.split('\n');
  const out: string[] = [];
  const blocks: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    const at = line.indexOf(MARKER);
    if (at < 0 || line.slice(0, at).trim() !== '') continue;
    const name = line.slice(at + MARKER.length).trim();
    const spec = BLOCKS[name];
    const keyLine = lines[i + 1];
    const key = keyLine?.match(/^(\s*)([A-Za-z0-9_-]+):/);
    if (!spec || !key) {
      problems.push(`${file}:${i + 1}: ${spec ? 'the marker must sit right above the key it generates' : `unknown generated block "${name}" (known: ${Object.keys(BLOCKS).join(', ')})`}`);
      continue;
    }
    blocks.push(name);
    const indent = key[1]!;
    out.push(`${indent}${key[2]}:${spec.style === 'literal' ? ' |' : ''}`);
    for (const rendered of spec.render(catalog)) out.push(`${indent}  ${rendered}`);
    // Skip the old value: the lines indented deeper than the key, less the blank lines after it.
    let j = i + 2;
    while (j < lines.length && (lines[j]!.trim() === '' || indentOf(lines[j]!) > indent.length)) j++;
    while (j > i + 2 && lines[j - 1]!.trim() === '') j--;
    i = j - 1;
  }
  return { text: out.join('\n'), blocks, problems };
}

export interface WorkflowSync {
  readonly file: string;
  readonly current: string;
  readonly result: SyncResult;
}

/** Every workflow file with its text regenerated from the catalog. */
export function syncWorkflows(catalog: Catalog = loadCatalog(), dir = WORKFLOWS_DIR): WorkflowSync[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((name) => {
      const file = join(dir, name);
      const current = readFileSync(file, 'utf8');
      return { file, current, result: syncWorkflowText(current, catalog, relative(repoRoot, file)) };
    });
}

/** `[--check] [directory]`: rewrite (or only check) the workflows in a directory, .github/workflows by default. */
function main(args: string[]): number {
  const check = args.includes('--check');
  const dir = args.find((a) => !a.startsWith('--'));
  const synced = syncWorkflows(loadCatalog(), dir ? resolve(dir) : WORKFLOWS_DIR);
  const problems = synced.flatMap((s) => s.result.problems);
  if (problems.length) {
    process.stderr.write(`${problems.map((p) => `error: ${p}`).join('\n')}\n`);
    return 2;
  }
  const stale = synced.filter((s) => s.result.text !== s.current);
  for (const s of stale) {
    const shown = relative(process.cwd(), s.file);
    if (check) process.stderr.write(`${shown} is out of date with services.yaml\n`);
    else {
      writeFileSync(s.file, s.result.text);
      process.stdout.write(`regenerated ${shown}\n`);
    }
  }
  if (check && stale.length) {
    process.stderr.write('Run `node --import tsx scripts/lib/workflow-catalog.ts` to regenerate.\n');
    return 1;
  }
  if (!stale.length) process.stdout.write(`every generated block in ${relative(process.cwd(), dir ? resolve(dir) : WORKFLOWS_DIR) || '.'} matches services.yaml\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(main(process.argv.slice(2)));
