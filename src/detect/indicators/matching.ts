/** Per-event matching state of the index (one object per event). */
import type { Observation } from '../../stix/pattern/index.js';
import { evaluatePattern } from '../../stix/pattern/index.js';
import type { NormalisedEvent } from '../normalise/index.js';
import type { Entry, Indexed, Target } from './entry.js';
import { keyHolds, LeafRef } from './entry.js';
import { observationOf } from './observe.js';
import type { Key } from './compile.js';
import type { Probe } from './probe.js';
import type { IndicatorMatch } from './types.js';
import { traceRule } from '../trace.js';

/**
 * Per-event state: a fresh stamp (each indicator is considered once per event), the output, the
 * sequence leaves hit, and the observation (built on first need). One object per event.
 */
export class Matching {
  readonly out: IndicatorMatch[] = [];
  /** Sequence indicators → mask of their observation expressions this event matched. */
  leafHits: Map<Entry, number> | null = null;
  private obs: Observation | null = null;

  constructor(
    private readonly stamp: number,
    private readonly time: number,
    private readonly orgId: string,
    /** The event the observation is built from on first need (null: given by `useObservation`). */
    private readonly event: NormalisedEvent | null,
  ) {}

  useObservation(obs: Observation): this {
    this.obs = obs;
    return this;
  }

  observation(): Observation {
    if (this.obs === null) {
      if (this.event === null) throw new Error('Matching: no event and no observation');
      this.obs = observationOf(this.event);
    }
    return this.obs;
  }

  /** A keyed pattern's full check: by probes for conjunctions when the event is at hand, else the evaluator. */
  private verify(e: Entry): boolean {
    traceRule(e.id);
    if (e.conjunction !== null && this.event !== null) {
      const event = this.event;
      return e.conjunction.every((c) => conjunctHolds(c.probe, c.keys, event));
    }
    return e.ast !== null && evaluatePattern(e.ast, [this.observation()]) !== null;
  }

  admit(e: Indexed): boolean {
    if (e.stamp === this.stamp) return false;
    e.stamp = this.stamp;
    return this.time >= e.from && this.time < e.until && e.visible(this.orgId);
  }

  hit(t: Target, via: 'exact' | 'cidr', path: string, value: unknown): void {
    if (t instanceof LeafRef) {
      // A sequence's observation expression: noted whatever the audience (the window is the
      // organisation's own), verified unless the expression is exactly its keys.
      const bit = t.leaf < 30 ? 1 << t.leaf : 0x3fffffff;
      const hits = (this.leafHits ??= new Map());
      const mask = hits.get(t.entry) ?? 0;
      if ((mask & bit) === bit) return;
      const leaf = t.entry.leaves[t.leaf];
      if (leaf === undefined || (!leaf.pure && evaluatePattern(leaf.ast, [this.observation()]) === null)) return;
      hits.set(t.entry, mask | bit);
      return;
    }
    if (!this.admit(t)) return;
    if (t.cls === 'keyed' && !this.verify(t)) return;
    this.out.push({ indicatorId: t.id, via: t.cls === 'keyed' ? 'pattern' : via, path, value });
  }
}

/** One AND'd comparison of a conjunction: some value at its path equals a key or lies in its block. */
function conjunctHolds(probe: Probe, keys: readonly Key[], event: NormalisedEvent): boolean {
  const values: unknown[] = [];
  probe(event, values);
  for (const v of values) {
    for (const k of keys) if (keyHolds(k, v)) return true;
  }
  return false;
}
