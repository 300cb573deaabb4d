/**
 * The MISP REST subset as PyMISP calls it (raw key in Authorization), under the release
 * policy: wrong token 401, missing permission 403, malformed JSON 400 (MISP-shaped errors),
 * an AMBER event for a sharing group is readable and searchable by its recipient only, and
 * the REST import endpoint recognises MISP JSON.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, makeAlliance, type Alliance, type Answer } from './rest-fixtures.js';
import { sharedPath } from './helpers/shared.js';

const URSNIF = JSON.parse(readFileSync(sharedPath('data/misp/event-ursnif-with-sightings.json'), 'utf8')) as { Event: Record<string, unknown> & { Attribute: { value: string; uuid: string; type: string }[] } };
const EVENT_UUID = '5b646415-7b48-40d5-86b4-c0070acd0835';

let al: Alliance;
let h: ReturnType<typeof http>;
/** As PyMISP sends it: the key itself in Authorization, JSON both ways. */
const misp = (user: string | null, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Answer> => {
  const raw = body instanceof RawBody ? body.text : undefined;
  return h.call(method, `/api/misp${url}`, {
    headers: { ...(user ? { authorization: al.tokens[user] ?? user } : {}), accept: 'application/json' },
    ...(raw !== undefined ? { raw } : body !== undefined ? { body } : {}),
  });
};
class RawBody {
  constructor(readonly text: string) {}
}

function mispError(a: Answer, status: number): void {
  expect(a.status, a.body).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof a.json().message).toBe('string');
  expect(typeof a.json().name).toBe('string');
}

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
});
afterAll(async () => al.close());

describe('MISP REST subset (PyMISP)', () => {
  it('answers the calls PyMISP makes on init', async () => {
    const v = await misp('a-analyst', 'GET', '/servers/getVersion');
    expect(v.status).toBe(200);
    expect(v.json().version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(v.json().pymisp_recommended_version).toMatch(/^\d+\.\d+\.\d+$/);
    const me = await misp('a-analyst', 'GET', '/users/view/me');
    expect(me.status).toBe(200);
    expect(Object.keys(me.json())).toEqual(expect.arrayContaining(['User', 'Role', 'UserSetting', 'Organisation']));
    expect(me.json().Organisation.id).toBe(al.orgs.A);
    // X-MISP-AUTH works as well, and Bearer.
    expect((await h.call('GET', '/api/misp/servers/getVersion', { headers: { 'x-misp-auth': al.tokens['a-analyst']! } })).status).toBe(200);
    expect((await h.call('GET', '/api/misp/servers/getVersion', { token: al.tokens['a-analyst']! })).status).toBe(200);
  });

  it('refuses a wrong or missing token (401), a role without intel.write (403), malformed JSON and non-events (400)', async () => {
    mispError(await misp('sw_not-a-real-token', 'GET', '/users/view/me'), 401);
    mispError(await misp(null, 'POST', '/attributes/restSearch', {}), 401);
    mispError(await misp('a-responder', 'POST', '/events/add', URSNIF.Event), 403);
    mispError(await misp('a-analyst', 'POST', '/events/add', new RawBody('{"Event": {')), 400);
    mispError(await misp('a-analyst', 'POST', '/events/add', { hello: 'world' }), 400);
    mispError(await misp('a-analyst', 'POST', '/events/add', { Event: { uuid: 'nope', info: 'x' } }), 400);
    mispError(await misp('a-analyst', 'POST', '/attributes/restSearch', { last: 'forever' }), 400);
    mispError(await misp('a-analyst', 'GET', '/events/view/42'), 404);
  });

  it('adds an AMBER sharing-group event; only the recipient reads, finds and sights it', async () => {
    const ev = structuredClone(URSNIF.Event);
    Object.assign(ev, {
      distribution: '4', Tag: [{ name: 'tlp:amber' }],
      SharingGroup: { name: 'Ursnif SG', SharingGroupOrg: [{ Organisation: { name: 'Bravo CERT', uuid: al.orgs.B.slice('identity--'.length) } }] },
    });
    // PyMISP posts the unwrapped event dict.
    const add = await misp('a-analyst', 'POST', '/events/add', ev);
    expect(add.status, add.body).toBe(200);
    expect(add.json().Event.uuid).toBe(EVENT_UUID);
    expect(add.json().Event.Attribute).toHaveLength(URSNIF.Event.Attribute.length);

    const asB = await misp('b-analyst', 'GET', `/events/view/${EVENT_UUID}`);
    expect(asB.status).toBe(200);
    expect(asB.json().Event.Attribute).toHaveLength(URSNIF.Event.Attribute.length);
    mispError(await misp('c-analyst', 'GET', `/events/view/${EVENT_UUID}`), 404);
    mispError(await misp('c-analyst', 'GET', `/events/${EVENT_UUID}`), 404);

    const domain = URSNIF.Event.Attribute.find((a) => a.type === 'domain')!;
    const search = (user: string, body: unknown) => misp(user, 'POST', '/attributes/restSearch', body);
    const found = await search('b-analyst', { value: domain.value, returnFormat: 'json' });
    expect(found.status).toBe(200);
    expect(found.json().response.Attribute.map((a: { uuid: string }) => a.uuid)).toEqual([domain.uuid]);
    expect((await search('b-analyst', { type: 'domain' })).json().response.Attribute).toHaveLength(URSNIF.Event.Attribute.filter((a) => a.type === 'domain').length);
    expect((await search('b-analyst', { tags: ['misp-galaxy:banker="Gozi"'] })).json().response.Attribute.length).toBe(URSNIF.Event.Attribute.length);
    expect((await search('b-analyst', { tags: 'no-such-tag' })).json().response.Attribute).toEqual([]);
    // Cross-organisation: a non-recipient finds nothing, by value, type or uuid.
    for (const body of [{ value: domain.value }, { type: 'domain' }, { uuid: domain.uuid }, {}]) {
      const r = await search('c-analyst', body);
      expect(r.status).toBe(200);
      expect(r.json().response.Attribute).toEqual([]);
    }

    const s = await misp('b-analyst', 'POST', '/sightings/add', { value: domain.value, source: 'B SIEM', type: '0' });
    expect(s.status, s.body).toBe(200);
    expect(s.json().Sighting.attribute_uuid).toBe(domain.uuid);
    const sightingId = String(s.json().Sighting.stix_id);
    const read = async (user: string) => al.platform.store.queryObjects({ collectionIds: [al.shared, al.privateA], audience: al.platform.access.audienceOf(al.principals[user]!), purpose: 'read', ids: [sightingId], limit: 5 });
    expect((await read('a-analyst')).rows).toHaveLength(1);
    expect((await read('b-analyst')).rows).toHaveLength(1);
    expect((await read('c-analyst')).rows).toHaveLength(0);
    expect(s.json().Sightings).toEqual([s.json().Sighting]);
    // A value in two events: still one Sighting object (PyMISP reads a dict), every sighting in Sightings.
    const twice = await misp('b-analyst', 'POST', '/sightings/add', { values: [domain.value, URSNIF.Event.Attribute.find((a) => a.type !== 'domain')!.value] });
    expect(twice.status, twice.body).toBe(200);
    expect(Array.isArray(twice.json().Sighting)).toBe(false);
    expect(twice.json().Sighting.attribute_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(twice.json().Sightings.length).toBeGreaterThan(1);
    mispError(await misp('c-analyst', 'POST', '/sightings/add', { value: domain.value }), 404);
    mispError(await misp('c-analyst', 'POST', `/sightings/add/${domain.uuid}`, {}), 404);
    mispError(await misp('b-analyst', 'POST', '/sightings/add', { value: domain.value, type: '2' }), 400);
  });

  it('restSearch implements to_ids, category, eventid, published, paging and tag logic, and refuses what it does not know', async () => {
    const attr = (n: number, extra: Record<string, unknown>) => ({ uuid: `0000000${n}-7b48-40d5-86b4-c0070acd0835`, type: 'domain', category: 'Network activity', value: `s${n}.search.example`, timestamp: '1796621000', ...extra });
    const pubUuid = '5e5e0001-7b48-40d5-86b4-c0070acd0835';
    const draftUuid = '5e5e0002-7b48-40d5-86b4-c0070acd0835';
    const pub = await misp('a-analyst', 'POST', '/events/add', { Event: {
      uuid: pubUuid, info: 'search published', timestamp: '1796621000', published: true, publish_timestamp: '1796621000', Tag: [{ name: 'tlp:green' }],
      Attribute: [
        attr(1, { to_ids: true, Tag: [{ name: 'kind:c2' }] }),
        attr(2, { to_ids: false, category: 'External analysis', Tag: [{ name: 'kind:report' }] }),
        attr(3, { to_ids: true, Tag: [{ name: 'kind:c2' }, { name: 'noise:herring' }] }),
        attr(4, { to_ids: false }),
        attr(5, { to_ids: true, category: 'External analysis' }),
      ],
    } });
    expect(pub.status, pub.body).toBe(200);
    const draft = await misp('a-analyst', 'POST', '/events/add', { Event: {
      uuid: draftUuid, info: 'search draft', timestamp: '1796621000', Tag: [{ name: 'tlp:green' }], Attribute: [attr(6, { to_ids: true })],
    } });
    expect(draft.status, draft.body).toBe(200);
    const uuids = async (body: Record<string, unknown>) => {
      const r = await misp('b-analyst', 'POST', '/attributes/restSearch', body);
      expect(r.status, r.body).toBe(200);
      return (r.json().response.Attribute as { uuid: string }[]).map((a) => a.uuid.slice(0, 8)).sort();
    };
    const ev = { eventid: pubUuid };
    expect(await uuids(ev)).toEqual(['00000001', '00000002', '00000003', '00000004', '00000005']);
    expect(await uuids({ eventid: `grouping--${draftUuid}` })).toEqual(['00000006']);
    expect(await uuids({ ...ev, to_ids: 0 })).toEqual(['00000002', '00000004']);
    expect(await uuids({ ...ev, to_ids: true })).toEqual(['00000001', '00000003', '00000005']);
    expect(await uuids({ ...ev, category: 'External analysis' })).toEqual(['00000002', '00000005']);
    expect(await uuids({ value: ['s1.search.example', 's6.search.example'], published: true })).toEqual(['00000001']);
    expect(await uuids({ value: ['s1.search.example', 's6.search.example'], published: 0 })).toEqual(['00000006']);
    // PyMISP's complex query, and the "!" prefix.
    expect(await uuids({ ...ev, tags: { OR: ['kind:c2', 'kind:report'], NOT: ['noise:herring'] } })).toEqual(['00000001', '00000002']);
    expect(await uuids({ ...ev, tags: { AND: ['kind:c2', 'noise:herring'] } })).toEqual(['00000003']);
    expect(await uuids({ ...ev, tags: ['!kind:c2'] })).toEqual(['00000002', '00000004', '00000005']);
    // Pages are disjoint and cover the result; past the end is empty (a paging client stops).
    const pages = [await uuids({ ...ev, limit: 2, page: 1 }), await uuids({ ...ev, limit: 2, page: 2 }), await uuids({ ...ev, limit: 2, page: 3 })];
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual(await uuids(ev));
    expect(await uuids({ ...ev, limit: 2, page: 4 })).toEqual([]);
    // Unknown parameters never widen a result: they are refused, naming the parameter.
    for (const [body, name] of [[{ ...ev, requested_attributes: ['value'] }, 'requested_attributes'], [{ ...ev, enforceWarninglist: 1 }, 'enforceWarninglist'], [{ timestamp: 'yesterday' }, 'timestamp'], [{ eventid: '42' }, 'eventid'], [{ to_ids: 'maybe' }, 'to_ids'], [{ page: 2 }, 'page'], [{ tags: { XOR: ['a'] } }, 'tags']] as const) {
      const r = await misp('b-analyst', 'POST', '/attributes/restSearch', body);
      mispError(r, 400);
      expect(r.json().message, JSON.stringify(body)).toContain(name);
    }
  });

  it('events/add: reports every skipped attribute, fills a missing category and timestamp, refuses bad levels and types', async () => {
    const uuid = '7a7a0001-7b48-40d5-86b4-c0070acd0835';
    const a = (n: number, extra: Record<string, unknown>) => ({ uuid: `7a7a000${n}-aaaa-40d5-86b4-c0070acd0835`, type: 'domain', value: `k${n}.keep.example`, ...extra });
    // As PyMISP's MISPEvent sends a new event: no timestamp, no category on the attributes.
    const event = { uuid, info: 'pymisp style', date: '2016-08-29', Tag: [{ name: 'tlp:green' }], Attribute: [
      a(1, {}), a(2, { type: 'ip-dst', value: 'not an ip' }), a(3, { deleted: true }), a(4, { type: 'mutex', value: 'Global\\x' }),
    ] };
    const now = Math.floor(al.clock.now() / 1000);
    const r = await misp('a-analyst', 'POST', '/events/add', event);
    expect(r.status, r.body).toBe(200);
    const got = r.json();
    expect(got.Event.timestamp).toBe(String(now));
    expect(got.Event.Attribute.map((x: { uuid: string; category: string; timestamp: string }) => [x.uuid.slice(0, 8), x.category, x.timestamp]).sort())
      .toEqual([['7a7a0001', 'Network activity', String(now)], ['7a7a0004', 'Artifacts dropped', String(now)]]);
    expect(got.skipped.map((x: { uuid: string; reason: string }) => [x.uuid.slice(0, 8), x.reason]).sort()).toEqual([
      ['7a7a0002', expect.stringMatching(/not an IP/)], ['7a7a0003', expect.stringMatching(/deleted/)],
    ]);
    // The same event, changed and posted again later without a timestamp: a new version, not a refusal.
    al.clock.advance(60_000);
    const again = await misp('a-analyst', 'POST', '/events/add', { ...event, info: 'pymisp style, edited' });
    expect(again.status, again.body).toBe(200);
    expect(again.json().Event.info).toBe('pymisp style, edited');
    expect(Number(again.json().Event.timestamp)).toBe(now + 60);
    // Invalid levels and types are a 400 naming the field, never accepted or a 500.
    for (const [bad, field] of [[{ distribution: 9 }, 'distribution'], [{ distribution: '5' }, 'distribution'], [{ info: 123 }, 'info'],
      [{ timestamp: '99999999999999' }, 'timestamp'], [{ Attribute: [a(5, { distribution: '7' })] }, 'distribution']] as const) {
      const e = await misp('a-analyst', 'POST', '/events/add', { ...event, uuid: '7a7a0099-7b48-40d5-86b4-c0070acd0835', ...bad });
      mispError(e, 400);
      expect(e.json().message, JSON.stringify(bad)).toContain(field);
    }
  });

  it('refuses an event whose creator borrows the name of an organisation of the alliance under another uuid', async () => {
    const event = { uuid: '7a7b0001-7b48-40d5-86b4-c0070acd0835', info: 'spoofed creator', timestamp: '1796621000', Tag: [{ name: 'tlp:green' }],
      Orgc: { uuid: 'aaaaaaaa-2222-4333-8444-55555555555b', name: '  bravo  cert ' },
      Attribute: [{ uuid: '7a7b0002-7b48-40d5-86b4-c0070acd0835', type: 'domain', category: 'Network activity', value: 'spoof.example' }] };
    const r = await misp('a-analyst', 'POST', '/events/add', event);
    mispError(r, 400);
    expect(r.json().message).toMatch(/Orgc ".*" is the name of B, an organisation of this alliance/);
    expect((await misp('c-analyst', 'GET', `/events/view/${event.uuid}`)).status).toBe(404);
    // Its own name under its own uuid (a third party), or no uuid at all (the submitter's), are fine.
    const own = await misp('a-analyst', 'POST', '/events/add', { ...event, Orgc: { uuid: 'aaaaaaaa-2222-4333-8444-55555555555b', name: 'Delta Research' } });
    expect(own.status, own.body).toBe(200);
    expect(own.json().Event.Orgc.name).toBe('Delta Research');
  });

  it('events/add of an updated event with a soft-deleted attribute revokes its STIX objects on REST and TAXII; restSearch and the view drop it', async () => {
    const uuid = '7b7b0001-7b48-40d5-86b4-c0070acd0835';
    const gone = '7b7b0002-7b48-40d5-86b4-c0070acd0835';
    const kept = '7b7b0003-7b48-40d5-86b4-c0070acd0835';
    const attr = (id: string, value: string, extra: Record<string, unknown> = {}) => ({ uuid: id, type: 'domain', category: 'Network activity', value, to_ids: true, timestamp: '1700000000', ...extra });
    const event = { uuid, info: 'update', timestamp: '1700000000', Tag: [{ name: 'tlp:green' }], Attribute: [attr(gone, 'gone.revoke.example'), attr(kept, 'kept.revoke.example')] };
    expect((await misp('a-analyst', 'POST', '/events/add', event)).status).toBe(200);
    const update = { ...event, timestamp: '1700000100', Attribute: [attr(gone, 'gone.revoke.example', { deleted: true, timestamp: '1700000100' }), attr(kept, 'kept.revoke.example')] };
    const r = await misp('a-analyst', 'POST', '/events/add', update);
    expect(r.status, r.body).toBe(200);
    expect(r.json().Event.Attribute.map((a: { uuid: string }) => a.uuid)).toEqual([kept]);
    expect(r.json().skipped).toEqual([{ uuid: gone, type: 'domain', reason: expect.stringMatching(/deleted in MISP.*revoked indicator--/) }]);
    const rest = await h.call('GET', `/api/v1/intel/indicator--${gone}`, { token: al.tokens['b-analyst']! });
    expect(rest.status, rest.body).toBe(200);
    expect(rest.body).toMatch(/"revoked":\s*true/);
    expect(rest.body).toContain('2023-11-14T22:15:00.000Z');
    const taxii = await h.call('GET', `/${al.platform.config.apiRoots[0]!.name}/collections/${al.shared}/objects/?match[id]=indicator--${gone},indicator--${kept}`, {
      token: al.tokens['b-analyst']!, headers: { accept: 'application/taxii+json;version=2.1' },
    });
    expect(taxii.status, taxii.body).toBe(200);
    const byId = new Map((taxii.json().objects as { id: string; revoked?: boolean; modified: string }[]).map((o) => [o.id, o]));
    expect(byId.get(`indicator--${gone}`)).toMatchObject({ revoked: true, modified: '2023-11-14T22:15:00.000Z' });
    expect(byId.get(`indicator--${kept}`)?.revoked).toBeUndefined();
    const search = await misp('b-analyst', 'POST', '/attributes/restSearch', { uuid: [gone, kept] });
    expect(search.json().response.Attribute.map((a: { uuid: string }) => a.uuid)).toEqual([kept]);
  });

  it('events/edit (PyMISP update_event): an edited attribute is a new version, the rest duplicates; another event, or one the caller cannot read, is refused', async () => {
    const uuid = '7c7c0001-7b48-40d5-86b4-c0070acd0835';
    const attr = (n: number, value: string) => ({ uuid: `7c7c000${n}-7b48-40d5-86b4-c0070acd0835`, type: 'domain', category: 'Network activity', value, to_ids: true, timestamp: '1700000000' });
    const event = { uuid, info: 'to edit', timestamp: '1700000000', Tag: [{ name: 'tlp:green' }], Attribute: [attr(2, 'edit.before.example'), attr(3, 'kept.edit.example')] };
    expect((await misp('a-analyst', 'POST', '/events/add', event)).status).toBe(200);
    const indicator = async (n: number) => (await h.call('GET', `/api/v1/intel/indicator--7c7c000${n}-7b48-40d5-86b4-c0070acd0835`, { token: al.tokens['b-analyst']! })).json();
    const first = await indicator(2);
    // As PyMISP sends an edit: the event and the edited attribute without their timestamps.
    al.clock.advance(60_000);
    const { timestamp: _e, ...edited } = { ...event, info: 'edited' };
    const { timestamp: _a, ...changed } = { ...attr(2, 'edit.after.example') };
    const r = await misp('a-analyst', 'POST', `/events/edit/${uuid}`, { Event: { ...edited, Attribute: [changed, attr(3, 'kept.edit.example')] } });
    expect(r.status, r.body).toBe(200);
    expect(r.json().Event.info).toBe('edited');
    const after = await indicator(2);
    expect(after.versions.map((v: { object: unknown }) => v.object)).toEqual([first.object, after.object]);
    expect(after.object.pattern).toContain('edit.after.example');
    expect((await indicator(3)).versions).toHaveLength(1);
    // The path names the event: a body naming another one is a 400; an event the caller cannot read (or none) a 404; a role without intel.write a 403.
    mispError(await misp('a-analyst', 'POST', `/events/edit/${uuid}`, { ...event, uuid: '7c7c0099-7b48-40d5-86b4-c0070acd0835' }), 400);
    mispError(await misp('a-analyst', 'POST', '/events/edit/7c7c0098-7b48-40d5-86b4-c0070acd0835', event), 404);
    mispError(await misp('a-analyst', 'POST', '/events/edit/42', event), 404);
    mispError(await misp('a-responder', 'POST', `/events/edit/${uuid}`, event), 403);
  });

  it('the REST import endpoint recognises a MISP event', async () => {
    const doc = JSON.parse(readFileSync(sharedPath('data/misp/event-circl-xorist-ransomware.json'), 'utf8')) as unknown;
    const r = await h.call('POST', '/api/v1/intel/import?collection=alliance', { token: al.tokens['a-analyst']!, body: doc });
    expect(r.status, r.body).toBe(200);
    expect(r.json().added).toBeGreaterThan(0);
    expect(r.json().rejected).toBe(0);
    const again = await h.call('POST', '/api/v1/intel/import?collection=alliance', { token: al.tokens['a-analyst']!, body: doc });
    expect(again.json().added).toBe(0);
    const withTlp = await h.call('POST', '/api/v1/intel/import?collection=alliance&tlp=green', { token: al.tokens['a-analyst']!, body: doc });
    expect(withTlp.status).toBe(400);
  });
});
