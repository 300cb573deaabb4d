/**
 * Intel upsert: validate → normalise markings → force provenance → policy facts → store.
 * Every (id, version) is kept; an identical re-post is a duplicate, not an error; only the
 * creating organisation may add versions of an object; a revoked object stays revoked
 * (STIX 2.1 §3.6.2: "once revoked, an object cannot be un-revoked").
 */
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Tlp } from '../core/policy.js';
import type { Actor } from '../access/index.js';
import type { NewObjectRow, ObjectHead, Store } from '../store/index.js';
import { normaliseMarkings, restoreObject, tlpMarkingId, tlpOf, tlpOfMarkingId, validateObject, isTlpMarkingId, maxTlp } from '../stix/index.js';
import { displayName, labelsOf, searchTextOf, versionOf } from './facts.js';

export interface SubmitOptions {
  /** TLP applied to objects that carry none. */
  defaultTlp?: Tlp | null;
  /** Explicit recipients (organisation or sharing-group identity ids) for the AMBER/RED levels. */
  recipients?: readonly string[];
  /** Node the objects came from (federation pull); null = created here. */
  originNode?: string | null;
  /**
   * Keep `created_by_ref` when it names an identity outside the alliance (e.g. MITRE in the
   * ATT&CK bundle). Admin-only; never allows claiming another member organisation.
   */
  preserveProvenance?: boolean;
  /** Organisation to record as creator when the actor has no principal (system imports). */
  asOrg?: string;
  /**
   * Federation copies: the object is stored exactly as its origin node signed it (no
   * `created_by_ref` rewrite); `asOrg` is the creator as a policy fact (DESIGN §2.8).
   */
  exact?: boolean;
}

export type ItemResult =
  | { index: number; id: string; version: string; status: 'added' | 'duplicate'; dateAdded: number }
  | { index: number; id: string | null; version: string | null; status: 'rejected'; message: string };

const SCO_OR_META_WITHOUT_CREATOR = new Set(['marking-definition']);

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
   * accepted commits together or not at all.
   */
  async submit(actor: Actor, collectionId: string, objects: readonly unknown[], opts: SubmitOptions = {}): Promise<ItemResult[]> {
    const org = actor.principal?.orgId ?? opts.asOrg;
    if (!org) throw new AppError('FORBIDDEN', 'an organisation is required to submit intelligence');
    // Checked once per batch, not per object: a bad recipient rejects every item alike.
    const badRecipient = (opts.recipients ?? []).find((r) => !/^identity--[0-9a-f-]{36}$/.test(r));
    const members = new Set((await this.store.listOrganisations()).map((o) => o.id));
    const nowUs = this.clock.now() * 1000;
    const prepared: { index: number; row: NewObjectRow }[] = [];
    const results: ItemResult[] = new Array(objects.length);
    objects.forEach((raw, index) => {
      const r = this.#prepare(raw, { org, members, opts, collectionId, nowUs, badRecipient });
      if ('message' in r) results[index] = { index, id: r.id, version: null, status: 'rejected', message: r.message };
      else prepared.push({ index, row: r.row });
    });
    const added = { count: 0, types: new Set<string>() };
    if (prepared.length > 0) await this.store.transaction(async (tx) => {
      const heads = await tx.objectHeads(collectionId, prepared.map((p) => p.row.id));
      const accepted = prepared.filter(({ index, row }) => {
        const why = upsertRule(heads.get(row.id), row, org);
        if (why) results[index] = { index, id: row.id, version: row.version, status: 'rejected', message: why };
        else {
          const h = heads.get(row.id);
          if (!h || row.version > h.lastVersion) heads.set(row.id, { id: row.id, lastVersion: row.version, revokedAt: row.revoked ? (h?.revokedAt ?? row.version) : (h?.revokedAt ?? null), creatorOrg: row.creatorOrg });
        }
        return !why;
      });
      const outcomes = await tx.putObjects(accepted.map((p) => p.row), nowUs);
      accepted.forEach(({ index, row }, i) => {
        const o = outcomes[i]!;
        results[index] = o.status === 'conflict'
          ? { index, id: row.id, version: row.version, status: 'rejected', message: o.message }
          : { index, id: row.id, version: row.version, status: o.status, dateAdded: o.dateAdded };
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

  #prepare(raw: unknown, ctx: { org: string; members: Set<string>; opts: SubmitOptions; collectionId: string; nowUs: number; badRecipient: string | undefined }): { row: NewObjectRow } | { id: string | null; message: string } {
    const idOf = (v: unknown) => (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id.slice(0, 200) : null);
    const restored = restoreObject(raw);
    const v = validateObject(restored);
    if (!v.ok) return { id: idOf(raw), message: v.errors.slice(0, 3).map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`).join('; ') };
    // restoreObject and normaliseMarkings each return a new top-level object, and only top-level
    // properties are assigned below, so the caller's object is never changed: no deep copy.
    const obj = normaliseMarkings(v.object) as Record<string, unknown>;
    const type = String(obj.type);
    const id = String(obj.id);
    const hasCreatorProp = 'created' in obj && !SCO_OR_META_WITHOUT_CREATOR.has(type);
    if (hasCreatorProp && !ctx.opts.exact) {
      const claimed = typeof obj.created_by_ref === 'string' ? obj.created_by_ref : null;
      // An admin import of a reference bundle keeps its provenance as published, including no
      // creator at all; it never lets an object claim another member organisation.
      const keep = ctx.opts.preserveProvenance && (claimed === null || !ctx.members.has(claimed));
      if (!keep && !(type === 'identity' && id === ctx.org)) obj.created_by_ref = ctx.org;
    }
    let tlp = tlpOf(obj);
    if (tlp === null && ctx.opts.defaultTlp && !(type === 'marking-definition' && isTlpMarkingId(id))) {
      tlp = ctx.opts.defaultTlp;
      const refs = Array.isArray(obj.object_marking_refs) ? (obj.object_marking_refs as string[]) : [];
      obj.object_marking_refs = [...refs, tlpMarkingId(tlp)];
    }
    // The TLP marking definitions themselves are public knowledge.
    if (type === 'marking-definition' && isTlpMarkingId(id)) tlp = 'clear';
    if (ctx.badRecipient !== undefined) return { id, message: `recipient ${ctx.badRecipient} is not an identity id` };
    const stricter = stricterPart(obj, tlp);
    if (stricter) return { id, message: stricter };
    const json = JSON.stringify(obj);
    return {
      row: {
        collectionId: ctx.collectionId, id, type, specVersion: String(obj.spec_version ?? '2.1'),
        version: versionOf(obj), created: typeof obj.created === 'string' ? obj.created : null,
        modified: typeof obj.modified === 'string' ? obj.modified : null, creatorOrg: ctx.org, tlp,
        recipients: [...(ctx.opts.recipients ?? [])], originNode: ctx.opts.originNode ?? null, revoked: obj.revoked === true,
        name: displayName(obj), labels: labelsOf(obj), searchText: searchTextOf(obj), json,
        sourceRef: type === 'relationship' ? String(obj.source_ref) : null, targetRef: type === 'relationship' ? String(obj.target_ref) : null,
      },
    };
  }
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

/** Why a new version may not be stored, or null when it may. */
function upsertRule(head: ObjectHead | undefined, row: NewObjectRow, org: string): string | null {
  if (!head) return null;
  if (head.creatorOrg !== null && head.creatorOrg !== org && !isSharedStandardObject(row)) {
    return `${row.id} was created by another organisation; only its creator may add versions`;
  }
  if (head.revokedAt !== null && row.version > head.revokedAt && !row.revoked) {
    return `${row.id} is revoked; a revoked object cannot be un-revoked (STIX 2.1 §3.6.2)`;
  }
  return null;
}

/** TLP marking definitions are the same for everyone: re-posting them is never a takeover. */
function isSharedStandardObject(row: NewObjectRow): boolean {
  return row.type === 'marking-definition' && isTlpMarkingId(row.id);
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
