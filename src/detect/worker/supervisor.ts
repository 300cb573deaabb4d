/**
 * The supervisor of a node's detection worker process (DESIGN §2.7, docs/pipeline.md).
 *
 * `serve` forks `shieldwall worker` and watches it: the worker names each batch before it
 * matches it; a batch that runs longer than the limit (or a worker that dies in one) gets the
 * worker killed and restarted, and the batch retried. When the same batch fails a second time,
 * the worker goes through it carefully, one event per transaction, naming every rule before it
 * evaluates it; the event it then hangs on is quarantined (a dead letter with the reason and the
 * rule) and the worker restarts past it. Every other event of the batch is processed: the source
 * position only moves with committed alerts, so nothing acknowledged is lost.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { BusEvent } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import type { Store } from '../../store/index.js';
import { isWorkerMessage, stopWorkerProcess, watchdogPeriodMs, WORKER_EXEC_ARGV, writeDeadLetter, type SupervisorMessage, type WorkerMessage, type WorkerStats } from './protocol.js';

export interface SupervisorOptions {
  /** The built CLI (dist/src/cli/main.js), started as `<entry> worker --supervised`. */
  readonly entry: () => string;
  /** Environment of the worker (the node's configuration, see config `configEnv`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly batchTimeoutMs: number;
  /**
   * How long a worker outside a batch may send nothing (no heartbeat, no message) before it is
   * taken for stuck and killed; default four batch limits, at least a minute.
   */
  readonly silenceMs?: number;
}

export interface SupervisorDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Where alerts committed by the worker are published (the API process's live stream). */
  readonly publish: (e: BusEvent) => void;
  /** Operator-visible log line (restarts, dead letters). */
  readonly log: (line: string) => void;
}

export type WorkerState = 'starting' | 'running' | 'careful' | 'restarting' | 'stopped';

export interface WorkerStatus {
  readonly pid: number | null;
  readonly state: WorkerState;
  readonly startedAt: string | null;
  readonly lastHeartbeatAt: string | null;
  /** Milliseconds since the worker last sent anything (since it was started when it has sent nothing yet; null: none runs). */
  readonly heartbeatAgeMs: number | null;
  /**
   * Whether what the worker last said (its stats, warm-up progress) is out of date: a worker that
   * should be talking has been silent for more than STATUS_STALE_MS.
   */
  readonly stale: boolean;
  readonly restarts: number;
  /** The batch in progress: seqs, events, how long so far. */
  readonly batch: { readonly from: number; readonly to: number; readonly events: number; readonly runningMs: number } | null;
  readonly lastExit: { readonly at: string; readonly code: number | null; readonly signal: string | null; readonly reason: string } | null;
  /** Events matched per second over the last minute of batches. */
  readonly eventsPerSecond: number;
  readonly stats: WorkerStats | null;
}

interface Batch { from: number; to: number; events: number; startedMs: number }

const RATE_WINDOW_MS = 60_000;
/** Meta key holding the supervisor's last view of its workers, for `shieldwall status` (another process). */
export const WORKERS_STATUS_KEY = 'detect.workers';
const PERSIST_MS = 2_000;
/**
 * Age beyond which a status is out of date: a worker heartbeats every second, and a running
 * supervisor saves its snapshot every PERSIST_MS whatever its worker does.
 */
export const STATUS_STALE_MS = 10_000;

/** What the supervisor saves under WORKERS_STATUS_KEY. */
export interface WorkersSnapshot {
  readonly at: string;
  readonly supervisorPid: number;
  readonly workers: readonly WorkerStatus[];
}

/**
 * A saved snapshot as read by another process (`shieldwall status`): with its age, and `stale`
 * when it is older than STATUS_STALE_MS — its supervisor stopped saving (serve is gone, or
 * stopped), so the workers' rows say what was true then, not now.
 */
export function readWorkersSnapshot(raw: string, nowMs: number): { savedAt: string; ageMs: number; stale: boolean; supervisorPid: number; list: readonly WorkerStatus[] } {
  const s = JSON.parse(raw) as WorkersSnapshot;
  const ageMs = Math.max(0, nowMs - Date.parse(s.at));
  return { savedAt: s.at, ageMs, stale: !(ageMs <= STATUS_STALE_MS), supervisorPid: s.supervisorPid, list: s.workers };
}
const WORKER_NICENESS = 5;
const MAX_BACKOFF_MS = 30_000;

export class WorkerSupervisor {
  #child: ChildProcess | null = null;
  #state: WorkerState = 'stopped';
  #running = false;
  #restarts = 0;
  #startedMs: number | null = null;
  #lastBeatMs: number | null = null;
  #batch: Batch | null = null;
  #careful = false;
  /** The seq the current worker's careful pass goes through (null: not careful). */
  #carefulThrough: number | null = null;
  /** Failed attempts of the batch the careful pass goes through (its events then count one more). */
  #carefulBase = 0;
  #lastRule: string | null = null;
  #lastExit: WorkerStatus['lastExit'] = null;
  /** Failed attempts per batch (by its first seq). */
  readonly #failures = new Map<number, number>();
  /** Why the supervisor killed the current child (null: it died on its own). */
  #killReason: string | null = null;
  #stats: WorkerStats | null = null;
  #done: { atMs: number; events: number }[] = [];
  #watchdog: NodeJS.Timeout | null = null;
  #backoffMs = 250;
  #syncId = 0;
  readonly #syncs = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #exited: Promise<void> = Promise.resolve();
  #persistedMs = 0;

  constructor(private readonly deps: SupervisorDeps, private readonly options: SupervisorOptions) {}

  /** Whether it runs (or restarts) a worker now: between start() and stop(). */
  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn(null);
    this.#watchdog = setInterval(() => this.#check(), watchdogPeriodMs(this.options.batchTimeoutMs));
    this.#watchdog.unref();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const s of this.#syncs.values()) s.reject(new Error('the detection worker stopped'));
    this.#syncs.clear();
    const child = this.#child;
    if (child) await stopWorkerProcess(child, this.#exited, () => this.#send({ t: 'stop' }));
    this.#state = 'stopped';
    this.#persist(true);
  }

  /** Tells the worker new events are in the spool. */
  wake(): void {
    this.#send({ t: 'wake' });
  }

  /** Resolves when the worker has re-read intel, rules and the directory from the store. */
  sync(): Promise<void> {
    if (!this.#child || this.#state === 'stopped') return Promise.reject(new Error('no detection worker is running'));
    const id = ++this.#syncId;
    return new Promise<void>((resolve, reject) => {
      this.#syncs.set(id, { resolve, reject });
      this.#send({ t: 'sync', id });
    });
  }

  status(): WorkerStatus {
    const now = this.deps.clock.now();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const since = this.#child ? (this.#lastBeatMs ?? this.#startedMs) : null;
    const heartbeatAgeMs = since === null ? null : Math.max(0, now - since);
    return {
      pid: this.#child?.pid ?? null, state: this.#state, startedAt: iso(this.#startedMs), lastHeartbeatAt: iso(this.#lastBeatMs),
      heartbeatAgeMs, stale: heartbeatAgeMs !== null && expectsProgress(this.#state) && heartbeatAgeMs > STATUS_STALE_MS, restarts: this.#restarts,
      batch: this.#batch ? { from: this.#batch.from, to: this.#batch.to, events: this.#batch.events, runningMs: Math.round(performance.now() - this.#batch.startedMs) } : null,
      lastExit: this.#lastExit, eventsPerSecond: this.eventsPerSecond(now), stats: this.#stats,
    };
  }

  eventsPerSecond(nowMs = this.deps.clock.now()): number {
    this.#done = this.#done.filter((d) => nowMs - d.atMs < RATE_WINDOW_MS);
    if (this.#done.length === 0) return 0;
    const events = this.#done.reduce((n, d) => n + d.events, 0);
    const spanMs = Math.max(1_000, nowMs - this.#done[0]!.atMs);
    return Math.round((events / spanMs) * 1000);
  }

  #spawn(carefulThrough: number | null): void {
    this.#state = 'starting';
    this.#careful = carefulThrough !== null;
    this.#carefulThrough = carefulThrough;
    this.#lastRule = null;
    this.#batch = null;
    this.#killReason = null;
    // Only WORKER_EXEC_ARGV: a test runner's loader flags must not reach the worker.
    const child = fork(this.options.entry(), ['worker', '--supervised'], { env: { ...this.options.env }, execArgv: [...WORKER_EXEC_ARGV], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.#child = child;
    // Detection yields the CPU to the process that answers HTTP: on a busy machine (a worker
    // spinning on a hostile event, several workers) requests keep their latency.
    if (child.pid !== undefined) {
      try {
        os.setPriority(child.pid, Math.min(19, os.getPriority(process.pid) + WORKER_NICENESS));
      } catch {
        // Not permitted here: the worker runs at the server's priority.
      }
    }
    this.#startedMs = this.deps.clock.now();
    this.#lastBeatMs = null;
    this.#exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
      this.#onExit(child, code, signal);
      resolve();
    }));
    child.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.#onMessage(m, carefulThrough);
    });
    child.on('error', (e) => this.deps.log(`detection worker: ${e.message}`));
  }

  #send(m: SupervisorMessage): void {
    const c = this.#child;
    if (c && c.connected) c.send(m, () => undefined);
  }

  #onMessage(m: WorkerMessage, carefulThrough: number | null): void {
    this.#lastBeatMs = this.deps.clock.now();
    switch (m.t) {
      case 'ready':
        this.#stats = m.stats;
        this.#state = carefulThrough === null ? 'running' : 'careful';
        this.#send({ t: 'go', carefulThrough });
        return;
      case 'heartbeat':
        this.#stats = m.stats;
        this.#persist(false);
        return;
      case 'batch':
        this.#batch = { from: m.from, to: m.to, events: m.events, startedMs: performance.now() };
        this.#lastRule = null;
        return;
      case 'done':
        this.#batch = null;
        this.#failures.delete(m.from);
        this.#backoffMs = 250;
        this.#done.push({ atMs: this.deps.clock.now(), events: m.events });
        return;
      case 'rule':
        this.#lastRule = m.ref;
        return;
      case 'alert':
        this.deps.publish(m.event);
        return;
      case 'synced': {
        const s = this.#syncs.get(m.id);
        this.#syncs.delete(m.id);
        if (m.error === undefined) s?.resolve();
        else s?.reject(new Error(m.error));
        return;
      }
      case 'careful-done':
        this.#careful = false;
        this.#state = 'running';
        return;
      case 'event': // scale-out workers' careful pass only (scale/supervisor.ts)
        return;
    }
  }

  #check(): void {
    // Saved from here too, so the snapshot stays fresh while the worker is silent or restarting.
    this.#persist(false);
    const b = this.#batch;
    if (this.#killReason !== null || !this.#child) return;
    // Outside a batch a worker still sends a heartbeat every second — starting, warming up (the
    // replay yields to its event loop between slices), careful or running; one silent for four
    // batch limits (at least a minute) is stuck outside a batch (start-up, a sync, a flush, or a
    // careful pass whose `batch` message never came) and restarted. A worker that makes progress
    // keeps talking, so it is never killed here.
    const silentMs = this.deps.clock.now() - (this.#lastBeatMs ?? this.#startedMs ?? this.deps.clock.now());
    if (!b && expectsProgress(this.#state) && silentMs > (this.options.silenceMs ?? Math.max(60_000, 4 * this.options.batchTimeoutMs))) {
      this.#killReason = `the worker sent nothing for ${Math.round(silentMs / 1000)} s`;
      this.#child.kill('SIGKILL');
      return;
    }
    if (!b) return;
    if (performance.now() - b.startedMs <= this.options.batchTimeoutMs) return;
    this.#killReason = `the worker spent more than ${this.options.batchTimeoutMs} ms (SHIELDWALL_WORKER_BATCH_TIMEOUT_MS) on ${b.from === b.to ? `event ${b.from}` : `events ${b.from}-${b.to}`}`;
    this.#child.kill('SIGKILL');
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    const reason = this.#killReason ?? (signal ? `the worker was ended by ${signal}` : `the worker exited with code ${code}`);
    this.#lastExit = { at: new Date(this.deps.clock.now()).toISOString(), code, signal, reason };
    for (const s of this.#syncs.values()) s.reject(new Error(`the detection worker stopped: ${reason}`));
    this.#syncs.clear();
    this.#child = null;
    // The state saved with the exit is what follows it, never `running` without a process.
    this.#state = this.#running ? 'restarting' : 'stopped';
    if (this.#running) this.#restarts++;
    this.#persist(true);
    if (!this.#running) return;
    const b = this.#batch;
    const careful = this.#careful;
    const carefulThrough = this.#carefulThrough;
    const rule = this.#lastRule;
    void this.#recover(b, { careful, carefulThrough, rule, reason }).catch((e: unknown) => {
      this.deps.log(`detection worker: recovery failed: ${e instanceof Error ? e.message : String(e)}`);
      this.#respawnLater(careful ? carefulThrough : null);
    });
  }

  /** After a worker died: retry, go careful, or dead-letter the one event, then restart. */
  async #recover(b: Batch | null, o: { careful: boolean; carefulThrough: number | null; rule: string | null; reason: string }): Promise<void> {
    if (b === null) {
      // Died between batches (start-up, warm-up, sync, a store error): restart with a growing
      // pause — still careful if it was (the batch that failed twice is still ahead).
      const again = o.careful ? o.carefulThrough : null;
      this.deps.log(`detection worker: ${o.reason}; restarting${again !== null ? ' (careful pass)' : ''} in ${this.#backoffMs} ms`);
      this.#respawnLater(again);
      return;
    }
    const attempts = (this.#failures.get(b.from) ?? 0) + 1;
    if (o.careful && b.from === b.to) {
      this.#failures.delete(b.from);
      await this.#deadLetter(b.from, { reason: o.reason, ruleRef: o.rule, attempts: this.#carefulBase + 1 });
      this.deps.log(`detection worker: event ${b.from} quarantined (${o.reason}${o.rule ? `; evaluating ${o.rule}` : ''}); restarting`);
      this.#spawn(null);
      return;
    }
    this.#failures.set(b.from, attempts);
    if (attempts < 2) {
      this.deps.log(`detection worker: ${o.reason}; restarting and retrying the batch`);
      this.#spawn(null);
      return;
    }
    this.deps.log(`detection worker: ${o.reason} again; restarting to process events ${b.from}-${b.to} one by one`);
    this.#carefulBase = attempts;
    this.#spawn(b.to);
  }

  async #deadLetter(seq: number, d: { reason: string; ruleRef: string | null; attempts: number }): Promise<void> {
    const { store, clock } = this.deps;
    const [row] = await store.readIngest(seq - 1, 1);
    if (!row || row.seq !== seq) return; // pruned or already passed: nothing left to quarantine
    const nowUs = clock.now() * 1000;
    await writeDeadLetter(store, row, d, nowUs);
  }

  /** Saves the status where another process (the CLI) can read it; at most every PERSIST_MS unless forced. */
  #persist(force: boolean): void {
    const now = this.deps.clock.now();
    if (!force && now - this.#persistedMs < PERSIST_MS) return;
    this.#persistedMs = now;
    const snapshot: WorkersSnapshot = { at: new Date(now).toISOString(), supervisorPid: process.pid, workers: [this.status()] };
    this.deps.store.setMeta(WORKERS_STATUS_KEY, JSON.stringify(snapshot)).catch(() => undefined);
  }

  #respawnLater(carefulThrough: number | null): void {
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    setTimeout(() => {
      if (this.#running && this.#child === null) this.#spawn(carefulThrough);
    }, wait).unref();
  }
}

/** States in which a live worker is expected to talk (heartbeats at least): the silence watchdog covers all of them. */
function expectsProgress(state: WorkerState): boolean {
  switch (state) {
    case 'starting':
    case 'running':
    case 'careful':
      return true;
    case 'restarting':
    case 'stopped':
      return false;
  }
}
