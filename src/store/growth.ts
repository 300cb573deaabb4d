/**
 * Table statistics that keep up with the node's own writes (PostgreSQL).
 *
 * PostgreSQL plans every statement from table statistics that autovacuum gathers after a share
 * of a table changed, checking about once a minute. A node that imports 100,000 objects in a few
 * seconds, and whose indexes follow the store in slices meanwhile, runs thousands of statements
 * on statistics that say the table is nearly empty: the planner then read the whole of
 * `observable_values` to delete a slice's rows (a sequential scan instead of the (seq) index)
 * and every object after a cursor to sort them for a page of 2,000 (a bitmap scan instead of the
 * (type, date_added) index), so the correlation index and the indicator feed slowed down as
 * the tables grew (docs/benchmarks.md, sixteenth session). The store counts the rows it adds per
 * table; after a commit, a table that grew by at least `minRows` and by a `share` of the rows it
 * held at its last analysis is analysed in the background, one table at a time.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';

export interface GrowthOptions {
  /** Rows added before a table is analysed again (default 5,000). */
  minRows?: number;
  /** ... and this share of the rows it held (default 0.2). */
  share?: number;
}

export class TableGrowth {
  readonly #added = new Map<string, number>();
  /** Rows each table held at its last analysis (first: the catalogue's estimate). */
  readonly #known = new Map<string, number>();
  readonly #queued = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #minRows: number;
  readonly #share: number;

  constructor(private readonly db: { analyze(table: string): Promise<void>; estimate(table: string): Promise<number> }, o: GrowthOptions = {}) {
    this.#minRows = o.minRows ?? 5_000;
    this.#share = o.share ?? 0.2;
  }

  /** Rows added to `table` (counted whether or not their transaction commits: an extra analysis is harmless). */
  add(table: string, rows: number): void {
    if (rows > 0) this.#added.set(table, (this.#added.get(table) ?? 0) + rows);
  }

  /** After a commit: queues a check of every table that may have grown past its threshold. */
  settle(): void {
    for (const [table, n] of this.#added) {
      if (n < this.#minRows || this.#queued.has(table) || this.#closed) continue;
      this.#queued.add(table);
      this.#chain = this.#chain.then(() => this.#check(table)).catch(() => undefined).finally(() => this.#queued.delete(table));
    }
  }

  async #check(table: string): Promise<void> {
    if (this.#closed) return;
    if (!this.#known.has(table)) this.#known.set(table, Math.max(0, await this.db.estimate(table)));
    const added = this.#added.get(table) ?? 0;
    const known = this.#known.get(table) ?? 0;
    if (added < Math.max(this.#minRows, known * this.#share)) return;
    this.#added.set(table, 0);
    this.#known.set(table, known + added);
    await this.db.analyze(table);
  }

  /** Waits for an analysis under way; none starts after. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
  }
}

/** The tracker of a PostgreSQL store: `analyze`, and the catalogue's row estimate to start from. */
export function pgGrowth(db: Kysely<DB>, o: GrowthOptions = {}): TableGrowth {
  return new TableGrowth({
    analyze: async (t) => { await sql`analyze ${sql.table(t)}`.execute(db); },
    estimate: async (t) => Number((await sql<{ n: number }>`select reltuples as n from pg_class where relname = ${t}`.execute(db)).rows[0]?.n ?? 0),
  }, o);
}
