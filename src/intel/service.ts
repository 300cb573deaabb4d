/**
 * Intel upsert: validate → policy facts → store. Content under a STIX (id, modified) is never
 * edited (DESIGN §2.8, docs/stix-versioning.md): the organisation that submits and owns an
 * object on this node, and a TLP given at import for someone else's object, are policy facts in
 * columns beside it. Versioning holds per id across every collection: only the owner (the
 * creator of the first stored version) adds versions; an (id, version) names one content, so a
 * re-post is a duplicate only when identical; once a version is revoked no new version is taken
 * (STIX 2.1 §3.6.2). STIX 2.0 input is converted to 2.1 as a new version (modified + 1 ms).
 */
import crypto from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { releaseBatchRows } from '../federation/batches.js';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Actor } from '../access/index.js';
import type { NewObjectRow, ObjectHead, Store, StoredVersion } from '../store/index.js';
import { parseStixId, predefinedTlpMarking } from '../stix/index.js';
import { isUnversionedKey, versionLabel } from './facts.js';
import { customTlpMarkings, prepareObject, type Prepared, type PrepareOptions } from './prepare.js';

export interface SubmitOptions extends PrepareOptions {
  /**
   * Organisation recorded as creator (creator_org: the policy fact of who submitted and owns the
   * objects here) when the actor has no principal: system imports, federation (the remote
   * creator, or the peer's identity).
   */
  asOrg?: string;
  /**
   * Per submitted item (same index), the signed federation provenance to store with its row
   * (store ObjectRow.provenance): what a relay serves on to the next node.
   */
  provenance?: readonly (string | null)[];
}

/**
 * What became of one submitted item. `version` is the version key (microseconds, for ordering);
 * `versionText` is the object's `modified` (else `created`) exactly as the stored object carries
 * it: as submitted, except for a converted STIX 2.0 object, whose new `modified` it is (the
 * `note` says so). A rejected item carries the version as submitted; null when it had none.
 */
export type ItemResult =
  | { index: number; id: string; version: string; versionText: string | null; status: 'added' | 'duplicate'; dateAdded: number; note?: string }
  | { index: number; id: string | null; version: string | null; versionText: string | null; status: 'rejected'; message: string };

const NO_MEMBERS: ReadonlyMap<string, string | null> = new Map();
const NO_PUBLISHERS: ReadonlyMap<string, string> = new Map();


/**
 * What one committed write added (not duplicates): how many versions of which types. Listeners
 * read the versions themselves from the store by date_added (a bundle import may add millions;
 * holding them for the announcement would hold the whole bundle in memory).
 */
export interface CommittedObjects {
  readonly collectionId: string;
  readonly count: number;
  readonly types: ReadonlySet<string>;
}

/**
 * A deleted object version leaves this record behind (kind, parent = the STIX id): its version,
 * the hash of its content and whether it was revoked, so that deleting never reopens an (id,
 * version) to another content, an id to another owner, or a revoked id to new versions.
 */
export const DELETED_VERSION_KIND = 'stix-deleted-version';
/** Meta key set once any version was deleted: until then the upsert skips the tombstone lookup. */
const DELETED_META = 'intel.deleted-versions';
/**
 * Meta key set once an organisation stored a copy of a version another organisation owns (an
 * identical re-post into another collection, creator_org the copier): until then the federation
 * signs every version with its row's creator without looking up owners (envelope.ts).
 */
export const COPIES_META = 'intel.copies-by-others';

/**
 * Federation (docs/federation.md "Retractions"): a version deleted from a collection on its node
 * of origin, or deleted here because its origin retracted it, leaves this record (parent = the
 * collection) so that the peers reading that collection learn of it. It carries the release
 * columns of the deleted copy: a peer is told only of what it could read.
 */
export const RETRACTION_KIND = 'stix-retraction';

/** What a retraction record holds (the signed part: id, version, digest, origin). */
export interface RetractionDoc {
  id: string;
  /** The version as the object carried it (`modified`, else `created`); null for an object without one (SCO). */
  version: string | null;
  /** SHA-256 (hex) of the RFC 8785 form of the retracted object. */
  digest: string;
  /** Set when the retraction came from a peer: its origin node, signature and the nodes it passed. */
  received?: { origin: string; signature: string; path: string[] };
}

/** A retraction received from a peer and verified, applied with `deleteVersions`. */
export interface ReceivedRetraction {
  origin: string;
  signature: string;
  path: string[];
}

export type CommitListener = (c: CommittedObjects) => void;

export class IntelService {
  readonly #listeners = new Set<CommitListener>();

  /**
   * @param sink where committed additions go; by default this service's own listeners. A
   *   service bound to an open transaction (bundle import) passes a collector, and the owner
   *   announces the rows once the outer transaction has committed.
   */
  constructor(readonly store: Store, readonly clock: Clock, private readonly sink?: CommitListener) {}

  /**
   * Called after each commit that added object versions (indicator index, correlation, ...).
   * Listeners run synchronously after the commit; a throwing listener does not affect others.
   * Returns the unsubscribe function.
   */
  onCommitted(l: CommitListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** Announces committed additions to the listeners (used by writers that own their transaction). */
  announce(c: CommittedObjects): void {
    if (c.count === 0) return;
    if (this.sink) return this.sink(c);
    for (const l of this.#listeners) {
      try {
        l(c);
      } catch {
        // A failing listener must not stop the others or the writer.
      }
    }
  }

  /**
   * Stores a batch in one transaction. Rejected items are reported and skipped; everything
   * accepted commits together or not at all. The versioning rules read what is stored of the
   * batch's ids in two statements per 1,000 ids (heads, then the exact versions of ids that
   * exist), never one per object.
   */
  async submit(actor: Actor, collectionId: string, objects: readonly unknown[], opts: SubmitOptions = {}): Promise<ItemResult[]> {
    const org = actor.principal?.orgId ?? opts.asOrg;
    if (!org) throw new AppError('FORBIDDEN', 'an organisation is required to submit intelligence');
    // Checked once per batch, not per object: a bad recipient rejects every item alike.
    const badRecipient = (opts.recipients ?? []).find((r) => !/^identity--[0-9a-f-]{36}$/.test(r));
    // The organisations of this alliance matter only to an object claiming another creator, or
    // to the identity object of someone other than the submitter.
    const claimsOther = objects.some((o) => {
      const x = o as { created_by_ref?: unknown; type?: unknown; id?: unknown } | null;
      return (typeof x?.created_by_ref === 'string' && x.created_by_ref !== org) || (x?.type === 'identity' && x.id !== org);
    });
    const orgs = claimsOther ? await this.store.listOrganisations() : [];
    const members = claimsOther ? new Map(orgs.map((o) => [o.id, o.node] as const)) : NO_MEMBERS;
    // Who alone publishes each identity of this alliance: an organisation itself, a sharing group's owner.
    const publishers = claimsOther ? new Map([...orgs.map((o) => [o.id, o.id] as const), ...(await this.store.listGroups()).map((g) => [g.id, g.ownerOrg] as const)]) : NO_PUBLISHERS;
    // TLP markings under non-standard ids (TLP 1.0 definitions of other tools): their level, not the import's TLP.
    const customTlp = await customTlpMarkings(objects, async (ids) => (await this.store.scanObjects({ types: ['marking-definition'], ids, addedAfter: -1, limit: ids.length * 4 }))
      .map((r) => JSON.parse(r.json) as Record<string, unknown>));
    const nowUs = this.clock.now() * 1000;
    const prepared: Indexed[] = [];
    const results: ItemResult[] = new Array(objects.length);
    objects.forEach((raw, index) => {
      const r = prepareObject(raw, { org, members, publishers, opts, collectionId, badRecipient, customTlp });
      if ('message' in r) results[index] = { index, id: r.id, version: r.version, versionText: r.versionText, status: 'rejected', message: r.message };
      else {
        const provenance = opts.provenance?.[index];
        if (provenance) r.row.provenance = provenance;
        prepared.push({ index, ...r });
      }
    });
    const added = { count: 0, types: new Set<string>() };
    if (prepared.length > 0) await this.store.transaction(async (tx) => {
      // Before reading what is stored: the rules decided on those reads must still hold at insert.
      await tx.lockObjectWrites();
      const accepted = await decideVersions(tx, prepared, { org, collectionId, results });
      const outcomes = await tx.putObjects(accepted.map((p) => p.row), nowUs);
      accepted.forEach(({ index, row, versionText, note }, i) => {
        const o = outcomes[i]!;
        results[index] = o.status === 'conflict'
          ? { index, id: row.id, version: row.version, versionText, status: 'rejected', message: o.message.split(row.version).join(versionLabel(row.version)) }
          : { index, id: row.id, version: row.version, versionText, status: o.status, dateAdded: o.dateAdded, ...(note ? { note } : {}) };
        if (o.status === 'added') {
          added.count++;
          added.types.add(row.type);
        }
      });
      await auditSubmit(tx, { actor, org, collectionId, nowUs, results });
    });
    this.announce({ collectionId, ...added });
    if (prepared.length === 0) await auditSubmit(this.store, { actor, org, collectionId, nowUs, results });
    return results;
  }

  /**
   * Deletes versions of an object from one collection (TAXII §5.7), in one transaction with a
   * tombstone per deleted version (see DELETED_VERSION_KIND). Returns how many were deleted.
   */
  async deleteVersions(collectionId: string, id: string, versions: readonly string[], o: { retraction?: ReceivedRetraction } = {}): Promise<number> {
    const n = await this.#deleteVersions(collectionId, id, versions, o);
    // The followers of the store (indicator feed, correlations) catch up now, not at their next poll.
    this.announce({ collectionId, count: n, types: new Set([parseStixId(id)?.type ?? '']) });
    return n;
  }

  async #deleteVersions(collectionId: string, id: string, versions: readonly string[], o: { retraction?: ReceivedRetraction }): Promise<number> {
    return this.store.transaction(async (tx) => {
      await tx.lockObjectWrites();
      const here = (await tx.storedVersions(versions.map((version) => ({ id, version })), { release: true })).filter((r) => r.collectionId === collectionId);
      if (here.length === 0) return 0;
      const owner = (await ownerHeads(tx, [id])).get(id)?.creatorOrg ?? here[0]!.creatorOrg ?? '';
      const nowUs = this.clock.now() * 1000;
      for (const r of here) {
        // An unversioned object's copy belongs to its submitter alone.
        const bound = isUnversionedKey(r.version) ? (r.creatorOrg ?? owner) : owner;
        const sha256 = contentHash(r.json);
        // Written once per (id, version): deleting an identical re-post again finds it there. A
        // retraction by the origin makes it final (retractedBy): the version never comes back.
        // Its time comes from the date_added clock (unique, in commit order): the indicator feed
        // follows deletions by it (detect/pipeline/feed.ts), also a second deletion of a re-post.
        const tombId = `${DELETED_VERSION_KIND}:${id}:${r.version}`;
        const old = await tx.getRecord(tombId);
        const before = old ? (JSON.parse(old.json) as { retractedBy?: string }) : {};
        const retractedBy = o.retraction?.origin ?? before.retractedBy;
        const tomb = { version: r.version, sha256, revoked: r.revoked, ...(retractedBy ? { retractedBy } : {}) };
        const atUs = await tx.allocateTime(nowUs);
        await tx.putRecord({
          id: tombId, kind: DELETED_VERSION_KIND, parentId: id, creatorOrg: old?.creatorOrg ?? bound, tlp: null, recipients: [],
          originNode: null, exerciseId: null, state: 'deleted', createdUs: old?.createdUs ?? atUs, updatedUs: atUs, rev: (old?.rev ?? 0) + 1,
          json: JSON.stringify(tomb),
        });
        // The peers reading this collection are told: of a version that originated here, or one
        // whose origin retracted it (passed on with the origin's signature). A copy received
        // from a peer and deleted here by choice stays a local decision.
        const rel = r.release;
        const versionText = isUnversionedKey(r.version) ? null : versionTextOf(r.json);
        if (rel && (rel.originNode === null ? !o.retraction : o.retraction?.origin === rel.originNode)) {
          const doc: RetractionDoc = { id, version: versionText, digest: sha256, ...(o.retraction ? { received: { origin: o.retraction.origin, signature: o.retraction.signature, path: o.retraction.path } } : {}) };
          // Peers walk these by updated_us: unique and in commit order, from the date_added clock.
          await tx.putRecord({
            id: `${RETRACTION_KIND}:${collectionId}:${id}:${r.version}`, kind: RETRACTION_KIND, parentId: collectionId, creatorOrg: r.creatorOrg ?? bound,
            tlp: rel.tlp, recipients: rel.recipients, originNode: rel.originNode, exerciseId: null, state: 'retracted', createdUs: atUs, updatedUs: atUs, rev: 1,
            json: JSON.stringify(doc),
          });
        }
      }
      await tx.setMeta(DELETED_META, '1');
      // A relayed copy's batch (its proof's nodes, kept once) goes with the last row naming it.
      await releaseBatchRows(tx, here.map((r) => r.release?.provenance ?? null));
      return tx.deleteObject(collectionId, id, here.map((r) => r.version));
    });
  }

}

type Indexed = Prepared & { index: number };

/**
 * The versioning rules for one batch, against everything stored of its ids (any collection) and
 * the batch's own earlier items. Writes the rejections into `results`; returns what to store.
 * An (id, version) already stored anywhere is never stored with another content: identical →
 * duplicate (or, in a collection that lacks it, a copy with the stored bytes); different →
 * refused. A new version must come from the owner and not follow a revocation. Items of one id
 * are decided in version order, so one batch may carry a history that ends in its revocation.
 */
async function decideVersions(tx: Store, prepared: Indexed[], ctx: { org: string; collectionId: string; results: ItemResult[] }): Promise<Indexed[]> {
  const { heads, deleted } = await headsWithTombstones(tx, prepared.map((p) => p.row.id));
  const stored = new Map<string, StoredVersion>();
  const here = new Map<string, StoredVersion>();
  const existing = heads.size ? prepared.filter((p) => heads.has(p.row.id)).map((p) => ({ id: p.row.id, version: p.row.version })) : [];
  // Oldest first: the first copy of a version is the one every other copy must equal.
  for (const s of existing.length ? await tx.storedVersions(existing) : []) {
    const k = `${s.id} ${s.version}`;
    if (!stored.has(k)) stored.set(k, s);
    if (s.collectionId === ctx.collectionId && !here.has(k)) here.set(k, s);
  }
  const order = [...prepared].sort((a, b) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : a.row.version < b.row.version ? -1 : a.row.version > b.row.version ? 1 : a.index - b.index));
  const inBatch = new Map<string, Indexed>();
  const accept = new Set<number>();
  const reject = (p: Indexed, message: string) => {
    ctx.results[p.index] = { index: p.index, id: p.row.id, version: p.row.version, versionText: p.versionText, status: 'rejected', message };
  };
  for (const p of order) {
    const { row } = p;
    const k = `${row.id} ${row.version}`;
    const same = stored.get(k) ?? inBatch.get(k)?.row;
    const gone = same ? undefined : deleted.get(k);
    if (gone !== undefined) {
      if (gone.retractedBy !== undefined) {
        reject(p, `version ${p.versionText ?? versionLabel(row.version)} of ${row.id} was retracted by its node of origin ${gone.retractedBy}: `
          + 'it is not stored here again (a later version can be)');
        continue;
      }
      // Stored once, then deleted: only the same content may come back under this version.
      if (contentHash(row.json) === gone.sha256) {
        inBatch.set(k, p);
        accept.add(p.index);
      } else {
        reject(p, `a different object with id ${row.id} and version ${p.versionText ?? versionLabel(row.version)} was stored on this node (since deleted): `
          + 'the content of a version never changes (STIX 2.1 §3.6); publish a new version with a later modified');
      }
      continue;
    }
    if (same) {
      if (!sameContent(same.json, row.json)) {
        reject(p, `a different object with id ${row.id} and version ${p.versionText ?? versionLabel(row.version)} is already stored: the content of a `
          + 'version never changes (STIX 2.1 §3.6); publish a new version with a later modified');
        continue;
      }
      // Identical: a duplicate where this collection holds it; another collection gets a copy
      // of the stored bytes (the ones kept everywhere).
      const dup = here.get(k);
      if (dup) ctx.results[p.index] = { index: p.index, id: row.id, version: row.version, versionText: p.versionText, status: 'duplicate', dateAdded: dup.dateAdded };
      else {
        row.json = same.json;
        accept.add(p.index);
        if ('dateAdded' in same && same.creatorOrg !== ctx.org) await tx.setMeta(COPIES_META, '1');
      }
      continue;
    }
    const head = heads.get(row.id);
    const why = p.claim ?? newVersionRule(head, row, ctx.org);
    if (why) {
      reject(p, why);
      continue;
    }
    inBatch.set(k, p);
    accept.add(p.index);
    if (!head || row.version > head.lastVersion || (row.revoked && head.revokedAt === null)) {
      heads.set(row.id, {
        id: row.id, lastVersion: head && head.lastVersion > row.version ? head.lastVersion : row.version,
        revokedAt: head?.revokedAt ?? (row.revoked ? row.version : null), creatorOrg: head?.creatorOrg ?? row.creatorOrg,
      });
    }
  }
  return prepared.filter((p) => accept.has(p.index));
}

/**
 * Per id, what is stored of it (Store.objectHeads, every collection) with what was deleted of it:
 * deleted versions still bind — their content (by hash), the owner and a revocation. Without the
 * tombstones, an identical copy another organisation re-posted into a second collection became
 * the id's first row once the owner deleted its own, and readers took it for the owner's.
 */
async function headsWithTombstones(store: Store, ids: readonly string[]): Promise<{ heads: Map<string, ObjectHead>; deleted: Map<string, { sha256: string; retractedBy?: string }> }> {
  const heads = await store.objectHeads(ids);
  const deleted = new Map<string, { sha256: string; retractedBy?: string }>();
  if ((await store.getMeta(DELETED_META)) === null) return { heads, deleted };
  for (const t of await store.recordsByParent(DELETED_VERSION_KIND, ids)) {
    const d = JSON.parse(t.json) as { version: string; sha256: string; revoked: boolean; retractedBy?: string };
    const id = t.parentId ?? '';
    deleted.set(`${id} ${d.version}`, d);
    const h = heads.get(id);
    heads.set(id, {
      id, creatorOrg: t.creatorOrg || (h?.creatorOrg ?? null), lastVersion: h && h.lastVersion > d.version ? h.lastVersion : d.version,
      revokedAt: d.revoked && (h?.revokedAt == null || d.version < h.revokedAt) ? d.version : (h?.revokedAt ?? null),
    });
  }
  return { heads, deleted };
}

/**
 * The owner of each id (its first version's submitter, deleted versions included), its last version
 * and earliest revocation: what readers that serve "the object" (REST GET /intel/:id, the
 * detection feed) follow, as the versioning rules do.
 */
export async function ownerHeads(store: Store, ids: readonly string[]): Promise<Map<string, ObjectHead>> {
  return (await headsWithTombstones(store, ids)).heads;
}

/** Why a new version (an (id, version) stored nowhere yet) may not be stored, or null when it may. */
function newVersionRule(head: ObjectHead | undefined, row: NewObjectRow, org: string): string | null {
  // An unversioned object (SCO) is keyed by its submitter: another organisation's copy, seen or
  // not, is never an owner of this one (docs/stix-versioning.md "Unversioned objects").
  if (!head || isSharedStandardObject(row) || isUnversionedKey(row.version)) return null;
  if (head.creatorOrg !== null && head.creatorOrg !== org) {
    return `${row.id} was created by another organisation; only its creator may add versions, in any collection`;
  }
  if (head.revokedAt !== null) {
    return `${row.id} is revoked (version ${head.revokedAt}); a revoked object takes no new version (STIX 2.1 §3.6.2)`;
  }
  if (row.type === 'marking-definition') {
    return `${row.id} is stored with created ${head.lastVersion}: a marking definition has no versions (STIX 2.1 §7.2.1) and never changes; `
      + 'publish a new one under a new id';
  }
  // Taken before a later stored version, a revocation would leave that later version the one
  // every reader serves (TAXII, REST, detection), while the id refused every new version.
  if (row.revoked && row.version < head.lastVersion) {
    return `${row.id} has version ${head.lastVersion}, later than this revoked version ${row.version}: a revocation is the last version of an object `
      + '(STIX 2.1 §3.6.2); revoke with a modified later than every stored version';
  }
  return null;
}

/** The version of a stored object as it carries it (`modified`, else `created`). */
function versionTextOf(json: string): string | null {
  try {
    const o = JSON.parse(json) as { modified?: unknown; created?: unknown };
    return typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : null;
  } catch {
    return null;
  }
}

/** SHA-256 of a stored JSON text as RFC 8785 canonical JSON (the same for byte-different equal contents). */
function contentHash(json: string): string {
  let text = json;
  try {
    text = canonicalJson(JSON.parse(json));
  } catch {
    // Not JSON (never stored so): hash the text itself.
  }
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Whether two stored JSON texts are the same content (byte-equal, else equal as canonical JSON). */
function sameContent(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The predefined TLP marking definitions are the same for everyone: re-posting them is never a takeover. */
function isSharedStandardObject(row: NewObjectRow): boolean {
  return row.type === 'marking-definition' && predefinedTlpMarking(row.id) !== null;
}

/** Every write is audited (DESIGN §2.5), in the same transaction as the objects it records. */
async function auditSubmit(store: Store, a: { actor: Actor; org: string; collectionId: string; nowUs: number; results: ItemResult[] }): Promise<void> {
  const count = (s: ItemResult['status']) => a.results.filter((r) => r.status === s).length;
  const p = a.actor.principal;
  await store.appendAudit({
    atUs: a.nowUs, userId: p?.userId ?? null, orgId: p?.orgId ?? a.org, tokenId: p?.tokenId ?? null, source: a.actor.source,
    action: 'intel.submit', target: a.collectionId,
    detail: JSON.stringify({ total: a.results.length, added: count('added'), duplicates: count('duplicate'), rejected: count('rejected') }),
  });
}
