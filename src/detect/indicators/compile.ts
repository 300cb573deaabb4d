/**
 * Compilation of a STIX pattern (STIX 2.1 §9) into index keys:
 * - `exact`: `path = constant` and `path IN (…)` with string / number / boolean constants, not
 *   negated: one hash-table key per constant (STIX string equality is code-point equality, and
 *   numbers compare by value, so a JS Map lookup decides it exactly);
 * - `cidr`: `path ISSUBSET 'cidr'`, not negated: one trie block.
 * Keys of an OR are the union of its operands' keys (every operand must be keyable); keys of an
 * AND are those of one keyable operand (any match must satisfy it). A pattern is *pure* when it
 * is a plain OR of keyable comparisons in one observation: a key hit then IS a match. Otherwise
 * a key hit only selects the pattern for evaluation (`evaluatePattern` on the observation).
 * Patterns that need several observations (observation AND / FOLLOWEDBY, REPEATS n > 1) are
 * `sequence` patterns, evaluated over a sliding window of observations.
 */
import type { Comparison, ComparisonExpression, Constant, PatternAst, PathStep } from '../../stix/pattern/index.js';
import { collectObjectPaths } from '../../stix/pattern/index.js';
import { canonicalKeyValue, canonicalPattern } from './canonical.js';
import type { Block } from './ip.js';
import { parseBlock } from './ip.js';

export type Primitive = string | number | boolean;

export type Key =
  | { readonly kind: 'exact'; readonly objectType: string; readonly steps: readonly PathStep[]; readonly value: Primitive }
  | { readonly kind: 'cidr'; readonly objectType: string; readonly steps: readonly PathStep[]; readonly block: Block };

export type PatternClass = 'pure' | 'keyed' | 'scan' | 'sequence';

/** A literal that must occur in the value at a path for the pattern to match (LIKE prefilter). */
export interface Needle {
  readonly objectType: string;
  readonly steps: readonly PathStep[];
  /** `stepsKey(objectType, steps)`: needles on one path share one read of its values. */
  readonly pathKey: string;
  readonly text: string;
}

/**
 * One observation expression of a sequence pattern: evaluated alone on each new observation to
 * tell whether the observation takes part. `keys` (null: none) is a necessary condition checked
 * first; when `pure`, a key hit is the answer and the evaluator is not called.
 */
export interface Leaf {
  readonly ast: PatternAst;
  readonly keys: readonly Key[] | null;
  readonly pure: boolean;
}

export interface Compiled {
  readonly cls: PatternClass;
  /**
   * For keyed patterns that are an AND of keyable comparisons on one object type of which an
   * event has at most one SCO (see SINGLE): one key list per comparison. The pattern holds iff
   * every list has a key among the values at its path, so it is checked without the evaluator.
   */
  readonly conjunction: readonly (readonly Key[])[] | null;
  /** For scan patterns: a cheap necessary condition checked before evaluating. */
  readonly needle: Needle | null;
  /** Index keys (pure and keyed patterns). */
  readonly keys: readonly Key[];
  /** Object types the pattern compares (scan and sequence patterns are looked at only for these). */
  readonly types: readonly string[];
  /** The observation expressions of a sequence pattern, each as a one-observation pattern. */
  readonly leaves: readonly Leaf[];
  /**
   * For sequence patterns: whether a match is possible when the window holds matches of just
   * the leaves in `mask` (bit i = leaves[i]); AND / FOLLOWEDBY need both sides, OR either.
   * A cheap necessary condition checked before running the evaluator over the window.
   */
  readonly feasible: (mask: number) => boolean;
  /**
   * The pattern as it is matched: its address, domain-name and digest constants in the form
   * telemetry carries them (canonical.ts). Null from `compileSimple`, which needs no evaluator.
   */
  readonly ast: PatternAst | null;
}

function primitive(c: Constant): Primitive | undefined {
  switch (c.kind) {
    case 'string': case 'int': case 'float': case 'bool':
      return c.value;
    case 'timestamp': case 'binary': case 'hex':
      return undefined;
  }
}

function comparisonKeys(c: Comparison): Key[] | null {
  if (c.negated) return null;
  const base = { objectType: c.path.objectType, steps: c.path.steps };
  switch (c.operator) {
    case '=': {
      const v = primitive(c.value);
      if (v === undefined || (typeof v === 'number' && Number.isNaN(v))) return null;
      return [{ kind: 'exact', ...base, value: v }];
    }
    case 'IN': {
      const out: Key[] = [];
      const seen = new Set<Primitive>();
      for (const x of c.value) {
        const v = primitive(x);
        if (v === undefined) return null;
        if (!seen.has(v)) { seen.add(v); out.push({ kind: 'exact', ...base, value: v }); }
      }
      return out;
    }
    case 'ISSUBSET': {
      const block = c.value.kind === 'string' ? parseBlock(c.value.value) : null;
      return block === null ? null : [{ kind: 'cidr', ...base, block }];
    }
    case '!=': case '<': case '<=': case '>': case '>=': case 'LIKE': case 'MATCHES': case 'ISSUPERSET': case 'EXISTS':
      return null;
  }
}

function cost(keys: readonly Key[]): number {
  // Prefer exact keys (one hash probe each) over trie blocks, and fewer keys over more.

  // Strings (addresses, names, hashes) are selective; numbers and booleans (ports, flags) are not.
  let c = 0;
  for (const k of keys) c += k.kind === 'cidr' ? 4 : typeof k.value === 'string' ? 1 : 8;
  return c;
}

/**
 * Operands of a left-deep chain of one operator, found without recursion: IOC lists joined by
 * OR run to thousands of terms and must not exhaust the call stack.
 */
function chain<T extends { kind: string }>(node: T, kind: string): T[] {
  const out: T[] = [];
  let n: T = node;
  while (n.kind === kind) {
    const b = n as unknown as { left: T; right: T };
    out.push(b.right);
    n = b.left;
  }
  out.push(n);
  return out.reverse();
}

function expressionKeys(e: ComparisonExpression): Key[] | null {
  switch (e.kind) {
    case 'comparison':
      return comparisonKeys(e);
    case 'or': {
      const out: Key[] = [];
      for (const x of chain(e, 'or')) {
        const k = expressionKeys(x);
        if (k === null) return null;
        for (const y of k) out.push(y);
      }
      return out;
    }
    case 'and': {
      let best: Key[] | null = null;
      for (const x of chain(e, 'and')) {
        const k = expressionKeys(x);
        if (k !== null && (best === null || cost(k) < cost(best))) best = k;
      }
      return best;
    }
  }
}

/** A plain OR of keyable comparisons (no AND anywhere). */
function pureExpression(e: ComparisonExpression): boolean {
  switch (e.kind) {
    case 'comparison': return comparisonKeys(e) !== null;
    case 'or': return chain(e, 'or').every(pureExpression);
    case 'and': return false;
  }
}

function needsWindow(p: PatternAst): boolean {
  switch (p.kind) {
    case 'observation': return false;
    case 'and': case 'followedby': return true;
    case 'or': return chain(p, 'or').some(needsWindow);
    case 'qualified': return (p.qualifier.kind === 'repeats' && p.qualifier.times > 1) || needsWindow(p.expression);
  }
}

function patternKeys(p: PatternAst): Key[] | null {
  switch (p.kind) {
    case 'observation': return expressionKeys(p.expression);
    case 'qualified': return patternKeys(p.expression);
    case 'or': {
      const out: Key[] = [];
      for (const x of chain(p, 'or')) {
        const k = patternKeys(x);
        if (k === null) return null;
        for (const y of k) out.push(y);
      }
      return out;
    }
    case 'and': case 'followedby': return null;
  }
}

function purePattern(p: PatternAst): boolean {
  switch (p.kind) {
    case 'observation': return pureExpression(p.expression);
    case 'or': return chain(p, 'or').every(purePattern);
    case 'qualified': case 'and': case 'followedby': return false;
  }
}

function leavesOf(p: PatternAst, out: PatternAst[]): void {
  switch (p.kind) {
    case 'observation': out.push(p); return;
    case 'qualified': leavesOf(p.expression, out); return;
    case 'or': case 'and': case 'followedby': for (const x of chain(p, p.kind)) leavesOf(x, out); return;
  }
}

/** Classifies a parsed pattern and lists its index keys. */
export function compilePattern(parsed: PatternAst): Compiled {
  const ast = canonicalPattern(parsed);
  const types = [...new Set(collectObjectPaths(ast).map((c) => c.objectType))];
  if (needsWindow(ast)) {
    const asts: PatternAst[] = [];
    leavesOf(ast, asts);
    const leaves = asts.map((a) => ({ ast: a, keys: patternKeys(a), pure: purePattern(a) }));
    const counter = { next: 0 };
    const feasible = asts.length > 30 ? ALWAYS : feasibility(ast, counter);
    return { cls: 'sequence', needle: null, conjunction: null, keys: [], types, leaves, feasible, ast };
  }
  const keys = patternKeys(ast);
  if (keys === null) return { cls: 'scan', needle: patternNeedle(ast), conjunction: null, keys: [], types, leaves: NONE, feasible: ALWAYS, ast };
  const pure = purePattern(ast);
  return { cls: pure ? 'pure' : 'keyed', needle: null, conjunction: pure ? null : conjunctionOf(ast), keys, types: NONE, leaves: NONE, feasible: ALWAYS, ast };
}

const NONE: readonly never[] = Object.freeze([]);

/** Object types of which observe.ts puts at most one SCO in an observation. */
const SINGLE: ReadonlySet<string> = new Set(['network-traffic', 'url', 'user-account', 'windows-registry-key', 'x509-certificate']);

function conjunctionOf(ast: PatternAst): Key[][] | null {
  if (ast.kind !== 'observation') return null;
  const lists: Key[][] = [];
  for (const c of chain(ast.expression, 'and')) {
    if (c.kind !== 'comparison' || !SINGLE.has(c.path.objectType)) return null;
    const keys = comparisonKeys(c);
    if (keys === null || keys.length === 0) return null;
    lists.push(keys);
  }
  return lists;
}
const ALWAYS = (): boolean => true;

/** Builds `feasible` over the leaves numbered left to right, as `leavesOf` lists them. */
function feasibility(p: PatternAst, counter: { next: number }): (mask: number) => boolean {
  switch (p.kind) {
    case 'observation': {
      const bit = 1 << counter.next++;
      return (mask) => (mask & bit) !== 0;
    }
    case 'qualified':
      return feasibility(p.expression, counter);
    case 'or': case 'and': case 'followedby': {
      const parts = chain(p, p.kind).map((x) => feasibility(x, counter));
      return p.kind === 'or' ? (mask) => parts.some((f) => f(mask)) : (mask) => parts.every((f) => f(mask));
    }
  }
}

/**
 * `path LIKE 'a%bcd_e'` can only hold when the value contains every literal run of the pattern
 * (LIKE has no escape character in STIX: `%` and `_` are always wildcards); the longest run is
 * the needle. Found under AND (any operand's), not under OR or NOT.
 */
function expressionNeedle(e: ComparisonExpression): Needle | null {
  switch (e.kind) {
    case 'comparison': {
      if (e.negated || e.operator !== 'LIKE' || e.value.kind !== 'string') return null;
      let best = '';
      for (const run of e.value.value.split(/[%_]/)) if (run.length > best.length) best = run;
      return best.length >= 3 ? { objectType: e.path.objectType, steps: e.path.steps, pathKey: stepsKey(e.path.objectType, e.path.steps), text: best } : null;
    }
    case 'and': {
      let best: Needle | null = null;
      for (const x of chain(e, 'and')) {
        const n = expressionNeedle(x);
        if (n !== null && (best === null || n.text.length > best.text.length)) best = n;
      }
      return best;
    }
    case 'or':
      return null;
  }
}

function patternNeedle(p: PatternAst): Needle | null {
  switch (p.kind) {
    case 'observation': return expressionNeedle(p.expression);
    case 'qualified': return patternNeedle(p.expression);
    case 'and': case 'or': case 'followedby': return null;
  }
}

const SIMPLE_EQ = /^\[([a-z][a-z0-9-]{0,200}[a-z0-9]|[a-z]):(value|hashes\.'(MD5|SHA-1|SHA-256|SHA-512|SHA3-256|SHA3-512|SSDEEP|TLSH)'|hashes\.(MD5|SSDEEP|TLSH)) = '([^'\\]*)'\]$/;
const SIMPLE_SUBSET = /^\[(ipv4-addr|ipv6-addr):value ISSUBSET '([^'\\]*)'\]$/;
const STEPS = new Map<string, readonly PathStep[]>();

function steps(path: string, hash: string | undefined): readonly PathStep[] {
  const key = hash === undefined ? path : `hashes.${hash}`;
  let s = STEPS.get(key);
  if (s === undefined) {
    s = Object.freeze(hash === undefined ? [path] : ['hashes', hash]);
    STEPS.set(key, s);
  }
  return s;
}

/**
 * The compiled form of the two shapes that make up nearly every IOC feed, `[type:value = '…']`
 * (also `type:hashes.'SHA-256'`) and `[ipv4-addr:value ISSUBSET '…/n']`, recognised by a
 * regular expression without running the parser; null for anything else (use the parser).
 * Agrees with `compilePattern(parsePattern(p))` (property-tested).
 */
export function compileSimple(pattern: string): Compiled | null {
  const m = SIMPLE_EQ.exec(pattern);
  if (m !== null) {
    const objectType = m[1] ?? '';
    const hash = m[3] ?? m[4];
    const path = { objectType, steps: steps(hash === undefined ? 'value' : 'hashes', hash) };
    return { cls: 'pure', needle: null, conjunction: null, keys: [{ kind: 'exact', ...path, value: canonicalKeyValue(path, m[5] ?? '') }], types: NONE, leaves: NONE, feasible: ALWAYS, ast: null };
  }
  const c = SIMPLE_SUBSET.exec(pattern);
  if (c !== null) {
    const block = parseBlock(c[2] ?? '');
    if (block === null) return null;
    return { cls: 'pure', needle: null, conjunction: null, keys: [{ kind: 'cidr', objectType: c[1] ?? '', steps: steps('value', undefined), block }], types: NONE, leaves: NONE, feasible: ALWAYS, ast: null };
  }
  return null;
}

/** A stable text for a path (table key), e.g. `hashes.'SHA-256'` → `hashes\u0000SHA-256`. */
export function stepsKey(objectType: string, steps: readonly PathStep[]): string {
  return `${objectType}:${steps.map((s) => (s === '*' ? '\u0001*' : typeof s === 'number' ? `\u0001${s}` : s)).join('\u0000')}`;
}
