/**
 * Failed-authentication limiter (sliding window, in memory per process) over any keys: after
 * `limit` failures of a key inside `windowMs`, further attempts under that key are refused
 * with 429 until the window passes — even with good credentials, so guessing gains nothing.
 * The access service keys it by account and address together, and more loosely by each alone
 * (`guardKeys`), so that one guesser behind a shared proxy does not lock everyone out.
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

  /** Milliseconds until the key may try again, or 0 if it may try now; `factor` × the limit applies. */
  blockedFor(source: string, factor = 1): number {
    const list = this.#recent(source);
    if (list.length < this.opts.limit * factor) return 0;
    return Math.max(1, this.opts.windowMs - (this.opts.clock.now() - list[0]!));
  }

  fail(source: string): void {
    const list = this.#recent(source);
    list.push(this.opts.clock.now());
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
