/**
 * First-seen memory of one (organisation, kind): value → last time seen, in least-recently-seen
 * order (a Map keeps insertion order; a hit re-inserts the value at most once per hour, which
 * keeps the order approximately LRU without a delete + insert on every event). At the cap the
 * least recently seen value is forgotten; if it comes back it is reported as new again, and the
 * finding says that values are being forgotten.
 */
import { HOUR_MS } from './types.js';

const REFRESH_MS = HOUR_MS;

export class KnownSet {
  readonly values = new Map<string, number>();
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

  /** Records `value` at `t`; true when it was not known. */
  touch(value: string, t: number, cap: number): boolean {
    this.observations++;
    const last = this.values.get(value);
    if (last !== undefined) {
      if (t - last >= REFRESH_MS) {
        this.values.delete(value);
        this.values.set(value, t);
      }
      return false;
    }
    this.values.set(value, t);
    if (this.values.size > cap) this.evictOldest(this.values.size - cap);
    return true;
  }

  evictOldest(n: number): void {
    let left = n;
    for (const k of this.values.keys()) {
      if (left-- <= 0) break;
      this.values.delete(k);
      this.evicted++;
    }
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
