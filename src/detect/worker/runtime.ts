/**
 * A detection worker process (`shieldwall worker`): the engine on the node's store, driven by a
 * supervisor over a message channel (Node IPC when `serve` forked it) or on its own.
 *
 * Before each batch it tells the supervisor which events it takes; in the careful pass (a batch
 * that already failed twice) it takes them one per transaction and names every rule before
 * evaluating it, so a supervisor that kills it knows the event and the rule (DESIGN §2.7).
 */
import { EventBus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { AccessService } from '../../access/index.js';
import { IntelService, Warninglists } from '../../intel/index.js';
import type { Store } from '../../store/index.js';
import type { DetectEngine } from '../pipeline/engine.js';
import type { DetectOptions } from '../pipeline/detect-types.js';
import { SigmaRules } from '../rules.js';
import type { SupervisorMessage, WorkerMessage, WorkerStats } from './protocol.js';
import { createEngine } from './wiring.js';
import type { EventSource } from '../pipeline/source.js';

export interface WorkerChannel {
  /** Sends to the supervisor; a no-op for a worker running on its own. */
  send(m: WorkerMessage): void;
}

export interface WorkerRuntimeDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly channel: WorkerChannel;
  readonly sigmaDir?: string | undefined;
  readonly sigmaPlaceholders?: string | undefined;
  /** Where events come from (default: the SQL spool); scale-out workers read their JetStream partitions. */
  readonly source?: EventSource;
  /** How often the worker says it is alive (with its stats, warm-up progress included); default 1 s. */
  readonly heartbeatMs?: number;
}

const HEARTBEAT_MS = 1_000;

export class WorkerRuntime {
  #heartbeat: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(private readonly deps: WorkerRuntimeDeps, readonly engine: DetectEngine, private readonly sigma: SigmaRules) {}

  static async open(deps: WorkerRuntimeDeps, options: Partial<DetectOptions>): Promise<WorkerRuntime> {
    const { store, clock, channel } = deps;
    // The worker authenticates nobody: the limiter settings are never used here.
    const access = new AccessService(store, clock, { authFailureLimit: 1, authFailureWindowMs: 1 });
    const intel = new IntelService(store, clock);
    const sigma = await SigmaRules.open({ store, access, clock, bus: new EventBus() }, { dir: deps.sigmaDir, placeholdersFile: deps.sigmaPlaceholders });
    const warninglists = new Warninglists(store, clock);
    await warninglists.load();
    const engine = await createEngine({
      store, clock, intel, sigma, warninglists, ...(deps.source ? { source: deps.source } : {}),
      publish: (event) => channel.send({ t: 'alert', event }),
      observer: {
        batchStart: (b) => channel.send({ t: 'batch', ...b }),
        batchDone: (b) => channel.send({ t: 'done', ...b }),
      },
    }, options);
    const rt = new WorkerRuntime(deps, engine, sigma);
    channel.send({ t: 'ready', pid: process.pid, stats: rt.stats() });
    return rt;
  }

  stats(): WorkerStats {
    return { ...this.engine.stats(), feed: { ...this.engine.feed.stats() }, rssBytes: process.memoryUsage().rss };
  }

  /**
   * Runs the loop. `carefulThrough`: the events through that seq failed twice as a batch, so
   * they are first processed one per transaction with every rule named before it runs.
   */
  async go(carefulThrough: number | null): Promise<void> {
    const { channel } = this.deps;
    this.#heartbeat = setInterval(() => channel.send({ t: 'heartbeat', stats: this.stats() }), this.deps.heartbeatMs ?? HEARTBEAT_MS);
    this.#heartbeat.unref();
    if (carefulThrough !== null) {
      // Rules are named for the careful batches' own events only: the warm-up replay before the
      // first of them (an hour of telemetry) would send millions of names, and the `batch` message
      // naming the hostile event would wait behind them while it spins (the supervisor would never
      // learn which event to quarantine).
      await this.engine.drain({ batchSize: 1, throughSeq: carefulThrough, trace: (ref) => channel.send({ t: 'rule', ref }) });
      channel.send({ t: 'careful-done', throughSeq: carefulThrough });
    }
    this.engine.start();
  }

  async handle(m: SupervisorMessage): Promise<void> {
    switch (m.t) {
      case 'go':
        await this.go(m.carefulThrough);
        return;
      case 'wake':
        this.engine.wake();
        return;
      case 'sync':
        try {
          await this.sync();
          this.deps.channel.send({ t: 'synced', id: m.id });
        } catch (e) {
          this.deps.channel.send({ t: 'synced', id: m.id, error: e instanceof Error ? e.message : String(e) });
        }
        return;
      case 'stop':
        await this.stop();
        return;
      case 'careful':
        return; // scale-out workers only: the embedded worker's careful pass is per transaction (go)
    }
  }

  /** Directory, warninglists, Sigma rules and indicators as the store holds them now. */
  async sync(): Promise<void> {
    await this.engine.sync();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      await this.engine.stop();
    })();
    return this.#stopping;
  }
}
