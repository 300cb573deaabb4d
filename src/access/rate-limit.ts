/**
 * Failed-authentication limiter (sliding window, in memory per process; API processes sharing a
 * node tell each other their failures through NATS, or PostgreSQL notifications without NATS:
 * scale/shared-limits.ts) over any keys: after
 * `limit` failures of a key inside `windowMs`, further attempts under that key are refused
 * with 429 until the window passes — even with good credentials, so guessing gains nothing.
 * The access service keys it by account and address together, and more loosely by each alone
 * (`guardKeys`), so that one guesser behind a shared proxy does not lock everyone out.
 */
import type { Clock } from '../core/clock.js';

export class FailureLimiter {
  readonly #hits = new Map<string, number[]>();
  #share: ((source: string, atMs: number) => void) | null = null;
  constructor(private readonly opts: { limit: number; windowMs: number; clock: Clock }) {}

  /**
   * Several API processes (scale-out): `share` announces each local failure to the others, which
   * count it through `failElsewhere`, so N processes allow `limit` failures, not N × limit.
   */
  shareWith(share: ((source: string, atMs: number) => void) | null): void {
    this.#share = share;
  }

  /** A failure another process saw (its time, within this window). */
  failElsewhere(source: string, atMs: number): void {
    if (!Number.isFinite(atMs) || this.opts.clock.now() - atMs >= this.opts.windowMs) return;
    this.#record(source, atMs);
  }

  #recent(source: string): number[] {
    const now = this.opts.clock.now();
    const list = (this.#hits.get(source) ?? []).filter((t) => now - t < this.opts.windowMs);
    if (list.length) this.#hits.set(source, list);
    else this.#hits.delete(source);
    return list;
  }

  /** Milliseconds until the key may try again, or 0 if it may try now; `factor` × the limit applies. */
  blockedFor(source: string, factor = 1): number {
    const list = this.#recent(source);
    if (list.length < this.opts.limit * factor) return 0;
    return Math.max(1, this.opts.windowMs - (this.opts.clock.now() - list[0]!));
  }

  fail(source: string): void {
    const now = this.opts.clock.now();
    this.#record(source, now);
    this.#share?.(source, now);
  }

  #record(source: string, atMs: number): void {
    const list = this.#recent(source);
    list.push(atMs);
    list.sort((a, b) => a - b);
    this.#hits.set(source, list);
    if (this.#hits.size > 100_000) this.#hits.delete(this.#hits.keys().next().value as string);
  }
}

/** A spray over many accounts from one address, or a guess at one account from many, is held at this multiple of the limit. */
export const BROAD_FACTOR = 5;

/**
 * The keys one authentication attempt counts against, with their limits (× the configured
 * limit): the account at this address (1×), the address over all accounts (5×), the account
 * over all addresses (5×). Without an account (a token: 256 random bits, not guessable) only
 * the address counts.
 */
export function guardKeys(source: string, account: string | null): { key: string; factor: number }[] {
  const keys = [{ key: `addr ${source}`, factor: BROAD_FACTOR }];
  if (account) keys.push({ key: `pair ${account} ${source}`, factor: 1 }, { key: `acct ${account}`, factor: BROAD_FACTOR });
  return keys;
}
