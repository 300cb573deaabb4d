/** Public surface of the Sigma engine (docs/sigma.md). */
export { parseSigmaRule, splitDocuments, parseTimespan } from './rule.js';
export type { ParseOptions, ParseResult } from './rule.js';
export { loadRulesDir } from './load.js';
export type { LoadFailure, LoadResult } from './load.js';
export { SigmaEngine } from './engine.js';
export type { EngineIssue, EngineOptions } from './engine.js';
export { ruleSeesEvent, windowsLogsource, eventLogsourceKey } from './logsource.js';
export { flattenWindowsEvent, splitConcatenatedJson } from './winevent.js';
export { EventView } from './event.js';
export type { SigmaEvent } from './event.js';
export { parseCondition } from './condition.js';
export type { CondNode } from './condition.js';
export { DEFAULT_LIMITS } from './correlation.js';
export type { CorrelationLimits } from './correlation.js';
export type { Placeholders } from './items.js';
export { benchSigma } from './bench.js';
export type { SigmaBenchResult } from './bench.js';
export type {
  CompareOp,
  CorrelationRule,
  CorrelationType,
  DetectionRule,
  EventLogsource,
  FilterRule,
  Level,
  Logsource,
  RuleMeta,
  RuleRef,
  SigmaItem,
  SigmaMatch,
} from './types.js';
