// Which services a release has to build, decided from the service catalog alone. The deploy
// workflow feeds the same rules to dorny/paths-filter, and `make ci-changed-services` applies
// them locally, so what a person checks before tagging is what the pipeline builds.
//
// The rules: a changed file under a service's own `paths` rebuilds that service; a changed file
// under the `paths` of shared code rebuilds every service that `uses` it; anything else (docs,
// services.yaml, infra/, scripts/) rebuilds nothing, because no image contains it.

import type { Catalog } from './catalog.ts';

export interface FilterRule {
  readonly pattern: string;
  /** The `shared` entry the pattern comes from; absent for the service's own source. */
  readonly shared?: string;
}

export interface ServiceFilter {
  readonly service: string;
  readonly rules: readonly FilterRule[];
}

export interface Rebuild {
  readonly service: string;
  /** Every changed file that triggers the rebuild, with the rule it matched. */
  readonly because: readonly { file: string; rule: FilterRule }[];
}

export interface ReleasePlan {
  readonly build: readonly Rebuild[];
  /** Services whose images carry over from the previous release unchanged. */
  readonly unchanged: readonly string[];
  /** Changed files no service is built from. */
  readonly ignored: readonly string[];
}

// paths-filter matches with picomatch ({ dot: true }). Patterns here are limited to the part of
// that syntax whose meaning is unambiguous (* and ** only), so this matcher and picomatch agree
// on every pattern the catalog may contain; a test checks the two against each other.
const PATTERN_CHARS = /^[A-Za-z0-9_.\-/*]+$/;

/** What is wrong with a catalog path pattern, or null when both matchers read it the same way. */
export function patternProblem(pattern: string): string | null {
  if (!PATTERN_CHARS.test(pattern)) {
    return `"${pattern}" uses glob syntax other than * and ** (braces, brackets, ?, ! and extglobs are not supported): list each path on its own`;
  }
  if (pattern.startsWith('/') || pattern.startsWith('./')) return `"${pattern}" must be relative to the repository root, without a leading / or ./`;
  if (pattern.endsWith('/')) return `"${pattern}" ends with /: write "${pattern}**" to mean everything under it`;
  for (const segment of pattern.split('/')) {
    if (segment === '') return `"${pattern}" has an empty path segment (//)`;
    if (segment.includes('**') && segment !== '**') return `"${pattern}": ** must be a whole path segment, as in "dir/**"`;
  }
  return null;
}

const escapeRegExp = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** Compile a pattern accepted by patternProblem() into a matcher with picomatch's meaning. */
export function compilePattern(pattern: string): (file: string) => boolean {
  const problem = patternProblem(pattern);
  if (problem) throw new Error(problem);
  const segments = pattern.split('/');
  const last = segments.length - 1;
  let source = '';
  segments.forEach((segment, i) => {
    if (segment === '**') {
      if (i === 0) source += last === 0 ? '.*' : '(?:.*/)?';
      else source += '(?:/.*)?';
      return;
    }
    // After a leading ** the separator is already part of its group.
    if (i > 0 && !(i === 1 && segments[0] === '**')) source += '/';
    source += segment.split('*').map(escapeRegExp).join('[^/]*');
  });
  const regex = new RegExp(`^${source}$`);
  return (file) => regex.test(file);
}

/** Every path pattern in the catalog that the matchers cannot share, named by where it is. */
export function catalogPatternProblems(catalog: Catalog): string[] {
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(catalog.shared)) {
    for (const p of entry.paths) {
      const problem = patternProblem(p);
      if (problem) problems.push(`shared.${name}.paths: ${problem}`);
    }
  }
  for (const service of catalog.services) {
    for (const p of service.paths) {
      const problem = patternProblem(p);
      if (problem) problems.push(`services.${service.name}.paths: ${problem}`);
    }
  }
  return problems;
}

/** One filter per service, in catalog order: its own paths, then those of the shared code it uses. */
export function serviceFilters(catalog: Catalog): ServiceFilter[] {
  return catalog.services.map((service) => {
    const rules: FilterRule[] = service.paths.map((pattern) => ({ pattern }));
    for (const shared of service.uses) {
      for (const pattern of catalog.shared[shared]?.paths ?? []) {
        if (!rules.some((r) => r.pattern === pattern)) rules.push({ pattern, shared });
      }
    }
    return { service: service.name, rules };
  });
}

/** Apply the filters to a list of changed files. */
export function planRelease(catalog: Catalog, files: readonly string[]): ReleasePlan {
  const problems = catalogPatternProblems(catalog);
  if (problems.length) throw new Error(`services.yaml has paths the pipeline cannot match:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const filters = serviceFilters(catalog);
  // Shared patterns appear in many filters: each distinct pattern is tested once per file.
  const patterns = [...new Set(filters.flatMap((f) => f.rules.map((r) => r.pattern)))];
  const matchers = patterns.map(compilePattern);
  const hits = filters.map(() => [] as { file: string; rule: FilterRule }[]);
  const ignored: string[] = [];
  const matched = new Array<boolean>(patterns.length);
  for (const file of files) {
    for (let p = 0; p < patterns.length; p++) matched[p] = matchers[p]!(file);
    let used = false;
    filters.forEach((filter, f) => {
      // The service's own paths come first in its rules, so they explain a rebuild before shared code does.
      const rule = filter.rules.find((r) => matched[patterns.indexOf(r.pattern)]);
      if (rule) {
        hits[f]!.push({ file, rule });
        used = true;
      }
    });
    if (!used) ignored.push(file);
  }
  const build: Rebuild[] = [];
  const unchanged: string[] = [];
  filters.forEach((filter, f) => {
    const because = hits[f]!;
    because.sort((a, b) => Number(Boolean(a.rule.shared)) - Number(Boolean(b.rule.shared)));
    if (because.length) build.push({ service: filter.service, because });
    else unchanged.push(filter.service);
  });
  return { build, unchanged, ignored };
}

/**
 * File names from `git diff --name-only` (one a line). Git writes a name with a quote, a
 * backslash or a control character as a C-style quoted string even with core.quotePath off.
 */
export function parseChangedFiles(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (line.startsWith('"') && line.endsWith('"') && line.length > 1 ? unquoteGitPath(line.slice(1, -1)) : line));
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

function unquoteGitPath(quoted: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    const c = quoted[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = quoted[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(quoted.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(C_ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
