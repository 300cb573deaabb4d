/**
 * The MISP REST subset as PyMISP 2.5 really calls it (pymisp/api.py at 99a1c797, read for the
 * request shapes): search() always sends its output options as 0 and uses events/restSearch by
 * default; time filters come as seconds (floats for datetimes), "7d" or [from, to]; an event
 * goes from unpublished to published; a search finds the newest events, not the oldest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, makeAlliance, submitAs, type Alliance, type Answer } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const misp = (user: string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Answer> =>
  h.call(method, `/api/misp${url}`, { headers: { authorization: al.tokens[user]!, accept: 'application/json' }, ...(body !== undefined ? { body } : {}) });

/** What PyMISP.search() posts besides the caller's filters (None values are dropped, _make_misp_bool(None) is 0). */
const PYMISP_SEARCH = {
  returnFormat: 'json', withAttachments: 0, metadata: 0, enforceWarninglist: 0, includeEventUuid: 0, includeEventTags: 0, sgReferenceOnly: 0,
  includeContext: 0, headerless: 0, includeSightings: 0, includeDecayScore: 0, includeCorrelations: 0, excludeDecayed: 0,
};

const U = (n: number) => `9a9a${String(n).padStart(4, '0')}-7b48-40d5-86b4-c0070acd0835`;
const attr = (n: number, value: string, extra: Record<string, unknown> = {}) => ({ uuid: U(n), type: 'domain', category: 'Network activity', value, to_ids: true, timestamp: '1700000000', ...extra });

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  const events = [
    { uuid: U(101), info: 'old published', date: '2023-01-10', timestamp: '1700000000', published: true, publish_timestamp: '1700000000', Orgc: { name: 'Alpha CERT', uuid: al.orgs.A.slice(10) }, Attribute: [attr(1, 'old.pymisp.example')] },
    { uuid: U(102), info: 'new published', date: '2023-06-10', timestamp: '1700100000', published: true, publish_timestamp: '1700100000', Tag: [{ name: 'kind:c2' }], Attribute: [attr(2, 'new.pymisp.example', { timestamp: '1700100000' })] },
    { uuid: U(103), info: 'draft', date: '2023-07-01', timestamp: '1700200000', published: false, Attribute: [attr(3, 'draft.pymisp.example', { timestamp: '1700200000' })] },
  ];
  for (const e of events) expect((await misp('a-analyst', 'POST', '/events/add', { Event: { Tag: [{ name: 'tlp:green' }], ...e } })).status).toBe(200);
});
afterAll(async () => al.close());

const attrUuids = (r: Answer) => (r.json().response.Attribute as { uuid: string }[]).map((a) => a.uuid).sort();
const eventUuids = (r: Answer) => (r.json().response as { Event: { uuid: string } }[]).map((e) => e.Event.uuid).sort();

describe('restSearch as PyMISP sends it', () => {
  it('attributes: search(controller="attributes", value=…, type_attribute=…) answers (its 0-valued options were refused with 400)', async () => {
    const r = await misp('b-analyst', 'POST', '/attributes/restSearch', { ...PYMISP_SEARCH, value: 'new.pymisp.example', type: 'domain' });
    expect(r.status, r.body).toBe(200);
    expect(attrUuids(r)).toEqual([U(2)]);
    // includeEventTags=1 puts the event's tags on each attribute.
    const tagged = await misp('b-analyst', 'POST', '/attributes/restSearch', { ...PYMISP_SEARCH, includeEventTags: 1, value: 'new.pymisp.example' });
    expect(tagged.json().response.Attribute[0].Tag.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['kind:c2', 'tlp:green']));
    // A filter this node lacks is refused when asked for (ignoring it would widen the result).
    for (const k of ['enforceWarninglist', 'excludeDecayed']) expect((await misp('b-analyst', 'POST', '/attributes/restSearch', { ...PYMISP_SEARCH, [k]: 1 })).status).toBe(400);
  });

  it('events: search() with its default controller answers a list of events; metadata leaves attributes out', async () => {
    const all = await misp('b-analyst', 'POST', '/events/restSearch', PYMISP_SEARCH);
    expect(all.status, all.body).toBe(200);
    expect(eventUuids(all)).toEqual([U(101), U(102), U(103)]);
    const one = await misp('b-analyst', 'POST', '/events/restSearch', { ...PYMISP_SEARCH, value: 'draft.pymisp.example' });
    expect(eventUuids(one)).toEqual([U(103)]);
    expect(one.json().response[0].Event.Attribute.map((a: { value: string }) => a.value)).toEqual(['draft.pymisp.example']);
    const meta = await misp('b-analyst', 'POST', '/events/restSearch', { ...PYMISP_SEARCH, metadata: 1, eventid: U(102) });
    expect(meta.json().response).toHaveLength(1);
    expect(meta.json().response[0].Event).not.toHaveProperty('Attribute');
    // limit and page count events, newest first.
    const p1 = await misp('b-analyst', 'POST', '/events/restSearch', { ...PYMISP_SEARCH, limit: 2, page: 1 });
    const p2 = await misp('b-analyst', 'POST', '/events/restSearch', { ...PYMISP_SEARCH, limit: 2, page: 2 });
    expect([...eventUuids(p1), ...eventUuids(p2)].sort()).toEqual([U(101), U(102), U(103)]);
    expect(eventUuids(p1)).toEqual([U(102), U(103)]);
  });

  it('events/restSearch answers only what the release policy gives the reader (an AMBER event for C alone is absent for B)', async () => {
    const ev = { uuid: U(105), info: 'for Charlie', timestamp: '1700000000', distribution: 4, Tag: [{ name: 'tlp:amber' }],
      SharingGroup: { name: 'only C', SharingGroupOrg: [{ Organisation: { name: 'Charlie CERT', uuid: al.orgs.C.slice(10) } }] }, Attribute: [attr(5, 'amber.pymisp.example')] };
    expect((await misp('a-analyst', 'POST', '/events/add', ev)).status).toBe(200);
    for (const body of [{}, { eventid: U(105) }, { value: 'amber.pymisp.example' }, { org: 'Alpha CERT' }]) {
      expect(eventUuids(await misp('b-analyst', 'POST', '/events/restSearch', { ...PYMISP_SEARCH, ...body })), JSON.stringify(body)).not.toContain(U(105));
      expect(eventUuids(await misp('c-analyst', 'POST', '/events/restSearch', { ...PYMISP_SEARCH, ...body })), JSON.stringify(body)).toContain(U(105));
    }
  });

  it('time, date and creator filters: publish_timestamp (and last), timestamp, event_timestamp, from/to, org', async () => {
    const s = async (body: Record<string, unknown>) => {
      const r = await misp('b-analyst', 'POST', '/attributes/restSearch', { ...PYMISP_SEARCH, ...body });
      expect(r.status, r.body).toBe(200);
      return attrUuids(r);
    };
    // PyMISP sends a datetime as a float; unpublished events have no publish_timestamp.
    expect(await s({ publish_timestamp: 1700050000.5 })).toEqual([U(2)]);
    expect(await s({ publish_timestamp: [1699990000, 1700010000] })).toEqual([U(1)]);
    expect(await s({ timestamp: '1700100000' })).toEqual([U(2), U(3)]);
    expect(await s({ event_timestamp: [null, 1700100000] })).toEqual([U(1), U(2)]);
    expect(await s({ from: '2023-06-01', to: '2023-06-30' })).toEqual([U(2)]);
    // The creator: named in Orgc, or the organisation that posted an event without one.
    expect(await s({ org: 'alpha cert' })).toEqual([U(1), U(2), U(3)]);
    expect(await s({ org: ['Bravo CERT', 'nobody'] })).toEqual([]);
    // Relative times: the test clock is 2026, so 7d is nothing of 2023, 5000d is everything published.
    expect(await s({ publish_timestamp: '7d' })).toEqual([]);
    expect(await s({ publish_timestamp: '5000d' })).toEqual([U(1), U(2)]);
    const last = await misp('b-analyst', 'POST', '/attributes/restSearch', { last: '5000d' });
    expect(attrUuids(last)).toEqual([U(1), U(2)]);
  });

  it('a search finds the newest events, however many older ones the node holds (it scanned the oldest)', async () => {
    const A = al.orgs.A;
    const at = '2020-01-01T00:00:00.000Z';
    const identity = { type: 'identity', spec_version: '2.1', id: A, created: at, modified: at, name: 'Alpha CERT', identity_class: 'organization' };
    const groupings = Array.from({ length: 1100 }, (_, i) => ({
      type: 'grouping', spec_version: '2.1', id: `grouping--0f0f${String(i).padStart(4, '0')}-7b48-40d5-86b4-c0070acd0835`, created_by_ref: A, created: at, modified: at,
      name: `filler ${i}`, context: 'suspicious-activity', object_refs: [A],
    }));
    await submitAs(al, 'a-analyst', al.shared, { objects: [identity, ...groupings].slice(1), defaultTlp: 'green' });
    const fresh = { uuid: U(104), info: 'after the filler', timestamp: '1700300000', Tag: [{ name: 'tlp:green' }], Attribute: [attr(4, 'fresh.pymisp.example', { timestamp: '1700300000' })] };
    expect((await misp('a-analyst', 'POST', '/events/add', fresh)).status).toBe(200);
    expect(attrUuids(await misp('b-analyst', 'POST', '/attributes/restSearch', { value: 'fresh.pymisp.example' }))).toEqual([U(4)]);
  });
});

describe('publishing and sightings', () => {
  it('an event published since its import, then edited (MISP unpublishes it), is one event in its newest state on events/view and restSearch', async () => {
    const ev = { uuid: U(201), info: 'to publish', timestamp: '1700000000', published: false, Tag: [{ name: 'tlp:green' }], Attribute: [attr(21, 'flip.pymisp.example')] };
    expect((await misp('a-analyst', 'POST', '/events/add', ev)).status).toBe(200);
    const pub = await misp('a-analyst', 'POST', '/events/add', { ...ev, timestamp: '1700000100', published: true, publish_timestamp: '1700000100' });
    expect(pub.status, pub.body).toBe(200);
    expect(pub.json().Event).toMatchObject({ published: true, publish_timestamp: '1700000100', timestamp: '1700000100' });
    expect((await misp('b-analyst', 'GET', `/events/view/${U(201)}`)).json().Event.published).toBe(true);
    expect(attrUuids(await misp('b-analyst', 'POST', '/attributes/restSearch', { value: 'flip.pymisp.example' }))).toEqual([U(21)]);
    expect(eventUuids(await misp('b-analyst', 'POST', '/events/restSearch', { eventid: U(201) }))).toEqual([U(201)]);
    // Edited in MISP, hence unpublished: the grouping again (a new version of it), still one event.
    const unpub = await misp('a-analyst', 'POST', '/events/add', { ...ev, timestamp: '1700000200', published: false });
    expect(unpub.json().Event).toMatchObject({ published: false, timestamp: '1700000200' });
    expect(eventUuids(await misp('b-analyst', 'POST', '/events/restSearch', { eventid: U(201) }))).toEqual([U(201)]);
  });

  it('an event PyMISP publishes before any server saw it (published, no publish_timestamp) is published; threat level and analysis are kept or refused', async () => {
    const ev = { uuid: U(301), info: 'published by PyMISP', date: '2023-02-03', threat_level_id: 1, analysis: 2, published: true, Tag: [{ name: 'tlp:green' }], Attribute: [attr(31, 'pub.pymisp.example')] };
    const r = await misp('a-analyst', 'POST', '/events/add', ev);
    expect(r.status, r.body).toBe(200);
    expect(r.json().Event).toMatchObject({ published: true, date: '2023-02-03', threat_level_id: '1', analysis: '2' });
    expect(r.json().Event.publish_timestamp).toBe(r.json().Event.timestamp);
    // What events/add answers posts back unchanged (PyMISP: add, then update without edits), with or without a date of its own.
    expect((await misp('a-analyst', 'POST', '/events/add', r.json())).status).toBe(200);
    const { date: _d, threat_level_id: _t, analysis: _a, ...plain } = { ...ev, uuid: U(303) };
    const p = await misp('a-analyst', 'POST', '/events/add', plain);
    expect(p.json().Event).toMatchObject({ threat_level_id: '4', analysis: '0' });
    const again = await misp('a-analyst', 'POST', '/events/add', p.json());
    expect(again.status, again.body).toBe(200);
    for (const bad of [{ threat_level_id: 9 }, { analysis: 3 }, { date: 'yesterday' }]) {
      const b = await misp('a-analyst', 'POST', '/events/add', { ...ev, uuid: U(302), ...bad });
      expect(b.status, JSON.stringify(bad)).toBe(400);
      expect(b.json().message).toContain(Object.keys(bad)[0]);
    }
  });

  it('a sighting timestamp past the year 9999 is a 400, not a 500', async () => {
    const r = await misp('a-analyst', 'POST', '/sightings/add', { value: 'new.pymisp.example', timestamp: 9e15 });
    expect(r.status, r.body).toBe(400);
    expect(r.json().message).toMatch(/timestamp/);
  });
});
