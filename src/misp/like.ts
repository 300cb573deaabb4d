/**
 * MISP's restSearch value matching (app/Model/AppModel.php generic_add_filter): a term that
 * starts or ends with `%` is an SQL LIKE pattern in which `%` stands for any run of characters;
 * any other term is an exact match. MISP's database compares case-insensitively, so does this.
 * `_` is taken literally (a domain or a registry key holds it far more often than a searcher
 * means "one character").
 *
 * No user pattern becomes a regular expression (DESIGN §2.7): a pattern is cut at its `%` into
 * literal parts, found left to right with Knuth-Morris-Pratt, so a match costs O(value + pattern)
 * whatever the pattern.
 */

/** KMP search of `needle` in `hay` from `from`; the index of the first occurrence, or -1. */
function kmpIndex(hay: string, needle: string, fail: Int32Array, from: number): number {
  if (needle.length === 0) return from;
  let k = 0;
  for (let i = from; i < hay.length; i++) {
    while (k > 0 && hay[i] !== needle[k]) k = fail[k - 1]!;
    if (hay[i] === needle[k]) k++;
    if (k === needle.length) return i - needle.length + 1;
  }
  return -1;
}

function failure(p: string): Int32Array {
  const f = new Int32Array(p.length);
  let k = 0;
  for (let i = 1; i < p.length; i++) {
    while (k > 0 && p[i] !== p[k]) k = f[k - 1]!;
    if (p[i] === p[k]) k++;
    f[i] = k;
  }
  return f;
}

/** Whether a term is a LIKE pattern (MISP: it starts or ends with %). */
export const isLike = (term: string): boolean => term.startsWith('%') || term.endsWith('%');

/** A matcher for one MISP term: LIKE when it starts or ends with %, else exact; case-insensitive. */
export function termMatcher(term: string): (value: string) => boolean {
  const t = term.toLowerCase();
  if (!isLike(t)) return (v) => v.toLowerCase() === t;
  const parts = t.split('%');
  const head = parts[0]!;
  const tail = parts.length > 1 ? parts[parts.length - 1]! : '';
  const middle = parts.slice(1, -1).filter((p) => p !== '').map((p) => ({ p, f: failure(p) }));
  return (value) => {
    const v = value.toLowerCase();
    if (v.length < head.length + tail.length || !v.startsWith(head) || !v.endsWith(tail)) return false;
    // Leftmost occurrences, in order, between the anchored head and tail: for `%`-only patterns greedy leftmost is exact.
    let at = head.length;
    const end = v.length - tail.length;
    for (const { p, f } of middle) {
      const i = kmpIndex(v, p, f, at);
      if (i < 0 || i + p.length > end) return false;
      at = i + p.length;
    }
    return true;
  };
}

/** A case-insensitive substring test (MISP quickFilter), in linear time. */
export function substringMatcher(text: string): (value: string) => boolean {
  const t = text.toLowerCase();
  const f = failure(t);
  return (value) => kmpIndex(value.toLowerCase(), t, f, 0) >= 0;
}
