/**
 * STIX versioning kept exact (issue #10, docs/stix-versioning.md): content under an (id, modified)
 * never changes on any path; one (id, modified) is one content everywhere; revoked is final; only
 * the owner versions an id, in any collection. The rules run on every store dialect; the HTTP
 * paths (TAXII POST / GET objects / versions, REST GET /intel/:id, REST import and export) on
 * SQLite through app.inject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ManualClock } from '../src/core/index.js';
import { AccessService, SYSTEM_ACTOR, type Actor, type Principal } from '../src/access/index.js';
import { IntelService } from '../src/intel/index.js';
import { IndicatorFeed } from '../src/detect/pipeline/feed.js';
import { TLP2_MARKINGS, TLP2_MARKING_IDS } from '../src/stix/index.js';
import { TLP1_MARKINGS } from '../src/stix/tlp.js';
import type { Platform } from '../src/api/index.js';
import { openPostgresStore, type NewObjectRow, type Store } from '../src/store/index.js';
import { storeDialects } from './helpers/store-dialects.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';
import { ROOT, T0, bearer, buildApp, makeCollection, makeOrg, makePlatform, taxii, uuid, type Org } from './taxii-fixtures.js';

const T1 = '2025-01-01T00:00:00.000Z';
const T2 = '2025-02-01T00:00:00.000Z';
const T3 = '2025-03-01T00:00:00.000Z';
const T4 = '2025-04-01T00:00:00.000Z';
const MITRE = 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5';

function ind(id: string, modified: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id, created: T1, modified, name: `v ${modified}`,
    pattern: `[domain-name:value = '${modified.slice(0, 7)}.example']`, pattern_type: 'stix', valid_from: T1, ...extra,
  };
}

const factories = await storeDialects();

describe.each(factories)('versioning rules across collections: $name', ({ open }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let intel: IntelService;
  let a: Actor;
  let b: Actor;
  let orgA: string;
  let orgB: string;
  let c1: string;
  let c2: string;
  const clock = new ManualClock('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    ({ store, cleanup } = await open());
    const access = new AccessService(store, clock);
    orgA = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'CRV', shortName: 'CRV' })).id;
    orgB = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Other', shortName: 'OTH' })).id;
    c1 = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'one' })).id;
    c2 = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'two' })).id;
    const p = (orgId: string): Principal => ({ orgId, userId: null, username: null, roles: ['analyst'], tokenId: null, kind: 'api', groupIds: [] });
    a = { principal: p(orgA), source: 'test' };
    b = { principal: p(orgB), source: 'test' };
    intel = new IntelService(store, clock);
  });
  afterAll(async () => cleanup());

  const copies = async (id: string) => {
    const rows = [];
    for (const c of [c1, c2]) {
      rows.push(...(await store.queryObjects({ collectionIds: [c], audience: { hop: 'local', orgId: orgA, groupIds: [] }, purpose: 'read', ids: [id], version: { kind: 'all' }, limit: 100 })).rows);
    }
    return rows;
  };

  it('refuses a cross-collection takeover: another organisation cannot version an id in a collection it can write', async () => {
    const id = `indicator--${uuid()}`;
    expect((await intel.submit(a, c1, [ind(id, T1)], { defaultTlp: 'green' }))[0]?.status).toBe('added');
    const [r] = await intel.submit(b, c2, [ind(id, T2, { pattern: "[domain-name:value = 'takeover.example']" })], { defaultTlp: 'green' });
    expect(r).toMatchObject({ status: 'rejected', versionText: T2, message: expect.stringMatching(/created by another organisation.*in any collection/) });
    expect((await copies(id)).map((x) => [x.collectionId, x.version])).toEqual([[c1, '2025-01-01T00:00:00.000000Z']]);
    // The owner itself may version the id in the other collection.
    expect((await intel.submit(a, c2, [ind(id, T2)], { defaultTlp: 'green' }))[0]?.status).toBe('added');
  });

  it('revoked is final in every collection: no version after it, none dated between the first and the revoking one', async () => {
    const id = `indicator--${uuid()}`;
    const res = await intel.submit(a, c1, [ind(id, T1), ind(id, T3, { revoked: true })], { defaultTlp: 'green' });
    expect(res.map((r) => r.status)).toEqual(['added', 'added']);
    for (const [coll, v] of [[c1, T2], [c2, T2], [c1, T4], [c2, T4]] as const) {
      const [r] = await intel.submit(a, coll, [ind(id, v, v === T4 ? { revoked: true } : {})], { defaultTlp: 'green' });
      expect(r, `${coll} ${v}`).toMatchObject({ status: 'rejected', message: expect.stringMatching(/is revoked.*no new version/) });
    }
    // Re-posting stored versions stays idempotent.
    expect((await intel.submit(a, c1, [ind(id, T1), ind(id, T3, { revoked: true })], { defaultTlp: 'green' })).map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    // One batch may carry a whole history that ends in its revocation, in any order.
    const id2 = `indicator--${uuid()}`;
    const hist = await intel.submit(a, c1, [ind(id2, T3, { revoked: true }), ind(id2, T1), ind(id2, T2)], { defaultTlp: 'green' });
    expect(hist.map((r) => r.status)).toEqual(['added', 'added', 'added']);
  });

  it('a revocation is the last version: a revoked version dated before a stored later one is refused', async () => {
    const id = `indicator--${uuid()}`;
    expect((await intel.submit(a, c1, [ind(id, T1), ind(id, T3)], { defaultTlp: 'green' })).map((r) => r.status)).toEqual(['added', 'added']);
    const [r] = await intel.submit(a, c2, [ind(id, T2, { revoked: true })], { defaultTlp: 'green' });
    expect(r).toMatchObject({ status: 'rejected', versionText: T2, message: expect.stringMatching(/later than this revoked version.*revocation is the last version/) });
    // Later than every stored version, it goes in, and closes the id.
    expect((await intel.submit(a, c1, [ind(id, T4, { revoked: true })], { defaultTlp: 'green' }))[0]?.status).toBe('added');
    expect((await copies(id)).map((x) => [x.version.slice(0, 10), x.revoked])).toEqual([['2025-01-01', false], ['2025-03-01', false], ['2025-04-01', true]]);
  });

  it('a marking definition has no versions: another created under its id is refused, for its creator too', async () => {
    const id = `marking-definition--${uuid()}`;
    const m1 = { type: 'marking-definition', spec_version: '2.1', id, created: T1, definition_type: 'statement', definition: { statement: 'Copyright CRV' } };
    expect((await intel.submit(a, c1, [m1]))[0]?.status).toBe('added');
    const [r] = await intel.submit(a, c2, [{ ...m1, created: T2, definition: { statement: 'Public domain' } }]);
    expect(r).toMatchObject({ status: 'rejected', message: expect.stringMatching(/marking definition has no versions/) });
    expect((await copies(id)).map((x) => x.json)).toEqual([JSON.stringify(m1)]);
  });

  it('an organisation\'s identity is its own to publish: another member posting it first does not become its owner', async () => {
    const group = (await new AccessService(store, clock).createGroup(SYSTEM_ACTOR, { name: 'G', ownerOrg: orgA, members: [orgA, orgB] })).id;
    const idOf = (id: string, name: string) => ({ type: 'identity', spec_version: '2.1', id, created: T1, modified: T1, name, identity_class: 'organization' });
    const res = await intel.submit(b, c1, [idOf(orgA, 'CRV (hijacked)'), idOf(group, 'G (hijacked)')]);
    for (const r of res) expect(r).toMatchObject({ status: 'rejected', message: expect.stringMatching(/identity of an organisation or sharing group of this alliance: only it/) });
    expect([...(await copies(orgA)), ...(await copies(group))]).toEqual([]);
    // Each publishes its own (the group's owner, the group's).
    expect((await intel.submit(a, c1, [idOf(orgA, 'CRV'), idOf(group, 'G')])).map((r) => r.status)).toEqual(['added', 'added']);
    expect((await intel.submit(b, c1, [idOf(orgB, 'Other')]))[0]?.status).toBe('added');
  });

  it('a peer\'s version never names one of this node\'s organisations as its creator; one of them coming back is a duplicate', async () => {
    const peer = (await new AccessService(store, clock).createOrganisation(SYSTEM_ACTOR, { name: 'Peer node', shortName: 'PEER', node: 'peer1' })).id;
    const fromPeer: Actor = { principal: null, source: 'peer:peer1' };
    const signed = { asOrg: peer, originNode: 'peer1', exact: true, preserveProvenance: true };
    const spoof = ind(`indicator--${uuid()}`, T1, { created_by_ref: orgA });
    expect((await intel.submit(fromPeer, c1, [spoof], signed))[0]).toMatchObject({ status: 'rejected', message: expect.stringMatching(/names .*an organisation of this node/) });
    expect(await copies(String(spoof.id))).toEqual([]);
    // The peer's own objects and a third party's keep the creator their origin signed.
    const theirs = [ind(`indicator--${uuid()}`, T1, { created_by_ref: peer }), ind(`indicator--${uuid()}`, T1, { created_by_ref: MITRE })];
    expect((await intel.submit(fromPeer, c1, theirs, signed)).map((r) => r.status)).toEqual(['added', 'added']);
    const mine = ind(`indicator--${uuid()}`, T1, { created_by_ref: orgA, object_marking_refs: [TLP2_MARKING_IDS.green] });
    expect((await intel.submit(a, c1, [mine]))[0]?.status).toBe('added');
    expect((await intel.submit(fromPeer, c1, [mine], signed))[0]?.status).toBe('duplicate');
  });

  it('a peer\'s STIX 2.0 object is refused, not converted into a content its origin did not sign', async () => {
    const peer = (await new AccessService(store, clock).createOrganisation(SYSTEM_ACTOR, { name: 'Peer two', shortName: 'PEER2', node: 'peer2' })).id;
    const v20 = { type: 'malware', id: `malware--${uuid()}`, created: '2017-05-31T21:33:10.000Z', modified: '2017-05-31T21:33:10.000Z', name: 'x', labels: ['worm'] };
    const [r] = await intel.submit({ principal: null, source: 'peer:peer2' }, c1, [v20], { asOrg: peer, originNode: 'peer2', exact: true, preserveProvenance: true });
    expect(r).toMatchObject({ status: 'rejected', versionText: v20.modified, message: expect.stringMatching(/stored exactly as its origin signed it.*STIX 2\.0/) });
    expect(await copies(v20.id)).toEqual([]);
  });

  it('one (id, version) is one content in every collection: a different content is refused; an identical one is copied with the stored bytes', async () => {
    const id = `indicator--${uuid()}`;
    const first = ind(id, T1, { created_by_ref: orgA, description: 'x' });
    await intel.submit(a, c1, [first], { defaultTlp: 'green' });
    const [diff] = await intel.submit(a, c2, [{ ...first, description: 'changed' }], { defaultTlp: 'green' });
    expect(diff).toMatchObject({ status: 'rejected', versionText: T1, message: expect.stringMatching(/different object .* already stored.*never changes/) });
    // Same content, keys in another order: stored in c2 as the bytes c1 holds.
    const reordered = Object.fromEntries(Object.entries(first).reverse());
    const [same] = await intel.submit(a, c2, [reordered], { defaultTlp: 'green' });
    expect(same?.status).toBe('added');
    const rows = await copies(id);
    expect(rows.map((r) => r.collectionId)).toEqual([c1, c2]);
    expect(rows[1]!.json).toBe(rows[0]!.json);
    // The owner's own object took the default TLP as a marking before its first store.
    const stored = JSON.parse(rows[0]!.json) as Record<string, unknown>;
    expect(stored.object_marking_refs).toEqual([TLP2_MARKING_IDS.green]);
    // Another organisation may re-post the identical version (a duplicate), never change it.
    expect((await intel.submit(b, c1, [stored]))[0]?.status).toBe('duplicate');
    expect((await intel.submit(b, c1, [first]))[0]).toMatchObject({ status: 'rejected', message: expect.stringMatching(/different object/) });
  });

  it('converts STIX 2.0 to 2.1 as a new version (modified + 1 ms), never under the 2.0 version; idempotent', async () => {
    const id = `malware--${uuid()}`;
    const v20 = { type: 'malware', id, created: '2017-05-31T21:33:10Z', modified: '2017-05-31T21:33:10.123Z', name: 'x', labels: ['worm'] };
    const [r] = await intel.submit(a, c1, [v20], { defaultTlp: 'clear' });
    expect(r).toMatchObject({ status: 'added', versionText: '2017-05-31T21:33:10.124Z', note: expect.stringMatching(/converted from STIX 2\.0/) });
    const [row] = await copies(id);
    expect(row!.version).toBe('2017-05-31T21:33:10.124000Z');
    expect(JSON.parse(row!.json)).toMatchObject({ spec_version: '2.1', modified: '2017-05-31T21:33:10.124Z', created: '2017-05-31T21:33:10.000Z', malware_types: ['worm'] });
    expect((await intel.submit(a, c1, [v20], { defaultTlp: 'clear' }))[0]?.status).toBe('duplicate');
    // Without modified (invalid in 2.0 too) it is refused, never stored under a made-up version.
    const { modified: _, ...undated } = { ...v20, id: `malware--${uuid()}` };
    expect((await intel.submit(a, c1, [undated], { defaultTlp: 'clear' }))[0]).toMatchObject({ status: 'rejected', message: expect.stringMatching(/modified is required/) });
    const mark = { type: 'marking-definition', id: `marking-definition--${uuid()}`, created: T1, definition_type: 'statement', definition: { statement: 'x' } };
    expect((await intel.submit(a, c1, [mark]))[0]).toMatchObject({ status: 'rejected', message: expect.stringMatching(/STIX 2\.0 marking definition cannot be converted/) });
  });

  it('a predefined TLP marking definition is stored only as published, whoever posts it first', async () => {
    const green = TLP2_MARKINGS.green as unknown as Record<string, unknown>;
    const posing = { ...green, name: 'TLP:RED', extensions: undefined, definition_type: 'statement', definition: { statement: 'not green' } };
    const later = { ...green, created: '2023-01-01T00:00:00.000Z' };
    const [r1, r2] = await intel.submit(b, c1, [JSON.parse(JSON.stringify(posing)), later]);
    for (const r of [r1, r2]) expect(r).toMatchObject({ status: 'rejected', message: expect.stringMatching(/predefined TLP:GREEN marking definition: its content is fixed/) });
    expect(await copies(green.id as string)).toEqual([]);
    // The published object (keys in any order), and a TLP 1.0 one, go in; for anyone.
    const reordered = Object.fromEntries(Object.entries(green).reverse());
    expect((await intel.submit(b, c1, [reordered, TLP1_MARKINGS.amber])).map((r) => r.status)).toEqual(['added', 'added']);
    expect((await intel.submit(a, c2, [green])).map((r) => r.status)).toEqual(['added']);
    expect((await copies(green.id as string)).map((r) => [r.collectionId, r.tlp])).toEqual([[c1, 'clear'], [c2, 'clear']]);
  });

  it('deleting never reopens a version, an id or a revocation (tombstones)', async () => {
    const id = `indicator--${uuid()}`;
    const v1 = ind(id, T1, { created_by_ref: orgA });
    await intel.submit(a, c1, [v1, ind(id, T3, { created_by_ref: orgA, revoked: true })], { defaultTlp: 'green' });
    const stored = (await copies(id)).map((r) => r.json);
    expect(await intel.deleteVersions(c1, id, ['2025-01-01T00:00:00.000000Z', '2025-03-01T00:00:00.000000Z'])).toBe(2);
    expect(await copies(id)).toEqual([]);
    const [changed] = await intel.submit(a, c1, [{ ...JSON.parse(stored[0]!), name: 'changed' }]);
    expect(changed).toMatchObject({ status: 'rejected', message: expect.stringMatching(/was stored on this node \(since deleted\)/) });
    const [after] = await intel.submit(a, c2, [ind(id, T4, { created_by_ref: orgA })], { defaultTlp: 'green' });
    expect(after).toMatchObject({ status: 'rejected', message: expect.stringMatching(/is revoked/) });
    const [takeover] = await intel.submit(b, c2, [ind(id, T2)], { defaultTlp: 'green' });
    expect(takeover).toMatchObject({ status: 'rejected', message: expect.stringMatching(/created by another organisation/) });
    // The same content may come back (e.g. restored by its creator).
    expect((await intel.submit(a, c1, [JSON.parse(stored[0]!)]))[0]?.status).toBe('added');
    expect((await copies(id)).map((r) => r.json)).toEqual([stored[0]]);
  });

  it('keeps a third party\'s object as published; the TLP given at import is a policy fact (column)', async () => {
    const id = `attack-pattern--${uuid()}`;
    const ap = { type: 'attack-pattern', spec_version: '2.1', id, created: T1, modified: T1, name: 'Phishing', created_by_ref: MITRE };
    const [r] = await intel.submit(a, c1, [ap], { defaultTlp: 'amber', recipients: [orgB], preserveProvenance: true });
    expect(r?.status).toBe('added');
    const [row] = await copies(id);
    expect(row!.json).toBe(JSON.stringify(ap));
    expect([row!.tlp, row!.creatorOrg, row!.recipients]).toEqual(['amber', orgA, [orgB]]);
    // Enforced from the column: released to B (recipient), not to a third organisation.
    const seen = async (orgId: string) => (await store.queryObjects({ collectionIds: [c1], audience: { hop: 'local', orgId, groupIds: [] }, purpose: 'read', ids: [id], limit: 5 })).rows.length;
    expect([await seen(orgB), await seen('identity--00000000-0000-4000-8000-000000000000')]).toEqual([1, 0]);
  });
});

describe.runIf(await pgAvailable())('two processes writing one PostgreSQL database', () => {
  it('decide the versioning rules one after the other: never two contents under one (id, version), never two owners', async () => {
    const db = await freshPostgresDb();
    const [s1, s2] = [await openPostgresStore(db.url), await openPostgresStore(db.url)];
    try {
      const clock = new ManualClock('2026-01-01T00:00:00Z');
      const access = new AccessService(s1, clock);
      const orgA = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'CRV', shortName: 'CRV' })).id;
      const orgB = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Other', shortName: 'OTH' })).id;
      const c1 = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'one' })).id;
      const c2 = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'two' })).id;
      const p = (orgId: string): Principal => ({ orgId, userId: null, username: null, roles: ['analyst'], tokenId: null, kind: 'api', groupIds: [] });
      const [a, b]: [Actor, Actor] = [{ principal: p(orgA), source: 'test' }, { principal: p(orgB), source: 'test' }];
      const [i1, i2] = [new IntelService(s1, clock), new IntelService(s2, clock)];
      // Other objects in each batch widen the time between reading what is stored and inserting.
      const others = () => Array.from({ length: 200 }, () => ind(`indicator--${uuid()}`, T1));
      const outcomes: string[] = [];
      for (let k = 0; k < 10; k++) {
        const id = `indicator--${uuid()}`;
        const [r1, r2] = await Promise.all([
          i1.submit(a, c1, [...others(), ind(id, T1, { description: 'one' })]), i2.submit(a, c2, [ind(id, T1, { description: 'two' }), ...others()]),
        ]);
        outcomes.push([r1.at(-1)!.status, r2[0]!.status].sort().join(' '));
        const taken = `indicator--${uuid()}`;
        const [q1, q2] = await Promise.all([i1.submit(a, c1, [...others(), ind(taken, T1)]), i2.submit(b, c2, [ind(taken, T2)])]);
        outcomes.push([q1.at(-1)!.status, q2[0]!.status].sort().join(' '));
      }
      expect(outcomes.filter((o) => o !== 'added rejected')).toEqual([]);
    } finally {
      await s1.close();
      await s2.close();
      await db.drop();
    }
  });
});

describe('the HTTP paths (TAXII, REST) and the readers (GET /intel/:id, detection)', () => {
  let p: Platform;
  let app: FastifyInstance;
  let A: Org;
  let B: Org;
  let C: Org;
  let main: { id: string };
  let second: { id: string };
  const R = `/${ROOT}`;
  const objectsUrl = (cid: string) => `${R}/collections/${cid}/objects/`;
  const post = (who: Org, cid: string, objects: unknown[]) => taxii(app, 'POST', objectsUrl(cid), { auth: bearer(who.token), body: { objects } });
  const rest = async (who: Org, url: string) => {
    const r = await app.inject({ method: 'GET', url, headers: { authorization: bearer(who.token) } });
    return { status: r.statusCode, body: r.body };
  };

  beforeAll(async () => {
    p = await makePlatform({ clock: new ManualClock(T0) });
    app = await buildApp(p, { logger: false });
    A = await makeOrg(p, 'CRV');
    B = await makeOrg(p, 'OTH');
    C = await makeOrg(p, 'RDR');
    const rw = { canRead: true, canWrite: true };
    main = await makeCollection(p, 'Main', [[A.row.id, rw], [B.row.id, rw], [C.row.id, { canRead: true, canWrite: false }]]);
    second = await makeCollection(p, 'Second', [[B.row.id, rw], [C.row.id, { canRead: true, canWrite: false }]]);
  });
  afterAll(async () => {
    await app.close();
    await p.close();
  });

  it('TAXII POST keeps created_by_ref as sent and refuses a claim to another organisation, with the version in the failure', async () => {
    const own = ind(`indicator--${uuid()}`, T1, { object_marking_refs: [TLP2_MARKING_IDS.green] });
    const claim = ind(`indicator--${uuid()}`, '2025-01-01T00:00:00.500Z', { created_by_ref: A.row.id, object_marking_refs: [TLP2_MARKING_IDS.green] });
    const r = await post(B, main.id, [own, claim]);
    expect(r.status).toBe(202);
    expect(r.body.successes).toEqual([{ id: own.id, version: T1 }]);
    expect(r.body.failures).toEqual([{ id: claim.id, version: '2025-01-01T00:00:00.500Z', message: expect.stringMatching(/another organisation of this alliance/) }]);
    const got = await taxii(app, 'GET', `${objectsUrl(main.id)}${String(own.id)}/`, { auth: bearer(C.token) });
    expect(got.body.objects).toEqual([own]);
  });

  it('refuses a takeover through a second collection; GET /intel/:id and the detection feed use only the creator\'s versions', async () => {
    const id = `indicator--${uuid()}`;
    const mine = ind(id, T1, { created_by_ref: A.row.id, object_marking_refs: [TLP2_MARKING_IDS.green] });
    expect((await post(A, main.id, [mine])).body).toMatchObject({ success_count: 1 });
    const theirs = ind(id, T2, { pattern: "[domain-name:value = 'takeover.example']", object_marking_refs: [TLP2_MARKING_IDS.green] });
    const r = await post(B, second.id, [theirs]);
    expect(r.body).toMatchObject({ success_count: 0, failure_count: 1 });
    expect(r.body.failures).toEqual([{ id, version: T2, message: expect.stringMatching(/only its creator may add versions, in any collection/) }]);
    // A takeover row stored before this rule (written straight into the store) is never served as the object.
    const row: NewObjectRow = {
      collectionId: second.id, id, type: 'indicator', specVersion: '2.1', version: '2025-03-01T00:00:00.000000Z', created: T1, modified: T3,
      creatorOrg: B.row.id, tlp: 'green', recipients: [], originNode: null, revoked: false, name: 'takeover', labels: [], searchText: id,
      json: JSON.stringify(ind(id, T3, { pattern: "[domain-name:value = 'takeover.example']" })),
    };
    await p.store.putObjects([row], p.clock.now() * 1000);
    const detail = await rest(C, `/api/v1/intel/${id}`);
    expect(detail.status).toBe(200);
    const body = JSON.parse(detail.body) as { object: unknown; versions: unknown[] };
    expect(body.object).toEqual(mine);
    expect(body.versions).toHaveLength(1);
    const feed = new IndicatorFeed(p.store);
    await feed.sync();
    expect(feed.info(id)).toMatchObject({ creatorOrg: A.row.id, pattern: mine.pattern });
  });

  it('the owner stays the owner after deleting its version: another organisation\'s identical copy never becomes the object (GET /intel/:id, detection)', async () => {
    const id = `indicator--${uuid()}`;
    const g = { object_marking_refs: [TLP2_MARKING_IDS.green] };
    const v1 = ind(id, T1, g);
    const following = new IndicatorFeed(p.store);
    expect((await post(A, main.id, [v1])).body).toMatchObject({ success_count: 1 });
    await following.sync();
    // B re-posts the identical version into a collection of its own (a copy, B's there).
    expect((await post(B, second.id, [v1])).body).toMatchObject({ success_count: 1 });
    expect((await taxii(app, 'DELETE', `${objectsUrl(main.id)}${id}/`, { auth: bearer(A.token) })).status).toBe(200);
    const v2 = ind(id, T2, { ...g, pattern: "[domain-name:value = 'owner-v2.example']" });
    expect((await post(A, main.id, [v2])).body).toMatchObject({ success_count: 1 });
    const detail = await rest(C, `/api/v1/intel/${id}`);
    expect(detail.status, detail.body).toBe(200);
    const body = JSON.parse(detail.body) as { object: unknown; versions: { object: unknown }[]; summary: { creatorOrg: string } };
    expect([body.object, body.versions.map((v) => v.object), body.summary.creatorOrg]).toEqual([v2, [v2], A.row.id]);
    // A feed that followed it all, and one started afterwards (a restart).
    for (const feed of [following, new IndicatorFeed(p.store)]) {
      await feed.sync();
      expect(feed.info(id)).toMatchObject({ creatorOrg: A.row.id, pattern: v2.pattern });
    }
  });

  it('revoked is final through TAXII: a version dated between the first and the revoking one is refused', async () => {
    const id = `indicator--${uuid()}`;
    const g = { object_marking_refs: [TLP2_MARKING_IDS.green] };
    expect((await post(A, main.id, [ind(id, T1, g), ind(id, T3, { ...g, revoked: true })])).body).toMatchObject({ success_count: 2 });
    const r = await post(A, main.id, [ind(id, T2, g)]);
    expect(r.body.failures).toEqual([{ id, version: T2, message: expect.stringMatching(/revoked/) }]);
    const versions = await taxii(app, 'GET', `${objectsUrl(main.id)}${id}/versions/`, { auth: bearer(C.token) });
    expect(versions.body.versions).toEqual([T1, T3]);
  });

  it('TAXII POST of a STIX 2.0 object stores its 2.1 conversion as a new version and says so in the status', async () => {
    const id = `indicator--${uuid()}`;
    const v20 = { type: 'indicator', id, created: '2017-01-01T00:00:00Z', modified: '2017-01-01T00:00:00Z', labels: ['malicious-activity'],
      pattern: "[file:name = 'x.exe']", valid_from: '2017-01-01T00:00:00Z', object_marking_refs: [TLP2_MARKING_IDS.green] };
    const r = await post(A, main.id, [v20]);
    expect(r.body.successes).toEqual([{ id, version: '2017-01-01T00:00:00.001Z', message: expect.stringMatching(/converted from STIX 2\.0.*2017-01-01T00:00:00Z became 2017-01-01T00:00:00.001Z/) }]);
    const versions = await taxii(app, 'GET', `${objectsUrl(main.id)}${id}/versions/`, { auth: bearer(C.token) });
    expect(versions.body.versions).toEqual(['2017-01-01T00:00:00.001Z']);
  });

  it('TAXII DELETE then POST of another content under the same version is refused', async () => {
    const id = `indicator--${uuid()}`;
    const g = { object_marking_refs: [TLP2_MARKING_IDS.green] };
    expect((await post(A, main.id, [ind(id, T1, g)])).body).toMatchObject({ success_count: 1 });
    const del = await taxii(app, 'DELETE', `${objectsUrl(main.id)}${id}/`, { auth: bearer(A.token) });
    expect(del.status).toBe(200);
    const r = await post(A, main.id, [ind(id, T1, { ...g, name: 'rewritten' })]);
    expect(r.body.failures).toEqual([{ id, version: T1, message: expect.stringMatching(/since deleted/) }]);
  });

  it('the detection feed follows deletions: a deleted version leaves the index, the version before it comes back, a re-post and its deletion are followed again', async () => {
    const id = `indicator--${uuid()}`;
    const g = { object_marking_refs: [TLP2_MARKING_IDS.green] };
    const v1 = ind(id, T1, { ...g, pattern: "[domain-name:value = 'first.example']" });
    const v2 = ind(id, T2, { ...g, pattern: "[domain-name:value = 'second.example']" });
    expect((await post(A, main.id, [v1, v2])).body).toMatchObject({ success_count: 2 });
    const feed = new IndicatorFeed(p.store);
    await feed.sync();
    expect(feed.info(id)?.pattern).toBe(v2.pattern);
    // The latest version deleted: the one before it is the indicator again.
    expect((await taxii(app, 'DELETE', `${objectsUrl(main.id)}${id}/?match[version]=${T2}`, { auth: bearer(A.token) })).status).toBe(200);
    await feed.sync();
    expect(feed.info(id)?.pattern).toBe(v1.pattern);
    // Every version deleted: it no longer matches anything.
    expect((await taxii(app, 'DELETE', `${objectsUrl(main.id)}${id}/`, { auth: bearer(A.token) })).status).toBe(200);
    await feed.sync();
    expect(feed.info(id)).toBeUndefined();
    // Posted again (the same content may come back), then deleted again: both followed.
    expect((await post(A, main.id, [v1])).body).toMatchObject({ success_count: 1 });
    await feed.sync();
    expect(feed.info(id)?.pattern).toBe(v1.pattern);
    expect((await taxii(app, 'DELETE', `${objectsUrl(main.id)}${id}/`, { auth: bearer(A.token) })).status).toBe(200);
    await feed.sync();
    expect(feed.info(id)).toBeUndefined();
    // A feed started after all this (a restart, a detection worker) agrees.
    const fresh = new IndicatorFeed(p.store);
    await fresh.sync();
    expect(fresh.info(id)).toBeUndefined();
    // A revocation stays final when its version is deleted: the version before it does not match again.
    const rid = `indicator--${uuid()}`;
    const r1 = ind(rid, T1, { ...g, pattern: "[domain-name:value = 'revoked.example']" });
    expect((await post(A, main.id, [r1, ind(rid, T2, { ...g, pattern: r1.pattern, revoked: true })])).body).toMatchObject({ success_count: 2 });
    await feed.sync();
    expect(feed.info(rid)).toBeUndefined();
    expect((await taxii(app, 'DELETE', `${objectsUrl(main.id)}${rid}/?match[version]=${T2}`, { auth: bearer(A.token) })).status).toBe(200);
    await feed.sync();
    expect(feed.info(rid)).toBeUndefined();
    const again = new IndicatorFeed(p.store);
    await again.sync();
    expect(again.info(rid)).toBeUndefined();
  });

  it('one (id, modified) is byte-identical on every path: TAXII objects and versions, REST GET, REST export', async () => {
    const id = `indicator--${uuid()}`;
    // Keys in an unusual order, not the microsecond form: what is served is what was sent.
    const sent = `{"name":"bytes","valid_from":"${T1}","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.7']","modified":"2025-01-01T00:00:00.100Z",`
      + `"created":"2025-01-01T00:00:00.100Z","id":"${id}","spec_version":"2.1","type":"indicator","object_marking_refs":["${TLP2_MARKING_IDS.green}"]}`;
    const r = await app.inject({ method: 'POST', url: objectsUrl(main.id), headers: { accept: 'application/taxii+json;version=2.1', 'content-type': 'application/taxii+json;version=2.1', authorization: bearer(A.token) }, payload: `{"objects":[${sent}]}` });
    expect(JSON.parse(r.body)).toMatchObject({ success_count: 1, successes: [{ id, version: '2025-01-01T00:00:00.100Z' }] });
    const taxiiGet = await app.inject({ method: 'GET', url: `${objectsUrl(main.id)}${id}/`, headers: { accept: 'application/taxii+json;version=2.1', authorization: bearer(C.token) } });
    expect(taxiiGet.body).toContain(sent);
    const all = await app.inject({ method: 'GET', url: `${objectsUrl(main.id)}${id}/?match[version]=all`, headers: { accept: 'application/taxii+json;version=2.1', authorization: bearer(C.token) } });
    expect(all.body).toContain(sent);
    const versions = await taxii(app, 'GET', `${objectsUrl(main.id)}${id}/versions/`, { auth: bearer(C.token) });
    expect(versions.body.versions).toEqual(['2025-01-01T00:00:00.100Z']);
    const detail = JSON.parse((await rest(C, `/api/v1/intel/${id}`)).body) as { object: unknown };
    expect(JSON.stringify(detail.object)).toBe(sent);
    const exported = await rest(C, `/api/v1/intel/export?collection=${main.id}&q=198.51.100.7`);
    expect(exported.status, exported.body).toBe(200);
    expect(exported.body).toContain(sent);
    // The same version with another content is refused on TAXII, with the version as sent.
    const changed = sent.replace('"bytes"', '"other"');
    const again = await app.inject({ method: 'POST', url: objectsUrl(main.id), headers: { accept: 'application/taxii+json;version=2.1', 'content-type': 'application/taxii+json;version=2.1', authorization: bearer(A.token) }, payload: `{"objects":[${changed}]}` });
    expect(JSON.parse(again.body).failures).toEqual([{ id, version: '2025-01-01T00:00:00.100Z', message: expect.stringMatching(/different object/) }]);
  });

  it('REST import with a TLP of a third party\'s objects records the TLP as a policy fact, enforced on REST and TAXII reads', async () => {
    const id = `attack-pattern--${uuid()}`;
    const ap = { type: 'attack-pattern', spec_version: '2.1', id, created: T1, modified: T1, name: 'Spearphishing', created_by_ref: MITRE };
    const admin = await makeOrg(p, 'ADM', { roles: ['analyst', 'admin'] });
    await p.access.grantCollection(SYSTEM_ACTOR, main.id, admin.row.id, { canRead: true, canWrite: true });
    const r = await app.inject({
      method: 'POST', url: `/api/v1/intel/import?collection=${main.id}&tlp=amber&recipients=${B.row.id}&preserve_provenance=true`,
      headers: { authorization: bearer(admin.token), 'content-type': 'application/json' }, payload: JSON.stringify({ type: 'bundle', id: `bundle--${uuid()}`, objects: [ap] }),
    });
    expect(r.statusCode, r.body).toBe(200);
    if (JSON.parse(r.body).added !== 1) return expect.fail(`not imported: ${r.body}`);
    const forB = await taxii(app, 'GET', `${objectsUrl(main.id)}${id}/`, { auth: bearer(B.token) });
    expect(forB.body.objects).toEqual([ap]);
    expect((await rest(C, `/api/v1/intel/${id}`)).status).toBe(404);
    expect((await taxii(app, 'GET', `${objectsUrl(main.id)}${id}/`, { auth: bearer(C.token) })).status).toBe(404);
  });
});
