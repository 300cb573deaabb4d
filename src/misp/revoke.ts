/**
 * Revocation of what an updated MISP event withdraws (docs/misp.md "Updates: deleted and removed
 * attributes"). MISP withdraws an attribute or object by a soft delete (`deleted: true`), and a
 * MISP-generated feed or export leaves soft-deleted and hard-deleted elements out altogether. Both
 * become a new version of each STIX object that carried the element, the stored content with
 * `revoked: true` and a newer `modified` (STIX 2.1 §3.6.2): same id, same creator, revoked is final.
 * Only objects whose id is the element's uuid are revoked (and the relationships the previous event
 * version referenced that touch them): SCOs have no versions, and galaxy SDOs are shared by events.
 */
import type { Store, StoredVersion } from '../store/index.js';
import type { MispEvent } from './model.js';
import { iso, relationshipId, type Conversion, type StixObj } from './to-stix.js';

/** The versioned STIX types whose id reuses a MISP attribute's or object's uuid (to-stix.ts). */
const DERIVED = ['indicator', 'observed-data', 'x-misp-attribute', 'x-misp-object', 'vulnerability', 'campaign'] as const;
const DERIVED_SET: ReadonlySet<string> = new Set(DERIVED);

export interface Revocations {
  /** Revoked versions to submit, grouped by the recipients of the version they follow. */
  batches: { recipients: string[]; objects: StixObj[] }[];
  /** MISP uuid (attribute or object) → the STIX ids revoked for it. */
  byUuid: Map<string, string[]>;
  notes: string[];
}

const typeOf = (id: string) => id.slice(0, id.indexOf('--'));
const uuidOf = (id: string) => id.slice(id.indexOf('--') + 2);
const msOf = (o: StixObj) => Date.parse(String(o.modified ?? o.created ?? ''));

/**
 * The last stored version of each id in the collection, not yet revoked, parsed; with its
 * recipients. Only the importing organisation's own (`owner`; undefined: the node operator's
 * import, any): another organisation's object is not the importer's to withdraw, and reading it
 * would answer differently for a uuid it holds than for one nobody holds.
 */
export async function lastVersions(store: Store, q: { collectionId: string; owner: string | undefined }, ids: readonly string[]): Promise<Map<string, { obj: StixObj; recipients: string[] }>> {
  const heads = await store.objectHeads(ids);
  const keys = [...heads.values()].filter((h) => h.revokedAt === null).map((h) => ({ id: h.id, version: h.lastVersion }));
  const out = new Map<string, { obj: StixObj; recipients: string[] }>();
  if (keys.length === 0) return out;
  const copies: StoredVersion[] = await store.storedVersions(keys, { release: true });
  for (const c of copies) {
    if (c.collectionId !== q.collectionId || c.revoked || out.has(c.id) || (q.owner !== undefined && c.creatorOrg !== q.owner)) continue;
    out.set(c.id, { obj: JSON.parse(c.json) as StixObj, recipients: c.release?.recipients ?? [] });
  }
  return out;
}

/**
 * What the event withdraws, against what the collection holds: elements marked deleted, and
 * elements the previous version of the event (its stored report/grouping, older than this one)
 * referenced and this version no longer carries. A first import finds nothing to revoke.
 */
export async function revocationsFor(store: Store, q: { collectionId: string; owner: string | undefined; ev: MispEvent; conv: Conversion }): Promise<Revocations> {
  const { ev, conv } = q;
  const live = new Set<string>([...ev.attributes.filter((a) => !a.deleted).map((a) => a.uuid), ...ev.objects.filter((o) => !o.deleted).map((o) => o.uuid)]);
  // MISP uuid → the time of its withdrawal (the element's own timestamp for a soft delete, the event's for a removal).
  const gone = new Map<string, number>();
  for (const a of ev.attributes) if (a.deleted) gone.set(a.uuid, a.timestamp);
  for (const o of ev.objects) if (o.deleted) gone.set(o.uuid, o.timestamp);
  const nowRefs = new Set(conv.objects.map((o) => o.id));
  const previousRels: string[] = [];
  const containers = await lastVersions(store, q, [`report--${ev.uuid}`, `grouping--${ev.uuid}`]);
  for (const { obj } of containers.values()) {
    // Only an older version of the event says what this one removed.
    if (!(msOf(obj) < ev.timestamp * 1000) || !Array.isArray(obj.object_refs)) continue;
    for (const ref of obj.object_refs) {
      if (typeof ref !== 'string' || nowRefs.has(ref)) continue;
      const uuid = uuidOf(ref);
      if (DERIVED_SET.has(typeOf(ref)) && !live.has(uuid) && !gone.has(uuid)) gone.set(uuid, ev.timestamp);
      else if (typeOf(ref) === 'relationship') previousRels.push(ref);
    }
  }
  const out: Revocations = { batches: [], byUuid: new Map(), notes: [] };
  if (gone.size === 0) return out;
  const derived = [...gone.keys()].flatMap((u) => [...DERIVED.map((t) => `${t}--${u}`), relationshipId(`indicator--${u}`, 'based-on', `observed-data--${u}`)]);
  const stored = await lastVersions(store, q, [...new Set([...derived, ...previousRels])]);
  const byRecipients = new Map<string, { recipients: string[]; objects: StixObj[] }>();
  const revoke = (uuid: string, id: string, atS: number) => {
    const s = stored.get(id);
    if (!s || s.obj.revoked === true) return;
    // modified = the withdrawal time; a soft delete that did not bump its own timestamp takes the event's.
    const ts = [atS, ev.timestamp].find((t) => t * 1000 > msOf(s.obj));
    if (ts === undefined) {
      out.notes.push(`${id}: not revoked, its stored version ${String(s.obj.modified)} is not older than the event timestamp`);
      return;
    }
    const key = s.recipients.join(',');
    const b = byRecipients.get(key) ?? { recipients: s.recipients, objects: [] };
    b.objects.push({ ...s.obj, modified: iso(ts), revoked: true });
    byRecipients.set(key, b);
    out.byUuid.set(uuid, [...(out.byUuid.get(uuid) ?? []), id]);
  };
  for (const [uuid, atS] of gone) {
    for (const t of DERIVED) revoke(uuid, `${t}--${uuid}`, atS);
    revoke(uuid, relationshipId(`indicator--${uuid}`, 'based-on', `observed-data--${uuid}`), atS);
  }
  // Relationships of the previous version (object references, galaxy links) that touch a revoked object.
  const revokedIds = new Set([...out.byUuid.values()].flat());
  for (const id of previousRels) {
    const r = stored.get(id)?.obj;
    const end = [r?.source_ref, r?.target_ref].find((e): e is string => typeof e === 'string' && revokedIds.has(e));
    if (end) revoke(uuidOf(end), id, gone.get(uuidOf(end)) ?? ev.timestamp);
  }
  for (const [uuid, ids] of out.byUuid) {
    if (!ev.attributes.some((a) => a.uuid === uuid) && !ev.objects.some((o) => o.uuid === uuid)) {
      out.notes.push(`attribute or object ${uuid} is no longer in event ${ev.uuid} (removed in MISP): revoked ${ids.join(', ')}`);
    }
  }
  out.batches = [...byRecipients.values()];
  return out;
}
