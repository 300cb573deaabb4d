/**
 * Sigma strings: wildcards, escapes, placeholders, and their compilation into fast string tests.
 *
 * Escaping follows the Sigma specification ("Escaping", v2.1.0) as implemented by pySigma
 * `SigmaString`: `\*`, `\?` and `\\` escape, a backslash before any other character is kept
 * literally together with that character (so `C:\Windows\` needs no escaping), and a trailing lone
 * backslash is literal. With `|expand`, `%name%` is a placeholder and `\%` a literal percent sign.
 */

import { compileLinear, describeRefusal } from '../../core/regex.js';

/** A special (non-literal) piece of a Sigma string. */
export type Special =
  | { readonly kind: 'any' } // `*`: zero or more characters
  | { readonly kind: 'one' } // `?`: exactly one character
  | { readonly kind: 'dash' } // |windash: one of - / – — ―
  | { readonly kind: 'ph'; readonly name: string }; // %placeholder% (only with |expand)

export type Part = string | Special;
export type SigmaStr = readonly Part[];

export const ANY: Special = Object.freeze({ kind: 'any' });
export const ONE: Special = Object.freeze({ kind: 'one' });
export const DASH: Special = Object.freeze({ kind: 'dash' });

/** The five characters `|windash` substitutes for a leading `-` or `/` (spec appendix). */
export const DASH_CHARS = ['-', '/', '\u2013', '\u2014', '\u2015'] as const;

function pushLit(out: Part[], s: string): void {
  if (s === '') return;
  const last = out[out.length - 1];
  if (typeof last === 'string') out[out.length - 1] = last + s;
  else out.push(s);
}

/** Parse raw rule text into parts. `placeholders` enables `%name%` (the `expand` modifier). */
export function parseSigmaString(raw: string, placeholders = false): Part[] {
  const out: Part[] = [];
  let lit = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\') {
      const n = raw[i + 1];
      if (n === '*' || n === '?' || n === '\\' || (placeholders && n === '%')) {
        lit += n;
        i++;
      } else {
        lit += c; // kept literally; the next char is processed normally
      }
    } else if (c === '*' || c === '?') {
      pushLit(out, lit);
      lit = '';
      out.push(c === '*' ? ANY : ONE);
    } else if (placeholders && c === '%') {
      const end = raw.indexOf('%', i + 1);
      const name = end > i + 1 ? raw.slice(i + 1, end) : '';
      if (name !== '' && /^[A-Za-z0-9_.-]+$/.test(name)) {
        pushLit(out, lit);
        lit = '';
        out.push({ kind: 'ph', name });
        i = end;
      } else {
        lit += c;
      }
    } else {
      lit += c;
    }
  }
  pushLit(out, lit);
  return out;
}

export function hasWildcards(s: SigmaStr): boolean {
  return s.some((p) => typeof p !== 'string' && (p.kind === 'any' || p.kind === 'one'));
}

export function placeholdersOf(s: SigmaStr): string[] {
  const names: string[] = [];
  for (const p of s) if (typeof p !== 'string' && p.kind === 'ph') names.push(p.name);
  return names;
}

/** Map every literal piece through `f` (used for lower-casing and byte encodings). */
export function mapLiterals(s: SigmaStr, f: (lit: string) => string): Part[] {
  const out: Part[] = [];
  for (const p of s) {
    if (typeof p === 'string') pushLit(out, f(p));
    else out.push(p);
  }
  return out;
}

export function concatParts(...parts: SigmaStr[]): Part[] {
  const out: Part[] = [];
  for (const s of parts) for (const p of s) typeof p === 'string' ? pushLit(out, p) : out.push(p);
  return out;
}

/** Substitute placeholders with every combination of configured values (OR of the variants). */
export function expandPlaceholders(
  s: SigmaStr,
  values: (name: string) => readonly string[] | undefined,
): { ok: true; variants: Part[][] } | { ok: false; reason: string } {
  let variants: Part[][] = [[]];
  for (const p of s) {
    if (typeof p !== 'string' && p.kind === 'ph') {
      const vals = values(p.name);
      if (vals === undefined || vals.length === 0) {
        return { ok: false, reason: `unresolved placeholder %${p.name}% (no value in the placeholder configuration)` };
      }
      const next: Part[][] = [];
      for (const v of variants) for (const val of vals) next.push(concatParts(v, parseSigmaString(val)));
      variants = next;
      if (variants.length > 4096) return { ok: false, reason: `placeholder expansion of %${p.name}% exceeds 4096 variants` };
    } else {
      variants = variants.map((v) => concatParts(v, [p]));
    }
  }
  return { ok: true, variants };
}

/** `contains`/`startswith`/`endswith`: add `*` where not already present (spec appendix). */
export function wrapWildcards(s: SigmaStr, start: boolean, end: boolean): Part[] {
  const out = [...s];
  if (start && out[0] !== ANY) out.unshift(ANY);
  if (end && out[out.length - 1] !== ANY) out.push(ANY);
  return out;
}

/**
 * `|windash`: a `-` or `/` at the start of a token (`\B[-/]\b`, i.e. preceded by a non-word char
 * or the start, followed by a word char) becomes one of five dash characters. Expressed as a
 * character class instead of 5^n variants, which is the same set of matching strings.
 */
export function applyWindash(s: SigmaStr): Part[] {
  const out: Part[] = [];
  const isWord = (c: string | undefined): boolean => c !== undefined && /\w/.test(c);
  for (const p of s) {
    if (typeof p !== 'string') {
      out.push(p);
      continue;
    }
    let lit = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i] as string;
      if ((c === '-' || c === '/') && !isWord(p[i - 1]) && isWord(p[i + 1])) {
        pushLit(out, lit);
        lit = '';
        out.push(DASH);
      } else {
        lit += c;
      }
    }
    pushLit(out, lit);
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A compiled test over one (already case-folded when case-insensitive) string. */
export type StrTest = (v: string) => boolean;

export interface CompiledStr {
  readonly test: StrTest;
  /** Literal pieces that any matching string must contain (for the substring prefilter). */
  readonly literals: readonly string[];
  /** Set when the test is exactly "contains this (folded) literal" (lets lists share one automaton). */
  readonly contains?: string;
}

/**
 * Compile parts into the cheapest test: equality, includes, startsWith, endsWith, or an anchored
 * linear-time (RE2) expression for anything else; a string when RE2 refuses it. `fold`
 * lower-cases the pattern (callers lower-case the value); the spec makes string matching
 * case-insensitive unless `|cased`.
 */
export function compileStr(s: SigmaStr, fold: boolean): CompiledStr | string {
  const parts = fold ? mapLiterals(s, (l) => l.toLowerCase()) : [...s];
  const literals = parts.filter((p): p is string => typeof p === 'string');
  const n = parts.length;
  const p0 = parts[0];
  const plast = parts[n - 1];
  if (n === 0) return { test: (v) => v === '', literals };
  if (n === 1 && typeof p0 === 'string') return { test: (v) => v === p0, literals };
  if (n === 1 && p0 === ANY) return { test: () => true, literals };
  if (n === 2 && p0 === ANY && typeof plast === 'string') return { test: (v) => v.endsWith(plast), literals };
  if (n === 2 && typeof p0 === 'string' && plast === ANY) return { test: (v) => v.startsWith(p0), literals };
  const mid = parts[1];
  if (n === 3 && p0 === ANY && plast === ANY && typeof mid === 'string') return { test: (v) => v.includes(mid), literals, contains: mid };
  // A leading or trailing `*` becomes an unanchored end rather than `[^]*` (cheaper search).
  const body = parts.slice(p0 === ANY ? 1 : 0, plast === ANY ? n - 1 : n);
  let src = p0 === ANY ? '' : '^';
  for (const p of body) {
    if (typeof p === 'string') src += escapeRe(p);
    else if (p.kind === 'any') src += '.*';
    else if (p.kind === 'one') src += '.';
    else if (p.kind === 'dash') src += '[-/\u2013\u2014\u2015]';
    else src += escapeRe(`%${p.name}%`); // unreachable after expansion; literal for safety
  }
  // RE2 (linear time): a backtracking engine takes O(n^k) on k wildcards (`*a*a*a*b`).
  // 's': a wildcard also spans line breaks. Only escaped literals and wildcards: always compiles.
  // A refusal can only be RE2's size budget (a value of hundreds of kilobytes): the rule's reason.
  const r = compileLinear(plast === ANY ? src : src + '$', 's');
  if (!r.ok) return `wildcard value refused: ${describeRefusal(r.refusal)}`;
  const re = r.re;
  return { test: (v) => re.test(v), literals };
}
