/**
 * Ownership leases on PostgreSQL advisory locks (shared/reference/scale-out.md §1.8, §4): the
 * scale-out workers' partition ownership and the API processes' leader election.
 *
 * Each holder keeps ONE dedicated connection, outside the pool: session-level advisory locks
 * live exactly as long as it, so a process that dies (SIGKILL, lost network) releases every
 * lease it held when PostgreSQL notices the dead connection
 * (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS).
 *
 * A lease is not a fence: a process can believe it still owns a partition for a moment after
 * losing its connection. The fence is the compare-and-set of the partition's high-water mark
 * in the transaction of the alerts (scale/jetstream-source.ts).
 *
 * Keys are the two-int4 form (namespace, key); the namespace is derived from the deployment's
 * name so two deployments (or two test runs) on one PostgreSQL never contend. Members announce
 * themselves with a SHARED lock on (namespace, MEMBER_KEY); counting its holders gives the live
 * members, from which each computes its share of partitions.
 */
import pg from 'pg';

const MEMBER_KEY = 2_000_000_000;

/** 31-bit FNV-1a of the deployment name: a positive int4. */
function namespaceOf(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 1;
}

export class PgLeases {
  #lost = false;
  #onLost: (() => void)[] = [];
  readonly #held = new Set<number>();

  private constructor(private readonly client: pg.Client, readonly namespace: number, readonly pid: number) {
    const lose = () => {
      if (this.#lost) return;
      this.#lost = true;
      this.#held.clear();
      for (const f of this.#onLost) f();
    };
    client.on('error', lose);
    client.on('end', lose);
  }

  /** Opens the dedicated connection; `member` joins the membership count. */
  static async open(url: string, o: { name: string; member: boolean }): Promise<PgLeases> {
    const client = new pg.Client({ connectionString: url, application_name: `shieldwall-lease ${o.name}`, keepAlive: true });
    await client.connect();
    const pid = Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid);
    const l = new PgLeases(client, namespaceOf(o.name), pid);
    if (o.member) await client.query('select pg_advisory_lock_shared($1, $2)', [l.namespace, MEMBER_KEY]);
    return l;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Called once when the connection (and with it every lease) is gone. */
  onLost(fn: () => void): void {
    this.#onLost.push(fn);
  }

  held(): readonly number[] {
    return [...this.#held].sort((a, b) => a - b);
  }

  holds(key: number): boolean {
    return this.#held.has(key);
  }

  async tryAcquire(key: number): Promise<boolean> {
    if (this.#lost) return false;
    if (this.#held.has(key)) return true;
    const r = await this.client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [this.namespace, key]);
    if (r.rows[0]?.ok === true) this.#held.add(key);
    return r.rows[0]?.ok === true;
  }

  async release(key: number): Promise<void> {
    if (!this.#held.delete(key) || this.#lost) return;
    await this.client.query('select pg_advisory_unlock($1, $2)', [this.namespace, key]);
  }

  /** Live members of this namespace (the connections holding the shared member lock), by backend pid, sorted. */
  async members(): Promise<number[]> {
    const r = await this.client.query<{ pid: number | string }>(
      `select distinct pid from pg_locks
        where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
          and classid = $1::bigint::oid and objid = $2::bigint::oid and objsubid = 2 and granted`,
      [this.namespace, MEMBER_KEY],
    );
    return r.rows.map((x) => Number(x.pid)).sort((a, b) => a - b);
  }

  /** Keys of this namespace held by any process (granted locks), excluding the member key. */
  async taken(): Promise<Set<number>> {
    const r = await this.client.query<{ k: number | string }>(
      `select objid::bigint as k from pg_locks
        where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
          and classid = $1::bigint::oid and objsubid = 2 and granted and objid <> $2::bigint::oid`,
      [this.namespace, MEMBER_KEY],
    );
    return new Set(r.rows.map((x) => Number(x.k)));
  }

  async close(): Promise<void> {
    this.#onLost = [];
    this.#held.clear();
    await this.client.end().catch(() => undefined);
  }
}
