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
import { containerIds, loadEventObjects, namesFor } from './export.js';
import { substringMatcher, termMatcher } from './like.js';
import { stixToMisp } from './to-misp.js';

/** Events scanned per search at most (newest first): the cost of a request stays bounded. */
export const MAX_SCANNED_EVENTS = 500;
export const MAX_RESULTS = 5000;

/**
 * MISP tag filter: at least one of `or` (when any), all of `and`, none of `not`. Each name is
 * matched as MISP does (like.ts): exact but case-insensitive, or a LIKE pattern (`tlp:%`).
 */
export interface TagFilter { or: string[]; and: string[]; not: string[] }

/**
 * A MISP list filter (AppModel convert_filters: a list, `!` negating): at least one of `or`
 * when given, none of `not`; each term exact (case-insensitive) or a LIKE pattern (like.ts).
 */
export interface ListFilter { or: string[]; not: string[] }

/** A closed time range in Unix seconds (MISP `timestamp`, `publish_timestamp`…: a lower bound, or `[from, to]`). */
export interface TimeRange { from?: number; to?: number }

/** The event-level filters of restSearch (both controllers). */
export interface EventFilter {
  /** Only the events with these uuids (or report/grouping ids). */
  eventIds?: string[];
  /** Only published events (a STIX report) or only unpublished ones (a grouping). */
  published?: boolean;
  /** The event's publish_timestamp (MISP `publish_timestamp`, and `last`): unpublished events are out. */
  publishTimestamp?: TimeRange;
  /** The event's timestamp (last change): MISP `event_timestamp`. */
  eventTimestamp?: TimeRange;
  /** The event's date (MISP `from` / `to`, `YYYY-MM-DD`, inclusive). */
  date?: { from?: string; to?: string };
  /** The event's creator (Orgc), by uuid or name. */
  orgs?: string[];
  /** The event's info (MISP `eventinfo`). */
  eventInfo?: ListFilter;
  /** The event's own tags (MISP `event_tags`). */
  eventTags?: TagFilter;
}

export interface AttributeFilter extends EventFilter {
  /** Exact values (or either half of a composite), as sightings/add names them. */
  values?: string[];
  /** restSearch `value`: terms with `!` and `%` (or either half of a composite). */
  value?: ListFilter;
  types?: ListFilter;
  categories?: ListFilter;
  /** The name of the MISP object the attribute is in (MISP `object_name`). */
  objectNames?: ListFilter;
  /**
   * MISP `searchall`: each term (exact, or a substring between `%`) against the event's info and
   * tags and the attribute's value (and halves), comment and tags; any hit is a match.
   */
  searchAll?: string[];
  /** MISP `quickFilter`: a case-insensitive substring of the event's info or creator, or of the attribute's value, comment or tags. */
  quickFilter?: string;
  /** Shieldwall sharing groups (identity ids) among the recipients the attribute (its own sharing group, else its event's) goes to. */
  sharingGroups?: string[];
  tags?: TagFilter;
  toIds?: boolean;
  uuids?: string[];
  /** The attribute's own timestamp (MISP `timestamp` on the attributes controller). */
  timestamp?: TimeRange;
  /** Each found attribute carries its event's tags in `Tag` too (MISP `includeEventTags`). */
  includeEventTags?: boolean;
  limit?: number;
  /** 1-based page of `limit` results. */
  page?: number;
}

type J = Record<string, unknown>;

/** MISP relative times: "5d", "12h", "30m", "45s"; plain seconds are a duration for `last`. */
export function parseLast(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const m = /^(\d{1,9})([dhms]?)$/.exec(String(v).trim());
  if (!m) throw new AppError('BAD_REQUEST', `last: "${String(v).slice(0, 20)}" is not a duration like 5d, 12h, 30m or seconds`);
  return Number(m[1]) * ({ d: 86400, h: 3600, m: 60, s: 1, '': 1 } as Record<string, number>)[m[2]!]!;
}

export interface FoundAttribute { attribute: J; event: { uuid: string; info: string }; container: string }

const inRange = (n: number, r: TimeRange | undefined) => r === undefined || ((r.from === undefined || n >= r.from) && (r.to === undefined || n <= r.to));
const num = (v: unknown) => Number(v ?? 0);

type Test = (value: string) => boolean;
interface CompiledList { or: Test[]; not: Test[] }
interface CompiledTags { or: Test[]; and: Test[]; not: Test[] }

const compileList = (f: ListFilter | undefined): CompiledList | undefined => (f ? { or: f.or.map(termMatcher), not: f.not.map(termMatcher) } : undefined);
const compileTags = (f: TagFilter | undefined): CompiledTags | undefined => (f ? { or: f.or.map(termMatcher), and: f.and.map(termMatcher), not: f.not.map(termMatcher) } : undefined);
/** Whether any of a field's values passes a list filter. */
const passes = (c: CompiledList | undefined, values: readonly string[]) => c === undefined || ((c.or.length === 0 || c.or.some((m) => values.some(m))) && !c.not.some((m) => values.some(m)));
const tagsPass = (c: CompiledTags | undefined, tags: readonly string[]) => c === undefined
  || ((c.or.length === 0 || c.or.some((m) => tags.some(m))) && c.and.every((m) => tags.some(m)) && !c.not.some((m) => tags.some(m)));

/** The filters compiled once per request: no pattern is compiled per attribute. */
interface Compiled {
  f: AttributeFilter;
  exact?: readonly string[];
  value?: CompiledList;
  types?: CompiledList;
  categories?: CompiledList;
  objectNames?: CompiledList;
  eventInfo?: CompiledList;
  tags?: CompiledTags;
  eventTags?: CompiledTags;
  searchAll?: Test[];
  quick?: Test;
}

function compile(f: AttributeFilter): Compiled {
  const c: Compiled = { f };
  if (f.values) c.exact = f.values.map((v) => v.toLowerCase());
  const set = <K extends keyof Compiled>(k: K, v: Compiled[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('value', compileList(f.value));
  set('types', compileList(f.types));
  set('categories', compileList(f.categories));
  set('objectNames', compileList(f.objectNames));
  set('eventInfo', compileList(f.eventInfo));
  set('tags', compileTags(f.tags));
  set('eventTags', compileTags(f.eventTags));
  // searchall: "full or substring (delimited by %)": a term without % is matched whole.
  set('searchAll', f.searchAll?.map(termMatcher));
  set('quick', f.quickFilter === undefined ? undefined : substringMatcher(f.quickFilter));
  return c;
}

/** The event's fields the text filters (searchall, quickFilter) read. */
interface EventText { info: string; tags: string[]; creator: string }

function eventMatches(ev: J, creator: J, c: Compiled): boolean {
  const f = c.f;
  if (f.publishTimestamp && (ev.published !== true || !inRange(num(ev.publish_timestamp), f.publishTimestamp))) return false;
  if (!inRange(num(ev.timestamp), f.eventTimestamp)) return false;
  const date = String(ev.date ?? '');
  if (f.date && ((f.date.from !== undefined && date < f.date.from) || (f.date.to !== undefined && date > f.date.to))) return false;
  if (f.orgs) {
    const names = [String(creator.uuid ?? '').toLowerCase(), String(creator.name ?? '').toLowerCase()];
    if (!f.orgs.some((x) => names.includes(x.toLowerCase()))) return false;
  }
  if (!passes(c.eventInfo, [String(ev.info ?? '')])) return false;
  if (!tagsPass(c.eventTags, ((ev.Tag as J[] | undefined) ?? []).map((t) => String(t.name)))) return false;
  return true;
}

/**
 * The events a reader may see, newest first, as MISP JSON (each read under the release policy by
 * loadEventObjects), that pass the event-level filters. At most MAX_SCANNED_EVENTS are read.
 */
async function* scanEvents(store: Store, q: { audience: Audience; collectionIds: readonly string[]; filter: AttributeFilter }, c: Compiled): AsyncGenerator<{ ev: J; container: string; text: EventText }> {
  const f = q.filter;
  const types = f.published === undefined ? ['report', 'grouping'] : [f.published ? 'report' : 'grouping'];
  const ids = f.eventIds?.flatMap((e) => containerIds(e));
  // Newest first (the latest version of each container, by modified): in date_added order the
  // scan read the oldest events, and once a node held more than it scans, new events were never found.
  const page = await store.queryObjects({
    collectionIds: q.collectionIds, audience: q.audience, purpose: 'read', types, ...(ids ? { ids } : {}), version: { kind: 'last' }, latestVersionsFirst: true, limit: MAX_SCANNED_EVENTS * 2,
  });
  const minModified = f.eventTimestamp?.from === undefined ? null : new Date(f.eventTimestamp.from * 1000).toISOString();
  const seen = new Set<string>();
  // The events as events/view shows them to this reader (the Orgc and sighting organisations named).
  const orgNames = await namesFor(store, q.audience);
  let scanned = 0;
  for (const row of page.rows) {
    // A revoked container is a deleted event, or one that was published (or unpublished) since.
    const uuid = row.id.slice(row.id.indexOf('--') + 2);
    if (row.revoked || seen.has(uuid) || (minModified !== null && (row.modified ?? '') < minModified)) continue;
    seen.add(uuid);
    if (++scanned > MAX_SCANNED_EVENTS) return;
    const { container, objects, recipients, creatorOrg, release } = await loadEventObjects(store, { audience: q.audience, collectionIds: q.collectionIds, ref: row.id });
    const ev = stixToMisp(container.id, objects, { orgNames, recipients, release }).event.Event;
    // The creator of an event posted without Orgc is the organisation that posted it (it has no
    // created_by_ref, so the MISP form names none; `org` finds it all the same).
    const creator = ev.Orgc ?? (creatorOrg ? { uuid: creatorOrg.slice(creatorOrg.indexOf('--') + 2), name: orgNames.get(creatorOrg) ?? '' } : {});
    if (eventMatches(ev, creator as J, c)) yield { ev, container: container.id, text: { info: String(ev.info ?? ''), tags: ((ev.Tag as J[] | undefined) ?? []).map((t) => String(t.name)), creator: String((creator as J).name ?? '') } };
  }
}

/** An attribute with the MISP object it is in (null outside objects). */
interface Attr { a: J; objectName: string | null; object: J | null }

/** The recipients (identity ids, from the inline sharing groups) an attribute goes to: its own group, else its object's, else its event's. */
function sharingGroupsOf(x: Attr, ev: J): string[] {
  const inherits = (el: J) => String(el.distribution ?? '5') === '5';
  const sg = (x.a.SharingGroup ?? (inherits(x.a) ? (x.object?.SharingGroup ?? (x.object === null || inherits(x.object) ? ev.SharingGroup : undefined)) : undefined)) as J | undefined;
  return ((sg?.SharingGroupOrg as J[] | undefined) ?? []).map((o) => `identity--${String((o.Organisation as J | undefined)?.uuid ?? '')}`);
}

/** searchall / quickFilter on the event's own fields (an event matches on them even without a matching attribute). */
function eventTextHit(c: Compiled, t: EventText): { searchAll: boolean; quick: boolean } {
  return {
    searchAll: c.searchAll !== undefined && c.searchAll.some((m) => m(t.info) || t.tags.some(m)),
    quick: c.quick !== undefined && (c.quick(t.info) || c.quick(t.creator)),
  };
}

function attributeMatches(x: Attr, ev: J, c: Compiled, t: EventText): boolean {
  const { a } = x;
  const f = c.f;
  const value = String(a.value);
  const fields = [value, ...(value.includes('|') ? value.split('|') : [])];
  if (c.exact && !fields.some((v) => c.exact!.includes(v.toLowerCase()))) return false;
  if (!passes(c.value, fields)) return false;
  if (!passes(c.types, [String(a.type)]) || !passes(c.categories, [String(a.category)])) return false;
  if (c.objectNames && (x.objectName === null || !passes(c.objectNames, [x.objectName]))) return false;
  if (f.toIds !== undefined && (a.to_ids === true) !== f.toIds) return false;
  if (f.uuids && !f.uuids.includes(String(a.uuid))) return false;
  if (!inRange(num(a.timestamp), f.timestamp)) return false;
  const own = ((a.Tag as J[] | undefined) ?? []).map((tag) => String(tag.name));
  if (!tagsPass(c.tags, [...t.tags, ...own])) return false;
  if (f.sharingGroups && !sharingGroupsOf(x, ev).some((g) => f.sharingGroups!.includes(g))) return false;
  const onEvent = eventTextHit(c, t);
  const comment = String(a.comment ?? '');
  if (c.searchAll && !onEvent.searchAll && !c.searchAll.some((m) => fields.some(m) || m(comment) || own.some(m))) return false;
  if (c.quick && !onEvent.quick && !(fields.some(c.quick) || c.quick(comment) || own.some(c.quick))) return false;
  return true;
}

/** The attributes of an event, those inside objects with their `object_uuid`. */
function attributesOf(ev: J): Attr[] {
  return [
    ...((ev.Attribute as J[] | undefined) ?? []).map((a) => ({ a, objectName: null, object: null })),
    ...((ev.Object as J[] | undefined) ?? []).flatMap((o) => ((o.Attribute as J[] | undefined) ?? []).map((a): Attr => ({ a: { ...a, object_uuid: o.uuid }, objectName: String(o.name ?? ''), object: o }))),
  ];
}

const ATTRIBUTE_FILTERS = ['values', 'value', 'types', 'categories', 'objectNames', 'toIds', 'uuids', 'timestamp', 'tags', 'searchAll', 'quickFilter', 'sharingGroups'] as const;
const hasAttributeFilter = (f: AttributeFilter) => ATTRIBUTE_FILTERS.some((k) => f[k] !== undefined);

export async function searchAttributes(store: Store, q: { audience: Audience; collectionIds: readonly string[]; filter: AttributeFilter }): Promise<FoundAttribute[]> {
  const f = q.filter;
  const limit = f.limit ?? MAX_RESULTS;
  let skip = f.page !== undefined ? (f.page - 1) * limit : 0;
  const out: FoundAttribute[] = [];
  const c = compile(f);
  for await (const { ev, container, text } of scanEvents(store, q, c)) {
    for (const x of attributesOf(ev)) {
      if (!attributeMatches(x, ev, c, text)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      const a = x.a;
      const own = (a.Tag as J[] | undefined) ?? [];
      const tags = f.includeEventTags ? [...own, ...((ev.Tag as J[] | undefined) ?? []).filter((t) => !own.some((y) => y.name === t.name))] : own;
      out.push({ attribute: { ...a, ...(tags.length ? { Tag: tags } : {}), event_uuid: ev.uuid }, event: { uuid: String(ev.uuid), info: String(ev.info) }, container });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/**
 * MISP events/restSearch: the events (as events/view shows them to the reader) that pass the
 * event filters and, when attribute filters are given, hold at least one matching attribute
 * (searchall and quickFilter also match on the event's own info, tags and creator);
 * `limit` and `page` count events. `metadata` leaves attributes and objects out.
 */
export async function searchEvents(store: Store, q: { audience: Audience; collectionIds: readonly string[]; filter: AttributeFilter; metadata?: boolean }): Promise<J[]> {
  const f = q.filter;
  const limit = f.limit ?? MAX_RESULTS;
  let skip = f.page !== undefined ? (f.page - 1) * limit : 0;
  const out: J[] = [];
  const c = compile(f);
  const filtered = hasAttributeFilter(f);
  // Only text filters: an event whose own fields match needs no matching attribute.
  const textOnly = ATTRIBUTE_FILTERS.every((k) => f[k] === undefined || k === 'searchAll' || k === 'quickFilter');
  for await (const { ev, text } of scanEvents(store, q, c)) {
    const hit = eventTextHit(c, text);
    const byEvent = textOnly && (c.searchAll === undefined || hit.searchAll) && (c.quick === undefined || hit.quick);
    if (filtered && !byEvent && !attributesOf(ev).some((x) => attributeMatches(x, ev, c, text))) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    const { Attribute: _a, Object: _o, ...meta } = ev;
    out.push({ Event: q.metadata ? meta : ev });
    if (out.length >= limit) break;
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
