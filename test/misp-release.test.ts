/**
 * MISP distribution and sharing groups → who may read (docs/misp.md "Release"): an attribute
 * or object is visible to the intersection of what its event and its own distribution /
 * sharing group allow (MISP's ACL). Table-driven over every event distribution (0-4) ×
 * attribute distribution (0-5), with an event sharing group {B, C} and an attribute sharing
 * group {C}; then the leak end to end: a reader outside the attribute's group does not get it
 * through events/view, attributes/restSearch, /api/v1/intel or TAXII.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { AccessService, type Actor, type Principal } from '../src/access/index.js';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { IntelService } from '../src/intel/index.js';
import { exportMispEvent, importMisp } from '../src/misp/index.js';
import { http, makeAlliance, withAlliance, type Alliance } from './rest-fixtures.js';

type Org = 'A' | 'B' | 'C';
const ALL: readonly Org[] = ['A', 'B', 'C'];

/** MISP semantics, independent of the code under test: who each level admits (A creates). */
function admits(distribution: number, sharingGroup: readonly Org[], inherit: readonly Org[]): Org[] {
  if (distribution === 0) return ['A'];
  if (distribution >= 1 && distribution <= 3) return [...ALL];
  if (distribution === 4) return ['A', ...sharingGroup];
  return [...inherit];
}

const sgBlock = (id: string, name: string, members: { uuid: string; name: string }[]) => ({
  id, name, uuid: randomUUID(), SharingGroupOrg: members.map((m) => ({ Organisation: m })),
});

describe('attribute release = event audience ∩ attribute audience (every combination)', () => {
  let store: Store;
  let intel: IntelService;
  let coll: string;
  let store2: Store;
  let intel2: IntelService;
  let coll2: string;
  let orgs: Record<Org, string>;
  let group: string;
  const clock = new ManualClock('2026-06-01T00:00:00Z');
  const principal = (orgId: string): Principal => ({ orgId, userId: null, username: null, roles: ['analyst'], tokenId: null, kind: 'api', groupIds: [] });
  const actor = (orgId: string): Actor => ({ principal: principal(orgId), source: 'test' });
  const member = (o: Org) => ({ uuid: orgs[o].slice('identity--'.length), name: `${o} CERT` });

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    const access = new AccessService(store, clock);
    const sys = { principal: null, source: 'test' };
    orgs = {
      A: (await access.createOrganisation(sys, { name: 'A CERT', shortName: 'A' })).id,
      B: (await access.createOrganisation(sys, { name: 'B CERT', shortName: 'B' })).id,
      C: (await access.createOrganisation(sys, { name: 'C CERT', shortName: 'C' })).id,
    };
    group = (await access.createGroup(sys, { ownerOrg: orgs.A, name: 'Alpha-Charlie', members: [orgs.C] })).id;
    coll = (await access.createCollection(sys, { apiRoot: 'api1', title: 'c' })).id;
    intel = new IntelService(store, clock);
    // Another node with the same organisations, for the export to be imported there.
    store2 = await openSqliteStore(':memory:');
    const access2 = new AccessService(store2, clock);
    for (const o of ALL) await access2.createOrganisation(sys, { name: `${o} CERT`, shortName: o, id: orgs[o] });
    coll2 = (await access2.createCollection(sys, { apiRoot: 'api1', title: 'c' })).id;
    intel2 = new IntelService(store2, clock);
  });

  /** Which of A, B, C can read every STIX object of the attribute (on this node, or on `at`). */
  async function readers(ids: readonly string[], at: { store: Store; coll: string } = { store, coll }): Promise<Org[]> {
    const out: Org[] = [];
    for (const o of ALL) {
      const groupIds = await at.store.groupsOfOrg(orgs[o]);
      const rows = await at.store.queryObjects({ collectionIds: [at.coll], audience: { hop: 'local', orgId: orgs[o], groupIds }, purpose: 'read', ids: [...ids], limit: 100 });
      const seen = new Set(rows.rows.map((r) => r.id));
      if (ids.every((id) => seen.has(id))) out.push(o);
      else expect(rows.rows, `${o} sees part of the attribute`).toEqual([]);
    }
    return out;
  }

  it('matches MISP for event distribution 0-4 × attribute distribution 0-5, attributes and objects', async () => {
    const rows: string[] = [];
    for (let ed = 0; ed <= 4; ed++) {
      for (let ad = 0; ad <= 5; ad++) {
        const attr = randomUUID();
        const obj = randomUUID();
        const attrSg = ad === 4 ? { sharing_group_id: '2', SharingGroup: sgBlock('2', 'SG C only', [member('C')]) } : {};
        const doc = { Event: {
          uuid: randomUUID(), info: `e${ed} a${ad}`, timestamp: '1796621000', distribution: String(ed),
          ...(ed === 4 ? { sharing_group_id: '1', SharingGroup: sgBlock('1', 'SG B+C', [member('B'), member('C')]) } : {}),
          Attribute: [{ uuid: attr, type: 'domain', category: 'Network activity', value: `a.e${ed}a${ad}.example`, to_ids: true, distribution: String(ad), ...attrSg }],
          // The same level on a MISP object (its one STIX object goes where its attributes may).
          Object: [{ uuid: obj, name: 'domain-ip', 'meta-category': 'network', distribution: String(ad), ...attrSg,
            Attribute: [{ uuid: randomUUID(), type: 'domain', object_relation: 'domain', category: 'Network activity', value: `o.e${ed}a${ad}.example`, to_ids: true }] }],
        } };
        const s = await importMisp(intel, { actor: actor(orgs.A), collectionId: coll, document: doc });
        expect(s.rejected).toBe(0);
        const want = admits(ad, ['C'], admits(ed, ['B', 'C'], [])).filter((o) => admits(ed, ['B', 'C'], []).includes(o));
        const got = await readers(s.attributes.find((a) => a.uuid === attr)!.stixIds);
        const gotObj = await readers([`indicator--${obj}`, `observed-data--${obj}`]);
        rows.push(`event ${ed} attribute ${ad}: ${want.join('')} / ${got.join('')} / ${gotObj.join('')}`);
        expect([got, gotObj], `event ${ed} attribute ${ad}`).toEqual([want, want]);
        // The export carries each element's own release: another node (or MISP instance) importing
        // it releases the attribute and the object no wider than here (it exported distribution 5
        // for every attribute, so the {C} attribute of a {B, C} event reached B there).
        const out = await exportMispEvent(store, { audience: { hop: 'local', orgId: orgs.A, groupIds: [] }, collectionIds: [coll], ref: doc.Event.uuid });
        const s2 = await importMisp(intel2, { actor: actor(orgs.A), collectionId: coll2, document: out.event });
        expect(s2.rejected).toBe(0);
        const at = { store: store2, coll: coll2 };
        expect([await readers(s.attributes.find((a) => a.uuid === attr)!.stixIds, at), await readers([`indicator--${obj}`, `observed-data--${obj}`], at)], `re-imported: event ${ed} attribute ${ad}`)
          .toEqual([want, want]);
      }
    }
    // The two cases the tester found: the narrower attribute group inside a group event, and a group inside a community event.
    expect(rows).toContain('event 4 attribute 4: AC / AC / AC');
    expect(rows).toContain('event 3 attribute 4: AC / AC / AC');
  });

  it('an attribute group that names another group than the event\'s, unknown here, goes to the creator alone (never to the event\'s group)', async () => {
    const attr = randomUUID();
    const s = await importMisp(intel, { actor: actor(orgs.A), collectionId: coll, document: { Event: {
      uuid: randomUUID(), info: 'unknown attribute group', timestamp: '1796621000', distribution: '4', sharing_group_id: '1',
      SharingGroup: sgBlock('1', 'SG B+C', [member('B'), member('C')]),
      Attribute: [{ uuid: attr, type: 'domain', category: 'Network activity', value: 'x.example', distribution: '4', sharing_group_id: '99' }],
    } } });
    expect(await readers(s.attributes[0]!.stixIds)).toEqual(['A']);
    expect(s.notes.join('\n')).toMatch(/sharing group 99 is unknown/);
  });

  it('a Shieldwall sharing group on one side admits its members named on the other; TLP tags only narrow', async () => {
    const attr = randomUUID();
    const tagged = randomUUID();
    const s = await importMisp(intel, { actor: actor(orgs.A), collectionId: coll, document: { Event: {
      uuid: randomUUID(), info: 'group by name', timestamp: '1796621000', distribution: '4', sharing_group_id: '1',
      SharingGroup: sgBlock('1', 'Alpha-Charlie', []),
      Attribute: [
        { uuid: attr, type: 'domain', category: 'Network activity', value: 'g.example', distribution: '4', SharingGroup: sgBlock('3', 'B and C', [member('B'), member('C')]) },
        { uuid: tagged, type: 'domain', category: 'Network activity', value: 't.example', distribution: '5', Tag: [{ name: 'tlp:red' }] },
      ],
    } } });
    expect(s.events[0]!.recipients).toEqual([group]);
    expect(await readers(s.attributes.find((a) => a.uuid === attr)!.stixIds)).toEqual(['A', 'C']);
    const red = s.attributes.find((a) => a.uuid === tagged)!.stixIds;
    // RED goes no wider than the event's group (the release policy decides whether a group member qualifies for RED).
    expect(await readers(red)).not.toContain('B');
    const row = (await store.queryObjects({ collectionIds: [coll], audience: { hop: 'local', orgId: orgs.A, groupIds: [] }, purpose: 'read', ids: red, limit: 10 })).rows[0]!;
    expect(row.tlp).toBe('red');
  });
});

describe('the leak end to end: a reader outside the attribute\'s sharing group', () => {
  let al: Alliance;
  let h: ReturnType<typeof http>;
  const nested = randomUUID();
  const inherited = randomUUID();
  const inGreen = randomUUID();
  const eventUuid = randomUUID();
  const greenUuid = randomUUID();

  beforeAll(async () => {
    al = await makeAlliance();
    h = http(al);
    const m = (o: 'B' | 'C') => ({ uuid: al.orgs[o].slice('identity--'.length), name: o === 'B' ? 'Bravo CERT' : 'Charlie CERT' });
    const add = (body: unknown) => h.call('POST', '/api/misp/events/add', { headers: { authorization: al.tokens['a-analyst']! }, body });
    // The tester's repro: an event for {B, C} with an attribute for {C} alone.
    const r1 = await add({ Event: {
      uuid: eventUuid, info: 'x', distribution: '4', sharing_group_id: '1', timestamp: '1796621000',
      SharingGroup: { id: '1', name: 'SG brn+crv', SharingGroupOrg: [{ Organisation: m('B') }, { Organisation: m('C') }] },
      Attribute: [
        { uuid: nested, type: 'domain', category: 'Network activity', value: 'crvonly.nested.example', distribution: '4', sharing_group_id: '2',
          SharingGroup: { id: '2', name: 'SG crv only', SharingGroupOrg: [{ Organisation: m('C') }] } },
        { uuid: inherited, type: 'domain', category: 'Network activity', value: 'both.nested.example', distribution: '5' },
      ],
    } });
    expect(r1.status, r1.body).toBe(200);
    // The opposite: a GREEN community event with an attribute for {C}.
    const r2 = await add({ Event: {
      uuid: greenUuid, info: 'green', distribution: '3', timestamp: '1796621000', Tag: [{ name: 'tlp:green' }],
      Attribute: [{ uuid: inGreen, type: 'domain', category: 'Network activity', value: 'crvonly.green.example', distribution: '4', sharing_group_id: '5',
        SharingGroup: { id: '5', name: 'SG crv', SharingGroupOrg: [{ Organisation: m('C') }] } }],
    } });
    expect(r2.status, r2.body).toBe(200);
  });
  afterAll(async () => al.close());

  const mispAs = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
    h.call(method, `/api/misp${url}`, { headers: { authorization: al.tokens[user]! }, ...(body !== undefined ? { body } : {}) });

  /** Every way a reader may come across the attribute; true where it does. */
  async function sees(user: string, attr: string, event: string, value: string): Promise<Record<string, boolean>> {
    const view = await mispAs(user, 'GET', `/events/view/${event}`);
    const search = await mispAs(user, 'POST', '/attributes/restSearch', { value });
    const list = await h.get(user, '/api/v1/intel?limit=1000');
    const one = await h.get(user, `/api/v1/intel/indicator--${attr}`);
    const root = al.platform.config.apiRoots[0]!.name;
    const taxii = await h.call('GET', `/${root}/collections/${al.shared}/objects/?match[id]=indicator--${attr},observed-data--${attr}`, {
      token: al.tokens[user]!, headers: { accept: 'application/taxii+json;version=2.1' },
    });
    expect([search.status, list.status, taxii.status]).toEqual([200, 200, 200]);
    return {
      view: view.status === 200 && (view.json().Event.Attribute as { uuid: string }[]).some((a) => a.uuid === attr),
      restSearch: (search.json().response.Attribute as { uuid: string }[]).some((a) => a.uuid === attr),
      intelList: (list.json().items as { id: string }[]).some((i) => i.id.endsWith(attr)),
      intelRead: one.status === 200,
      taxii: ((taxii.json().objects ?? []) as { id: string }[]).some((o) => o.id.endsWith(attr)),
    };
  }
  const everywhere = { view: true, restSearch: true, intelList: true, intelRead: true, taxii: true };
  const nowhere = { view: false, restSearch: false, intelList: false, intelRead: false, taxii: false };

  it('an attribute for {C} inside an event for {B, C}: C gets it, B does not, on any path', async () => {
    expect(await sees('b-analyst', nested, eventUuid, 'crvonly.nested.example')).toEqual(nowhere);
    expect(await sees('c-analyst', nested, eventUuid, 'crvonly.nested.example')).toEqual(everywhere);
    expect(await sees('a-analyst', nested, eventUuid, 'crvonly.nested.example')).toEqual(everywhere);
    // The inherited attribute reaches both members.
    expect(await sees('b-analyst', inherited, eventUuid, 'both.nested.example')).toEqual(everywhere);
  });

  it('an attribute for {C} inside a GREEN event reaches C, and only C', async () => {
    expect(await sees('c-analyst', inGreen, greenUuid, 'crvonly.green.example')).toEqual(everywhere);
    expect(await sees('b-analyst', inGreen, greenUuid, 'crvonly.green.example')).toEqual(nowhere);
  });
});

describe('sharing group names reach only the groups\' members and owners (as GET /sharing-groups lists them)', () => {
  let al: Alliance;
  let h: ReturnType<typeof http>;
  const eventUuid = randomUUID();

  beforeAll(async () => {
    al = await makeAlliance();
    h = http(al);
    // A's AMBER event for B and for A's group Alpha-Charlie {A, C}: B reads it, but is no member of the group.
    const r = await h.call('POST', '/api/misp/events/add', { headers: { authorization: al.tokens['a-analyst']! }, body: { Event: {
      uuid: eventUuid, info: 'for B and the group', distribution: '4', sharing_group_id: '1', timestamp: '1796621000',
      SharingGroup: { id: '1', name: 'SG', SharingGroupOrg: [
        { Organisation: { uuid: al.orgs.B.slice('identity--'.length), name: 'Bravo CERT' } },
        { Organisation: { uuid: al.group.slice('identity--'.length), name: 'Alpha-Charlie' } },
      ] },
      Attribute: [{ uuid: randomUUID(), type: 'domain', category: 'Network activity', value: 'sg-names.example', to_ids: true }],
    } } });
    expect(r.status, r.body).toBe(200);
  });
  afterAll(async () => al.close());

  it('events/view names the group to a member, and gives only its id to a recipient outside it', async () => {
    const names = async (user: string) => {
      const v = await h.call('GET', `/api/misp/events/view/${eventUuid}`, { headers: { authorization: al.tokens[user]! } });
      expect(v.status, `${user}: ${v.body}`).toBe(200);
      const orgs = (v.json().Event.SharingGroup.SharingGroupOrg as { Organisation: { uuid: string; name: string } }[]).map((o) => o.Organisation);
      return Object.fromEntries(orgs.map((o) => [`identity--${o.uuid}`, o.name]));
    };
    const listed = async (user: string) => ((await h.get(user, '/api/v1/sharing-groups')).json().items as { id: string }[]).some((g) => g.id === al.group);
    expect([await listed('b-analyst'), await listed('c-analyst')]).toEqual([false, true]);
    expect(await names('c-analyst')).toEqual({ [al.orgs.B]: 'Bravo CERT', [al.group]: 'Alpha-Charlie' });
    expect(await names('b-analyst')).toEqual({ [al.orgs.B]: 'Bravo CERT', [al.group]: '' });
  });

  it('an import naming a group the importer is no member of resolves as an unknown name (no oracle, no addressing by a guessed name)', async () => {
    const add = async (user: string, groupName: string) => {
      const uuid = randomUUID();
      const r = await h.call('POST', '/api/misp/events/add', { headers: { authorization: al.tokens[user]! }, body: { Event: {
        uuid, info: 'addressed by name', distribution: '4', sharing_group_id: '1', timestamp: '1796621000',
        SharingGroup: { id: '1', name: groupName, SharingGroupOrg: [] },
        Attribute: [{ uuid: randomUUID(), type: 'domain', category: 'Network activity', value: `${uuid}.example`, to_ids: true }],
      } } });
      expect(r.status, r.body).toBe(200);
      const ev = r.json().Event as { distribution: string; SharingGroup?: unknown };
      return { distribution: ev.distribution, sharingGroup: ev.SharingGroup ?? null };
    };
    const unknown = await add('b-analyst', 'No-Such-Group');
    // AMBER to the creator alone is "your organisation only" (it was 1, "this community": wider in MISP, which does not enforce the TLP tag).
    expect(unknown).toEqual({ distribution: '0', sharingGroup: null });
    expect(await add('b-analyst', 'Alpha-Charlie')).toEqual(unknown);
    // A member (C) addresses its own group by name.
    expect((await add('c-analyst', 'Alpha-Charlie')).distribution).toBe('4');
  });
});

describe('an update withdraws only the importer\'s own attributes', () => {
  it('naming another organisation\'s RED attribute as deleted answers as for a uuid nobody holds, and revokes nothing', async () => {
    await withAlliance(async (al) => {
      const h = http(al);
      const held = randomUUID();
      const add = (user: string, body: unknown) => h.call('POST', '/api/v1/intel/import?collection=alliance', { token: al.tokens[user]!, body });
      const a = await add('a-analyst', { Event: { uuid: randomUUID(), info: 'A red', distribution: '0', timestamp: '1796621000', Tag: [{ name: 'tlp:red' }],
        Attribute: [{ uuid: held, type: 'domain', category: 'Network activity', value: 'held.red.example', to_ids: true, timestamp: '1796621000' }] } });
      expect(a.status, a.body).toBe(200);
      const withdraw = async (uuid: string) => {
        const r = await add('b-analyst', { Event: { uuid: randomUUID(), info: 'B update', distribution: '3', timestamp: '1796622000',
          Attribute: [{ uuid, type: 'domain', category: 'Network activity', value: 'gone.example', deleted: true, timestamp: '1796622000' }] } });
        expect(r.status, r.body).toBe(200);
        return r.body.split(uuid).join('UUID');
      };
      const absent = randomUUID();
      expect(await withdraw(held)).toBe(await withdraw(absent));
      const still = await h.get('a-analyst', `/api/v1/intel/indicator--${held}`);
      expect(still.json().object.revoked).not.toBe(true);
    });
  });
});

