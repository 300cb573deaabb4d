/**
 * Per-organisation sliding windows of recent observations, for patterns that span several
 * observations (FOLLOWEDBY, observation AND, REPEATS, with WITHIN). Bounded three ways: at most
 * `maxObservations` per organisation, none older than `maxAgeMs` before the newest, and at most
 * `maxOrganisations` windows (the least recently fed is dropped first). A pattern whose
 * observations lie further apart than these bounds is missed, never invented.
 */
import { scopeOrg } from '../scope.js';

export interface WindowOptions {
  readonly maxObservations?: number;
  readonly maxAgeMs?: number;
  readonly maxOrganisations?: number;
}

export const DEFAULT_WINDOW = { maxObservations: 256, maxAgeMs: 3_600_000, maxOrganisations: 10_000 } as const;

/** Anything with a time in ms (an observation, or an observation with per-indicator notes). */
export interface Timed {
  readonly time: number;
}

export class OrgWindows<T extends Timed> {
  private readonly windows = new Map<string, T[]>();
  private readonly maxObservations: number;
  private readonly maxAgeMs: number;
  private readonly maxOrganisations: number;

  constructor(options: WindowOptions = {}) {
    this.maxObservations = Math.max(1, options.maxObservations ?? DEFAULT_WINDOW.maxObservations);
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_WINDOW.maxAgeMs;
    this.maxOrganisations = Math.max(1, options.maxOrganisations ?? DEFAULT_WINDOW.maxOrganisations);
  }

  /** Appends `obs` to the organisation's window and returns the window (oldest first, `obs` last). */
  push(orgId: string, obs: T): readonly T[] {
    let w = this.windows.get(orgId);
    if (w === undefined) {
      if (this.windows.size >= this.maxOrganisations) {
        const oldest = this.windows.keys().next();
        if (oldest.done !== true) this.windows.delete(oldest.value);
      }
      w = [];
    } else {
      // Re-insert to keep Map order = least recently fed first.
      this.windows.delete(orgId);
    }
    this.windows.set(orgId, w);
    w.push(obs);
    while (w.length > this.maxObservations) w.shift();
    const floor = obs.time - this.maxAgeMs;
    while (w.length > 1 && (w[0]?.time ?? floor) < floor) w.shift();
    return w;
  }

  clear(): void {
    this.windows.clear();
  }

  /**
   * Drops the windows of the organisations `which` selects, their exercises' too (a partition
   * given up, scale/worker.ts; windows are kept per scope, detect/scope.ts).
   */
  forget(which: (orgId: string) => boolean): number {
    let n = 0;
    for (const scope of [...this.windows.keys()]) {
      if (which(scopeOrg(scope))) {
        this.windows.delete(scope);
        n++;
      }
    }
    return n;
  }

  stats(): { organisations: number; observations: number } {
    let observations = 0;
    for (const w of this.windows.values()) observations += w.length;
    return { organisations: this.windows.size, observations };
  }
}
