/**
 * How object rows are read and written by the Store (kysely-store.ts): the columns of the bulk
 * insert and of the lean selections, and the mapping of a selected row to an ObjectRow.
 */
import type { DB } from './schema.js';
import type { ObjectHead, ObjectRow, StoredVersion } from './types.js';
import type { Tlp } from '../core/policy.js';

export type ObjRecord = DB['objects'] & { seq: number };

/** Columns written by putObjects, in the order of its parameters. */
export const INSERT_COLUMNS = [
  'collection_id', 'id', 'type', 'spec_version', 'version', 'created', 'modified', 'date_added', 'creator_org', 'tlp',
  'origin_node', 'revoked', 'name', 'labels', 'search_text', 'json', 'source_ref', 'target_ref', 'provenance',
] as const;

/** Every objects column but search_text and labels (ObjectQuery.lean). */
export const LEAN_NO_JSON = [
  'o.seq', 'o.collection_id', 'o.id', 'o.type', 'o.spec_version', 'o.version', 'o.created', 'o.modified', 'o.date_added', 'o.creator_org',
  'o.tlp', 'o.origin_node', 'o.revoked', 'o.name', 'o.source_ref', 'o.target_ref',
] as const;
export const LEAN_COLUMNS = [...LEAN_NO_JSON, 'o.json'] as const;

/** A lean row; with `jsonBytes` (the stored JSON read as bytes) its `json` is ''. */
export function leanObjectRow(r: Omit<ObjRecord, 'search_text' | 'labels' | 'json' | 'provenance'> & { json?: string; provenance?: string | null }, jsonBytes?: Buffer): ObjectRow {
  const row: ObjectRow = {
    collectionId: r.collection_id, id: r.id, type: r.type, specVersion: r.spec_version, version: r.version,
    created: r.created, modified: r.modified, dateAdded: Number(r.date_added), creatorOrg: r.creator_org,
    tlp: r.tlp as Tlp | null, recipients: [], originNode: r.origin_node, revoked: r.revoked === 1, name: r.name,
    labels: [], searchText: '', json: r.json ?? '', sourceRef: r.source_ref, targetRef: r.target_ref,
  };
  if (jsonBytes) row.jsonBytes = jsonBytes;
  if (r.provenance != null) row.provenance = r.provenance;
  return row;
}

export function toObjectRow(r: ObjRecord, recipients: string[]): ObjectRow {
  return {
    collectionId: r.collection_id, id: r.id, type: r.type, specVersion: r.spec_version, version: r.version,
    created: r.created, modified: r.modified, dateAdded: Number(r.date_added), creatorOrg: r.creator_org,
    tlp: r.tlp as Tlp | null, recipients, originNode: r.origin_node, revoked: r.revoked === 1, name: r.name,
    labels: JSON.parse(r.labels) as string[], searchText: r.search_text, json: r.json, sourceRef: r.source_ref, targetRef: r.target_ref,
  };
}

/**
 * Store.objectHeads from some stored versions of each id (its latest, earliest and earliest
 * revoked in each collection): the owner is the creator of the earliest stored of them, and its
 * versions among them give the last version and the revocation.
 */
export function headsOf(rows: readonly Omit<StoredVersion, 'json'>[]): Map<string, ObjectHead> {
  const byId = new Map<string, Omit<StoredVersion, 'json'>[]>();
  for (const r of rows) {
    const list = byId.get(r.id);
    if (list) list.push(r);
    else byId.set(r.id, [r]);
  }
  const out = new Map<string, ObjectHead>();
  for (const [id, list] of byId) {
    const first = list.reduce((a, r) => (r.dateAdded < a.dateAdded ? r : a));
    const owned = list.filter((r) => r.creatorOrg === first.creatorOrg);
    const lastVersion = owned.reduce((a, r) => (r.version > a ? r.version : a), owned[0]!.version);
    const revokedAt = owned.filter((r) => r.revoked).map((r) => r.version).sort()[0] ?? null;
    out.set(id, { id, lastVersion, revokedAt, creatorOrg: first.creatorOrg });
  }
  return out;
}

