import { describe, expect, it } from 'vitest';
import { Follower, type FollowSlice } from './follow.js';

const sleep = (ms: number) => new Promise<void>((r) => { setTimeout(r, ms); });

/** A store of `total` rows read by a cursor; records every slice. */
function source(total: { n: number }, opts: { sliceMs?: number } = {}) {
  const state = { cursor: 0, slices: [] as number[] };
  const slice = async (limit: number): Promise<FollowSlice> => {
    if (opts.sliceMs) {
      const until = performance.now() + opts.sliceMs;
      while (performance.now() < until) { /* busy, like a synchronous SQLite read */ }
    }
    const read = Math.min(limit, total.n - state.cursor);
    state.cursor += read;
    state.slices.push(read);
    return { read, more: state.cursor < total.n };
  };
  return { state, slice };
}

async function until(ms: number, cond: () => boolean): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(5);
  }
  return performance.now() - t0;
}

describe('Follower', () => {
  it('a nudge never runs the slice in the caller; it catches up once the writer is quiet', async () => {
    const total = { n: 250 };
    const src = source(total);
    const f = new Follower(src.slice, { quietMs: 30, minRows: 100, maxRows: 100 });
    f.nudge();
    expect(src.state.slices).toEqual([]);
    expect(f.pending).toBe(true);
    const ms = await until(1000, () => src.state.cursor === 250);
    expect(ms).toBeGreaterThanOrEqual(20);
    expect(src.state.slices).toEqual([100, 100, 50]);
    await f.idle();
    expect(f.pending).toBe(false);
    f.stop();
  });

  it('while nudges keep coming it reads one slice per busy interval, and everything once quiet', async () => {
    const total = { n: 0 };
    const src = source(total);
    const f = new Follower(src.slice, { quietMs: 40, busyEveryMs: 100, minRows: 10, maxRows: 10 });
    const t0 = performance.now();
    while (performance.now() - t0 < 450) {
      total.n += 10;
      f.nudge();
      await sleep(10);
    }
    const during = src.state.slices.length;
    // Not one slice per commit (~40 commits), but not starved either.
    expect(during).toBeGreaterThanOrEqual(2);
    expect(during).toBeLessThanOrEqual(8);
    expect(src.state.cursor).toBeLessThan(total.n);
    await until(2000, () => src.state.cursor === total.n);
    await f.idle();
    expect(f.pending).toBe(false);
    f.stop();
  });

  it('sync() reads everything now, joins a run in progress, and a failing slice is reported and retried', async () => {
    const total = { n: 35 };
    let fail = true;
    const src = source(total);
    const f = new Follower(async (limit) => {
      if (fail) throw new Error('disk on fire');
      return src.slice(limit);
    }, { minRows: 10, maxRows: 10 });
    await expect(f.sync()).rejects.toThrow('disk on fire');
    expect(f.lastError).toBeInstanceOf(Error);
    fail = false;
    const [a, b] = await Promise.all([f.sync(), f.sync()]);
    expect(a).toBe(35);
    expect(b).toBe(35);
    expect(src.state.slices).toEqual([10, 10, 10, 5, 0]); // the joined call asked for one more run
    expect(f.lastError).toBeNull();
    f.stop();
  });

  it('sizes slices by time: slow slices shrink to the floor, and stop() ends a run after the current slice', async () => {
    const total = { n: 100_000 };
    const src = source(total, { sliceMs: 8 });
    const f = new Follower(src.slice, { sliceMs: 2, minRows: 25, maxRows: 1000 });
    const run = f.sync();
    await until(2000, () => src.state.slices.length >= 4);
    f.stop();
    await run;
    expect(src.state.slices[0]).toBe(100);
    expect(src.state.slices.slice(1).every((n) => n <= 50)).toBe(true);
    expect(src.state.slices[src.state.slices.length - 1]).toBe(25);
    expect(src.state.cursor).toBeLessThan(total.n);
    // Stopped: nudges are ignored.
    const n = src.state.slices.length;
    f.nudge();
    await sleep(250);
    expect(src.state.slices.length).toBe(n);
  });
});
