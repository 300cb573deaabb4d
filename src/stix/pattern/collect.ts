/**
 * Flattens the comparisons of a pattern, for building lookup indexes (e.g. an exact-match
 * index of `ipv4-addr:value = '…'` comparisons). Order is left to right as written.
 */
import type { ComparisonExpression, ComparisonOperator, Constant, PathStep, PatternAst } from './ast.js';
import { comparisonOperands, observationOperands } from './ast.js';
import { printObjectPath } from './print.js';

export interface PathComparison {
  readonly objectType: string;
  /** Steps after the object type. */
  readonly path: readonly PathStep[];
  /** The path as written canonically without the type, e.g. `hashes.'SHA-256'`. */
  readonly pathText: string;
  readonly operator: ComparisonOperator;
  readonly negated: boolean;
  /** One constant, the IN list, or null for EXISTS. */
  readonly value: Constant | readonly Constant[] | null;
}

function fromComparisons(e: ComparisonExpression, out: PathComparison[]): void {
  if (e.kind === 'comparison') {
    const full = printObjectPath(e.path);
    out.push({
      objectType: e.path.objectType,
      path: e.path.steps,
      pathText: full.slice(e.path.objectType.length + 1),
      operator: e.operator,
      negated: e.negated,
      value: e.value,
    });
    return;
  }
  for (const operand of comparisonOperands(e, e.kind)) fromComparisons(operand, out);
}

function walk(node: PatternAst, out: PathComparison[]): void {
  switch (node.kind) {
    case 'observation':
      fromComparisons(node.expression, out);
      return;
    case 'qualified':
      walk(node.expression, out);
      return;
    case 'and':
    case 'or':
    case 'followedby':
      for (const operand of observationOperands(node, node.kind)) walk(operand, out);
      return;
  }
}

/** Every simple comparison in the pattern with its object type, path, operator and value. */
export function collectObjectPaths(ast: PatternAst): PathComparison[] {
  const out: PathComparison[] = [];
  walk(ast, out);
  return out;
}
