/**
 * Evaluation of a pattern against a sequence of observations (STIX 2.1 §9.3, §9.5).
 *
 * - `[ … ]` matches one observation that holds an SCO set satisfying the comparison
 *   expression: a comparison yields the SCOs of its type that satisfy it, AND intersects and
 *   OR unites those sets (so AND'd comparisons must hold on the same SCO), and the
 *   observation matches when the set is not empty.
 * - Observation AND / FOLLOWEDBY combine matches of both sides that use distinct
 *   observations; FOLLOWEDBY also needs every left observation at or before every right one.
 *   OR takes the matches of either side.
 * - `WITHIN n SECONDS`: the observations used span at most n seconds (last − first ≤ n s).
 *   `REPEATS n TIMES`: n matches of the expression on pairwise distinct observations.
 *   `START a STOP b`: every observation used has a ≤ time < b.
 *
 * Algorithm: each node yields its list of matches ("bindings": a set of observation indexes
 * with their time span). Qualifier bounds are pushed down, so a WITHIN window prunes partial
 * combinations and START/STOP filters the leaves. Bound: at most {@link MAX_BINDINGS} bindings
 * are kept per node and REPEATS explores at most {@link MAX_REPEAT_STEPS} search steps;
 * beyond these a match may be missed (never invented). Normal cases (a few observations per
 * node) stay far below both.
 */
import type { ComparisonExpression, PatternAst } from './ast.js';
import { comparisonOperands, observationOperands } from './ast.js';
import { testComparison } from './compare.js';
import type { ScoLike } from './compare.js';

export interface Observation {
  /** The SCOs of the observation, keyed as in observed-data (`objects`) or by STIX id. */
  readonly objects: Readonly<Record<string, ScoLike>>;
  /** When it was observed, in milliseconds since the epoch. */
  readonly time: number;
}

export interface PatternMatch {
  /** Indexes into the observations array, ascending. */
  observations: number[];
}

export const MAX_BINDINGS = 2000;
export const MAX_REPEAT_STEPS = 100_000;

interface Binding {
  readonly obs: readonly number[];
  readonly min: number;
  readonly max: number;
}

interface Bounds {
  /** Longest span allowed, ms. */
  readonly window: number;
  /** Allowed times, microseconds: from (inclusive) … to (exclusive). */
  readonly from: number;
  readonly to: number;
}

function matchingObjects(expr: ComparisonExpression, objects: Readonly<Record<string, ScoLike>>): Set<string> {
  switch (expr.kind) {
    case 'comparison': {
      const out = new Set<string>();
      for (const key of Object.keys(objects)) {
        const obj = objects[key];
        if (obj !== undefined && obj.type === expr.path.objectType && testComparison(expr, obj, objects)) out.add(key);
      }
      return out;
    }
    case 'and': {
      const [first, ...rest] = comparisonOperands(expr, 'and');
      const acc = first === undefined ? new Set<string>() : matchingObjects(first, objects);
      for (const operand of rest) {
        if (acc.size === 0) return acc;
        const right = matchingObjects(operand, objects);
        for (const k of acc) if (!right.has(k)) acc.delete(k);
      }
      return acc;
    }
    case 'or': {
      const acc = new Set<string>();
      for (const operand of comparisonOperands(expr, 'or')) for (const k of matchingObjects(operand, objects)) acc.add(k);
      return acc;
    }
  }
}

function disjoint(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] ?? 0;
    const y = b[j] ?? 0;
    if (x === y) return false;
    if (x < y) i++;
    else j++;
  }
  return true;
}

function merge(a: Binding, b: Binding): Binding {
  return { obs: [...a.obs, ...b.obs].sort((x, y) => x - y), min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

class Collector {
  readonly out: Binding[] = [];
  private readonly seen = new Set<string>();
  add(b: Binding): boolean {
    const key = b.obs.join(',');
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.out.push(b);
    }
    return this.out.length < MAX_BINDINGS;
  }
}

class Evaluator {
  private readonly leafCache = new Map<ComparisonExpression, number[]>();

  constructor(private readonly observations: readonly Observation[]) {}

  private leaf(expr: ComparisonExpression): number[] {
    let hits = this.leafCache.get(expr);
    if (hits === undefined) {
      hits = [];
      for (let i = 0; i < this.observations.length; i++) {
        const o = this.observations[i];
        if (o !== undefined && Number.isFinite(o.time) && matchingObjects(expr, o.objects).size > 0) hits.push(i);
      }
      this.leafCache.set(expr, hits);
    }
    return hits;
  }

  run(node: PatternAst, b: Bounds): Binding[] {
    switch (node.kind) {
      case 'observation': {
        const out: Binding[] = [];
        for (const i of this.leaf(node.expression)) {
          const t = this.observations[i]?.time ?? NaN;
          if (t * 1000 >= b.from && t * 1000 < b.to) out.push({ obs: [i], min: t, max: t });
          if (out.length >= MAX_BINDINGS) break;
        }
        return out;
      }
      case 'or': {
        const c = new Collector();
        for (const operand of observationOperands(node, 'or')) {
          for (const x of this.run(operand, b)) if (!c.add(x)) return c.out;
        }
        return c.out;
      }
      case 'and':
      case 'followedby': {
        // Left-deep chains are folded iteratively, which is the left-associative reading.
        const [first, ...rest] = observationOperands(node, node.kind);
        let acc = first === undefined ? [] : this.run(first, b);
        for (const operand of rest) {
          if (acc.length === 0) return acc;
          acc = this.combine(acc, this.run(operand, b), node.kind === 'followedby', b.window);
        }
        return acc;
      }
      case 'qualified':
        return this.qualified(node, b);
    }
  }

  private combine(left: Binding[], right: Binding[], ordered: boolean, window: number): Binding[] {
    const c = new Collector();
    for (const l of left) {
      for (const r of right) {
        if (ordered && l.max > r.min) continue;
        if (Math.max(l.max, r.max) - Math.min(l.min, r.min) > window || !disjoint(l.obs, r.obs)) continue;
        if (!c.add(merge(l, r))) return c.out;
      }
    }
    return c.out;
  }

  private qualified(node: PatternAst & { kind: 'qualified' }, b: Bounds): Binding[] {
    const q = node.qualifier;
    switch (q.kind) {
      case 'within': {
        const window = Math.min(b.window, q.seconds * 1000);
        return this.run(node.expression, { ...b, window }).filter((x) => x.max - x.min <= window);
      }
      case 'startstop':
        return this.run(node.expression, {
          ...b,
          from: Math.max(b.from, q.start.micros),
          to: Math.min(b.to, q.stop.micros),
        });
      case 'repeats':
        return this.repeats(this.run(node.expression, b), q.times, b.window);
    }
  }

  /** Combinations of `n` pairwise-disjoint bindings whose union spans at most `window`. */
  private repeats(inner: Binding[], n: number, window: number): Binding[] {
    if (n === 1) return inner;
    if (inner.length < n) return [];
    const sorted = [...inner].sort((x, y) => x.min - y.min || x.max - y.max);
    const c = new Collector();
    let steps = 0;
    const chosen: Binding[] = [];
    const dfs = (from: number, acc: Binding | null): boolean => {
      if (chosen.length === n && acc !== null) return c.add(acc);
      for (let i = from; i <= sorted.length - (n - chosen.length); i++) {
        if (++steps > MAX_REPEAT_STEPS) return false;
        const x = sorted[i];
        if (x === undefined) continue;
        // Sorted by start: once a candidate starts beyond the window, later ones do too.
        if (acc !== null && x.min - acc.min > window) break;
        if (acc !== null && (Math.max(acc.max, x.max) - acc.min > window || !disjoint(acc.obs, x.obs))) continue;
        chosen.push(x);
        const keepGoing = dfs(i + 1, acc === null ? x : merge(acc, x));
        chosen.pop();
        if (!keepGoing) return false;
      }
      return true;
    };
    dfs(0, null);
    return c.out;
  }
}

/**
 * Evaluates a parsed pattern against observations; returns the observations of the first
 * match found, or null when the pattern does not match.
 *
 * @example
 * const r = parsePattern("[ipv4-addr:value = '198.51.100.1'] REPEATS 2 TIMES WITHIN 60 SECONDS");
 * if (r.ok) evaluatePattern(r.ast, observations); // { observations: [0, 3] } or null
 */
export function evaluatePattern(ast: PatternAst, observations: readonly Observation[]): PatternMatch | null {
  const bindings = new Evaluator(observations).run(ast, { window: Infinity, from: -Infinity, to: Infinity });
  const first = bindings[0];
  return first === undefined ? null : { observations: [...first.obs] };
}
