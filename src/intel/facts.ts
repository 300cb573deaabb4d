/** Derived columns of a stored object version: version key, name, labels and search text. */
import { versionKey } from '../core/time.js';

type Obj = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Version key of an object: `modified`, else `created` (TAXII §3.4.1). SCOs have neither; they
 * get one constant version, so re-posting the same SCO is a duplicate (TAXII asks for "a value
 * that is consistent for the server"); TAXII shows their date_added as the version.
 */
export const UNVERSIONED = '1970-01-01T00:00:00.000000Z';
export function versionOf(o: Obj): string {
  const m = str(o.modified) ?? str(o.created);
  return m ? versionKey(m) : UNVERSIONED;
}

/** A human name for lists: name, else value (SCOs), else pattern, else the relationship. */
export function displayName(o: Obj): string | null {
  const n = str(o.name) ?? str(o.value) ?? str(o.path) ?? str(o.key) ?? str(o.pattern) ?? str(o.abstract);
  if (n) return n.slice(0, 500);
  if (o.type === 'relationship') return `${String(o.source_ref)} ${String(o.relationship_type)} ${String(o.target_ref)}`;
  if (o.type === 'sighting') return `sighting of ${String(o.sighting_of_ref)}`;
  return null;
}

export function labelsOf(o: Obj): string[] {
  return Array.isArray(o.labels) ? o.labels.filter((l): l is string => typeof l === 'string').slice(0, 100) : [];
}

const SEARCHED = ['name', 'description', 'pattern', 'value', 'aliases', 'labels', 'x_mitre_aliases', 'abstract', 'content', 'opinion', 'explanation'];

/** Lower-cased, bounded text that REST `q` searches. */
export function searchTextOf(o: Obj): string {
  // Plain concatenation (no parts array, no filtered copies): this runs for every stored object.
  let text = String(o.id ?? '');
  for (const k of SEARCHED) {
    const v = o[k];
    if (typeof v === 'string') text += ` ${v}`;
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') text += ` ${x}`;
  }
  if (Array.isArray(o.external_references)) {
    for (const r of o.external_references as Obj[]) if (r && typeof r.external_id === 'string') text += ` ${r.external_id}`;
  }
  return text.toLowerCase().slice(0, 8192);
}
