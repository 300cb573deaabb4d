/**
 * Alert grouping and batched persistence. A hit joins the alert of its group — same
 * organisation, source, rule or indicator, and entity — while the group was last seen within
 * the window; otherwise it opens a new alert. Hits are gathered per processing batch and written
 * in the batch's transaction: one row write per changed alert, not one per event.
 *
 * An alert marked false positive or escalated keeps absorbing its group's repeats (count and
 * samples grow, nobody is paged again) until the window passes.
 */
import crypto from 'node:crypto';
import { withoutNul } from '../../core/text.js';
import type { RecordRow, Store } from '../../store/index.js';
import type { NormalisedEvent } from '../normalise/index.js';
import type { AlertDoc, AlertSeverity, AlertSource, Matched } from './alert-types.js';
import { ALERT, SAMPLE_HEAD, SAMPLE_MAX_CHARS, SAMPLE_TAIL, severityRank } from './alert-types.js';

export interface Hit {
  readonly orgId: string;
  readonly sensorId: string;
  readonly exerciseId: string | null;
  readonly source: AlertSource;
  /** Indicator id, rule id (or title), or anomaly key. */
  readonly ref: string;
  readonly title: string;
  readonly severity: AlertSeverity;
  readonly techniques: readonly string[];
  readonly matched: Matched;
  readonly entity: string;
  /** Alliance bodies the alert may also reach (those the matched intel or rule is released to). */
  readonly recipients: readonly string[];
  readonly event: NormalisedEvent | null;
  readonly atMs: number;
}

interface Pending {
  readonly id: string;
  readonly isNew: boolean;
  readonly first: Hit;
  count: number;
  firstMs: number;
  lastMs: number;
  severity: AlertSeverity;
  techniques: Set<string>;
  head: Record<string, unknown>[];
  /** The latest events, serialised only at flush (most hits of a busy alert are never kept). */
  tail: NormalisedEvent[];
}

/** An alert written by a flush: the row as committed, for publication. */
export interface Written {
  readonly row: RecordRow;
  readonly doc: AlertDoc;
  readonly created: boolean;
}

function sampleOf(e: NormalisedEvent): Record<string, unknown> {
  const json = JSON.stringify(e);
  if (json.length <= SAMPLE_MAX_CHARS) return JSON.parse(json) as Record<string, unknown>;
  // Too big to keep whole: the ECS fields without the source's own copy.
  const { original: _original, ...ecs } = e;
  const small = JSON.stringify(ecs);
  return small.length <= SAMPLE_MAX_CHARS ? { ...(JSON.parse(small) as Record<string, unknown>), truncated: true } : { '@timestamp': e['@timestamp'], truncated: true };
}

/**
 * The stored group key. Separated by U+001F (unit separator), not NUL, and without a NUL from
 * telemetry (a host name): PostgreSQL text cannot hold one ("invalid byte sequence for encoding
 * UTF8: 0x00"), so the worker's batch could not be written there.
 */
function groupKeyOf(h: Pick<Hit, 'ref' | 'entity' | 'source' | 'exerciseId' | 'orgId'>): string {
  // Built for every hit: a template takes a third of the time of an array joined.
  const key = withoutNul(`${h.exerciseId ?? ''}\u001f${h.orgId}\u001f${h.source}\u001f${h.ref}\u001f${h.entity}`);
  return key.length <= GROUP_KEY_MAX ? key : boundedKey(key);
}

/**
 * Longest stored group key, in UTF-16 units (at most 3 UTF-8 bytes each): the key is indexed,
 * and PostgreSQL refuses a B-tree entry over 2,704 bytes ("index row size exceeds btree
 * maximum"), which failed the whole detection batch on an event with a long host name.
 */
const GROUP_KEY_MAX = 512;

/** A longer key: its head and the SHA-256 of all of it (the same entity always gives the same key). */
function boundedKey(key: string): string {
  let head = key.slice(0, GROUP_KEY_MAX - 65);
  // Not half a surrogate pair: stored, it would read back as U+FFFD and no longer be the same key.
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}\u001f${crypto.createHash('sha256').update(key).digest('hex')}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Committed alerts an AlertBook keeps for their next update (each up to ~16 KB of samples). */
const KNOWN_MAX = 1000;

export class AlertBook {
  /**
   * group key → open alert id, when it was last seen (event time, ms: what the window joins on)
   * and when this book last saw a hit of it (the clock of the last `load` or `expire`: what
   * forgetting idle groups goes by, so that telemetry replayed from the past keeps its groups).
   */
  readonly #groups = new Map<string, { id: string; lastMs: number; touchedMs: number }>();
  /** The clock as of the last `load` or `expire` call (ms). */
  #nowMs = 0;
  #pending = new Map<string, Pending>();
  /**
   * Alerts this book wrote and saw committed (`committed`), at most KNOWN_MAX, oldest dropped
   * first: the next update of one starts from this row instead of reading it back (the record,
   * then its recipients). The write still compares revisions, so a change made since (an
   * analyst, another worker) is noticed, and the update is made again from a fresh read.
   */
  readonly #known = new Map<string, { row: RecordRow; doc: AlertDoc }>();
  #hits = 0;
  readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Rebuilds the open groups from the store (after a start, a failed flush, a partition taken
   * over): the real ones and every exercise's (their keys start with the exercise), so an
   * exercise's repeats keep joining its alert across a worker restart; those last seen within the
   * window, or written within it by the clock (telemetry replayed from the past).
   */
  async load(store: Store, nowMs: number): Promise<void> {
    this.#groups.clear();
    this.#pending.clear();
    this.#known.clear();
    this.#nowMs = nowMs;
    const since = (nowMs - this.windowMs) * 1000;
    // Seen within the window, or written within it by the clock (a replayed capture's groups).
    const facts = await store.listAlertFacts({ sinceUs: since, writtenSinceUs: since, exerciseId: '*', limit: 100_000 });
    for (const f of facts) if (!this.#groups.has(f.groupKey)) this.#groups.set(f.groupKey, { id: f.id, lastMs: Math.floor(f.lastUs / 1000), touchedMs: nowMs });
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Hits taken since this book was made (grouped or not). */
  get hits(): number {
    return this.#hits;
  }

  hit(h: Hit): void {
    this.#hits++;
    const key = groupKeyOf(h);
    const g = this.#groups.get(key);
    let p: Pending | undefined;
    if (g && h.atMs - g.lastMs <= this.windowMs && g.lastMs - h.atMs <= this.windowMs) {
      p = this.#pending.get(g.id);
      if (!p) {
        p = { id: g.id, isNew: false, first: h, count: 0, firstMs: h.atMs, lastMs: h.atMs, severity: h.severity, techniques: new Set(), head: [], tail: [] };
        this.#pending.set(g.id, p);
      }
      g.lastMs = Math.max(g.lastMs, h.atMs);
      g.touchedMs = this.#nowMs;
    } else {
      const id = `${ALERT}--${crypto.randomUUID()}`;
      p = { id, isNew: true, first: h, count: 0, firstMs: h.atMs, lastMs: h.atMs, severity: h.severity, techniques: new Set(), head: [], tail: [] };
      this.#pending.set(id, p);
      this.#groups.set(key, { id, lastMs: h.atMs, touchedMs: this.#nowMs });
    }
    p.count++;
    p.firstMs = Math.min(p.firstMs, h.atMs);
    p.lastMs = Math.max(p.lastMs, h.atMs);
    if (severityRank(h.severity) > severityRank(p.severity)) p.severity = h.severity;
    for (const t of h.techniques) p.techniques.add(t);
    if (h.event) {
      if (p.isNew && p.head.length < SAMPLE_HEAD) p.head.push(sampleOf(h.event));
      else {
        p.tail.push(h.event);
        if (p.tail.length > SAMPLE_TAIL) p.tail.shift();
      }
    }
  }

  /**
   * Forgets groups that took no hit for longer than the window by the clock (bounded memory).
   * By the clock, not by event time: the groups of telemetry replayed from the past (a capture
   * played for training) would otherwise all be forgotten at every call, and each repeat after
   * one would open another alert.
   */
  expire(nowMs: number): void {
    this.#nowMs = nowMs;
    for (const [k, g] of this.#groups) if (nowMs - g.touchedMs > this.windowMs) this.#groups.delete(k);
  }

  /**
   * The transaction of a flush committed: its alerts as written are what the store holds, so
   * their next update needs no read. Only committed rows are kept: a row of a rolled-back write
   * could carry a revision number that another writer then commits with other content.
   */
  committed(written: readonly Written[]): void {
    for (const w of written) {
      this.#known.delete(w.row.id);
      this.#known.set(w.row.id, { row: w.row, doc: w.doc });
    }
    for (const id of this.#known.keys()) {
      if (this.#known.size <= KNOWN_MAX) break;
      this.#known.delete(id);
    }
  }

  /**
   * Writes every pending change in the given transaction. On failure the caller must `load`
   * again (the in-memory groups may name alerts that were never committed); on success it
   * passes what was written to `committed`.
   */
  async flush(tx: Store, nowUs: number): Promise<Written[]> {
    const out: Written[] = [];
    const pending = [...this.#pending.values()];
    this.#pending = new Map();
    for (const p of pending) {
      const w = p.isNew ? await this.#create(tx, p, nowUs) : await this.#update(tx, p, nowUs);
      if (w) out.push(w);
    }
    return out;
  }

  async #create(tx: Store, p: Pending, nowUs: number): Promise<Written> {
    const h = p.first;
    const doc: AlertDoc = {
      orgId: h.orgId, sensorId: h.sensorId, source: h.source, title: h.title, severity: p.severity, assignee: null, entity: h.entity,
      groupKey: [h.source, h.ref, h.entity].join(' · '), count: p.count, firstSeen: iso(p.firstMs), lastSeen: iso(p.lastMs),
      techniques: [...p.techniques].sort(), matched: h.matched, samples: [...p.head, ...p.tail.map(sampleOf)], incidentId: null,
    };
    const row: RecordRow = {
      id: p.id, kind: ALERT, parentId: null, creatorOrg: h.orgId, tlp: 'amber', recipients: [...new Set(h.recipients)].sort(), originNode: null,
      exerciseId: h.exerciseId, state: 'new', createdUs: nowUs, updatedUs: nowUs, rev: 1, json: JSON.stringify(doc),
    };
    await tx.putRecord(row);
    await tx.appendRecordEvent({ recordId: row.id, atUs: nowUs, kind: 'alert.created', orgId: null, userId: null, json: JSON.stringify({ source: h.source, severity: doc.severity, count: doc.count }) });
    await tx.putAlertFacts(factsOf(row, doc, h));
    return { row, doc, created: true };
  }

  async #update(tx: Store, p: Pending, nowUs: number, useKnown = true): Promise<Written | null> {
    const known = useKnown ? this.#known.get(p.id) : undefined;
    const cur = known?.row ?? await tx.getRecord(p.id);
    if (!cur) return null;
    const prev = known?.doc ?? (JSON.parse(cur.json) as AlertDoc);
    const samples = [...prev.samples.slice(0, SAMPLE_HEAD), ...[...prev.samples.slice(SAMPLE_HEAD), ...p.tail.map(sampleOf)].slice(-SAMPLE_TAIL)];
    const severity = severityRank(p.severity) > severityRank(prev.severity) ? p.severity : prev.severity;
    const doc: AlertDoc = {
      ...prev, count: prev.count + p.count, severity,
      firstSeen: iso(Math.min(Date.parse(prev.firstSeen), p.firstMs)), lastSeen: iso(Math.max(Date.parse(prev.lastSeen), p.lastMs)),
      techniques: [...new Set([...prev.techniques, ...p.techniques])].sort(), samples,
    };
    const row: RecordRow = { ...cur, json: JSON.stringify(doc), updatedUs: nowUs, rev: cur.rev + 1 };
    // The revision compared says the recipients are those of `cur` (read, or committed by this book).
    if (!(await tx.putRecord(row, { sameRecipients: true }))) {
      // Changed since this book committed it: read it (inside the transaction) and apply again.
      if (known) {
        this.#known.delete(p.id);
        return this.#update(tx, p, nowUs, false);
      }
      // Inside the batch's transaction the read above is current: SQLite has one writer, and on
      // PostgreSQL a concurrent analyst update makes this write fail and the batch is retried.
      throw new Error(`alert ${p.id} changed during the batch`);
    }
    await tx.putAlertFacts(factsOf(row, doc, p.first));
    return { row, doc, created: false };
  }
}

function factsOf(row: RecordRow, doc: AlertDoc, h: Pick<Hit, 'ref' | 'entity' | 'source' | 'exerciseId' | 'orgId'>) {
  const key = groupKeyOf(h);
  return {
    id: row.id, orgId: doc.orgId, groupKey: key, source: doc.source, severity: doc.severity, status: row.state, techniques: doc.techniques,
    count: doc.count, firstUs: Date.parse(doc.firstSeen) * 1000, lastUs: Date.parse(doc.lastSeen) * 1000, exerciseId: row.exerciseId,
  };
}
