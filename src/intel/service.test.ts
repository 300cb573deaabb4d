/** The upsert rules of IntelService.submit. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { AccessService, type Actor, type Principal } from '../access/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { IntelService } from './service.js';

const T = '2024-03-01T10:00:00.000Z';
const AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'; // TLP 1.0 AMBER, mapped to 2.0
const TLP2_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
const MITRE = 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5';

function indicator(over: Record<string, unknown> = {}) {
  return {
    type: 'indicator', spec_version: '2.1', id: 'indicator--3f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f', created: T, modified: T,
    pattern: "[domain-name:value = 'evil.example']", pattern_type: 'stix', valid_from: T, ...over,
  };
}

describe('IntelService.submit', () => {
  let store: Store;
  let intel: IntelService;
  let a: Actor;
  let b: Actor;
  let coll: string;
  const clock = new ManualClock('2024-06-01T00:00:00Z');

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    const access = new AccessService(store, clock);
    const sys = { principal: null, source: 'test' };
    const orgA = await access.createOrganisation(sys, { name: 'A', shortName: 'A' });
    const orgB = await access.createOrganisation(sys, { name: 'B', shortName: 'B' });
    coll = (await access.createCollection(sys, { apiRoot: 'api1', title: 'c' })).id;
    const p = (orgId: string): Principal => ({ orgId, userId: null, username: null, roles: ['analyst'], tokenId: null, kind: 'api', groupIds: [] });
    a = { principal: p(orgA.id), source: 'test' };
    b = { principal: p(orgB.id), source: 'test' };
    intel = new IntelService(store, clock);
  });

  const stored = async (id: string) => {
    const page = await store.queryObjects({ collectionIds: [coll], audience: { hop: 'local', orgId: a.principal!.orgId, groupIds: [] }, purpose: 'read', ids: [id], version: { kind: 'all' }, limit: 100 });
    return page.rows.map((r) => ({ ...r, obj: JSON.parse(r.json) as Record<string, unknown> }));
  };

  it('stores the object exactly as submitted (no provenance rewrite, TLP 1.0 refs kept) and refuses another creator\'s object', async () => {
    const mine = indicator({ created_by_ref: a.principal!.orgId, object_marking_refs: [AMBER] });
    const [r] = await intel.submit(a, coll, [mine]);
    expect(r?.status).toBe('added');
    const [row] = await stored(indicator().id);
    expect(row?.json).toBe(JSON.stringify(mine));
    expect(row?.tlp).toBe('amber');
    expect(row?.creatorOrg).toBe(a.principal!.orgId);
    const theirs = indicator({ id: 'indicator--7f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f', created_by_ref: MITRE });
    const [x] = await intel.submit(a, coll, [theirs]);
    expect(x).toMatchObject({ status: 'rejected', versionText: T, message: expect.stringMatching(/created_by_ref names identity--c78cb6e5.*not the submitting organisation.*never re-attributed/) });
    expect(await stored(theirs.id)).toEqual([]);
  });

  it('an object marked with a TLP marking definition under another tool\'s id is at that level, never at the TLP given at import', async () => {
    // TLP 1.0 style (definition_type tlp) and the TLP 2.0 extension, each under an id no standard names.
    const red1 = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--0b4c3e9e-7d1f-4c55-9a59-5d7f0c1e2a11', created: T, definition_type: 'tlp', definition: { tlp: 'red' } };
    const amberStrict2 = {
      type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--1c5d4f0f-8e2a-4d66-8b6a-6e8a1d2f3b22', created: T, name: 'TLP:AMBER+STRICT',
      extensions: { 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: 'amber+strict' } },
    };
    const statement = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--2d6e5a1a-9f3b-4e77-9c7b-7f9b2e3a4c33', created: T, definition_type: 'statement', definition: { statement: 'Copyright ACME' } };
    const ind = (n: number, refs: string[]) => indicator({ id: `indicator--${n}f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f`, object_marking_refs: refs });
    // The definitions arrive in the batch with the objects that use them. A TLP 1.0 definition under
    // another id is not stored (TLP markings of 1.0 have fixed ids), but what it says still counts.
    const res = await intel.submit(a, coll, [red1, amberStrict2, statement, ind(1, [red1.id]), ind(2, [statement.id]), ind(3, [TLP2_GREEN, amberStrict2.id])], { defaultTlp: 'green' });
    expect(res.map((r) => r.status)).toEqual(['rejected', 'added', 'added', 'added', 'added', 'added']);
    expect((await stored(ind(1, []).id))[0]?.tlp).toBe('red');
    // A marking that is not a TLP one leaves the object unmarked as to TLP: the import's TLP applies.
    expect((await stored(ind(2, []).id))[0]?.tlp).toBe('green');
    expect((await stored(ind(3, []).id))[0]?.tlp).toBe('amber+strict');
    // …or were stored before.
    await intel.submit(a, coll, [ind(4, [amberStrict2.id])], { defaultTlp: 'clear' });
    expect((await stored(ind(4, []).id))[0]?.tlp).toBe('amber+strict');
  });

  it('leaves the caller\'s objects untouched (no deep copy is made, so this must hold by construction)', async () => {
    const input = indicator({ created_by_ref: a.principal!.orgId, object_marking_refs: [AMBER], granular_markings: [{ marking_ref: AMBER, selectors: ['name'] }], name: 'n' });
    const before = structuredClone(input);
    const unmarked = indicator({ id: 'indicator--5f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f', created_by_ref: a.principal!.orgId });
    const unmarkedBefore = structuredClone(unmarked);
    const res = await intel.submit(a, coll, [input, unmarked], { defaultTlp: 'green' });
    expect(res.map((r) => r.status)).toEqual(['added', 'added']);
    expect(input).toEqual(before);
    expect(unmarked).toEqual(unmarkedBefore);
    // The submitter's own object takes the default TLP into its content before its first store.
    expect((await stored(unmarked.id))[0]?.obj.object_marking_refs).toEqual([TLP2_GREEN]);
  });

  it('records a default TLP for someone else\'s (or an unattributed) object as a policy fact, not a marking', async () => {
    const mitre = indicator({ created_by_ref: MITRE });
    const anon = indicator({ id: 'indicator--8f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f' });
    const res = await intel.submit(a, coll, [mitre, anon], { defaultTlp: 'green', preserveProvenance: true });
    expect(res.map((r) => r.status)).toEqual(['added', 'added']);
    for (const o of [mitre, anon]) {
      const [row] = await stored(o.id);
      expect(row?.json).toBe(JSON.stringify(o));
      expect(row?.tlp).toBe('green');
    }
  });
  it('rejects every item when a recipient is not an identity id', async () => {
    const res = await intel.submit(a, coll, [indicator()], { recipients: ['not-an-identity'] });
    expect(res[0]).toMatchObject({ status: 'rejected', message: 'recipient not-an-identity is not an identity id' });
    expect(await stored(indicator().id)).toEqual([]);
  });

  it('keeps an external provenance only when asked, never another member', async () => {
    await intel.submit(a, coll, [indicator({ created_by_ref: MITRE })], { preserveProvenance: true });
    expect((await stored(indicator().id))[0]?.obj.created_by_ref).toBe(MITRE);
    const other = indicator({ id: 'indicator--4f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f', created_by_ref: b.principal!.orgId });
    const [r] = await intel.submit(a, coll, [other], { preserveProvenance: true });
    expect(r).toMatchObject({ status: 'rejected', message: expect.stringMatching(/another organisation of this alliance/) });
    expect(await stored(other.id)).toEqual([]);
  });

  it('treats an identical re-post as a duplicate and keeps every version', async () => {
    expect((await intel.submit(a, coll, [indicator()]))[0]?.status).toBe('added');
    expect((await intel.submit(a, coll, [indicator()]))[0]?.status).toBe('duplicate');
    expect((await intel.submit(a, coll, [indicator({ modified: '2024-04-01T00:00:00.000Z', name: 'v2' })]))[0]?.status).toBe('added');
    expect((await stored(indicator().id)).map((r) => r.version)).toEqual(['2024-03-01T10:00:00.000000Z', '2024-04-01T00:00:00.000000Z']);
  });

  it('lets only the creator add versions', async () => {
    await intel.submit(a, coll, [indicator()]);
    const [r] = await intel.submit(b, coll, [indicator({ modified: '2024-05-01T00:00:00.000Z' })]);
    expect(r).toMatchObject({ status: 'rejected', message: expect.stringMatching(/only its creator/) });
  });

  it('takes no new version after a revocation (STIX 2.1 §3.6.2), not even a revoked one', async () => {
    await intel.submit(a, coll, [indicator(), indicator({ modified: '2024-04-01T00:00:00.000Z', revoked: true })]);
    const [r] = await intel.submit(a, coll, [indicator({ modified: '2024-05-01T00:00:00.000Z', revoked: false })]);
    expect(r).toMatchObject({ status: 'rejected', message: expect.stringMatching(/revoked/) });
    const [later] = await intel.submit(a, coll, [indicator({ modified: '2024-05-02T00:00:00.000Z', revoked: true })]);
    expect(later).toMatchObject({ status: 'rejected', message: expect.stringMatching(/revoked/) });
  });

  it('rejects invalid objects one by one and stores the rest', async () => {
    const res = await intel.submit(a, coll, [indicator(), { type: 'indicator' }, indicator({ id: 'indicator--5f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f', pattern: "[domain-name:value = 'x'" })]);
    expect(res.map((r) => r.status)).toEqual(['added', 'rejected', 'rejected']);
    expect(res[2]).toMatchObject({ message: expect.stringMatching(/pattern/i) });
  });

  it('applies a default TLP to unmarked objects and records recipients', async () => {
    await intel.submit(a, coll, [indicator()], { defaultTlp: 'amber', recipients: [b.principal!.orgId] });
    const [row] = await stored(indicator().id);
    expect(row?.tlp).toBe('amber');
    expect(row?.recipients).toEqual([b.principal!.orgId]);
    const bad = await intel.submit(a, coll, [indicator({ id: 'indicator--6f5a7a1c-2b7e-4c3d-9f41-0a1b2c3d4e5f' })], { recipients: ['not-an-id'] });
    expect(bad[0]?.status).toBe('rejected');
  });

  it('audits every submission', async () => {
    await intel.submit(a, coll, [indicator(), { bad: true }]);
    const [entry] = await store.listAudit({ limit: 1 });
    expect(entry?.action).toBe('intel.submit');
    expect(JSON.parse(entry!.detail!)).toEqual({ total: 2, added: 1, duplicates: 0, rejected: 1 });
  });

  it('needs an organisation', async () => {
    await expect(intel.submit({ principal: null, source: 'x' }, coll, [indicator()])).rejects.toThrow(/organisation/);
  });

  describe('granular markings (STIX 2.1 §7.2.3)', () => {
    const GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
    const RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';
    const CLEAR = 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487';
    const ids = (n: number) => `indicator--${String(n).padStart(8, '0')}-2b7e-4c3d-9f41-0a1b2c3d4e5f`;

    it('refuses a part marked stricter than the object, naming the selector; accepts equal or looser parts', async () => {
      const res = await intel.submit(a, coll, [
        indicator({ id: ids(1), description: 'secret source', object_marking_refs: [GREEN], granular_markings: [{ marking_ref: RED, selectors: ['description'] }] }),
        indicator({ id: ids(2), description: 'ok', object_marking_refs: [GREEN], granular_markings: [{ marking_ref: GREEN, selectors: ['description'] }, { marking_ref: CLEAR, selectors: ['pattern'] }] }),
        indicator({ id: ids(3), description: 'defaulted', granular_markings: [{ marking_ref: RED, selectors: ['description'] }] }),
        indicator({ id: ids(4), description: 'lang only', object_marking_refs: [GREEN], granular_markings: [{ lang: 'fr', selectors: ['description'] }] }),
      ], { defaultTlp: 'green' });
      expect(res.map((r) => r.status)).toEqual(['rejected', 'added', 'rejected', 'added']);
      expect(res[0]!.status === 'rejected' && res[0]!.message).toMatch(/granular marking.*description.*TLP:RED.*TLP:GREEN/);
      expect(await stored(ids(1))).toEqual([]);
      // An unmarked object with no default is AMBER for its creator alone: no part is stricter.
      const [r] = await intel.submit(a, coll, [indicator({ id: ids(5), description: 'x', granular_markings: [{ marking_ref: RED, selectors: ['description'] }] })]);
      expect(r?.status).toBe('added');
    });
  });
});
