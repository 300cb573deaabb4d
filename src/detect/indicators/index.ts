/**
 * Indicator matching: STIX 2.1 pattern indicators compiled into hash tables, prefix tries and
 * evaluator fallbacks, matched against normalised telemetry per organisation. See docs/detection.md.
 */
export { IndicatorIndex } from './matcher.js';
export type { AddResult, IndexOptions, IndexStats, IndicatorInput, IndicatorMatch, Release } from './types.js';
export { compilePattern, compileSimple } from './compile.js';
export type { Compiled, Key, Needle, PatternClass } from './compile.js';
export { observationOf } from './observe.js';
export { parseBlock, PrefixTrie } from './ip.js';
export type { Block } from './ip.js';
export { OrgWindows, DEFAULT_WINDOW } from './window.js';
export type { WindowOptions } from './window.js';
export { benchIndicatorMatching } from './bench.js';
export type { IndicatorBenchOptions, IndicatorBenchResult } from './bench.js';
