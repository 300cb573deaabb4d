/**
 * The store contract: one suite, run against every dialect (SQLite always; PostgreSQL when
 * the server at SHIELDWALL_TEST_PG answers — it does on CI, which starts it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewObjectRow, RecordRow, Store, TokenRow } from './index.js';
import { storeDialects } from '../../test/helpers/store-dialects.js';
import type { Audience } from '../core/policy.js';
import { plainRow, spoolLinesOf } from './spool-codec.js';

const ORG_A = 'identity--aaaaaaaa-0000-4000-8000-000000000001';
const ORG_B = 'identity--bbbbbbbb-0000-4000-8000-000000000002';
const ORG_C = 'identity--cccccccc-0000-4000-8000-000000000003';
const GROUP = 'identity--99999999-0000-4000-8000-000000000009';
const COLL = '11111111-1111-4111-8111-111111111111';

function obj(id: string, version: string, extra: Partial<NewObjectRow> = {}): NewObjectRow {
  return {
    collectionId: COLL, id, type: id.split('--')[0]!, specVersion: '2.1', version, created: version, modified: version,
    creatorOrg: ORG_A, tlp: 'green', recipients: [], originNode: null, revoked: false, name: `name of ${id}`, labels: ['malicious-activity'],
    searchText: `name of ${id}`.toLowerCase(), json: JSON.stringify({ id, modified: version }), ...extra,
  };
}
const asOrg = (orgId: string, groupIds: string[] = [], hop: 'local' | 'peer' = 'local'): Audience => ({ hop, orgId, groupIds });

const factories = await storeDialects();

async function seedOrgs(store: Store): Promise<void> {
  for (const [id, short] of [[ORG_A, 'A'], [ORG_B, 'B'], [ORG_C, 'C']] as const) {
    await store.putOrganisation({ id, name: `Org ${short}`, shortName: short, country: null, kind: 'member', node: null, createdUs: 1 });
  }
}

describe.each(factories)('Store contract: $name', ({ open }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
    await seedOrgs(store);
    await store.putGroup({ id: GROUP, name: 'AB group', description: '', ownerOrg: ORG_A, createdUs: 1 });
    await store.setGroupMembers(GROUP, [ORG_A, ORG_B]);
    await store.putCollection({ id: COLL, apiRoot: 'api1', alias: 'intel', title: 'Intel', description: '', createdUs: 1 });
  });
  afterAll(async () => cleanup());

  it('keeps organisations, groups and memberships', async () => {
    expect((await store.listOrganisations()).map((o) => o.shortName)).toEqual(['A', 'B', 'C']);
    expect(await store.groupsOfOrg(ORG_B)).toEqual([GROUP]);
    expect(await store.groupsOfOrg(ORG_C)).toEqual([]);
    expect(await store.groupMembers(GROUP)).toEqual([ORG_A, ORG_B].sort());
  });

  it('stores users and tokens and revokes once', async () => {
    await store.putUser({ id: 'u1', orgId: ORG_A, username: 'alice', displayName: 'Alice', passwordHash: 'h', roles: ['analyst', 'admin'], disabled: false, createdUs: 1 });
    expect((await store.getUserByUsername('alice'))?.roles).toEqual(['analyst', 'admin']);
    await store.putToken({ id: 't1', hash: 'abc', userId: 'u1', orgId: ORG_A, kind: 'api', name: 'cli', createdUs: 1, expiresUs: null, revokedUs: null, lastUsedUs: null });
    expect((await store.getTokenByHash('abc'))?.id).toBe('t1');
    expect(await store.revokeToken('t1', 5)).toBe(true);
    expect(await store.revokeToken('t1', 6)).toBe(false);
    expect((await store.getToken('t1'))?.revokedUs).toBe(5);
  });

  it('adds, deduplicates and refuses conflicting versions', async () => {
    const a = obj('indicator--00000000-0000-4000-8000-000000000001', '2024-01-01T00:00:00.000000Z');
    const r1 = await store.putObjects([a], 1_000);
    expect(r1[0]?.status).toBe('added');
    const r2 = await store.putObjects([a, { ...a, json: JSON.stringify({ other: true }) }], 1_000);
    expect(r2.map((r) => r.status)).toEqual(['duplicate', 'conflict']);
    // Key order does not make a different object.
    const reordered = { ...a, json: JSON.stringify({ modified: '2024-01-01T00:00:00.000000Z', id: a.id }) };
    expect((await store.putObjects([reordered], 1_000))[0]?.status).toBe('duplicate');
  });

  it('hands out unique, monotonic date_added even when the wall clock stands still', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => obj(`indicator--00000000-0000-4000-8000-1000000000${String(i).padStart(2, '0')}`, '2024-01-02T00:00:00.000000Z'));
    const out = await store.putObjects(rows, 5);
    const added = out.map((o) => (o.status === 'added' ? o.dateAdded : -1));
    expect(new Set(added).size).toBe(50);
    for (let i = 1; i < added.length; i++) expect(added[i]!).toBeGreaterThan(added[i - 1]!);
  });

  it('allocates single times from the date_added clock: unique, monotonic, after the objects', async () => {
    const t1 = await store.allocateTime(5);
    const t2 = await store.allocateTime(5);
    expect(t2).toBeGreaterThan(t1);
    const [o] = await store.putObjects([obj('indicator--00000000-0000-4000-8000-200000000001', '2024-01-02T00:00:00.000000Z')], 5);
    const added = o?.status === 'added' ? o.dateAdded : -1;
    expect(added).toBeGreaterThan(t2);
    // A wall clock ahead of every value given: the wall clock's own value.
    expect(await store.allocateTime(added + 1_000_000)).toBe(added + 1_000_000);
  });

  it('selects first, last, all and exact versions, and pages by date_added', async () => {
    const id = 'malware--00000000-0000-4000-8000-000000000002';
    const versions = ['2024-02-01T00:00:00.000000Z', '2024-03-01T00:00:00.000000Z', '2024-04-01T00:00:00.000000Z'];
    await store.putObjects(versions.map((v) => obj(id, v)), 10_000);
    const q = { collectionIds: [COLL], audience: asOrg(ORG_B), purpose: 'read' as const, ids: [id], limit: 10 };
    expect((await store.queryObjects(q)).rows.map((r) => r.version)).toEqual([versions[2]]);
    expect((await store.queryObjects({ ...q, version: { kind: 'first' } })).rows.map((r) => r.version)).toEqual([versions[0]]);
    expect((await store.queryObjects({ ...q, version: { kind: 'all' } })).rows.map((r) => r.version)).toEqual(versions);
    expect((await store.queryObjects({ ...q, version: { kind: 'exact', versions: [versions[1]!] } })).rows).toHaveLength(1);
    const p1 = await store.queryObjects({ ...q, version: { kind: 'all' }, limit: 2 });
    expect(p1.more).toBe(true);
    const p2 = await store.queryObjects({ ...q, version: { kind: 'all' }, limit: 2, addedAfter: p1.rows[1]!.dateAdded });
    expect(p2.rows.map((r) => r.version)).toEqual([versions[2]]);
    expect(p2.more).toBe(false);
    expect((await store.queryObjects({ ...q, specVersions: ['2.0'] })).rows).toEqual([]);
  });

  it('filters by the release policy inside the query, and "last" is the last visible version', async () => {
    const id = 'report--00000000-0000-4000-8000-000000000003';
    await store.putObjects([
      obj(id, '2024-05-01T00:00:00.000000Z', { tlp: 'amber', recipients: [GROUP] }),
      obj(id, '2024-06-01T00:00:00.000000Z', { tlp: 'red', recipients: [ORG_C] }),
    ], 20_000);
    const base = { collectionIds: [COLL], purpose: 'read' as const, ids: [id], limit: 10 };
    const seen = async (aud: Audience) => (await store.queryObjects({ ...base, audience: aud })).rows.map((r) => r.version);
    expect(await seen(asOrg(ORG_B, [GROUP]))).toEqual(['2024-05-01T00:00:00.000000Z']);
    expect(await seen(asOrg(ORG_B, []))).toEqual([]);
    expect(await seen(asOrg(ORG_C))).toEqual(['2024-06-01T00:00:00.000000Z']);
    expect(await seen(asOrg(ORG_A))).toEqual(['2024-06-01T00:00:00.000000Z']);
    expect(await seen({ hop: 'public' })).toEqual([]);
    const bulk = await store.queryObjects({ ...base, audience: asOrg(ORG_C), purpose: 'bulk' });
    expect(bulk.rows).toEqual([]);
    const withRecipients = await store.queryObjects({ ...base, audience: asOrg(ORG_C) });
    expect(withRecipients.rows[0]?.recipients).toEqual([ORG_C]);
    const lean = await store.queryObjects({ ...base, audience: asOrg(ORG_C), lean: true });
    expect(lean.rows[0]).toMatchObject({ recipients: [], labels: [], searchText: '', version: '2024-06-01T00:00:00.000000Z' });
    const leanWith = await store.queryObjects({ ...base, audience: asOrg(ORG_C), lean: 'with-recipients' });
    expect(leanWith.rows[0]).toMatchObject({ recipients: [ORG_C], labels: [], searchText: '', json: withRecipients.rows[0]!.json });
  });

  it('searches text, labels, tlp and creator', async () => {
    const base = { collectionIds: [COLL], audience: asOrg(ORG_A), purpose: 'read' as const, limit: 100 };
    const r = await store.queryObjects({ ...base, text: 'NAME OF MALWARE' });
    expect(r.rows.map((x) => x.type)).toEqual(['malware']);
    expect((await store.queryObjects({ ...base, tlps: ['red'] })).rows.map((x) => x.type)).toEqual(['report']);
    expect((await store.queryObjects({ ...base, labels: ['nope'] })).rows).toEqual([]);
    expect((await store.queryObjects({ ...base, creators: [ORG_B] })).rows).toEqual([]);
    const counts = await store.countVisibleByCreator({ collectionIds: [COLL], audience: asOrg(ORG_B, [GROUP]), purpose: 'read' });
    expect(counts.find((c) => c.tlp === 'amber')?.n).toBe(1);
  });

  it('finds relationships by either end', async () => {
    const rel = obj('relationship--00000000-0000-4000-8000-000000000005', '2024-01-01T00:00:00.000000Z', { sourceRef: 'indicator--x', targetRef: 'malware--y' });
    await store.putObjects([rel], 30_000);
    const q = { collectionIds: [COLL], audience: asOrg(ORG_A), purpose: 'read' as const, limit: 10 };
    expect((await store.queryObjects({ ...q, relatedTo: 'malware--y' })).rows.map((r) => r.id)).toEqual([rel.id]);
    expect((await store.queryObjects({ ...q, relatedTo: 'indicator--x' })).rows[0]?.targetRef).toBe('malware--y');
    expect((await store.queryObjects({ ...q, relatedTo: 'tool--z' })).rows).toEqual([]);
  });

  it('deletes versions', async () => {
    const id = 'malware--00000000-0000-4000-8000-000000000002';
    expect(await store.deleteObject(COLL, id, ['2024-04-01T00:00:00.000000Z'])).toBe(1);
    const rows = (await store.queryObjects({ collectionIds: [COLL], audience: asOrg(ORG_A), purpose: 'read', ids: [id], limit: 5 })).rows;
    expect(rows.map((r) => r.version)).toEqual(['2024-03-01T00:00:00.000000Z']);
    expect(await store.deleteObject(COLL, id, 'all')).toBe(2);
    expect(await store.deleteObject(COLL, id, 'all')).toBe(0);
  });

  it('keeps a federated version\'s provenance with its row: read by envelope queries only, filled once, found by id', async () => {
    const id = 'indicator--00000000-0000-4000-8000-0000000000f1';
    const plain = 'indicator--00000000-0000-4000-8000-0000000000f2';
    const v1 = '2024-05-01T00:00:00.000000Z';
    const v2 = '2024-05-02T00:00:00.000000Z';
    await store.putObjects([
      obj(id, v1, { originNode: 'dk', provenance: '{"origin":"dk","n":1}' }),
      obj(id, v2, { originNode: 'dk' }),
      obj(plain, v1),
    ], 10);
    const read = async (lean: boolean | 'with-recipients') => (await store.queryObjects({ collectionIds: [COLL], audience: asOrg(ORG_A), purpose: 'read', ids: [id, plain], version: { kind: 'all' }, limit: 10, lean })).rows;
    const byVersion = (rows: { id: string; version: string; provenance?: string | null }[]) => rows.map((r) => [r.id.slice(-2), r.version.slice(0, 10), r.provenance ?? null]).sort();
    expect(byVersion(await read('with-recipients'))).toEqual([['f1', '2024-05-01', '{"origin":"dk","n":1}'], ['f1', '2024-05-02', null], ['f2', '2024-05-01', null]]);
    // Other reads (TAXII pages, REST) never carry it.
    for (const lean of [true, false]) expect((await read(lean)).every((r) => r.provenance === undefined)).toBe(true);
    // Received again: only a version without provenance gets one; the first stays.
    await store.fillProvenance(COLL, [{ id, version: v1, provenance: '{"origin":"dk","n":2}' }, { id, version: v2, provenance: '{"origin":"dk","n":3}' }]);
    expect(byVersion(await read('with-recipients')).filter((r) => r[0] === 'f1').map((r) => r[2])).toEqual(['{"origin":"dk","n":1}', '{"origin":"dk","n":3}']);
    const found = await store.provenanceOf([id, plain, 'indicator--00000000-0000-4000-8000-0000000000ff']);
    expect([...found.keys()]).toEqual([id]);
    expect(found.get(id)).toBe('{"origin":"dk","n":1}');
    await store.deleteObject(COLL, id, 'all');
    await store.deleteObject(COLL, plain, 'all');
  });

  it('rolls back a failed transaction entirely', async () => {
    const id = 'tool--00000000-0000-4000-8000-000000000004';
    await expect(store.transaction(async (tx) => {
      await tx.putObjects([obj(id, '2024-01-01T00:00:00.000000Z')], 1);
      await tx.setMeta('k', 'v');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect((await store.queryObjects({ collectionIds: [COLL], audience: asOrg(ORG_A), purpose: 'read', ids: [id], limit: 5 })).rows).toEqual([]);
    expect(await store.getMeta('k')).toBeNull();
    expect(await store.initMeta('k', 'first')).toBe('first');
    expect(await store.initMeta('k', 'second')).toBe('first');
  });

  it('lists and counts meta entries by key prefix (a prefix holding _ or % is literal), counting up to a bound', async () => {
    await store.addMetas([...Array.from({ length: 25 }, (_, i) => ({ key: `p_x.${String(i).padStart(2, '0')}`, value: String(i) })), { key: 'p_y.0', value: 'y' }, { key: 'p%x.0', value: 'z' }]);
    expect(await store.countMeta('p_x.')).toBe(25);
    expect(await store.countMeta('p_x.', 10)).toBe(10);
    expect(await store.countMeta('p_')).toBe(26);
    expect(await store.countMeta('none.')).toBe(0);
    expect((await store.listMeta('p_x.', 3)).map((r) => r.key)).toEqual(['p_x.00', 'p_x.01', 'p_x.02']);
  });

  it('creates a meta key only once, saying whether this call created it (the same value again included)', async () => {
    expect(await store.createMeta('once.a', 'v')).toBe(true);
    expect(await store.createMeta('once.a', 'v')).toBe(false);
    expect(await store.createMeta('once.a', 'w')).toBe(false);
    expect(await store.getMeta('once.a')).toBe('v');
  });

  it('commits a relaxed (non-durable) transaction whole, rolls it back whole, and joins an enclosing one', async () => {
    const id = 'tool--00000000-0000-4000-8000-000000000005';
    await store.transaction(async (tx) => {
      await tx.setMeta('relaxed', '1');
    }, { durable: false });
    expect(await store.getMeta('relaxed')).toBe('1');
    await expect(store.transaction(async (tx) => {
      await tx.putObjects([obj(id, '2024-01-01T00:00:00.000000Z')], 1);
      await tx.setMeta('relaxed', '2');
      throw new Error('boom');
    }, { durable: false })).rejects.toThrow('boom');
    expect(await store.getMeta('relaxed')).toBe('1');
    expect((await store.queryObjects({ collectionIds: [COLL], audience: asOrg(ORG_A), purpose: 'read', ids: [id], limit: 5 })).rows).toEqual([]);
    await store.transaction(async (tx) => {
      await tx.transaction(async (inner) => inner.setMeta('relaxed', '3'), { durable: false });
      await tx.setMeta('relaxed-outer', '3');
    });
    expect(await store.getMetas(['relaxed', 'relaxed-outer'])).toEqual(new Map([['relaxed', '3'], ['relaxed-outer', '3']]));
  });

  it('keeps statuses and audit entries', async () => {
    await store.putStatus({ id: 's1', apiRoot: 'api1', createdUs: 100, json: '{}' });
    expect((await store.getStatus('s1'))?.apiRoot).toBe('api1');
    expect(await store.pruneStatuses(101)).toBe(1);
  });

  it('prunes ended web sessions and tickets, never API, sensor or peer tokens', async () => {
    const token = (id: string, kind: TokenRow['kind'], t: Partial<TokenRow>): TokenRow => ({
      id, hash: `h-${id}`, userId: null, orgId: ORG_A, kind, name: id, createdUs: 1, expiresUs: null, revokedUs: null, lastUsedUs: null, ...t,
    });
    for (const t of [
      token('s-expired', 'session', { expiresUs: 50 }), token('s-revoked', 'session', { revokedUs: 60, expiresUs: 10_000 }),
      token('s-live', 'session', { expiresUs: 10_000 }), token('s-recent', 'session', { revokedUs: 150, expiresUs: 10_000 }),
      token('api-old', 'api', { revokedUs: 50 }), token('sensor-old', 'sensor', { expiresUs: 50 }), token('peer-old', 'peer', { revokedUs: 50 }),
    ]) await store.putToken(t);
    expect(await store.pruneSessions(100)).toBe(2);
    const mine = new Set(['s-expired', 's-revoked', 's-live', 's-recent', 'api-old', 'sensor-old', 'peer-old']);
    expect((await store.listTokens({ orgId: ORG_A })).map((t) => t.id).filter((id) => mine.has(id)).sort()).toEqual(['api-old', 'peer-old', 's-live', 's-recent', 'sensor-old']);
    await store.appendAudit({ atUs: 1, userId: 'u1', orgId: ORG_A, tokenId: null, source: '127.0.0.1', action: 'test', target: null, detail: null });
    await store.appendAudit({ atUs: 2, userId: 'u1', orgId: ORG_B, tokenId: null, source: '127.0.0.1', action: 'test2', target: null, detail: null });
    expect((await store.listAudit({ orgId: ORG_A, limit: 10 })).map((a) => a.action)).toEqual(['test']);
  });
});

describe.each(factories)('Store contract, records: $name', ({ open }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
    await seedOrgs(store);
  });
  afterAll(async () => cleanup());
  const rec = (id: string, over: Partial<RecordRow> = {}) => ({
    id, kind: 'incident', parentId: null, creatorOrg: ORG_A, tlp: 'amber' as const, recipients: [ORG_B], originNode: null, exerciseId: null,
    state: 'open', createdUs: 1, updatedUs: 1, rev: 1, json: '{}', ...over,
  });

  it('inserts once and updates only from the current revision', async () => {
    expect(await store.putRecord(rec('r1'))).toBe(true);
    expect(await store.putRecord(rec('r1'))).toBe(false);
    expect(await store.putRecord(rec('r1', { rev: 2, updatedUs: 2, recipients: [ORG_C] }))).toBe(true);
    expect(await store.putRecord(rec('r1', { rev: 2, updatedUs: 3 }))).toBe(false);
    expect((await store.getRecord('r1'))?.recipients).toEqual([ORG_C]);
    // The batch read gives the same rows as the single one, nothing more.
    expect(await store.getRecords(['r1'])).toEqual([await store.getRecord('r1')]);
    // An update from a revision the writer holds leaves the recipients as stored; refused, it changes nothing.
    expect(await store.putRecord(rec('r1', { rev: 3, updatedUs: 4, recipients: [ORG_C], json: '{"n":3}' }), { sameRecipients: true })).toBe(true);
    expect(await store.putRecord(rec('r1', { rev: 3, updatedUs: 5, json: '{"n":4}' }), { sameRecipients: true })).toBe(false);
    expect(await store.getRecord('r1')).toMatchObject({ rev: 3, updatedUs: 4, json: '{"n":3}', recipients: [ORG_C] });
  });

  it('lists only visible records, newest first, and keeps exercises apart', async () => {
    await store.putRecord(rec('r2', { updatedUs: 10, recipients: [ORG_B] }));
    await store.putRecord(rec('r3', { updatedUs: 20, tlp: 'red', recipients: [ORG_B] }));
    await store.putRecord(rec('r4', { updatedUs: 30, exerciseId: 'ex1', tlp: 'green', recipients: [] }));
    const ids = async (orgId: string, exerciseId?: string) =>
      (await store.listRecords({ kind: 'incident', audience: asOrg(orgId), purpose: 'read', limit: 10, ...(exerciseId ? { exerciseId } : {}) })).map((r) => r.id);
    expect(await ids(ORG_B)).toEqual(['r3', 'r2']);
    expect(await ids(ORG_C)).toEqual(['r1']);
    expect(await ids(ORG_A)).toEqual(['r3', 'r2', 'r1']);
    expect(await ids(ORG_C, 'ex1')).toEqual(['r4']);
  });

  it('walks visible records oldest first after an (updated_us, id) cursor', async () => {
    await store.putRecord(rec('w1', { kind: 'walk', updatedUs: 100 }));
    await store.putRecord(rec('w3', { kind: 'walk', updatedUs: 100 }));
    await store.putRecord(rec('w2', { kind: 'walk', updatedUs: 100, recipients: [ORG_C] }));
    await store.putRecord(rec('w0', { kind: 'walk', updatedUs: 200 }));
    const walk = async (orgId: string, after: { us: number; id: string }, limit = 10) =>
      (await store.listRecords({ kind: 'walk', audience: asOrg(orgId), purpose: 'read', limit, after })).map((r) => r.id);
    expect(await walk(ORG_A, { us: -1, id: '' })).toEqual(['w1', 'w2', 'w3', 'w0']);
    expect(await walk(ORG_B, { us: -1, id: '' })).toEqual(['w1', 'w3', 'w0']);
    expect(await walk(ORG_A, { us: 100, id: 'w1' }, 2)).toEqual(['w2', 'w3']);
    expect(await walk(ORG_A, { us: 100, id: 'w3' })).toEqual(['w0']);
    expect(await walk(ORG_A, { us: 200, id: 'w0' })).toEqual([]);
    // Without the policy (scanRecords): every record, after the (updated_us, id) pair.
    const scan = async (afterUs: number, afterId?: string, limit = 10) =>
      (await store.scanRecords({ kind: 'walk', afterUs, ...(afterId !== undefined ? { afterId } : {}), limit })).map((r) => r.id);
    expect(await scan(-1, '')).toEqual(['w1', 'w2', 'w3', 'w0']);
    expect(await scan(100, 'w1', 1)).toEqual(['w2']);
    expect(await scan(100, 'w2')).toEqual(['w3', 'w0']);
    expect(await scan(100)).toEqual(['w0']);
    const lean = await store.scanRecords({ kind: 'walk', afterUs: -1, afterId: '', limit: 10, lean: true });
    const full = await store.scanRecords({ kind: 'walk', afterUs: -1, afterId: '', limit: 10 });
    expect(lean).toEqual(full.map((r) => ({ ...r, json: '' })));
    expect(full.every((r) => r.json.length > 0)).toBe(true);
  });

  it('appends events in order', async () => {
    await store.appendRecordEvent({ recordId: 'r1', atUs: 5, kind: 'comment', orgId: ORG_A, userId: null, json: '{"n":1}' });
    await store.appendRecordEvent({ recordId: 'r1', atUs: 6, kind: 'comment', orgId: ORG_A, userId: null, json: '{"n":2}' });
    expect((await store.listRecordEvents('r1')).map((e) => JSON.parse(e.json).n)).toEqual([1, 2]);
    // Followed across records after a seq, oldest first, a page at a time.
    const third = await store.appendRecordEvent({ recordId: 'r2', atUs: 7, kind: 'comment', orgId: ORG_A, userId: null, json: '{"n":3}' });
    const all = await store.listRecordEvents({ afterSeq: 0, limit: 10 });
    expect(all.map((e) => [e.recordId, JSON.parse(e.json).n])).toEqual([['r1', 1], ['r1', 2], ['r2', 3]]);
    expect((await store.listRecordEvents({ afterSeq: all[0]!.seq, limit: 1 })).map((e) => e.seq)).toEqual([all[1]!.seq]);
    expect(await store.listRecordEvents({ afterSeq: third, limit: 10 })).toEqual([]);
  });

  it('reads, inserts and appends in batches: an existing id is left alone, recipients kept, events in order', async () => {
    const many = Array.from({ length: 950 }, (_, i) => rec(`b${i}`, { recipients: i % 2 ? [ORG_B, ORG_C] : [], updatedUs: 100 + i }));
    expect(await store.putRecord(rec('b-existing'))).toBe(true);
    const ids = await store.insertRecords([many[0]!, rec('b-existing', { json: '{"overwrite":true}' }), ...many.slice(1)]);
    expect(ids).toHaveLength(950);
    expect(ids[0]).toBe('b0');
    expect(ids).not.toContain('b-existing');
    expect((await store.getRecord('b-existing'))?.json).toBe('{}');
    expect(await store.insertRecords([many[3]!])).toEqual([]);
    const got = await store.getRecords(['b1', 'b2', 'nope', 'b949', 'b1']);
    expect(got.map((r) => r.id).sort()).toEqual(['b1', 'b2', 'b949']);
    expect(got.find((r) => r.id === 'b1')!.recipients).toEqual([ORG_B, ORG_C].sort());
    expect(got.find((r) => r.id === 'b2')!.recipients).toEqual([]);
    expect(await store.getRecords([])).toEqual([]);
    await expect(store.insertRecords([rec('b-rev2', { rev: 2 })])).rejects.toThrow(/rev 1/);
    await store.appendRecordEvents(Array.from({ length: 900 }, (_, n) => ({ recordId: 'b5', atUs: n, kind: 'k', orgId: null, userId: null, json: JSON.stringify({ n }) })));
    expect((await store.listRecordEvents('b5')).map((e) => JSON.parse(e.json).n)).toEqual(Array.from({ length: 900 }, (_, n) => n));
    // Visibility of batch-inserted records is the ordinary one.
    const vis = (await store.listRecords({ kind: 'incident', audience: asOrg(ORG_C), purpose: 'read', limit: 2000 })).map((r) => r.id);
    expect(vis).toContain('b1');
    expect(vis).not.toContain('b2');
  });
});

describe.each(factories)('Store contract, detection: $name', ({ open }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
  });
  afterAll(async () => cleanup());

  it('spools one chunk per request, reads events after a cursor inside a chunk, counts, prunes only what is old and consumed', async () => {
    expect(await store.lastIngestSeq()).toBe(0);
    expect(await store.appendIngest({ orgId: ORG_A, sensorId: 's1', receivedUs: 5, exerciseId: null, ...spoolLinesOf([]) })).toBeNull();
    const chunk = (n: number, from: number, receivedUs: number) => ({
      orgId: ORG_A, sensorId: 's1', receivedUs, exerciseId: null,
      ...spoolLinesOf(Array.from({ length: n }, (_, i) => ({ event: `{"n":${from + i}}\tafter a tab — ünïcode`, format: i % 2 ? 'ecs' : null }))),
    });
    const a = (await store.appendIngest(chunk(1000, 0, 10)))!;
    const b = (await store.appendIngest(chunk(200, 1000, 20)))!;
    const c = (await store.appendIngest(chunk(3, 1200, 20)))!;
    expect(a.lastSeq - a.firstSeq).toBe(999);
    expect(b.firstSeq).toBeGreaterThan(a.lastSeq);
    expect(c.firstSeq).toBeGreaterThan(b.lastSeq);
    expect(await store.lastIngestSeq()).toBe(c.lastSeq);
    const all = await store.readIngest(0, 5000);
    expect(all).toHaveLength(1203);
    expect(all.every((r, i) => i === 0 || r.seq > all[i - 1]!.seq)).toBe(true);
    // `event` is decoded when read (an accessor; store/spool-codec.ts): compared as plain values.
    expect(plainRow(all[0]!)).toEqual({ seq: a.firstSeq, orgId: ORG_A, sensorId: 's1', receivedUs: 10, exerciseId: null, event: '{"n":0}\tafter a tab — ünïcode', format: null });
    expect(all[1]!.format).toBe('ecs');
    // A cursor inside a chunk; a page that ends inside another.
    const page = await store.readIngest(all[99]!.seq, 10);
    expect(page.map((r) => r.event.split('\t')[0])).toEqual(Array.from({ length: 10 }, (_, i) => `{"n":${100 + i}}`));
    const across = await store.readIngest(all[995]!.seq, 7);
    expect(across.map((r) => r.seq)).toEqual(all.slice(996, 1003).map((r) => r.seq));
    // Whole chunks: everything of each chunk read until the limit is reached.
    expect(await store.readIngest(all[995]!.seq, 7, { wholeChunks: true })).toHaveLength(4 + 200);
    expect(await store.countIngestAfter(0)).toBe(1203);
    expect(await store.countIngestAfter(all[99]!.seq)).toBe(1103);
    expect(await store.countIngestAfter(a.lastSeq)).toBe(203);
    expect(await store.countIngestAfter(c.lastSeq)).toBe(0);
    // Consumed through the middle of chunk b; only chunks received before 15 may go: chunk a.
    expect(await store.pruneIngest({ throughSeq: all[1100]!.seq, receivedBeforeUs: 15 })).toBe(1);
    // Consumed through the middle of b, old enough: b is not wholly consumed, so it stays.
    expect(await store.pruneIngest({ throughSeq: all[1100]!.seq, receivedBeforeUs: 30 })).toBe(0);
    expect((await store.readIngest(0, 5000)).length).toBe(203);
    expect(await store.pruneIngest({ throughSeq: c.lastSeq, receivedBeforeUs: 30 })).toBe(2);
    expect(await store.lastIngestSeq()).toBe(0);
    // Seqs only grow, also once the spool was pruned empty (a cursor behind must never pass new events).
    const d = (await store.appendIngest(chunk(1, 2000, 40)))!;
    expect(d.firstSeq).toBeGreaterThan(c.lastSeq);
    expect((await store.readIngest(c.lastSeq, 10)).map((r) => r.seq)).toEqual([d.firstSeq]);
  });

  it('finds where the spool\'s events received since a time start, with a few probes whatever its size', async () => {
    // Received times far after any chunk the other tests appended (they share the store).
    const T = 1_000_000_000;
    const chunk = (receivedUs: number) => ({ orgId: ORG_A, sensorId: 's1', receivedUs, exerciseId: null, ...spoolLinesOf([{ event: `{"t":${receivedUs - T}}`, format: 'ecs' }, { event: '{}', format: 'ecs' }]) });
    const seqs: { firstSeq: number; lastSeq: number }[] = [];
    for (let i = 0; i < 300; i++) seqs.push((await store.appendIngest(chunk(T + 1_000 + 10 * i)))!);
    // Gaps in the chunk seqs (pruned chunks) change nothing.
    await store.pruneIngest({ throughSeq: seqs[4]!.lastSeq, receivedBeforeUs: T + 1_045 });
    const startOf = async (t: number) => (await store.readIngest(await store.ingestSeqBefore(T + t), 1))[0]?.event;
    expect(await startOf(1_000)).toBe('{"t":1050}'); // the oldest retained chunk is newer
    expect(await startOf(1_050)).toBe('{"t":1050}');
    expect(await startOf(1_051)).toBe('{"t":1060}');
    expect(await startOf(2_000)).toBe('{"t":2000}');
    expect(await startOf(3_990)).toBe('{"t":3990}');
    for (let t = 1_000; t < 4_000; t += 137) expect(await startOf(t)).toBe(`{"t":${Math.max(1_050, Math.ceil(t / 10) * 10)}}`);
    // Everything older than the time: after the last event.
    expect(await store.ingestSeqBefore(T + 5_000)).toBe(seqs[299]!.lastSeq);
    expect(await store.readIngest(await store.ingestSeqBefore(T + 5_000), 1)).toEqual([]);
  });

  it('adds to rate counters per bucket and keeps exercises apart', async () => {
    await store.addRates([{ orgId: ORG_A, sensorId: 's1', bucketUs: 60, exerciseId: null, events: 5, alerts: 1 }]);
    await store.addRates([{ orgId: ORG_A, sensorId: 's1', bucketUs: 60, exerciseId: null, events: 7, alerts: 0 }]);
    await store.addRates([{ orgId: ORG_A, sensorId: 's1', bucketUs: 60, exerciseId: 'ex1', events: 100, alerts: 9 }]);
    expect(await store.listRates({ sinceUs: 0, exerciseId: null })).toEqual([{ orgId: ORG_A, sensorId: 's1', bucketUs: 60, exerciseId: null, events: 12, alerts: 1 }]);
    expect((await store.listRates({ sinceUs: 0, exerciseId: 'ex1' }))[0]?.events).toBe(100);
    expect(await store.listRates({ sinceUs: 61, exerciseId: null })).toEqual([]);
  });

  it('upserts alert facts and lists them newest first', async () => {
    const f = { id: 'alert--1', orgId: ORG_A, groupKey: 'k1', source: 'sigma', severity: 'high', status: 'new', techniques: ['T1059.001'], count: 1, firstUs: 5, lastUs: 5, exerciseId: null };
    await store.putAlertFacts(f);
    await store.putAlertFacts({ ...f, id: 'alert--2', groupKey: 'k2', techniques: [], lastUs: 9 });
    await store.putAlertFacts({ ...f, count: 3, lastUs: 7, status: 'acknowledged' });
    expect(await store.getAlertFacts('alert--1')).toEqual({ ...f, count: 3, lastUs: 7, status: 'acknowledged' });
    await store.setAlertFactsStatus('alert--1', 'false-positive');
    expect(await store.getAlertFacts('alert--1')).toEqual({ ...f, count: 3, lastUs: 7, status: 'false-positive' });
    expect((await store.listAlertFacts({ sinceUs: 6, exerciseId: null, limit: 10 })).map((a) => a.id)).toEqual(['alert--2', 'alert--1']);
    expect(await store.listAlertFacts({ sinceUs: 0, exerciseId: 'ex1', limit: 10 })).toEqual([]);
    await store.putAlertFacts({ ...f, id: 'alert--3', groupKey: 'ex1\u001fk1', lastUs: 8, exerciseId: 'ex1' });
    expect((await store.listAlertFacts({ sinceUs: 0, exerciseId: 'ex1', limit: 10 })).map((a) => a.id)).toEqual(['alert--3']);
    expect((await store.listAlertFacts({ sinceUs: 6, exerciseId: null, limit: 10 })).map((a) => a.id)).toEqual(['alert--2', 'alert--1']);
    expect((await store.listAlertFacts({ sinceUs: 6, exerciseId: '*', limit: 10 })).map((a) => a.id)).toEqual(['alert--2', 'alert--3', 'alert--1']);
    // Written since (the alert record's updated_us, by the clock) counts whatever the event time.
    const rec = (id: string, updatedUs: number) => ({ id, kind: 'alert', parentId: null, creatorOrg: ORG_A, tlp: 'amber' as const, recipients: [], originNode: null, exerciseId: null, state: 'new', createdUs: updatedUs, updatedUs, rev: 1, json: '{}' });
    await store.putRecord(rec('alert--1', 1_000));
    await store.putRecord(rec('alert--2', 50));
    expect((await store.listAlertFacts({ sinceUs: 8, exerciseId: null, limit: 10 })).map((a) => a.id)).toEqual(['alert--2']);
    expect((await store.listAlertFacts({ sinceUs: 8, writtenSinceUs: 900, exerciseId: null, limit: 10 })).map((a) => a.id)).toEqual(['alert--2', 'alert--1']);
    expect((await store.listAlertFacts({ sinceUs: 100, writtenSinceUs: 900, exerciseId: '*', limit: 10 })).map((a) => a.id)).toEqual(['alert--1']);
  });

  it('lists visible alert records newest first by last seen, paged by a keyset cursor', async () => {
    const alert = (id: string, lastUs: number, updatedUs: number, recipients: string[]) => ({
      id, kind: 'alert', parentId: null, creatorOrg: ORG_A, tlp: 'amber' as const, recipients, originNode: null, exerciseId: null,
      state: 'new', createdUs: 1, updatedUs, rev: 1, json: '{}',
    });
    const facts = { orgId: ORG_A, groupKey: 'g', source: 'indicator', severity: 'high', status: 'new', techniques: [], count: 1, firstUs: 1, exerciseId: null };
    // Updated in the opposite order of last seen: the list follows last seen.
    for (const [id, last, upd, rc] of [['alert--a1', 300, 1, [ORG_B]], ['alert--a2', 200, 2, [ORG_B]], ['alert--a3', 200, 3, []], ['alert--a4', 100, 4, [ORG_B]]] as const) {
      await store.putRecord(alert(id, last, upd, [...rc]));
      await store.putAlertFacts({ ...facts, id, lastUs: last });
    }
    const page = async (orgId: string, limit: number, before?: { lastUs: number; id: string }) =>
      (await store.listAlertRecords({ audience: asOrg(orgId), purpose: 'read', limit, ...(before ? { before } : {}) })).filter((r) => r.id.startsWith('alert--a'));
    expect((await page(ORG_A, 10)).map((r) => [r.id, r.lastUs])).toEqual([['alert--a1', 300], ['alert--a3', 200], ['alert--a2', 200], ['alert--a4', 100]]);
    expect((await page(ORG_B, 10)).map((r) => r.id)).toEqual(['alert--a1', 'alert--a2', 'alert--a4']);
    expect((await page(ORG_C, 10)).map((r) => r.id)).toEqual([]);
    expect((await page(ORG_A, 10, { lastUs: 200, id: 'alert--a3' })).map((r) => r.id)).toEqual(['alert--a2', 'alert--a4']);
  });

  it('moves a meta key by compare-and-set only from the expected value, also when two writers race', async () => {
    await store.setMeta('cas.test', '10');
    expect(await store.casMeta('cas.test', '9', '20')).toBe(false);
    expect(await store.getMeta('cas.test')).toBe('10');
    expect(await store.casMeta('cas.test', '10', '20')).toBe(true);
    expect(await store.casMeta('absent.key', '0', '1')).toBe(false);
    // Two transactions from the same position: exactly one moves it.
    const race = await Promise.allSettled(['30', '31'].map((v) => store.transaction(async (tx) => {
      if (!(await tx.casMeta('cas.test', '20', v))) throw new Error('moved');
    })));
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(['30', '31']).toContain(await store.getMeta('cas.test'));
  });

  it('keeps dead letters by seq, per organisation, newest first, and removes them once', async () => {
    const base = { sensorId: 's1', receivedUs: 5, exerciseId: null, event: '{"x":1}', format: 'ecs', reason: 'hung', ruleRef: 'sigma:r1', attempts: 3, createdUs: 9 };
    await store.putDeadLetter({ ...base, seq: 101, orgId: ORG_A });
    await store.putDeadLetter({ ...base, seq: 205, orgId: ORG_A, ruleRef: null });
    await store.putDeadLetter({ ...base, seq: 150, orgId: 'identity--other' });
    await store.putDeadLetter({ ...base, seq: 101, orgId: ORG_A, reason: 'hung again', attempts: 4 });
    expect(await store.getDeadLetter(101)).toEqual({ ...base, seq: 101, orgId: ORG_A, reason: 'hung again', attempts: 4 });
    expect(await store.getDeadLetter(999)).toBeNull();
    expect((await store.listDeadLetters({ limit: 10 })).map((d) => d.seq)).toEqual([205, 150, 101]);
    expect((await store.listDeadLetters({ orgId: ORG_A, limit: 10 })).map((d) => d.seq)).toEqual([205, 101]);
    expect((await store.listDeadLetters({ beforeSeq: 205, limit: 1 })).map((d) => d.seq)).toEqual([150]);
    expect(await store.countDeadLetters()).toBe(3);
    expect(await store.countDeadLetters({ orgId: ORG_A })).toBe(2);
    expect(await store.deadLetterSeqs(100, 200)).toEqual([101, 150]);
    expect(await store.deleteDeadLetter(150)).toBe(true);
    expect(await store.deleteDeadLetter(150)).toBe(false);
    expect(await store.countDeadLetters()).toBe(2);
    // Settled (retried or discarded): not listed, still skipped, and a late quarantine of the same
    // event (a redelivered stream message) does not bring it back.
    expect(await store.settleDeadLetter(101)).toBe(true);
    expect(await store.settleDeadLetter(101)).toBe(false);
    expect(await store.getDeadLetter(101)).toBeNull();
    expect((await store.listDeadLetters({ limit: 10 })).map((d) => d.seq)).toEqual([205]);
    expect(await store.countDeadLetters()).toBe(1);
    expect(await store.deadLetterSeqs(100, 200)).toEqual([101]);
    await store.putDeadLetter({ ...base, seq: 101, orgId: ORG_A, reason: 'hung a third time', attempts: 5 });
    expect(await store.getDeadLetter(101)).toBeNull();
    expect(await store.countDeadLetters()).toBe(1);
  });
});
