/**
 * First-seen memory of one (organisation, kind), bounded by two generations of at most cap/2
 * values each: a value is looked up in `current`, then in `previous` (a hit there moves it to
 * `current`); when `current` is full, `previous` is dropped whole and `current` becomes
 * `previous`. So the cap/2 most recently seen distinct values are always remembered, never more
 * than `cap`, every operation is O(1) — and no Map ever has its oldest keys deleted one by one
 * (deleting from the front of a JS Map leaves holes that later iteration walks: quadratic at scale).
 * A forgotten value that comes back is reported as new again; the finding says values are being
 * forgotten.
 */
import { HOUR_MS } from './types.js';

export class KnownSet {
  current = new Set<string>();
  previous = new Set<string>();
  /** Time of the first value of this kind (start of the learning period). */
  since: number;
  /** Values looked at (including repeats) since `since`. */
  observations = 0;
  /** Values forgotten at the cap. */
  evicted = 0;
  /** Hour window of the finding budget. */
  hourStart = 0;
  hourCount = 0;

  constructor(since: number) {
    this.since = since;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Records `value`; true when it was not known. */
  touch(value: string, cap: number): boolean {
    this.observations++;
    if (this.current.has(value)) return false;
    const known = this.previous.delete(value);
    this.insert(value, cap);
    return !known;
  }

  /** Adds to the current generation, rotating generations at cap/2. */
  insert(value: string, cap: number): void {
    const half = Math.max(1, Math.floor(cap / 2));
    if (this.current.size >= half) {
      this.evicted += this.previous.size;
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(value);
  }

  /** Takes one finding from the hourly budget; 'last' when this one exhausts it. */
  budget(t: number, perHour: number): 'ok' | 'last' | 'none' {
    if (t - this.hourStart >= HOUR_MS || t < this.hourStart) {
      this.hourStart = t;
      this.hourCount = 0;
    }
    if (this.hourCount >= perHour) return 'none';
    this.hourCount++;
    return this.hourCount === perHour ? 'last' : 'ok';
  }
}
