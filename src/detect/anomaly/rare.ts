/**
 * Exponentially decayed value counts of one (organisation, field). Rather than decaying every
 * count, each observation adds a weight that grows over time, w(t) = 2^((t − ref) / halfLife); a
 * count divided by w(now) is the decayed count. When w grows large everything is divided by it
 * once (rebase) so numbers stay well inside double precision.
 *
 * Bounded: at `capacity` values the quarter with the smallest counts is dropped in one pass
 * (amortised O(log k) per new value). Only the rarest values are forgotten, and a forgotten value
 * that returns has count 0 — it is judged rare, which it was anyway.
 */
import { HOUR_MS } from './types.js';

export type RareKey = string | number;

export interface RareEntry {
  /** Weighted count (divide by the current weight for the decayed count). */
  c: number;
  /** When this value last raised a finding (-Infinity: never). */
  alertAt: number;
}

const REBASE_AT = 2 ** 40;

export class RareTable {
  readonly values = new Map<RareKey, RareEntry>();
  /** Reference time of the weights. */
  ref: number;
  /** Weighted total of all observations (forgotten values included). */
  total = 0;
  hourStart = 0;
  hourCount = 0;

  constructor(ref: number) {
    this.ref = ref;
  }

  private wT = Number.NaN;
  private wRef = Number.NaN;
  private wVal = 1;

  weight(t: number, halfLifeMs: number): number {
    // Events of one batch share a time: one pow per batch, not per event.
    if (t !== this.wT || this.ref !== this.wRef) {
      this.wT = t;
      this.wRef = this.ref;
      this.wVal = Math.pow(2, (t - this.ref) / halfLifeMs);
    }
    return this.wVal;
  }

  /** Decayed count of all observations at `t`. */
  effectiveTotal(t: number, halfLifeMs: number): number {
    return this.total / this.weight(t, halfLifeMs);
  }

  /** Share of the value just added among the observations before it (0: not tracked). */
  lastShare = 0;
  /** Decayed observations before the value just added. */
  lastN = 0;

  /**
   * Adds one observation of `key` at `t` and returns its entry; `lastShare` / `lastN` describe the
   * state before it (fields rather than a result object: this runs per event).
   */
  add(key: RareKey, t: number, o: { readonly halfLifeMs: number; readonly capacity: number }): RareEntry {
    let w = this.weight(t, o.halfLifeMs);
    if (w > REBASE_AT) {
      this.rebase(w, t);
      w = 1;
    }
    const n = this.total / w;
    let entry = this.values.get(key);
    const share = entry === undefined || this.total === 0 ? 0 : entry.c / this.total;
    if (entry === undefined) {
      if (this.values.size >= o.capacity) this.shrink(o.capacity);
      entry = { c: 0, alertAt: Number.NEGATIVE_INFINITY };
      this.values.set(key, entry);
    }
    entry.c += w;
    this.total += w;
    this.lastShare = share;
    this.lastN = n;
    return entry;
  }

  private rebase(w: number, t: number): void {
    for (const e of this.values.values()) e.c /= w;
    this.total /= w;
    this.ref = t;
  }

  /** Drops the quarter of values with the smallest counts (ties: the oldest entries first). */
  private shrink(capacity: number): void {
    const drop = Math.max(1, Math.floor(capacity / 4));
    const counts = Array.from(this.values.values(), (e) => e.c).sort((a, b) => a - b);
    const limit = counts[drop - 1] ?? 0;
    let left = drop;
    // Strictly below the limit first, then ties in insertion order: deterministic.
    for (const [k, e] of this.values) {
      if (left === 0) break;
      if (e.c < limit) {
        this.values.delete(k);
        left--;
      }
    }
    for (const [k, e] of this.values) {
      if (left === 0) break;
      if (e.c === limit) {
        this.values.delete(k);
        left--;
      }
    }
  }

  budget(t: number, perHour: number): boolean {
    if (t - this.hourStart >= HOUR_MS || t < this.hourStart) {
      this.hourStart = t;
      this.hourCount = 0;
    }
    if (this.hourCount >= perHour) return false;
    this.hourCount++;
    return true;
  }
}
