// The two output formats the runbooks use, as gcloud prints them: --format=json and
// --format='value(a.b,c)'; plus --filter=key:value on list commands.

export class UnsupportedByFake extends Error {}

function getPath(resource: unknown, path: string): unknown {
  let current: unknown = resource;
  for (const raw of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(raw);
    if (!m) throw new UnsupportedByFake(`projection key ${path}`);
    current = current && typeof current === 'object' ? (current as Record<string, unknown>)[m[1]!] : undefined;
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) {
      current = Array.isArray(current) ? current[Number(idx[1])] : undefined;
    }
  }
  return current;
}

function valueText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False'; // gcloud prints Python booleans
  if (Array.isArray(v)) return v.map(valueText).join(';');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Render one resource (describe) or many (list) the way gcloud would. */
export function formatOutput(format: string | undefined, data: unknown, isList: boolean, defaultText: () => string): string {
  if (!format) return defaultText();
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'none') return '';
  const m = /^value\((.*)\)$/.exec(format);
  if (m) {
    const keys = m[1]!.split(',').map((k) => k.trim()).filter(Boolean);
    const items = isList ? (data as unknown[]) : [data];
    return items.map((item) => `${keys.map((k) => valueText(getPath(item, k))).join('\t')}\n`).join('');
  }
  throw new UnsupportedByFake(`--format=${format}`);
}

/** gcloud's --filter for the simple `key:value` (and `key=value`) terms the runbooks use. */
export function applyFilter<T>(items: T[], filter: string | undefined): T[] {
  if (!filter) return items;
  const terms = filter.split(/\s+AND\s+|\s+/).filter(Boolean);
  return items.filter((item) =>
    terms.every((term) => {
      const m = /^([A-Za-z0-9_.[\]]+)(:|=)(.*)$/.exec(term);
      if (!m) throw new UnsupportedByFake(`--filter=${filter}`);
      const actual = valueText(getPath(item, m[1]!));
      const wanted = m[3]!.replace(/^["']|["']$/g, '');
      return m[2] === '=' ? actual === wanted : actual.toLowerCase().includes(wanted.toLowerCase());
    }),
  );
}

/** gcloud's --sort-by=KEY (ascending) or --sort-by=~KEY (descending). */
export function sortBy<T>(items: T[], spec: string | undefined): T[] {
  if (!spec) return items;
  const descending = spec.startsWith('~');
  const key = descending ? spec.slice(1) : spec;
  return [...items].sort((a, b) => {
    const x = valueText(getPath(a, key));
    const y = valueText(getPath(b, key));
    return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
  });
}
