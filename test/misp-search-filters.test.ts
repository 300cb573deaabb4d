/**
 * restSearch filters PyMISP's search() sends that were refused with a 400 (pymisp/api.py at
 * 99a1c797 for the names): eventinfo, event_tags, tag negation and patterns, searchall,
 * quickFilter, `%` wildcards in value, object_name, sharinggroup; matched as MISP's
 * generic_add_filter does (`%` at either end: LIKE, else exact, case-insensitive; `!` negates),
 * in linear time, and only over what the release policy gives the reader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, makeAlliance, type Alliance, type Answer } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const misp = (user: string, url: string, body: unknown): Promise<Answer> =>
  h.call('POST', `/api/misp${url}`, { headers: { authorization: al.tokens[user]!, accept: 'application/json' }, body });

const U = (n: number) => `5e5e${String(n).padStart(4, '0')}-7b48-40d5-86b4-c0070acd0835`;
const attr = (n: number, type: string, value: string, extra: Record<string, unknown> = {}) => ({ uuid: U(n), type, category: 'Network activity', value, timestamp: '1700000000', ...extra });
const org = (o: 'B' | 'C') => ({ uuid: al.orgs[o].slice('identity--'.length), name: o === 'B' ? 'Bravo CERT' : 'Charlie CERT' });

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  const green = { timestamp: '1700000000', Tag: [{ name: 'tlp:green' }] };
  const events = [
    { ...green, uuid: U(1), info: 'Qakbot campaign wave 2', Tag: [{ name: 'tlp:green' }, { name: 'kind:c2' }],
      Attribute: [attr(11, 'domain', 'evil.qak.example', { comment: 'C2 panel' }), attr(12, 'ip-dst', '198.51.100.12|443'.split('|')[0]!)],
      Object: [{ uuid: U(13), name: 'domain-ip', 'meta-category': 'network', timestamp: '1700000000',
        Attribute: [attr(14, 'domain', 'obj.qak.example', { object_relation: 'domain' }), attr(15, 'ip-dst', '198.51.100.15', { object_relation: 'ip' })] }] },
    { ...green, uuid: U(2), info: 'Emotet loader', Tag: [{ name: 'tlp:green' }, { name: 'kind:loader' }],
      Attribute: [attr(21, 'url', 'http://emotet.example/gate.php'), attr(22, 'text', 'a'.repeat(100_000), { category: 'Other' })] },
    // For C alone: B finds none of it, whatever the filter.
    { uuid: U(3), info: 'Charlie only', timestamp: '1700000000', distribution: 4, Tag: [{ name: 'tlp:amber' }], SharingGroup: { name: 'C', SharingGroupOrg: [{ Organisation: org('C') }] },
      Attribute: [attr(31, 'domain', 'c.only.example', { comment: 'only for charlie' })] },
    // For {B, C}, one attribute for {C}.
    { uuid: U(4), info: 'B and C', timestamp: '1700000000', distribution: 4, SharingGroup: { name: 'BC', SharingGroupOrg: [{ Organisation: org('B') }, { Organisation: org('C') }] },
      Attribute: [attr(41, 'domain', 'bc.example'), attr(42, 'domain', 'c-in-bc.example', { distribution: 4, SharingGroup: { name: 'C2', SharingGroupOrg: [{ Organisation: org('C') }] } })] },
  ];
  for (const e of events) {
    const r = await misp('a-analyst', '/events/add', { Event: e });
    expect(r.status, r.body).toBe(200);
  }
});
afterAll(async () => al.close());

async function attrs(user: string, body: Record<string, unknown>): Promise<string[]> {
  const r = await misp(user, '/attributes/restSearch', body);
  expect(r.status, `${JSON.stringify(body).slice(0, 200)}: ${r.body.slice(0, 300)}`).toBe(200);
  return (r.json().response.Attribute as { uuid: string }[]).map((a) => a.uuid).sort();
}
async function events(user: string, body: Record<string, unknown>): Promise<string[]> {
  const r = await misp(user, '/events/restSearch', body);
  expect(r.status, r.body.slice(0, 300)).toBe(200);
  return (r.json().response as { Event: { uuid: string } }[]).map((e) => e.Event.uuid).sort();
}
const E1 = [U(11), U(12), U(14), U(15)];

describe('restSearch filters PyMISP sends', () => {
  it('eventinfo: exact (case-insensitive), % patterns, ! negation', async () => {
    expect(await attrs('b-analyst', { eventinfo: 'qakbot campaign wave 2' })).toEqual(E1);
    expect(await attrs('b-analyst', { eventinfo: 'qakbot' })).toEqual([]);
    expect(await attrs('b-analyst', { eventinfo: '%QAKBOT%' })).toEqual(E1);
    expect(await events('b-analyst', { eventinfo: ['%loader', 'nothing'] })).toEqual([U(2)]);
    expect(await events('b-analyst', { eventinfo: '!%qakbot%' })).toEqual([U(2), U(4)]);
  });

  it('value with % wildcards and ! negation; type and category negation', async () => {
    expect(await attrs('b-analyst', { value: '%.qak.example' })).toEqual([U(11), U(14)]);
    expect(await attrs('b-analyst', { value: 'http://emotet%' })).toEqual([U(21)]);
    expect(await attrs('b-analyst', { value: ['%.qak.example', '!evil%'] })).toEqual([U(14)]);
    expect(await attrs('b-analyst', { value: '%example%', type: '!domain' })).toEqual([U(21)]);
    expect(await attrs('b-analyst', { eventid: U(2), category: { NOT: ['Network activity'] } })).toEqual([U(22)]);
  });

  it('tags and event_tags: negation and patterns', async () => {
    expect(await events('b-analyst', { tags: '!kind:c2' })).toEqual([U(2), U(4)]);
    expect(await events('b-analyst', { event_tags: 'kind:%' })).toEqual([U(1), U(2)]);
    expect(await events('b-analyst', { event_tags: ['!kind:c2'] })).toEqual([U(2), U(4)]);
    expect(await attrs('b-analyst', { event_tags: { AND: ['tlp:green', 'kind:loader'] } })).toEqual([U(21), U(22)]);
  });

  it('searchall (event info and tags, attribute value, comment, tags) and quickFilter (substring)', async () => {
    expect(await attrs('b-analyst', { searchall: '%panel%' })).toEqual([U(11)]);
    expect(await attrs('b-analyst', { searchall: '%emotet%', type: 'url' })).toEqual([U(21)]);
    expect(await events('b-analyst', { searchall: 'kind:loader' })).toEqual([U(2)]);
    expect(await attrs('b-analyst', { quickFilter: 'QAK.example' })).toEqual([U(11), U(14)]);
    expect(await events('b-analyst', { quickFilter: 'wave 2' })).toEqual([U(1)]);
    expect((await misp('b-analyst', '/attributes/restSearch', { searchall: 1 })).status).toBe(400);
  });

  it('object_name: attributes inside objects of that name (never those outside objects)', async () => {
    expect(await attrs('b-analyst', { object_name: 'domain-ip' })).toEqual([U(14), U(15)]);
    expect(await attrs('b-analyst', { object_name: ['%-ip', '!file'] })).toEqual([U(14), U(15)]);
    expect(await attrs('b-analyst', { object_name: '!domain-ip', eventid: U(1) })).toEqual([]);
  });

  it('sharinggroup: by the uuid of a recipient; numeric MISP ids are refused', async () => {
    const c = al.orgs.C.slice('identity--'.length);
    expect(await attrs('c-analyst', { sharinggroup: c })).toEqual([U(31), U(41), U(42)]);
    expect(await attrs('b-analyst', { sharinggroup: [al.orgs.B] })).toEqual([U(41)]);
    expect((await misp('b-analyst', '/attributes/restSearch', { sharinggroup: 5 })).status).toBe(400);
  });

  it('no filter reaches what the reader may not read', async () => {
    for (const body of [{ searchall: '%only%' }, { quickFilter: 'charlie' }, { eventinfo: 'Charlie only' }, { value: '%c%only%' }, { value: 'c-in-bc%' }]) {
      expect(await attrs('b-analyst', body), JSON.stringify(body)).toEqual([]);
      expect((await attrs('c-analyst', body)).length, JSON.stringify(body)).toBeGreaterThan(0);
    }
  });

  it('a pathological pattern over a 100,000-character value answers at once (no regular expression)', async () => {
    const t0 = performance.now();
    expect(await attrs('b-analyst', { value: `%${'a%'.repeat(2000)}b`, eventid: U(2) })).toEqual([]);
    expect(await attrs('b-analyst', { value: `%${'a%'.repeat(2000)}`, eventid: U(2) })).toEqual([U(22)]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
