/**
 * A background job that follows the store by a cursor (date_added) in slices: the correlation
 * index and the indicator feed. Commits only nudge it, so a write never pays for indexing
 * (issue #8 item 5); the index converges shortly after the writer goes quiet.
 *
 * Scheduling, on the one event loop that also answers HTTP:
 * - after a nudge, the follower waits until no nudge came for `quietMs`, then reads slice after
 *   slice until it has caught up, yielding the event loop between slices (a request waits for
 *   one slice at most, never for the whole backlog);
 * - while nudges keep coming (a bulk import, a continuous federation pull), it still reads one
 *   slice every `busyEveryMs`, so a writer that never pauses cannot starve the index, and costs
 *   the writer only that share of the loop;
 * - `sync()` catches up at once (a read that depends on the index, e.g. detection of events
 *   accepted after an indicator commit, or a test).
 * One run at a time: a `sync()` during a run joins it and runs once more after it.
 */

/** One slice: how many rows it read and whether more are known to remain. */
export interface FollowSlice {
  read: number;
  more: boolean;
}

export interface FollowerOptions {
  /** Catch up once no nudge came for this long (ms). */
  quietMs?: number;
  /** While nudges keep coming, one slice at most this often (ms). */
  busyEveryMs?: number;
  /** Rows per slice: the follower sizes slices to take about `sliceMs` each, within these bounds. */
  minRows?: number;
  maxRows?: number;
  /** Target duration of one slice (ms): about how long a request may wait behind the index. */
  sliceMs?: number;
}

/** Reads the next slice of at most `limit` rows. */
export type SliceFn = (limit: number) => Promise<FollowSlice>;

/** How far one index is behind the store (GET /api/v1/system). */
export interface IndexStatus {
  name: string;
  /** date_added (µs) of the last object version the index has read; 0 = none yet. */
  cursorUs: number;
  /** Object versions stored after the cursor that the index reads. */
  behind: number;
  /** Age (ms, by the injected clock) of the oldest version not read yet; 0 when none. */
  lagMs: number;
  /** True when it has read everything the store held when asked. */
  ready: boolean;
  /** The last failure of a slice, if the last run failed. */
  error: string | null;
}

const DEFAULT_QUIET_MS = 100;
const DEFAULT_BUSY_EVERY_MS = 500;
const DEFAULT_SLICE_MS = 15;

const nextTurn = () => new Promise<void>((resolve) => { setImmediate(resolve); });
const sleep = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms).unref(); });

/** Longest a follower defers its next slice to requests in progress (ms): it is never starved. */
const MAX_DEFER_MS = 200;

/**
 * Requests in progress on this process's event loop (the HTTP layer enters and leaves). Followers
 * read their next slice only when none is in progress, or after MAX_DEFER_MS: indexing runs at a
 * lower priority than answering, so a request waits for at most the slice already running.
 */
class Foreground {
  #active = 0;
  enter(): void {
    this.#active++;
  }
  leave(): void {
    if (this.#active > 0) this.#active--;
  }
  get busy(): boolean {
    return this.#active > 0;
  }
}

export const foreground = new Foreground();

/** Waits (bounded) until no request is in progress. */
async function yieldToForeground(): Promise<void> {
  await nextTurn();
  const t0 = performance.now();
  while (foreground.busy && performance.now() - t0 < MAX_DEFER_MS) await sleep(2);
}

export class Follower {
  readonly #sliceFn: SliceFn;
  readonly #quietMs: number;
  readonly #busyEveryMs: number;
  readonly #minRows: number;
  readonly #maxRows: number;
  readonly #sliceMs: number;
  /** Rows of the next slice, adapted to the time slices take on this machine now. */
  #limit: number;
  #timer: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #lastNudge = 0;
  #lastSlice = 0;
  /** Nudges so far, and the count when the last complete catch-up started. */
  #nudges = 0;
  #cleanAt = -1;
  #running: Promise<number> | null = null;
  /** A single paced slice in progress (busy writer). */
  #slicing: Promise<void> | null = null;
  #again = false;
  /** A caller waits for the current run: it does not defer to requests in progress. */
  #forced = false;
  #stopped = false;
  #lastError: unknown = null;

  constructor(slice: SliceFn, opts: FollowerOptions = {}) {
    this.#sliceFn = slice;
    this.#quietMs = opts.quietMs ?? DEFAULT_QUIET_MS;
    this.#busyEveryMs = opts.busyEveryMs ?? DEFAULT_BUSY_EVERY_MS;
    this.#minRows = opts.minRows ?? 20;
    this.#maxRows = opts.maxRows ?? 1000;
    this.#sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
    this.#limit = Math.min(this.#maxRows, Math.max(this.#minRows, 100));
  }

  /** One slice, and the size of the next one from how long this one took. */
  async #slice(): Promise<FollowSlice> {
    const t0 = performance.now();
    const limit = this.#limit;
    const s = await this.#sliceFn(limit);
    const ms = performance.now() - t0;
    if (s.read >= limit && ms > 0) {
      // Grow at most ×2 per slice, shrink at once: a busy machine makes slices slow.
      const next = Math.round(limit * Math.min(2, this.#sliceMs / ms));
      this.#limit = Math.min(this.#maxRows, Math.max(this.#minRows, next));
    }
    return s;
  }

  /** True when a nudge came after the last complete catch-up started (known rows may be unread). */
  get pending(): boolean {
    return this.#cleanAt !== this.#nudges;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /** Something was committed (or may have been, by another process): catch up when quiet. */
  nudge(): void {
    if (this.#stopped) return;
    this.#nudges++;
    this.#lastNudge = performance.now();
    this.#arm(this.#quietMs);
  }

  /**
   * Reads slices until caught up, now. Resolves with the rows read; rejects with a slice's
   * failure. `force`: a reader waits for the result, so do not defer to other requests first.
   */
  sync(force = true): Promise<number> {
    if (force) this.#forced = true;
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = async (): Promise<number> => {
      // A paced slice may be reading: wait for it rather than read the same rows twice.
      while (this.#slicing) await this.#slicing;
      if (!this.#forced) await yieldToForeground();
      let total = 0;
      do {
        this.#again = false;
        const startedAt = this.#nudges;
        for (;;) {
          const s = await this.#slice();
          this.#lastSlice = performance.now();
          total += s.read;
          if (!s.more || this.#stopped) break;
          // Someone waits for this run (a read, detection): only let the loop turn.
          if (this.#forced) await nextTurn();
          else await yieldToForeground();
        }
        this.#cleanAt = startedAt;
      } while (this.#again);
      return total;
    };
    this.#running = run().then(
      (n) => { this.#lastError = null; return n; },
      (e: unknown) => { this.#lastError = e; throw e; },
    ).finally(() => {
      this.#running = null;
      this.#forced = false;
    });
    return this.#running;
  }

  /**
   * Waits for a run in progress; a running follower with nudges not yet read catches up first
   * (tests). A stopped one only finishes its current slice (shutdown never waits for a backlog).
   */
  async idle(): Promise<void> {
    if (!this.#stopped && this.pending) await this.sync().catch(() => undefined);
    while (this.#running || this.#slicing) {
      await this.#slicing;
      await this.#running?.catch(() => undefined);
    }
  }

  /**
   * Also nudges every `pollMs`: other processes (the CLI, another API process) write to the
   * same store without telling this one. The first poll is after `pollMs` (a server nudges once
   * it listens, so a backlog is not read while it starts). Also restarts a stopped follower.
   */
  poll(pollMs: number): void {
    this.#stopped = false; // (re)started
    if (this.#poll) return;
    this.#poll = setInterval(() => this.nudge(), pollMs);
    this.#poll.unref();
  }

  /** No more scheduled runs (a `sync()` still works). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poll) clearInterval(this.#poll);
    this.#timer = null;
    this.#poll = null;
  }

  #arm(ms: number): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#tick();
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#running || this.#slicing) {
      if (!this.#stopped) this.#arm(this.#quietMs);
      return;
    }
    const now = performance.now();
    const quietFor = now - this.#lastNudge;
    if (quietFor >= this.#quietMs) {
      await this.sync(false).catch(() => undefined);
      // A failed run is retried on the next nudge or sync; nudges during the run re-armed the timer.
      return;
    }
    // The writer is still busy: one slice when it is due, then look again.
    const due = this.#busyEveryMs - (now - this.#lastSlice);
    if (due <= 0) {
      await yieldToForeground();
      if (this.#stopped || this.#running || this.#slicing) return this.#arm(this.#quietMs);
      const startedAt = this.#nudges;
      this.#slicing = this.#slice().then((s) => {
        this.#lastError = null;
        if (!s.more && startedAt === this.#nudges) this.#cleanAt = startedAt;
      }, (e: unknown) => { this.#lastError = e; }).finally(() => {
        this.#lastSlice = performance.now();
        this.#slicing = null;
      });
      await this.#slicing;
    }
    this.#arm(Math.max(1, Math.min(this.#quietMs - (performance.now() - this.#lastNudge), due > 0 ? due : this.#busyEveryMs)));
  }
}
