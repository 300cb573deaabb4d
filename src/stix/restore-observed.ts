/**
 * STIX 2.0 observed-data `objects` (§2.0 Part 3 "Observable Objects") to the 2.1 form of the
 * deprecated dictionary: every SCO gets an id (deterministic UUIDv5 where it has
 * id-contributing properties, computed after the objects it refers to), local `*_ref(s)`
 * keys become those ids, and properties renamed in 2.1 are renamed.
 */
import { deterministicScoId, newStixId, SCO_ID_CONTRIBUTING } from './ids.js';

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Properties 2.1 renamed (STIX 2.1 §6; 2.0 Part 4). */
const RENAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  file: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  directory: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  process: { binary_ref: 'image_ref' },
  'windows-registry-key': { modified: 'modified_time' },
  'user-account': { password_last_changed: 'credential_last_changed' },
};

/** Replaces local keys in `*_ref` / `*_refs` properties, at any depth, via `map`. */
function mapRefs(v: unknown, map: (local: string) => string | undefined): unknown {
  if (Array.isArray(v)) return v.map((x) => mapRefs(x, map));
  if (!isRec(v)) return v;
  const out: Rec = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.endsWith('_ref') && typeof x === 'string') out[k] = map(x) ?? x;
    else if (k.endsWith('_refs') && Array.isArray(x)) out[k] = x.map((y) => (typeof y === 'string' ? map(y) ?? y : y));
    else out[k] = mapRefs(x, map);
  }
  return out;
}

/** Local keys an object's id-contributing properties refer to. */
function contributingRefs(o: Rec): string[] {
  const names = SCO_ID_CONTRIBUTING[String(o['type'])] ?? [];
  return names.filter((n) => n.endsWith('_ref') && typeof o[n] === 'string').map((n) => o[n] as string);
}

function renamed(o: Rec): Rec {
  const ren = RENAMES[String(o['type'])];
  if (!ren) return o;
  const out: Rec = {};
  for (const [k, v] of Object.entries(o)) out[ren[k] ?? k] = v;
  return out;
}

export function restoreObservedObjects(objects: Rec): Rec {
  const entries = Object.entries(objects).filter((e): e is [string, Rec] => isRec(e[1]) && !('id' in e[1]));
  if (entries.length === 0) return objects;
  const ids = new Map<string, string>();
  for (const [k, v] of Object.entries(objects)) if (isRec(v) && typeof v['id'] === 'string') ids.set(k, v['id']);
  // Objects whose id depends on another object's id wait for it; at most one pass per object.
  for (let pass = 0; pass <= entries.length; pass++) {
    for (const [k, o] of entries) {
      if (ids.has(k) || !contributingRefs(o).every((r) => ids.has(r))) continue;
      const resolved = mapRefs(renamed(o), (r) => ids.get(r)) as Rec;
      ids.set(k, deterministicScoId(String(o['type']), resolved));
    }
  }
  const out: Rec = {};
  for (const [k, v] of Object.entries(objects)) {
    if (!isRec(v) || 'id' in v) {
      out[k] = v;
      continue;
    }
    const id = ids.get(k) ?? newStixId(String(v['type']));
    out[k] = { id, ...(mapRefs(renamed(v), (r) => ids.get(r)) as Rec) };
  }
  return out;
}
