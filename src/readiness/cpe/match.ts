/**
 * CPE name matching (NISTIR 7696 §6): the relation of a source pattern S (a vulnerability's
 * criteria) to a target T (an inventory name), attribute by attribute, in the order the NIST
 * reference implementation tests (CPENameMatcher.compare): a target wildcard is UNDEFINED,
 * S = T is EQUAL, S = ANY is SUPERSET, T = ANY is SUBSET, NA on either side is DISJOINT,
 * otherwise the string (pattern) comparison of §6.1.2 gives SUPERSET or DISJOINT.
 * "S matches T" means every attribute is SUPERSET or EQUAL (the reference's `isSuperset`).
 */
import { ATTRIBUTES, hasWildcard, type Value, type Wfn, type Wild } from './name.js';

export type Relation = 'equal' | 'superset' | 'subset' | 'disjoint' | 'undefined';

function sameWild(a: Wild, b: Wild): boolean {
  return a.kind === b.kind && (a.kind !== 'q' || (b.kind === 'q' && a.n === b.n));
}

export function compareValues(s: Value, t: Value): Relation {
  if (hasWildcard(t)) return 'undefined';
  if (s.kind === t.kind && (s.kind !== 'str' || (t.kind === 'str' && s.mid === t.mid && sameWild(s.pre, t.pre) && sameWild(s.post, t.post)))) return 'equal';
  if (s.kind === 'any') return 'superset';
  if (t.kind === 'any') return 'subset';
  if (s.kind === 'na' || t.kind === 'na') return 'disjoint';
  if (s.kind !== 'str' || t.kind !== 'str') return 'disjoint';
  return compareStrings(s, t.mid) ? 'superset' : 'disjoint';
}

/**
 * §6.1.2 compareStrings: find the literal middle of the pattern in the target so that the
 * characters before it fit the leading wildcard (`*`: any number; n × `?`: at most n; none: 0)
 * and those after it fit the trailing one. Linear scans with indexOf, no regular expression.
 */
function compareStrings(s: { pre: Wild; mid: string; post: Wild }, target: string): boolean {
  const maxPre = s.pre.kind === 'star' ? Infinity : s.pre.kind === 'q' ? s.pre.n : 0;
  const maxPost = s.post.kind === 'star' ? Infinity : s.post.kind === 'q' ? s.post.n : 0;
  let index = -1;
  for (;;) {
    index = target.indexOf(s.mid, index + 1);
    if (index === -1 || index > maxPre) return false;
    const leftover = target.length - index - s.mid.length;
    if (leftover <= maxPost) return true;
    if (s.mid.length === 0 && index >= target.length) return false;
  }
}

/** Name-level relation: any DISJOINT → disjoint, all EQUAL → equal (§6.2). */
export function compareNames(s: Wfn, t: Wfn): Relation[] {
  return ATTRIBUTES.map((_, i) => compareValues(s[i]!, t[i]!));
}

/** Whether the pattern S matches the (concrete) target T: every attribute SUPERSET or EQUAL. */
export function cpeMatches(s: Wfn, t: Wfn): boolean {
  for (let i = 0; i < ATTRIBUTES.length; i++) {
    const r = compareValues(s[i]!, t[i]!);
    if (r !== 'superset' && r !== 'equal') return false;
  }
  return true;
}

/** Like {@link cpeMatches}, ignoring the version attribute (ranges decide it). */
export function cpeMatchesExceptVersion(s: Wfn, t: Wfn): boolean {
  for (let i = 0; i < ATTRIBUTES.length; i++) {
    if (i === 3) continue;
    const r = compareValues(s[i]!, t[i]!);
    if (r !== 'superset' && r !== 'equal') return false;
  }
  return true;
}
