/**
 * A MISP REST subset at /api/misp, so PyMISP-based tools work against a node
 * (`PyMISP('https://node/api/misp', '<shieldwall token>')`): PyMISP sends the key raw in
 * `Authorization` (or `X-MISP-AUTH`), which is taken as a Shieldwall bearer token. On init it
 * calls servers/getVersion and users/view/me; then events/add, events/view, events/publish, events/delete, attributes/restSearch
 * and sightings/add. Errors are MISP-shaped JSON (`{name, message, url}`) with a 4xx status.
 * Everything goes through the intel service and the release policy (misp/search.ts).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { AppError, toAppError } from '../../core/errors.js';
import { storeError } from '../errors.js';
import { authenticateHeader, permissionsOf, type Principal } from '../../access/index.js';
import {
  addSighting, deleteEvent, exportMispEvent, importMisp, publishEvent, type ListFilter, isMispDocument, mispBoolean, parseLast, searchAttributes, searchEvents, type AttributeFilter, type TagFilter, type TimeRange,
} from '../../misp/index.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { readableCollectionIds, type RestDeps } from './context.js';

/** The MISP version this subset follows (misp-interop.md: MISP 2.5.1, PyMISP 2.5.x). */
const MISP_VERSION = '2.5.1';

const OBJ = { type: 'object' } as const;
const STR_OR_LIST = { anyOf: [{ type: 'string', maxLength: 4096 }, { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 4096 } }] };
const FLAG = { type: ['string', 'integer', 'boolean'] };
/** A MISP time: Unix seconds (PyMISP sends a float for a datetime), "7d"-like, or `[from, to]`. */
const TIME = { anyOf: [{ type: ['string', 'number'], maxLength: 32 }, { type: 'array', minItems: 1, maxItems: 2, items: { type: ['string', 'number', 'null'], maxLength: 32 } }] };
/**
 * What PyMISP's search() sends whatever the caller asks: output options as 0 (its
 * _make_misp_bool turns None into 0). They shape the answer, never widen it: taken as booleans.
 */
const OUTPUT_FLAGS = ['withAttachments', 'metadata', 'includeEventUuid', 'includeEventTags', 'sgReferenceOnly', 'includeContext', 'headerless',
  'includeSightings', 'includeDecayScore', 'includeCorrelations'] as const;
/** Filters this node does not implement: accepted when off (PyMISP sends them as 0), refused when on (ignoring them would widen the result). */
const FILTERS_OFF_ONLY = ['enforceWarninglist', 'excludeDecayed', 'deleted'] as const;
/** A list (a "!" prefix negates) or PyMISP's build_complex_query {"OR": [...], "AND": [...], "NOT": [...]}. */
const COMPLEX = { anyOf: [...STR_OR_LIST.anyOf, { type: 'object', maxProperties: 3, additionalProperties: STR_OR_LIST }] };
const SEARCH_BODY = {
  type: 'object',
  properties: {
    value: COMPLEX, type: COMPLEX, category: COMPLEX, uuid: STR_OR_LIST, eventid: STR_OR_LIST, org: STR_OR_LIST, last: { type: ['string', 'integer'] },
    tags: COMPLEX, event_tags: COMPLEX, eventinfo: COMPLEX, object_name: COMPLEX,
    searchall: { anyOf: [{ type: ['string', 'boolean', 'integer'], maxLength: 4096 }, STR_OR_LIST.anyOf[1]] }, quickFilter: { type: 'string', maxLength: 4096 },
    sharinggroup: { anyOf: [{ type: ['string', 'integer'], maxLength: 64 }, { type: 'array', maxItems: 100, items: { type: ['string', 'integer'], maxLength: 64 } }] },
    to_ids: FLAG, published: FLAG, timestamp: TIME, publish_timestamp: TIME, event_timestamp: TIME, from: { type: ['string', 'number'] }, to: { type: ['string', 'number'] },
    returnFormat: { type: 'string', enum: ['json'] }, limit: { type: ['string', 'integer'] }, page: { type: ['string', 'integer'] },
    ...Object.fromEntries([...OUTPUT_FLAGS, ...FILTERS_OFF_ONLY].map((k) => [k, FLAG])),
  },
} as const;
/** The restSearch parameters this node implements; any other is refused, never ignored (it would widen the result). */
const SEARCH_KEYS: ReadonlySet<string> = new Set(Object.keys(SEARCH_BODY.properties));
/** Latest Unix second with an ISO 8601 form (9999-12-31T23:59:59Z). */
const MAX_SECONDS = 253402300799;

/** An error in MISP's own shape (PyMISP reads `message`; `errors.code` is ours). */
export function mispError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const fe = err as FastifyError;
  let e: AppError;
  if (err instanceof AppError) e = err;
  else if (fe.statusCode && fe.statusCode < 500) e = new AppError(fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : fe.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : /JSON/i.test(fe.message) ? 'MALFORMED_JSON' : 'BAD_REQUEST', fe.message);
  else e = storeError(err) ?? toAppError(err);
  if (e.code === 'INTERNAL') req.log.error({ err: e.cause ?? err }, 'unhandled error');
  const message = e.code === 'INTERNAL' ? 'internal server error' : e.message;
  for (const [k, v] of Object.entries(e.headers ?? {})) reply.header(k, v);
  return reply.code(e.http).header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ name: message, message, url: req.url.split('?')[0], errors: { code: e.code } }));
}

const EVENT_REF = /^((report|grouping)--)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** MISP booleans: true/false, 1/0, "1"/"0", "true"/"false". */
function flag(name: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const b = mispBoolean(v);
  if (b === undefined) throw new AppError('BAD_REQUEST', `${name}: ${JSON.stringify(v).slice(0, 20)} is not a boolean (true/false, 1/0)`);
  return b;
}

function positive(name: string, v: unknown, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new AppError('BAD_REQUEST', `${name} must be a positive integer`);
  return Math.min(n, max);
}

/** A MISP list filter (value, type, category, eventinfo, object_name): as tags, without AND (one value per field). */
function listFilter(name: string, v: unknown): ListFilter | undefined {
  const t = tagFilter(v, name);
  if (!t) return undefined;
  if (t.and.length > 1) throw new AppError('BAD_REQUEST', `${name}: AND of several values never matches one ${name}; use OR`);
  return { or: [...t.or, ...t.and], not: t.not };
}

/** MISP tags: a list (OR; a "!" prefix negates), or PyMISP's {"OR": [...], "AND": [...], "NOT": [...]}. */
function tagFilter(v: unknown, name = 'tags'): TagFilter | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const f: TagFilter = { or: [], and: [], not: [] };
  if (typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, items] of Object.entries(v as Record<string, unknown>)) {
      const key = k.toUpperCase();
      if (key !== 'OR' && key !== 'AND' && key !== 'NOT') throw new AppError('BAD_REQUEST', `${name}: "${k.slice(0, 20)}" is not OR, AND or NOT`);
      const names = list(items) ?? [];
      f[key === 'OR' ? 'or' : key === 'AND' ? 'and' : 'not'].push(...names);
    }
    return f;
  }
  for (const t of list(v) ?? []) {
    if (t.startsWith('!')) f.not.push(t.slice(1));
    else f.or.push(t);
  }
  return f;
}

/**
 * A MISP time (lib/Tools resolveTimeDelta): Unix seconds, a float as PyMISP sends a datetime, or
 * a duration back from now ("7d", "12h", "30m", "45s", "2w").
 */
function seconds(name: string, v: unknown, nowS: number): number {
  const s = String(v).trim();
  const rel = /^(\d{1,9})([wdhms])$/.exec(s);
  const n = rel ? nowS - Number(rel[1]) * ({ w: 604800, d: 86400, h: 3600, m: 60, s: 1 } as Record<string, number>)[rel[2]!]! : /^\d{1,12}(\.\d+)?$/.test(s) ? Math.floor(Number(s)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SECONDS) throw new AppError('BAD_REQUEST', `${name}: ${JSON.stringify(v).slice(0, 32)} is not Unix seconds or a duration like 7d, 12h, 30m`);
  return n;
}

/** A MISP time filter: one time (from then on) or `[from, to]` (either may be null). */
function timeRange(name: string, v: unknown, nowS: number): TimeRange | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const [from, to] = Array.isArray(v) ? v : [v];
  const r: TimeRange = {};
  if (from !== undefined && from !== null && from !== '') r.from = seconds(name, from, nowS);
  if (to !== undefined && to !== null && to !== '') r.to = seconds(name, to, nowS);
  return r;
}

/** MISP `from` / `to`: an event date, `YYYY-MM-DD` or Unix seconds (PyMISP sends a date as a timestamp). */
function eventDate(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  return new Date(seconds(name, v, 0) * 1000).toISOString().slice(0, 10);
}

/** MISP `searchall`: the text to look for (PyMISP types it a bool, but MISP reads the text). */
function searchAll(v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === '' || v === false || v === 0 || v === '0') return undefined;
  if (typeof v === 'boolean' || typeof v === 'number') throw new AppError('BAD_REQUEST', 'searchall: give the text to look for (exact, or a substring between %), not a flag');
  return list(v);
}

const list = (v: unknown): string[] | undefined => (v === undefined || v === null || v === '' ? undefined : (Array.isArray(v) ? v : [v]).map(String));

async function writeCollection(deps: RestDeps, p: Principal): Promise<string> {
  const rights = await deps.platform.access.rights(p);
  const cols = await deps.platform.store.listCollections();
  const writable = cols.filter((c) => rights.get(c.id)?.canWrite);
  // The collection aliased `misp`, else one every organisation reads (a '*' read grant), else the first writable one.
  const everyone = new Set((await deps.platform.store.collectionAccess()).filter((g) => g.principal === '*' && g.canRead).map((g) => g.collectionId));
  const c = writable.find((x) => x.alias === 'misp') ?? writable.find((x) => everyone.has(x.id)) ?? writable[0];
  if (!c) throw new AppError('FORBIDDEN', 'no collection this token may write to');
  return c.id;
}

export async function mispRoutes(app: FastifyInstance, platform: Platform, deps: RestDeps): Promise<void> {
  const { access, store, intel, clock } = platform;
  app.setErrorHandler((err, req, reply) => mispError(req, reply, err));
  app.setNotFoundHandler((req, reply) => mispError(req, reply, new AppError('NOT_FOUND', 'not found')));
  app.addHook('onRequest', async (req) => {
    const raw = req.headers.authorization ?? (req.headers['x-misp-auth'] as string | undefined);
    // PyMISP sends the key itself, without a scheme.
    const header = raw && !/^(bearer|basic) /i.test(raw) ? `Bearer ${raw.trim()}` : raw;
    req.principal = await authenticateHeader(access, header, req.ip);
    // PyMISP's publish() and delete_event() POST nothing with its session's JSON content type:
    // an empty body is no body (Fastify's JSON parser would refuse it with a 400).
    if (req.headers['content-length'] === '0' && req.headers['transfer-encoding'] === undefined) delete req.headers['content-type'];
  });

  const audience = (p: Principal) => access.audienceOf(p);
  const viewEvent = async (p: Principal, ref: string) => (await exportMispEvent(store, { audience: audience(p), collectionIds: await readableCollectionIds(deps, p), ref })).event;

  app.get('/servers/getVersion', { schema: { summary: 'MISP version (PyMISP calls it on init)' } as FastifySchema }, async () => ({
    version: MISP_VERSION, pymisp_recommended_version: MISP_VERSION, perm_sync: false, perm_sighting: true, perm_galaxy_editor: false, request_encoding: [],
  }));

  app.get('/users/view/me', { schema: { summary: 'The token\'s user and organisation, MISP-shaped (PyMISP calls it on init)' } as FastifySchema }, async (req) => {
    const p = principalOf(req);
    const org = await store.getOrganisation(p.orgId);
    const perms = permissionsOf(p);
    return {
      User: { id: p.userId ?? p.tokenId ?? '', email: p.username ?? '', org_id: p.orgId, role_id: p.roles[0] ?? '' },
      Role: { name: p.roles.join(',') || p.kind, perm_add: perms.includes('intel.write'), perm_modify: perms.includes('intel.write'), perm_sighting: perms.includes('intel.write'), perm_sync: false, perm_admin: false, perm_site_admin: false },
      UserSetting: [],
      Organisation: { id: p.orgId, name: org?.name ?? '', uuid: p.orgId.slice('identity--'.length) },
    };
  });

  const addEvent = async (req: FastifyRequest) => add(principalOf(req), req.body, req.ip);
  const add = async (p: Principal, body: unknown, ip: string) => {
    if (!isMispDocument(body) && !(body && typeof body === 'object' && 'info' in body)) throw new AppError('BAD_REQUEST', 'Invalid event: the body must be a MISP event ({"Event": {...}} or the event itself)');
    const collectionId = await writeCollection(deps, p);
    const s = await importMisp(intel, { actor: { principal: p, source: ip }, collectionId, document: body });
    const ev = s.events[0];
    if (!ev) throw new AppError('BAD_REQUEST', 'Invalid event');
    const head = s.errors.find((e) => e.id === ev.container);
    if (head) throw new AppError('BAD_REQUEST', `Invalid event: ${head.message}`);
    // Every attribute left out, with the reason (as /api/v1/intel/import reports them). PyMISP
    // reads `Event` and ignores other keys; an `errors` key would make it treat the add as failed.
    const skipped = s.attributes.filter((a) => a.status === 'skipped')
      .map((a) => ({ uuid: a.uuid, type: a.type, ...(a.objectUuid ? { object_uuid: a.objectUuid } : {}), reason: a.reason ?? '' }));
    return { ...(await viewEvent(p, ev.uuid)), ...(skipped.length ? { skipped } : {}) };
  };
  app.post('/events/add', { schema: { summary: 'Add a MISP event (imported to STIX through the intel service)', body: OBJ } }, addEvent);
  // PyMISP add_event(metadata=True) / update_event(metadata=True): the answer without attributes and objects.
  const metadataOnly = (option: string, answer: { Event: Record<string, unknown> }) => {
    if (option !== 'metadata:1') throw new AppError('NOT_FOUND', 'not found');
    const { Attribute: _a, Object: _o, ...meta } = answer.Event;
    return { ...answer, Event: meta };
  };
  const optionParams = { type: 'object', properties: { option: { type: 'string', maxLength: 32 }, id: { type: 'string', maxLength: 64 } }, required: ['option'] };
  app.post('/events/add/:option', { schema: { summary: 'Add a MISP event, answered without attributes and objects (events/add/metadata:1)', params: optionParams, body: OBJ } },
    async (req) => metadataOnly((req.params as { option: string }).option, await addEvent(req)));
  app.post('/events', { schema: { summary: 'Add a MISP event (alias of /events/add)', body: OBJ } }, addEvent);
  // PyMISP's update_event posts the event, edited, to events/edit/<uuid>, without the timestamps
  // of what was changed: the same import, which makes new versions of what changed (modified =
  // the time of receipt) and revokes what the update withdraws. The event must be one the caller
  // reads (else 404, as MISP); a body naming another event is refused, never stored under it.
  const editEvent = async (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    const p = principalOf(req);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new AppError('NOT_FOUND', 'Invalid event');
    await viewEvent(p, id.toLowerCase());
    const wrapped = !!req.body && typeof req.body === 'object' && 'Event' in req.body;
    const ev = (wrapped ? (req.body as { Event: unknown }).Event : req.body) as Record<string, unknown> | null;
    if (!ev || typeof ev !== 'object' || Array.isArray(ev)) throw new AppError('BAD_REQUEST', 'Invalid event: the body must be a MISP event ({"Event": {...}} or the event itself)');
    if (ev.uuid !== undefined && String(ev.uuid).toLowerCase() !== id.toLowerCase()) {
      throw new AppError('BAD_REQUEST', `Invalid event: the body is event ${String(ev.uuid).slice(0, 64)}, not the event ${id} the path names`);
    }
    const event = { ...ev, uuid: id.toLowerCase() };
    return add(p, wrapped ? { Event: event } : event, req.ip);
  };
  app.post('/events/edit/:id', { schema: { summary: 'Update a MISP event (PyMISP update_event): imported as events/add, new versions of what changed', body: OBJ } }, editEvent);
  app.post('/events/edit/:id/:option', { schema: { summary: 'Update a MISP event, answered without attributes and objects (events/edit/:id/metadata:1)', params: optionParams, body: OBJ } },
    async (req) => metadataOnly((req.params as { option: string }).option, await editEvent(req)));

  const getEvent = async (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    // Numeric MISP ids are instance-local: this node names events by uuid only.
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('NOT_FOUND', 'Invalid event');
    return viewEvent(principalOf(req), id);
  };
  const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] };
  app.get('/events/view/:id', { schema: { summary: 'One event as MISP JSON, as the caller may read it', params: idParams } }, getEvent);
  app.get('/events/:id', { schema: { summary: 'One event as MISP JSON (alias of /events/view/:id)', params: idParams } }, getEvent);
  // PyMISP get_event(deleted=…, extended=…) POSTs its options. A withdrawn attribute is revoked
  // here, not kept as a soft-deleted one, so there is none to add; an event has no extensions.
  const viewOptions = { type: 'object', properties: { deleted: { anyOf: [FLAG, { type: 'array', maxItems: 2, items: FLAG }] }, extended: FLAG }, additionalProperties: false };
  app.post('/events/view/:id', { schema: { summary: 'One event as MISP JSON (PyMISP get_event with deleted / extended); withdrawn attributes are revoked, not listed', params: idParams, body: viewOptions } }, async (req) => {
    const b = (req.body ?? {}) as { deleted?: unknown; extended?: unknown };
    for (const v of Array.isArray(b.deleted) ? b.deleted : [b.deleted]) flag('deleted', v);
    flag('extended', b.extended);
    return getEvent(req);
  });

  // Publish and delete (docs/misp.md "Publish and delete"): the creator organisation's own events only.
  const eventAction = async (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new AppError('NOT_FOUND', 'Invalid event');
    const p = principalOf(req);
    const rights = await access.rights(p);
    return { actor: { principal: p, source: req.ip }, audience: audience(p), collectionIds: await readableCollectionIds(deps, p), canWrite: (c: string) => rights.get(c)?.canWrite === true, uuid: id.toLowerCase() };
  };
  /** MISP's answer to a successful action (RestResponse saveSuccessResponse). */
  const success = (req: FastifyRequest, id: string, message: string, extra: Record<string, unknown> = {}) => ({ saved: true, success: true, name: message, message, url: req.url.split('?')[0], id, ...extra });
  app.post('/events/publish/:id', { schema: { summary: 'Publish an event of the caller\'s organisation (its grouping becomes a report)', params: idParams } }, async (req) => {
    const q = await eventAction(req);
    const r = await publishEvent(intel, q);
    return success(req, q.uuid, r.published ? 'Event published' : 'Event already published', { stix_id: r.container });
  });
  const removeEvent = async (req: FastifyRequest) => {
    const q = await eventAction(req);
    const r = await deleteEvent(intel, q);
    return success(req, q.uuid, 'Event deleted.', { revoked: r.revoked.length });
  };
  app.post('/events/delete/:id', { schema: { summary: 'Delete an event of the caller\'s organisation: its report/grouping and objects are revoked', params: idParams } }, removeEvent);
  app.delete('/events/:id', { schema: { summary: 'Delete an event (alias of POST /events/delete/:id)', params: idParams } }, removeEvent);

  const filterOf = (b: Record<string, unknown>): AttributeFilter => {
    const unknown = Object.keys(b).filter((k) => !SEARCH_KEYS.has(k));
    if (unknown.length) {
      throw new AppError('BAD_REQUEST', `restSearch: parameter ${unknown.slice(0, 5).map((k) => `"${k.slice(0, 40)}"`).join(', ')} is not supported here; `
        + `use ${[...SEARCH_KEYS].join(', ')} (docs/misp.md "REST subset")`);
    }
    for (const k of OUTPUT_FLAGS) flag(k, b[k]);
    for (const k of FILTERS_OFF_ONLY) {
      if (flag(k, b[k]) === true) throw new AppError('BAD_REQUEST', `restSearch: ${k} is not supported here; send it as 0 or leave it out (docs/misp.md "REST subset")`);
    }
    const nowS = Math.floor(clock.now() / 1000);
    const f: AttributeFilter = {};
    const set = <K extends keyof AttributeFilter>(k: K, v: AttributeFilter[K] | undefined) => {
      if (v !== undefined) f[k] = v;
    };
    set('value', listFilter('value', b.value));
    set('types', listFilter('type', b.type));
    set('categories', listFilter('category', b.category));
    set('eventInfo', listFilter('eventinfo', b.eventinfo));
    set('objectNames', listFilter('object_name', b.object_name));
    set('eventTags', tagFilter(b.event_tags, 'event_tags'));
    set('searchAll', searchAll(b.searchall));
    if (typeof b.quickFilter === 'string' && b.quickFilter !== '') f.quickFilter = b.quickFilter;
    set('sharingGroups', list(b.sharinggroup)?.map((g) => {
      const m = /^(identity--)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(g);
      if (!m) throw new AppError('BAD_REQUEST', `sharinggroup: "${g.slice(0, 40)}" is not a sharing group uuid; numeric MISP sharing group ids are instance-local and not known here`);
      return `identity--${m[2]!.toLowerCase()}`;
    }));
    set('uuids', list(b.uuid)?.map((u) => u.toLowerCase()));
    set('orgs', list(b.org));
    set('tags', tagFilter(b.tags));
    set('toIds', flag('to_ids', b.to_ids));
    set('published', flag('published', b.published));
    set('timestamp', timeRange('timestamp', b.timestamp, nowS));
    set('eventTimestamp', timeRange('event_timestamp', b.event_timestamp, nowS));
    // MISP's `last` is publish_timestamp (PyMISP turns one into the other); here plain seconds in `last` are a duration.
    const last = parseLast(b.last);
    if (last !== undefined && b.publish_timestamp !== undefined) throw new AppError('BAD_REQUEST', 'last and publish_timestamp: give one of them (last is publish_timestamp)');
    set('publishTimestamp', last !== undefined ? { from: nowS - last } : timeRange('publish_timestamp', b.publish_timestamp, nowS));
    const from = eventDate('from', b.from);
    const to = eventDate('to', b.to);
    if (from !== undefined || to !== undefined) f.date = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    set('includeEventTags', flag('includeEventTags', b.includeEventTags));
    set('eventIds', list(b.eventid)?.map((e) => {
      if (!EVENT_REF.test(e)) throw new AppError('BAD_REQUEST', `eventid: "${e.slice(0, 40)}" is not an event uuid (or report/grouping id); numeric MISP event ids are instance-local and not known here`);
      return e.toLowerCase();
    }));
    set('limit', positive('limit', b.limit, 5000));
    set('page', positive('page', b.page, 1_000_000));
    if (f.page !== undefined && f.limit === undefined) throw new AppError('BAD_REQUEST', 'page: paging needs limit too (page n of limit results)');
    return f;
  };

  app.post('/attributes/restSearch', { schema: { summary: 'Search attributes (value, type, category, tags, event_tags, eventinfo, object_name, searchall, quickFilter, sharinggroup, uuid, eventid, org, to_ids, published, timestamp, publish_timestamp, event_timestamp, from, to; limit and page) among the events the caller may read', body: SEARCH_BODY } }, async (req) => {
    const p = principalOf(req);
    const found = await searchAttributes(store, { audience: audience(p), collectionIds: await readableCollectionIds(deps, p), filter: filterOf((req.body ?? {}) as Record<string, unknown>) });
    return { response: { Attribute: found.map((f) => ({ ...f.attribute, Event: { uuid: f.event.uuid, info: f.event.info } })) } };
  });

  // PyMISP search() with its default controller: the events (as events/view shows them) that
  // pass the filters, a list under `response` (PyMISP unwraps it).
  app.post('/events/restSearch', { schema: { summary: 'Search events (the restSearch filters; an event matches when one of its attributes does; limit and page count events)', body: SEARCH_BODY } }, async (req) => {
    const p = principalOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const filter = filterOf(body);
    return { response: await searchEvents(store, { audience: audience(p), collectionIds: await readableCollectionIds(deps, p), filter, metadata: flag('metadata', body.metadata) === true }) };
  });

  const sight = async (req: FastifyRequest) => {
    const p = principalOf(req);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const id = (req.params as { id?: string }).id ?? (typeof b.uuid === 'string' ? b.uuid : typeof b.id === 'string' ? b.id : undefined);
    const values = list(b.values) ?? list(b.value);
    if (!id && !values) throw new AppError('BAD_REQUEST', 'a sighting needs an attribute uuid (path, uuid or id) or a value');
    const type = Number(b.type ?? 0);
    if (![0, 1].includes(type)) throw new AppError('BAD_REQUEST', 'type must be 0 (sighting) or 1 (false positive); 2 (expiration) has no STIX form');
    const atS = b.timestamp === undefined ? Math.floor(clock.now() / 1000) : Number(b.timestamp);
    // Past 9999 a time has no ISO 8601 form: the sighting could not be written (it was a 500).
    if (!Number.isSafeInteger(atS) || atS < 0 || atS > MAX_SECONDS) throw new AppError('BAD_REQUEST', 'timestamp must be Unix seconds (before the year 10000)');
    const collectionIds = await readableCollectionIds(deps, p);
    const found = await searchAttributes(store, { audience: audience(p), collectionIds, filter: id ? { uuids: [id.toLowerCase()] } : { values: values! } });
    if (!found.length) throw new AppError('NOT_FOUND', 'no attribute to sight');
    const collectionId = await writeCollection(deps, p);
    const out = [];
    for (const f of found) {
      out.push(await addSighting(intel, { actor: { principal: p, source: req.ip }, audience: audience(p), collectionIds, collectionId, found: f, type, source: typeof b.source === 'string' ? b.source.slice(0, 1024) : '', atS }));
    }
    // One shape whatever the number of matches: MISP answers {"Sighting": {...}} and PyMISP's
    // MISPSighting.from_dict reads a dict there. The first sighting goes there, all in `Sightings`.
    return { Sighting: out[0], Sightings: out };
  };
  const sightBody = { type: 'object', properties: { uuid: { type: 'string', maxLength: 64 }, id: { type: 'string', maxLength: 64 }, value: STR_OR_LIST, values: STR_OR_LIST, type: { type: ['string', 'integer'] }, source: { type: 'string', maxLength: 1024 }, timestamp: { type: ['string', 'integer'] } } };
  app.post('/sightings/add', { schema: { summary: 'Add a sighting to an attribute (by uuid or value) the caller may read', body: sightBody } }, sight);
  app.post('/sightings/add/:id', { schema: { summary: 'Add a sighting to the attribute with this uuid', params: idParams, body: sightBody } }, sight);
}
