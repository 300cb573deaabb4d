/**
 * The detection pipeline as the API process sees it (docs/pipeline.md):
 *
 *   POST /ingest ──▶ normalise (per-line errors) ──▶ spool (committed before the answer)
 *   detection worker process (supervised, `shieldwall worker`) ──▶ alerts ──▶ live stream here
 *
 * Matching never runs on this process's event loop: a hostile rule or event can stall only a
 * worker, which its supervisor kills (DESIGN §2.7). `inProcess` runs the engine here instead,
 * for unit tests that drive it step by step on an in-memory store.
 */
import crypto from 'node:crypto';
import type { EventBus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { AppError } from '../../core/errors.js';
import type { AccessService, Principal } from '../../access/index.js';
import type { IntelService } from '../../intel/index.js';
import type { NewIngestChunk, Store } from '../../store/index.js';
import { lineStop, spoolBody, type ChunkLine } from '../../store/spool-codec.js';
import type { TelemetryFormat } from '../normalise/index.js';
import { checkLine, quickEve } from '../normalise/index.js';
import type { Alert, AlertDoc, AlertStatus } from './alert-types.js';
import { DEFAULT_DETECT_OPTIONS, type DetectOptions, type DetectStats, type SigmaSource, type WarninglistSource } from './detect-types.js';
import { DeadLetters } from './dead-letters.js';
import { Directory } from './directory.js';
import type { DetectEngine } from './engine.js';
import type { IndicatorFeed } from './feed.js';
import type { SightingBook } from './sightings.js';
import { SPOOL_CURSOR_KEY } from './source.js';
import { createEngine } from '../worker/wiring.js';
import type { TelemetryStream } from './telemetry-stream.js';
import { WorkerSupervisor, type SupervisorOptions, type WorkerStatus } from '../worker/supervisor.js';

export interface DetectDeps {
  readonly store: Store;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly intel: IntelService;
  readonly sigma?: SigmaSource;
  readonly warninglists?: WarninglistSource;
  /** Scale-out: accepted lines go to this stream instead of the SQL spool (docs/deploying-at-scale.md). */
  readonly stream?: TelemetryStream;
}

/** Where detection runs: a supervised worker process (the default), none (workers run elsewhere), or in this process (unit tests). */
export type DetectMode =
  | {
    readonly kind: 'worker'; readonly supervisor: SupervisorOptions; readonly log: (line: string) => void;
    /**
     * Runs the worker only while this answers true: API processes sharing one PostgreSQL without
     * NATS supervise one worker between them, the leader's (scale/leader.ts); another takes over
     * within LEAD_CHECK_MS of becoming the leader. Absent: always.
     */
    readonly leads?: () => boolean;
  }
  | { readonly kind: 'external' }
  | { readonly kind: 'in-process' };

export interface IngestSummary {
  readonly accepted: number;
  readonly rejected: number;
  readonly errors: readonly { line: number; reason: string }[];
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly queue: { readonly depth: number; readonly capacity: number };
}

/** The queue between ingestion and detection, as the store holds it. */
export interface QueueStatus {
  readonly depth: number;
  readonly capacity: number;
  /** Last seq processed (the source position) and last seq accepted. */
  readonly processedSeq: number;
  readonly lastSeq: number;
  /** Age of the oldest event waiting, ms (0 when none). */
  readonly lagMs: number;
}

const MAX_REPORTED = 20;
/** How often a process whose worker depends on leadership checks it (ms). */
const LEAD_CHECK_MS = 2_000;

export class DetectService {
  readonly options: DetectOptions;
  readonly directory = new Directory();
  /** The engine, when detection runs in this process. */
  readonly engine: DetectEngine | null;
  readonly supervisor: WorkerSupervisor | null;
  readonly mode: DetectMode['kind'];
  readonly deadLetters: DeadLetters;
  readonly #leads: { leads: () => boolean; log: (line: string) => void } | null;
  #leadTimer: NodeJS.Timeout | null = null;
  #leadChange: Promise<void> | null = null;

  private constructor(readonly deps: DetectDeps, o: { options: DetectOptions; engine: DetectEngine | null; supervisor: WorkerSupervisor | null; mode: DetectMode }) {
    this.options = o.options;
    this.engine = o.engine;
    this.supervisor = o.supervisor;
    this.mode = o.mode.kind;
    this.#leads = o.mode.kind === 'worker' && o.mode.leads ? { leads: o.mode.leads, log: o.mode.log } : null;
    this.deadLetters = new DeadLetters({ store: deps.store, clock: deps.clock, wake: () => this.#wake(), ...(deps.stream ? { stream: deps.stream } : {}) });
  }

  #wake(): void {
    this.engine?.wake();
    this.supervisor?.wake();
  }

  static async create(deps: DetectDeps, options: Partial<DetectOptions> = {}, mode: DetectMode = { kind: 'in-process' }): Promise<DetectService> {
    const opts = { ...DEFAULT_DETECT_OPTIONS, ...options };
    const { store, clock, intel, bus } = deps;
    // The spool's cursor exists before any worker starts: a worker then opens without writing
    // (it may start while this process holds SQLite's write lock for a long import).
    if (!deps.stream) await store.initMeta(SPOOL_CURSOR_KEY, '0');
    const engine = mode.kind === 'in-process'
      ? await createEngine({ store, clock, intel, publish: (e) => bus.publish(e), ...(deps.sigma ? { sigma: deps.sigma } : {}), ...(deps.warninglists ? { warninglists: deps.warninglists } : {}) }, opts)
      : null;
    const supervisor = mode.kind === 'worker'
      ? new WorkerSupervisor({ store, clock, publish: (e) => bus.publish(e), log: mode.log }, mode.supervisor)
      : null;
    const s = new DetectService(deps, { options: opts, engine, supervisor, mode });
    await s.directory.refresh(store);
    return s;
  }

  /** Organisations and the alliance bodies (after directory changes), here and in an in-process engine. */
  async refreshDirectory(): Promise<void> {
    await this.directory.refresh(this.deps.store);
    await this.engine?.refreshDirectory();
  }

  orgName(id: string): string | null {
    return this.directory.orgName(id);
  }

  shortName(id: string): string {
    return this.directory.shortName(id);
  }

  /** The in-process engine's indicator feed (unit tests and tools). */
  get feed(): IndicatorFeed {
    return this.#engine().feed;
  }

  get sightings(): SightingBook {
    return this.#engine().sightings;
  }

  #engine(): DetectEngine {
    if (!this.engine) throw new AppError('UNAVAILABLE', 'detection runs in a worker process, not in this one');
    return this.engine;
  }

  /** Starts detection: the supervised worker, or the in-process loop. */
  start(): void {
    this.engine?.start();
    const s = this.supervisor;
    const leads = this.#leads;
    if (!s) return;
    if (!leads) {
      s.start();
      return;
    }
    const check = () => {
      if (this.#leadChange) return;
      const lead = leads.leads();
      if (lead === s.running) return;
      leads.log(`detection worker: ${lead ? 'this process leads the node: starting it' : 'this process no longer leads the node: stopping it'}`);
      this.#leadChange = (lead ? Promise.resolve(s.start()) : s.stop()).catch(() => undefined).finally(() => {
        this.#leadChange = null;
      });
    };
    check();
    this.#leadTimer = setInterval(check, LEAD_CHECK_MS);
    this.#leadTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.#leadTimer) clearInterval(this.#leadTimer);
    this.#leadTimer = null;
    await this.#leadChange;
    await this.supervisor?.stop();
    await this.engine?.stop();
  }

  /** Makes the detector read intel, rules and the directory as stored now (after writes in this process). */
  async sync(): Promise<void> {
    await this.directory.refresh(this.deps.store);
    if (this.engine) await this.engine.sync();
    if (this.supervisor) await this.supervisor.sync();
  }

  /**
   * Resolves when every event accepted before the call has been processed; returns how many
   * events the position moved over. In-process it processes them itself.
   */
  async drain(o: { timeoutMs?: number } = {}): Promise<number> {
    if (this.engine) return this.engine.drain();
    const { store, stream } = this.deps;
    if (stream) {
      // Scale-out: until the workers' marks cover the stream (messages, not events, are counted).
      const deadline = Date.now() + (o.timeoutMs ?? 120_000);
      const first = await stream.pending();
      for (let n = first; n > 0; n = await stream.pending()) {
        if (Date.now() > deadline) throw new AppError('UNAVAILABLE', `detection workers have ${n} messages of the stream left to process`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return first;
    }
    const target = await store.lastIngestSeq();
    const start = await this.#position();
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    this.supervisor?.wake();
    const events = target > start ? await store.countIngestAfter(start) : 0;
    for (let pos = start; pos < target; pos = await this.#position()) {
      if (Date.now() > deadline) throw new AppError('UNAVAILABLE', `detection has not reached event ${target} (at ${pos})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return events;
  }

  async #position(): Promise<number> {
    return Number((await this.deps.store.getMeta(SPOOL_CURSOR_KEY)) ?? '0');
  }

  async queue(): Promise<QueueStatus> {
    const { store, clock } = this.deps;
    const [processedSeq, lastSeq] = [await this.#position(), await store.lastIngestSeq()];
    const [oldest] = lastSeq > processedSeq ? await store.readIngest(processedSeq, 1) : [];
    return {
      depth: lastSeq > processedSeq ? await store.countIngestAfter(processedSeq) : 0, capacity: this.options.queueCapacity, processedSeq, lastSeq,
      lagMs: oldest ? Math.max(0, clock.now() - Math.floor(oldest.receivedUs / 1000)) : 0,
    };
  }

  /** Counters of the engine (here, or as the worker last reported them) and the queue. */
  async stats(): Promise<DetectStats & { feed: Readonly<Record<string, unknown>> | null }> {
    const q = await this.queue();
    if (this.engine) return { ...this.engine.stats(), queueDepth: q.depth, feed: { ...this.engine.feed.stats() } };
    const w: WorkerStatus | null = this.supervisor?.status() ?? null;
    const s = w?.stats;
    return {
      processed: s?.processed ?? 0, alertsWritten: s?.alertsWritten ?? 0, suppressed: s?.suppressed ?? 0, sightingsWritten: s?.sightingsWritten ?? 0,
      queueDepth: q.depth, indicators: s?.indicators ?? 0, sigmaRules: s?.sigmaRules ?? 0, feed: s?.feed ?? null,
    };
  }

  /**
   * Normalises NDJSON/syslog lines (or RFC 6587 octet-counted syslog frames) from one sensor and
   * commits the good ones to the spool.
   * Refuses the whole batch (RATE_LIMITED + Retry-After) when the spool is full, so a sensor
   * resends it unchanged; accepted lines are durable when this returns.
   */
  async ingest(principal: Principal, body: string | Buffer, opts: { format: TelemetryFormat | 'auto'; sensorId: string; exerciseId?: string | null; requestKey?: string }): Promise<IngestSummary> {
    const receivedMs = this.deps.clock.now();
    const ctx = { orgId: principal.orgId, sensorId: opts.sensorId, receivedAt: receivedMs };
    // Line by line over the bytes: each line is decoded on its own (a large body never becomes
    // one string), and the spool keeps the accepted lines' bytes as sent (store/spool-codec.ts).
    const raw = typeof body === 'string' ? Buffer.from(body) : body;
    const ranges: number[] = [];
    const formats: (string | null)[] = [];
    const texts: ChunkLine[] | null = this.deps.stream ? [] : null;
    const errors: { line: number; reason: string }[] = [];
    let rejected = 0;
    const limits = { format: opts.format, maxLineLength: this.options.maxLineLength, ...this.options.eventLimits };
    let lineNo = 0;
    // A UTF-8 byte order mark (EF BB BF, as some Windows tools write) is not part of the first line.
    let start = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
    // Syslog over TCP may frame each message by its length (RFC 6587 §3.4.1, "octet counting":
    // `MSG-LEN SP SYSLOG-MSG`, frames back to back), which a line split would run together.
    const framing = opts.format === 'syslog' || opts.format === 'auto';
    while (start <= raw.length) {
      let end: number;
      let stop: number;
      let from = start;
      const first = raw[start];
      const frame = framing && first !== undefined && first >= 0x31 && first <= 0x39 ? octetFrame(raw, start) : null;
      if (frame !== null) {
        lineNo++;
        if (typeof frame === 'string') {
          // The length cannot be trusted: the rest of the body is one refused message.
          rejected++;
          if (errors.length < MAX_REPORTED) errors.push({ line: lineNo, reason: frame });
          break;
        }
        from = frame.from;
        end = stop = frame.to;
        start = frame.next;
        if (raw.subarray(from, stop).includes(10)) {
          // Stored events are one a line: a message with a line break inside is refused, with why.
          rejected++;
          if (errors.length < MAX_REPORTED) errors.push({ line: lineNo, reason: 'octet-counted syslog message holds a line break (events are stored one a line)' });
          continue;
        }
      } else {
        end = raw.indexOf(10, start);
        if (end === -1) end = raw.length;
        lineNo++;
        stop = lineStop(raw, start, end);
        start = end + 1;
      }
      // Accepted or refused as the worker's normalisation would (same reasons), without building
      // the event here: the raw line is spooled (the evidence as sent, and half the bytes of the
      // normalised event) and the worker normalises it. Most lines are EVE that a scan of the
      // bytes vouches for (quickEve); the others are decoded and checked in full.
      if (quickEve(raw, from, stop, limits)) {
        ranges.push(from, end);
        formats.push('suricata-eve');
        texts?.push({ event: raw.toString('utf8', from, stop), format: 'suricata-eve' });
        continue;
      }
      const line = raw.toString('utf8', from, stop);
      if (line.trim() === '') continue;
      const r = checkLine(opts.format, line, ctx, limits);
      if (r.ok) {
        ranges.push(from, end);
        formats.push(r.format);
        texts?.push({ event: line, format: r.format });
      } else {
        rejected++;
        if (errors.length < MAX_REPORTED) errors.push({ line: lineNo, reason: r.error });
      }
    }
    const chunk: NewIngestChunk = { orgId: principal.orgId, sensorId: opts.sensorId, receivedUs: receivedMs * 1000, exerciseId: opts.exerciseId ?? null, body: spoolBody(raw, ranges), formats };
    if (texts) return this.#toStream(principal, { chunk, lines: texts, rejected, errors, format: opts.format, requestKey: opts.requestKey ?? crypto.randomUUID() });
    const accepted = formats.length;
    const depth = accepted > 0 ? await this.deps.store.countIngestAfter(await this.#position()) : 0;
    if (accepted > 0 && depth + accepted > this.options.queueCapacity) {
      const rate = Math.max(1, this.supervisor?.eventsPerSecond() || 5_000);
      const wait = Math.min(60, Math.max(1, Math.ceil(depth / rate)));
      throw new AppError('RATE_LIMITED', `the ingest queue is full (${depth} of ${this.options.queueCapacity} events waiting); resend this batch later`, {
        headers: { 'Retry-After': String(wait) }, details: { depth, capacity: this.options.queueCapacity },
      });
    }
    const seqs = await this.deps.store.transaction(async (tx) => {
      const got = accepted > 0 ? await tx.appendIngest(chunk) : null;
      await tx.appendAudit({
        atUs: receivedMs * 1000, userId: principal.userId, orgId: principal.orgId, tokenId: principal.tokenId, source: 'ingest', action: 'telemetry.ingest',
        target: opts.sensorId, detail: JSON.stringify({ accepted, rejected, format: opts.format }),
      });
      return got;
    });
    if (seqs) this.#wake();
    return {
      accepted, rejected, errors, firstSeq: seqs?.firstSeq ?? null, lastSeq: seqs?.lastSeq ?? null,
      queue: { depth: depth + accepted, capacity: this.options.queueCapacity },
    };
  }

  /**
   * Scale-out ingestion: the lines go to the stream, answered when it stored them all (its own
   * back-pressure answers RATE_LIMITED); the audit row is written after, as for the spool.
   */
  async #toStream(principal: Principal, b: { chunk: NewIngestChunk; lines: ChunkLine[]; rejected: number; errors: { line: number; reason: string }[]; format: string; requestKey: string }): Promise<IngestSummary> {
    const { chunk, lines } = b;
    const r = lines.length > 0
      ? await this.deps.stream!.append({ orgId: chunk.orgId, sensorId: chunk.sensorId, receivedUs: chunk.receivedUs, exerciseId: chunk.exerciseId }, lines, b.requestKey)
      : { firstEventSeq: null, lastEventSeq: null };
    await this.deps.store.appendAudit({
      atUs: this.deps.clock.now() * 1000, userId: principal.userId, orgId: principal.orgId, tokenId: principal.tokenId, source: 'ingest', action: 'telemetry.ingest',
      target: chunk.sensorId, detail: JSON.stringify({ accepted: lines.length, rejected: b.rejected, format: b.format, stream: true }),
    });
    return { accepted: lines.length, rejected: b.rejected, errors: b.errors, firstSeq: r.firstEventSeq, lastSeq: r.lastEventSeq, queue: { depth: 0, capacity: this.options.queueCapacity } };
  }

  /** The alert as the API shows it. */
  view(row: { id: string; state: string; rev: number; exerciseId: string | null }, doc: AlertDoc): Alert {
    return { ...doc, id: row.id, status: row.state as AlertStatus, orgName: this.orgName(doc.orgId), rev: row.rev, exerciseId: row.exerciseId };
  }
}

/**
 * The RFC 6587 §3.4.1 frame at `start` (`MSG-LEN SP SYSLOG-MSG`, MSG-LEN = NONZERO-DIGIT *DIGIT,
 * the message a syslog `<PRI>` header): its message's bytes [from, to) and where the next frame
 * (or line) begins, after an optional CR LF / LF that some senders add. Null when the bytes at
 * `start` are not a frame (a line of another kind); a reason when the length overruns the body.
 */
export function octetFrame(raw: Uint8Array, start: number): { from: number; to: number; next: number } | string | null {
  let i = start;
  let len = 0;
  while (i < raw.length && i - start < 9 && raw[i]! >= 0x30 && raw[i]! <= 0x39) len = len * 10 + raw[i++]! - 0x30;
  if (i === start || raw[i] !== 0x20 || raw[i + 1] !== 0x3c) return null;
  const from = i + 1;
  const to = from + len;
  if (to > raw.length) return `octet-counted syslog frame of ${len} bytes runs past the end of the body (${raw.length - from} left)`;
  let next = to;
  if (raw[next] === 13 && raw[next + 1] === 10) next += 2;
  else if (raw[next] === 10) next += 1;
  return { from, to, next };
}
