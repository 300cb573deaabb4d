/** Waiting in tests for something another process (or a background loop) does. */

export interface UntilOptions {
  /** How long to wait before giving up (default 15 s). */
  readonly ms?: number;
  /** How long to sleep between two probes (default 100 ms). */
  readonly everyMs?: number;
  /** What to add to the error when it times out: a child's output, the nodes' logs. */
  readonly diag?: () => string;
}

type Found<T> = Exclude<T, null | undefined | false>;

/**
 * Probes until `probe` gives something (anything but null, undefined or false) and returns it;
 * throws "timed out waiting for <what>" (with `diag()`) once `ms` have passed. The probe runs
 * at least once, and once more after the deadline, so a slow machine that gets there during the
 * last sleep still passes.
 */
export async function until<T>(what: string, probe: () => T | Promise<T>, o: UntilOptions = {}): Promise<Found<T>> {
  const ms = o.ms ?? 15_000;
  const deadline = Date.now() + ms;
  for (;;) {
    const late = Date.now() > deadline;
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v as Found<T>;
    if (late) {
      const more = o.diag?.() ?? '';
      throw new Error(`timed out waiting for ${what} (${ms} ms)${more ? `\n${more}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
}
