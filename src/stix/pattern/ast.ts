/**
 * AST of a STIX 2.1 pattern (STIX 2.1 §9 "STIX Patterning").
 *
 * Two layers, each a discriminated union on `kind`:
 * - observation expressions (§9.3): `[ ... ]`, joined by AND / OR / FOLLOWEDBY, with qualifiers;
 * - comparison expressions (§9.2): an object path compared with a constant, joined by AND / OR.
 * Binary nodes are left-associative, as in the ANTLR grammar published with the spec.
 */

/** One step of an object path after the object type: a property name, a list index, or `[*]`. */
export type PathStep = string | number | '*';

/**
 * `file:extensions.'windows-pebinary-ext'.sections[*].entropy` is
 * `{ objectType: 'file', steps: ['extensions', 'windows-pebinary-ext', 'sections', '*', 'entropy'] }`.
 * A string step is always a property name and a number step a list index; `'*'` is the `[*]`
 * wildcard, which is why a property literally named `*` is rejected by the parser.
 */
export interface ObjectPath {
  readonly objectType: string;
  readonly steps: readonly PathStep[];
}

/** Constants (§9.1 table "Constants"). */
export type Constant =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** `t'...'`: `value` is the literal text, `micros` its instant in microseconds since the epoch. */
  | { readonly kind: 'timestamp'; readonly value: string; readonly micros: number }
  /** `b'...'`: `value` is the base64 text as written. */
  | { readonly kind: 'binary'; readonly value: string }
  /** `h'...'`: `value` is the hex digits as written. */
  | { readonly kind: 'hex'; readonly value: string };

export type OrderOperator = '<' | '<=' | '>' | '>=';
export type ComparisonOperator =
  | '='
  | '!='
  | OrderOperator
  | 'IN'
  | 'LIKE'
  | 'MATCHES'
  | 'ISSUBSET'
  | 'ISSUPERSET'
  | 'EXISTS';

/** A single comparison. `value` is a list for IN, null for EXISTS, one constant otherwise. */
export type Comparison =
  | {
      readonly kind: 'comparison';
      readonly path: ObjectPath;
      readonly operator: Exclude<ComparisonOperator, 'IN' | 'EXISTS'>;
      readonly negated: boolean;
      readonly value: Constant;
    }
  | {
      readonly kind: 'comparison';
      readonly path: ObjectPath;
      readonly operator: 'IN';
      readonly negated: boolean;
      readonly value: readonly Constant[];
    }
  | {
      readonly kind: 'comparison';
      readonly path: ObjectPath;
      readonly operator: 'EXISTS';
      readonly negated: boolean;
      readonly value: null;
    };

export interface ComparisonAnd {
  readonly kind: 'and';
  readonly left: ComparisonExpression;
  readonly right: ComparisonExpression;
}
export interface ComparisonOr {
  readonly kind: 'or';
  readonly left: ComparisonExpression;
  readonly right: ComparisonExpression;
}
export type ComparisonExpression = Comparison | ComparisonAnd | ComparisonOr;

export type Qualifier =
  | { readonly kind: 'within'; readonly seconds: number }
  | { readonly kind: 'repeats'; readonly times: number }
  | { readonly kind: 'startstop'; readonly start: Constant & { kind: 'timestamp' }; readonly stop: Constant & { kind: 'timestamp' } };

export interface ObservationNode {
  readonly kind: 'observation';
  readonly expression: ComparisonExpression;
}
export interface ObservationAnd {
  readonly kind: 'and';
  readonly left: PatternAst;
  readonly right: PatternAst;
}
export interface ObservationOr {
  readonly kind: 'or';
  readonly left: PatternAst;
  readonly right: PatternAst;
}
export interface FollowedBy {
  readonly kind: 'followedby';
  readonly left: PatternAst;
  readonly right: PatternAst;
}
export interface Qualified {
  readonly kind: 'qualified';
  readonly expression: PatternAst;
  readonly qualifier: Qualifier;
}

/** A whole pattern: an observation expression. */
export type PatternAst = ObservationNode | ObservationAnd | ObservationOr | FollowedBy | Qualified;

/** A syntax or semantic error; `position` is the 0-based UTF-16 offset where it was detected. */
export interface PatternError {
  message: string;
  position: number;
  /** 1-based line of `position`. */
  line?: number;
  /** 1-based column of `position`. */
  column?: number;
}

/**
 * The operands of a left-deep chain of one binary operator, left to right, found without
 * recursion: `a OR b OR c` parses as `or(or(a, b), c)` and yields `[a, b, c]`. Long chains
 * (IOC lists joined by OR run to thousands of terms) must not exhaust the call stack.
 */
export function comparisonOperands(node: ComparisonExpression, kind: 'and' | 'or'): ComparisonExpression[] {
  const out: ComparisonExpression[] = [];
  let n = node;
  while (n.kind !== 'comparison' && n.kind === kind) {
    out.push(n.right);
    n = n.left;
  }
  out.push(n);
  return out.reverse();
}

/** {@link comparisonOperands} for observation-level chains. */
export function observationOperands(node: PatternAst, kind: 'and' | 'or' | 'followedby'): PatternAst[] {
  const out: PatternAst[] = [];
  let n = node;
  while ((n.kind === 'and' || n.kind === 'or' || n.kind === 'followedby') && n.kind === kind) {
    out.push(n.right);
    n = n.left;
  }
  out.push(n);
  return out.reverse();
}
