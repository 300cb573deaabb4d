/**
 * Which partitions this worker processes (shared/reference/scale-out.md §1.8: nats-server 2.9
 * has no consumer groups, so ownership is a lease per partition, here a PostgreSQL advisory lock).
 *
 * Each round: live members = holders of the member lock, ordered by PostgreSQL backend pid; the
 * member of rank r holds floor(N / m) partitions, plus one when r < N mod m — the shares add up
 * to N. A worker holding more than its share gives back the extra partitions (between batches,
 * so nothing is in flight); one holding fewer takes free ones. A worker that dies releases its
 * locks with its connection, and the others take its partitions within a round or two.
 */
import type { PgLeases } from '../store/pg-leases.js';

export interface PartitionHost {
  own(p: number): Promise<void>;
  disown(p: number): Promise<void>;
}

export class PartitionOwner {
  constructor(
    private readonly leases: PgLeases,
    private readonly host: PartitionHost,
    readonly partitions: number,
  ) {}

  /** One round; returns the partitions taken (the caller reloads state that depends on them). */
  async rebalance(): Promise<number[]> {
    if (this.leases.lost) throw new Error('the lease connection to PostgreSQL is lost');
    const members = await this.leases.members();
    const m = Math.max(1, members.length);
    const rank = Math.max(0, members.indexOf(this.leases.pid));
    const share = Math.floor(this.partitions / m) + (rank < this.partitions % m ? 1 : 0);
    const held = this.leases.held();
    for (const p of held.slice(share).reverse()) {
      await this.host.disown(p);
      await this.leases.release(p);
    }
    const taken: number[] = [];
    let have = Math.min(held.length, share);
    if (have >= share) return taken;
    const busy = await this.leases.taken();
    // Start at a member-specific offset so that workers joining together do not race for the same keys.
    const start = Math.floor(Math.random() * this.partitions);
    for (let i = 0; i < this.partitions && have < share; i++) {
      const p = (start + i) % this.partitions;
      if (busy.has(p) || this.leases.holds(p)) continue;
      if (!(await this.leases.tryAcquire(p))) continue;
      try {
        await this.host.own(p);
      } catch (e) {
        await this.leases.release(p);
        throw e;
      }
      taken.push(p);
      have++;
    }
    return taken;
  }

  /** Gives every partition back (a clean stop). */
  async releaseAll(): Promise<void> {
    for (const p of this.leases.held()) {
      await this.host.disown(p);
      await this.leases.release(p);
    }
  }
}
