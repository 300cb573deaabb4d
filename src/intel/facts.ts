/** Derived columns of a stored object version: version key, name, labels and search text. */
import { versionKey } from '../core/time.js';
import { withoutNul } from '../core/text.js';

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

/**
 * The stored version key of an unversioned object (an SCO without `modified`/`created`): the
 * constant version and the submitting organisation. SCO ids are deterministic (UUIDv5 of their
 * contributing properties), so one key per id node-wide would let anyone test whether another
 * organisation holds a value (issue #11 item 3). Each organisation holds its own copy instead:
 * a submission's answer depends only on the submitter's own copies (docs/stix-versioning.md
 * "Unversioned objects"). An SCO has no version, so "one (id, modified), one content" is untouched.
 */
export function unversionedKey(org: string): string {
  return `${UNVERSIONED} ${org}`;
}

/** A version key as shown to readers: an unversioned copy shows the constant, never its organisation. */
export function versionLabel(version: string): string {
  return isUnversionedKey(version) ? UNVERSIONED : version;
}

/** Whether a stored version key is that of an unversioned object (any organisation's copy). */
export function isUnversionedKey(version: string): boolean {
  return version.startsWith(UNVERSIONED);
}

/** A human name for lists: name, else value (SCOs), else pattern, else the relationship. */
export function displayName(o: Obj): string | null {
  const n = str(o.name) ?? str(o.value) ?? str(o.path) ?? str(o.key) ?? str(o.pattern) ?? str(o.abstract);
  if (n) return withoutNul(n.slice(0, 500));
  if (o.type === 'relationship') return withoutNul(`${String(o.source_ref)} ${String(o.relationship_type)} ${String(o.target_ref)}`);
  if (o.type === 'sighting') return withoutNul(`sighting of ${String(o.sighting_of_ref)}`);
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
  return withoutNul(text.toLowerCase().slice(0, 8192));
}
