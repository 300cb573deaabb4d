/**
 * What a submitted object becomes before the store is read: validated (STIX 2.1 and the pattern
 * grammar), a 2.0 object converted as a new version, provenance claims and granular markings
 * checked, and the row with its policy facts. Pure: no store, no clock (IntelService.submit
 * then decides versions against the store).
 */
import { canonicalJson } from '../core/canonical-json.js';
import type { Tlp } from '../core/policy.js';
import { formatMicros, parseTimestampMicros, timestampKey } from '../core/time.js';
import type { NewObjectRow } from '../store/types.js';
import { isStix20, maxTlp, predefinedTlpMarking, restoreObject, tlpMarkingId, tlpOf, tlpOfMarkingDefinition, tlpOfMarkingId, validateObject } from '../stix/index.js';
import { displayName, labelsOf, searchTextOf, UNVERSIONED, unversionedKey, versionOf } from './facts.js';

/** What of the submit options decides how one object is prepared (the rest stays with the caller). */
export interface PrepareOptions {
  /**
   * TLP for objects that carry none: a policy fact (the tlp column) for objects whose
   * `created_by_ref` is not the submitting organisation; for the submitter's own objects the
   * marking is also added to the object before its first store (docs/stix-versioning.md), except
   * a federated copy (`exact`), whose TLP fact its origin signed beside the object.
   */
  defaultTlp?: Tlp | null;
  /** Explicit recipients (organisation or sharing-group identity ids) for the AMBER/RED levels. */
  recipients?: readonly string[];
  /** Node the objects came from (federation pull); null = created here. */
  originNode?: string | null;
  /**
   * Accept objects whose `created_by_ref` names an identity outside the alliance (e.g. MITRE in
   * the ATT&CK bundle); without it such objects are refused, never re-attributed. Admin-only;
   * never accepts an object claiming another organisation registered on this node.
   */
  preserveProvenance?: boolean;
  /**
   * Federation copies, verified against their origin's signature: `created_by_ref` may name
   * an organisation other than `asOrg` (the creator as a policy fact here: the peer node's
   * identity when that organisation is not registered on the peer; DESIGN §2.8).
   */
  exact?: boolean;
  /**
   * The objects of a third party's server (a TAXII feed), imported by `asOrg`: none is that
   * organisation's own, so one naming it as its creator, or its identity, is refused (it would
   * pass for the importer's intelligence, and version or replace what the importer published).
   */
  thirdParty?: boolean;
}

export interface PrepareContext {
  org: string;
  /** The organisations of this alliance → the node each lives on, null for this one (loaded only when an object names someone else). */
  members: ReadonlyMap<string, string | null>;
  /** Identity id of an organisation or sharing group of this alliance → the organisation that alone publishes it. */
  publishers: ReadonlyMap<string, string>;
  opts: PrepareOptions;
  collectionId: string;
  badRecipient: string | undefined;
  /**
   * TLP marking definitions under ids other than the standard ones (a TLP 1.0 `definition`, the
   * TLP 2.0 extension), from the batch and the store (markingsOf): an object marked with one is
   * at that level, never at a TLP given at import for unmarked objects.
   */
  customTlp?: ReadonlyMap<string, Tlp>;
}

/**
 * The TLP marking definitions with non-standard ids that `objects` refer to, from the batch itself
 * and from `stored` (what the store holds of the other ids): empty in the common case, where every
 * marking reference is a standard TLP id (no lookup at all).
 */
export async function customTlpMarkings(objects: readonly unknown[], stored: (ids: string[]) => Promise<readonly Record<string, unknown>[]>): Promise<Map<string, Tlp>> {
  const unknown = new Set<string>();
  for (const o of objects) {
    const refs = o && typeof o === 'object' ? (o as { object_marking_refs?: unknown }).object_marking_refs : undefined;
    if (!Array.isArray(refs)) continue;
    for (const r of refs) if (typeof r === 'string' && r.startsWith('marking-definition--') && tlpOfMarkingId(r) === null) unknown.add(r);
  }
  const out = new Map<string, Tlp>();
  if (unknown.size === 0) return out;
  const inBatch = objects.filter((o): o is Record<string, unknown> => !!o && typeof o === 'object' && unknown.has(String((o as { id?: unknown }).id)));
  const found = new Set(inBatch.map((o) => String(o.id)));
  const rest = [...unknown].filter((id) => !found.has(id));
  for (const md of [...inBatch, ...(rest.length ? await stored(rest) : [])]) {
    const t = tlpOfMarkingDefinition(md);
    if (t !== null) out.set(String(md.id), t);
  }
  return out;
}

export interface Prepared {
  row: NewObjectRow;
  versionText: string | null;
  note?: string;
  /** Why the object may not be stored as a new version by this submitter (it claims another creator). */
  claim?: string;
}
export interface Refused { id: string | null; version: string | null; versionText: string | null; message: string }

export function prepareObject(raw: unknown, ctx: PrepareContext): Prepared | Refused {
  const input = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
  const id0 = input && typeof input.id === 'string' ? input.id.slice(0, 200) : null;
  const submitted = input ? submittedVersion(input) : null;
  const refused = (message: string, id: string | null = id0): Refused => ({ id, version: submitted?.key ?? null, versionText: submitted?.text ?? null, message });
  const was20 = input !== null && isStix20(input);
  if (was20 && ctx.opts.exact) {
    // Converted, it would be stored as another content than its origin signed, and every
    // next hop would refuse it. A node stores STIX 2.1 only, so an honest peer never sends 2.0.
    return refused('a version from another node is stored exactly as its origin signed it, and a STIX 2.0 object is not stored as such '
      + '(its conversion is another content); its origin should publish it as STIX 2.1');
  }
  if (was20 && input.type === 'marking-definition' && !(typeof input.id === 'string' && predefinedTlpMarking(input.id))) {
    return refused('a STIX 2.0 marking definition cannot be converted: marking definitions have no versions (STIX 2.1 §7.2), so '
      + 'converting it would change the content under its id; publish it as STIX 2.1');
  }
  const restored = restoreObject(raw);
  const v = validateObject(restored);
  if (!v.ok) return refused(v.errors.slice(0, 3).map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`).join('; '));
  // restoreObject returns a new top-level object (2.1 input included) and only top-level
  // properties are assigned below, so the caller's object is never changed: no deep copy.
  const obj = v.object as Record<string, unknown>;
  const type = String(obj.type);
  const id = String(obj.id);
  // A TLP marking definition's content is fixed by its standard, not by whoever posts it first:
  // anything else under its id would be another content under that (id, created) on some node.
  const predefined = type === 'marking-definition' ? predefinedTlpMarking(id) : null;
  if (predefined && canonicalJson(obj) !== canonicalJson(predefined)) {
    return refused(`${id} is the predefined ${String(predefined.name)} marking definition: its content is fixed (STIX 2.1 §7.2.1.4, `
      + 'the TLP 2.0 extension), so only that exact object may be stored under its id; send it as published', id);
  }
  let note: string | undefined;
  if (was20 && type !== 'marking-definition') {
    // A 2.0 version and its 2.1 conversion differ in content, so the conversion is a new
    // version: modified + 1 ms, the same on every node (imports stay idempotent).
    const from = submitted?.text ?? (typeof obj.modified === 'string' ? obj.modified : String(obj.created));
    const us = parseTimestampMicros(from);
    if (us === null) return refused(`STIX 2.0 object with an unreadable modified ${from}`, id);
    const next = us + 1000;
    obj.modified = next % 1000 === 0 ? new Date(next / 1000).toISOString() : formatMicros(next);
    note = `converted from STIX 2.0 to 2.1 as a new version: modified ${from} became ${String(obj.modified)}`;
  }
  // An organisation's identity is its own to publish (a sharing group's, its owner's): posted
  // first by another member, that member would own the id and be the only one to version it.
  const publisher = type === 'identity' ? ctx.publishers.get(id) : undefined;
  if (publisher !== undefined && publisher !== ctx.org) {
    return refused(`${id} is the identity of an organisation or sharing group of this alliance: only it (a group: its owner) publishes it`, id);
  }
  const claimed = typeof obj.created_by_ref === 'string' ? obj.created_by_ref : null;
  if (ctx.opts.thirdParty && (claimed === ctx.org || (type === 'identity' && id === ctx.org))) {
    return refused(`${claimed === ctx.org ? 'created_by_ref names' : 'the object is the identity of'} ${ctx.org}, the organisation that imports this source: `
      + 'a third party\'s server does not publish that organisation\'s own objects', id);
  }
  // Decided with the stored versions (decideVersions): re-posting a version stored identically
  // is a duplicate whoever posts it; a new version must come from its creator.
  let claim: string | undefined;
  if (claimed !== null && claimed !== ctx.org && type !== 'marking-definition' && !(type === 'identity' && id === ctx.org)) {
    if (ctx.opts.exact) {
      // A peer's version keeps the creator its origin signed, unless that names one of this
      // node's own organisations: their objects reach other nodes from here, never the reverse.
      if (ctx.members.get(claimed) === null) {
        claim = `created_by_ref names ${claimed}, an organisation of this node: a version from another node is never one of its objects `
          + '(only it submits them, here)';
      }
    } else if (ctx.members.has(claimed)) {
      claim = (`created_by_ref names ${claimed}, another organisation of this alliance: only it may submit its objects `
        + '(the object is stored as its creator published it, never re-attributed)');
    } else if (!ctx.opts.preserveProvenance) {
      claim = (`created_by_ref names ${claimed}, not the submitting organisation ${ctx.org}: a version is stored as its `
        + 'creator published it, never re-attributed; submit objects your organisation created (created_by_ref naming it, or none), '
        + 'or import a third party\'s objects with preserve-provenance (admin)');
    }
  }
  let tlp = tlpOf(obj);
  if (ctx.customTlp?.size && Array.isArray(obj.object_marking_refs)) {
    for (const r of obj.object_marking_refs as unknown[]) if (typeof r === 'string') tlp = maxTlp(tlp, ctx.customTlp.get(r) ?? null);
  }
  if (tlp === null && ctx.opts.defaultTlp && !predefined) {
    tlp = ctx.opts.defaultTlp;
    // The submitter's own object takes the marking into its content (before its first store:
    // re-importing it without the same TLP is a different content and is refused); anyone
    // else's keeps its content and the TLP is only the policy fact in the tlp column.
    if (claimed === ctx.org && !ctx.opts.exact) {
      const refs = Array.isArray(obj.object_marking_refs) ? (obj.object_marking_refs as string[]) : [];
      obj.object_marking_refs = [...refs, tlpMarkingId(tlp)];
    }
  }
  // The TLP marking definitions themselves are public knowledge.
  if (predefined) tlp = 'clear';
  if (ctx.badRecipient !== undefined) return refused(`recipient ${ctx.badRecipient} is not an identity id`, id);
  const stricter = stricterPart(obj, tlp);
  if (stricter) return refused(stricter, id);
  const json = JSON.stringify(obj);
  const version = versionOf(obj);
  return {
    versionText: typeof obj.modified === 'string' ? obj.modified : typeof obj.created === 'string' ? obj.created : null,
    ...(note ? { note } : {}), ...(claim ? { claim } : {}),
    row: {
      collectionId: ctx.collectionId, id, type, specVersion: String(obj.spec_version ?? '2.1'),
      version: version === UNVERSIONED ? unversionedKey(ctx.org) : version, created: typeof obj.created === 'string' ? obj.created : null,
      modified: typeof obj.modified === 'string' ? obj.modified : null, creatorOrg: ctx.org, tlp,
      recipients: [...(ctx.opts.recipients ?? [])], originNode: ctx.opts.originNode ?? null, revoked: obj.revoked === true,
      name: displayName(obj), labels: labelsOf(obj), searchText: searchTextOf(obj), json,
      sourceRef: type === 'relationship' ? String(obj.source_ref) : null, targetRef: type === 'relationship' ? String(obj.target_ref) : null,
    },
  };
}

/** The version of an object as submitted: its `modified`, else `created`, text and key; null when it has none readable. */
function submittedVersion(o: Record<string, unknown>): { text: string; key: string } | null {
  const text = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : null;
  if (text === null) return null;
  return { text, key: timestampKey(text) ?? text.slice(0, 64) };
}

const TLP_NAME = (t: Tlp) => `TLP:${t.toUpperCase()}`;

/**
 * Granular markings (STIX 2.1 §7.2.3) are refused when they restrict a part of the object more
 * than the object's own TLP: the release policy decides per object, and serving different
 * redactions of one (id, modified) to different readers would break "a version is immutable"
 * (DESIGN §2.8). A part marked at or below the object's level adds nothing and is accepted;
 * non-TLP granular markings (`lang`, statements) do not restrict release. An unmarked object
 * (AMBER for its creator alone) is stricter than any part. See docs/stix-validation.md.
 */
function stricterPart(obj: Record<string, unknown>, tlp: Tlp | null): string | null {
  if (tlp === null || !Array.isArray(obj.granular_markings)) return null;
  for (const g of obj.granular_markings as { marking_ref?: unknown; selectors?: unknown }[]) {
    const part = typeof g.marking_ref === 'string' ? tlpOfMarkingId(g.marking_ref) : null;
    if (part !== null && maxTlp(part, tlp) !== tlp) {
      const selectors = Array.isArray(g.selectors) ? g.selectors.map(String).join(', ') : '';
      return `granular marking on ${selectors} is ${TLP_NAME(part)}, stricter than the object's ${TLP_NAME(tlp)}: `
        + `parts of one object cannot be released more narrowly than the object; share that part as its own object at ${TLP_NAME(part)}`;
    }
  }
  return null;
}
