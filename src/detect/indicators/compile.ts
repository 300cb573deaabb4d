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
import type { Block } from './ip.js';
import { parseBlock } from './ip.js';

export type Primitive = string | number | boolean;

export type Key =
  | { readonly kind: 'exact'; readonly objectType: string; readonly steps: readonly PathStep[]; readonly value: Primitive }
  | { readonly kind: 'cidr'; readonly objectType: string; readonly steps: readonly PathStep[]; readonly block: Block };

export type PatternClass = 'pure' | 'keyed' | 'scan' | 'sequence';

export interface Compiled {
  readonly cls: PatternClass;
  /** Index keys (pure and keyed patterns). */
  readonly keys: readonly Key[];
  /** Object types the pattern compares (scan and sequence patterns are looked at only for these). */
  readonly types: readonly string[];
  /** The observation expressions of a sequence pattern, each as a one-observation pattern. */
  readonly leaves: readonly PatternAst[];
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
export function compilePattern(ast: PatternAst): Compiled {
  const types = [...new Set(collectObjectPaths(ast).map((c) => c.objectType))];
  if (needsWindow(ast)) {
    const leaves: PatternAst[] = [];
    leavesOf(ast, leaves);
    return { cls: 'sequence', keys: [], types, leaves };
  }
  const keys = patternKeys(ast);
  if (keys === null) return { cls: 'scan', keys: [], types, leaves: [] };
  return { cls: purePattern(ast) ? 'pure' : 'keyed', keys, types, leaves: [] };
}

/** A stable text for a path (table key), e.g. `hashes.'SHA-256'` → `hashes\u0000SHA-256`. */
export function stepsKey(objectType: string, steps: readonly PathStep[]): string {
  return `${objectType}:${steps.map((s) => (s === '*' ? '\u0001*' : typeof s === 'number' ? `\u0001${s}` : s)).join('\u0000')}`;
}
