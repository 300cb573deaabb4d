/**
 * The SQL spool as the detection engine reads it: every event once, in order, across chunks and
 * batches, events that arrive between reads, a batch that failed, a cursor another process moved.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type Store } from '../../store/index.js';
import { spoolLinesOf } from '../../store/spool-codec.js';
import { SpoolSource, SPOOL_CURSOR_KEY } from './source.js';

let store: Store;
beforeEach(async () => {
  store = await openSqliteStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

async function append(from: number, n: number): Promise<void> {
  const lines = Array.from({ length: n }, (_, i) => ({ event: `{"n":${from + i}}`, format: 'ecs' }));
  await store.appendIngest({ orgId: 'org', sensorId: 's', receivedUs: 1, exerciseId: null, ...spoolLinesOf(lines) });
}

/** Reads and commits batches until the source is empty; returns the events' numbers in order. */
async function drain(source: SpoolSource, limit: number): Promise<number[]> {
  const seen: number[] = [];
  for (;;) {
    const rows = await source.read(limit);
    if (rows.length === 0) return seen;
    for (const r of rows) seen.push((JSON.parse(r.event) as { n: number }).n);
    const last = rows[rows.length - 1]!.seq;
    await store.transaction((tx) => source.commit(tx, last));
    source.committed(last);
  }
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('SpoolSource', () => {
  it('reads every event once, in order, across chunks and batches of any size', async () => {
    await append(0, 7);
    await append(7, 3);
    await append(10, 12);
    const source = await SpoolSource.open(store);
    expect(await drain(source, 5)).toEqual(range(0, 22));
    expect(await store.getMeta(SPOOL_CURSOR_KEY)).toBe(String(source.position));
  });

  it('reads events that came between two reads, in the next read', async () => {
    await append(0, 4);
    const source = await SpoolSource.open(store);
    const rows = await source.read(10);
    expect(rows).toHaveLength(4);
    // A sensor sends more while the batch is matched.
    await new Promise((r) => setTimeout(r, 20));
    await append(4, 3);
    await store.transaction((tx) => source.commit(tx, rows[3]!.seq));
    source.committed(rows[3]!.seq);
    expect((await source.read(10)).map((r) => r.event)).toEqual(range(4, 3).map((n) => `{"n":${n}}`));
    await append(7, 2);
    expect(await drain(source, 10)).toEqual(range(4, 5));
  });

  it('gives a batch whose transaction failed again, then goes on', async () => {
    await append(0, 6);
    await append(6, 6);
    const source = await SpoolSource.open(store);
    const first = await source.read(6);
    await expect(store.transaction(async (tx) => {
      await source.commit(tx, first[first.length - 1]!.seq);
      throw new Error('alerts could not be written');
    })).rejects.toThrow(/alerts/);
    await source.reset();
    expect(await drain(source, 6)).toEqual(range(0, 12));
  });

  it('follows a cursor moved by another process instead of what it had read ahead', async () => {
    await append(0, 5);
    await append(5, 5);
    await append(10, 5);
    const source = await SpoolSource.open(store);
    const rows = await source.read(5);
    expect(rows.map((r) => r.event)).toEqual(range(0, 5).map((n) => `{"n":${n}}`));
    // Another worker processed the first two chunks meanwhile.
    const second = await store.readIngest(rows[4]!.seq, 5);
    await store.setMeta(SPOOL_CURSOR_KEY, String(second[4]!.seq));
    await expect(store.transaction((tx) => source.commit(tx, rows[4]!.seq))).rejects.toThrow(/moved/);
    await source.reset();
    expect(await drain(source, 5)).toEqual(range(10, 5));
  });
});
