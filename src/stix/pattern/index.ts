/**
 * STIX 2.1 Patterning (STIX 2.1 §9): parser, printer, evaluator and comparison listing.
 */
export type {
  Comparison,
  ComparisonAnd,
  ComparisonExpression,
  ComparisonOperator,
  ComparisonOr,
  Constant,
  FollowedBy,
  ObjectPath,
  ObservationAnd,
  ObservationNode,
  ObservationOr,
  OrderOperator,
  PathStep,
  PatternAst,
  PatternError,
  Qualified,
  Qualifier,
} from './ast.js';
export { comparisonOperands, observationOperands } from './ast.js';
export { parsePattern, MAX_NESTING, MAX_PATTERN_LENGTH } from './parser.js';
export { formatPatternError } from './errors.js';
export { printPattern, printObjectPath, printConstant } from './print.js';
export { evaluatePattern, MAX_BINDINGS, MAX_REPEAT_STEPS } from './evaluate.js';
export type { Observation, PatternMatch } from './evaluate.js';
export type { ScoLike } from './compare.js';
export { resolvePath } from './compare.js';
export { collectObjectPaths } from './collect.js';
export type { PathComparison } from './collect.js';
export { MAX_MATCHES_INPUT } from './regex.js';
export { parseIpBlock, ipBlockWithin } from './cidr.js';
export type { IpBlock } from './cidr.js';
