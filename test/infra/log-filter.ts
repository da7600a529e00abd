// Cloud Logging's query language, the part the log-based metrics use: `path="value"`, `path:*`
// and `path:"substring"` joined by AND. Anything else is an error, not a silent mismatch, so a
// filter written beyond this subset fails its test until the evaluator learns it.
// https://cloud.google.com/logging/docs/view/logging-query-language

export type LogEntry = Record<string, unknown>;

interface Comparison {
  path: string[];
  op: '=' | ':';
  value: string | null;
}

const TOKEN = /\s*(AND\b|"(?:[^"\\]|\\.)*"|[A-Za-z_][\w]*(?:\.(?:[A-Za-z_][\w]*|"(?:[^"\\]|\\.)*"))*|=|:|\*)/y;

function tokenize(filter: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < filter.length) {
    if (/^\s*$/.test(filter.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(filter);
    if (!m) throw new Error(`log filter: cannot read from "${filter.slice(start, start + 30)}" (only path="value", path:* and AND are understood)`);
    tokens.push(m[1]!);
  }
  return tokens;
}

const unquote = (s: string) => (s.startsWith('"') ? (JSON.parse(s) as string) : s);

function splitPath(path: string): string[] {
  return [...path.matchAll(/"(?:[^"\\]|\\.)*"|[^.]+/g)].map((m) => unquote(m[0]));
}

export function parseFilter(filter: string): Comparison[] {
  const tokens = tokenize(filter);
  const out: Comparison[] = [];
  for (let i = 0; i < tokens.length; ) {
    const [path, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (!path || (op !== '=' && op !== ':') || value === undefined || value === 'AND') throw new Error(`log filter: expected path="value" or path:* at "${tokens.slice(i, i + 3).join(' ')}"`);
    if (op === '=' && !value.startsWith('"')) throw new Error(`log filter: ${path}= needs a quoted value`);
    out.push({ path: splitPath(path), op, value: value === '*' ? null : unquote(value) });
    i += 3;
    if (i < tokens.length) {
      if (tokens[i] !== 'AND') throw new Error(`log filter: expected AND, found ${tokens[i]}`);
      i++;
    }
  }
  return out;
}

function valueAt(entry: LogEntry, path: string[]): unknown {
  let v: unknown = entry;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

export function matches(filter: string, entry: LogEntry): boolean {
  return parseFilter(filter).every(({ path, op, value }) => {
    const v = valueAt(entry, path);
    if (v === undefined || v === null) return false;
    if (op === '=') return String(v) === value;
    return value === null || String(v).toLowerCase().includes(value.toLowerCase());
  });
}

/** `EXTRACT(jsonPayload.field)`, the one extractor form the metrics use. */
export function extract(extractor: string, entry: LogEntry): string | undefined {
  const m = /^EXTRACT\(([^()]+)\)$/.exec(extractor);
  if (!m) throw new Error(`log filter: only EXTRACT(field) is understood, not ${extractor}`);
  const v = valueAt(entry, splitPath(m[1]!));
  return v === undefined || v === null ? undefined : String(v);
}

/** The LogEntry Cloud Run makes of one JSON line on stdout: special keys leave jsonPayload. */
export function cloudRunEntry(line: Record<string, unknown>, service: string): LogEntry {
  const { severity, time, ...rest } = line;
  const jsonPayload = Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('logging.googleapis.com/')));
  return {
    resource: { type: 'cloud_run_revision', labels: { service_name: service, revision_name: `${service}-00001-abc`, location: 'us-central1' } },
    logName: 'projects/p/logs/run.googleapis.com%2Fstdout',
    severity: severity ?? 'DEFAULT',
    timestamp: time,
    jsonPayload,
  };
}
