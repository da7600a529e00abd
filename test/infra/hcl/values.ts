// Values of the evaluator. Known values are plain JSON-like data; what only the provider knows
// after apply (ids, emails, URLs) is Unknown, carrying the address it comes from so rules can
// still tell which account or service a value refers to.

export class Unknown {
  constructor(readonly text: string) {}
  toString(): string {
    return `\${${this.text}}`;
  }
}

/** An object whose attributes are computed on first use (module outputs, resource attributes). */
export class Lazy {
  private readonly cache = new Map<string, unknown>();
  constructor(
    readonly label: string,
    private readonly names: () => string[],
    private readonly compute: (name: string) => unknown,
    /** What an attribute not in names() is; undefined means an error. */
    private readonly missing?: (name: string) => unknown,
  ) {}
  keys(): string[] {
    return this.names();
  }
  has(name: string): boolean {
    return this.names().includes(name);
  }
  get(name: string): unknown {
    if (!this.has(name)) {
      if (this.missing) return this.missing(name);
      throw new Error(`${this.label} has no attribute "${name}"`);
    }
    if (!this.cache.has(name)) this.cache.set(name, this.compute(name));
    return this.cache.get(name);
  }
}

export type Value = unknown;

export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown;
}

/** True when any part of a value is unknown. */
export function containsUnknown(v: unknown): boolean {
  if (v instanceof Unknown) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v instanceof Lazy) return v.keys().some((k) => containsUnknown(v.get(k)));
  if (v && typeof v === 'object') return Object.values(v).some(containsUnknown);
  return false;
}

/** Force every lazy part, giving plain data (Unknowns stay). */
export function force(v: unknown): unknown {
  if (v instanceof Unknown) return v;
  if (v instanceof Lazy) return Object.fromEntries(v.keys().map((k) => [k, force(v.get(k))]));
  if (Array.isArray(v)) return v.map(force);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, force(x)]));
  return v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unknown) && !(v instanceof Lazy);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Unknown) return 'unknown';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Lazy || typeof v === 'object') return 'object';
  return typeof v;
}

/** HCL's string conversion of a primitive. */
export function toStr(v: unknown): string | Unknown {
  if (v instanceof Unknown) return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) throw new Error('cannot use a null value in a string');
  throw new Error(`cannot convert ${typeName(v)} to string`);
}
