/**
 * LIKE and MATCHES (STIX 2.1 §9.4).
 *
 * LIKE is SQL LIKE: `%` any run of characters, `_` exactly one character, case-sensitive.
 * It is matched by a linear-memory wildcard matcher (worst case O(n·m)), not a RegExp, so
 * `%a%a%a%b` cannot backtrack exponentially.
 *
 * MATCHES is a PCRE regular expression searched (not anchored) in the value. PCRE is translated
 * to a JS RegExp: leading inline flags `(?i)`, `(?m)`, `(?s)`, named groups `(?P<n>…)`,
 * `(?P=n)`, `\A`, `\z`, `\Z` and `\x{…}`. Bounds against runaway matching (documented, tested):
 * - expressions that nest a repetition inside a repeated group (star height > 1, e.g. `(a+)+`)
 *   are rejected: they are the classic catastrophic-backtracking shape;
 * - values longer than {@link MAX_MATCHES_INPUT} characters never match.
 * Residual risk: overlapping alternatives under one repetition (`(a|a)*b`) are not detected;
 * a JS RegExp cannot be interrupted, so callers evaluating untrusted patterns at high volume
 * should run detection in a worker they can terminate.
 */

export const MAX_MATCHES_INPUT = 8192;
const CACHE_LIMIT = 10_000;
const cache = new Map<string, RegExp | string>();

/** Compiles a PCRE-style expression; returns the RegExp or an error message. Cached. */
export function compileMatches(src: string): RegExp | string {
  const hit = cache.get(src);
  if (hit !== undefined) return hit;
  const result = compileUncached(src);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(src, result);
  return result;
}

function compileUncached(src: string): RegExp | string {
  let body = src;
  let flags = '';
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (lead?.[1] !== undefined) {
    for (const f of lead[1]) {
      if (f !== 'i' && f !== 'm' && f !== 's') return `unsupported inline flag '${f}'`;
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(lead[0].length);
  }
  const translated = translate(body);
  if (translated.error !== undefined) return translated.error;
  if (hasNestedRepetition(translated.out)) {
    return 'nested repetition such as (a+)+ can backtrack catastrophically; rewrite the expression';
  }
  try {
    return new RegExp(translated.out, flags + 'u');
  } catch {
    // PCRE tolerates some escapes that Unicode-mode JS rejects (e.g. '\-' outside a class).
    try {
      return new RegExp(translated.out, flags);
    } catch (e) {
      return e instanceof Error ? e.message : 'invalid regular expression';
    }
  }
}

function translate(src: string): { out: string; error?: string } {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return { out, error: 'trailing backslash' };
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && (n === 'z' || n === 'Z')) out += '$';
      else if (n === 'x' && src[i + 2] === '{') {
        const close = src.indexOf('}', i + 3);
        if (close < 0) return { out, error: 'unterminated \\x{…}' };
        out += `\\u{${src.slice(i + 3, close)}}`;
        i = close;
        continue;
      } else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in PCRE.
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && src.startsWith('(?P=', i)) {
      const close = src.indexOf(')', i);
      if (close < 0) return { out, error: 'unterminated (?P=…)' };
      out += `\\k<${src.slice(i + 4, close)}>`;
      i = close;
      continue;
    }
    if (c === '(' && (src.startsWith('(?>', i) || src.startsWith('(?|', i) || src.startsWith('(?R)', i))) {
      return { out, error: 'atomic groups, branch resets and recursion are not supported' };
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && src[i + 1] === '+') {
      return { out, error: 'possessive quantifiers are not supported' };
    }
    out += c;
  }
  return { out };
}

/** True when a group that contains a repetition is itself repeated (other than by `?`). */
function hasNestedRepetition(src: string): boolean {
  const stack: boolean[] = [];
  let inner = false;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      stack.push(inner);
      inner = false;
    } else if (c === ')') {
      const repeated = isRepeat(src, i + 1);
      if (repeated && inner) return true;
      const outer = stack.pop() ?? false;
      inner = outer || inner || repeated;
    } else if (c === '*' || c === '+' || (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i, i + 24)))) {
      inner = true;
    }
  }
  return false;
}

/** Is there a quantifier at `i` that allows more than one repetition? */
function isRepeat(src: string, i: number): boolean {
  const q = src[i];
  if (q === '*' || q === '+') return true;
  if (q !== '{') return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i, i + 24));
  if (m === null) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
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
export function regexMatches(value: string, re: RegExp): boolean {
  if (value.length > MAX_MATCHES_INPUT) return false;
  re.lastIndex = 0;
  return re.test(value);
}
