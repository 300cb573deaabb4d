/**
 * The Sigma condition grammar (spec "Condition"; precedence as in pySigma `conditions.py`, loosest
 * to tightest: or < and < not < `x of` < parentheses). Operators are case-insensitive keywords.
 *
 *   or_expr  := and_expr ("or" and_expr)*
 *   and_expr := not_expr ("and" not_expr)*
 *   not_expr := "not" not_expr | atom
 *   atom     := "(" or_expr ")" | ("1"|"any"|"all") "of" (pattern | "them") | identifier
 */

import { compileLinear } from '../../core/regex.js';

export type CondNode =
  | { readonly t: 'id'; readonly name: string }
  | { readonly t: 'and' | 'or'; readonly xs: readonly CondNode[] }
  | { readonly t: 'not'; readonly x: CondNode }
  | { readonly t: 'of'; readonly quant: 'one' | 'all'; readonly pattern: string };

export type CondResult = { ok: true; node: CondNode } | { ok: false; reason: string };

const TOKEN = /\s*(\(|\)|[A-Za-z0-9_*.\-]+)/y;

function tokenize(src: string): string[] | string {
  const toks: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (m === null) return `unexpected character ${JSON.stringify(src.slice(pos).trimStart()[0])} at offset ${pos}`;
    toks.push(m[1] as string);
    pos = TOKEN.lastIndex;
  }
  return toks;
}

/** Deepest nesting of parentheses and `not` in a condition (real rules use a few levels; the parser and the compiler recurse). */
export const MAX_CONDITION_DEPTH = 64;

export function parseCondition(src: string): CondResult {
  const toks = tokenize(src);
  if (typeof toks === 'string') return { ok: false, reason: `condition: ${toks}` };
  if (toks.length === 0) return { ok: false, reason: 'condition is empty' };
  let i = 0;
  let depth = 0;
  const tooDeep = () => `nesting deeper than ${MAX_CONDITION_DEPTH} levels of parentheses and "not" at token ${i + 1}`;
  const peek = (): string | undefined => toks[i];
  const kw = (t: string | undefined, k: string): boolean => t !== undefined && t.toLowerCase() === k;
  const isKeyword = (t: string): boolean => ['and', 'or', 'not', 'of', 'them'].includes(t.toLowerCase());

  function orExpr(): CondNode | string {
    const xs: CondNode[] = [];
    for (;;) {
      const a = andExpr();
      if (typeof a === 'string') return a;
      xs.push(a);
      if (!kw(peek(), 'or')) break;
      i++;
    }
    return xs.length === 1 ? (xs[0] as CondNode) : { t: 'or', xs };
  }
  function andExpr(): CondNode | string {
    const xs: CondNode[] = [];
    for (;;) {
      const a = notExpr();
      if (typeof a === 'string') return a;
      xs.push(a);
      if (!kw(peek(), 'and')) break;
      i++;
    }
    return xs.length === 1 ? (xs[0] as CondNode) : { t: 'and', xs };
  }
  function notExpr(): CondNode | string {
    if (kw(peek(), 'not')) {
      if (++depth > MAX_CONDITION_DEPTH) return tooDeep();
      i++;
      const x = notExpr();
      depth--;
      return typeof x === 'string' ? x : { t: 'not', x };
    }
    return atom();
  }
  function atom(): CondNode | string {
    const t = peek();
    if (t === undefined) return 'unexpected end of condition';
    if (t === '(') {
      if (++depth > MAX_CONDITION_DEPTH) return tooDeep();
      i++;
      const x = orExpr();
      depth--;
      if (typeof x === 'string') return x;
      if (peek() !== ')') return `missing ")" at token ${i + 1}`;
      i++;
      return x;
    }
    if (t === ')') return `unexpected ")" at token ${i + 1}`;
    const low = t.toLowerCase();
    if ((low === '1' || low === 'any' || low === 'all') && kw(toks[i + 1], 'of')) {
      const target = toks[i + 2];
      if (target === undefined || target === '(' || target === ')' || (isKeyword(target) && !kw(target, 'them'))) {
        return `"${t} of" needs an identifier pattern or "them"`;
      }
      if (!/^[A-Za-z0-9_*-]+$/.test(target)) return `invalid identifier pattern ${JSON.stringify(target)}`;
      i += 3;
      return { t: 'of', quant: low === 'all' ? 'all' : 'one', pattern: kw(target, 'them') ? 'them' : target };
    }
    if (isKeyword(t)) return `unexpected keyword "${t}" at token ${i + 1}`;
    if (t.includes('*')) return `wildcard identifier ${JSON.stringify(t)} outside "1 of"/"all of"`;
    i++;
    return { t: 'id', name: t };
  }

  const node = orExpr();
  if (typeof node === 'string') return { ok: false, reason: `condition: ${node}` };
  if (i < toks.length) return { ok: false, reason: `condition: unexpected token "${toks[i]}" at position ${i + 1}` };
  return { ok: true, node };
}

/**
 * Identifiers a `x of pattern` selects. `them` is every identifier not starting with `_`; a pattern
 * not itself starting with `_` never selects `_` identifiers (pySigma convention).
 */
export function selectIdentifiers(pattern: string, names: readonly string[]): string[] {
  if (pattern === 'them') return names.filter((n) => !n.startsWith('_'));
  // RE2 (linear time): on a backtracking engine `*a*a*a*b` against long names is O(n^k) at load.
  const r = compileLinear('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*') + '$', 's');
  if (!r.ok) return [];
  const re = r.re;
  return names.filter((n) => re.test(n) && (pattern.startsWith('_') || !n.startsWith('_')));
}

/** Identifiers referenced directly (not via `x of`). */
export function referencedIds(node: CondNode, out: Set<string> = new Set()): Set<string> {
  switch (node.t) {
    case 'id':
      out.add(node.name);
      break;
    case 'and':
    case 'or':
      for (const x of node.xs) referencedIds(x, out);
      break;
    case 'not':
      referencedIds(node.x, out);
      break;
    case 'of':
      break;
  }
  return out;
}
