/**
 * The read and sighting side of the MISP REST subset (docs/misp.md "REST subset"): attribute
 * search and sightings over the events a reader may see. Everything is read through the
 * release policy: an event is scanned only if its report/grouping is released to the reader,
 * and inside it only the objects released to the reader exist (loadEventObjects), so a
 * search can never find an attribute of an event its caller may not read.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Audience } from '../core/policy.js';
import type { Actor } from '../access/index.js';
import type { IntelService } from '../intel/index.js';
import type { Store } from '../store/index.js';
import { tlpMarkingId } from '../stix/index.js';
import { containerIds, loadEventObjects } from './export.js';
import { stixToMisp } from './to-misp.js';

/** Events scanned per search at most (newest first): the cost of a request stays bounded. */
export const MAX_SCANNED_EVENTS = 500;
export const MAX_RESULTS = 5000;

/** MISP tag filter: at least one of `or` (when any), all of `and`, none of `not`; event and attribute tags alike. */
export interface TagFilter { or: string[]; and: string[]; not: string[] }

export interface AttributeFilter {
  values?: string[];
  types?: string[];
  categories?: string[];
  tags?: TagFilter;
  toIds?: boolean;
  /** Only the events with these uuids (or report/grouping ids). */
  eventIds?: string[];
  /** Only published events (a STIX report) or only unpublished ones (a grouping). */
  published?: boolean;
  /** Only events changed in the last so many seconds. */
  lastS?: number;
  uuids?: string[];
  limit?: number;
  /** 1-based page of `limit` results. */
  page?: number;
}

type J = Record<string, unknown>;

/** MISP `last`: "5d", "12h", "30m", "45s" or seconds. */
export function parseLast(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const m = /^(\d{1,9})([dhms]?)$/.exec(String(v).trim());
  if (!m) throw new AppError('BAD_REQUEST', `last: "${String(v).slice(0, 20)}" is not a duration like 5d, 12h, 30m or seconds`);
  return Number(m[1]) * ({ d: 86400, h: 3600, m: 60, s: 1, '': 1 } as Record<string, number>)[m[2]!]!;
}

export interface FoundAttribute { attribute: J; event: { uuid: string; info: string }; container: string }

export async function searchAttributes(store: Store, q: { audience: Audience; collectionIds: readonly string[]; nowMs: number; filter: AttributeFilter }): Promise<FoundAttribute[]> {
  const f = q.filter;
  const types = f.published === undefined ? ['report', 'grouping'] : [f.published ? 'report' : 'grouping'];
  const ids = f.eventIds?.flatMap((e) => containerIds(e));
  const page = await store.queryObjects({ collectionIds: q.collectionIds, audience: q.audience, purpose: 'read', types, ...(ids ? { ids } : {}), version: { kind: 'last' }, limit: MAX_SCANNED_EVENTS * 2 });
  const limit = f.limit ?? MAX_RESULTS;
  let skip = f.page !== undefined ? (f.page - 1) * limit : 0;
  const minModified = f.lastS === undefined ? null : new Date(q.nowMs - f.lastS * 1000).toISOString();
  const seen = new Set<string>();
  const out: FoundAttribute[] = [];
  const values = f.values?.map((v) => v.toLowerCase());
  const rows = page.rows.filter((r) => (minModified === null || (r.modified ?? '') >= minModified)).slice(0, MAX_SCANNED_EVENTS);
  for (const row of rows) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    const { container, objects, recipients } = await loadEventObjects(store, { audience: q.audience, collectionIds: q.collectionIds, ref: row.id });
    const ev = stixToMisp(container.id, objects, { recipients }).event.Event;
    const eventTags = ((ev.Tag as J[] | undefined) ?? []).map((t) => String(t.name));
    const attrs: J[] = [
      ...((ev.Attribute as J[] | undefined) ?? []),
      ...((ev.Object as J[] | undefined) ?? []).flatMap((o) => ((o.Attribute as J[] | undefined) ?? []).map((a): J => ({ ...a, object_uuid: o.uuid }))),
    ];
    for (const a of attrs) {
      if (values && !values.includes(String(a.value).toLowerCase()) && !String(a.value).toLowerCase().split('|').some((p) => values.includes(p))) continue;
      if (f.types && !f.types.includes(String(a.type))) continue;
      if (f.categories && !f.categories.includes(String(a.category))) continue;
      if (f.toIds !== undefined && (a.to_ids === true) !== f.toIds) continue;
      if (f.uuids && !f.uuids.includes(String(a.uuid))) continue;
      if (f.tags) {
        const tags = [...eventTags, ...((a.Tag as J[] | undefined) ?? []).map((t) => String(t.name))];
        const { or, and, not } = f.tags;
        if ((or.length && !or.some((t) => tags.includes(t))) || !and.every((t) => tags.includes(t)) || not.some((t) => tags.includes(t))) continue;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push({ attribute: { ...a, event_uuid: ev.uuid }, event: { uuid: String(ev.uuid), info: String(ev.info) }, container: container.id });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/**
 * A sighting by a member of an attribute it can see (misp-stix: type 0 → `sighting`,
 * type 1 → `opinion` strongly-disagree). It is AMBER, released to the creator of the sighted
 * object — the sighting tells the producer where its intelligence was seen.
 */
export async function addSighting(intel: IntelService, q: { actor: Actor & { principal: { orgId: string } }; audience: Audience; collectionIds: readonly string[]; collectionId: string; found: FoundAttribute; type: number; source: string; atS: number }): Promise<J> {
  const uuid = String(q.found.attribute.uuid);
  const objectUuid = typeof q.found.attribute.object_uuid === 'string' ? q.found.attribute.object_uuid : null;
  const candidates = objectUuid ? [`indicator--${objectUuid}`, `observed-data--${objectUuid}`, `x-misp-object--${objectUuid}`]
    : [`indicator--${uuid}`, `observed-data--${uuid}`, `x-misp-attribute--${uuid}`, `vulnerability--${uuid}`, `campaign--${uuid}`];
  const page = await intel.store.queryObjects({ collectionIds: q.collectionIds, audience: q.audience, purpose: 'read', ids: candidates, version: { kind: 'last' }, limit: 20 });
  const target = candidates.map((id) => page.rows.find((r) => r.id === id)).find((r) => r !== undefined);
  if (!target) throw new AppError('NOT_FOUND', `no attribute ${uuid}`);
  const at = new Date(q.atS * 1000).toISOString();
  const org = q.actor.principal.orgId;
  const sid = randomUUID();
  const base = { spec_version: '2.1', created_by_ref: org, created: at, modified: at, object_marking_refs: [tlpMarkingId('amber')] };
  const obj = q.type === 1
    ? { type: 'opinion', id: `opinion--${sid}`, ...base, opinion: 'strongly-disagree', explanation: 'False positive Sighting', object_refs: [target.id] }
    : { type: 'sighting', id: `sighting--${sid}`, ...base, first_seen: at, last_seen: at, count: 1, sighting_of_ref: target.id, where_sighted_refs: [org], ...(q.source ? { description: q.source } : {}) };
  const [r] = await intel.submit(q.actor, q.collectionId, [obj], { recipients: target.creatorOrg && target.creatorOrg !== org ? [target.creatorOrg] : [] });
  if (!r || r.status === 'rejected') throw new AppError('BAD_REQUEST', `the sighting was refused: ${r && 'message' in r ? r.message : 'unknown'}`);
  return { id: sid, uuid: sid, attribute_uuid: uuid, event_uuid: q.found.event.uuid, type: String(q.type), source: q.source, date_sighting: String(q.atS), org_id: org, stix_id: obj.id };
}
