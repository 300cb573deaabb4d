/**
 * Compilation of one detection item (`Field|mod1|mod2: value-or-list`) into a predicate over an
 * {@link EventView}, plus the literal substrings a matching event must contain (prefilter).
 * Modifier semantics: Sigma specification v2.1.0 appendix "Modifiers", checked against pySigma
 * `modifiers.py`; differences are noted in docs/sigma.md.
 */
import { compileLinear, describeRefusal, type LinearRegex } from '../../core/regex.js';
import type { EventView } from './event.js';
import { requiredLiteral } from './relit.js';
import {
  applyWindash,
  compileStr,
  expandPlaceholders,
  hasWildcards,
  mapLiterals,
  parseSigmaString,
  wrapWildcards,
  type Part,
} from './strings.js';
import {
  base64,
  base64offset,
  DATE_PARTS,
  datePart,
  inNetwork,
  parseCidr,
  parseIp,
  toNumber,
  utf16be,
  utf16le,
  type DatePart,
  type Network,
} from './values.js';

export type Pred = (ev: EventView) => boolean;
/**
 * Literals a matching event's lower-cased text must contain, in conjunctive normal form (every
 * clause must have one of its needles present); null: no requirement.
 */
export type Req = readonly (readonly string[])[] | null;
export interface Compiled {
  readonly pred: Pred;
  readonly req: Req;
  /** Fields the predicate reads (null: any value, i.e. keyword search). */
  readonly fields: readonly string[] | null;
}

/** Union of field sets (null absorbs: a keyword search reads every value). */
export function unionFields(xs: readonly (readonly string[] | null)[]): readonly string[] | null {
  const out = new Set<string>();
  for (const x of xs) {
    if (x === null) return null;
    for (const f of x) out.add(f);
  }
  return [...out];
}
export type ItemResult = { ok: true; item: Compiled } | { ok: false; reason: string };

/** Placeholder values for `|expand` (spec: an unresolvable placeholder must reject the rule). */
export type Placeholders = Readonly<Record<string, string | readonly string[]>>;

const KNOWN = new Set([
  'contains', 'startswith', 'endswith', 'all', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide',
  'windash', 're', 'i', 'ignorecase', 'm', 'multiline', 's', 'dotall', 'cidr', 'exists', 'expand', 'fieldref',
  'gt', 'gte', 'lt', 'lte', 'neq', 'cased', ...DATE_PARTS,
]);
const COMPARE = ['gt', 'gte', 'lt', 'lte'] as const;
type Compare = (typeof COMPARE)[number];

/** CNF: all clauses AND-ed; a clause holds when any of its needles occurs. */
export function andReq(reqs: readonly Req[]): Req {
  const out = new Map<string, readonly string[]>();
  for (const r of reqs) if (r !== null) for (const c of r) out.set([...c].sort().join('\u0000'), c);
  return out.size === 0 ? null : [...out.values()];
}

function clauseScore(c: readonly string[]): number {
  return Math.min(Math.min(...c.map((x) => x.length)), 16) * 1000 - c.length;
}

/** OR of CNFs, approximated by one clause: the union of each alternative's most selective clause. */
export function orReq(reqs: readonly Req[]): Req {
  const out = new Set<string>();
  for (const r of reqs) {
    if (r === null || r.length === 0) return null;
    let best = r[0] as readonly string[];
    for (const c of r) if (clauseScore(c) > clauseScore(best)) best = c;
    for (const x of best) out.add(x);
  }
  return out.size === 0 ? null : [[...out]];
}

function longestLiteral(lits: readonly string[]): string | null {
  let best = '';
  for (const l of lits) if (l.length > best.length) best = l;
  return best.length >= 1 ? best.toLowerCase() : null;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const isNullish = (v: unknown): boolean => v === undefined || v === null;

function compareFn(op: Compare, ref: number): (n: number) => boolean {
  switch (op) {
    case 'gt':
      return (n) => n > ref;
    case 'gte':
      return (n) => n >= ref;
    case 'lt':
      return (n) => n < ref;
    case 'lte':
      return (n) => n <= ref;
  }
}

/**
 * Compiles a `|re` value on RE2 (core/regex.ts: linear time, DESIGN §2.7). RE2 reads the
 * inline flag groups `(?i)`, `(?m)`, `(?s)` itself; what it cannot run (backreferences,
 * lookaround, …) refuses the rule with the reason and the position (docs/sigma.md).
 */
function linearRegex(src: string, flags: string): LinearRegex | string {
  const r = compileLinear(src, flags);
  if (r.ok) return r.re;
  return `regular expression refused: ${describeRefusal(r.refusal)}`;
}

/**
 * A YAML number of a detection whose text is not the number's own (`1.0`, `1e3`, `0x1F`): Sigma
 * numbers are matched as written (pySigma keeps `1.0` a float, whose text is `1.0`), so the item
 * matches the written text as well as the number's (`1`, what a JSON `1.0` in an event becomes).
 * Made by the YAML reader (rule.ts), read here once when the rule is compiled.
 */
export class WrittenNumber {
  constructor(readonly value: number, readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const plainValue = (v: unknown): unknown => (v instanceof WrittenNumber ? v.value : v);

interface ItemSpec {
  readonly field: string; // '' for keyword search
  readonly mods: readonly string[];
  readonly values: readonly unknown[];
  readonly placeholders: Placeholders | undefined;
}

export function compileItem(key: string, value: unknown, placeholders?: Placeholders): ItemResult {
  const [field = '', ...mods] = key.split('|');
  for (const m of mods) if (!KNOWN.has(m)) return { ok: false, reason: `unknown modifier "${m}" in "${key}"` };
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) return { ok: false, reason: `empty value list for "${key}"` };
  for (const v of values) {
    if (v !== null && typeof v === 'object' && !(v instanceof WrittenNumber)) return { ok: false, reason: `value of "${key}" must be a scalar or a list of scalars` };
  }
  const r = compileValues({ field, mods, values, placeholders });
  if (!r.ok) return { ok: false, reason: `${key}: ${r.reason}` };
  const fields = field === '' ? null : mods.includes('fieldref') ? [field, ...values.map(String)] : [field];
  return { ok: true, item: { ...r.item, fields } };
}

function compileValues(written: ItemSpec): ItemResult {
  // Only string matching reads a number's written text; everything else reads the number.
  const spec: ItemSpec = written.values.some((v) => v instanceof WrittenNumber) ? { ...written, values: written.values.map(plainValue) } : written;
  const { field, mods, values } = spec;
  const has = (m: string): boolean => mods.includes(m);
  // The spec forbids |all on a single value; pySigma accepts it (an AND of one): accepted.
  if (has('exists')) {
    if (mods.length !== 1) return { ok: false, reason: '"exists" must be the only modifier' };
    const b = values[0];
    const want = b === true || b === 'true' ? true : b === false || b === 'false' ? false : undefined;
    if (want === undefined || values.length !== 1) return { ok: false, reason: '"exists" takes a single boolean' };
    return { ok: true, item: { pred: (ev) => ev.has(field) === want, req: null, fields: null } };
  }
  const nulls = values.filter((v) => v === null);
  if (nulls.length > 0) {
    if (mods.length > 0) return { ok: false, reason: 'null value cannot take modifiers' };
    if (nulls.length !== values.length) return { ok: false, reason: 'null must stand alone, not in a list with other values (spec "null values")' };
    return { ok: true, item: { pred: (ev) => isNullish(ev.get(field)), req: null, fields: null } };
  }
  let base: ItemResult;
  if (has('re')) base = compileRegex(spec);
  else if (has('cidr')) base = compileCidr(spec);
  else if (has('fieldref')) base = compileFieldref(spec);
  else if (COMPARE.some(has) || DATE_PARTS.some(has)) base = compileNumeric(spec);
  else base = compileStrings(written);
  if (!base.ok || !has('neq')) return base;
  // neq: the field differs from every value (pySigma: a negated item); an absent field differs.
  const inner = base.item.pred;
  return { ok: true, item: { pred: (ev) => !inner(ev), req: null, fields: null } };
}

/** Combine per-value tests over the field's (lower-cased) strings: OR of values, or AND with |all. */
function combine(spec: ItemSpec, tests: readonly ((s: string) => boolean)[], fold: boolean): Pred {
  const { field } = spec;
  const all = spec.mods.includes('all');
  const get = field === ''
    ? fold
      ? (ev: EventView): readonly string[] | null => ev.allLower()
      : (ev: EventView): readonly string[] | null => ev.all()
    : fold
      ? (ev: EventView): readonly string[] | null => ev.lower(field)
      : (ev: EventView): readonly string[] | null => ev.strings(field);
  if (tests.length === 1) {
    const t = tests[0] as (s: string) => boolean;
    return (ev) => {
      const ss = get(ev);
      if (ss === null) return false;
      for (const s of ss) if (t(s)) return true;
      return false;
    };
  }
  return (ev) => {
    const ss = get(ev);
    if (ss === null) return false;
    if (all) {
      for (const t of tests) if (!ss.some(t)) return false;
      return true;
    }
    for (const s of ss) for (const t of tests) if (t(s)) return true;
    return false;
  };
}

function compileStrings(spec: ItemSpec): ItemResult {
  const { mods, values, field } = spec;
  const has = (m: string): boolean => mods.includes(m);
  const fold = !has('cased');
  const tests: ((s: string) => boolean)[] = [];
  const plain: (string | undefined)[] = [];
  const reqs: Req[] = [];
  for (const given of values) {
    const raw = plainValue(given);
    // Numbers and YAML booleans match their text form (`EventID: 4688` matches "4688").
    const text = typeof raw === 'string' ? raw : String(raw);
    let variants: Part[][] = [typeof raw === 'string' ? parseSigmaString(text, has('expand')) : [text]];
    if (has('expand')) {
      const lookup = (n: string): readonly string[] | undefined => {
        const ph = spec.placeholders;
        const v = ph !== undefined && Object.hasOwn(ph, n) ? ph[n] : undefined;
        return v === undefined ? undefined : typeof v === 'string' ? [v] : v;
      };
      const ex = expandPlaceholders(variants[0] as Part[], lookup);
      if (!ex.ok) return ex;
      variants = ex.variants;
    }
    // A number written otherwise (`1.0`) also matches as written (see WrittenNumber).
    const written = given instanceof WrittenNumber && given.text !== text;
    if (written) variants.push([given.text]);
    // Encodings apply in the order written; contains/startswith/endswith wrap the final form.
    let binary = false;
    for (const m of mods) {
      if (m === 'wide' || m === 'utf16le' || m === 'utf16be' || m === 'utf16') {
        const enc = m === 'utf16be' ? utf16be : utf16le;
        variants = variants.map((v) => mapLiterals(v, enc));
        if (m === 'utf16') variants = variants.map((v) => ['\xff\xfe', ...v]);
        binary = true;
      } else if (m === 'base64' || m === 'base64offset') {
        if (variants.some(hasWildcards)) return { ok: false, reason: `${m} cannot encode a value with wildcards` };
        const next: Part[][] = [];
        for (const v of variants) {
          const lit = v.map((p) => (typeof p === 'string' ? p : '')).join('');
          if (m === 'base64') next.push([base64(lit, binary)]);
          else for (const o of base64offset(lit, binary)) next.push([o]);
        }
        variants = next;
        binary = false;
      } else if (m === 'windash') {
        variants = variants.map(applyWindash);
      }
    }
    const start = has('contains') || has('endswith');
    const end = has('contains') || has('startswith');
    // Keyword (field-less) values are substring searches (SigmaHQ usage; see docs/sigma.md).
    const kw = field === '';
    const valReqs: Req[] = [];
    const first = tests.length;
    for (const v of variants) {
      const w = start || end || kw ? wrapWildcards(v, start || kw, end || kw) : v;
      const c = compileStr(w, fold);
      if (typeof c === 'string') return { ok: false, reason: c };
      tests.push(c.test);
      plain.push(c.contains);
      const lit = longestLiteral(c.literals);
      valReqs.push(lit === null ? null : [[lit]]);
    }
    if (written) {
      // Its two texts are one value: either matches (also under |all).
      const [a, b] = tests.splice(first) as [(s: string) => boolean, (s: string) => boolean];
      plain.splice(first);
      tests.push((s) => a(s) || b(s));
      plain.push(undefined);
    }
    reqs.push(orReq(valReqs));
  }
  const req = has('all') ? andReq(reqs) : orReq(reqs);
  // A long OR list of plain substrings, or a keyword list, is one search for an alternation with
  // the i flag (irregexp runs it about 3x faster than lower-casing plus one search per value).
  if (fold && !has('all') && plain.every((p) => p !== undefined && p !== '') && (field === '' || plain.length >= 8)) {
    const re = new RegExp((plain as string[]).map(escapeRe).join('|'), 'i');
    const pred: Pred = field === ''
      ? (ev) => {
          for (const s of ev.all()) if (re.test(s)) return true;
          return false;
        }
      : (ev) => {
          const ss = ev.strings(field);
          if (ss === null) return false;
          for (const s of ss) if (re.test(s)) return true;
          return false;
        };
    return { ok: true, item: { pred, req, fields: null } };
  }
  return { ok: true, item: { pred: combine(spec, tests, fold), req, fields: null } };
}

function compileRegex(spec: ItemSpec): ItemResult {
  const { mods, values, field } = spec;
  const allowed = new Set(['re', 'i', 'ignorecase', 'm', 'multiline', 's', 'dotall', 'all', 'neq', 'cased']);
  for (const m of mods) if (!allowed.has(m)) return { ok: false, reason: `"re" does not combine with "${m}"` };
  let flags = '';
  if (mods.includes('i') || mods.includes('ignorecase')) flags += 'i';
  if (mods.includes('m') || mods.includes('multiline')) flags += 'm';
  if (mods.includes('s') || mods.includes('dotall')) flags += 's';
  const tests: ((s: string) => boolean)[] = [];
  const reqs: Req[] = [];
  for (const v of values) {
    if (typeof v !== 'string') return { ok: false, reason: 're needs a string pattern' };
    const re = linearRegex(v, flags);
    if (typeof re === 'string') return { ok: false, reason: re };
    // Unanchored search, as most backends do (peers-detection §1.3).
    tests.push((s) => re.test(s));
    const lit = field === '' ? null : requiredLiteral(v);
    reqs.push(lit === null ? null : [[lit]]);
  }
  const req = mods.includes('all') ? andReq(reqs) : orReq(reqs);
  // Regexes see the original (not lower-cased) text: re is case-sensitive unless |i.
  return { ok: true, item: { pred: combine({ ...spec, field }, tests, false), req, fields: null } };
}

function compileCidr(spec: ItemSpec): ItemResult {
  const nets: Network[] = [];
  for (const v of spec.values) {
    const n = typeof v === 'string' ? parseCidr(v) : undefined;
    if (n === undefined) return { ok: false, reason: `invalid CIDR network ${JSON.stringify(v)}` };
    nets.push(n);
  }
  for (const m of spec.mods) if (m !== 'cidr' && m !== 'neq') return { ok: false, reason: `"cidr" does not combine with "${m}"` };
  const test = (s: string): boolean => {
    const ip = parseIp(s);
    return ip !== undefined && nets.some((n) => inNetwork(n, ip));
  };
  return { ok: true, item: { pred: combine(spec, [test], false), req: null, fields: null } };
}

function compileFieldref(spec: ItemSpec): ItemResult {
  const { mods, values, field } = spec;
  const allowed = new Set(['fieldref', 'contains', 'startswith', 'endswith', 'cased', 'neq', 'all']);
  for (const m of mods) if (!allowed.has(m)) return { ok: false, reason: `"fieldref" does not combine with "${m}"` };
  const fold = !mods.includes('cased');
  const mode = mods.includes('contains') ? 'contains' : mods.includes('startswith') ? 'start' : mods.includes('endswith') ? 'end' : 'eq';
  const others: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || v === '' || hasWildcards(parseSigmaString(v))) return { ok: false, reason: 'fieldref takes field names without wildcards' };
    others.push(v);
  }
  const cmp = (a: string, b: string): boolean =>
    mode === 'eq' ? a === b : mode === 'contains' ? a.includes(b) : mode === 'start' ? a.startsWith(b) : a.endsWith(b);
  const all = mods.includes('all');
  const one = (ev: EventView, other: string): boolean => {
    const a = fold ? ev.lower(field) : ev.strings(field);
    const b = fold ? ev.lower(other) : ev.strings(other);
    if (a === null || b === null) return false;
    return a.some((x) => b.some((y) => cmp(x, y)));
  };
  const pred: Pred = all ? (ev) => others.every((o) => one(ev, o)) : (ev) => others.some((o) => one(ev, o));
  return { ok: true, item: { pred, req: null, fields: null } };
}

function compileNumeric(spec: ItemSpec): ItemResult {
  const { mods, values } = spec;
  const allowed = new Set<string>([...COMPARE, ...DATE_PARTS, 'neq', 'all']);
  for (const m of mods) if (!allowed.has(m)) return { ok: false, reason: `"${m}" does not combine with numeric comparison` };
  const parts = DATE_PARTS.filter((p) => mods.includes(p));
  if (parts.length > 1) return { ok: false, reason: 'only one date-part modifier may be used' };
  const ops = COMPARE.filter((c) => mods.includes(c));
  if (ops.length > 1) return { ok: false, reason: 'only one of gt/gte/lt/lte may be used' };
  const part: DatePart | undefined = parts[0];
  const op = ops[0];
  const tests: ((s: string) => boolean)[] = [];
  for (const v of values) {
    const ref = toNumber(v);
    if (ref === undefined) return { ok: false, reason: `numeric modifier needs a number, got ${JSON.stringify(v)}` };
    const cmp = op === undefined ? (n: number): boolean => n === ref : compareFn(op, ref);
    tests.push(part === undefined
      ? (s) => { const n = toNumber(s); return n !== undefined && cmp(n); }
      : (s) => { const n = datePart(s, part); return n !== undefined && cmp(n); });
  }
  return { ok: true, item: { pred: combine(spec, tests, false), req: null, fields: null } };
}
