/**
 * The detection engine's event source on a scale-out node: the partitions of the telemetry
 * stream this worker owns (scale/worker.ts takes and gives them back by PostgreSQL lease).
 *
 * Per partition (shared/reference/scale-out.md §1.7, §4):
 * - the committed position is a high-water mark (the last stream sequence of the partition
 *   whose alerts are stored) in `meta`, moved by compare-and-set INSIDE the transaction of the
 *   alerts. A stale owner (its lease lost, still running) fails the compare-and-set and its
 *   transaction rolls back with its alerts: a chunk is counted once whoever processes it;
 * - the owner reads with an ordered consumer starting at the mark + 1, so events arrive in
 *   stream order and a failed batch is re-read from the mark (never skipped past: §4 "Never skip
 *   ahead of a failure"). The stream keeps events for its max_age whatever was processed, so
 *   nothing needs acknowledging;
 * - before consuming, a new owner replays the partition's events of the last `warmMs` before the
 *   mark through the matchers with their alerts discarded (`onWarm`): correlation windows and
 *   FOLLOWEDBY sequences are rebuilt as they were, the alerts they already raised are in the store.
 *
 * `read` takes from one partition per call (round robin), so one batch commits one mark.
 */
import { DeliverPolicy, type ConsumerMessages, type JsMsg, type StoredMsg } from '@nats-io/jetstream';
import { AppError } from '../core/errors.js';
import type { IngestRow, Store } from '../store/index.js';
import { decodeChunk, H_EXERCISE, H_ORG, H_RECEIVED, H_SENSOR, type ChunkMeta } from './codec.js';
import type { NatsLink } from './nats.js';

/** Messages buffered per owned partition (each up to 256 KiB). */
const BUFFER_MSGS = 32;
/** How long a small batch waits for more events, once (ms). */
const LINGER_MS = 20;
/** Pause before a partition reader whose consumer ended makes a new one (ms). */
const RESUME_MS = 250;

export function hwmKey(prefix: string, partition: number): string {
  return `scale.${prefix}.hwm.${partition}`;
}

export function partitionsKey(prefix: string): string {
  return `scale.${prefix}.partitions`;
}

/**
 * The number of partitions is fixed for the life of a node's stream (docs/deploying-at-scale.md):
 * an organisation's events and detection state live in partition FNV-1a(organisation) mod n, and
 * events waiting under a partition number that no longer exists would never be read. The first
 * process records it; one started with another number is refused, before it publishes or reads.
 */
export async function checkPartitionCount(store: Store, prefix: string, partitions: number): Promise<void> {
  const stored = await store.initMeta(partitionsKey(prefix), String(partitions));
  if (stored === String(partitions)) return;
  throw new AppError('CONFLICT', `SHIELDWALL_NATS_PARTITIONS is ${partitions}, but this node's telemetry stream (SHIELDWALL_NATS_PREFIX ${prefix}) is partitioned in ${stored}: `
    + `events waiting under the other partitions would never be read and each organisation's detection state would move. Set it back to ${stored}, `
    + 'or change it as docs/deploying-at-scale.md says (an empty queue, then a new prefix)');
}

/**
 * The stream a partition's mark counts in: its creation time. Stream sequences never go back on
 * one stream, but a stream deleted and made anew (a NATS rebuilt after a loss, a node restored
 * from a backup onto another NATS) numbers from 1 again, and a mark of the old one would skip
 * that many of the new one's events.
 */
export function streamKey(prefix: string, partition: number): string {
  return `scale.${prefix}.stream.${partition}`;
}

/**
 * Whether a mark counts in the stream as it is: written against a stream of that creation time
 * (or before marks named one: `known` null), and not past its last sequence.
 */
export function markCounts(known: string | null, created: string, mark: number, lastSeq: number): boolean {
  return (known === null || known === created) && mark <= lastSeq;
}

/**
 * Each partition's mark as it counts in the stream now (0 for a mark of another stream: all the
 * stream holds of it waits), from stored meta rows (`metas`: the store's getMetas, or a snapshot's).
 */
export async function marksInStream(link: NatsLink, metas: (keys: string[]) => Promise<ReadonlyMap<string, string>>, partitions: readonly number[]): Promise<Map<number, number>> {
  const { prefix } = link.names;
  const stored = await metas(partitions.flatMap((p) => [hwmKey(prefix, p), streamKey(prefix, p)]));
  const info = await link.jsm.streams.info(link.names.stream);
  return new Map(partitions.map((p) => {
    const mark = Number(stored.get(hwmKey(prefix, p)) ?? '0') || 0;
    return [p, markCounts(stored.get(streamKey(prefix, p)) ?? null, info.created, mark, info.state.last_seq) ? mark : 0];
  }));
}

function metaOf(m: Pick<JsMsg, 'headers'>): ChunkMeta | null {
  const org = m.headers?.get(H_ORG);
  const sensor = m.headers?.get(H_SENSOR);
  const received = Number(m.headers?.get(H_RECEIVED));
  if (!org || !sensor || !Number.isFinite(received)) return null;
  const ex = m.headers?.get(H_EXERCISE);
  return { orgId: org, sensorId: sensor, receivedUs: received, exerciseId: ex ? ex : null };
}

export function rowsOf(m: Pick<JsMsg, 'headers' | 'seq' | 'string'>): IngestRow[] {
  const meta = metaOf(m);
  return meta ? decodeChunk(meta, m.string(), m.seq) : [];
}

/** The events of a message read back from the stream by its sequence (dead-lettering one of them). */
export function rowsOfStored(m: StoredMsg): IngestRow[] {
  return rowsOf({ headers: m.header, seq: m.seq, string: () => m.string() });
}

/** Events (lines) in a chunk's body. */
export function lineCount(data: Uint8Array): number {
  let n = 1;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Calls `each` with partition p's messages from a stream sequence or a time through sequence
 * `through`, in stream order (an ordered consumer, deleted after): a worker's warm-up replay, a
 * backup's unprocessed chunks.
 */
export async function readPartitionRange(link: NatsLink, p: number, range: { from: { seq: number } | { time: string }; through: number }, each: (m: JsMsg) => void): Promise<void> {
  const { from, through } = range;
  if ('seq' in from && from.seq > through) return;
  const start = 'seq' in from ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.time };
  const c = await link.js.consumers.get(link.names.stream, { filter_subjects: link.names.partitionFilter(p), ...start });
  try {
    for (;;) {
      const batch = await c.fetch({ max_messages: 256, expires: 1_000 });
      let got = 0;
      let done = false;
      for await (const m of batch) {
        got++;
        if (m.seq > through) {
          done = true;
          break;
        }
        each(m);
        if (m.seq === through) done = true;
      }
      if (done || got === 0) break;
    }
  } finally {
    await c.delete().catch(() => undefined);
  }
}

class PartitionReader {
  readonly buffer: JsMsg[] = [];
  #iter: ConsumerMessages | null = null;
  #space: (() => void) | null = null;
  #closed = false;
  /** Messages of the partition still in the stream after the last one buffered (the consumer's count). */
  #after = 0;
  /** The stream sequence to read from should the consumer have to be made again. */
  #next: number;

  constructor(readonly partition: number, public hwm: number) {
    this.#next = hwm + 1;
  }

  /** Messages waiting (buffered and still in the stream) and when the oldest buffered one was accepted. */
  backlog(): { partition: number; waitingMessages: number; oldestReceivedUs: number | null } {
    const head = this.buffer[0];
    const received = head ? Number(head.headers?.get(H_RECEIVED)) : NaN;
    return { partition: this.partition, waitingMessages: this.buffer.length + this.#after, oldestReceivedUs: Number.isFinite(received) ? received : null };
  }

  /** Starts reading after the mark (a consumer that cannot be made now fails the take). */
  async start(link: NatsLink): Promise<void> {
    const iter = await this.#open(link);
    void this.#follow(link, iter);
  }

  /**
   * Makes the consumer afresh from where the reader is (the server restarted, the connection came
   * back): the ordered consumer notices a lost server only after missed heartbeats, tens of seconds
   * during which the partition's events waited while the worker reported nothing waiting.
   */
  restart(): void {
    void this.#iter?.close().catch(() => undefined);
  }

  async #open(link: NatsLink): Promise<ConsumerMessages> {
    const c = await link.js.consumers.get(link.names.stream, {
      filter_subjects: link.names.partitionFilter(this.partition), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(this.#next, this.hwm + 1),
    });
    const iter = await c.consume({ max_messages: BUFFER_MSGS });
    this.#iter = iter;
    return iter;
  }

  /** Buffers what the consumer delivers; when its iterator ends (not closed by us), reads on from #next with a new one. */
  async #follow(link: NatsLink, first: ConsumerMessages): Promise<void> {
    let iter: ConsumerMessages | null = first;
    while (!this.#closed) {
      try {
        iter ??= await this.#open(link);
        for await (const m of iter) {
          if (this.#closed) break;
          this.#after = m.info.pending;
          if (m.seq <= this.hwm || m.seq < this.#next) continue;
          this.#next = m.seq + 1;
          this.buffer.push(m);
          if (this.buffer.length >= BUFFER_MSGS) await new Promise<void>((r) => (this.#space = r));
        }
      } catch {
        // The consumer failed (NATS away, the stream not back yet): made again below.
      }
      iter = null;
      if (!this.#closed) await new Promise((r) => setTimeout(r, RESUME_MS));
    }
  }

  /** Messages up to `limit` events (at least one, unless `fit`: then only what fits). */
  take(limit: number, fit = false): JsMsg[] {
    const out: JsMsg[] = [];
    let rows = 0;
    while (this.buffer.length > 0) {
      const m = this.buffer[0]!;
      const n = lineCount(m.data);
      if ((out.length > 0 || fit) && rows + n > limit) break;
      out.push(this.buffer.shift()!);
      rows += n;
    }
    const wake = this.#space;
    this.#space = null;
    wake?.();
    return out;
  }

  async stop(): Promise<void> {
    this.#closed = true;
    this.buffer.length = 0;
    this.#space?.();
    await this.#iter?.close().catch(() => undefined);
  }
}

export interface JetStreamSourceDeps {
  readonly link: NatsLink;
  readonly store: Store;
  /** Replayed events (at or below a new partition's mark) for the matchers' state; alerts discarded. */
  readonly onWarm: (rows: readonly IngestRow[]) => void;
  /** How far before the mark a new owner replays (the longest correlation window), ms. */
  readonly warmMs: () => number;
  /**
   * Called when partition p is taken, before its warm-up replay: the matchers drop whatever state
   * they still hold of its organisations (from an earlier time this worker owned it), so that the
   * replay rebuilds it exactly instead of adding the same events to it twice; the anomaly
   * baselines saved by the previous owner are taken over (the replay then adds what came after).
   */
  readonly onTake?: (partition: number) => void | Promise<void>;
  /** How long a batch under half the limit waits, once, for more events (ms; LINGER_MS by default). */
  readonly lingerMs?: number;
}

export class JetStreamSource {
  readonly #readers = new Map<number, PartitionReader>();
  #rr = 0;
  /** The partitions of the batch in flight: each one's mark before and the last message taken. */
  #batch: { partition: number; expected: number; last: number }[] | null = null;
  #roundEnd = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: JetStreamSourceDeps) {
    void this.#onReconnect();
  }

  /** Back from a lost connection (a NATS restart): every reader makes its consumer afresh, at once. */
  async #onReconnect(): Promise<void> {
    try {
      for await (const s of this.deps.link.nc.status()) {
        if (s.type === 'reconnect') for (const r of this.#readers.values()) r.restart();
      }
    } catch {
      // The connection closed: nothing more to follow.
    }
  }

  /** Stream sequences number this source's events. */
  get name(): string {
    return `stream:${this.deps.link.names.prefix}`;
  }

  /** The SQL spool's position: untouched in scale-out mode (nothing to prune there). */
  get position(): number {
    return 0;
  }

  owned(): number[] {
    return [...this.#readers.keys()].sort((a, b) => a - b);
  }

  /** Events read but not yet processed, per owned partition (buffered messages). */
  buffered(): number {
    let n = 0;
    for (const r of this.#readers.values()) n += r.buffer.length;
    return n;
  }

  /** The queue of each owned partition (scale/presence.ts). */
  backlog(): { partition: number; waitingMessages: number; oldestReceivedUs: number | null }[] {
    return this.owned().map((p) => this.#readers.get(p)!.backlog());
  }

  /** `read` answers empty after `ms` (the worker's loop then syncs rules and rebalances). */
  beginRound(ms: number): void {
    this.#roundEnd = Date.now() + ms;
  }

  /** Takes partition p: its mark from the store, a warm-up replay, then reading after the mark. */
  async own(p: number, o: { warm: boolean } = { warm: true }): Promise<void> {
    if (this.#readers.has(p)) return;
    const { store, link } = this.deps;
    const hwm = await this.#mark(p);
    if (o.warm) await this.deps.onTake?.(p);
    if (hwm > 0 && o.warm) await this.#warm(p, hwm);
    const r = new PartitionReader(p, hwm);
    await r.start(link);
    this.#readers.set(p, r);
  }

  /**
   * Partition p's mark, when it counts in the stream as it is now; else (the stream was made
   * anew since the mark was written, or holds fewer messages than the mark names) every event the
   * stream holds came after the mark: the mark goes back to 0, with the stream's identity, in one
   * transaction whose compare-and-set loses to a worker that did the same first.
   */
  async #mark(p: number): Promise<number> {
    const { store, link } = this.deps;
    const key = hwmKey(link.names.prefix, p);
    const idKey = streamKey(link.names.prefix, p);
    for (let attempt = 0; ; attempt++) {
      const stored = await store.initMeta(key, '0');
      const info = await link.jsm.streams.info(link.names.stream);
      const created = info.created;
      const known = await store.initMeta(idKey, created);
      const hwm = Number(stored);
      if (markCounts(known, created, hwm, info.state.last_seq)) return hwm;
      const reset = await store.transaction(async (tx) => {
        if (!(await tx.casMeta(key, stored, '0')) || !(await tx.casMeta(idKey, known, created))) throw new StaleMark();
        return true;
      }).catch((e: unknown) => {
        if (e instanceof StaleMark && attempt < 3) return false;
        throw e;
      });
      if (reset) return 0;
    }
  }

  async disown(p: number): Promise<void> {
    const r = this.#readers.get(p);
    this.#readers.delete(p);
    await r?.stop();
  }

  async close(): Promise<void> {
    for (const p of this.owned()) await this.disown(p);
  }

  async #warm(p: number, hwm: number): Promise<void> {
    const { link } = this.deps;
    try {
      const last = await link.jsm.streams.getMessage(link.names.stream, { seq: hwm });
      if (!last) return;
      const from = new Date(last.time.getTime() - this.deps.warmMs()).toISOString();
      await readPartitionRange(link, p, { from: { time: from }, through: hwm }, (m) => this.deps.onWarm(rowsOf(m)));
    } catch {
      // The mark's message aged out of the stream: nothing within any window to replay.
    }
  }

  /**
   * One batch: whole messages from the owned partitions, round robin, up to `limit` events (at
   * least one message). Several partitions' messages go in one batch and one transaction (each
   * partition's mark moved by its own compare-and-set): a worker keeping up with the stream finds
   * only a message or two waiting per partition, and one transaction per message would cost more
   * than the matching. Rows come in stream order (by seq), which keeps each partition's order.
   */
  async read(limit: number): Promise<readonly IngestRow[]> {
    if (Date.now() > this.#roundEnd) return [];
    const taken: { partition: number; expected: number; last: number }[] = [];
    const rows: IngestRow[] = [];
    this.#take(limit, taken, rows);
    if (taken.length === 0) return [];
    // A batch much smaller than the limit while events keep coming (the chunks of one request
    // arrive a few milliseconds apart) waits once, briefly, for more: a batch costs a transaction
    // and a write of each alert it touched whatever its size, so a worker that keeps up would
    // otherwise commit one per message (docs/architecture.md "Scale-out").
    if (rows.length < limit / 2) {
      await new Promise((r) => setTimeout(r, this.deps.lingerMs ?? LINGER_MS));
      this.#take(limit, taken, rows);
    }
    this.#rr = (this.#rr + 1) % Math.max(1, this.#readers.size);
    this.#batch = taken;
    if (taken.length > 1) rows.sort((a, b) => a.seq - b.seq);
    return rows;
  }

  /** Takes buffered messages of the owned partitions (round robin from #rr) into a batch, up to `limit` events. */
  #take(limit: number, taken: { partition: number; expected: number; last: number }[], rows: IngestRow[]): void {
    const parts = this.owned();
    for (let i = 0; i < parts.length && (rows.length === 0 || rows.length < limit); i++) {
      const p = parts[(this.#rr + i) % parts.length]!;
      const r = this.#readers.get(p);
      if (!r) continue;
      const msgs = r.take(rows.length === 0 ? limit : limit - rows.length, rows.length > 0);
      if (msgs.length === 0) continue;
      const last = msgs[msgs.length - 1]!.seq;
      const t = taken.find((x) => x.partition === p);
      if (t) t.last = last;
      else taken.push({ partition: p, expected: r.hwm, last });
      for (const m of msgs) rows.push(...rowsOf(m));
    }
  }

  batchKeys(): string[] {
    return (this.#batch ?? []).map((t) => `${t.partition}:${t.expected}`);
  }

  async commit(tx: Store, _throughSeq: number): Promise<void> {
    const b = this.#batch;
    if (!b) throw new Error('commit without a read');
    for (const t of b) {
      const key = hwmKey(this.deps.link.names.prefix, t.partition);
      if (!(await tx.casMeta(key, String(t.expected), String(t.last)))) {
        throw new Error(`partition ${t.partition} moved past ${t.expected} in another worker`);
      }
    }
  }

  committed(_throughSeq: number): void {
    const b = this.#batch;
    this.#batch = null;
    for (const t of b ?? []) {
      const r = this.#readers.get(t.partition);
      if (r) r.hwm = t.last;
    }
  }

  /**
   * After a failed transaction: the batch's partition reads again from its stored mark, taken
   * afresh. The matchers saw the failed batch's events (correlation windows, STIX sequences
   * counted them); read again with that state kept, each would count twice — two events of a
   * three-event correlation raised it. So the state of the partition's organisations is dropped
   * (`onTake`) and rebuilt by the replay up to the mark, as a new owner's is.
   */
  async reset(): Promise<void> {
    const b = this.#batch;
    this.#batch = null;
    for (const t of b ?? []) {
      if (!this.#readers.has(t.partition)) continue;
      await this.disown(t.partition);
      await this.own(t.partition);
    }
  }
}

/** A mark another worker moved while this one was resetting it (scale/jetstream-source.ts #mark). */
class StaleMark extends Error {}
