/**
 * The detection engine: what a worker process runs (`shieldwall worker`, docs/pipeline.md).
 *
 *   event source (spool by seq) ──▶ indicator index · Sigma engine · anomaly detector
 *     ──▶ alerts (grouped) + rate counters + source position, in ONE transaction ──▶ published
 *     ──▶ sightings back to the producers (STIX, every interval)
 *
 * The position moves only with the alerts its events produced, so a crash or a kill re-processes
 * at most the batch in flight (alerts are grouped: a replayed batch adds to the same alerts).
 * Events the supervisor dead-lettered are skipped (and passed by the position).
 */
import type { BusEvent } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { SYSTEM_ACTOR } from '../../access/index.js';
import type { IntelService } from '../../intel/index.js';
import type { IngestRow, RateRow, Store } from '../../store/index.js';
import type { NormalisedEvent, TelemetryFormat } from '../normalise/index.js';
import { eventTimeMs, normaliseLine } from '../normalise/index.js';
import { DEFAULT_WINDOW, type IndicatorMatch } from '../indicators/index.js';
import type { SigmaMatch } from '../sigma/index.js';
import { setRuleTracer, traceEvent, traceRule } from '../trace.js';
import { unscopedRuleId } from '../rules.js';
import { AlertBook, type Written } from './alert-book.js';
import type { Alert, AlertSeverity, AlertStatus, Matched } from './alert-types.js';
import { ALERT, alertOwnerOnly } from './alert-types.js';
import { DEFAULT_DETECT_OPTIONS, TEST_HANG_MARKER, type AnomalyFindingLike, type AnomalySource, type DetectOptions, type DetectStats, type SigmaSource, type WarninglistSource } from './detect-types.js';
import { Directory } from './directory.js';
import { IndicatorFeed, type IndicatorInfo } from './feed.js';
import { entityOf, indicatorSeverity, LEVELS, sigmaView, valueKind } from './hits.js';
import { SightingBook } from './sightings.js';
import type { EventSource } from './source.js';
import { warm, type WarmTarget } from './warm.js';
import { stateScope } from '../scope.js';

/** What a worker tells its supervisor while it works (heartbeats are the worker's own). */
export interface EngineObserver {
  /** Before matching the events [from, to] (their count may be smaller: dead letters are skipped). */
  batchStart(b: { from: number; to: number; events: number; keys?: string[] }): void;
  batchDone(b: { from: number; to: number; events: number; alerts: number; ms: number }): void;
}

export interface EngineDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly intel: IntelService;
  readonly source: EventSource;
  /** Where committed alerts go: the bus in-process, the supervisor's bus from a worker. */
  readonly publish: (e: BusEvent) => void;
  readonly sigma?: SigmaSource;
  readonly anomaly?: AnomalySource;
  readonly warninglists?: WarninglistSource;
  readonly observer?: EngineObserver;
}

/** See DetectEngine.#staticsOf. */
interface HitStatics {
  readonly via: IndicatorMatch['via'];
  readonly path: string | null;
  readonly value: string | null;
  readonly suppressed: boolean;
  readonly title: string;
  readonly severity: AlertSeverity;
  readonly techniques: readonly string[];
  readonly matched: Matched;
  readonly recipients: readonly string[];
}

const BUCKET_MS = 60_000;
const RATE_HORIZON_MS = 31 * 86_400_000;
/**
 * Rows the warm-up replays between two turns of the event loop: about 5–80 µs each (docs/pipeline.md),
 * so a slice holds the loop for well under a second and the worker's heartbeats and IPC writes go out.
 */
const WARM_SLICE_ROWS = 1_000;

/** Lets timers (the worker's heartbeat) and pending I/O (IPC writes) run before going on. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How a drain runs (see DetectEngine.drain). */
export interface DrainOptions {
  /** Events per transaction; 1 is the careful pass. */
  readonly batchSize?: number;
  /** Stop once the source position reached this seq. */
  readonly throughSeq?: number;
  /**
   * Told the ref of each rule before it is evaluated, for the batch's own events only (the
   * careful pass): never during the warm-up replay, whose rules would flood the channel.
   */
  readonly trace?: (ref: string) => void;
}

export class DetectEngine {
  /** Meta key of the saved anomaly baselines. */
  static readonly ANOMALY_KEY = 'detect.anomaly';
  readonly feed: IndicatorFeed;
  readonly alerts: AlertBook;
  readonly sightings: SightingBook;
  readonly directory = new Directory();
  readonly options: DetectOptions;
  #anomalySavedMs = 0;
  /** Whether the state held in memory was rebuilt from the source's history (before the first batch). */
  #warmed = false;
  #warmUp: { state: 'pending' | 'replaying' | 'done'; replayed: number } = { state: 'pending', replayed: 0 };
  #processed = 0;
  #alertsWritten = 0;
  #suppressed = 0;
  #running = false;
  #draining: Promise<number> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void)[] = [];
  /** Alert writes one after the other: a drain woken by an ingest may overlap the periodic anomaly tick. */
  #writes: Promise<unknown> = Promise.resolve();
  /** The rate row the last event of this batch counted in (null before its first). */
  #lastRate: RateRow | null = null;
  /**
   * What an indicator hit contributes whatever the event (title, severity, techniques, release,
   * warninglist verdict), by indicator, organisation, path and value; emptied before each batch,
   * so it never outlives the feed, directory and warninglists it was computed from.
   */
  #hitStatics = new Map<string, Map<string, Map<string, Map<string, HitStatics>>>>();

  private constructor(readonly deps: EngineDeps, options: DetectOptions) {
    this.options = options;
    this.feed = new IndicatorFeed(deps.store);
    this.alerts = new AlertBook(options.alertWindowMs);
    this.sightings = new SightingBook({
      store: deps.store, intel: deps.intel,
      allianceFor: (i) => this.directory.alliance.filter((b) => this.feed.releasedTo(i.facts, i.collectionId, b)),
      anonymousSigner: () => this.directory.alliance[0] ?? null,
    }, { mode: options.sightings, intervalMs: options.sightingIntervalMs });
  }

  static async create(deps: EngineDeps, options: Partial<DetectOptions> = {}): Promise<DetectEngine> {
    const e = new DetectEngine(deps, { ...DEFAULT_DETECT_OPTIONS, ...options });
    await e.refreshDirectory();
    // The feed is loaded by start() in the background, a slice at a time, so a large store does
    // not hold up the start (issue #8); events wait in the source until then (#batch).
    await e.alerts.load(deps.store, deps.clock.now());
    // New indicators committed in this process nudge the feed (it reads them once the writer is
    // quiet, so commits do not pay for it); others' on the next poll.
    e.#unsubscribe.push(deps.intel.onCommitted((c) => {
      if (c.types.has('indicator') || c.types.has('relationship') || c.types.has('attack-pattern')) e.feed.nudge();
    }));
    return e;
  }

  /** Organisations, groups, grants and the alliance bodies (after directory changes). */
  async refreshDirectory(): Promise<void> {
    await this.directory.refresh(this.deps.store);
    await this.feed.refreshPolicy();
  }

  stats(): DetectStats {
    return {
      processed: this.#processed, alertsWritten: this.#alertsWritten, suppressed: this.#suppressed, sightingsWritten: this.sightings.written,
      queueDepth: 0, indicators: this.feed.index.size, sigmaRules: this.deps.sigma?.snapshot().engine.rules.length ?? 0,
      warmUp: { ...this.#warmUp },
    };
  }

  /** Starts the loop: periodic intel poll, spool drain, anomaly tick, sightings, pruning. */
  start(pollMs = 2_000): void {
    if (this.#running) return;
    this.#running = true;
    this.feed.nudge();
    const tick = () => {
      if (!this.#running) return;
      void this.periodic().finally(() => {
        if (this.#running) this.#timer = setTimeout(tick, pollMs).unref();
      });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await this.#draining?.catch(() => undefined);
    await this.feed.stop();
    await this.sightings.flush(SYSTEM_ACTOR, { nowMs: this.deps.clock.now(), force: true }).catch(() => 0);
    await this.#saveAnomalies();
  }

  /** One round of the loop; a failed round is retried on the next (the source position is unchanged). */
  async periodic(): Promise<void> {
    try {
      await this.sync();
      await this.drain();
      const now = this.deps.clock.now();
      await this.#anomalyTick(now);
      if (now - this.#anomalySavedMs > 300_000) {
        this.#anomalySavedMs = now;
        await this.#saveAnomalies();
      }
      await this.sightings.flush(SYSTEM_ACTOR, { nowMs: now });
      this.alerts.expire(now);
      await this.deps.store.pruneIngest({ throughSeq: this.deps.source.position, receivedBeforeUs: (now - this.options.spoolRetentionMs) * 1000 });
    } catch {
      // Retried on the next tick.
    }
  }

  /** Brings directory, warninglists and the indicator index up to date with the store. */
  async sync(): Promise<void> {
    await this.refreshDirectory();
    await this.deps.warninglists?.refresh?.();
    await this.deps.sigma?.refresh?.();
    // Other processes' intel (a CLI import, an API process): read when quiet, or before the next
    // events are matched (#batch).
    this.feed.nudge();
  }

  /** Wakes the drain (after an ingest) when the loop runs. */
  wake(): void {
    if (this.#running && !this.#draining) void this.drain().catch(() => undefined);
  }

  /**
   * Processes the source until it is empty (or through `throughSeq`); returns the events
   * processed. `batchSize` 1 is the careful pass: one event per transaction.
   */
  drain(o: DrainOptions = {}): Promise<number> {
    if (this.#draining) return this.#draining;
    this.#draining = (async () => {
      let n = 0;
      try {
        for (;;) {
          if (o.throughSeq !== undefined && this.deps.source.position >= o.throughSeq) break;
          const got = await this.#batch(o.batchSize ?? this.options.batchSize, o.trace ?? null);
          n += got;
          if (got === 0) break;
        }
      } finally {
        this.#draining = null;
      }
      return n;
    })();
    return this.#draining;
  }

  /** One batch; returns the rows read (0: the source is empty). */
  async #batch(limit: number, trace: ((ref: string) => void) | null): Promise<number> {
    const { store, clock, source } = this.deps;
    await this.prepare();
    const rows = await source.read(limit);
    if (rows.length === 0) return 0;
    // Events are matched against every indicator committed before them: catch the feed up first
    // (the whole store at start; since the last nudge later). A failure leaves the events unread.
    if (!this.feed.loaded || this.feed.pending) await this.feed.sync();
    const t0 = performance.now();
    const from = rows[0]!.seq;
    const last = rows[rows.length - 1]!.seq;
    const dead = new Set(await store.deadLetterSeqs(from, last));
    const live = dead.size === 0 ? rows : rows.filter((r) => !dead.has(r.seq));
    this.deps.observer?.batchStart({ from, to: last, events: live.length, ...(source.batchKeys ? { keys: source.batchKeys() } : {}) });
    const rates = new Map<string, RateRow>();
    this.sightings.dropHits(); // what a batch that failed before its transaction had counted
    this.#hitStatics.clear();
    this.#lastRate = null;
    if (trace) setRuleTracer(trace);
    try {
      for (const row of live) {
        traceEvent(row.seq);
        this.#match(row, rates);
      }
    } finally {
      if (trace) setRuleTracer(null);
    }
    const nowUs = clock.now() * 1000;
    let written: Written[] = [];
    try {
      await this.#serial(() => store.transaction(async (tx) => {
        await source.commit(tx, last);
        // Read again once the cursor is ours: a dead letter lifted meanwhile (a retry before the
        // worker reached it, committed after the read above) is processed under its own seq, not
        // skipped. The retry reads the position with the cursor's row locked (dead-letters.ts).
        if (dead.size > 0) {
          const still = new Set(await tx.deadLetterSeqs(from, last));
          if ([...dead].some((seq) => !still.has(seq))) throw new Error(`a dead letter of events ${from}-${last} was retried meanwhile; reading the batch again`);
        }
        written = await this.alerts.flush(tx, nowUs);
        await tx.addRates([...rates.values()]);
        const created = written.filter((w) => w.created).length;
        await tx.appendAudit({
          atUs: nowUs, userId: null, orgId: null, tokenId: null, source: 'detect', action: 'detect.batch', target: `${from}-${last}`,
          detail: JSON.stringify({ events: live.length, skipped: rows.length - live.length, alertsCreated: created, alertsUpdated: written.length - created }),
        });
      }));
    } catch (e) {
      // The groups may name alerts that never committed; the position may have moved elsewhere.
      // The batch's sighting hits are counted when it is read again (or by the partition's new owner).
      this.sightings.dropHits();
      // The matchers counted this batch's events (correlation windows, STIX sequences): the next
      // batch first rebuilds them from the spool up to the cursor, so its events count once.
      if (source.history) this.#warmed = false;
      await this.alerts.load(store, clock.now());
      await source.reset();
      throw e;
    }
    source.committed(last);
    this.alerts.committed(written);
    this.sightings.commitHits();
    this.#processed += live.length;
    this.#alertsWritten += written.length;
    for (const w of written) this.#publish(w);
    this.deps.observer?.batchDone({ from, to: last, events: live.length, alerts: written.length, ms: performance.now() - t0 });
    return rows.length;
  }

  #match(row: IngestRow, rates: Map<string, RateRow>): void {
    if (this.options.testHooks && row.event.includes(TEST_HANG_MARKER)) hang();
    const event = this.#eventOf(row);
    if (event === null) return; // accepted at ingestion, so only a changed normaliser could refuse it now
    const t = eventTimeMs(event);
    const receivedMs = Math.floor(row.receivedUs / 1000);
    const atMs = Number.isFinite(t) ? t : receivedMs;
    // Rates follow when things happened, as long as the sensor's clock is plausible (not in
    // the future, not older than the picture's longest period); otherwise when they arrived.
    const rateMs = atMs <= receivedMs && receivedMs - atMs < RATE_HORIZON_MS ? atMs : receivedMs;
    const bucketUs = Math.floor(rateMs / BUCKET_MS) * BUCKET_MS * 1000;
    const rate = this.#rateOf(rates, bucketUs, row);
    rate.events++;
    const before = this.alerts.hits;
    traceRule('stage:indicators');
    // The real telemetry and each exercise keep their own windows and correlation groups.
    const scope = stateScope(event['organization.id'], row.exerciseId);
    this.#indicators(event, { atMs, exerciseId: row.exerciseId, scope });
    const sigma = this.deps.sigma?.snapshot();
    if (sigma) this.#sigma(sigma, event, { atMs, exerciseId: row.exerciseId, scope });
    // Anomaly rates run on reception time, the clock their silence checks (tick) also use. The
    // baselines are the organisation's real activity: an exercise's telemetry is judged against
    // them but never teaches them (docs/anomaly.md).
    traceRule('stage:anomaly');
    const a = this.deps.anomaly;
    if (a) {
      const found = row.exerciseId === null ? a.observe(event, receivedMs, { source: this.deps.source.name, seq: row.seq }) : (a.judge?.(event, receivedMs) ?? []);
      for (const f of found) this.#anomaly(f, row.exerciseId, event);
    }
    if (this.alerts.hits > before) rate.alerts++; // events that raised or joined an alert
  }

  /**
   * The rate row of (minute, organisation, sensor, exercise). Consecutive events almost always
   * share it (one request's lines, one minute), so the last one is kept and no key is built.
   */
  #rateOf(rates: Map<string, RateRow>, bucketUs: number, row: IngestRow): RateRow {
    const last = this.#lastRate;
    if (last !== null && last.bucketUs === bucketUs && last.orgId === row.orgId && last.sensorId === row.sensorId && last.exerciseId === row.exerciseId) return last;
    const rk = `${bucketUs}|${row.orgId}|${row.sensorId}|${row.exerciseId ?? ''}`;
    let rate = rates.get(rk);
    if (!rate) {
      rate = { orgId: row.orgId, sensorId: row.sensorId, bucketUs, exerciseId: row.exerciseId, events: 0, alerts: 0 };
      rates.set(rk, rate);
    }
    this.#lastRate = rate;
    return rate;
  }

  #eventOf(row: IngestRow): NormalisedEvent | null {
    if (row.format === null) {
      try {
        return JSON.parse(row.event) as NormalisedEvent;
      } catch {
        return null;
      }
    }
    const r = normaliseLine(row.format as TelemetryFormat, row.event, { orgId: row.orgId, sensorId: row.sensorId, receivedAt: Math.floor(row.receivedUs / 1000) }, { maxLineLength: this.options.maxLineLength, ...this.options.eventLimits });
    return r.ok ? r.event : null;
  }

  #indicators(event: NormalisedEvent, o: { atMs: number; exerciseId: string | null; scope: string }): void {
    for (const m of this.feed.index.match(event, o.scope)) {
      const info = this.feed.info(m.indicatorId);
      if (!info) continue;
      const orgId = event['organization.id'];
      const st = this.#staticsOf(info, orgId, m);
      if (st.suppressed) {
        this.#suppressed++;
        continue;
      }
      this.alerts.hit({
        orgId, sensorId: event['observer.id'], exerciseId: o.exerciseId, source: 'indicator', ref: info.id, title: st.title, severity: st.severity,
        techniques: st.techniques, matched: st.matched, entity: entityOf(event), recipients: st.recipients, event, atMs: o.atMs,
      });
      if (o.exerciseId === null) this.sightings.hit(info, orgId, { atMs: o.atMs, path: st.path, value: st.value });
    }
  }

  /** The parts of an indicator hit that depend on the indicator, the organisation, the path and the value only. */
  #staticsOf(info: IndicatorInfo, orgId: string, m: IndicatorMatch): HitStatics {
    const value = m.value === undefined || m.value === null ? null : String(m.value);
    const path = m.path ?? null;
    const byOrg = this.#hitStatics.get(info.id) ?? new Map<string, Map<string, Map<string, HitStatics>>>();
    const byPath = byOrg.get(orgId) ?? new Map<string, Map<string, HitStatics>>();
    const byValue = byPath.get(path ?? '') ?? new Map<string, HitStatics>();
    const had = byValue.get(value ?? '');
    if (had && had.via === m.via && had.path === path && had.value === value) return had;
    const st: HitStatics = {
      via: m.via, path, value,
      suppressed: path !== null && value !== null && this.deps.warninglists?.match(valueKind(path), value) != null,
      title: `Indicator ${info.name ? `"${info.name}"` : info.id} matched${path ? ` ${path}` : ''}${value ? ` = ${value}` : ''}`,
      severity: indicatorSeverity(info), techniques: this.feed.techniquesOf(info.id, orgId),
      matched: { kind: 'indicator', id: info.id, name: info.name, pattern: info.pattern, via: m.via, path, value, tactics: [...info.tactics] },
      recipients: this.directory.alliance.filter((b) => this.feed.releasedTo(info.facts, info.collectionId, b)),
    };
    byValue.set(value ?? '', st);
    byPath.set(path ?? '', byValue);
    byOrg.set(orgId, byPath);
    this.#hitStatics.set(info.id, byOrg);
    return st;
  }

  #sigma(sigma: ReturnType<SigmaSource['snapshot']>, event: NormalisedEvent, o: { atMs: number; exerciseId: string | null; scope: string }): void {
    const orgId = event['organization.id'];
    const logsource = event.logsource as Parameters<typeof sigma.engine.process>[2];
    // Most telemetry (network sensors) has no Sigma rule for its logsource: no view to build.
    if (logsource !== undefined && !sigma.engine.seesLogsource(logsource)) return;
    const matches: SigmaMatch[] = sigma.engine.process(sigmaView(event), o.atMs, logsource, o.scope);
    for (const m of matches) {
      const facts = sigma.releaseOf({ ...(m.ruleId ? { id: m.ruleId } : {}), title: m.title });
      if (!this.feed.releasedTo(facts, null, orgId)) continue;
      const group = m.correlation ? Object.entries(m.correlation.groupKey).map(([k, v]) => `${k}=${v}`).join(', ') : '';
      this.alerts.hit({
        orgId, sensorId: event['observer.id'], exerciseId: o.exerciseId, source: 'sigma', ref: unscopedRuleId(m.ruleId) ?? m.title,
        title: m.title, severity: LEVELS[m.level ?? 'medium'] ?? 'medium', techniques: [...m.attack],
        // The engine names stored rules by owner-scoped ids (detect/rules.ts): the alert shows the rule's own.
        matched: { kind: 'sigma', id: unscopedRuleId(m.ruleId) ?? null, title: m.title, level: m.level ?? null, tags: [...m.tags], correlation: m.correlation?.type ?? null },
        entity: group || entityOf(event), recipients: this.directory.alliance.filter((b) => this.feed.releasedTo(facts, null, b)),
        event, atMs: o.atMs,
      });
    }
  }

  #anomaly(f: AnomalyFindingLike, exerciseId: string | null, event: NormalisedEvent | null): void {
    this.alerts.hit({
      orgId: f.orgId, sensorId: f.sensorId, exerciseId, source: 'anomaly', ref: `${f.method}:${f.entity}`, title: f.title, severity: f.severity,
      techniques: [], matched: { kind: 'anomaly', method: f.method, expected: f.expected, seen: f.seen, score: f.score },
      entity: f.entity, recipients: this.directory.alliance, event, atMs: f.atMs,
    });
  }

  async #anomalyTick(nowMs: number): Promise<void> {
    const a = this.deps.anomaly;
    if (!a) return;
    for (const f of a.tick(nowMs)) this.#anomaly(f, null, null);
    if (this.alerts.pending === 0) return;
    let written: Written[] = [];
    try {
      await this.#serial(() => this.deps.store.transaction(async (tx) => {
        written = await this.alerts.flush(tx, nowMs * 1000);
      }));
    } catch (e) {
      await this.alerts.load(this.deps.store, nowMs); // as after a failed batch
      throw e;
    }
    this.alerts.committed(written);
    for (const w of written) this.#publish(w);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(fn, fn);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  /**
   * Saves the anomaly baselines, merged into what other workers saved (each keeps the
   * organisations it holds; compare-and-set, so two workers saving at once both land).
   */
  async #saveAnomalies(): Promise<void> {
    const a = this.deps.anomaly;
    if (!a) return;
    const { store } = this.deps;
    const key = DetectEngine.ANOMALY_KEY;
    try {
      for (let i = 0; i < 10; i++) {
        const cur = await store.getMeta(key);
        const next = JSON.stringify(a.mergedJSON ? a.mergedJSON(cur === null ? null : JSON.parse(cur)) : a.toJSON());
        if (cur === null ? (await store.initMeta(key, next)) === next : await store.casMeta(key, cur, next)) return;
      }
    } catch {
      // Not saved this time: the next save (or the stop) tries again.
    }
  }

  /**
   * How far before the last event processed a replay starts to rebuild every window: the
   * indicator index's sequences (an hour) or the longest Sigma correlation timespan.
   */
  warmMs(): number {
    return Math.max(DEFAULT_WINDOW.maxAgeMs, ...(this.deps.sigma?.snapshot().engine.correlations.map((c) => c.timespanMs) ?? []));
  }

  /**
   * The stateful matchers as the target of a replay (warm.ts): the indicator index's sequences and
   * the Sigma correlation windows (unless `windows` is false), and the anomaly baselines, which
   * learn only what each organisation's saved position has not. What they raise is dropped.
   */
  warmTarget(o: { windows: boolean } = { windows: true }): WarmTarget {
    const a = this.deps.anomaly;
    const name = this.deps.source.name;
    const relearn = a?.relearn?.bind(a);
    return {
      index: o.windows ? { match: (e, scope) => this.feed.index.match(e, scope) } : { match: () => undefined },
      sigma: () => (o.windows ? (this.deps.sigma?.snapshot().engine ?? null) : null),
      eventOf: (row) => this.#eventOf(row),
      ...(relearn ? { anomaly: (e: NormalisedEvent, receivedMs: number, seq: number) => relearn(e, receivedMs, { source: name, seq }) } : {}),
    };
  }

  /**
   * Before the first batch, the state a worker held in memory is rebuilt from the source's
   * history (the SQL spool keeps processed events for its retention), so a worker killed — a
   * crash, kill -9, the supervisor's batch limit — or restarted gives the alerts one that ran on
   * would have: the events of the last {@link warmMs} before the cursor go through the indicator
   * index and the Sigma engine (sequences and correlation windows, by event time), and the
   * anomaly baselines learn again what came after their saved positions (saved every 5 minutes
   * and at stop). What the replay raises is dropped: those alerts are stored. Dead-lettered events
   * are skipped, as they were. Returns the events replayed. Sources without history (a scale-out
   * partition) are warmed when taken instead (scale/jetstream-source.ts).
   */
  async warmUp(): Promise<number> {
    const n = await this.#replay();
    this.#warmUp = { state: 'done', replayed: n };
    return n;
  }

  /**
   * What the first batch needs, once: the indicator feed loaded (the replay matches against the
   * indicators as they are: the whole store at start), then the warm-up replay.
   */
  async prepare(): Promise<void> {
    if (this.#warmed) return;
    if (!this.feed.loaded) await this.feed.sync();
    // The replay rebuilds the windows from nothing: after a failed batch (or a replay that failed
    // half way) what the matchers hold would count the replayed events twice. A source without
    // history (a scale-out partition) rebuilds per partition instead (JetStreamSource.reset).
    if (this.deps.source.history) {
      this.feed.index.forgetOrganisations(() => true);
      this.deps.sigma?.snapshot().engine.forgetScopes(() => true);
    }
    await this.warmUp();
    this.#warmed = true;
  }

  async #replay(): Promise<number> {
    const { anomaly: a, source, store } = this.deps;
    if (!source.history || source.position === 0) return 0;
    this.#warmUp = { state: 'replaying', replayed: 0 };
    const [mark] = await store.readIngest(source.position - 1, 1);
    const windowAfter = mark?.seq === source.position ? await store.ingestSeqBefore(mark.receivedUs - this.warmMs() * 1000) : source.position;
    const anomalyAfter = a?.relearn ? (a.replayFrom?.(source.name) ?? null) : null;
    const full = this.warmTarget();
    const learnOnly = this.warmTarget({ windows: false });
    let after = Math.min(windowAfter, anomalyAfter ?? Number.POSITIVE_INFINITY);
    let n = 0;
    for (;;) {
      const rows = await source.history(after, this.options.batchSize);
      if (rows.length === 0) return n;
      const dead = new Set(await store.deadLetterSeqs(rows[0]!.seq, rows[rows.length - 1]!.seq));
      const live = dead.size === 0 ? rows : rows.filter((r) => !dead.has(r.seq));
      // In slices, each followed by a turn of the event loop: an hour of a busy node is millions
      // of events (tens of seconds), during which the worker must keep sending its heartbeat (and
      // its progress, this count) or its supervisor takes it for stuck.
      for (let i = 0; i < live.length; i += WARM_SLICE_ROWS) {
        const slice = live.slice(i, i + WARM_SLICE_ROWS);
        n += warm(learnOnly, slice.filter((r) => r.seq <= windowAfter)) + warm(full, slice.filter((r) => r.seq > windowAfter));
        this.#warmUp = { state: 'replaying', replayed: n };
        await yieldToLoop();
      }
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** Takes over the saved anomaly baselines of the organisations `mine` selects (partitions taken from another worker). */
  async adoptAnomalies(mine: (orgId: string) => boolean): Promise<number> {
    const a = this.deps.anomaly;
    if (!a?.adopt) return 0;
    const cur = await this.deps.store.getMeta(DetectEngine.ANOMALY_KEY).catch(() => null);
    if (cur === null) return 0;
    try {
      return a.adopt(JSON.parse(cur), mine);
    } catch {
      return 0;
    }
  }

  #publish(w: Written): void {
    const view: Alert = { ...w.doc, id: w.row.id, status: w.row.state as AlertStatus, orgName: this.directory.orgName(w.doc.orgId), rev: w.row.rev, exerciseId: w.row.exerciseId };
    this.deps.publish({
      type: w.created ? `${ALERT}.created` : `${ALERT}.updated`, subject: w.row.id, atUs: w.row.updatedUs, exerciseId: w.row.exerciseId,
      facts: { tlp: w.row.tlp, creatorOrg: w.row.creatorOrg, recipients: w.row.recipients, originNode: w.row.originNode },
      // The incident an escalated alert went to reaches its organisation only (as GET /alerts/:id).
      data: { ...view, incidentId: null } as unknown as Record<string, unknown>,
      ...(view.incidentId ? { sealed: [{ facts: alertOwnerOnly(w.doc.orgId), data: { incidentId: view.incidentId } }] } : {}),
    });
  }
}

/** The test hook's hostile event: a match that never ends, until the supervisor kills the worker. */
function hang(): never {
  traceRule('test-hook:hang');
  for (;;) {
    // Spins: nothing in this process runs again.
  }
}

