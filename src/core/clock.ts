/**
 * One clock (DESIGN §2.6): time comes from an injected clock so that exercises can run
 * accelerated and tests are deterministic. Nothing else calls Date.now().
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that only moves when told to; for tests and exercises. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start: number | string) {
    this.#t = typeof start === 'number' ? start : Date.parse(start);
  }
  now(): number {
    return this.#t;
  }
  advance(ms: number): void {
    this.#t += ms;
  }
  set(t: number | string): void {
    this.#t = typeof t === 'number' ? t : Date.parse(t);
  }
}
