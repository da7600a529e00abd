// A command has two faces: the argv the step engine executes, and the line a person copies
// from the runbook. Both come from one description so they cannot drift apart.

export type VarSource = 'config' | 'runtime';

/** A named value: from the env file (config) or captured by an earlier command (runtime). */
export class Var {
  constructor(
    readonly name: string,
    readonly source: VarSource,
    readonly secret: boolean = false,
  ) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`variable name ${name} must be UPPER_SNAKE_CASE`);
  }
}

export const configVar = (name: string, secret = false) => new Var(name, 'config', secret);
export const runtimeVar = (name: string, secret = false) => new Var(name, 'runtime', secret);

type Part = { kind: 'literal'; value: string; raw: string } | { kind: 'var'; ref: Var };
export type Token = readonly Part[];

export type Interpolation = Var | string | number | readonly (Var | string)[];

/** The program a command runs, how to find it, and how a person types it. */
export interface Program {
  /** How the runbook spells it, e.g. `gcloud` or `npx supabase`. */
  readonly display: string;
  /** Environment variable that overrides the binary, e.g. GCLOUD_BIN. */
  readonly overrideEnv?: string;
  /** Resolve the executable (and any fixed leading arguments) for this machine. */
  resolve(env: NodeJS.ProcessEnv): { file: string; leadingArgs: string[] };
  /** What to tell a person who does not have it. */
  readonly installHint: string;
}

export interface CommandOptions {
  /** Exit codes that count as success; a step may inspect which one it got. */
  readonly okExitCodes: readonly number[];
  /** Store trimmed stdout in this runtime variable (runbook form: `VAR=$(cmd)`). */
  readonly capture?: Var;
  /** Feed this variable's value on stdin (runbook form: `printf '%s' "$VAR" | cmd`). */
  readonly stdin?: Var;
  /** printf format the value is fed through, e.g. `Authorization: Bearer %s` for `curl -H @-`. */
  readonly stdinFormat?: string;
  /** Write stdout to this file with mode 0600 (runbook form: `cmd > "$FILE"`). */
  readonly stdoutFile?: Var | string;
  /** Environment for the child; values that are Vars are resolved at run time. */
  readonly env: Readonly<Record<string, Var | string>>;
  /** Treat stdout as secret: masked everywhere it could be shown. */
  readonly secretOutput: boolean;
  /** Kill the command after this many milliseconds. */
  readonly timeoutMs?: number;
  /** Show its output as it arrives (a nested runbook, a long apply), masked like the rest. */
  readonly live?: boolean;
  /** Keep stdout out of the run log (plan JSON and outputs can hold sensitive values). */
  readonly unloggedStdout?: boolean;
}

const SAFE_BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;
const SAFE_IN_DOUBLE_QUOTES = /^[A-Za-z0-9_@%+=:,./ -]*$/;

/** Quote a value for bash only when it needs it. */
export function shellQuote(value: string): string {
  if (value !== '' && SAFE_BARE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function renderVar(ref: Var, nextChar: string | undefined): string {
  return nextChar !== undefined && /[A-Za-z0-9_]/.test(nextChar) ? `\${${ref.name}}` : `$${ref.name}`;
}

export function renderToken(token: Token): string {
  if (token.every((p) => p.kind === 'literal')) {
    return token.map((p) => (p as { raw: string }).raw).join('');
  }
  const plain = token.every((p) => p.kind === 'var' || ((p.raw === p.value || p.raw === `"${p.value}"`) && SAFE_IN_DOUBLE_QUOTES.test(p.value)));
  if (plain) {
    let out = '';
    token.forEach((p, i) => {
      const next = token[i + 1];
      const nextChar = next?.kind === 'literal' ? next.value[0] : undefined;
      out += p.kind === 'literal' ? p.value : renderVar(p.ref, nextChar);
    });
    return `"${out}"`;
  }
  return token.map((p) => (p.kind === 'literal' ? p.raw : `"${renderVar(p.ref, undefined)}"`)).join('');
}

/**
 * Split template literal text into shell words. Single and double quotes group words; a
 * backslash escapes the next character. `$` and backticks are refused: expansions belong
 * in Vars, so the runbook form and the executed argv stay the same thing.
 */
function lexLiteral(text: string): { words: { value: string; raw: string }[]; leadingSpace: boolean; trailingSpace: boolean } {
  const words: { value: string; raw: string }[] = [];
  let value = '';
  let raw = '';
  let inWord = false;
  let i = 0;
  const flush = () => {
    if (inWord) words.push({ value, raw });
    value = '';
    raw = '';
    inWord = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '$' || c === '`') throw new Error(`shell expansion "${c}" in a command template: use a Var instead (${text.trim()})`);
    if (/\s/.test(c)) {
      flush();
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in command template: ${text}`);
      value += text.slice(i + 1, end);
      raw += text.slice(i, end + 1);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let inner = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) {
          inner += text[j + 1];
          j += 2;
        } else {
          inner += text[j];
          j++;
        }
      }
      if (j >= text.length) throw new Error(`unterminated double quote in command template: ${text}`);
      value += inner;
      raw += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      raw += text.slice(i, i + 2);
      i += 2;
    } else {
      value += c;
      raw += c;
      i++;
    }
  }
  const leadingSpace = /^\s/.test(text);
  const trailingSpace = /\s$/.test(text);
  flush();
  return { words, leadingSpace, trailingSpace };
}

/** Parse a tagged template into tokens; interpolations join the word they touch. */
export function parseTemplate(strings: readonly string[], values: readonly Interpolation[]): Token[] {
  const tokens: Part[][] = [];
  let current: Part[] | null = null;
  const endToken = () => {
    if (current && current.length) tokens.push(current);
    current = null;
  };
  const addPart = (part: Part) => {
    if (!current) current = [];
    current.push(part);
  };
  strings.forEach((text, index) => {
    const { words, leadingSpace, trailingSpace } = lexLiteral(text);
    if (leadingSpace) endToken();
    words.forEach((w, wi) => {
      if (wi > 0) endToken();
      addPart({ kind: 'literal', value: w.value, raw: w.raw });
    });
    if (trailingSpace) endToken();
    if (index >= values.length) return;
    const v = values[index]!;
    if (Array.isArray(v)) {
      // A list expands to one word per item, so it must stand apart from neighbouring text.
      const nextText = strings[index + 1] ?? '';
      if ((current && current.length) || (nextText !== '' && !/^\s/.test(nextText))) {
        throw new Error('a list interpolated into a command must be separated from other text by spaces');
      }
      for (const item of v) tokens.push([toPart(item)]);
    } else {
      addPart(toPart(v as Var | string | number));
    }
  });
  endToken();
  return tokens;
}

function toPart(v: Var | string | number): Part {
  if (v instanceof Var) return { kind: 'var', ref: v };
  const value = String(v);
  return { kind: 'literal', value, raw: shellQuote(value) };
}

const DEFAULT_OPTIONS: CommandOptions = { okExitCodes: [0], env: {}, secretOutput: false };

/** An immutable command description; builder methods return a new Command. */
export class Command {
  constructor(
    readonly program: Program,
    readonly args: readonly Token[],
    readonly options: CommandOptions = DEFAULT_OPTIONS,
  ) {
    for (const token of args) {
      for (const part of token) {
        // argv is visible to every process on the machine (ps, /proc); secrets travel by env or stdin.
        if (part.kind === 'var' && part.ref.secret) {
          throw new Error(`secret ${part.ref.name} must not be passed as a command-line argument; use .withEnv() or .withStdin()`);
        }
      }
    }
  }

  private with(patch: Partial<CommandOptions>): Command {
    return new Command(this.program, this.args, { ...this.options, ...patch });
  }

  /** Store stdout (trimmed) in a runtime variable for later commands. */
  captureInto(v: Var): Command {
    return this.with({ capture: v, secretOutput: this.options.secretOutput || v.secret });
  }
  /** `format` has one %s; it lets a header line carry a token without the token touching argv. */
  withStdin(v: Var, format = '%s'): Command {
    if (format.split('%s').length !== 2 || /['\\%]/.test(format.replace('%s', ''))) throw new Error(`stdin format must hold exactly one %s and no quote, backslash or other %: ${format}`);
    return this.with({ stdin: v, stdinFormat: format });
  }

  /** What is written on stdin, given the variable's value. */
  stdinText(value: string): string {
    return (this.options.stdinFormat ?? '%s').replace('%s', () => value);
  }
  withEnv(env: Record<string, Var | string>): Command {
    return this.with({ env: { ...this.options.env, ...env } });
  }
  stdoutTo(file: Var | string): Command {
    return this.with({ stdoutFile: file });
  }
  allowExitCodes(...codes: number[]): Command {
    return this.with({ okExitCodes: [...new Set([...this.options.okExitCodes, ...codes])] });
  }
  secretStdout(): Command {
    return this.with({ secretOutput: true });
  }
  timeout(ms: number): Command {
    return this.with({ timeoutMs: ms });
  }
  liveOutput(): Command {
    return this.with({ live: true });
  }
  withoutLoggingStdout(): Command {
    return this.with({ unloggedStdout: true });
  }

  /** Every variable this command needs before it can run. */
  vars(): Var[] {
    const found = new Map<string, Var>();
    for (const token of this.args) for (const p of token) if (p.kind === 'var') found.set(p.ref.name, p.ref);
    for (const v of Object.values(this.options.env)) if (v instanceof Var) found.set(v.name, v);
    if (this.options.stdin) found.set(this.options.stdin.name, this.options.stdin);
    if (this.options.stdoutFile instanceof Var) found.set(this.options.stdoutFile.name, this.options.stdoutFile);
    return [...found.values()];
  }

  /** The runbook's copy-paste form, with `"$VAR"` in place of values. */
  render(): string {
    const envPrefix = Object.entries(this.options.env)
      // Config variables are exported by `set -a; . env/production.env`, so naming them again is noise.
      .filter(([key, v]) => !(v instanceof Var && v.name === key && v.source === 'config'))
      .map(([key, v]) => `${key}=${v instanceof Var ? `"$${v.name}"` : shellQuote(v)} `)
      .join('');
    let line = envPrefix + [this.program.display, ...this.args.map(renderToken)].join(' ');
    if (this.options.stdin) line = `printf '${this.options.stdinFormat ?? '%s'}' "$${this.options.stdin.name}" | ${line}`;
    if (this.options.stdoutFile !== undefined) {
      const f = this.options.stdoutFile;
      const target = f instanceof Var ? `"$${f.name}"` : shellQuote(f);
      const dir = typeof f === 'string' && f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : null;
      line = `(umask 077 && ${dir ? `mkdir -p ${shellQuote(dir)} && ` : ''}${line} > ${target})`;
    }
    if (this.options.capture) line = `${this.options.capture.name}=$(${line})`;
    return line;
  }

  /** The argv for execution, with every Var resolved. */
  resolveArgs(lookup: (v: Var) => string): string[] {
    return this.args.map((token) => token.map((p) => (p.kind === 'literal' ? p.value : lookup(p.ref))).join(''));
  }
}

/** Build a tagged-template factory for one program: gcloud`run services list`. */
export function commandFactory(program: Program) {
  return (strings: TemplateStringsArray, ...values: Interpolation[]): Command =>
    new Command(program, parseTemplate(strings, values));
}
