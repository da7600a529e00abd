// What the fake tofu reads of real configuration files, for `fmt` and `validate`. Real tofu
// parses HCL; the fake reads lines, so it judges only what a line shows for certain.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files `tofu fmt` processes; JSON variants are skipped. */
export const FMT_EXTENSIONS = ['.tf', '.tofu', '.tfvars', '.tftest.hcl', '.tofutest.hcl'];

/** Names tofu ignores in a configuration directory (configs.IsIgnoredFile): .terraform among them. */
export const isIgnoredName = (name: string) => name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#'));

/**
 * Whether real `tofu fmt` would rewrite this source, judged on a subset of its rules. hclwrite
 * rebuilds the whitespace before every token, so a tab in a line's indentation and blanks at a
 * line's end always change; the bytes of heredocs, block comments and a line comment (its
 * trailing blanks included) are kept as they are. It keeps line endings (CRLF stays CRLF) and
 * adds no missing final newline, so neither counts here. Indentation depth, `=` alignment and
 * spacing between tokens are not judged: a file the fake passes may still fail real fmt, never
 * the other way round, which is why CI runs `make infra-validate` with real OpenTofu.
 */
export function needsFormatting(source: string): boolean {
  let heredocEnd: string | null = null;
  let inBlockComment = false;
  for (const raw of source.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (heredocEnd !== null) {
      if (line.trim() === heredocEnd) heredocEnd = null;
      continue;
    }
    if (inBlockComment) {
      if (line.includes('*/')) inBlockComment = false;
      continue;
    }
    if (/^[ \t]*\t/.test(line)) return true;
    // A `#` or `//` may sit in a string; a line with one is left alone rather than misjudged.
    const hasComment = /#|\/\/|\/\*/.test(line);
    if (!hasComment && /[ \t]$/.test(line)) return true;
    const opened = line.lastIndexOf('/*');
    if (opened >= 0 && line.indexOf('*/', opened) < 0) inBlockComment = true;
    const heredoc = /<<-?([A-Za-z_][A-Za-z0-9_-]*)$/.exec(line);
    if (heredoc && !hasComment) heredocEnd = heredoc[1]!;
  }
  return false;
}

export interface Requirements {
  /** Module calls, where they are written, for "Module not installed". */
  modules: { name: string; file: string; line: number; column: number; byte: number; header: string; text: string }[];
  /** Provider addresses, e.g. registry.opentofu.org/hashicorp/google. */
  providers: string[];
}

/**
 * What `tofu init` would have to install for the configuration in `dir`: its module calls and
 * its providers (declared in required_providers, or implied by a resource type's prefix).
 */
export function requirements(dir: string): Requirements {
  const modules: Requirements['modules'] = [];
  const declared = new Map<string, string>();
  const implied = new Set<string>();
  let files: string[];
  try {
    files = readdirSync(dir).filter((n) => !isIgnoredName(n) && (n.endsWith('.tf') || n.endsWith('.tofu'))).sort();
  } catch {
    files = [];
  }
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    let offset = 0;
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      const call = /^(\s*)(module\s+"([^"]+)")\s*\{/.exec(line);
      if (call) {
        const column = call[1]!.length + 1;
        modules.push({ name: call[3]!, file, line: i + 1, column, byte: offset + Buffer.byteLength(call[1]!), header: call[2]!, text: line });
      }
      offset += Buffer.byteLength(raw) + 1;
      const uses = /^\s*(?:resource|data|ephemeral)\s+"([a-z0-9]+)_[^"]*"/.exec(line) ?? /^\s*provider\s+"([a-z0-9-]+)"/.exec(line);
      if (uses) implied.add(uses[1]!);
    });
    for (const block of text.matchAll(/required_providers\s*\{/g)) {
      const body = balanced(text, block.index! + block[0].length);
      for (const entry of body.matchAll(/([A-Za-z0-9_-]+)\s*=\s*\{[^}]*?source\s*=\s*"([^"]+)"/g)) declared.set(entry[1]!, entry[2]!);
    }
  }
  const addresses = new Set<string>();
  for (const [, source] of declared) addresses.add(providerAddress(source));
  // terraform_data and friends come from the built-in provider, which is never installed.
  for (const name of implied) if (!declared.has(name) && name !== 'terraform') addresses.add(providerAddress(`hashicorp/${name}`));
  return { modules, providers: [...addresses].sort() };
}

function providerAddress(source: string): string {
  const parts = source.toLowerCase().split('/');
  return parts.length === 3 ? parts.join('/') : `registry.opentofu.org/${parts.join('/')}`;
}

/** The text up to the brace that closes the one opened just before `from`. */
function balanced(text: string, from: number): string {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(from, i);
  }
  return text.slice(from);
}
