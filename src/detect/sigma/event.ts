/**
 * A read-only view of one event for rule evaluation: field lookup (flat key first, then the dotted
 * path into nested objects), string forms of values, and per-event caches so that a field tested
 * by many rules is looked up and lower-cased once.
 */

export type SigmaEvent = Readonly<Record<string, unknown>>;

const MISSING = Symbol('missing');

/** Scalar string forms of a value: strings as-is, numbers/booleans via String(), arrays flattened. */
function stringsOf(v: unknown, out: string[], depth = 0): void {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out.push(String(v));
  else if (Array.isArray(v) && depth < 8) for (const x of v) stringsOf(x, out, depth + 1);
}

export class EventView {
  readonly data: SigmaEvent;
  private readonly raw = new Map<string, unknown>();
  private readonly str = new Map<string, readonly string[] | null>();
  private readonly low = new Map<string, readonly string[] | null>();
  private allLow: readonly string[] | undefined;
  private allRaw: readonly string[] | undefined;

  /** Rule field name -> this event's field name (e.g. Image -> NewProcessName for Security 4688). */
  private readonly fieldMap: Readonly<Record<string, string>> | undefined;

  constructor(data: SigmaEvent, fieldMap?: Readonly<Record<string, string>>) {
    this.data = data;
    this.fieldMap = fieldMap;
  }

  private mapped(name: string): string {
    const m = this.fieldMap;
    return m !== undefined && Object.hasOwn(m, name) ? (m[name] as string) : name;
  }

  /** The field's value; `undefined` when absent. Flat key wins over the dotted path. */
  get(name: string): unknown {
    const field = this.mapped(name);
    const d = this.data;
    if (Object.prototype.hasOwnProperty.call(d, field)) return d[field];
    let v = this.raw.get(field);
    if (v === undefined && !this.raw.has(field)) {
      v = field.includes('.') ? lookupPath(d, field) : MISSING;
      this.raw.set(field, v);
    }
    return v === MISSING ? undefined : v;
  }

  has(name: string): boolean {
    const field = this.mapped(name);
    const d = this.data;
    if (Object.prototype.hasOwnProperty.call(d, field)) return true;
    this.get(field);
    return this.raw.get(field) !== MISSING && this.raw.has(field);
  }

  /** String forms (null when the field is absent or null). */
  strings(field: string): readonly string[] | null {
    let s = this.str.get(field);
    if (s === undefined) {
      const v = this.get(field);
      if (v === undefined || v === null) s = null;
      else {
        const out: string[] = [];
        stringsOf(v, out);
        s = out;
      }
      this.str.set(field, s);
    }
    return s;
  }

  /** Lower-cased string forms, for the default case-insensitive matching. */
  lower(field: string): readonly string[] | null {
    let s = this.low.get(field);
    if (s === undefined) {
      const base = this.strings(field);
      s = base === null ? null : base.map((x) => x.toLowerCase());
      this.low.set(field, s);
    }
    return s;
  }

  /** Every scalar value of the event at any depth, lower-cased (keyword search). */
  allLower(): readonly string[] {
    if (this.allLow === undefined) this.allLow = this.all().map((x) => x.toLowerCase());
    return this.allLow;
  }

  /** Every scalar value of the event at any depth, as text. */
  all(): readonly string[] {
    if (this.allRaw === undefined) {
      const out: string[] = [];
      collectAll(this.data, out, 0);
      this.allRaw = out;
    }
    return this.allRaw;
  }

}

function collectAll(v: unknown, out: string[], depth: number): void {
  if (depth > 64) return;
  if (v === null || v === undefined) return;
  if (typeof v === 'object') {
    if (Array.isArray(v)) for (const x of v) collectAll(x, out, depth + 1);
    else for (const k in v as Record<string, unknown>) collectAll((v as Record<string, unknown>)[k], out, depth + 1);
    return;
  }
  stringsOf(v, out);
}

/**
 * Resolve `a.b.c` through nested objects, also trying keys that themselves contain dots. Through
 * an array of objects the path gives the values of every element that has it (`dns.answers.data`
 * on `dns.answers: [{data}, {data}]`), as Elasticsearch flattens object arrays.
 */
function lookupPath(obj: unknown, path: string): unknown {
  if (Array.isArray(obj)) return lookupEach(obj, path);
  if (obj === null || typeof obj !== 'object') return MISSING;
  const rec = obj as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(rec, path)) return rec[path];
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    if (Object.prototype.hasOwnProperty.call(rec, head)) {
      const r = lookupPath(rec[head], path.slice(dot + 1));
      if (r !== MISSING) return r;
    }
    dot = path.indexOf('.', dot + 1);
  }
  return MISSING;
}

function lookupEach(list: readonly unknown[], path: string): unknown {
  const out: unknown[] = [];
  for (const x of list) {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) continue;
    const r = lookupPath(x, path);
    if (r !== MISSING && r !== undefined) out.push(r);
  }
  return out.length === 0 ? MISSING : out;
}
