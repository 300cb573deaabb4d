/**
 * Who is running in a scale-out deployment (docs/deploying-at-scale.md "Watching it"): every API
 * process, worker supervisor and worker announces itself on one core NATS subject
 * (`<prefix>.presence`) every PRESENCE_MS, and answers at once when asked (`<prefix>.presence.ask`).
 * API processes keep a board of what they heard, which `GET /api/v1/system` shows; `shieldwall
 * status` asks and listens for a moment. Nothing is stored: a process that stops announcing drops
 * off the board after STALE_MS.
 *
 * A report carries node-level facts only (processes, partitions, counters, queue per partition):
 * no organisation, no event, no rule — what an administrator of any member may read at /system.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

export const PRESENCE_MS = 2_000;
/** A process not heard from for this long is no longer listed. */
export const STALE_MS = 5 * PRESENCE_MS;

/** One partition a worker owns: messages (ingest chunks) waiting and the age of the oldest one. */
export interface PartitionBacklog {
  readonly partition: number;
  readonly waitingMessages: number;
  /** When the oldest unprocessed message was accepted (µs since the epoch); null when none waits. */
  readonly oldestReceivedUs: number | null;
}

export interface WorkerReport {
  readonly partitions: readonly number[];
  readonly backlog: readonly PartitionBacklog[];
  readonly processed: number;
  readonly alertsWritten: number;
  readonly eventsPerSecond: number;
  readonly indicators: number;
  readonly sigmaRules: number;
  /** How far its indicator feed has read the store (µs, the `date_added` cursor); absent from older workers. */
  readonly feedCursorUs?: number;
  /** The supervisor that forked it (null: started on its own). */
  readonly supervisorId: string | null;
}

export interface SupervisorReport {
  readonly processes: number;
  readonly pids: readonly number[];
  readonly restarts: number;
  readonly deadLetters: number;
  /** Batches being gone through carefully (failed twice). */
  readonly careful: number;
}

export interface ProcessReport {
  readonly id: string;
  readonly role: 'api' | 'worker' | 'worker-supervisor';
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeS: number;
  readonly rssBytes: number;
  readonly partitionsTotal: number;
  readonly worker?: WorkerReport;
  readonly supervisor?: SupervisorReport;
  /** Set on the last report of a process that stops. */
  readonly stopping?: boolean;
}

export interface SeenProcess extends ProcessReport {
  readonly lastSeenAt: string;
}

function subjects(prefix: string): { report: string; ask: string } {
  return { report: `${prefix}.presence`, ask: `${prefix}.presence.ask` };
}

function isReport(v: unknown): v is ProcessReport {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.id === 'string' && r.id.length <= 64 && (r.role === 'api' || r.role === 'worker' || r.role === 'worker-supervisor')
    && typeof r.host === 'string' && typeof r.pid === 'number' && typeof r.startedAt === 'string' && typeof r.partitionsTotal === 'number';
}

/** This process on the presence subject: a report now, every PRESENCE_MS, on request, and a last one on stop. */
export class PresenceAnnouncer {
  readonly id = crypto.randomUUID();
  readonly #started = new Date().toISOString();
  #timer: NodeJS.Timeout | null = null;
  #ask: Subscription | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly fill: () => Pick<ProcessReport, 'role' | 'partitionsTotal' | 'worker' | 'supervisor'>,
  ) {}

  start(): this {
    const s = subjects(this.prefix);
    this.#ask = this.nc.subscribe(s.ask, { callback: () => this.announce() });
    this.announce();
    this.#timer = setInterval(() => this.announce(), PRESENCE_MS);
    this.#timer.unref();
    return this;
  }

  report(stopping = false): ProcessReport {
    return {
      id: this.id, host: os.hostname(), pid: process.pid, startedAt: this.#started, uptimeS: Math.round(process.uptime()),
      rssBytes: process.memoryUsage().rss, ...this.fill(), ...(stopping ? { stopping: true } : {}),
    };
  }

  announce(stopping = false): void {
    try {
      this.nc.publish(subjects(this.prefix).report, JSON.stringify(this.report(stopping)));
    } catch {
      // Disconnected: the next period tries again.
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#ask?.unsubscribe();
    this.#ask = null;
    this.announce(true);
  }
}

/** What the processes of a deployment last said about themselves. */
export class PresenceBoard {
  readonly #seen = new Map<string, { report: ProcessReport; atMs: number }>();
  #sub: Subscription | null = null;

  private constructor(private readonly nc: NatsConnection, private readonly prefix: string) {}

  static listen(nc: NatsConnection, prefix: string): PresenceBoard {
    const b = new PresenceBoard(nc, prefix);
    b.#sub = nc.subscribe(subjects(prefix).report, {
      callback: (err, msg) => {
        if (err) return;
        let v: unknown;
        try {
          v = msg.json<unknown>();
        } catch {
          return;
        }
        if (!isReport(v)) return;
        if (v.stopping) b.#seen.delete(v.id);
        else b.#seen.set(v.id, { report: v, atMs: Date.now() });
      },
    });
    return b;
  }

  /** Asks every process to report now (a board just opened fills within a round trip). */
  ask(): void {
    try {
      this.nc.publish(subjects(this.prefix).ask, '');
    } catch {
      // Disconnected: the periodic reports fill the board.
    }
  }

  /** Processes heard from within STALE_MS, by role then host then pid. */
  list(nowMs = Date.now()): SeenProcess[] {
    const out: SeenProcess[] = [];
    for (const [id, s] of this.#seen) {
      if (nowMs - s.atMs > STALE_MS) {
        this.#seen.delete(id);
        continue;
      }
      out.push({ ...s.report, lastSeenAt: new Date(s.atMs).toISOString() });
    }
    const order = { api: 0, 'worker-supervisor': 1, worker: 2 } as const;
    return out.sort((a, b) => order[a.role] - order[b.role] || a.host.localeCompare(b.host) || a.pid - b.pid);
  }

  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = null;
  }
}

export interface ScaleOverview {
  readonly partitions: number;
  /** Partitions no live worker owns: their events wait until one takes them. */
  readonly unowned: readonly number[];
  readonly waitingMessages: number;
  readonly lagMs: number;
  readonly eventsPerSecond: number;
}

/** The partitions no live worker reports owning. */
export function unownedPartitions(processes: readonly ProcessReport[], partitions: number): number[] {
  const owned = new Set<number>();
  for (const p of processes) for (const n of p.worker?.partitions ?? []) owned.add(n);
  return Array.from({ length: partitions }, (_, i) => i).filter((i) => !owned.has(i));
}

/**
 * The queue of the deployment as its workers see it (ingest chunks waiting, oldest age), with
 * `unownedBacklog`: what waits in the partitions no worker owns, counted from the stream
 * (scale/backlog.ts) — without it, stopped workers would show an empty queue.
 */
export function overview(processes: readonly ProcessReport[], partitions: number, o: { nowMs?: number; unownedBacklog?: readonly PartitionBacklog[] } = {}): ScaleOverview {
  const nowMs = o.nowMs ?? Date.now();
  let waiting = 0;
  let oldestUs = Number.POSITIVE_INFINITY;
  let rate = 0;
  const unowned = unownedPartitions(processes, partitions);
  const backlogs = [...processes.flatMap((p) => p.worker?.backlog ?? []), ...(o.unownedBacklog ?? []).filter((b) => unowned.includes(b.partition))];
  for (const p of processes) rate += p.worker?.eventsPerSecond ?? 0;
  for (const b of backlogs) {
    waiting += b.waitingMessages;
    if (b.oldestReceivedUs !== null) oldestUs = Math.min(oldestUs, b.oldestReceivedUs);
  }
  return {
    partitions, unowned, waitingMessages: waiting, eventsPerSecond: Math.round(rate),
    lagMs: Number.isFinite(oldestUs) ? Math.max(0, nowMs - Math.floor(oldestUs / 1000)) : 0,
  };
}

/**
 * A scale-out deployment as its processes last announced themselves (GET /api/v1/system,
 * `shieldwall status`): the API processes and worker supervisors, every worker (any machine) with its partitions and
 * their queues, and the stream's queue as the workers see it (partitions nobody owns included).
 */
export function deploymentView(seen: readonly SeenProcess[], partitions: number, unownedBacklog: readonly PartitionBacklog[] = []) {
  const workers = seen.filter((p) => p.role === 'worker');
  const stream = overview(seen, partitions, { unownedBacklog });
  const sum = (f: (p: SeenProcess) => number) => workers.reduce((n, p) => n + f(p), 0);
  return {
    stream,
    processes: seen.filter((p) => p.role !== 'worker').map((p) => ({
      role: p.role, host: p.host, pid: p.pid, startedAt: p.startedAt, uptimeS: p.uptimeS, rssBytes: p.rssBytes, heapUsedBytes: null, self: false, lastSeenAt: p.lastSeenAt,
      ...(p.supervisor ? { supervisor: p.supervisor } : {}),
    })),
    workers: workers.map((p) => ({
      pid: p.pid, host: p.host, state: 'running' as const, startedAt: p.startedAt, uptimeS: p.uptimeS, lastHeartbeatAt: p.lastSeenAt, restarts: null,
      batch: null, lastExit: null, eventsPerSecond: p.worker?.eventsPerSecond ?? 0, rssBytes: p.rssBytes,
      partitions: p.worker?.partitions ?? [], waitingMessages: (p.worker?.backlog ?? []).reduce((n, b) => n + b.waitingMessages, 0), supervisorId: p.worker?.supervisorId ?? null,
    })),
    processed: sum((p) => p.worker?.processed ?? 0), alertsWritten: sum((p) => p.worker?.alertsWritten ?? 0),
    indicators: Math.max(0, ...workers.map((p) => p.worker?.indicators ?? 0)), sigmaRules: Math.max(0, ...workers.map((p) => p.worker?.sigmaRules ?? 0)),
  };
}

/** Events per second from a counter sampled over time (the last ~10 s). */
export class RateMeter {
  readonly #samples: { atMs: number; n: number }[] = [];

  sample(n: number, atMs = Date.now()): number {
    this.#samples.push({ atMs, n });
    while (this.#samples.length > 2 && atMs - this.#samples[0]!.atMs > 10_000) this.#samples.shift();
    const first = this.#samples[0]!;
    const dt = atMs - first.atMs;
    return dt > 0 ? Math.round(((n - first.n) * 1000) / dt) : 0;
  }
}
