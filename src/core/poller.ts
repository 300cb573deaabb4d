/**
 * A job run every few seconds in the background (feeds pulled on their schedule): one run at a
 * time (a tick while one runs is skipped), only while `active()` (several API processes on one
 * PostgreSQL: the one that runs the background jobs), the timer not keeping the process alive;
 * `stop()` aborts the run in progress (its `signal`) and waits for it.
 */
export abstract class Poller {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;
  readonly #abort = new AbortController();

  constructor(private readonly poll: { everyMs: number; active?: () => boolean }) {}

  /** Aborted by `stop()`. */
  protected get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** One run (also called by tests); a failure is the job's to record. */
  abstract tick(): Promise<unknown>;

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.poll.active && !this.poll.active()) return;
      this.#running ??= this.tick().catch(() => undefined).finally(() => (this.#running = null));
    }, this.poll.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }
}

/**
 * Whether a feed pulled every `intervalS` (0: only by hand) is due: never run, its interval
 * passed, or its last pull stopped at its time limit with more to read (it goes on at once);
 * never before `retryAtUs` (the server's Retry-After).
 */
export function isDue(intervalS: number, state: { more?: boolean; lastRunUs: number | null; retryAtUs?: number | null }, nowUs: number): boolean {
  if (intervalS === 0) return false;
  if (typeof state.retryAtUs === 'number' && nowUs < state.retryAtUs) return false;
  return state.more === true || state.lastRunUs === null || nowUs - state.lastRunUs >= intervalS * 1e6;
}
