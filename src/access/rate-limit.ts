/**
 * Failed-authentication limiter per source address (sliding window, in memory per process).
 * After `limit` failures inside `windowMs`, further attempts from that source are refused
 * with 429 until the window passes — even with good credentials, so guessing gains nothing.
 */
import type { Clock } from '../core/clock.js';

export class FailureLimiter {
  readonly #hits = new Map<string, number[]>();
  constructor(private readonly opts: { limit: number; windowMs: number; clock: Clock }) {}

  #recent(source: string): number[] {
    const now = this.opts.clock.now();
    const list = (this.#hits.get(source) ?? []).filter((t) => now - t < this.opts.windowMs);
    if (list.length) this.#hits.set(source, list);
    else this.#hits.delete(source);
    return list;
  }

  /** Milliseconds until the source may try again, or 0 if it may try now. */
  blockedFor(source: string): number {
    const list = this.#recent(source);
    if (list.length < this.opts.limit) return 0;
    return Math.max(1, this.opts.windowMs - (this.opts.clock.now() - list[0]!));
  }

  fail(source: string): void {
    const list = this.#recent(source);
    list.push(this.opts.clock.now());
    this.#hits.set(source, list);
    if (this.#hits.size > 100_000) this.#hits.delete(this.#hits.keys().next().value as string);
  }
}
