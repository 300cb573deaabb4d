/**
 * Correlation: the same observable value in several objects links them. The store keeps one
 * row per (object, value) for the latest version of each object — linear in the intel, never
 * quadratic as a table of pairs would be (MISP's correlation tables reached billions of rows)
 * — and links are found at read time, inside the query that applies the release policy to the
 * other object, so a reader only ever sees a link when they may see both objects.
 *
 * Bounds: a value in more than `cap` objects is marked frequent (no more rows are recorded for
 * it, no links are listed for it, it is reported as frequent instead); admin exclusions
 * (values, CIDR blocks, regular expressions) are never correlated; values on an enabled
 * warninglist are flagged and not linked.
 *
 * Indexing is incremental and off the commit path: every commit announced by IntelService
 * nudges the indexer (core/follow.ts), which reads the store by date_added after its cursor
 * (kept in `meta`) in slices once the writer is quiet, so objects written by other processes
 * (the CLI, another node process) are indexed too. Until it has caught up, links may be
 * missing (`indexing` says so), never wrong: they are found inside the release-policy query.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { describeRefusal } from '../core/regex.js';
import type { Clock } from '../core/clock.js';
import { Follower, type FollowSlice, type IndexStatus } from '../core/follow.js';
import type { Audience, Tlp } from '../core/policy.js';
import { mayRelease, type Actor } from '../access/index.js';
import { versionLabel } from './facts.js';
import type {
  AddedVersion, CorrelationExclusionRow, FrequentValueRow, ObjectRow, ObservableEntry, ObservableKind, ObservableLinkRow, ObservableLookup, ObservableValue, Store,
} from '../store/index.js';
import { DELETED_VERSION_KIND, type IntelService } from './service.js';
import { parseStixId } from '../stix/index.js';
import { extractObservables, ipKeyLast, ipKeyOf, normaliseValue, parseIp, supernetsOf, OBSERVABLE_KINDS } from './observables.js';
import { auditWrite, compileRegex, type WarninglistHit, type Warninglists } from './warninglists.js';

export const DEFAULT_CORRELATION_CAP = 100;
/** Links returned for one object at most (all values together). */
export const DEFAULT_LINK_LIMIT = 500;
const CURSOR_KEY = 'correlation:cursor';
/** How far the indexer has read the deletion tombstones (their updated_us, from the date_added clock). */
const DELETED_CURSOR_KEY = 'correlation:deleted-cursor';
const SYNC_WAIT_MS = 2000;
/** How often the indexer looks for writes of other processes. */
const POLL_MS = 2000;
/**
 * The correlation index catches up once no commit came for this long (core/follow.ts). A
 * federation pull or a paced import commits a page every few hundred milliseconds; with the
 * followers' default 100 ms the index read every page between two of them, on the cores that
 * store the pages. At 500 ms such a writer counts as busy, so the index reads one slice every
 * 500 ms until the writer pauses, then catches up: the pages land sooner (hub and spokes
 * converge ~12 % sooner in the federation bench, docs/benchmarks.md, seventeenth session) and
 * a single commit is still indexed well within 2 s. The indicator feed keeps 100 ms: new
 * indicators reach detection first.
 */
const QUIET_MS = 500;

/** The values a version contributes to the index (none when revoked or unreadable, nor excluded ones). */
function valuesOf(r: { revoked: boolean; json: string }, exclusions: ExclusionSet): ObservableValue[] {
  if (r.revoked) return [];
  try {
    return extractObservables(JSON.parse(r.json) as Record<string, unknown>).filter((v) => !exclusions.has(v.kind, v.value));
  } catch {
    return [];
  }
}

/** The cursor moved while a slice was indexed (another process's indexer, or a re-index): the slice is rolled back and read again. */
class CursorMoved extends Error {}

/** Moves an indexer's cursor from `from` (null: never set) to `to`, or throws CursorMoved when it moved meanwhile. */
async function moveCursor(tx: Store, key: string, from: string | null, to: string): Promise<void> {
  const moved = from === null ? (await tx.initMeta(key, to)) === to : await tx.casMeta(key, from, to);
  if (!moved) throw new CursorMoved(`${key} moved while a slice was indexed`);
}

const delay = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms).unref(); });

export interface CorrelationOptions {
  /** A value in more objects than this is frequent: no links (MISP's correlation_limit, default 100). */
  cap?: number;
  linkLimit?: number;
}

/** Who reads: the audience of the release policy and the collections they may read. */
export interface CorrelationReader {
  audience: Audience;
  collectionIds: readonly string[];
}

export interface CorrelatedObject {
  id: string;
  type: string;
  name: string | null;
  collectionId: string;
  creatorOrg: string | null;
  tlp: Tlp | null;
  /** The value of the other object when it differs from ours (an IP block containing ours, or inside it). */
  via: string | null;
}

export interface ValueCorrelation {
  kind: ObservableKind;
  value: string;
  warninglist: WarninglistHit | null;
  excluded: boolean;
  frequent: boolean;
  links: CorrelatedObject[];
}

export interface ObjectCorrelations {
  object: { id: string; type: string; name: string | null; version: string };
  values: ValueCorrelation[];
  /** True when the link limit cut the list. */
  truncated: boolean;
  /** True when the index was still catching up with the store: links may be missing (never ones the reader may not see). */
  indexing: boolean;
}

export type ExclusionType = CorrelationExclusionRow['type'];
export const EXCLUSION_TYPES: readonly ExclusionType[] = ['value', 'cidr', 'regex'];

/** Exclusions compiled for matching. */
class ExclusionSet {
  readonly #tests: ((kind: ObservableKind, value: string) => boolean)[] = [];

  constructor(rows: readonly CorrelationExclusionRow[]) {
    for (const r of rows) {
      const kindOk = (k: ObservableKind) => r.kind === null || r.kind === k;
      if (r.type === 'value') {
        // Normalised per kind, so '8.8.8.8' excludes '8.8.8.8' however the indicator wrote it.
        const forms = new Map<ObservableKind, string>();
        for (const k of OBSERVABLE_KINDS) forms.set(k, normaliseValue(k, r.pattern)?.value ?? r.pattern.trim());
        this.#tests.push((k, v) => kindOk(k) && (forms.get(k) === v || v.toLowerCase() === r.pattern.trim().toLowerCase()));
      } else if (r.type === 'cidr') {
        const block = parseIp(r.pattern);
        if (!block) continue;
        const width = block.version === 4 ? 32 : 128;
        const shift = BigInt(width - block.prefix);
        this.#tests.push((k, v) => {
          if (k !== 'ip' || !kindOk(k)) return false;
          const b = parseIp(v);
          return !!b && b.version === block.version && b.prefix >= block.prefix && b.network >> shift === block.network >> shift;
        });
      } else {
        const c = compileRegex(r.pattern);
        if (c.ok) this.#tests.push((k, v) => kindOk(k) && c.re.test(v));
      }
    }
  }

  has(kind: ObservableKind, value: string): boolean {
    return this.#tests.some((t) => t(kind, value));
  }
}

/**
 * Validates an exclusion's pattern for its type (400 naming the problem). A regex RE2 cannot run
 * (backreference, lookaround, syntax error) is a 422 with the reason and the position.
 */
export function checkExclusion(type: ExclusionType, pattern: string): string {
  const p = pattern.trim();
  if (!p || p.length > 1024) throw new AppError('BAD_REQUEST', 'pattern must have 1-1024 characters');
  if (type === 'cidr' && !parseIp(p)) throw new AppError('BAD_REQUEST', `${p.slice(0, 100)} is not an IP address or CIDR block`);
  if (type === 'regex') {
    const r = compileRegex(p);
    if (!r.ok) {
      throw new AppError('UNPROCESSABLE', `pattern: regular expression refused: ${describeRefusal(r.refusal)}`, {
        details: { reason: r.refusal.reason, position: r.refusal.position },
      });
    }
  }
  return p;
}

export class Correlations {
  readonly cap: number;
  readonly linkLimit: number;
  readonly #follower: Follower;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly deps: { store: Store; clock: Clock; intel: IntelService; warninglists: Warninglists },
    opts: CorrelationOptions = {},
  ) {
    this.cap = opts.cap ?? DEFAULT_CORRELATION_CAP;
    this.linkLimit = opts.linkLimit ?? DEFAULT_LINK_LIMIT;
    // Each slice commits its rows with the cursor: at least 100 rows a slice, or on a busy
    // machine the fixed cost per slice would bound the catch-up to a few hundred objects/s.
    this.#follower = new Follower((limit) => this.#slice(limit), { minRows: 100, maxRows: 2000, quietMs: QUIET_MS });
  }

  /**
   * Follows committed writes (a commit only nudges the indexer, which reads when the writer is
   * quiet: commits do not pay for indexing) and catches up in the background with what was
   * stored meanwhile.
   */
  start(): void {
    this.#unsubscribe ??= this.deps.intel.onCommitted(() => this.#follower.nudge());
    // In the background, a slice at a time: a large backlog (first start after an upgrade) must
    // not hold up the node; other processes' writes are picked up by the poll.
    this.#follower.poll(POLL_MS);
  }

  /** Read what is behind soon, in the background (the server calls it once it listens). */
  nudge(): void {
    this.#follower.nudge();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#follower.stop();
  }

  /** The last indexing failure (null when the last run succeeded). */
  get lastError(): unknown {
    return this.#follower.lastError;
  }

  /**
   * Indexes every object version stored after the cursor, now. One run at a time; a request
   * during a run schedules one more run after it. Resolves with the number of versions read.
   */
  sync(): Promise<number> {
    return this.#follower.sync();
  }

  /** Waits for indexing in progress (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#follower.idle();
  }

  /** How far the index is behind the store (GET /api/v1/system). */
  async status(): Promise<IndexStatus> {
    const { store, clock } = this.deps;
    const cursorUs = Number((await store.getMeta(CURSOR_KEY)) ?? 0);
    const b = await store.backlog({ afterUs: cursorUs });
    const e = this.#follower.lastError;
    return {
      name: 'correlation', cursorUs, behind: b.count, lagMs: b.oldestUs === null ? 0 : Math.max(0, clock.now() - Math.floor(b.oldestUs / 1000)),
      ready: b.count === 0, error: e ? (e instanceof Error ? e.message : String(e)).slice(0, 300) : null,
    };
  }

  /**
   * One page after the cursor, indexed with the cursor move in one transaction; once caught up,
   * the deletions after the deletions' cursor (a TAXII DELETE, a retraction from the node of
   * origin): each object with a deleted version is indexed again from what is left of it, so an
   * older version stored speaks for the object once its latest is gone (the deletion itself took
   * the deleted version's rows out).
   */
  async #slice(limit: number): Promise<FollowSlice> {
    const { store } = this.deps;
    const at = await store.getMeta(CURSOR_KEY);
    const rows = await store.objectsAddedAfter(Number(at ?? 0), limit);
    if (rows.length > 0) {
      const exclusions = new ExclusionSet(await store.listCorrelationExclusions());
      const entries = rows.map((r) => this.#entryOf(r, exclusions));
      // The cursor moves in the same transaction as the rows it covers: a crash re-reads, never
      // skips. The index is derived from stored objects, so its commit does not wait for the disk
      // (a machine crash rolls back index and cursor together and they are read again): an fsync
      // per slice cost more than the indexing (docs/benchmarks.md, sixth session).
      // Compare-and-set: a re-index that reset the cursor meanwhile rolls this slice back (its
      // rows would otherwise survive the reset with the cursor past everything before them).
      const last = String(rows[rows.length - 1]!.dateAdded);
      try {
        await this.#index(entries, (tx) => moveCursor(tx, CURSOR_KEY, at, last));
      } catch (e) {
        // Not a failure: the next slice starts from where the cursor is now.
        if (e instanceof CursorMoved) return { read: 0, more: true };
        throw e;
      }
      if (rows.length === limit) return { read: rows.length, more: true };
    }
    const deletedAfter = Number((await store.getMeta(DELETED_CURSOR_KEY)) ?? 0);
    const gone = await store.scanRecords({ kind: DELETED_VERSION_KIND, afterUs: deletedAfter, limit });
    if (gone.length === 0) return { read: rows.length, more: false };
    const entries = await this.#entriesLeft([...new Set(gone.map((t) => t.parentId ?? ''))].filter((id) => id !== ''));
    await this.#index(entries, (tx) => tx.setMeta(DELETED_CURSOR_KEY, String(gone[gone.length - 1]!.updatedUs)));
    return { read: rows.length + gone.length, more: gone.length === limit };
  }

  /** Index entries and the move of the cursor that covers them, in one transaction (derived data: no fsync). */
  #index(entries: readonly ObservableEntry[], move: (tx: Store) => Promise<unknown>): Promise<void> {
    return this.deps.store.transaction(async (tx) => {
      await tx.indexObservables(entries, { cap: this.cap, nowUs: this.deps.clock.now() * 1000 });
      await move(tx);
    }, { durable: false });
  }

  /** The latest version left of each of these objects in each collection, as index entries. */
  async #entriesLeft(ids: readonly string[]): Promise<ObservableEntry[]> {
    const { store } = this.deps;
    const types = [...new Set(ids.map((id) => parseStixId(id)?.type ?? ''))].filter((t) => t !== '');
    const heads = new Map<string, ObjectRow>();
    for (let after = 0; types.length > 0;) {
      const page = await store.scanObjects({ types, ids, addedAfter: after, limit: 1000 });
      for (const r of page) {
        const k = `${r.collectionId} ${r.id}`;
        const h = heads.get(k);
        if (!h || r.version > h.version) heads.set(k, r);
      }
      if (page.length < 1000) break;
      after = page[page.length - 1]!.dateAdded;
    }
    const exclusions = new ExclusionSet(await store.listCorrelationExclusions());
    return [...heads.values()].map((r) => ({ collectionId: r.collectionId, objectId: r.id, version: r.version, values: valuesOf(r, exclusions) }));
  }

  #entryOf(r: AddedVersion, exclusions: ExclusionSet): ObservableEntry {
    return {
      collectionId: r.collectionId, objectId: r.id, version: r.version, values: valuesOf(r, exclusions),
      ...(!r.others ? { sole: { seq: r.seq, creatorOrg: r.creatorOrg, dateAdded: r.dateAdded } } : {}),
    };
  }

  /**
   * The correlations of one object for a reader: for each of its values, the other objects with
   * the same value (or an IP block containing it / inside it) that the reader may see, plus
   * warninglist, exclusion and frequent flags. NOT_FOUND when the reader may not see the object.
   */
  async linksOf(reader: CorrelationReader, objectId: string): Promise<ObjectCorrelations> {
    const { store, warninglists } = this.deps;
    // Fresh reads (objects committed by other processes too), but a long backlog does not hold a reader for more than a moment.
    let caughtUp = false;
    await Promise.all([Promise.race([this.sync().then(() => { caughtUp = true; }, () => undefined), delay(SYNC_WAIT_MS)]), warninglists.refresh()]);
    const page = await store.queryObjects({
      collectionIds: reader.collectionIds, audience: reader.audience, purpose: 'read', ids: [objectId], version: { kind: 'last' }, limit: 100,
    });
    // The store filtered by the release policy; the object is checked once more with the policy function itself.
    const visible = page.rows.filter((r) => mayRelease({ tlp: r.tlp, creatorOrg: r.creatorOrg, recipients: r.recipients, originNode: r.originNode }, reader.audience, 'read'));
    const self = visible.sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : a.dateAdded - b.dateAdded))[0];
    if (!self) throw new AppError('NOT_FOUND', `no visible object ${objectId.slice(0, 200)}`);
    const exclusions = new ExclusionSet(await store.listCorrelationExclusions());
    let own: ObservableValue[] = [];
    try {
      own = self.revoked ? [] : extractObservables(JSON.parse(self.json) as Record<string, unknown>);
    } catch {
      own = [];
    }
    const values: ValueCorrelation[] = own.map((v) => ({
      kind: v.kind, value: v.value, warninglist: warninglists.match(v.kind, v.value), excluded: exclusions.has(v.kind, v.value), frequent: false, links: [],
    }));
    const live = own.filter((_, i) => !values[i]!.excluded && !values[i]!.warninglist);
    const exact: { kind: ObservableKind; value: string }[] = live.map((v) => ({ kind: v.kind, value: v.value }));
    const ranges: ObservableLookup[] = [];
    for (const v of live) {
      const b = v.kind === 'ip' ? parseIp(v.value) : null;
      if (!b) continue;
      for (const s of supernetsOf(b)) exact.push({ kind: 'ip', value: s });
      if (b.prefix < (b.version === 4 ? 32 : 128)) ranges.push({ kind: 'ip', keyFrom: ipKeyOf(b), keyTo: ipKeyLast(b), prefixAbove: b.prefix });
    }
    const frequent = new Set((await store.frequentValues({ keys: exact, limit: exact.length })).map((f) => `${f.kind}\u0000${f.value}`));
    for (const v of values) if (frequent.has(`${v.kind}\u0000${v.value}`)) v.frequent = true;
    const lookups = [...exact.filter((k) => !frequent.has(`${k.kind}\u0000${k.value}`)), ...ranges];
    const liveOwn = values.filter((v) => !v.excluded && !v.warninglist && !v.frequent);
    const rows = liveOwn.length ? await store.observableLinks({ lookups, excludeObjectId: objectId, collectionIds: reader.collectionIds, audience: reader.audience, limit: this.linkLimit + 1 }) : [];
    const truncated = rows.length > this.linkLimit;
    for (const row of rows.slice(0, this.linkLimit)) {
      // The other side's value passes the same filters (an excluded or benign block never links).
      if (exclusions.has(row.kind, row.value) || warninglists.match(row.kind, row.value)) continue;
      for (const v of liveOwn) if (related(v, row)) addLink(v, row);
    }
    return { object: { id: self.id, type: self.type, name: self.name, version: versionLabel(self.version) }, values, truncated, indexing: !caughtUp };
  }

  /**
   * Values over the cap, most recent first. With a reader, only values that occur in at least
   * one object the reader may see: a frequent value is itself intel, and may sit only in objects
   * released to others. Without one (the node operator), all of them.
   */
  async frequentValues(limit = 100, reader?: CorrelationReader): Promise<FrequentValueRow[]> {
    const all = await this.deps.store.frequentValues({ limit: reader ? Math.max(limit * 5, 1000) : limit });
    if (!reader) return all;
    const out: FrequentValueRow[] = [];
    for (const f of all) {
      if (out.length >= limit) break;
      const seen = await this.deps.store.observableLinks({
        lookups: [{ kind: f.kind, value: f.value }], excludeObjectId: '', collectionIds: reader.collectionIds, audience: reader.audience, limit: 1,
      });
      if (seen.length > 0) out.push(f);
    }
    return out;
  }

  async stats(): Promise<{ rows: number; frequent: number; cap: number; cursor: number }> {
    const s = await this.deps.store.observableStats();
    return { ...s, cap: this.cap, cursor: Number((await this.deps.store.getMeta(CURSOR_KEY)) ?? 0) };
  }

  async listExclusions(): Promise<CorrelationExclusionRow[]> {
    return this.deps.store.listCorrelationExclusions();
  }

  /** Adds an exclusion; it applies to reads at once and to indexing from now on. */
  async addExclusion(actor: Actor, e: { type: ExclusionType; pattern: string; kind?: ObservableKind | null; comment?: string }): Promise<CorrelationExclusionRow> {
    const row: CorrelationExclusionRow = {
      id: randomUUID(), type: e.type, kind: e.kind ?? null, pattern: checkExclusion(e.type, e.pattern), comment: (e.comment ?? '').slice(0, 1000),
      createdUs: this.deps.clock.now() * 1000, createdBy: actor.principal?.userId ?? null,
    };
    await this.deps.store.transaction(async (tx) => {
      await tx.putCorrelationExclusion(row);
      await auditWrite(tx, actor, { action: 'correlation.exclude', target: row.id, atUs: row.createdUs, detail: { type: row.type, kind: row.kind, pattern: row.pattern } });
    });
    return row;
  }

  /**
   * Rebuilds the index from every stored object: empties it (rows and frequent marks) and moves
   * the cursor back to the start, in one audited transaction; the indexer then reads the whole
   * store again in the background (`GET /api/v1/system` shows how far it is). What it brings
   * back: values an exclusion removed since skipped, values marked frequent that no longer are.
   * Links are missing, never wrong, until it has caught up (they are found at read time).
   */
  async reindex(actor: Actor): Promise<{ rows: number; frequent: number }> {
    const { store, clock } = this.deps;
    const cleared = await store.transaction(async (tx) => {
      const c = await tx.clearObservables();
      await tx.setMeta(CURSOR_KEY, '0');
      await auditWrite(tx, actor, { action: 'correlation.reindex', target: 'correlation', atUs: clock.now() * 1000, detail: c });
      return c;
    });
    // A started indexer begins at once; otherwise (the CLI) the node's indexer finds the reset at its next poll.
    if (this.#unsubscribe !== null) this.#follower.nudge();
    return cleared;
  }

  async removeExclusion(actor: Actor, id: string): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.deleteCorrelationExclusion(id))) throw new AppError('NOT_FOUND', `no exclusion ${id.slice(0, 100)}`);
      await auditWrite(tx, actor, { action: 'correlation.unexclude', target: id, atUs: this.deps.clock.now() * 1000 });
    });
  }
}

/** Whether a stored link row is about one of our values: the same value, or IP blocks one inside the other. */
function related(v: ValueCorrelation, row: ObservableLinkRow): boolean {
  if (v.kind !== row.kind) return false;
  if (v.value === row.value) return true;
  if (v.kind !== 'ip') return false;
  const a = parseIp(v.value);
  const b = parseIp(row.value);
  if (!a || !b || a.version !== b.version) return false;
  const width = a.version === 4 ? 32 : 128;
  const [outer, inner] = a.prefix <= b.prefix ? [a, b] : [b, a];
  const shift = BigInt(width - outer.prefix);
  return inner.network >> shift === outer.network >> shift;
}

function addLink(v: ValueCorrelation, row: ObservableLinkRow): void {
  if (v.links.some((l) => l.id === row.objectId)) return;
  v.links.push({
    id: row.objectId, type: row.type, name: row.name, collectionId: row.collectionId, creatorOrg: row.creatorOrg, tlp: row.tlp,
    via: row.value === v.value ? null : row.value,
  });
}
