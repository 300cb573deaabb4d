/**
 * AlertBook's writes (alert-book.ts): an alert it committed is updated without reading it back,
 * and a change made to it since (an analyst, another worker) is never overwritten: the write
 * compares revisions, and on a mismatch the update is made again from a fresh read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type RecordRow, type Store } from '../../store/index.js';
import { AlertBook, type Hit } from './alert-book.js';
import type { AlertDoc } from './alert-types.js';

const ORG = 'identity--11111111-1111-4111-8111-111111111111';
const BODY = 'identity--22222222-2222-4222-8222-222222222222';
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

const hit = (atMs: number): Hit => ({
  orgId: ORG, sensorId: 'fw', exerciseId: null, source: 'indicator', ref: 'indicator--33333333-3333-4333-8333-333333333333', title: 'C2 address',
  severity: 'high', techniques: ['T1071'], matched: { kind: 'indicator', indicatorId: 'indicator--33333333-3333-4333-8333-333333333333' } as unknown as Hit['matched'],
  entity: '10.0.0.5', recipients: [BODY], event: { '@timestamp': new Date(atMs).toISOString(), 'source.ip': '10.0.0.5' } as unknown as Hit['event'], atMs,
});

/** The store, counting the reads of records that go through it. */
function counting(store: Store): { tx: Store; reads: () => number } {
  let reads = 0;
  const tx = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'getRecord') return (id: string) => {
        reads++;
        return target.getRecord(id);
      };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { tx, reads: () => reads };
}

describe('AlertBook writes', () => {
  let store: Store;
  let book: AlertBook;
  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    book = new AlertBook(3_600_000);
    await book.load(store, T0);
  });
  afterEach(async () => {
    await store.close();
  });

  /** One flush in its own transaction, through the counting store; committed unless told. */
  const flush = async (o: { commit?: boolean } = {}) => {
    let reads = 0;
    let written: Awaited<ReturnType<AlertBook['flush']>> = [];
    const run = store.transaction(async (tx) => {
      const c = counting(tx);
      written = await book.flush(c.tx, T0 * 1000);
      reads = c.reads();
      if (o.commit === false) throw new Error('rolled back');
    });
    if (o.commit === false) await expect(run).rejects.toThrow('rolled back');
    else {
      await run;
      book.committed(written);
    }
    return { written, reads };
  };
  const stored = async (id: string) => {
    const r = (await store.getRecord(id))!;
    return { row: r, doc: JSON.parse(r.json) as AlertDoc, facts: await store.getAlertFacts(id) };
  };

  it('an alert it committed is updated without reading it back; its recipients stay', async () => {
    book.hit(hit(T0));
    const first = await flush();
    expect(first.written).toHaveLength(1);
    const id = first.written[0]!.row.id;
    for (let k = 1; k <= 3; k++) {
      book.hit(hit(T0 + k * 1000));
      book.hit(hit(T0 + k * 1000 + 1));
      const next = await flush();
      expect(next.reads).toBe(0);
      expect(next.written.map((w) => w.row.id)).toEqual([id]);
    }
    const s = await stored(id);
    expect(s.row.rev).toBe(4);
    expect(s.doc.count).toBe(7);
    expect(s.row.recipients).toEqual([BODY]);
    expect(s.facts).toMatchObject({ count: 7, lastUs: (T0 + 3001) * 1000 });
    expect(s.doc.samples.length).toBeGreaterThan(1);
  });

  it('a change made since it committed (an analyst) is read and kept, the counts added to it', async () => {
    book.hit(hit(T0));
    const id = (await flush()).written[0]!.row.id;
    // An analyst acknowledges it and releases it to nobody else.
    const cur = (await store.getRecord(id))!;
    const analyst: RecordRow = { ...cur, state: 'acknowledged', recipients: [], json: JSON.stringify({ ...(JSON.parse(cur.json) as AlertDoc), assignee: 'ana' }), rev: cur.rev + 1 };
    expect(await store.putRecord(analyst)).toBe(true);
    book.hit(hit(T0 + 1000));
    const next = await flush();
    expect(next.reads).toBe(1);
    const s = await stored(id);
    expect(s.row).toMatchObject({ rev: 3, state: 'acknowledged', recipients: [] });
    expect(s.doc).toMatchObject({ count: 2, assignee: 'ana' });
    // And the row it wrote then is known again: the next update reads nothing.
    book.hit(hit(T0 + 2000));
    expect((await flush()).reads).toBe(0);
    expect((await stored(id)).doc).toMatchObject({ count: 3, assignee: 'ana' });
  });

  it('a flush whose transaction rolled back is not taken as written: another writer\'s same revision is not overwritten', async () => {
    book.hit(hit(T0));
    const id = (await flush()).written[0]!.row.id;
    // This write (rev 2) rolls back...
    book.hit(hit(T0 + 1000));
    await flush({ commit: false });
    // ...and an analyst commits a rev 2 of their own.
    const cur = (await store.getRecord(id))!;
    expect(cur.rev).toBe(1);
    expect(await store.putRecord({ ...cur, state: 'escalated', rev: 2 })).toBe(true);
    book.hit(hit(T0 + 2000));
    const next = await flush();
    expect(next.reads).toBe(1);
    const s = await stored(id);
    expect(s.row).toMatchObject({ rev: 3, state: 'escalated' });
    expect(s.doc.count).toBe(2); // the first hit and the last: the rolled-back one is the engine's to replay
  });

  it('an alert deleted since (an exercise purged) is not written again', async () => {
    book.hit({ ...hit(T0), exerciseId: 'exercise--1' });
    const id = (await flush()).written[0]!.row.id;
    await store.purgeExercise('exercise--1');
    book.hit({ ...hit(T0 + 1000), exerciseId: 'exercise--1' });
    const next = await flush();
    expect(next.written).toEqual([]);
    expect(await store.getRecord(id)).toBeNull();
  });
});
