/**
 * LIKE and MATCHES (STIX 2.1 §9.4).
 *
 * LIKE is SQL LIKE: `%` any run of characters, `_` exactly one character, case-sensitive.
 * It is matched by a linear-memory wildcard matcher (worst case O(n·m)), not a RegExp, so
 * `%a%a%a%b` cannot backtrack exponentially.
 *
 * MATCHES is a PCRE regular expression searched (not anchored) in the value. It runs on RE2
 * (core/regex.ts), in time linear in the value, so `(a|a)*b` cannot stall a node (DESIGN §2.7).
 * PCRE syntax RE2 shares is passed through as written: leading or embedded `(?i)`, `(?m)`,
 * `(?s)`, `(?U)`, named groups `(?P<n>…)`, `\A`, `\z`, `\x{…}`, `\Q…\E`, `\p{…}`. Translated:
 * `\Z` (end, or before a final newline) becomes `\n?\z`. Refused when the indicator is added,
 * with the reason and the position (docs/detection.md "MATCHES dialect"): backreferences
 * (`\1`, `(?P=n)`), lookaround, atomic groups, possessive quantifiers, recursion, conditionals,
 * `(?x)`, counts above 1000. Values longer than {@link MAX_MATCHES_INPUT} characters never match
 * (a per-value budget on top of the per-event caps).
 */
import { compileLinear, type LinearRegex, type RegexRefusal } from '../../core/regex.js';

export const MAX_MATCHES_INPUT = 8192;
const CACHE_LIMIT = 10_000;
const cache = new Map<string, LinearRegex | RegexRefusal>();

/** Compiles a PCRE-style expression; returns the expression or why RE2 cannot run it. Cached. */
export function compileMatches(src: string): LinearRegex | RegexRefusal {
  const hit = cache.get(src);
  if (hit !== undefined) return hit;
  const result = compileUncached(src);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(src, result);
  return result;
}

export function isRefusal(r: LinearRegex | RegexRefusal): r is RegexRefusal {
  return 'reason' in r;
}

function compileUncached(src: string): LinearRegex | RegexRefusal {
  const translated = translate(src);
  if ('reason' in translated) return translated;
  const r = compileLinear(translated.out);
  if (r.ok) return r.re;
  // Positions refer to the expression as written: map back across the translations before it.
  return { reason: r.refusal.reason, position: translated.toSource(r.refusal.position) };
}

/** PCRE → RE2 where the two differ in spelling only; `toSource` maps an output offset back. */
function translate(src: string): { out: string; toSource: (at: number) => number } | RegexRefusal {
  let out = '';
  // (output offset, source offset) at each place the two stop advancing together.
  const marks: [number, number][] = [];
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return { reason: 'trailing backslash', position: i };
      if (!inClass && n === 'Z') {
        out += '(?:\\n?\\z)';
        marks.push([out.length, i + 2]);
      } else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in PCRE (RE2 agrees; kept as written).
      if (src[i + 1] === '^') out += src[++i];
      if (src[i + 1] === ']') out += src[++i];
      continue;
    }
    out += c;
  }
  const toSource = (at: number): number => {
    let delta = 0;
    for (const [o, s] of marks) if (o <= at) delta = s - o;
    return Math.max(0, Math.min(src.length, at + delta));
  };
  return { out, toSource };
}

/** SQL LIKE with `%` and `_`, case-sensitive, on Unicode code points. */
export function likeMatches(value: string, pattern: string): boolean {
  const s = /[\uD800-\uDFFF]/.test(value) ? Array.from(value) : value;
  const p = /[\uD800-\uDFFF]/.test(pattern) ? Array.from(pattern) : pattern;
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = p[pi];
    if (pc === '%') {
      starP = pi++;
      starS = si;
    } else if (pc !== undefined && (pc === '_' || pc === s[si])) {
      pi++;
      si++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (p[pi] === '%') pi++;
  return pi === p.length;
}

/** MATCHES: unanchored search, bounded by {@link MAX_MATCHES_INPUT}. */
export function regexMatches(value: string, re: LinearRegex): boolean {
  if (value.length > MAX_MATCHES_INPUT) return false;
  return re.test(value);
}
