// The OpenTofu functions this configuration uses, with the language's semantics: unknown in,
// unknown out; errors on wrong types instead of guesses.

import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { force, isObject, Lazy, toStr, typeName, Unknown } from './values.ts';

type Fn = (args: unknown[], ctx: { rootDir: string }) => unknown;

function unknownIn(args: unknown[]): Unknown | null {
  for (const a of args) if (a instanceof Unknown) return new Unknown(`(computed from ${a.text})`);
  return null;
}

function asList(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`${fn}: expected a list or set, got ${typeName(v)}`);
}

function asMap(v: unknown, fn: string): Record<string, unknown> {
  if (v instanceof Lazy) return force(v) as Record<string, unknown>;
  if (isObject(v)) return v;
  throw new Error(`${fn}: expected a map or object, got ${typeName(v)}`);
}

function keysOf(v: unknown, fn: string): string[] {
  if (v instanceof Lazy) return [...v.keys()].sort();
  return Object.keys(asMap(v, fn)).sort();
}

function str(v: unknown, fn: string): string {
  const s = toStr(v);
  if (s instanceof Unknown) throw new Error(`${fn}: unexpected unknown`);
  return s;
}

/** RE2 patterns as JavaScript ones: the inline case-insensitive flag becomes a flag. */
export function re2(pattern: string): RegExp {
  let flags = 'u';
  let p = pattern;
  if (p.startsWith('(?i)')) {
    flags += 'i';
    p = p.slice(4);
  }
  if (/\(\?[a-z]/.test(p)) throw new Error(`regex: unsupported inline flags in ${pattern}`);
  return new RegExp(p, flags);
}

const distinct = (list: unknown[]) => {
  const seen = new Set<string>();
  return list.filter((v) => {
    const k = JSON.stringify(force(v));
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

function ipv4(text: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new Error(`cidrhost: invalid IPv4 address ${text}`);
  return m.slice(1).reduce((acc, o) => acc * 256 + Number(o), 0);
}

export const functions: Record<string, Fn> = {
  file: ([path], { rootDir }) => {
    const p = str(path, 'file');
    return readFileSync(isAbsolute(p) ? p : join(rootDir, p), 'utf8');
  },
  yamldecode: ([text]) => parseYaml(str(text, 'yamldecode')) as unknown,
  jsondecode: ([text]) => JSON.parse(str(text, 'jsondecode')) as unknown,
  jsonencode: ([v]) => (unknownIn([v]) ? new Unknown('(jsonencode of a computed value)') : JSON.stringify(force(v))),
  distinct: ([list]) => distinct(asList(list, 'distinct')),
  concat: (lists) => lists.flatMap((l) => asList(l, 'concat')),
  flatten: ([list]) => {
    const out: unknown[] = [];
    const walk = (v: unknown) => (Array.isArray(v) ? v.forEach(walk) : out.push(v));
    walk(asList(list, 'flatten'));
    return out;
  },
  sort: ([list]) => {
    const l = asList(list, 'sort');
    return unknownIn(l) ?? l.map((v) => str(v, 'sort')).sort();
  },
  keys: ([m]) => keysOf(m, 'keys'),
  values: ([m]) => {
    if (m instanceof Lazy) return [...m.keys()].sort().map((k) => m.get(k));
    const obj = asMap(m, 'values');
    return Object.keys(obj).sort().map((k) => obj[k]);
  },
  merge: (maps) => Object.assign({}, ...maps.filter((m) => m !== null).map((m) => asMap(m, 'merge'))),
  lookup: ([m, key, fallback]) => {
    const k = str(key, 'lookup');
    if (m instanceof Lazy) return m.has(k) ? m.get(k) : fallback;
    const obj = asMap(m, 'lookup');
    if (k in obj) return obj[k];
    if (fallback === undefined) throw new Error(`lookup: no key ${k} and no default`);
    return fallback;
  },
  contains: ([list, v]) => unknownIn([v]) ?? asList(list, 'contains').some((x) => JSON.stringify(force(x)) === JSON.stringify(force(v))),
  length: ([v]) => {
    if (v instanceof Unknown) return new Unknown(`length(${v.text})`);
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (v instanceof Lazy) return v.keys().length;
    return Object.keys(asMap(v, 'length')).length;
  },
  toset: ([list]) => distinct(asList(list, 'toset')).sort((a, b) => (typeof a === 'string' && typeof b === 'string' ? a.localeCompare(b) : 0)),
  tolist: ([list]) => asList(list, 'tolist'),
  tomap: ([m]) => asMap(m, 'tomap'),
  tostring: ([v]) => (v === null ? null : toStr(v)),
  tonumber: ([v]) => {
    if (v instanceof Unknown || v === null) return v;
    const n = Number(v);
    if (v === '' || Number.isNaN(n)) throw new Error(`tonumber: cannot convert ${JSON.stringify(v)} to a number`);
    return n;
  },
  upper: ([s]) => unknownIn([s]) ?? str(s, 'upper').toUpperCase(),
  lower: ([s]) => unknownIn([s]) ?? str(s, 'lower').toLowerCase(),
  replace: ([s, from, to]) => {
    const u = unknownIn([s, from, to]);
    if (u) return u;
    const f = str(from, 'replace');
    if (f.length > 1 && f.startsWith('/') && f.endsWith('/')) return str(s, 'replace').replace(new RegExp(f.slice(1, -1), 'gu'), str(to, 'replace'));
    return str(s, 'replace').split(f).join(str(to, 'replace'));
  },
  substr: ([s, offset, length]) => {
    const u = unknownIn([s, offset, length]);
    if (u) return u;
    const chars = [...str(s, 'substr')];
    const len = Number(length);
    return chars.slice(Number(offset), len < 0 ? undefined : Number(offset) + len).join('');
  },
  trimprefix: ([s, prefix]) => {
    if (s instanceof Unknown) return new Unknown(`trimprefix(${s.text})`);
    const text = str(s, 'trimprefix');
    const p = str(prefix, 'trimprefix');
    return text.startsWith(p) ? text.slice(p.length) : text;
  },
  startswith: ([s, prefix]) => unknownIn([s, prefix]) ?? str(s, 'startswith').startsWith(str(prefix, 'startswith')),
  endswith: ([s, suffix]) => unknownIn([s, suffix]) ?? str(s, 'endswith').endsWith(str(suffix, 'endswith')),
  split: ([sep, s]) => unknownIn([sep, s]) ?? str(s, 'split').split(str(sep, 'split')),
  join: ([sep, list]) => unknownIn([sep, ...asList(list, 'join')]) ?? asList(list, 'join').map((v) => str(v, 'join')).join(str(sep, 'join')),
  regex: ([pattern, s]) => {
    const u = unknownIn([pattern, s]);
    if (u) return u;
    const m = re2(str(pattern, 'regex')).exec(str(s, 'regex'));
    if (!m) throw new Error('regex: pattern did not match');
    if (m.groups) return { ...m.groups };
    return m.length > 1 ? m.slice(1) : m[0];
  },
  alltrue: ([list]) => {
    const l = asList(list, 'alltrue');
    return unknownIn(l) ?? l.every((v) => v === true);
  },
  anytrue: ([list]) => {
    const l = asList(list, 'anytrue');
    return unknownIn(l) ?? l.some((v) => v === true);
  },
  setintersection: (sets) => {
    const [first, ...rest] = sets.map((s) => asList(s, 'setintersection').map((v) => JSON.stringify(force(v))));
    return (first ?? []).filter((v) => rest.every((r) => r.includes(v))).map((v) => JSON.parse(v) as unknown);
  },
  slice: ([list, start, end]) => unknownIn([start, end]) ?? asList(list, 'slice').slice(Number(start), Number(end)),
  floor: ([n]) => unknownIn([n]) ?? Math.floor(Number(n)),
  // range(limit) or range(start, limit[, step]), as OpenTofu: a list of numbers.
  range: (args) => {
    if (unknownIn(args)) return unknownIn(args);
    const [start, limit, step] = args.length === 1 ? [0, Number(args[0]), 1] : [Number(args[0]), Number(args[1]), Number(args[2] ?? 1)];
    const out: number[] = [];
    for (let v = start; step > 0 ? v < limit : v > limit; v += step) out.push(v);
    return out;
  },
  element: ([list, index]) => {
    if (unknownIn([list, index])) return unknownIn([list, index]);
    const l = asList(list, 'element');
    return l[Number(index) % l.length];
  },
  // Query-string escaping as OpenTofu's urlencode (spaces as +).
  urlencode: ([s]) => unknownIn([s]) ?? encodeURIComponent(str(s, 'urlencode')).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  ceil: ([n]) => unknownIn([n]) ?? Math.ceil(Number(n)),
  max: (ns) => unknownIn(ns) ?? Math.max(...ns.map(Number)),
  min: (ns) => unknownIn(ns) ?? Math.min(...ns.map(Number)),
  // The time of the apply: unknown while planning, as OpenTofu has it.
  timestamp: () => new Unknown('(known after apply: timestamp())'),
  timeadd: ([time, duration]) => {
    const u = unknownIn([time, duration]);
    if (u) return u;
    const d = str(duration, 'timeadd');
    // Go's duration syntax, which OpenTofu parses: a sequence of number+unit.
    if (!/^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(d)) throw new Error(`timeadd: invalid duration "${d}"`);
    const t = Date.parse(str(time, 'timeadd'));
    if (Number.isNaN(t)) throw new Error(`timeadd: "${String(time)}" is not an RFC 3339 timestamp`);
    const ms = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 } as Record<string, number>;
    let total = 0;
    for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * ms[m[2]!]!;
    return new Date(t + (d.startsWith('-') ? -total : total)).toISOString().replace('.000Z', 'Z');
  },
  coalesce: (vs) => vs.find((v) => v !== null && v !== '') ?? null,
  format: ([fmt, ...args]) => {
    const u = unknownIn([fmt, ...args]);
    if (u) return u;
    let i = 0;
    return str(fmt, 'format').replace(/%[sd%]/g, (m) => (m === '%%' ? '%' : str(args[i++], 'format')));
  },
  cidrhost: ([prefix, hostnum]) => {
    const u = unknownIn([prefix, hostnum]);
    if (u) return u;
    const [addr, bits] = str(prefix, 'cidrhost').split('/');
    const len = Number(bits);
    if (!addr || !Number.isInteger(len) || len < 0 || len > 32) throw new Error(`cidrhost: invalid CIDR ${String(prefix)}`);
    const base = ipv4(addr) - (ipv4(addr) % 2 ** (32 - len));
    const n = Number(hostnum);
    if (n >= 2 ** (32 - len)) throw new Error('cidrhost: host number out of range');
    const v = base + n;
    return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
  },
};
