/**
 * Where the detection engine reads telemetry from. The embedded default is the SQL spool (the
 * `ingest_chunks` table, committed before a sensor's 202); a scale-out node can read a NATS
 * JetStream stream instead behind the same interface.
 *
 * The contract that keeps "nothing acknowledged is lost" (DESIGN §2.2): `read` returns events
 * after the committed position; `commit` runs INSIDE the transaction that writes the alerts of
 * those events, so the position moves only with them; a batch whose transaction fails (or whose
 * worker is killed) is read again.
 */
import type { IngestRow, Store } from '../../store/index.js';

export interface EventSource {
  /** Names the sequence that `seq` numbers (state keyed by position, such as anomaly baselines, says which source). */
  readonly name: string;
  /** Up to `limit` events after the committed position, oldest first. */
  read(limit: number): Promise<readonly IngestRow[]>;
  /**
   * Moves the committed position through `throughSeq`, in the alerts' transaction `tx`. Throws
   * SourceMovedError when another consumer moved it first (the transaction then rolls back).
   */
  commit(tx: Store, throughSeq: number): Promise<void>;
  /** Called after the transaction of `commit` committed. */
  committed(throughSeq: number): void;
  /** Re-reads the committed position (after a failed transaction). */
  reset(): Promise<void>;
  /** The committed position (last seq whose alerts are stored). */
  readonly position: number;
  /**
   * What names the batch just read across retries, when its first seq does not: a scale-out
   * batch takes whatever its partitions hold, so a retry may start elsewhere; its partitions and
   * their marks (`partition:mark`) do not change until it commits (scale/supervisor.ts).
   */
  batchKeys?(): string[];
  /**
   * Events already processed, after `afterSeq` (a replay after a crash: what learning state saved
   * before it missed). Sources that rebuild state another way (a scale-out partition's warm-up
   * replay) have none.
   */
  history?(afterSeq: number, limit: number): Promise<readonly IngestRow[]>;
}

export class SourceMovedError extends Error {
  constructor(expected: number) {
    super(`the detection cursor moved past ${expected} in another process; re-reading`);
  }
}

/** The detection cursor of the SQL spool, in `meta`. */
export const SPOOL_CURSOR_KEY = 'detect.cursor';

/**
 * The SQL spool: events by seq after the cursor kept in `meta`, moved by compare-and-set. A
 * chunk (one ingest request) is read whole and kept until the cursor passed it (spool rows never
 * change, so what was read stays valid across a failed transaction).
 */
export class SpoolSource implements EventSource {
  readonly name = 'spool';
  #cursor = 0;
  #read: readonly IngestRow[] = [];

  private constructor(private readonly store: Store) {}

  static async open(store: Store): Promise<SpoolSource> {
    const s = new SpoolSource(store);
    await s.reset();
    return s;
  }

  get position(): number {
    return this.#cursor;
  }

  async read(limit: number): Promise<readonly IngestRow[]> {
    // What was read last time, from the first event after the cursor then: whatever the cursor
    // passed since (a committed batch) goes; a batch that failed is still in it.
    let buf = this.#read;
    let i = 0;
    while (i < buf.length && buf[i]!.seq <= this.#cursor) i++;
    if (i > 0) buf = buf.slice(i);
    if (buf.length === 0) buf = await this.store.readIngest(this.#cursor, limit, { wholeChunks: true });
    this.#read = buf;
    return buf.length <= limit ? buf : buf.slice(0, limit);
  }

  async commit(tx: Store, throughSeq: number): Promise<void> {
    // Compare-and-set: a worker left running by a killed parent (or a second worker) can never
    // commit the same events twice; the loser's transaction rolls back with its alerts.
    if (!(await tx.casMeta(SPOOL_CURSOR_KEY, String(this.#cursor), String(throughSeq)))) throw new SourceMovedError(this.#cursor);
  }

  committed(throughSeq: number): void {
    this.#cursor = throughSeq;
  }

  async reset(): Promise<void> {
    this.#cursor = Number(await this.store.initMeta(SPOOL_CURSOR_KEY, '0'));
  }

  /** Spool rows after `afterSeq` up to the cursor (the spool keeps processed rows for its retention). */
  async history(afterSeq: number, limit: number): Promise<readonly IngestRow[]> {
    if (afterSeq >= this.#cursor) return [];
    const rows = await this.store.readIngest(afterSeq, limit);
    let n = rows.length;
    while (n > 0 && rows[n - 1]!.seq > this.#cursor) n--;
    return n === rows.length ? rows : rows.slice(0, n);
  }
}
