/**
 * The supervisor of a machine's scale-out detection workers (`shieldwall worker` with
 * SHIELDWALL_NATS_URL, docs/deploying-at-scale.md): it forks `--processes` children
 * (`shieldwall worker --supervised`), each a ScaleWorker taking its share of the partitions,
 * and gives them the protection the embedded supervisor (detect/worker/supervisor.ts) gives the
 * node's worker:
 *
 * - a child that spends longer than SHIELDWALL_WORKER_BATCH_TIMEOUT_MS on one batch (or dies in
 *   it) is killed and restarted; its batch never committed (the partition's mark moves only with
 *   its alerts), so the batch is read again — by the restarted child or a sibling that took the
 *   partition over — and nothing acknowledged is lost;
 * - when the same batch (named by the partitions and marks it starts from: a retry may take more
 *   or fewer messages, never start elsewhere in a partition) fails a second time,
 *   every child is told to go through it carefully: naming each event and each rule before it
 *   evaluates it. A batch is one or more whole stream messages, so it cannot be split into one
 *   transaction per event as the embedded careful pass does; instead the event a child is killed
 *   on is known exactly, read back from the stream, and dead-lettered with the reason and the
 *   rule. The retried batch skips it (dead letters are skipped by seq) and every other event of
 *   the batch raises its alerts in one transaction.
 *
 * Failure counts are shared by every machine's supervisor through the store (`scale.<prefix>.fail.
 * <batch key>` in meta, counted by compare-and-set): a batch that kills a worker on one machine
 * and then, its partition taken over, on another has failed twice, and whichever supervisor runs
 * it next has it gone through carefully and quarantines the event. Each supervisor also keeps its
 * own count (the store unreachable, its own children still converge).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import { isWorkerMessage, stopWorkerProcess, watchdogPeriodMs, WORKER_EXEC_ARGV, writeDeadLetter, type SupervisorMessage, type WorkerMessage } from '../detect/worker/protocol.js';
import { splitEventSeq } from './codec.js';
import { rowsOfStored } from './jetstream-source.js';
import type { NatsLink } from './nats.js';
import { PresenceAnnouncer } from './presence.js';

export interface ScaleSupervisorOptions {
  /** The built CLI, started as `<entry> worker --supervised`. */
  readonly entry: () => string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly batchTimeoutMs: number;
  /** Worker processes to keep running. */
  readonly processes: number;
  /** Environment variable that hands a new worker the careful ranges (JSON) before its first batch. */
  readonly carefulEnv: string;
  /** Environment variable that hands a new worker this supervisor's presence id. */
  readonly supervisorEnv: string;
  /** Partitions of the deployment (reported with the presence). */
  readonly partitions: number;
}

export interface ScaleSupervisorDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Reads a quarantined event back from the telemetry stream. */
  readonly link: NatsLink;
  readonly log: (line: string) => void;
}

interface Child {
  readonly slot: number;
  readonly proc: ChildProcess;
  readonly startedMs: number;
  lastBeatMs: number;
  /** `keys`: the partitions and marks the batch starts from (what names it across retries). */
  batch: { from: number; to: number; keys: readonly string[]; startedMs: number } | null;
  /** Careful pass: the event and rule last named in the current batch. */
  event: number | null;
  rule: string | null;
  killReason: string | null;
  readonly exited: Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

export class ScaleSupervisor {
  readonly #children: (Child | null)[];
  #running = false;
  #watchdog: NodeJS.Timeout | null = null;
  #prune: NodeJS.Timeout | null = null;
  /** Failed attempts per batch key (a partition and its mark). */
  readonly #failures = new Map<string, number>();
  /** Keys of batches that failed twice, with the events to go through carefully until they commit. */
  readonly #careful = new Map<string, { from: number; to: number }>();
  #restarts = 0;
  #deadLetters = 0;
  #backoffMs = 250;
  readonly #presence: PresenceAnnouncer;

  constructor(private readonly deps: ScaleSupervisorDeps, private readonly options: ScaleSupervisorOptions) {
    this.#children = Array.from({ length: Math.max(1, options.processes) }, () => null);
    this.#presence = new PresenceAnnouncer(deps.link.nc, deps.link.names.prefix, () => ({ role: 'worker-supervisor', partitionsTotal: options.partitions, supervisor: this.stats() }));
  }

  /** Restarts so far and events quarantined (status, tests). */
  stats(): { processes: number; pids: number[]; restarts: number; deadLetters: number; careful: number } {
    return {
      processes: this.#children.length, pids: this.#children.flatMap((c) => (c?.proc.pid !== undefined ? [c.proc.pid] : [])),
      restarts: this.#restarts, deadLetters: this.#deadLetters, careful: this.#careful.size,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (let i = 0; i < this.#children.length; i++) this.#spawn(i);
    this.#watchdog = setInterval(() => this.#check(), watchdogPeriodMs(this.options.batchTimeoutMs));
    this.#watchdog.unref();
    this.#presence.start();
    this.#prune = setInterval(() => void this.#pruneShared().catch(() => undefined), 600_000);
    this.#prune.unref();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#watchdog) clearInterval(this.#watchdog);
    if (this.#prune) clearInterval(this.#prune);
    this.#presence.stop();
    await Promise.all(this.#children.map((c) => (c ? stopWorkerProcess(c.proc, c.exited, () => this.#send(c, { t: 'stop' })) : undefined)));
  }

  #spawn(slot: number): void {
    // Only WORKER_EXEC_ARGV: a test runner's loader flags must not reach the worker.
    // A restarted worker learns the careful ranges before its first batch (a message could come after it).
    const env = { ...this.options.env, [this.options.carefulEnv]: JSON.stringify([...this.#careful.values()]), [this.options.supervisorEnv]: this.#presence.id };
    const proc = fork(this.options.entry(), ['worker', '--supervised'], { env, execArgv: [...WORKER_EXEC_ARGV], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const now = this.deps.clock.now();
    let resolveExit!: () => void;
    const child: Child = {
      slot, proc, startedMs: now, lastBeatMs: now, batch: null, event: null, rule: null, killReason: null,
      exited: new Promise<void>((r) => (resolveExit = r)),
    };
    this.#children[slot] = child;
    proc.once('exit', (code, signal) => {
      resolveExit();
      void this.#onExit(child, code, signal).catch((e: unknown) => {
        this.deps.log(`worker supervisor: recovery failed: ${e instanceof Error ? e.message : String(e)}`);
        this.#respawnLater(slot);
      });
    });
    proc.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.#onMessage(child, m);
    });
    proc.on('error', (e) => this.deps.log(`worker supervisor: ${e.message}`));
  }

  #send(c: Child, m: SupervisorMessage): void {
    if (c.proc.connected) c.proc.send(m, () => undefined);
  }

  #broadcastCareful(): void {
    const ranges = [...this.#careful.values()];
    for (const c of this.#children) if (c) this.#send(c, { t: 'careful', ranges });
  }

  #onMessage(c: Child, m: WorkerMessage): void {
    c.lastBeatMs = this.deps.clock.now();
    switch (m.t) {
      case 'ready':
        this.#send(c, { t: 'careful', ranges: [...this.#careful.values()] });
        return;
      case 'batch':
        c.batch = { from: m.from, to: m.to, keys: m.keys ?? [String(m.from)], startedMs: performance.now() };
        c.event = null;
        c.rule = null;
        return;
      case 'done': {
        const keys = c.batch?.keys ?? [String(m.from)];
        c.batch = null;
        this.#backoffMs = 250;
        let changed = false;
        for (const k of keys) {
          if (this.#failures.delete(k)) void this.deps.store.deleteMeta(this.#failKey(k)).catch(() => undefined);
          changed = this.#careful.delete(k) || changed;
        }
        if (changed) this.#broadcastCareful();
        return;
      }
      case 'event':
        c.event = m.seq;
        c.rule = null;
        return;
      case 'rule':
        c.rule = m.ref;
        return;
      case 'heartbeat': // counted above
      case 'alert': // alerts travel through NATS, not through the supervisor
      case 'synced':
      case 'careful-done': // the embedded supervisor's messages
        return;
    }
  }

  #check(): void {
    const now = this.deps.clock.now();
    for (const c of this.#children) {
      if (!c || c.killReason !== null || c.proc.exitCode !== null) continue;
      const b = c.batch;
      if (b && performance.now() - b.startedMs > this.options.batchTimeoutMs) {
        c.killReason = `the worker spent more than ${this.options.batchTimeoutMs} ms (SHIELDWALL_WORKER_BATCH_TIMEOUT_MS) on ${b.from === b.to ? `event ${b.from}` : `events ${b.from}-${b.to}`}`;
        c.proc.kill('SIGKILL');
        continue;
      }
      // A worker sends a heartbeat every second; one silent for four batch limits (at least a
      // minute) outside a batch is stuck (a sync, a warm-up replay) and is restarted.
      const silentMs = now - c.lastBeatMs;
      if (!b && silentMs > Math.max(60_000, 4 * this.options.batchTimeoutMs)) {
        c.killReason = `the worker sent nothing for ${Math.round(silentMs / 1000)} s`;
        c.proc.kill('SIGKILL');
      }
    }
  }

  async #onExit(c: Child, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.#children[c.slot] !== c) return;
    this.#children[c.slot] = null;
    if (!this.#running) return;
    this.#restarts++;
    const reason = c.killReason ?? (signal ? `the worker was ended by ${signal}` : `the worker exited with code ${code}`);
    const b = c.batch;
    if (b === null) {
      this.deps.log(`worker supervisor: worker ${c.proc.pid}: ${reason}; restarting in ${this.#backoffMs} ms`);
      this.#respawnLater(c.slot);
      return;
    }
    let attempts = 0;
    for (const k of b.keys) {
      const n = Math.max((this.#failures.get(k) ?? 0) + 1, await this.#countShared(k));
      this.#failures.set(k, n);
      attempts = Math.max(attempts, n);
    }
    const careful = b.keys.some((k) => this.#careful.has(k));
    if (careful && c.event !== null && c.event >= b.from && c.event <= b.to) {
      const quarantined = await this.#deadLetter(c.event, { reason, ruleRef: c.rule, attempts });
      this.deps.log(`worker supervisor: event ${c.event} ${quarantined ? 'quarantined' : 'no longer in the stream'} (${reason}${c.rule ? `; evaluating ${c.rule}` : ''}); restarting`);
    } else if (attempts >= 2) {
      // The event that hangs is among this attempt's events [from, to]: the next attempt (whatever
      // else it takes) reads it again, and names it.
      for (const k of b.keys) {
        if ((this.#failures.get(k) ?? 0) < 2) continue;
        const had = this.#careful.get(k);
        this.#careful.set(k, had ? { from: Math.min(had.from, b.from), to: Math.max(had.to, b.to) } : { from: b.from, to: b.to });
      }
      this.#broadcastCareful();
      this.deps.log(`worker supervisor: ${reason} again; restarting to go through events ${b.from}-${b.to} carefully`);
    } else {
      this.deps.log(`worker supervisor: ${reason}; restarting and retrying the batch`);
    }
    this.#spawn(c.slot);
  }

  #failKey(batchKey: string): string {
    return `scale.${this.deps.link.names.prefix}.fail.${batchKey}`;
  }

  /**
   * Counts one failure of a batch in the store, shared by the supervisors of every machine: a
   * batch that kills a worker on one machine and then, taken over, on another has failed twice
   * and is gone through carefully wherever it runs next. Value: `<count> <ms of the last failure>`.
   * 0 when the store cannot be reached (the count of this process then decides alone).
   */
  async #countShared(batchKey: string): Promise<number> {
    const { store, clock } = this.deps;
    const key = this.#failKey(batchKey);
    try {
      for (let i = 0; i < 20; i++) {
        const cur = await store.initMeta(key, '0 0');
        const n = (Number(cur.split(' ')[0]) || 0) + 1;
        if (await store.casMeta(key, cur, `${n} ${clock.now()}`)) return n;
      }
    } catch (e) {
      this.deps.log(`worker supervisor: could not count the failure in the store: ${e instanceof Error ? e.message : String(e)}`);
    }
    return 0;
  }

  /** Drops shared failure counts of batches that have not failed for an hour (they committed since, somewhere). */
  async #pruneShared(): Promise<void> {
    const { store, clock } = this.deps;
    const prefix = this.#failKey('');
    for (const { key, value } of await store.listMeta(prefix, 10_000)) {
      const at = Number(value.split(' ')[1]) || 0;
      if (clock.now() - at > 3_600_000) await store.deleteMeta(key);
    }
  }

  /** Quarantines one event of the stream, as the embedded supervisor does one of the spool. */
  async #deadLetter(seq: number, d: { reason: string; ruleRef: string | null; attempts: number }): Promise<boolean> {
    const { store, clock, link } = this.deps;
    const { streamSeq } = splitEventSeq(seq);
    const msg = await link.jsm.streams.getMessage(link.names.stream, { seq: streamSeq }).catch(() => null);
    const row = msg ? rowsOfStored(msg).find((r) => r.seq === seq) : undefined;
    if (!row) return false; // aged out of the stream: nothing left to quarantine
    const nowUs = clock.now() * 1000;
    await writeDeadLetter(store, row, d, nowUs);
    this.#deadLetters++;
    return true;
  }

  #respawnLater(slot: number): void {
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    setTimeout(() => {
      if (this.#running && this.#children[slot] === null) this.#spawn(slot);
    }, wait).unref();
  }
}
