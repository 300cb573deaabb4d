/**
 * The detection pipeline of one node:
 *
 *   POST /ingest ──▶ normalise (per-line errors) ──▶ spool (committed before the answer)
 *   worker: spool by seq ──▶ indicator index · Sigma engine · anomaly detector
 *           ──▶ alerts (grouped) + rate counters + cursor, in ONE transaction ──▶ live stream
 *           ──▶ sightings back to the producers (STIX, every interval)
 *
 * An acknowledged event is in the spool; the cursor moves only with the alerts it produced, so
 * a crash re-processes at most the batch in flight (alerts are grouped, so a replayed batch adds
 * to the same alerts' counts rather than raising new ones).
 */
import type { EventBus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { AppError } from '../../core/errors.js';
import type { ReleaseFacts } from '../../core/policy.js';
import type { AccessService, Principal } from '../../access/index.js';
import { SYSTEM_ACTOR } from '../../access/index.js';
import type { IntelService } from '../../intel/index.js';
import type { IngestRow, NewIngestRow, RateRow, Store } from '../../store/index.js';
import type { IndicatorMatch } from '../indicators/index.js';
import type { NormalisedEvent, TelemetryFormat } from '../normalise/index.js';
import { eventTimeMs, normaliseLine } from '../normalise/index.js';
import type { SigmaEngine, SigmaMatch } from '../sigma/index.js';
import { AlertBook, type Hit, type Written } from './alert-book.js';
import type { Alert, AlertDoc, AlertSeverity, AlertStatus } from './alert-types.js';
import { ALERT } from './alert-types.js';
import { IndicatorFeed, type IndicatorInfo } from './feed.js';
import { SightingBook, type SightingMode } from './sightings.js';
import { publicIp } from '../anomaly/index.js';

/** Sigma rules with their release (provided by the rules service). */
export interface SigmaSource {
  snapshot(): { readonly engine: SigmaEngine; releaseOf(ref: { id?: string; title: string }): ReleaseFacts };
  onChange(fn: () => void): () => void;
}

export interface AnomalyFindingLike {
  readonly method: 'rate' | 'first-seen' | 'rare';
  readonly orgId: string;
  readonly sensorId: string;
  readonly entity: string;
  readonly title: string;
  readonly severity: AlertSeverity;
  readonly expected: string;
  readonly seen: string;
  readonly score: number;
  readonly atMs: number;
}

export interface AnomalySource {
  observe(e: NormalisedEvent, timeMs: number): AnomalyFindingLike[];
  tick(timeMs: number): AnomalyFindingLike[];
  toJSON(): unknown;
}

export type ValueKind = 'ip' | 'domain' | 'url' | 'hash' | 'email' | 'string';

export interface WarninglistSource {
  match(kind: ValueKind, value: string): { listId: string; name: string } | null;
  /** Reloads lists changed by another process (the CLI). */
  refresh?(): Promise<unknown>;
}

export interface DetectDeps {
  readonly store: Store;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly intel: IntelService;
  readonly sigma?: SigmaSource;
  readonly anomaly?: AnomalySource;
  readonly warninglists?: WarninglistSource;
}

export interface DetectOptions {
  /** Events waiting in the spool beyond which ingestion answers 429. */
  readonly queueCapacity: number;
  /** Spool rows per processing transaction. */
  readonly batchSize: number;
  /** Grouping window of alerts. */
  readonly alertWindowMs: number;
  readonly sightings: SightingMode;
  readonly sightingIntervalMs: number;
  /** Processed spool rows are kept this long (raw evidence), then pruned. */
  readonly spoolRetentionMs: number;
  /** Longest accepted line. */
  readonly maxLineLength: number;
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = Object.freeze({
  queueCapacity: 200_000, batchSize: 2_000, alertWindowMs: 3_600_000, sightings: 'named', sightingIntervalMs: 60_000,
  spoolRetentionMs: 24 * 3_600_000, maxLineLength: 1_048_576,
});

export interface IngestSummary {
  readonly accepted: number;
  readonly rejected: number;
  readonly errors: readonly { line: number; reason: string }[];
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly queue: { readonly depth: number; readonly capacity: number };
}

export interface DetectStats {
  readonly processed: number;
  readonly alertsWritten: number;
  readonly suppressed: number;
  readonly sightingsWritten: number;
  readonly queueDepth: number;
  readonly indicators: number;
  readonly sigmaRules: number;
}

const MAX_REPORTED = 20;
const CURSOR_KEY = 'detect.cursor';
const BUCKET_MS = 60_000;
const RATE_HORIZON_MS = 31 * 86_400_000;
const LEVELS: Record<string, AlertSeverity> = { informational: 'informational', low: 'low', medium: 'medium', high: 'high', critical: 'critical' };

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * The local asset an alert is about: the host, else the internal end of the connection (a
 * scan from many outside addresses is one alert per scanned host), else the source address,
 * else the sensor.
 */
function entityOf(e: NormalisedEvent): string {
  const host = str(e['host.name']);
  if (host) return host;
  const src = str(e['source.ip']);
  const dst = str(e['destination.ip']);
  if (src && dst && publicIp(src) !== null && publicIp(dst) === null) return dst;
  return src ?? `sensor ${e['observer.id']}`;
}

/** Kind of value a warninglist is asked about, from the object path of an exact/CIDR hit. */
function valueKind(path: string): ValueKind {
  if (path.startsWith('ipv4-addr:') || path.startsWith('ipv6-addr:')) return 'ip';
  if (path.startsWith('domain-name:')) return 'domain';
  if (path.startsWith('url:')) return 'url';
  if (path.startsWith('email-addr:')) return 'email';
  if (path.includes('hashes')) return 'hash';
  return 'string';
}

function indicatorSeverity(i: IndicatorInfo): AlertSeverity {
  if (i.confidence === null || i.confidence >= 70) return 'high';
  return i.confidence >= 30 ? 'medium' : 'low';
}

/** What Sigma rules read: the source's own fields (Sysmon names...) and the ECS ones. */
function sigmaView(e: NormalisedEvent): Record<string, unknown> {
  const orig = e.original as Record<string, unknown> | undefined;
  return orig ? { ...e, ...orig } : (e as unknown as Record<string, unknown>);
}

export class DetectService {
  /** Meta key of the saved anomaly baselines. */
  static readonly ANOMALY_KEY = 'detect.anomaly';
  readonly feed: IndicatorFeed;
  readonly alerts: AlertBook;
  readonly sightings: SightingBook;
  readonly options: DetectOptions;
  #cursor = 0;
  #lastSeq = 0;
  #alliance: readonly string[] = [];
  #orgNames = new Map<string, string>();
  #shortNames = new Map<string, string>();
  #anomalySavedMs = 0;
  #processed = 0;
  #alertsWritten = 0;
  #suppressed = 0;
  #running = false;
  #draining: Promise<number> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void)[] = [];
  /** Alert writes one after the other: a drain woken by an ingest may overlap the periodic anomaly tick. */
  #writes: Promise<unknown> = Promise.resolve();
  /** Events processed per second over the last batches (for Retry-After). */
  #rate = 5_000;

  private constructor(readonly deps: DetectDeps, options: DetectOptions) {
    this.options = options;
    this.feed = new IndicatorFeed(deps.store);
    this.alerts = new AlertBook(options.alertWindowMs);
    this.sightings = new SightingBook({
      store: deps.store, intel: deps.intel,
      allianceFor: (i) => this.#alliance.filter((b) => this.feed.releasedTo(i.facts, i.collectionId, b)),
      anonymousSigner: () => this.#alliance[0] ?? null,
    }, { mode: options.sightings, intervalMs: options.sightingIntervalMs });
  }

  static async create(deps: DetectDeps, options: Partial<DetectOptions> = {}): Promise<DetectService> {
    const s = new DetectService(deps, { ...DEFAULT_DETECT_OPTIONS, ...options });
    await s.#init();
    return s;
  }

  async #init(): Promise<void> {
    const { store, clock, intel } = this.deps;
    await this.refreshDirectory();
    // The feed is loaded by start() in the background, a slice at a time, so the node answers
    // while a large store is read (issue #8); events wait in the durable spool until then (#batch).
    this.#cursor = Number(await store.initMeta(CURSOR_KEY, '0'));
    this.#lastSeq = Math.max(this.#cursor, await store.lastIngestSeq());
    await this.alerts.load(store, clock.now());
    // New indicators committed in this process nudge the feed (it reads them once the writer is
    // quiet, so commits do not pay for it); others' on the next poll.
    this.#unsubscribe.push(intel.onCommitted((c) => {
      if (c.types.has('indicator') || c.types.has('relationship') || c.types.has('attack-pattern')) this.feed.nudge();
    }));
  }

  /** Organisations, groups, grants and the alliance bodies (after directory changes). */
  async refreshDirectory(): Promise<void> {
    const orgs = await this.deps.store.listOrganisations();
    this.#alliance = orgs.filter((o) => o.kind === 'alliance-body').map((o) => o.id);
    this.#orgNames = new Map(orgs.map((o) => [o.id, o.name]));
    this.#shortNames = new Map(orgs.map((o) => [o.id, o.shortName]));
    await this.feed.refreshPolicy();
  }

  orgName(id: string): string | null {
    return this.#orgNames.get(id) ?? null;
  }

  /** Short name of an organisation (ALD-CERT), for readable titles; the id when unknown. */
  shortName(id: string): string {
    return this.#shortNames.get(id) ?? id;
  }

  get queueDepth(): number {
    return Math.max(0, this.#lastSeq - this.#cursor);
  }

  stats(): DetectStats {
    return {
      processed: this.#processed, alertsWritten: this.#alertsWritten, suppressed: this.#suppressed, sightingsWritten: this.sightings.written,
      queueDepth: this.queueDepth, indicators: this.feed.index.size, sigmaRules: this.deps.sigma?.snapshot().engine.rules.length ?? 0,
    };
  }

  /**
   * Normalises NDJSON/syslog lines from one sensor and commits the good ones to the spool.
   * Refuses the whole batch (RATE_LIMITED + Retry-After) when the spool is full, so a sensor
   * resends it unchanged; accepted lines are durable when this returns.
   */
  async ingest(principal: Principal, body: string, opts: { format: TelemetryFormat | 'auto'; sensorId: string; exerciseId?: string | null }): Promise<IngestSummary> {
    const receivedMs = this.deps.clock.now();
    const ctx = { orgId: principal.orgId, sensorId: opts.sensorId, receivedAt: receivedMs };
    const rows: NewIngestRow[] = [];
    const errors: { line: number; reason: string }[] = [];
    let rejected = 0;
    let lineNo = 0;
    let start = 0;
    while (start <= body.length) {
      let end = body.indexOf('\n', start);
      if (end === -1) end = body.length;
      lineNo++;
      let line = body.slice(start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() === '') continue;
      const r = normaliseLine(opts.format, line, ctx, { maxLineLength: this.options.maxLineLength });
      // The raw line is spooled (the evidence as sent, and half the bytes of the normalised event).
      if (r.ok) rows.push({ orgId: principal.orgId, sensorId: opts.sensorId, receivedUs: receivedMs * 1000, exerciseId: opts.exerciseId ?? null, event: line, format: r.format });
      else {
        rejected++;
        if (errors.length < MAX_REPORTED) errors.push({ line: lineNo, reason: r.error });
      }
    }
    const depth = this.queueDepth;
    if (rows.length > 0 && depth + rows.length > this.options.queueCapacity) {
      const wait = Math.min(60, Math.max(1, Math.ceil(depth / Math.max(1, this.#rate))));
      throw new AppError('RATE_LIMITED', `the ingest queue is full (${depth} of ${this.options.queueCapacity} events waiting); resend this batch later`, {
        headers: { 'Retry-After': String(wait) }, details: { depth, capacity: this.options.queueCapacity },
      });
    }
    let seqs: number[] = [];
    await this.deps.store.transaction(async (tx) => {
      seqs = rows.length > 0 ? await tx.appendIngest(rows) : [];
      await tx.appendAudit({
        atUs: receivedMs * 1000, userId: principal.userId, orgId: principal.orgId, tokenId: principal.tokenId, source: 'ingest', action: 'telemetry.ingest',
        target: opts.sensorId, detail: JSON.stringify({ accepted: rows.length, rejected, format: opts.format }),
      });
    });
    if (seqs.length > 0) this.#lastSeq = Math.max(this.#lastSeq, seqs[seqs.length - 1]!);
    this.#wake();
    return {
      accepted: rows.length, rejected, errors, firstSeq: seqs[0] ?? null, lastSeq: seqs[seqs.length - 1] ?? null,
      queue: { depth: this.queueDepth, capacity: this.options.queueCapacity },
    };
  }

  /** Starts the background worker (and the periodic intel poll and sighting flush). */
  start(pollMs = 2_000): void {
    if (this.#running) return;
    this.#running = true;
    this.feed.nudge();
    const tick = () => {
      if (!this.#running) return;
      void this.#periodic().finally(() => {
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

  async #periodic(): Promise<void> {
    try {
      await this.refreshDirectory();
      await this.deps.warninglists?.refresh?.();
      // Other processes' intel (a CLI import, another node process): read when quiet, or before
      // the next events are matched (#batch).
      this.feed.nudge();
      await this.drain();
      const now = this.deps.clock.now();
      await this.#anomalyTick(now);
      if (now - this.#anomalySavedMs > 300_000) {
        this.#anomalySavedMs = now;
        await this.#saveAnomalies();
      }
      await this.sightings.flush(SYSTEM_ACTOR, { nowMs: now });
      this.alerts.expire(now);
      await this.deps.store.pruneIngest({ throughSeq: this.#cursor, receivedBeforeUs: (now - this.options.spoolRetentionMs) * 1000 });
    } catch {
      // A failed round is retried on the next tick; the spool and cursor are unchanged.
    }
  }

  #wake(): void {
    if (this.#running && !this.#draining) void this.drain().catch(() => undefined);
  }

  /** Processes the spool until it is empty; returns the events processed. */
  drain(): Promise<number> {
    if (this.#draining) return this.#draining;
    this.#draining = (async () => {
      let n = 0;
      try {
        for (;;) {
          const got = await this.#batch();
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

  async #batch(): Promise<number> {
    const { store, clock } = this.deps;
    const rows = await store.readIngest(this.#cursor, this.options.batchSize);
    if (rows.length === 0) return 0;
    // Events are matched against every indicator committed before them: catch the feed up first
    // (the whole store at start; since the last nudge later). A failure leaves the events spooled.
    if (!this.feed.loaded || this.feed.pending) await this.feed.sync();
    const t0 = performance.now();
    const rates = new Map<string, RateRow>();
    const sigma = this.deps.sigma?.snapshot();
    for (const row of rows) {
      const event = this.#eventOf(row);
      if (event === null) continue; // accepted at ingestion, so only a changed normaliser could refuse it now
      const t = eventTimeMs(event);
      const receivedMs = Math.floor(row.receivedUs / 1000);
      const atMs = Number.isFinite(t) ? t : receivedMs;
      // Rates follow when things happened, as long as the sensor's clock is plausible (not in
      // the future, not older than the picture's longest period); otherwise when they arrived.
      const rateMs = atMs <= receivedMs && receivedMs - atMs < RATE_HORIZON_MS ? atMs : receivedMs;
      const bucketUs = Math.floor(rateMs / BUCKET_MS) * BUCKET_MS * 1000;
      const rk = `${bucketUs}|${row.orgId}|${row.sensorId}|${row.exerciseId ?? ''}`;
      let rate = rates.get(rk);
      if (!rate) {
        rate = { orgId: row.orgId, sensorId: row.sensorId, bucketUs, exerciseId: row.exerciseId, events: 0, alerts: 0 };
        rates.set(rk, rate);
      }
      rate.events++;
      const before = this.alerts.hits;
      this.#indicators(event, { atMs, exerciseId: row.exerciseId });
      if (sigma) this.#sigma(sigma, event, { atMs, exerciseId: row.exerciseId });
      // Anomaly rates run on reception time, the clock their silence checks (tick) also use.
      if (this.deps.anomaly) for (const f of this.deps.anomaly.observe(event, receivedMs)) this.#anomaly(f, row.exerciseId, event);
      if (this.alerts.hits > before) rate.alerts++; // events that raised or joined an alert
    }
    const last = rows[rows.length - 1]!.seq;
    const nowUs = clock.now() * 1000;
    let written: Written[] = [];
    try {
      await this.#serial(() => store.transaction(async (tx) => {
        written = await this.alerts.flush(tx, nowUs);
        await tx.addRates([...rates.values()]);
        await tx.setMeta(CURSOR_KEY, String(last));
        const created = written.filter((w) => w.created).length;
        await tx.appendAudit({
          atUs: nowUs, userId: null, orgId: null, tokenId: null, source: 'detect', action: 'detect.batch', target: `${rows[0]!.seq}-${last}`,
          detail: JSON.stringify({ events: rows.length, alertsCreated: created, alertsUpdated: written.length - created }),
        });
      }));
    } catch (e) {
      await this.alerts.load(store, clock.now()); // the groups may name alerts that never committed
      throw e;
    }
    this.#cursor = last;
    this.#lastSeq = Math.max(this.#lastSeq, last);
    this.#processed += rows.length;
    this.#alertsWritten += written.length;
    const secs = (performance.now() - t0) / 1000;
    if (secs > 0) this.#rate = 0.7 * this.#rate + 0.3 * (rows.length / secs);
    for (const w of written) this.#publish(w);
    return rows.length;
  }

  #eventOf(row: IngestRow): NormalisedEvent | null {
    if (row.format === null) {
      try {
        return JSON.parse(row.event) as NormalisedEvent;
      } catch {
        return null;
      }
    }
    const r = normaliseLine(row.format as TelemetryFormat, row.event, { orgId: row.orgId, sensorId: row.sensorId, receivedAt: Math.floor(row.receivedUs / 1000) }, { maxLineLength: this.options.maxLineLength });
    return r.ok ? r.event : null;
  }

  #indicators(event: NormalisedEvent, o: { atMs: number; exerciseId: string | null }): void {
    const matches: IndicatorMatch[] = this.feed.index.match(event);
    for (const m of matches) {
      const info = this.feed.info(m.indicatorId);
      if (!info) continue;
      const value = m.value === undefined || m.value === null ? null : String(m.value);
      const path = m.path ?? null;
      if (path !== null && value !== null && this.deps.warninglists?.match(valueKind(path), value)) {
        this.#suppressed++;
        continue;
      }
      const orgId = event['organization.id'];
      this.alerts.hit({
        orgId, sensorId: event['observer.id'], exerciseId: o.exerciseId, source: 'indicator', ref: info.id,
        title: `Indicator ${info.name ? `"${info.name}"` : info.id} matched${path ? ` ${path}` : ''}${value ? ` = ${value}` : ''}`,
        severity: indicatorSeverity(info), techniques: this.feed.techniquesOf(info.id, orgId),
        matched: { kind: 'indicator', id: info.id, name: info.name, pattern: info.pattern, via: m.via, path, value, tactics: [...info.tactics] },
        entity: entityOf(event), recipients: this.#alliance.filter((b) => this.feed.releasedTo(info.facts, info.collectionId, b)),
        event, atMs: o.atMs,
      });
      if (o.exerciseId === null) this.sightings.hit(info, orgId, { atMs: o.atMs, path, value });
    }
  }

  #sigma(sigma: ReturnType<SigmaSource['snapshot']>, event: NormalisedEvent, o: { atMs: number; exerciseId: string | null }): void {
    const orgId = event['organization.id'];
    const logsource = event.logsource as Parameters<SigmaEngine['process']>[2];
    const matches: SigmaMatch[] = sigma.engine.process(sigmaView(event), o.atMs, logsource);
    for (const m of matches) {
      const facts = sigma.releaseOf({ ...(m.ruleId ? { id: m.ruleId } : {}), title: m.title });
      if (!this.feed.releasedTo(facts, null, orgId)) continue;
      const group = m.correlation ? Object.entries(m.correlation.groupKey).map(([k, v]) => `${k}=${v}`).join(', ') : '';
      this.alerts.hit({
        orgId, sensorId: event['observer.id'], exerciseId: o.exerciseId, source: 'sigma', ref: m.ruleId ?? m.title,
        title: m.title, severity: LEVELS[m.level ?? 'medium'] ?? 'medium', techniques: [...m.attack],
        matched: { kind: 'sigma', id: m.ruleId ?? null, title: m.title, level: m.level ?? null, tags: [...m.tags], correlation: m.correlation?.type ?? null },
        entity: group || entityOf(event), recipients: this.#alliance.filter((b) => this.feed.releasedTo(facts, null, b)),
        event, atMs: o.atMs,
      });
    }
  }

  #anomaly(f: AnomalyFindingLike, exerciseId: string | null, event: NormalisedEvent | null): void {
    this.alerts.hit({
      orgId: f.orgId, sensorId: f.sensorId, exerciseId, source: 'anomaly', ref: `${f.method}:${f.entity}`, title: f.title, severity: f.severity,
      techniques: [], matched: { kind: 'anomaly', method: f.method, expected: f.expected, seen: f.seen, score: f.score },
      entity: f.entity, recipients: this.#alliance, event, atMs: f.atMs,
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
    for (const w of written) this.#publish(w);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(fn, fn);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  async #saveAnomalies(): Promise<void> {
    if (this.deps.anomaly) await this.deps.store.setMeta(DetectService.ANOMALY_KEY, JSON.stringify(this.deps.anomaly.toJSON())).catch(() => undefined);
  }

  /** The alert as the API shows it. */
  view(row: { id: string; state: string; rev: number; exerciseId: string | null }, doc: AlertDoc): Alert {
    return { ...doc, id: row.id, status: row.state as AlertStatus, orgName: this.orgName(doc.orgId), rev: row.rev, exerciseId: row.exerciseId };
  }

  #publish(w: Written): void {
    this.deps.bus.publish({
      type: w.created ? `${ALERT}.created` : `${ALERT}.updated`, subject: w.row.id, atUs: w.row.updatedUs, exerciseId: w.row.exerciseId,
      facts: { tlp: w.row.tlp, creatorOrg: w.row.creatorOrg, recipients: w.row.recipients, originNode: w.row.originNode },
      data: this.view(w.row, w.doc) as unknown as Record<string, unknown>,
    });
  }
}
