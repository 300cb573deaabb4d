/**
 * The partition source on a real JetStream with an SQLite store: reads in stream order after the
 * high-water mark, a new owner replays the events before the mark (warm-up) and continues after
 * it, and a stale owner's commit of the same chunk fails (the fence), so a chunk counts once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type IngestRow, type Store } from '../store/index.js';
import { NATS_URL, mustRun, natsAvailable, uniquePrefix } from '../../test/helpers/nats.js';
import { splitEventSeq } from './codec.js';
import { hwmKey, JetStreamSource, streamKey } from './jetstream-source.js';
import { openNats, type NatsLink } from './nats.js';
import { partitionOf } from './partition.js';
import { StreamPublisher } from './publisher.js';

const up = await natsAvailable();
if (!up && mustRun()) throw new Error(`NATS is required in CI and does not answer at ${NATS_URL}`);
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function readSome(s: JetStreamSource): Promise<readonly IngestRow[]> {
  for (let i = 0; i < 100; i++) {
    s.beginRound(1_000);
    const rows = await s.read(1);
    if (rows.length > 0) return rows;
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}

/** A stream of its own (deleted after the file) and an in-memory store. */
async function streamAndStore(prefix: string, partitions: number): Promise<{ link: NatsLink; store: Store }> {
  const link = await openNats({ url: NATS_URL, prefix: uniquePrefix(prefix), partitions, maxBytes: 1 << 26, maxAgeMs: 3_600_000, name: 'source test' });
  closers.push(async () => {
    await link.jsm.streams.delete(link.names.stream).catch(() => undefined);
    await link.close();
  });
  const store = await openSqliteStore(':memory:');
  closers.push(() => store.close());
  return { link, store };
}

describe.runIf(up)('JetStreamSource', () => {
  it('reads after the mark in order, warms a new owner, and fences a stale one', async () => {
    const { link, store } = await streamAndStore('src', 4);
    const org = 'identity--0a000000-0000-4000-8000-0000000000aa';
    const p = partitionOf(org, 4);
    const pub = new StreamPublisher(link);
    const meta = { orgId: org, sensorId: 'fw-1', receivedUs: Date.now() * 1000, exerciseId: null };
    for (let i = 1; i <= 3; i++) await pub.append(meta, [{ format: 'ecs', event: `{"n":${i}}` }], `chunk-${i}`);

    const warmedA: IngestRow[] = [];
    const takenA: number[] = [];
    const a = new JetStreamSource({ link, store, warmMs: () => 3_600_000, onWarm: (r) => warmedA.push(...r), onTake: (x) => { takenA.push(x); } });
    closers.push(() => a.close());
    await a.own(p);
    expect(warmedA).toEqual([]); // nothing processed yet
    expect(takenA).toEqual([p]); // told before any replay: the matchers drop what they held of p
    const first = await readSome(a);
    expect(first.map((r) => r.event)).toEqual(['{"n":1}']);
    await store.transaction(async (tx) => a.commit(tx, first[0]!.seq));
    a.committed(first[0]!.seq);
    // The mark is the message's stream sequence; an event's seq also names its line in it.
    expect(await store.getMeta(hwmKey(link.names.prefix, p))).toBe(String(splitEventSeq(first[0]!.seq).streamSeq));
    expect(splitEventSeq(first[0]!.seq).line).toBe(0);

    // B takes the partition over (A still runs: its lease was lost, it does not know yet).
    const warmedB: IngestRow[] = [];
    const b = new JetStreamSource({ link, store, warmMs: () => 3_600_000, onWarm: (r) => warmedB.push(...r) });
    closers.push(() => b.close());
    await b.own(p);
    expect(warmedB.map((r) => r.event)).toEqual(['{"n":1}']); // replayed for state, not re-processed
    const bRows = await readSome(b);
    const aRows = await readSome(a);
    expect(bRows.map((r) => r.event)).toEqual(['{"n":2}']);
    expect(aRows.map((r) => r.event)).toEqual(['{"n":2}']);
    await store.transaction(async (tx) => b.commit(tx, bRows[0]!.seq));
    b.committed(bRows[0]!.seq);
    // The stale owner's transaction fails on the mark and rolls back (with the alerts it held).
    await expect(store.transaction(async (tx) => {
      await tx.setMeta('written-by-stale-owner', 'yes');
      await a.commit(tx, aRows[0]!.seq);
    })).rejects.toThrow(/moved past/);
    expect(await store.getMeta('written-by-stale-owner')).toBeNull();
    // After a failed transaction the source re-reads from the stored mark: chunk 3 next, never 2 again.
    warmedA.length = 0;
    await a.reset();
    // And takes the partition afresh: its matchers saw the failed batch's events, so they drop
    // what they hold of p and replay up to the mark (chunks 1 and 2, not A's failed read again).
    expect(takenA).toEqual([p, p]);
    expect(warmedA.map((r) => r.event)).toEqual(['{"n":1}', '{"n":2}']);
    expect((await readSome(b)).map((r) => r.event)).toEqual(['{"n":3}']);
  }, 30_000);

  it('takes one batch from several partitions, in stream order, and moves each partition\'s mark in its one transaction', async () => {
    const { link, store } = await streamAndStore('multi', 4);
    // Two organisations on two different partitions.
    const orgs: string[] = [];
    for (let i = 0; orgs.length < 2; i++) {
      const o = `identity--0a000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      if (orgs.every((x) => partitionOf(x, 4) !== partitionOf(o, 4))) orgs.push(o);
    }
    const pub = new StreamPublisher(link);
    const meta = (orgId: string) => ({ orgId, sensorId: 'fw-1', receivedUs: Date.now() * 1000, exerciseId: null });
    await pub.append(meta(orgs[0]!), [{ format: 'ecs', event: '{"a":1}' }, { format: 'ecs', event: '{"a":2}' }], 'a-1');
    await pub.append(meta(orgs[1]!), [{ format: 'ecs', event: '{"b":1}' }], 'b-1');
    await pub.append(meta(orgs[0]!), [{ format: 'ecs', event: '{"a":3}' }], 'a-2');
    const src = new JetStreamSource({ link, store, warmMs: () => 0, onWarm: () => undefined });
    closers.push(() => src.close());
    for (const o of orgs) await src.own(partitionOf(o, 4));
    // Wait until all three messages are buffered, then read them as one batch.
    for (let i = 0; i < 100 && src.buffered() < 3; i++) await new Promise((r) => setTimeout(r, 20));
    src.beginRound(1_000);
    const rows = await src.read(100);
    expect(rows.map((r) => r.event)).toEqual(['{"a":1}', '{"a":2}', '{"b":1}', '{"a":3}']);
    expect(src.batchKeys().sort()).toEqual(orgs.map((o) => `${partitionOf(o, 4)}:0`).sort());
    await store.transaction(async (tx) => src.commit(tx, rows[rows.length - 1]!.seq));
    src.committed(rows[rows.length - 1]!.seq);
    expect(await store.getMeta(hwmKey(link.names.prefix, partitionOf(orgs[0]!, 4)))).toBe('3');
    expect(await store.getMeta(hwmKey(link.names.prefix, partitionOf(orgs[1]!, 4)))).toBe('2');
    // A limit smaller than what is buffered: whole messages only, at least one.
    await pub.append(meta(orgs[1]!), [{ format: 'ecs', event: '{"b":2}' }, { format: 'ecs', event: '{"b":3}' }], 'b-2');
    await pub.append(meta(orgs[0]!), [{ format: 'ecs', event: '{"a":4}' }], 'a-3');
    for (let i = 0; i < 100 && src.buffered() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const one = await src.read(1);
    expect([['{"b":2}', '{"b":3}'], ['{"a":4}']]).toContainEqual(one.map((r) => r.event)); // one whole message, whichever partition came first
  }, 30_000);

  it('a batch under half the limit waits once for the events that follow and takes them with it; a full one does not wait', async () => {
    const { link, store } = await streamAndStore('linger', 2);
    const org = 'identity--0a000000-0000-4000-8000-0000000000bb';
    const p = partitionOf(org, 2);
    const pub = new StreamPublisher(link);
    const meta = { orgId: org, sensorId: 'fw-1', receivedUs: Date.now() * 1000, exerciseId: null };
    const src = new JetStreamSource({ link, store, warmMs: () => 0, onWarm: () => undefined, lingerMs: 1_500 });
    closers.push(() => src.close());
    await src.own(p);
    await pub.append(meta, [{ format: 'ecs', event: '{"n":1}' }], 'l-1');
    for (let i = 0; i < 100 && src.buffered() < 1; i++) await new Promise((r) => setTimeout(r, 20));
    src.beginRound(10_000);
    // The read takes message 1 now; message 2 is published while it waits.
    const reading = src.read(10);
    await pub.append(meta, [{ format: 'ecs', event: '{"n":2}' }, { format: 'ecs', event: '{"n":3}' }], 'l-2');
    const rows = await reading;
    expect(rows.map((r) => r.event)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    await store.transaction(async (tx) => src.commit(tx, rows[rows.length - 1]!.seq));
    src.committed(rows[rows.length - 1]!.seq);
    expect(await store.getMeta(hwmKey(link.names.prefix, p))).toBe('2');
    // Half the limit or more: read at once.
    await pub.append(meta, [{ format: 'ecs', event: '{"n":4}' }, { format: 'ecs', event: '{"n":5}' }], 'l-3');
    for (let i = 0; i < 100 && src.buffered() < 1; i++) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    expect((await src.read(4)).map((r) => r.event)).toEqual(['{"n":4}', '{"n":5}']);
    expect(Date.now() - t0).toBeLessThan(1_000);
  }, 30_000);

  it('a mark of a stream that was deleted and made anew (NATS rebuilt, node restored elsewhere) reads the new stream from its start', async () => {
    const { link, store } = await streamAndStore('anew', 2);
    const org = 'identity--0a000000-0000-4000-8000-0000000000cc';
    const p = partitionOf(org, 2);
    const pub = new StreamPublisher(link);
    const meta = { orgId: org, sensorId: 'fw-1', receivedUs: Date.now() * 1000, exerciseId: null };
    for (let i = 1; i <= 4; i++) await pub.append(meta, [{ format: 'ecs', event: `{"old":${i}}` }], `old-${i}`);
    const a = new JetStreamSource({ link, store, warmMs: () => 0, onWarm: () => undefined });
    await a.own(p);
    for (let i = 0; i < 100 && a.buffered() < 4; i++) await new Promise((r) => setTimeout(r, 20));
    a.beginRound(1_000);
    const rows = await a.read(100);
    expect(rows).toHaveLength(4);
    await store.transaction(async (tx) => a.commit(tx, rows[3]!.seq));
    a.committed(rows[3]!.seq);
    await a.close();
    expect(await store.getMeta(hwmKey(link.names.prefix, p))).toBe('4');

    // The stream is lost and made anew (same name, sequences from 1); two events arrive.
    const cfg = (await link.jsm.streams.info(link.names.stream)).config;
    await link.jsm.streams.delete(link.names.stream);
    await new Promise((r) => setTimeout(r, 10)); // a later creation time than the first stream's
    await link.jsm.streams.add(cfg);
    await pub.append(meta, [{ format: 'ecs', event: '{"new":1}' }], 'new-1');
    await pub.append(meta, [{ format: 'ecs', event: '{"new":2}' }], 'new-2');
    // What waits is counted in the new stream too (`shieldwall status`), not from the old mark.
    expect(await new StreamPublisher(link, store).pending()).toBe(2);
    const b = new JetStreamSource({ link, store, warmMs: () => 3_600_000, onWarm: () => undefined });
    closers.push(() => b.close());
    await b.own(p);
    for (let i = 0; i < 100 && b.buffered() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    b.beginRound(1_000);
    const fresh = await b.read(100);
    // Both, though their sequences (1, 2) are under the old mark (4).
    expect(fresh.map((r) => r.event)).toEqual(['{"new":1}', '{"new":2}']);
    await store.transaction(async (tx) => b.commit(tx, fresh[1]!.seq));
    b.committed(fresh[1]!.seq);
    expect(await store.getMeta(hwmKey(link.names.prefix, p))).toBe('2');

    // Once the new stream has passed the old mark, its identity (not its length) tells them apart.
    await b.close();
    await store.setMeta(hwmKey(link.names.prefix, p), '2');
    await store.setMeta(streamKey(link.names.prefix, p), '2020-01-01T00:00:00Z');
    const c = new JetStreamSource({ link, store, warmMs: () => 0, onWarm: () => undefined });
    closers.push(() => c.close());
    await c.own(p);
    for (let i = 0; i < 100 && c.buffered() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    c.beginRound(1_000);
    expect((await c.read(100)).map((r) => r.event)).toEqual(['{"new":1}', '{"new":2}']);
  }, 30_000);
});
