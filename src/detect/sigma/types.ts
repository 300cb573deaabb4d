/** Public types of the Sigma engine. */
import type { Pred, Req } from './items.js';

/** A rule's `logsource` (spec "Log source"); `definition` is free text and never evaluated. */
export interface Logsource {
  readonly product?: string;
  readonly category?: string;
  readonly service?: string;
}

/**
 * What an event is, for routing: each key may list several values (a Sysmon EventID 13 is both
 * `registry_set` and `registry_event`).
 */
export interface EventLogsource {
  readonly product?: string | readonly string[];
  readonly category?: string | readonly string[];
  readonly service?: string | readonly string[];
  /**
   * Field names of this flavour for rule field names, e.g. `{Image: 'NewProcessName'}` for
   * Security 4688 seen by process_creation rules (part of the routing key).
   */
  readonly fieldMap?: Readonly<Record<string, string>>;
}

export type Level = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export interface RuleMeta {
  readonly id: string | undefined;
  readonly name: string | undefined;
  readonly title: string;
  readonly level: Level | undefined;
  readonly status: string | undefined;
  readonly tags: readonly string[];
  /** ATT&CK technique ids from `attack.tNNNN[.NNN]` tags, upper-cased (`T1059.001`). */
  readonly attack: readonly string[];
}

export interface DetectionRule extends RuleMeta {
  readonly kind: 'detection';
  readonly logsource: Logsource;
  readonly match: Pred;
  /** Literal substrings, one of which a matching event must contain (null: always evaluate). */
  readonly req: Req;
  /** Fields the rule reads (null: every value, for keyword searches). */
  readonly fields: readonly string[] | null;
}

export type CorrelationType =
  | 'event_count'
  | 'value_count'
  | 'temporal'
  | 'temporal_ordered'
  | 'value_sum'
  | 'value_avg'
  | 'value_percentile';

export type CompareOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';

export interface CorrelationRule extends RuleMeta {
  readonly kind: 'correlation';
  readonly type: CorrelationType;
  readonly rules: readonly string[];
  readonly groupBy: readonly string[];
  readonly timespanMs: number;
  /** All criteria must hold (a range such as {gt: 100, lte: 200} is accepted, see docs/sigma.md). */
  readonly condition: readonly { readonly op: CompareOp; readonly value: number }[];
  readonly field: readonly string[];
  /** alias -> (rule id or name -> field name). */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly generate: boolean;
}

export interface FilterRule {
  readonly kind: 'filter';
  readonly id: string | undefined;
  readonly title: string;
  readonly logsource: Logsource;
  readonly rules: readonly string[];
  readonly match: Pred;
}

export type SigmaItem = DetectionRule | CorrelationRule | FilterRule;

export interface RuleRef {
  readonly id: string | undefined;
  readonly title: string;
  readonly level: Level | undefined;
}

/** One alert. Correlation matches carry the group key and the base rule matches that built it. */
export interface SigmaMatch {
  readonly kind: 'detection' | 'correlation';
  readonly ruleId: string | undefined;
  readonly name: string | undefined;
  readonly title: string;
  readonly level: Level | undefined;
  readonly tags: readonly string[];
  readonly attack: readonly string[];
  readonly timeMs: number;
  readonly correlation?: {
    readonly type: CorrelationType;
    readonly groupKey: Readonly<Record<string, string>>;
    /** The aggregated value the condition was tested on (count, distinct count, sum, ...). */
    readonly value: number;
    readonly matches: readonly { readonly rule: RuleRef; readonly timeMs: number }[];
  };
}
