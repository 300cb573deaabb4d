/**
 * Keeps the indicator index in step with the store: every valid STIX-pattern indicator, its
 * latest version, released to exactly the organisations the release policy and the collection
 * grants allow. Incremental and off the commit path: the store is read by date_added after a
 * cursor, in slices, by a Follower (core/follow.ts) that commits only nudge (this process's
 * commits at once, other processes' writes, e.g. a CLI import, on the next poll); each changed
 * indicator touches only its own keys in the index. The interface is the cursor over the store,
 * so the feed works the same in the API process or in a detection worker process.
 */
import type { Audience, ReleaseFacts } from '../../core/policy.js';
import { Follower, type FollowSlice, type IndexStatus } from '../../core/follow.js';
import { mayRelease } from '../../access/index.js';
import type { ObjectRow, Store } from '../../store/index.js';
import { DELETED_VERSION_KIND } from '../../intel/index.js';
import { IndicatorIndex } from '../indicators/index.js';
import type { IndicatorInput, Release } from '../indicators/index.js';

/** What the pipeline needs to know about an indicator beyond its pattern. */
export interface IndicatorInfo {
  readonly id: string;
  readonly collectionId: string;
  readonly name: string | null;
  readonly pattern: string;
  readonly creatorOrg: string | null;
  readonly confidence: number | null;
  /** kill_chain_phases of the MITRE ATT&CK kill chains (tactic names). */
  readonly tactics: readonly string[];
  readonly facts: ReleaseFacts;
}

export interface FeedStats {
  readonly indicators: number;
  readonly rejected: number;
  readonly lastSyncMs: number;
  readonly cursor: number;
}

const ATTACK_TYPES: readonly string[] = ['relationship', 'attack-pattern'];

interface Policy {
  /** organisation → its sharing groups */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  /** collection → principals with can_read ('*', organisation or group ids) */
  readonly readers: ReadonlyMap<string, ReadonlySet<string>>;
}

export class IndicatorFeed {
  readonly index: IndicatorIndex;
  readonly #store: Store;
  readonly #info = new Map<string, IndicatorInfo & { version: string }>();
  /**
   * Owner (creator of the first stored version) of ids not in #info (revoked, or not a usable
   * STIX pattern): only the owner's versions of an id ever count (docs/stix-versioning.md).
   */
  readonly #ownerOfDropped = new Map<string, string | null>();
  /** One release predicate per distinct (collection, tlp, creator, recipients, origin). */
  readonly #releases = new Map<string, Release>();
  #policy: Policy = { groups: new Map(), readers: new Map() };
  #cursor = 0;
  /** Cursor of the relationship / attack-pattern scan (techniques of indicators). */
  #attackCursor = 0;
  /** Cursor (updated_us) of the deletion tombstones read: a deleted indicator version leaves the index. */
  #deletedCursor = 0;
  /** indicator id → its `indicates` relationships to attack patterns (with their release). */
  readonly #indicates = new Map<string, Map<string, { target: string; facts: ReleaseFacts; collectionId: string }>>();
  /** attack-pattern id → ATT&CK technique id (T1059.001). */
  readonly #techniques = new Map<string, string>();
  #rejected = 0;
  #lastSyncMs = 0;
  #loaded = false;
  readonly #follower = new Follower((limit) => this.#slice(limit), { minRows: 200, maxRows: 5000 });

  constructor(store: Store, index = new IndicatorIndex()) {
    this.#store = store;
    this.index = index;
  }

  info(id: string): IndicatorInfo | undefined {
    return this.#info.get(id);
  }

  stats(): FeedStats {
    return { indicators: this.index.size, rejected: this.#rejected, lastSyncMs: this.#lastSyncMs, cursor: this.#cursor };
  }

  /** The audience of an organisation reading on this node. */
  audienceOf(orgId: string): Audience & { hop: 'local' } {
    return { hop: 'local' as const, orgId, groupIds: this.#policy.groups.get(orgId) ?? [] };
  }

  /** May this organisation see an object with these facts in this collection? */
  releasedTo(facts: ReleaseFacts, collectionId: string | null, orgId: string): boolean {
    const audience = this.audienceOf(orgId);
    if (!mayRelease(facts, audience, 'read')) return false;
    if (collectionId === null) return true;
    const readers = this.#policy.readers.get(collectionId);
    if (!readers) return false;
    return readers.has('*') || readers.has(orgId) || audience.groupIds.some((g) => readers.has(g));
  }

  /** Reloads group memberships and collection grants (the predicates read them live). */
  async refreshPolicy(): Promise<void> {
    const groups = new Map<string, string[]>();
    for (const o of await this.#store.listOrganisations()) groups.set(o.id, await this.#store.groupsOfOrg(o.id));
    const readers = new Map<string, Set<string>>();
    for (const a of await this.#store.collectionAccess()) {
      if (!a.canRead) continue;
      const s = readers.get(a.collectionId) ?? new Set<string>();
      s.add(a.principal);
      readers.set(a.collectionId, s);
    }
    this.#policy = { groups, readers };
  }

  /**
   * Reads every indicator version added since the cursor and applies it, now, a slice at a time
   * (yielding the event loop between slices). Concurrent calls share one run (and a call during
   * a run schedules one more). Returns the versions read.
   */
  sync(): Promise<number> {
    return this.#follower.sync();
  }

  /**
   * Something may have been committed (this process's commit, or the periodic poll for other
   * processes' writes): the feed catches up once the writer is quiet, off the commit path.
   */
  nudge(): void {
    this.#follower.nudge();
  }

  /** True when a nudge came after the last complete catch-up started: `sync()` before relying on the index. */
  get pending(): boolean {
    return this.#follower.pending;
  }

  /** True once the feed has read the whole store at least once since it was created. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** No more scheduled catch-ups (`sync()` still works); waits for one in progress. */
  async stop(): Promise<void> {
    this.#follower.stop();
    await this.#follower.idle();
  }

  /** How far the feed is behind the store (GET /api/v1/system). */
  async status(nowMs: number): Promise<IndexStatus> {
    const a = await this.#store.backlog({ afterUs: this.#cursor, types: ['indicator'] });
    const b = await this.#store.backlog({ afterUs: this.#attackCursor, types: ATTACK_TYPES });
    const oldest = [a.oldestUs, b.oldestUs].filter((x): x is number => x !== null);
    const e = this.#follower.lastError;
    return {
      name: 'indicators', cursorUs: this.#cursor, behind: a.count + b.count,
      lagMs: oldest.length ? Math.max(0, nowMs - Math.floor(Math.min(...oldest) / 1000)) : 0,
      ready: a.count + b.count === 0, error: e ? (e instanceof Error ? e.message : String(e)).slice(0, 300) : null,
    };
  }

  /** One slice: indicators first, then the relationships / attack patterns that name their techniques. */
  async #slice(limit: number): Promise<FollowSlice> {
    const rows = await this.#store.scanObjects({ types: ['indicator'], addedAfter: this.#cursor, limit });
    if (rows.length > 0) {
      for (const row of rows) this.#apply(row);
      this.#cursor = rows[rows.length - 1]!.dateAdded;
      if (rows.length === limit) return { read: rows.length, more: true };
    }
    const attack = await this.#store.scanObjects({ types: ATTACK_TYPES, addedAfter: this.#attackCursor, limit });
    for (const row of attack) this.#applyAttack(row);
    if (attack.length > 0) this.#attackCursor = attack[attack.length - 1]!.dateAdded;
    if (attack.length === limit) return { read: rows.length + attack.length, more: true };
    // Deletions (a TAXII DELETE, a retraction from the node of origin): each indicator id with a
    // deleted version is read again from what is left of it in the store.
    const gone = await this.#store.scanRecords({ kind: DELETED_VERSION_KIND, afterUs: this.#deletedCursor, limit });
    if (gone.length > 0) {
      await this.#reload([...new Set(gone.map((t) => t.parentId ?? '').filter((id) => id.startsWith('indicator--')))]);
      this.#deletedCursor = gone[gone.length - 1]!.updatedUs;
    }
    const more = gone.length === limit;
    if (!more) {
      this.#loaded = true;
      this.#lastSyncMs = Date.now();
    }
    return { read: rows.length + attack.length, more };
  }

  #apply(row: ObjectRow): void {
    const cur = this.#info.get(row.id);
    // Rows come in date_added order, so the first one seen of an id is its owner's. Another
    // organisation's version of the id (stored before versioning held across collections) is
    // never matched under the owner's indicator id.
    const owner = cur ? cur.creatorOrg : this.#ownerOfDropped.has(row.id) ? this.#ownerOfDropped.get(row.id) ?? null : row.creatorOrg;
    if (row.creatorOrg !== owner) return;
    if (cur && cur.version > row.version) return; // an older version arriving late changes nothing
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(row.json) as Record<string, unknown>;
    } catch {
      this.#rejected++;
      return;
    }
    if (row.revoked || obj['pattern_type'] !== 'stix' || typeof obj['pattern'] !== 'string' || typeof obj['valid_from'] !== 'string') {
      this.#drop(row.id, owner);
      return;
    }
    const facts: ReleaseFacts = { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode };
    const input: IndicatorInput = {
      id: row.id, pattern: obj['pattern'], pattern_type: 'stix', valid_from: obj['valid_from'],
      ...(typeof obj['valid_until'] === 'string' ? { valid_until: obj['valid_until'] } : {}),
    };
    const r = this.index.replace(input, this.#release(facts, row.collectionId));
    if (!r.ok) {
      this.#rejected++;
      this.#info.delete(row.id);
      this.#ownerOfDropped.set(row.id, owner);
      return;
    }
    const phases = Array.isArray(obj['kill_chain_phases']) ? (obj['kill_chain_phases'] as { kill_chain_name?: unknown; phase_name?: unknown }[]) : [];
    this.#info.set(row.id, {
      id: row.id, version: row.version, collectionId: row.collectionId, name: typeof obj['name'] === 'string' ? obj['name'] : null,
      pattern: input.pattern, creatorOrg: row.creatorOrg, confidence: typeof obj['confidence'] === 'number' ? obj['confidence'] : null,
      tactics: phases.filter((p) => typeof p.kill_chain_name === 'string' && p.kill_chain_name.startsWith('mitre') && typeof p.phase_name === 'string')
        .map((p) => p.phase_name as string),
      facts,
    });
  }

  /**
   * ATT&CK techniques an indicator indicates, as far as the organisation may see the
   * relationship saying so (the technique ids themselves are public).
   */
  techniquesOf(indicatorId: string, orgId: string): string[] {
    const rels = this.#indicates.get(indicatorId);
    if (!rels) return [];
    const out = new Set<string>();
    for (const r of rels.values()) {
      const t = this.#techniques.get(r.target);
      if (t && this.releasedTo(r.facts, r.collectionId, orgId)) out.add(t);
    }
    return [...out].sort();
  }

  #applyAttack(row: ObjectRow): void {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(row.json) as Record<string, unknown>;
    } catch {
      return;
    }
    if (row.type === 'attack-pattern') {
      const refs = Array.isArray(obj['external_references']) ? (obj['external_references'] as { source_name?: unknown; external_id?: unknown }[]) : [];
      const t = refs.find((r) => typeof r.source_name === 'string' && r.source_name.startsWith('mitre-') && typeof r.external_id === 'string' && /^T\d{4}(\.\d{3})?$/.test(r.external_id));
      if (t) this.#techniques.set(row.id, t.external_id as string);
      return;
    }
    const src = obj['source_ref'];
    const dst = obj['target_ref'];
    if (obj['relationship_type'] !== 'indicates' || typeof src !== 'string' || typeof dst !== 'string' || !src.startsWith('indicator--') || !dst.startsWith('attack-pattern--')) return;
    const rels = this.#indicates.get(src) ?? new Map<string, { target: string; facts: ReleaseFacts; collectionId: string }>();
    if (row.revoked) rels.delete(row.id);
    else rels.set(row.id, { target: dst, facts: { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode }, collectionId: row.collectionId });
    if (rels.size === 0) this.#indicates.delete(src);
    else this.#indicates.set(src, rels);
  }

  /**
   * Forgets these indicators and applies again every version of them still stored, oldest first.
   * An id whose revoking version was deleted stays out: a revocation is final (the tombstone
   * keeps it, as intel's versioning rules do).
   */
  async #reload(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const rows = await this.#store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1_000_000, ids: part });
      const revoked = new Set<string>();
      // A deleted version keeps its owner (the tombstone's): another organisation's identical copy
      // of it in a second collection never becomes the indicator once the owner's rows are gone.
      const owners = new Map<string, string>();
      for (const t of await this.#store.recordsByParent(DELETED_VERSION_KIND, part)) {
        if (!t.parentId) continue;
        owners.set(t.parentId, t.creatorOrg);
        if ((JSON.parse(t.json) as { revoked?: boolean }).revoked === true) revoked.add(t.parentId);
      }
      for (const id of part) {
        this.index.remove(id);
        this.#info.delete(id);
        this.#ownerOfDropped.delete(id);
        if (owners.has(id)) this.#ownerOfDropped.set(id, owners.get(id) ?? null);
      }
      for (const row of rows) if (row.dateAdded <= this.#cursor && !revoked.has(row.id)) this.#apply(row);
    }
  }

  #drop(id: string, owner: string | null): void {
    this.index.remove(id);
    this.#info.delete(id);
    this.#ownerOfDropped.set(id, owner);
  }

  #release(facts: ReleaseFacts, collectionId: string): Release {
    const key = JSON.stringify([collectionId, facts.tlp, facts.creatorOrg, facts.recipients, facts.originNode]);
    let r = this.#releases.get(key);
    if (!r) {
      r = (orgId: string) => this.releasedTo(facts, collectionId, orgId);
      this.#releases.set(key, r);
    }
    return r;
  }
}
