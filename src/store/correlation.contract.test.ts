/**
 * Store contract of correlation & warninglists (migration 0006), on every dialect: observable
 * values follow the latest version, the cap marks a value frequent and stops recording it,
 * links are released only under the policy for the other object, IP block lookups by key range.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewObjectRow, ObservableValue, Store } from './index.js';
import { storeDialects } from '../../test/helpers/store-dialects.js';
import type { Audience } from '../core/policy.js';

const ORG_A = 'identity--aaaaaaaa-0000-4000-8000-00000000000a';
const ORG_B = 'identity--bbbbbbbb-0000-4000-8000-00000000000b';
const ORG_C = 'identity--cccccccc-0000-4000-8000-00000000000c';
const COLL = '22222222-2222-4222-8222-222222222222';
const OTHER = '33333333-3333-4333-8333-333333333333';
const asOrg = (orgId: string): Audience => ({ hop: 'local', orgId, groupIds: [] });

let n = 0;
function obj(id: string, version: string, extra: Partial<NewObjectRow> = {}): NewObjectRow {
  return {
    collectionId: COLL, id, type: 'indicator', specVersion: '2.1', version, created: version, modified: version, creatorOrg: ORG_A, tlp: 'green',
    recipients: [], originNode: null, revoked: false, name: id, labels: [], searchText: id, json: JSON.stringify({ id, version, n: n++ }), ...extra,
  };
}
const ip = (value: string, key: string, prefix: number): ObservableValue => ({ kind: 'ip', value, ipKey: key, ipPrefix: prefix });
const dom = (value: string): ObservableValue => ({ kind: 'domain', value, ipKey: null, ipPrefix: null });
const id = (k: string) => `indicator--${k.padStart(8, '0')}-0000-4000-8000-000000000000`;
const V1 = '2026-01-01T00:00:00.000000Z';
const V2 = '2026-01-02T00:00:00.000000Z';

const factories = await storeDialects();

describe.each(factories)('Store correlation & warninglists: $name', ({ open }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
  });
  afterAll(async () => cleanup());

  it('indexes the latest version only, replaces values, ignores a late older version', async () => {
    await store.putObjects([obj(id('1'), V2), obj(id('2'), V1, { creatorOrg: ORG_B, tlp: 'amber', recipients: [ORG_C] })], 1);
    const r = await store.indexObservables([
      { collectionId: COLL, objectId: id('1'), version: V2, values: [dom('evil.org'), ip('45.1.2.3', 'v4:2d010203', 32)] },
      { collectionId: COLL, objectId: id('2'), version: V1, values: [dom('evil.org')] },
    ], { cap: 10, nowUs: 5 });
    expect(r).toEqual({ indexed: 2, newlyFrequent: [] });
    // V1 of object 1 arrives late: nothing changes.
    await store.putObjects([obj(id('1'), V1)], 2);
    expect((await store.indexObservables([{ collectionId: COLL, objectId: id('1'), version: V1, values: [] }], { cap: 10, nowUs: 6 })).indexed).toBe(0);
    expect((await store.observableStats()).rows).toBe(3);
    const links = await store.observableLinks({ lookups: [{ kind: 'domain', value: 'evil.org' }], excludeObjectId: id('2'), collectionIds: [COLL], audience: asOrg(ORG_B), limit: 10 });
    expect(links.map((l) => [l.objectId, l.version, l.creatorOrg, l.tlp])).toEqual([[id('1'), V2, ORG_A, 'green']]);
  });

  it('drops the index rows of a deleted version with it', async () => {
    await store.putObjects([obj(id('9'), V1, { collectionId: OTHER })], 3);
    await store.indexObservables([{ collectionId: OTHER, objectId: id('9'), version: V1, values: [dom('gone.example'), dom('also-gone.example')] }], { cap: 10, nowUs: 7 });
    const before = (await store.observableStats()).rows;
    expect(await store.deleteObject(OTHER, id('9'), 'all')).toBe(1);
    expect((await store.observableStats()).rows).toBe(before - 2);
  });

  it('releases a link only when the audience may read the other object', async () => {
    const q = { lookups: [{ kind: 'domain' as const, value: 'evil.org' }], excludeObjectId: id('1'), collectionIds: [COLL], limit: 10 };
    expect((await store.observableLinks({ ...q, audience: asOrg(ORG_B) })).map((l) => l.objectId)).toEqual([id('2')]);
    expect((await store.observableLinks({ ...q, audience: asOrg(ORG_C) })).map((l) => l.objectId)).toEqual([id('2')]);
    expect(await store.observableLinks({ ...q, audience: asOrg(ORG_A) })).toEqual([]);
    expect(await store.observableLinks({ ...q, audience: { hop: 'public' } })).toEqual([]);
    expect(await store.observableLinks({ ...q, audience: asOrg(ORG_B), collectionIds: [OTHER] })).toEqual([]);
  });

  it('finds IP blocks by key range (IPv4 and IPv6) and exact supernets', async () => {
    await store.putObjects([obj(id('3'), V1), obj(id('4'), V1)], 3);
    await store.indexObservables([
      { collectionId: COLL, objectId: id('3'), version: V1, values: [ip('45.1.2.0/24', 'v4:2d010200', 24)] },
      { collectionId: COLL, objectId: id('4'), version: V1, values: [ip('2001:db9::ff', 'v6:20010db90000000000000000000000ff', 128)] },
    ], { cap: 10, nowUs: 7 });
    const base = { excludeObjectId: 'none', collectionIds: [COLL], audience: asOrg(ORG_A), limit: 10 };
    const inside = await store.observableLinks({ ...base, lookups: [{ kind: 'ip', keyFrom: 'v4:2d010200', keyTo: 'v4:2d0102ff', prefixAbove: 24 }] });
    expect(inside.map((l) => l.value)).toEqual(['45.1.2.3']);
    const v6 = await store.observableLinks({ ...base, lookups: [{ kind: 'ip', keyFrom: 'v6:20010db9000000000000000000000000', keyTo: 'v6:20010db9ffffffffffffffffffffffff', prefixAbove: 32 }] });
    expect(v6.map((l) => l.value)).toEqual(['2001:db9::ff']);
    const outside = await store.observableLinks({ ...base, lookups: [{ kind: 'ip', keyFrom: 'v4:2d010300', keyTo: 'v4:2d0103ff', prefixAbove: 24 }] });
    expect(outside).toEqual([]);
    const exact = await store.observableLinks({ ...base, lookups: [{ kind: 'ip', value: '45.1.2.0/24' }, { kind: 'domain', value: 'evil.org' }] });
    expect(exact.map((l) => `${l.kind}:${l.value}`)).toEqual(['domain:evil.org', 'ip:45.1.2.0/24']); // object 2 (AMBER to C) is not A's to see
  });

  it('marks a value frequent when it crosses the cap and records it no more', async () => {
    const ids = ['10', '11', '12', '13', '14'].map(id);
    await store.putObjects(ids.map((x) => obj(x, V1)), 4);
    const r = await store.indexObservables(ids.slice(0, 4).map((x) => ({ collectionId: COLL, objectId: x, version: V1, values: [dom('cdn.common.org')] })), { cap: 3, nowUs: 99 });
    expect(r.newlyFrequent).toEqual([{ kind: 'domain', value: 'cdn.common.org', sinceUs: 99 }]);
    const before = (await store.observableStats()).rows;
    const r2 = await store.indexObservables([{ collectionId: COLL, objectId: ids[4]!, version: V1, values: [dom('cdn.common.org')] }], { cap: 3, nowUs: 100 });
    expect(r2).toEqual({ indexed: 1, newlyFrequent: [] });
    expect((await store.observableStats()).rows).toBe(before);
    expect(await store.frequentValues({ keys: [{ kind: 'domain', value: 'cdn.common.org' }, { kind: 'domain', value: 'evil.org' }], limit: 10 }))
      .toEqual([{ kind: 'domain', value: 'cdn.common.org', sinceUs: 99 }]);
    expect((await store.observableStats()).frequent).toBe(1);
  });

  it('reads every object version after a date_added, oldest first, with whether the object has another stored version', async () => {
    const all = await store.objectsAddedAfter(0, 1000);
    expect(all.length).toBeGreaterThanOrEqual(9);
    expect(all.map((r) => r.dateAdded)).toEqual([...all.map((r) => r.dateAdded)].sort((a, b) => a - b));
    const tail = await store.objectsAddedAfter(all[2]!.dateAdded, 2);
    expect(tail.map((r) => r.dateAdded)).toEqual([all[3]!.dateAdded, all[4]!.dateAdded]);
    // Object 1 has V2 and V1 in COLL; object 2 only V1.
    const of = (k: string) => all.filter((r) => r.id === id(k) && r.collectionId === COLL);
    expect(of('1').map((r) => [r.version, r.others])).toEqual([[V2, true], [V1, true]]);
    expect(of('2').map((r) => [r.version, r.others, r.creatorOrg, r.revoked])).toEqual([[V1, false, ORG_B, false]]);
    expect(JSON.parse(of('2')[0]!.json)).toMatchObject({ id: id('2'), version: V1 });
  });

  it('takes a sole version as its own head, and a version stored since replaces its values', async () => {
    await store.putObjects([obj(id('20'), V1)], 200);
    const [v1] = (await store.objectsAddedAfter(0, 1000)).filter((r) => r.id === id('20'));
    expect(v1!.others).toBe(false);
    const sole = { seq: v1!.seq, creatorOrg: v1!.creatorOrg, dateAdded: v1!.dateAdded };
    const valuesOf = async () => (await store.observableLinks({ lookups: [{ kind: 'domain', value: 'sole-1.example' }, { kind: 'domain', value: 'sole-2.example' }], excludeObjectId: id('none'), collectionIds: [COLL], audience: asOrg(ORG_A), limit: 10 }))
      .map((l) => [l.objectId, l.version, l.value]);
    expect((await store.indexObservables([{ collectionId: COLL, objectId: id('20'), version: V1, values: [dom('sole-1.example')], sole }], { cap: 10, nowUs: 201 })).indexed).toBe(1);
    expect(await valuesOf()).toEqual([[id('20'), V1, 'sole-1.example']]);
    // Read again (a cursor rolled back): nothing doubles.
    await store.indexObservables([{ collectionId: COLL, objectId: id('20'), version: V1, values: [dom('sole-1.example')], sole }], { cap: 10, nowUs: 202 });
    expect(await valuesOf()).toEqual([[id('20'), V1, 'sole-1.example']]);
    // V2 is stored after V1 was read as sole: its slice looks both up, and V2's values replace V1's.
    await store.putObjects([obj(id('20'), V2)], 203);
    const [v2] = (await store.objectsAddedAfter(0, 1000)).filter((r) => r.id === id('20') && r.version === V2);
    expect(v2!.others).toBe(true);
    await store.indexObservables([{ collectionId: COLL, objectId: id('20'), version: V2, values: [dom('sole-2.example')] }], { cap: 10, nowUs: 204 });
    expect(await valuesOf()).toEqual([[id('20'), V2, 'sole-2.example']]);
  });

  it('finds the rows of a multi-version object by the head it recorded: later versions, late older ones, deletions', async () => {
    const X = id('30');
    const ver = (d: number) => `2026-02-${String(d).padStart(2, '0')}T00:00:00.000000Z`;
    const links = async () => (await store.observableLinks({ lookups: [1, 2, 3, 4, 5, 6, 7].map((k) => ({ kind: 'domain' as const, value: `multi-${k}.example` })), excludeObjectId: id('none'), collectionIds: [COLL], audience: asOrg(ORG_A), limit: 50 }))
      .map((l) => [l.version, l.value]);
    const index = (version: string, k: number, nowUs: number) => store.indexObservables([{ collectionId: COLL, objectId: X, version, values: [dom(`multi-${k}.example`)] }], { cap: 10, nowUs });
    // Sole first (no record), then two versions: the first looked-up indexing reads every version once.
    await store.putObjects([obj(X, ver(1))], 300);
    const [first] = (await store.objectsAddedAfter(0, 1000)).filter((r) => r.id === X);
    await store.indexObservables([{ collectionId: COLL, objectId: X, version: ver(1), values: [dom('multi-1.example')], sole: { seq: first!.seq, creatorOrg: first!.creatorOrg, dateAdded: first!.dateAdded } }], { cap: 10, nowUs: 301 });
    await store.putObjects([obj(X, ver(2))], 302);
    await index(ver(2), 2, 303);
    expect(await links()).toEqual([[ver(2), 'multi-2.example']]);
    // From the record on: each new head replaces the last one's rows.
    for (let d = 3; d <= 5; d++) {
      await store.putObjects([obj(X, ver(d))], 300 + 2 * d);
      await index(ver(d), d, 301 + 2 * d);
      expect(await links()).toEqual([[ver(d), `multi-${d}.example`]]);
    }
    // A late older version is not the head: it changes nothing.
    await store.putObjects([obj(X, '2026-01-15T00:00:00.000000Z')], 320);
    expect((await index('2026-01-15T00:00:00.000000Z', 6, 321)).indexed).toBe(0);
    expect(await links()).toEqual([[ver(5), 'multi-5.example']]);
    // The head is deleted: its rows and its record go; the version left speaks for the object again.
    expect(await store.deleteObject(COLL, X, [ver(5)])).toBe(1);
    expect(await links()).toEqual([]);
    await index(ver(4), 4, 330);
    expect(await links()).toEqual([[ver(4), 'multi-4.example']]);
    // Every version deleted, then the object comes back sole and gets a second version: the sole
    // rows are found (no stale record points elsewhere) and replaced.
    await store.deleteObject(COLL, X, 'all');
    await store.putObjects([obj(X, ver(6))], 340);
    const [again] = (await store.objectsAddedAfter(339, 1000)).filter((r) => r.id === X);
    expect(again!.others).toBe(false);
    await store.indexObservables([{ collectionId: COLL, objectId: X, version: ver(6), values: [dom('multi-6.example')], sole: { seq: again!.seq, creatorOrg: again!.creatorOrg, dateAdded: again!.dateAdded } }], { cap: 10, nowUs: 341 });
    await store.putObjects([obj(X, ver(7))], 342);
    await index(ver(7), 7, 343);
    expect(await links()).toEqual([[ver(7), 'multi-7.example']]);
  });

  it('indexes an object of many versions, stored and read in slices, to its latest values', async () => {
    const Y = id('31');
    const ver = (k: number) => new Date(Date.UTC(2026, 3, 1) + k * 1000).toISOString().replace('Z', '000Z');
    for (let k = 0; k < 600; k += 100) {
      await store.putObjects(Array.from({ length: 100 }, (_, j) => obj(Y, ver(k + j))), 400 + k);
    }
    const mine = (await store.objectsAddedAfter(0, 100000)).filter((r) => r.id === Y);
    expect(mine).toHaveLength(600);
    expect(mine.every((r) => r.others)).toBe(true);
    for (let k = 0; k < 600; k += 250) {
      await store.indexObservables(mine.slice(k, k + 250).map((r) => ({ collectionId: COLL, objectId: Y, version: r.version, values: [dom(`many-${r.version}.example`)] })), { cap: 10, nowUs: 1000 + k });
    }
    const got = await store.observableLinks({ lookups: mine.map((r) => ({ kind: 'domain' as const, value: `many-${r.version}.example` })), excludeObjectId: id('none'), collectionIds: [COLL], audience: asOrg(ORG_A), limit: 1000 });
    expect(got.map((l) => l.version)).toEqual([ver(599)]);
  });

  it('keeps exclusions and warninglists', async () => {
    await store.putCorrelationExclusion({ id: 'e1', type: 'cidr', kind: 'ip', pattern: '10.0.0.0/8', comment: 'lab', createdUs: 1, createdBy: null });
    expect((await store.listCorrelationExclusions()).map((e) => e.pattern)).toEqual(['10.0.0.0/8']);
    expect(await store.deleteCorrelationExclusion('e1')).toBe(true);
    expect(await store.deleteCorrelationExclusion('e1')).toBe(false);
    const w = { id: 'w1', name: 'List', version: 2, description: 'd', type: 'hostname' as const, matchingAttributes: ['domain'], enabled: true, builtin: false, createdUs: 1, updatedUs: 1 };
    await store.putWarninglist(w, ['a.org', 'b.org', 'a.org']);
    expect(await store.listWarninglists()).toEqual([{ ...w, entryCount: 2 }]);
    await store.putWarninglist({ ...w, version: 3, updatedUs: 2 }, ['c.org']);
    expect(await store.warninglistEntries('w1')).toEqual(['c.org']);
    expect(await store.setWarninglistEnabled('w1', false, 3)).toBe(true);
    expect((await store.listWarninglists())[0]).toMatchObject({ enabled: false, version: 3, updatedUs: 3, createdUs: 1 });
    expect(await store.deleteWarninglist('w1')).toBe(true);
    expect(await store.warninglistEntries('w1')).toEqual([]);
    expect(await store.setWarninglistEnabled('w1', true, 4)).toBe(false);
  });
});
