/**
 * Streaming evaluation of Sigma correlation rules (spec "Sigma correlation rules", v2.1.0):
 * event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile.
 *
 * Windows slide (spec: "the time frame should not be restricted to boundaries"): each group keeps
 * the base-rule hits of the last `timespan` ms, so a window ends at every arrival. After an alert
 * the group's window is emptied, so the next alert needs the condition met again by new hits.
 *
 * Memory bound (see docs/sigma.md): at most `maxGroups` group keys per correlation (least recently
 * used evicted) and at most `maxEntries` hits per group (oldest dropped first).
 */
import { scopeOrg } from '../scope.js';
import type { CompareOp, CorrelationRule, RuleRef, SigmaMatch } from './types.js';

export interface CorrelationLimits {
  readonly maxGroups: number;
  readonly maxEntries: number;
}

export const DEFAULT_LIMITS: CorrelationLimits = { maxGroups: 10_000, maxEntries: 10_000 };

/** A base-rule (or inner correlation) hit offered to a correlation. */
export interface Hit {
  /** Index of the referenced rule in the correlation's `rules` list. */
  readonly ref: number;
  readonly rule: RuleRef;
  readonly timeMs: number;
  readonly seq: number;
  /**
   * Whose events these are (the organisation): groups never mix scopes, so one organisation's
   * events never complete another's correlation — and a node partitioned by organisation gives
   * the same alerts as one engine seeing everything (docs/architecture.md "Scale-out").
   */
  readonly scope?: string;
  /** First string value of a field of the hit's event (undefined when absent). */
  readonly field: (name: string) => string | undefined;
}

interface Entry {
  readonly t: number;
  readonly seq: number;
  readonly ref: number;
  readonly value: string | undefined;
  readonly num: number;
  readonly rule: RuleRef;
}

interface Group {
  entries: Entry[];
  head: number;
  counts: Map<string, number>; // value_count / value_percentile: value -> hits in window
  refs: number[]; // temporal: ref index -> hits in window
  sum: number;
  key: Record<string, string>;
}

function holds(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'eq':
      return a === b;
    case 'neq':
      return a !== b;
  }
}

export class CorrelationState {
  readonly rule: CorrelationRule;
  private readonly groups = new Map<string, Group>();
  private readonly limits: CorrelationLimits;
  /** Referenced rule name/id as written, per ref index (for aliases). */
  private readonly refNames: readonly string[];
  /** Canonical target per ref index (same base rule listed twice shares one). */
  private readonly canon: readonly number[];

  constructor(rule: CorrelationRule, canon: readonly number[], limits: CorrelationLimits = DEFAULT_LIMITS) {
    this.rule = rule;
    this.refNames = rule.rules;
    this.canon = canon;
    // A count threshold above the per-group cap could never be reached: raise the cap to it
    // (only where the condition counts hits; value_sum thresholds are amounts, not counts).
    const counts = rule.type === 'event_count' || rule.type === 'value_count';
    const need = counts ? Math.max(0, ...rule.condition.map((c) => c.value + 1)) : 0;
    this.limits = { maxGroups: limits.maxGroups, maxEntries: Math.max(limits.maxEntries, Math.min(need, 1_000_000)) };
  }

  get groupCount(): number {
    return this.groups.size;
  }

  /** Drops the groups of the organisations `which` selects (their exercises' too: detect/scope.ts); returns how many. */
  forgetScopes(which: (orgId: string) => boolean): number {
    let n = 0;
    for (const key of [...this.groups.keys()]) {
      // A group's key is JSON [scope, ...group-by values] (feed).
      if (which(scopeOrg((JSON.parse(key) as string[])[0] ?? ''))) {
        this.groups.delete(key);
        n++;
      }
    }
    return n;
  }

  private fieldFor(name: string, ref: number): string {
    const aliases = this.rule.aliases;
    if (!Object.hasOwn(aliases, name)) return name;
    const alias = aliases[name] as Readonly<Record<string, string>>;
    const ruleRef = this.refNames[ref] as string;
    return Object.hasOwn(alias, ruleRef) ? (alias[ruleRef] as string) : name;
  }

  private valueOf(hit: Hit): string | undefined {
    const f = this.rule.field;
    if (f.length === 0) return undefined;
    if (f.length === 1) return hit.field(this.fieldFor(f[0] as string, hit.ref));
    const vs = f.map((n) => hit.field(this.fieldFor(n, hit.ref)));
    return vs.some((v) => v === undefined) ? undefined : JSON.stringify(vs);
  }

  private expire(g: Group, now: number): void {
    const from = now - this.rule.timespanMs;
    while (g.head < g.entries.length && (g.entries[g.head] as Entry).t < from) this.drop(g);
  }

  private drop(g: Group): void {
    const e = g.entries[g.head++] as Entry;
    if (e.value !== undefined) {
      const n = (g.counts.get(e.value) ?? 0) - 1;
      if (n <= 0) g.counts.delete(e.value);
      else g.counts.set(e.value, n);
    }
    g.sum -= e.num;
    g.refs[e.ref] = (g.refs[e.ref] ?? 1) - 1;
    if (g.head > 1024 && g.head * 2 > g.entries.length) {
      g.entries = g.entries.slice(g.head);
      g.head = 0;
    }
  }

  private size(g: Group): number {
    return g.entries.length - g.head;
  }

  private measure(g: Group, current: Entry): number | undefined {
    const r = this.rule;
    switch (r.type) {
      case 'event_count':
        return this.size(g);
      case 'value_count':
        return g.counts.size;
      case 'value_sum':
        return g.sum;
      case 'value_avg':
        return this.size(g) === 0 ? undefined : g.sum / this.size(g);
      case 'value_percentile': {
        // Share (in %) of the window's hits carrying the current value: "rare value" semantics of
        // the spec example (lte: 1 = seen in at most 1% of the group's events). See docs/sigma.md.
        if (current.value === undefined) return undefined;
        return (100 * (g.counts.get(current.value) ?? 0)) / this.size(g);
      }
      case 'temporal':
        return new Set(this.canon.filter((_c, i) => (g.refs[i] ?? 0) > 0)).size;
      case 'temporal_ordered': {
        // Greedy subsequence check in arrival order: rules[0] then rules[1] ... within the window.
        let j = 0;
        for (let i = g.head; i < g.entries.length && j < this.canon.length; i++) {
          if (this.canon[(g.entries[i] as Entry).ref] === this.canon[j]) j++;
        }
        return j;
      }
    }
  }

  private satisfied(v: number): boolean {
    const r = this.rule;
    if (r.condition.length === 0) return v >= new Set(this.canon).size && (r.type !== 'temporal_ordered' || v >= this.canon.length);
    return r.condition.every((c) => holds(c.op, v, c.value));
  }

  /** Offer one hit; returns the correlation alert when the condition becomes true. */
  feed(hit: Hit): SigmaMatch | null {
    const r = this.rule;
    const keyVals: Record<string, string> = {};
    for (const f of r.groupBy) keyVals[f] = hit.field(this.fieldFor(f, hit.ref)) ?? '';
    const key = JSON.stringify([hit.scope ?? '', ...r.groupBy.map((f) => keyVals[f])]);
    const value = this.valueOf(hit);
    const numeric = r.type === 'value_sum' || r.type === 'value_avg';
    let num = 0;
    if (numeric) {
      num = Number(value);
      if (value === undefined || !Number.isFinite(num)) return null; // non-numeric values do not count
    }
    if ((r.type === 'value_count' || r.type === 'value_percentile') && value === undefined) return null;

    let g = this.groups.get(key);
    if (g === undefined) {
      g = { entries: [], head: 0, counts: new Map(), refs: [], sum: 0, key: keyVals };
      if (this.groups.size >= this.limits.maxGroups) {
        const oldest = this.groups.keys().next().value;
        if (oldest !== undefined) this.groups.delete(oldest);
      }
    } else {
      this.groups.delete(key); // re-insert: Map order is the LRU order
    }
    this.groups.set(key, g);
    this.expire(g, hit.timeMs);
    const entry: Entry = { t: hit.timeMs, seq: hit.seq, ref: hit.ref, value, num, rule: hit.rule };
    g.entries.push(entry);
    if (value !== undefined && !numeric) g.counts.set(value, (g.counts.get(value) ?? 0) + 1);
    g.sum += num;
    g.refs[hit.ref] = (g.refs[hit.ref] ?? 0) + 1;
    while (this.size(g) > this.limits.maxEntries) this.drop(g);

    const v = this.measure(g, entry);
    if (v === undefined || !this.satisfied(v)) return null;
    const live = g.entries.slice(Math.max(g.head, g.entries.length - 100));
    const match: SigmaMatch = {
      kind: 'correlation',
      ruleId: r.id,
      name: r.name,
      title: r.title,
      level: r.level,
      tags: r.tags,
      attack: r.attack,
      timeMs: hit.timeMs,
      correlation: {
        type: r.type,
        groupKey: g.key,
        value: v,
        matches: live.map((e) => ({ rule: e.rule, timeMs: e.t })),
      },
    };
    this.groups.delete(key);
    return match;
  }
}
