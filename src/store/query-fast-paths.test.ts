/**
 * The fast paths of the object store, on every dialect: `lean` rows (TAXII) are the full rows
 * minus recipients and search text; first/last stay "first/last among the versions the
 * audience may see" whatever the order of visible and hidden versions; the hand-built bulk
 * INSERT keeps every outcome right across statement boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewObjectRow, ObjectQuery, Store } from './index.js';
import { storeDialects } from '../../test/helpers/store-dialects.js';
import type { Audience } from '../core/policy.js';

const ORG_A = 'identity--aaaaaaaa-0000-4000-8000-00000000000a';
const ORG_B = 'identity--bbbbbbbb-0000-4000-8000-00000000000b';
const ORG_C = 'identity--cccccccc-0000-4000-8000-00000000000c';
const COLL = '22222222-2222-4222-8222-222222222222';
const OTHER = '33333333-3333-4333-8333-333333333333';
const asOrg = (orgId: string): Audience => ({ hop: 'local', orgId, groupIds: [] });

function row(id: string, version: string, extra: Partial<NewObjectRow> = {}): NewObjectRow {
  return {
    collectionId: COLL, id, type: id.split('--')[0]!, specVersion: '2.1', version, created: version, modified: version,
    creatorOrg: ORG_A, tlp: 'green', recipients: [], originNode: null, revoked: false, name: `n ${id}`, labels: ['x'],
    searchText: `n ${id}`, json: JSON.stringify({ id, modified: version }), ...extra,
  };
}

const factories = await storeDialects();

const V = ['2024-01-01T00:00:00.000000Z', '2024-02-01T00:00:00.000000Z', '2024-03-01T00:00:00.000000Z', '2024-04-01T00:00:00.000000Z', '2024-05-01T00:00:00.000000Z'];

describe.each(factories)('queryObjects fast paths: $name', ({ open }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const id = 'indicator--00000000-0000-4000-8000-0000000000f1';
  beforeAll(async () => {
    ({ store, cleanup } = await open());
    for (const [o, s] of [[ORG_A, 'A'], [ORG_B, 'B'], [ORG_C, 'C']] as const) {
      await store.putOrganisation({ id: o, name: `Org ${s}`, shortName: s, country: null, kind: 'member', node: null, createdUs: 1 });
    }
    for (const c of [COLL, OTHER]) await store.putCollection({ id: c, apiRoot: 'api1', alias: null, title: c, description: '', createdUs: 1 });
    // B sees V0 (green), V2 (amber to B), V3 (green); not V1 (red to C) nor V4 (amber to C).
    await store.putObjects([
      row(id, V[0]!), row(id, V[1]!, { tlp: 'red', recipients: [ORG_C] }), row(id, V[2]!, { tlp: 'amber', recipients: [ORG_B] }),
      row(id, V[3]!), row(id, V[4]!, { tlp: 'amber', recipients: [ORG_C] }),
      // A later version of the same id in another collection must not hide the last one here.
      row(id, '2025-01-01T00:00:00.000000Z', { collectionId: OTHER }),
    ], 1_000);
  });
  afterAll(async () => cleanup());

  const q = (audience: Audience, extra: Partial<ObjectQuery> = {}): ObjectQuery => ({ collectionIds: [COLL], audience, purpose: 'read', ids: [id], limit: 10, ...extra });
  const versions = async (x: ObjectQuery) => (await store.queryObjects(x)).rows.map((r) => r.version);

  it('first and last are computed among the visible versions only', async () => {
    expect(await versions(q(asOrg(ORG_B)))).toEqual([V[3]]);
    expect(await versions(q(asOrg(ORG_B), { version: { kind: 'first' } }))).toEqual([V[0]]);
    expect(await versions(q(asOrg(ORG_C)))).toEqual([V[4]]);
    expect(await versions(q(asOrg(ORG_A)))).toEqual([V[4]]);
    expect(await versions(q(asOrg(ORG_B), { version: { kind: 'union', first: true, last: true, versions: [V[2]!] } }))).toEqual([V[0], V[2], V[3]]);
    expect(await versions(q(asOrg(ORG_B), { purpose: 'bulk' }))).toEqual([V[3]]);
    expect(await versions(q({ hop: 'public' }))).toEqual([]);
    expect(await versions(q(asOrg(ORG_B), { collectionIds: [OTHER] }))).toEqual(['2025-01-01T00:00:00.000000Z']);
    // Named ids take the probe from the index's end (per collection); other filters still apply to the row found.
    expect(await versions(q(asOrg(ORG_B), { collectionIds: [COLL, OTHER] }))).toEqual([V[3], '2025-01-01T00:00:00.000000Z']);
    expect(await versions(q(asOrg(ORG_B), { types: ['indicator'] }))).toEqual([V[3]]);
    expect(await versions(q(asOrg(ORG_B), { types: ['malware'] }))).toEqual([]);
    expect(await versions(q(asOrg(ORG_C), { version: { kind: 'first' }, ids: [id, 'indicator--00000000-0000-4000-8000-0000000000ff'] }))).toEqual([V[0]]);
    // The same answers by a scan (no ids) as by the probes.
    const scanned = (await store.queryObjects({ ...q(asOrg(ORG_B)), ids: undefined, limit: 100 })).rows.filter((r) => r.id === id).map((r) => r.version);
    expect(scanned).toEqual([V[3]]);
  });

  it('with a scan limit, reads a window of versions and says where it stopped when the page is not full', async () => {
    const all = await store.queryObjects({ collectionIds: [COLL, OTHER], audience: asOrg(ORG_A), purpose: 'read', version: { kind: 'all' }, limit: 100 });
    const dates = all.rows.map((r) => r.dateAdded);
    expect(dates.length).toBeGreaterThanOrEqual(6);
    const base = { collectionIds: [COLL, OTHER], audience: asOrg(ORG_A), purpose: 'read' as const, version: { kind: 'all' as const }, limit: 100 };
    // Nothing matches in the first window of 2: an empty page that resumes after the second version.
    const none = await store.queryObjects({ ...base, text: 'no such text', scanLimit: 2 });
    expect(none).toEqual({ rows: [], more: false, scannedTo: dates[1] });
    // Windows cover everything once: their rows are the rows of the unbounded query.
    const got: number[] = [];
    let after: number | undefined;
    for (let k = 0; k < 20; k++) {
      const page = await store.queryObjects({ ...base, scanLimit: 4, ...(after !== undefined ? { addedAfter: after } : {}) });
      got.push(...page.rows.map((r) => r.dateAdded));
      if (page.scannedTo === undefined) break;
      after = page.scannedTo;
    }
    expect(got).toEqual(dates);
    // A page that fills first is an ordinary page.
    expect(await store.queryObjects({ ...base, limit: 1, scanLimit: 4 })).toMatchObject({ more: true });
    expect((await store.queryObjects({ ...base, limit: 1, scanLimit: 4 })).scannedTo).toBeUndefined();
  });

  it('reads an object\'s latest versions first, visible ones only, and stops at the limit', async () => {
    const page = await store.queryObjects(q(asOrg(ORG_B), { version: { kind: 'all' }, latestVersionsFirst: true, limit: 2 }));
    expect(page.rows.map((r) => r.version)).toEqual([V[3], V[2]]);
    expect(page.more).toBe(true);
    expect(await versions(q(asOrg(ORG_C), { version: { kind: 'all' }, latestVersionsFirst: true, limit: 10 }))).toEqual([V[4], V[3], V[1], V[0]]);
  });

  it('lean rows equal full rows except recipients, labels and search text', async () => {
    for (const version of [{ kind: 'all' } as const, { kind: 'last' } as const]) {
      const full = await store.queryObjects(q(asOrg(ORG_C), { version }));
      const lean = await store.queryObjects(q(asOrg(ORG_C), { version, lean: true }));
      expect(lean.more).toBe(full.more);
      expect(lean.rows).toEqual(full.rows.map((r) => ({ ...r, recipients: [], labels: [], searchText: '' })));
      expect(full.rows.some((r) => r.recipients.length > 0)).toBe(true);
    }
    const page = await store.queryObjects(q(asOrg(ORG_A), { version: { kind: 'all' }, limit: 2, lean: true }));
    expect(page.more).toBe(true);
    expect(page.rows.map((r) => r.version)).toEqual([V[0], V[1]]);
  });

  it('jsonBytes rows carry the stored JSON as its exact UTF-8 bytes (non-ASCII included), the rest as lean rows', async () => {
    const uid = 'indicator--00000000-0000-4000-8000-0000000000f2';
    // Non-ASCII, an escaped character and spacing the serialiser would not produce: bytes are as stored.
    const json = `{"id":"${uid}", "name":"Zürich – 東京 \\u00e9 🛡"}`;
    await store.putObjects([row(uid, V[0]!, { json, collectionId: OTHER })], 2_000);
    const lean = await store.queryObjects(q(asOrg(ORG_A), { collectionIds: [OTHER], ids: [uid], lean: true }));
    const bytes = await store.queryObjects(q(asOrg(ORG_A), { collectionIds: [OTHER], ids: [uid], lean: true, jsonBytes: true }));
    expect(bytes.rows).toHaveLength(1);
    const b = bytes.rows[0]!;
    expect(Buffer.isBuffer(b.jsonBytes)).toBe(true);
    expect(b.jsonBytes!.equals(Buffer.from(json, 'utf8'))).toBe(true);
    expect(b.json).toBe('');
    const { jsonBytes: _, ...rest } = b;
    expect(rest).toEqual({ ...lean.rows[0]!, json: '' });
    // Without lean, jsonBytes changes nothing.
    expect((await store.queryObjects(q(asOrg(ORG_A), { collectionIds: [OTHER], ids: [uid], jsonBytes: true }))).rows[0]!.json).toBe(json);
  });

  it('bulk insert over several statements: added, duplicate, conflict, recipients and monotonic date_added', async () => {
    const n = 2500;
    const id = (i: number) => `indicator--${String(i).padStart(8, '0')}-0000-4000-8000-000000000bb1`;
    const rows = Array.from({ length: n }, (_, i) => row(id(i), V[0]!, { recipients: i % 3 === 0 ? [ORG_B, ORG_B, ORG_C] : [], tlp: i % 3 === 0 ? 'amber' : 'green' }));
    const first = await store.putObjects(rows, 50_000);
    expect(first.every((o) => o.status === 'added')).toBe(true);
    const dates = first.map((o) => (o.status === 'added' ? o.dateAdded : 0));
    for (let i = 1; i < n; i++) expect(dates[i]!).toBeGreaterThan(dates[i - 1]!);
    // Re-post: duplicates (same JSON) keep their date_added; a changed JSON is a conflict; a
    // second copy inside one batch is a duplicate of the first.
    const again = [...rows.slice(0, 1200), row(id(1500), V[0]!, { json: '{"changed":true}' }), row(id(n), V[0]!), row(id(n), V[0]!)];
    const out = await store.putObjects(again, 60_000);
    expect(out.slice(0, 1200)).toEqual(dates.slice(0, 1200).map((d) => ({ status: 'duplicate', dateAdded: d })));
    expect(out[1200]?.status).toBe('conflict');
    expect(out[1201]?.status).toBe('added');
    expect(out[1202]).toEqual({ status: 'duplicate', dateAdded: out[1201]?.status === 'added' ? out[1201].dateAdded : -1 });
    const r = await store.queryObjects({ collectionIds: [COLL], audience: asOrg(ORG_C), purpose: 'read', ids: [id(3), id(4), id(2001)], limit: 10 });
    expect(r.rows.map((x) => [x.id, x.recipients])).toEqual([[id(3), [ORG_B, ORG_C]], [id(4), []], [id(2001), [ORG_B, ORG_C]]]);
    expect(await store.countObjects(COLL)).toBe(5 + n + 1);
  });

  it('objectHeads: across collections, the owner (first creator) with its last and earliest revoked version, for more ids than one statement takes', async () => {
    const h = (i: number) => `malware--${String(i).padStart(8, '0')}-0000-4000-8000-000000000cc1`;
    await store.putObjects([
      row(h(0), V[0]!), row(h(0), V[2]!, { revoked: true }), row(h(0), V[3]!, { revoked: true }), row(h(0), V[1]!),
      row(h(1), V[1]!, { creatorOrg: ORG_B }),
      row(h(2), V[4]!, { collectionId: OTHER }),
      ...Array.from({ length: 1100 }, (_, i) => row(h(10 + i), V[i % 5]!)),
    ], 70_000);
    // A later row of h(1) by another organisation (possible in a store written before versioning held across collections) neither owns it nor moves its head.
    await store.putObjects([row(h(1), V[4]!, { creatorOrg: ORG_A, collectionId: OTHER, revoked: true })], 70_001);
    const ids = [h(0), h(1), h(2), h(3), h(0), ...Array.from({ length: 1100 }, (_, i) => h(10 + i))];
    const heads = await store.objectHeads(ids);
    expect(heads.get(h(0))).toEqual({ id: h(0), lastVersion: V[3], revokedAt: V[2], creatorOrg: ORG_A });
    expect(heads.get(h(1))).toEqual({ id: h(1), lastVersion: V[1], revokedAt: null, creatorOrg: ORG_B });
    expect(heads.get(h(2))).toEqual({ id: h(2), lastVersion: V[4], revokedAt: null, creatorOrg: ORG_A });
    expect(heads.has(h(3))).toBe(false);
    expect(heads.size).toBe(3 + 1100);
    expect(heads.get(h(10 + 1099))?.lastVersion).toBe(V[1099 % 5]);
  });

  it('storedVersions: every copy of exact (id, version) pairs, any collection, oldest first', async () => {
    const h = (i: number) => `tool--${String(i).padStart(8, '0')}-0000-4000-8000-000000000dd1`;
    await store.putObjects([row(h(0), V[0]!), row(h(0), V[1]!), row(h(1), V[1]!)], 80_000);
    await store.putObjects([row(h(0), V[0]!, { collectionId: OTHER })], 80_100);
    const got = await store.storedVersions([{ id: h(0), version: V[0]! }, { id: h(1), version: V[0]! }, { id: h(2), version: V[0]! }]);
    expect(got.map((g) => [g.id, g.version, g.collectionId])).toEqual([[h(0), V[0], COLL], [h(0), V[0], OTHER]]);
    expect(got[0]!.dateAdded).toBeLessThan(got[1]!.dateAdded);
  });
});
