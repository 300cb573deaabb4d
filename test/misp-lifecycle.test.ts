/**
 * The PyMISP calls that answered 404 (pymisp/api.py at 99a1c797, read for the request shapes):
 * publish() → POST events/publish/<uuid> and delete_event() → POST events/delete/<uuid>, both
 * without a body under the session's JSON content type; DELETE events/<uuid>; add_event(metadata=True)
 * → POST events/add/metadata:1; get_event(deleted=True) → POST events/view/<uuid> {"deleted": …}.
 * Publishing turns the grouping into a report; deleting revokes the event's STIX objects; only
 * the creating organisation's analysts and admins may do either; both are audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, makeAlliance, type Alliance, type Answer } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;

/** As PyMISP's session sends it: the key raw, JSON content type even when there is no body. */
async function misp(user: string, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<Answer> {
  const res = await al.app.inject({
    method, url: `/api/misp${url}`,
    headers: { authorization: al.tokens[user]!, accept: 'application/json', 'content-type': 'application/json', ...(body === undefined ? { 'content-length': '0' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body, json: () => JSON.parse(res.body) };
}

const U = (n: number) => `7e7e${String(n).padStart(4, '0')}-7b48-40d5-86b4-c0070acd0835`;
const event = (n: number, extra: Record<string, unknown> = {}) => ({
  uuid: U(n), info: `event ${n}`, date: '2023-05-01', timestamp: '1700000000', published: false, Tag: [{ name: 'tlp:green' }],
  Attribute: [{ uuid: U(n + 1), type: 'domain', category: 'Network activity', value: `e${n}.lifecycle.example`, to_ids: true, timestamp: '1700000000' }],
  Object: [{ uuid: U(n + 2), name: 'domain-ip', 'meta-category': 'network', timestamp: '1700000000',
    Attribute: [{ uuid: U(n + 3), type: 'domain', object_relation: 'domain', category: 'Network activity', value: `o${n}.lifecycle.example`, to_ids: true },
      { uuid: U(n + 4), type: 'ip-dst', object_relation: 'ip', category: 'Network activity', value: '198.51.100.9', to_ids: true }] }],
  ...extra,
});

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
});
afterAll(async () => al.close());

const audited = async (action: string) => (await al.platform.store.listAudit({ limit: 200 })).filter((a) => a.action === action);

describe('events/add/metadata:1 and POST events/view', () => {
  it('add_event(metadata=True) answers the event without attributes and objects; get_event(deleted=True) answers the event', async () => {
    const r = await misp('a-analyst', 'POST', '/events/add/metadata:1', event(10));
    expect(r.status, r.body).toBe(200);
    expect(r.json().Event).toMatchObject({ uuid: U(10), info: 'event 10' });
    expect(r.json().Event).not.toHaveProperty('Attribute');
    expect(r.json().Event).not.toHaveProperty('Object');
    expect((await misp('a-analyst', 'POST', '/events/add/metadata:2', event(20))).status).toBe(404);
    for (const body of [{ deleted: [0, 1] }, { deleted: true }, { deleted: 1, extended: 1 }]) {
      const v = await misp('b-analyst', 'POST', `/events/view/${U(10)}`, body);
      expect(v.status, v.body).toBe(200);
      expect(v.json().Event.Attribute.map((a: { uuid: string }) => a.uuid)).toEqual([U(11)]);
    }
    expect((await misp('b-analyst', 'POST', `/events/view/${U(10)}`, { deleted: 'maybe' })).status).toBe(400);
    expect((await misp('b-analyst', 'POST', `/events/view/${U(99)}`, { deleted: 1 })).status).toBe(404);
  });
});

describe('publish', () => {
  it('publishes the creator\'s grouping as a report, found by published searches; others may not', async () => {
    expect((await misp('a-analyst', 'POST', '/events/add', event(30))).status).toBe(200);
    // Another organisation that reads the event, a role without intel.write, an unknown event.
    expect((await misp('b-analyst', 'POST', `/events/publish/${U(30)}`)).status).toBe(403);
    expect((await misp('a-responder', 'POST', `/events/publish/${U(30)}`)).status).toBe(403);
    expect((await misp('a-analyst', 'POST', `/events/publish/${U(99)}`)).status).toBe(404);
    expect((await misp('b-analyst', 'GET', `/events/view/${U(30)}`)).json().Event.published).toBe(false);

    const p = await misp('a-analyst', 'POST', `/events/publish/${U(30)}`);
    expect(p.status, p.body).toBe(200);
    expect(p.json()).toMatchObject({ saved: true, success: true, id: U(30), stix_id: `report--${U(30)}` });
    const nowS = String(Math.floor(al.clock.now() / 1000));
    const v = (await misp('b-analyst', 'GET', `/events/view/${U(30)}`)).json().Event;
    expect(v).toMatchObject({ published: true, publish_timestamp: nowS, timestamp: nowS, date: '2023-05-01' });
    expect(v.Attribute.map((a: { uuid: string }) => a.uuid)).toEqual([U(31)]);
    expect(v.Object.map((o: { uuid: string }) => o.uuid)).toEqual([U(32)]);
    const found = await misp('b-analyst', 'POST', '/events/restSearch', { published: 1, eventid: U(30) });
    expect(found.json().response.map((e: { Event: { uuid: string } }) => e.Event.uuid)).toEqual([U(30)]);
    expect((await audited('misp.publish')).map((a) => a.target)).toContain(`report--${U(30)}`);
    // Publishing a published event changes nothing.
    const again = await misp('a-analyst', 'POST', `/events/publish/${U(30)}`);
    expect(again.status).toBe(200);
    expect(again.json().message).toMatch(/already/);
    // The published event exports and re-imports as it is (no new version, nothing refused).
    const back = await misp('a-analyst', 'POST', '/events/add', { Event: v });
    expect(back.status, back.body).toBe(200);
  });
});

describe('delete', () => {
  it('revokes the event\'s report/grouping and objects (revoked is final); only the creator deletes', async () => {
    expect((await misp('a-analyst', 'POST', '/events/add', event(40))).status).toBe(200);
    expect((await misp('a-analyst', 'POST', `/events/publish/${U(40)}`)).status).toBe(200);
    expect((await misp('c-analyst', 'POST', `/events/delete/${U(40)}`)).status).toBe(403);
    expect((await misp('a-responder', 'POST', `/events/delete/${U(40)}`)).status).toBe(403);

    const d = await misp('a-analyst', 'POST', `/events/delete/${U(40)}`);
    expect(d.status, d.body).toBe(200);
    expect(d.json()).toMatchObject({ saved: true, success: true, id: U(40), message: 'Event deleted.' });
    for (const user of ['a-analyst', 'b-analyst']) expect((await misp(user, 'GET', `/events/view/${U(40)}`)).status).toBe(404);
    expect((await misp('b-analyst', 'POST', '/attributes/restSearch', { value: 'e40.lifecycle.example' })).json().response.Attribute).toEqual([]);
    // Not hard-deleted: the indicators' last versions are revoked ones, the same content otherwise.
    for (const id of [`indicator--${U(41)}`, `observed-data--${U(41)}`, `indicator--${U(42)}`, `observed-data--${U(42)}`, `report--${U(40)}`, `grouping--${U(40)}`]) {
      const o = await h.get('b-analyst', `/api/v1/intel/${id}`);
      expect(o.status, `${id}: ${o.body}`).toBe(200);
      expect(o.json().object.revoked, id).toBe(true);
    }
    expect((await audited('misp.delete')).map((a) => a.target)).toContain(`event:${U(40)}`);
    // Revoked is final: the uuid takes no new version (as MISP blocklists a deleted event's uuid).
    expect((await misp('a-analyst', 'POST', '/events/add', event(40, { timestamp: '1800000000' }))).status).toBe(400);
    expect((await misp('a-analyst', 'POST', `/events/delete/${U(40)}`)).status).toBe(404);
  });

  it('DELETE events/<uuid> deletes too', async () => {
    expect((await misp('a-analyst', 'POST', '/events/add', event(50))).status).toBe(200);
    expect((await misp('b-analyst', 'DELETE', `/events/${U(50)}`)).status).toBe(403);
    const d = await misp('a-analyst', 'DELETE', `/events/${U(50)}`);
    expect(d.status, d.body).toBe(200);
    expect((await misp('a-analyst', 'GET', `/events/${U(50)}`)).status).toBe(404);
  });
});
