/**
 * The one place a user-supplied regular expression is compiled (DESIGN §2.7: rules, patterns and
 * events supplied by users run in linear time). Sigma `|re`, STIX `MATCHES`, warninglist and
 * correlation-exclusion regexes all come through {@link compileLinear}.
 *
 * The engine is RE2 (the `re2` native addon, pinned at 1.24.0: the last release that builds on
 * Node 20; shared/reference/scale-out.md §2.3). RE2 runs in time linear in the input for a fixed
 * expression because it never backtracks, so `^(a+)+$` or `(a|a)*b` over 100k characters takes
 * milliseconds. The price is that constructs which need backtracking are not supported:
 * backreferences, lookahead / lookbehind, atomic groups, possessive quantifiers, recursion,
 * conditionals and `\G`; repetition counts are capped at 1000. Such an expression is REFUSED
 * with the reason and its position, never run on a backtracking engine instead. V8's own linear
 * engine (the `l` flag) is not an alternative: on Node 20 it refuses every case-insensitive
 * expression (scale-out.md §2.5).
 *
 * RE2 always works on Unicode code points (node-re2 adds the `u` flag itself): `.` and `[^x]`
 * match one code point, not one UTF-16 unit.
 */
import RE2 from 're2';

/** A compiled, linear-time expression. `test` is an unanchored search. */
export interface LinearRegex {
  readonly source: string;
  readonly flags: string;
  test(input: string): boolean;
}

/** Why an expression cannot run in linear time, and where (0-based offset in the expression). */
export interface RegexRefusal {
  readonly reason: string;
  readonly position: number;
}

export type LinearRegexResult = { readonly ok: true; readonly re: LinearRegex } | { readonly ok: false; readonly refusal: RegexRefusal };

/** Flags a caller may ask for: i (case-insensitive), m (^ $ at line ends), s (. matches newline). */
const FLAGS = new Set(['i', 'm', 's']);

/** RE2 refuses larger counts in `{n,m}` (its kMaxRepeat). */
export const MAX_REPEAT = 1000;

/** Compiles `source` with RE2, or explains why it cannot run in linear time. */
export function compileLinear(source: string, flags = ''): LinearRegexResult {
  for (const f of flags) {
    if (!FLAGS.has(f)) return refused(`unsupported flag '${f}'`, 0);
  }
  const known = findUnsupported(source);
  if (known !== null) return { ok: false, refusal: known };
  try {
    const re = new RE2(source, flags);
    return { ok: true, re: { source, flags, test: (input) => re.test(input) } };
  } catch (e) {
    return { ok: false, refusal: explain(source, e instanceof Error ? e.message : String(e)) };
  }
}

/** "reason at position N" — the text every caller puts in its 422. */
export function describeRefusal(r: RegexRefusal): string {
  return `${r.reason} (at position ${r.position})`;
}

function refused(reason: string, position: number): LinearRegexResult {
  return { ok: false, refusal: { reason, position } };
}

const LINEAR = 'RE2 runs expressions in linear time and has no backtracking';

/** Group openers RE2 does not have, with the name a user will recognise. */
const GROUPS: readonly (readonly [string, string])[] = [
  ['(?<=', 'lookbehind'],
  ['(?<!', 'negative lookbehind'],
  ['(?=', 'lookahead'],
  ['(?!', 'negative lookahead'],
  ['(?>', 'atomic group'],
  ['(?|', 'branch reset group'],
  ['(?(', 'conditional group'],
  ['(?R)', 'recursion'],
  ['(?P>', 'subroutine call'],
  ['(?P=', 'named backreference'],
  ['(?&', 'subroutine call'],
  ['(?#', 'comment group'],
];

/**
 * Finds the constructs RE2 refuses because they need backtracking, so the refusal names them
 * (RE2's own message for `\1` is "invalid escape sequence"). Scans outside character classes.
 */
function findUnsupported(src: string): RegexRefusal | null {
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(n)) return { reason: `backreference \\${n} is not supported: ${LINEAR}`, position: i };
      if (!inClass && (n === 'k' || n === 'g') && /[<{'0-9-]/.test(src[i + 2] ?? '')) {
        return { reason: `backreference \\${n} is not supported: ${LINEAR}`, position: i };
      }
      if (!inClass && n === 'G') return { reason: `\\G (continue at last match) is not supported: ${LINEAR}`, position: i };
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // A ']' right after '[' or '[^' is a literal, not the end of the class.
      if (src[i + 1] === '^') i++;
      if (src[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      for (const [open, name] of GROUPS) {
        if (src.startsWith(open, i)) return { reason: `${name} ${open}… is not supported: ${LINEAR}`, position: i };
      }
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && src[i + 1] === '+' && i > 0) {
      return { reason: `possessive quantifier ${c}+ is not supported: ${LINEAR}`, position: i };
    }
  }
  return null;
}

/** Turns RE2's "what: fragment" message into a reason and the fragment's offset in `src`. */
function explain(src: string, message: string): RegexRefusal {
  const colon = message.indexOf(': ');
  const what = colon < 0 ? message : message.slice(0, colon);
  const fragment = colon < 0 ? '' : message.slice(colon + 2);
  if (what === 'missing )') return { reason: 'missing ) to close a group', position: src.length };
  if (what === 'missing ]') return { reason: 'missing ] to close a character class', position: at(src, fragment) };
  if (what === 'invalid repetition size') {
    return { reason: `invalid repetition size ${fragment} (RE2 allows counts up to ${MAX_REPEAT})`, position: at(src, fragment) };
  }
  if (what === 'invalid perl operator' && /^\(\?[a-zA-Z-]/.test(fragment)) {
    return { reason: `unsupported inline flag group ${fragment}…: RE2 knows (?i) (?m) (?s) (?U) only`, position: at(src, fragment) };
  }
  if (what === 'pattern too large - compile failed' || what === 'pattern too large - reverse compile failed') {
    return { reason: 'expression too large for the linear-time engine (nested repetition counts multiply)', position: 0 };
  }
  const reason = fragment === '' ? what : `${what} ${fragment}`;
  return { reason, position: fragment === '' ? 0 : at(src, fragment) };
}

/** First offset of `fragment` in `src` that does not sit right after an escaping backslash. */
function at(src: string, fragment: string): number {
  if (fragment === '') return 0;
  for (let i = 0; i < src.length; i++) {
    if (src.startsWith(fragment, i)) return i;
    if (src[i] === '\\') i++;
  }
  return 0;
}
