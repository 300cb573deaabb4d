/**
 * A scale-out detection worker (`shieldwall worker` with SHIELDWALL_NATS_URL): the detection
 * engine of a worker process (detect/worker), reading the JetStream partitions it owns instead
 * of the SQL spool, publishing its alerts to every API process through NATS.
 *
 * Loop: every second, rebalance the partitions (PostgreSQL leases, scale/owner.ts); then one
 * round of batches from the owned partitions for at most ROUND_MS; every SYNC_MS the round also
 * re-reads intel, rules, warninglists and the directory from the store (so a change reaches every
 * worker within about a second), ticks the anomaly detector and flushes sightings.
 */
import type { Clock } from '../core/clock.js';
import type { DetectOptions } from '../detect/pipeline/index.js';
import { WorkerRuntime, type WorkerMessage } from '../detect/worker/index.js';
import type { Store } from '../store/index.js';
import { PgLeases } from '../store/pg-leases.js';
import { BusBridge } from './fanout.js';
import { natsPipe } from './pipe.js';
import { checkPartitionCount, JetStreamSource } from './jetstream-source.js';
import { openNats, type NatsLink } from './nats.js';
import { PartitionOwner } from './owner.js';
import { warm } from '../detect/pipeline/warm.js';
import { DEFAULT_WINDOW } from '../detect/indicators/index.js';
import { partitionOf, scaleNames } from './partition.js';
import { PresenceAnnouncer, RateMeter } from './presence.js';
import { setEventTracer, setRuleTracer } from '../detect/trace.js';

const ROUND_MS = 500;
const REBALANCE_MS = 1_000;
const IDLE_MS = 100;
/** Intel, rules, warninglists and the directory are re-read this often (changes reach workers within it plus a round). */
const SYNC_MS = 1_000;

export interface ScaleWorkerSettings {
  readonly natsUrl: string;
  readonly prefix: string;
  readonly partitions: number;
  readonly maxBytes: number;
  readonly databaseUrl: string;
  readonly sigmaDir?: string | undefined;
  readonly sigmaPlaceholders?: string | undefined;
  readonly options: Partial<DetectOptions>;
  /** The presence id of the supervisor that forked this worker (scale/presence.ts). */
  readonly supervisorId?: string | null;
}

export interface ScaleWorkerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /**
   * The supervisor's channel (scale/supervisor.ts), when `shieldwall worker` forked this one:
   * batches, events and rules of a careful pass, heartbeats. Alerts go to NATS either way.
   */
  readonly report?: (m: WorkerMessage) => void;
  /** The supervisor's careful ranges when it started this worker (see `careful`), applied before the first batch. */
  readonly careful?: readonly { from: number; to: number }[];
}

const HEARTBEAT_MS = 1_000;

export class ScaleWorker {
  #running = true;
  #loop: Promise<void> = Promise.resolve();
  #owned = '';
  #heartbeat: NodeJS.Timeout | null = null;
  #presence: PresenceAnnouncer | null = null;

  private constructor(
    private readonly deps: ScaleWorkerDeps,
    private readonly parts: { link: NatsLink; bridge: BusBridge; source: JetStreamSource; rt: WorkerRuntime; leases: PgLeases; owner: PartitionOwner; partitions: number },
  ) {}

  static async start(deps: ScaleWorkerDeps, s: ScaleWorkerSettings): Promise<ScaleWorker> {
    const { store, clock } = deps;
    await checkPartitionCount(store, scaleNames(s.prefix).prefix, s.partitions);
    const link = await openNats({ url: s.natsUrl, prefix: s.prefix, partitions: s.partitions, maxBytes: s.maxBytes, maxAgeMs: s.options.spoolRetentionMs ?? 24 * 3_600_000, name: `shieldwall-worker ${process.pid}` });
    const bridge = BusBridge.start(natsPipe(link.nc), link.names.live, null);
    let rt: WorkerRuntime | null = null;
    const source = new JetStreamSource({
      link, store,
      // The longest window of state: STIX sequences (the index keeps an hour) or a Sigma correlation's timespan.
      warmMs: () => rt?.engine.warmMs() ?? DEFAULT_WINDOW.maxAgeMs,
      onTake: async (p) => {
        const engine = rt?.engine;
        const inP = (orgId: string) => partitionOf(orgId, s.partitions) === p;
        engine?.feed.index.forgetOrganisations(inP);
        engine?.deps.sigma?.snapshot().engine.forgetScopes(inP);
        // The anomaly baselines of those organisations as their previous owner saved them last
        // (saved merged, per organisation), where they have seen more than what this worker holds.
        await engine?.adoptAnomalies(inP);
      },
      onWarm: (rows) => {
        if (rt) warm(rt.engine.warmTarget(), rows);
      },
    });
    const send = (m: WorkerMessage): void => {
      if (m.t === 'alert') bridge.publish(m.event);
      else deps.report?.(m);
    };
    rt = await WorkerRuntime.open({ store, clock, channel: { send }, sigmaDir: s.sigmaDir, sigmaPlaceholders: s.sigmaPlaceholders, source }, s.options);
    // The indicator index is read whole before the worker joins (takes partitions): a member
    // holding partitions it cannot match yet would only delay their events, and the load would
    // be paid inside its first batch instead.
    await rt.engine.feed.sync();
    const leases = await PgLeases.open(s.databaseUrl, { name: `partitions:${link.names.prefix}`, member: true });
    const owner = new PartitionOwner(leases, source, s.partitions);
    const w = new ScaleWorker(deps, { link, bridge, source, rt, leases, owner, partitions: s.partitions });
    if (deps.report) {
      const report = deps.report;
      w.#heartbeat = setInterval(() => report({ t: 'heartbeat', stats: rt.stats() }), HEARTBEAT_MS);
      w.#heartbeat.unref();
    }
    if (deps.careful?.length) w.careful(deps.careful);
    const rate = new RateMeter();
    w.#presence = new PresenceAnnouncer(link.nc, link.names.prefix, () => {
      const st = rt.stats();
      return {
        role: 'worker', partitionsTotal: s.partitions,
        worker: {
          partitions: source.owned(), backlog: source.backlog(), processed: st.processed, alertsWritten: st.alertsWritten,
          eventsPerSecond: rate.sample(st.processed), indicators: st.indicators, sigmaRules: st.sigmaRules, supervisorId: s.supervisorId ?? null,
          feedCursorUs: Number(st.feed.cursor) || 0,
        },
      };
    }).start();
    w.#loop = w.#run();
    return w;
  }

  /**
   * The supervisor's careful pass: for events whose seq falls in one of `ranges` (batches that
   * failed twice), report each event and each rule before evaluating it, so that a worker killed
   * on one names it. Empty ranges: off (the normal path pays one null check per event and rule).
   */
  careful(ranges: readonly { from: number; to: number }[]): void {
    const report = this.deps.report;
    if (!report || ranges.length === 0) {
      setEventTracer(null);
      setRuleTracer(null);
      return;
    }
    let tracing = false;
    setEventTracer((seq) => {
      tracing = ranges.some((r) => seq >= r.from && seq <= r.to);
      if (tracing) report({ t: 'event', seq });
    });
    setRuleTracer((ref) => {
      if (tracing) report({ t: 'rule', ref });
    });
  }

  /** Partitions this worker processes now. */
  owned(): number[] {
    return this.parts.source.owned();
  }

  /** Resolves when the loop ends (stopped, or failed: the lease connection was lost). */
  done(): Promise<void> {
    return this.#loop;
  }

  async #run(): Promise<void> {
    const { source, rt, owner } = this.parts;
    const engine = rt.engine;
    let rebalanced = 0;
    let synced = 0;
    while (this.#running) {
      if (Date.now() - rebalanced >= REBALANCE_MS) {
        rebalanced = Date.now();
        const taken = await owner.rebalance();
        // The groups of alerts of the organisations taken over were written by their previous owner
        // (their anomaly baselines were taken over with each partition: onTake).
        if (taken.length > 0) await engine.alerts.load(this.deps.store, this.deps.clock.now());
        const now = this.owned().join(',');
        if (now !== this.#owned) {
          this.#owned = now;
          this.deps.log(`worker ${process.pid} partitions: [${now}]`);
        }
      }
      const before = engine.stats().processed;
      source.beginRound(ROUND_MS);
      // The full round (store re-read, anomaly tick, sightings) at most every SYNC_MS; batches in between.
      if (Date.now() - synced >= SYNC_MS) {
        synced = Date.now();
        await engine.periodic();
      } else {
        await engine.drain().catch(() => undefined); // a failed batch is re-read from the mark next round
      }
      if (engine.stats().processed === before && source.buffered() === 0) await new Promise((r) => setTimeout(r, IDLE_MS));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#presence?.stop();
    await this.#loop.catch(() => undefined);
    const { link, bridge, source, rt, leases, owner } = this.parts;
    await owner.releaseAll().catch(() => undefined);
    await source.close();
    await rt.stop();
    await leases.close();
    bridge.stop();
    await link.close();
  }
}
