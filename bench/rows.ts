/**
 * Stored rows built straight from generated objects, without validation or upsert rules:
 * the raw-store baseline of the import benchmark, and a fast way to seed the page benchmark.
 * The derived columns come from the same intel/facts functions the upsert uses.
 */
import type { NewObjectRow } from '../src/store/index.js';
import { displayName, labelsOf, searchTextOf, versionOf } from '../src/intel/index.js';
import { tlpOf } from '../src/stix/index.js';

export function rawRow(o: Record<string, unknown>, at: { collectionId: string; creatorOrg: string; recipients?: readonly string[] }): NewObjectRow {
  // As submit stores it: the object as sent (the creator is the creator_org column, not an edit).
  const obj = o;
  return {
    collectionId: at.collectionId, id: String(o.id), type: String(o.type), specVersion: '2.1', version: versionOf(obj),
    created: typeof o.created === 'string' ? o.created : null, modified: typeof o.modified === 'string' ? o.modified : null,
    creatorOrg: at.creatorOrg, tlp: tlpOf(obj), recipients: [...(at.recipients ?? [])], originNode: null, revoked: false,
    name: displayName(obj), labels: labelsOf(obj), searchText: searchTextOf(obj), json: JSON.stringify(obj),
  };
}
