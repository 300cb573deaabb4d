/**
 * CPE names as well-formed names (WFN, NISTIR 7695): parsed from the 2.3 formatted string
 * binding (`cpe:2.3:part:vendor:…`) and from the 2.2 URI binding (`cpe:/a:vendor:…`), which
 * CVE records and CSAF product trees both use. A value is ANY, NA, or a string whose literal
 * middle is unescaped and lower-cased (matching is case-insensitive) with an optional
 * unquoted wildcard run at either end (`*`, or one or more `?`), the only places NISTIR 7695
 * allows them.
 */

export const ATTRIBUTES = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language', 'sw_edition', 'target_sw', 'target_hw', 'other'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** A wildcard run at one end of a value: none, `*` (any number of characters) or n × `?` (at most n, NISTIR 7696 §6.1.2). */
export type Wild = { readonly kind: 'none' } | { readonly kind: 'star' } | { readonly kind: 'q'; readonly n: number };

export type Value =
  | { readonly kind: 'any' }
  | { readonly kind: 'na' }
  | { readonly kind: 'str'; readonly pre: Wild; readonly mid: string; readonly post: Wild };

/** A well-formed name: the 11 attribute values in {@link ATTRIBUTES} order. */
export type Wfn = readonly Value[];

export const ANY: Value = { kind: 'any' };
export const NA: Value = { kind: 'na' };
const NONE: Wild = { kind: 'none' };

export class CpeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CpeError';
  }
}

export const lit = (s: string): Value => ({ kind: 'str', pre: NONE, mid: s.toLowerCase(), post: NONE });

export function hasWildcard(v: Value): boolean {
  return v.kind === 'str' && (v.pre.kind !== 'none' || v.post.kind !== 'none');
}

export function attr(w: Wfn, a: Attribute): Value {
  return w[ATTRIBUTES.indexOf(a)] ?? ANY;
}

/** Parses either binding; throws {@link CpeError} with the reason. */
export function parseCpe(s: string): Wfn {
  const t = s.trim();
  if (t.length > 1024) throw new CpeError('a CPE name is at most 1024 characters');
  if (/^cpe:2\.3:/i.test(t)) return parseFormatted(t);
  if (/^cpe:\//i.test(t)) return parseUri(t);
  throw new CpeError(`not a CPE name (cpe:2.3:… or cpe:/…): ${t.slice(0, 80)}`);
}

export function tryParseCpe(s: string): Wfn | null {
  try {
    return parseCpe(s);
  } catch {
    return null;
  }
}

/** Splits on unescaped colons. */
function splitFs(s: string): string[] {
  if (!s.includes('\\')) return s.split(':');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseFormatted(s: string): Wfn {
  const parts = splitFs(s);
  if (parts.length !== 13) throw new CpeError(`a CPE 2.3 formatted string has 11 attributes, found ${parts.length - 2}`);
  const values = parts.slice(2).map((p, i) => fsValue(p, ATTRIBUTES[i]!));
  checkPart(values[0]!);
  return values;
}

/** One formatted-string value: `*` ANY, `-` NA, else backslash-quoted characters and end wildcards. */
function fsValue(p: string, a: Attribute): Value {
  if (p === '*') return ANY;
  if (p === '-') return NA;
  if (p === '') throw new CpeError(`empty ${a} value (use * or -)`);
  // The common case: plain characters only, no quoting, no wildcards.
  let plain = true;
  for (let i = 0; i < p.length && plain; i++) plain = isPlain(p.charCodeAt(i));
  if (plain) return { kind: 'str', pre: NONE, mid: p.toLowerCase(), post: NONE };
  const chars: { c: string; wild: boolean }[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) throw new CpeError(`${a}: a trailing backslash quotes nothing`);
      chars.push({ c: n, wild: false });
      i++;
    } else if (c === '*' || c === '?') chars.push({ c, wild: true });
    else if (isPlain(c.charCodeAt(0))) chars.push({ c, wild: false });
    else throw new CpeError(`${a}: '${c}' must be quoted with a backslash`);
  }
  return fromChars(chars, a);
}

/** A-Z a-z 0-9 . _ - : the characters a formatted string leaves unquoted. */
function isPlain(x: number): boolean {
  return (x >= 48 && x <= 57) || (x >= 65 && x <= 90) || (x >= 97 && x <= 122) || x === 46 || x === 95 || x === 45;
}

/** Builds a string value from logical characters, checking that wildcards sit only at the ends. */
function fromChars(chars: readonly { c: string; wild: boolean }[], a: Attribute): Value {
  let i = 0;
  let pre: Wild = NONE;
  if (chars[0]?.wild && chars[0].c === '*') {
    pre = { kind: 'star' };
    i = 1;
  } else {
    let n = 0;
    while (chars[i]?.wild && chars[i]!.c === '?') {
      n++;
      i++;
    }
    if (n) pre = { kind: 'q', n };
  }
  let j = chars.length;
  let post: Wild = NONE;
  if (j > i && chars[j - 1]!.wild && chars[j - 1]!.c === '*') {
    post = { kind: 'star' };
    j--;
  } else {
    let n = 0;
    while (j > i && chars[j - 1]!.wild && chars[j - 1]!.c === '?') {
      n++;
      j--;
    }
    if (n) post = { kind: 'q', n };
  }
  const mid = chars.slice(i, j);
  if (mid.some((x) => x.wild)) throw new CpeError(`${a}: an unquoted wildcard may only stand at the start or end of a value`);
  if (mid.length === 0 && pre.kind === 'star' && post.kind === 'none') return ANY;
  if (pre.kind === 'star' && post.kind === 'star' && mid.length === 0) throw new CpeError(`${a}: '**' is not a value`);
  return { kind: 'str', pre, mid: mid.map((x) => x.c).join('').toLowerCase(), post };
}

function checkPart(v: Value): void {
  if (v.kind === 'str' && !hasWildcard(v) && !['a', 'o', 'h'].includes(v.mid)) throw new CpeError(`part must be a, o or h, not ${v.mid}`);
}

/** The 2.2 URI binding: percent-encoded values, empty = ANY, `-` = NA, a packed edition `~ed~sw~tsw~thw~other`. */
function parseUri(s: string): Wfn {
  const body = s.slice(5);
  const parts = body.split(':');
  if (parts.length > 7) throw new CpeError(`a CPE 2.2 URI has at most 7 components, found ${parts.length}`);
  const values: Value[] = ATTRIBUTES.map(() => ANY);
  const uriIdx = [0, 1, 2, 3, 4, 5, 6]; // part vendor product version update edition language
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!;
    if (k === 5 && p.startsWith('~')) {
      const packed = p.split('~');
      if (packed.length !== 6) throw new CpeError('a packed edition has 5 fields: ~edition~sw_edition~target_sw~target_hw~other');
      const slots = [5, 7, 8, 9, 10];
      packed.slice(1).forEach((q, m) => {
        values[slots[m]!] = uriValue(q, ATTRIBUTES[slots[m]!]!);
      });
      continue;
    }
    values[uriIdx[k]!] = uriValue(p, ATTRIBUTES[uriIdx[k]!]!);
  }
  checkPart(values[0]!);
  return values;
}

function uriValue(p: string, a: Attribute): Value {
  if (p === '') return ANY;
  if (p === '-') return NA;
  const chars: { c: string; wild: boolean }[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '%') {
      const hex = p.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new CpeError(`${a}: bad percent-encoding`);
      i += 2;
      const code = parseInt(hex, 16);
      if (code === 1) chars.push({ c: '?', wild: true });
      else if (code === 2) chars.push({ c: '*', wild: true });
      else chars.push({ c: String.fromCharCode(code), wild: false });
    } else if (/[A-Za-z0-9._\-~]/.test(c)) chars.push({ c, wild: false });
    else throw new CpeError(`${a}: '${c}' must be percent-encoded in a CPE URI`);
  }
  return fromChars(chars, a);
}

/** The 2.3 formatted string of a WFN (for display and export). */
export function formatCpe(w: Wfn): string {
  return `cpe:2.3:${ATTRIBUTES.map((_, i) => fsOf(w[i] ?? ANY)).join(':')}`;
}

function wildText(w: Wild): string {
  return w.kind === 'star' ? '*' : w.kind === 'q' ? '?'.repeat(w.n) : '';
}

function fsOf(v: Value): string {
  if (v.kind === 'any') return '*';
  if (v.kind === 'na') return '-';
  return wildText(v.pre) + v.mid.replace(/[^a-z0-9._-]/g, (c) => `\\${c}`) + wildText(v.post);
}

/** A concrete name from a vendor / product / version triple (inventory entered as text). */
export function fromProduct(p: { vendor: string; product: string; version?: string | null; part?: 'a' | 'o' | 'h' }): Wfn {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, '_');
  const values: Value[] = ATTRIBUTES.map(() => ANY);
  values[0] = lit(p.part ?? 'a');
  values[1] = lit(norm(p.vendor));
  values[2] = lit(norm(p.product));
  if (p.version) values[3] = lit(p.version.trim());
  return values;
}

/** The index key of a name: `vendor:product` when both are literal, else null (a pattern to test against everything). */
export function keyOf(w: Wfn): string | null {
  const v = w[1];
  const p = w[2];
  if (v?.kind !== 'str' || p?.kind !== 'str' || hasWildcard(v) || hasWildcard(p)) return null;
  return `${v.mid}:${p.mid}`;
}
