/**
 * Leadership for the background jobs of API processes (decision deadlines, TAXII status
 * pruning): with several `serve` processes on one PostgreSQL, the one holding an advisory lock
 * runs them, the others stand by and take over within LEADER_RETRY_MS when it dies (its lock
 * goes with its connection). On the embedded store there is one process, always the leader.
 */
import type { PgLeases } from '../store/pg-leases.js';

const LEADER_KEY = 1;
const LEADER_RETRY_MS = 5_000;

export interface Leader {
  /** Whether this process runs the node's background jobs now. */
  isLeader(): boolean;
  close(): Promise<void>;
}

export const SOLE_LEADER: Leader = Object.freeze({ isLeader: () => true, close: async () => undefined });

export async function electLeader(databaseUrl: string, name: string): Promise<Leader> {
  // Loaded here: an embedded node never needs the PostgreSQL client (its start-up is shorter).
  const { PgLeases } = await import('../store/pg-leases.js');
  let leases: PgLeases | null = null;
  let closed = false;
  const tryLead = async () => {
    try {
      if (!leases || leases.lost) {
        await leases?.close();
        leases = await PgLeases.open(databaseUrl, { name: `leader:${name}`, member: false });
      }
      await leases.tryAcquire(LEADER_KEY);
    } catch {
      // PostgreSQL unreachable: not the leader until it answers again.
    }
  };
  await tryLead();
  const timer = setInterval(() => void tryLead(), LEADER_RETRY_MS);
  timer.unref();
  return {
    isLeader: () => !closed && leases !== null && !leases.lost && leases.holds(LEADER_KEY),
    close: async () => {
      closed = true;
      clearInterval(timer);
      await leases?.close();
    },
  };
}
