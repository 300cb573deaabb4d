/**
 * THE leak test. Every TLP marking (CLEAR, GREEN, AMBER, AMBER+STRICT, RED, none) × recipient
 * shape (none, one organisation, a sharing group) × origin (created here, arrived from another
 * node) is stored by one creator; every reading organisation (the creator, a named recipient, a
 * member of a recipient group, an outsider, and a federated peer over the peer hop) reads it
 * through every egress path: TAXII objects / object / versions / manifest / collections, REST
 * search / read / export / directory counts, a peer node's pull over real HTTP, and the retractions a peer
 * is told of after the creator deletes everything. Each path must show exactly
 * what `mayRelease` (access/policy.ts) allows: zero leaks, and every permitted read succeeds.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR, mayRelease } from '../src/access/index.js';
import { nodeIdentityId, pull, runSubscription } from '../src/federation/index.js';
import type { Audience, Purpose, Tlp } from '../src/core/index.js';
import { ROOT, TAXII, bearer, indicator, makeCollection, makeOrg, makePlatform, refresh, submitWith, taxii, tmpDir, type Org } from './taxii-fixtures.js';

const MARKINGS: (Tlp | null)[] = ['clear', 'green', 'amber', 'amber+strict', 'red', null];
const ORIGINS = [null, 'node-x'] as const;

interface Stored {
  id: string;
  tlp: Tlp | null;
  recipients: string[];
  originNode: string | null;
  label: string;
}

interface Reader {
  name: string;
  org: Org;
  token: string;
  hop: 'local' | 'peer';
}

let p: Platform;
let app: FastifyInstance;
let server: RunningServer;
let K: Org, Rc: Org, Gm: Org, Ou: Org, P: Org, Q: Org;
let groups: Record<string, string>;
let coll: { id: string };
const stored: Stored[] = [];
let readers: Reader[];

function audienceOf(r: Reader): Audience {
  return { hop: r.hop, orgId: r.org.row.id, groupIds: r.org.principal.groupIds };
}

function allowed(r: Reader, purpose: Purpose): Set<string> {
  return new Set(stored.filter((s) => mayRelease({ tlp: s.tlp, creatorOrg: K.row.id, recipients: s.recipients, originNode: s.originNode }, audienceOf(r), purpose)).map((s) => s.id));
}

const label = (ids: Iterable<string>) => [...ids].map((id) => stored.find((s) => s.id === id)?.label ?? id).sort();

/** Compares by label so a failure names the leaking (or missing) marking × recipients × origin. */
function expectSame(got: Iterable<string>, want: Set<string>, what: string): void {
  expect(label(got), what).toEqual(label(want));
}

beforeAll(async () => {
  p = await makePlatform({ env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'node-here' } });
  K = await makeOrg(p, 'K');
  Rc = await makeOrg(p, 'RC');
  Gm = await makeOrg(p, 'GM');
  Ou = await makeOrg(p, 'OU');
  P = await makeOrg(p, 'P', { node: 'node-p' });
  Q = await makeOrg(p, 'Q');
  // Sharing groups: the owner is always a member. G1 = {GM}, G2 = {RC, GM}, GP = {P}, GQ = {Q}.
  groups = {
    G1: (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: Gm.row.id, name: 'G1', members: [] })).id,
    G2: (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: Rc.row.id, name: 'G2', members: [Gm.row.id] })).id,
    GP: (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: P.row.id, name: 'GP', members: [] })).id,
    GQ: (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: Q.row.id, name: 'GQ', members: [] })).id,
  };
  // Principals again, now that group memberships exist.
  K = await refresh(p, K);
  Rc = await refresh(p, Rc);
  Gm = await refresh(p, Gm);
  Ou = await refresh(p, Ou);
  P = await refresh(p, P);
  Q = await refresh(p, Q);
  const everyone = [K, Rc, Gm, Ou, P, Q].map((o): [string, { canRead: boolean; canWrite: boolean }] => [o.row.id, { canRead: true, canWrite: o === K }]);
  coll = await makeCollection(p, 'Everything', everyone, 'everything');

  // Recipient shapes: none; each organisation alone; each group alone.
  const shapes: [string, string[]][] = [['none', []], ...[K, Rc, Gm, Ou, P, Q].map((o): [string, string[]] => [`org ${o.row.shortName}`, [o.row.id]]),
    ...Object.entries(groups).map(([n, id]): [string, string[]] => [`group ${n}`, [id]])];
  for (const tlp of MARKINGS) for (const [shape, recipients] of shapes) for (const originNode of ORIGINS) {
    const lbl = `${tlp ?? 'none'} | ${shape} | ${originNode ?? 'here'}`;
    const o = indicator({ tlp, name: lbl });
    await submitWith(p, { who: K, collectionId: coll.id, objects: [o], recipients, originNode });
    // A second version, so versions and match[version]=all are exercised too.
    await submitWith(p, { who: K, collectionId: coll.id, objects: [{ ...o, modified: '2025-07-01T00:00:00.000Z' }], recipients, originNode });
    stored.push({ id: o.id as string, tlp, recipients, originNode, label: lbl });
  }
  const peerToken = (await p.access.createToken(SYSTEM_ACTOR, { orgId: P.row.id, kind: 'peer', name: 'node-p' })).token;
  readers = [
    { name: 'creator', org: K, token: K.token, hop: 'local' },
    { name: 'recipient', org: Rc, token: Rc.token, hop: 'local' },
    { name: 'group member', org: Gm, token: Gm.token, hop: 'local' },
    { name: 'outsider', org: Ou, token: Ou.token, hop: 'local' },
    { name: 'peer', org: P, token: peerToken, hop: 'peer' },
  ];
  app = await buildApp(p, { logger: false });
  server = await startServer(p, { logger: false });
});

afterAll(async () => {
  await server.close();
  await app.close();
  await p.close();
});

const coll$ = () => `/${ROOT}/collections/${coll.id}`;

async function taxiiIds(r: Reader, endpoint: 'objects' | 'manifest', q: string): Promise<{ ids: string[]; versions: number }> {
  const ids: string[] = [];
  let versions = 0;
  let next: string | undefined;
  for (;;) {
    const res = await taxii(app, 'GET', `${coll$()}/${endpoint}/?limit=37${q}${next ? `&next=${encodeURIComponent(next)}` : ''}`, { auth: bearer(r.token) });
    expect(res.status).toBe(200);
    for (const o of (res.body.objects ?? []) as { id: string }[]) {
      versions++;
      if (!ids.includes(o.id)) ids.push(o.id);
    }
    if (!res.body.more) return { ids, versions };
    next = res.body.next as string;
  }
}

describe('zero leaks on every egress path', () => {
  it('the matrix is what it claims: 6 markings × 11 recipient shapes × 2 origins, each visible to someone and hidden from someone', () => {
    expect(stored).toHaveLength(6 * 11 * 2);
    const seen = readers.map((r) => allowed(r, 'read').size);
    expect(Math.min(...seen)).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBe(stored.length); // the creator
    expect(seen.filter((n) => n < stored.length).length).toBe(4);
  });

  const names = ['creator', 'recipient', 'group member', 'outsider', 'peer'];

  it.each(names)('TAXII objects and manifest (%s)', async (name) => {
    const r = readers.find((x) => x.name === name)!;
    const want = allowed(r, 'read');
    for (const q of ['', '&match[version]=all', '&match[version]=first', '&match[type]=indicator']) {
      const objs = await taxiiIds(r, 'objects', q);
      expectSame(objs.ids, want, `objects${q}`);
      if (q === '&match[version]=all') expect(objs.versions).toBe(want.size * 2);
      expectSame((await taxiiIds(r, 'manifest', q)).ids, want, `manifest${q}`);
    }
  });

  it.each(names)('TAXII object, versions, and match[id] (%s)', async (name) => {
    const r = readers.find((x) => x.name === name)!;
    const want = allowed(r, 'read');
    for (const s of stored) {
      const one = await taxii(app, 'GET', `${coll$()}/objects/${s.id}/?match[version]=all`, { auth: bearer(r.token) });
      const vs = await taxii(app, 'GET', `${coll$()}/objects/${s.id}/versions/`, { auth: bearer(r.token) });
      const byId = await taxii(app, 'GET', `${coll$()}/objects/?match[id]=${s.id}`, { auth: bearer(r.token) });
      const man = await taxii(app, 'GET', `${coll$()}/manifest/?match[id]=${s.id}`, { auth: bearer(r.token) });
      if (want.has(s.id)) {
        expect([one.status, vs.status], s.label).toEqual([200, 200]);
        expect((one.body.objects as unknown[]).length, s.label).toBe(2);
        expect((vs.body.versions as unknown[]).length, s.label).toBe(2);
        expect((byId.body.objects as unknown[]).length, s.label).toBe(1);
        expect((man.body.objects as unknown[]).length, s.label).toBe(1);
      } else {
        // Not found, exactly like an id that does not exist: nothing tells the object is there.
        expect([one.status, vs.status], s.label).toEqual([404, 404]);
        expect(one.body.description).toBe('no such object');
        expect(byId.body, s.label).toEqual({});
        expect(man.body, s.label).toEqual({});
      }
    }
  });

  it.each(names)('TAXII collections list the collection, never its content (%s)', async (name) => {
    const r = readers.find((x) => x.name === name)!;
    const res = await taxii(app, 'GET', `/${ROOT}/collections/`, { auth: bearer(r.token) });
    expect(res.status).toBe(200);
    const list = res.body.collections as Record<string, unknown>[];
    expect(list.map((c) => c.id)).toEqual([coll.id]);
    expect(Object.keys(list[0]!).sort()).toEqual(['alias', 'can_read', 'can_write', 'id', 'media_types', 'title']);
    const one = await taxii(app, 'GET', `${coll$()}/`, { auth: bearer(r.token) });
    expect(one.body).toEqual(list[0]);
  });

  it.each(names)('REST search, read and export (%s)', async (name) => {
    const r = readers.find((x) => x.name === name)!;
    const rest = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: bearer(r.token), accept: 'application/json' } });
    if (r.hop === 'peer') {
      // A peer token is a node-to-node credential: the REST API is for users and refuses it outright.
      for (const url of ['/api/v1/intel', `/api/v1/intel/${stored[0]!.id}`, `/api/v1/intel/export?collection=${coll.id}`]) expect((await rest(url)).statusCode).toBe(403);
      return;
    }
    const want = allowed(r, 'read');
    const ids: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await rest(`/api/v1/intel?limit=29${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ items: { id: string; recipients: string[] }[]; next?: string }>();
      ids.push(...body.items.map((i) => i.id));
      if (!body.next) break;
      cursor = body.next;
    }
    expectSame(ids, want, 'REST search');
    expect(new Set(ids).size).toBe(ids.length);
    for (const tlp of ['red', 'amber+strict', 'amber']) {
      const res = await rest(`/api/v1/intel?tlp=${encodeURIComponent(tlp)}&limit=1000`);
      expectSame(res.json<{ items: { id: string }[] }>().items.map((i) => i.id), new Set([...want].filter((id) => stored.find((s) => s.id === id)!.tlp === tlp)), `REST search tlp=${tlp}`);
    }
    for (const s of stored) {
      const res = await rest(`/api/v1/intel/${s.id}`);
      expect(res.statusCode, `${r.name} reads ${s.label}`).toBe(want.has(s.id) ? 200 : 404);
      if (want.has(s.id)) expect(res.json<{ versions: unknown[] }>().versions).toHaveLength(2);
      else expect(res.body).not.toContain(s.label);
    }
    // The directory's per-TLP counts are counts of what the reader may see, nothing more.
    const orgs = (await rest('/api/v1/organisations')).json<{ items: { id: string; shared: { total: number; byTlp: Record<string, number> } }[] }>().items;
    const k = orgs.find((o) => o.id === K.row.id)!;
    expect(k.shared.total).toBe(want.size);
    for (const tlp of MARKINGS) {
      expect(k.shared.byTlp[tlp ?? 'none'], `count of ${tlp ?? 'none'}`).toBe(stored.filter((s) => want.has(s.id) && s.tlp === tlp).length);
    }
    const exp = await rest(`/api/v1/intel/export?collection=${coll.id}`);
    expect(exp.statusCode).toBe(200);
    const bundle = JSON.parse(exp.body) as { type: string; objects: { id: string }[] };
    expect(bundle.type).toBe('bundle');
    expectSame(bundle.objects.map((o) => o.id), allowed(r, 'bulk'), 'REST export (bulk: RED never leaves)');
    expect(bundle.objects.some((o) => stored.find((s) => s.id === o.id)?.tlp === 'red')).toBe(false);
  });

  it('a peer node pulling with its peer token receives exactly what the peer hop allows', async () => {
    const dir = tmpDir('sw-leak-peer-');
    const node = await makePlatform({ file: path.join(dir, 'p.db'), env: { SHIELDWALL_NODE_NAME: 'node-p' } });
    try {
      const local = await node.access.createOrganisation(SYSTEM_ACTOR, { id: P.row.id, name: 'Org P', shortName: 'P' });
      await node.access.createOrganisation(SYSTEM_ACTOR, { id: K.row.id, name: 'Org K', shortName: 'K', node: 'node-here' });
      const into = await node.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'From here' });
      const peerToken = readers.find((x) => x.name === 'peer')!.token;
      const report = await pull({
        platform: node, peer: { url: server.url, apiRoot: ROOT, collectionId: coll.id, token: peerToken, orgId: K.row.id, node: 'node-here' },
        intoCollectionId: into.id, asOrgId: local.id, pageSize: 50,
      });
      const want = allowed(readers.find((x) => x.name === 'peer')!, 'read');
      expect(report).toMatchObject({ complete: true, rejected: 0, received: want.size * 2, added: want.size * 2 });
      const rows = (await node.store.queryObjects({ collectionIds: [into.id], audience: { hop: 'local', orgId: local.id, groupIds: [] }, purpose: 'read', version: { kind: 'all' }, limit: 10_000 })).rows;
      expectSame(new Set(rows.map((x) => x.id)), want, 'pulled by the peer node');
      expect(await node.store.countObjects(into.id)).toBe(want.size * 2);
      // What arrived is marked as coming from this node, so the peer never forwards its AMBER+STRICT / RED.
      expect(rows.every((x) => x.originNode === 'node-here' && x.creatorOrg === K.row.id)).toBe(true);
    } finally {
      await node.close();
    }
  });

  it('provenance (issue #10): what a subscription pulls is attributed to its real creator or the peer node, never to a local organisation with users', async () => {
    const dir = tmpDir('sw-leak-prov-');
    const node = await makePlatform({ file: path.join(dir, 'p.db'), env: { SHIELDWALL_NODE_NAME: 'node-p' } });
    try {
      // On node-p: P (whose peer token pulls) and DSK, a second local organisation with users.
      await node.access.createOrganisation(SYSTEM_ACTOR, { id: P.row.id, name: 'Org P', shortName: 'P' });
      const dsk = await makeOrg(node, 'DSK');
      const pUser = await node.access.createUser(SYSTEM_ACTOR, { orgId: P.row.id, username: 'p.analyst', password: 'correct horse battery staple', roles: ['analyst'] });
      const into = await node.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'From here' });
      for (const o of [P.row.id, dsk.row.id]) await node.access.grantCollection(SYSTEM_ACTOR, into.id, o, { canRead: true, canWrite: false });
      // The old way, a local --peer-org, is refused: its users would read what was released only to others.
      await expect(node.federation.addPeer(SYSTEM_ACTOR, { name: 'node-here', url: server.url, publicKey: p.federation.keys().publicKey, orgs: [{ id: dsk.row.id, shortName: 'DSK' }] }))
        .rejects.toThrow(/organisation of this node/);
      const peerToken = readers.find((x) => x.name === 'peer')!.token;
      await node.federation.addPeer(SYSTEM_ACTOR, { name: 'node-here', url: server.url, publicKey: p.federation.keys().publicKey, token: peerToken, orgs: [{ id: K.row.id, shortName: 'K' }] });
      // The peer node's identity can never gain users.
      await expect(node.access.createUser(SYSTEM_ACTOR, { orgId: nodeIdentityId('node-here'), username: 'sneaky', password: 'correct horse battery staple', roles: ['analyst'] })).rejects.toThrow(/lives on node node-here/);
      const sub = await node.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-here', direction: 'pull', remoteCollection: coll.id, localCollection: into.id });
      const report = await runSubscription({ store: node.store, clock: node.clock, registry: node.federation }, sub);
      const released = allowed(readers.find((x) => x.name === 'peer')!, 'read');
      // What node-here relays from node-x carries no signature of node-x here: refused, kept in the reject list.
      const want = new Set([...released].filter((id) => stored.find((x) => x.id === id)!.originNode === null));
      expect(report).toMatchObject({ complete: true, rejected: (released.size - want.size) * 2, added: want.size * 2 });
      const rejects = await node.federation.listRejects(sub.id);
      expect(rejects.every((r) => /carries no origin signature/.test(r.reason))).toBe(true);
      // Every local reader of node-p sees exactly what the release policy gives it: K's objects
      // released to P reach P's users (P named, or GP), DSK reads only CLEAR/GREEN ones.
      const pPrincipal = await node.access.principalOfUser(pUser.username);
      for (const [who, principal] of [['P', pPrincipal], ['DSK', dsk.principal]] as const) {
        const rows = (await node.store.queryObjects({ collectionIds: [into.id], audience: node.access.audienceOf(principal), purpose: 'read', limit: 10_000 })).rows;
        const expected = new Set(stored.filter((x) => want.has(x.id) && (x.tlp === 'clear' || x.tlp === 'green' || (who === 'P' && (x.recipients.includes(P.row.id) || x.recipients.includes(groups.GP!))))).map((x) => x.id));
        expectSame(new Set(rows.map((x) => x.id)), expected, `local reader ${who} on the pulling node`);
      }
      const rows = (await node.store.queryObjects({ collectionIds: [into.id], audience: { hop: 'local', orgId: K.row.id, groupIds: [] }, purpose: 'read', limit: 10_000 })).rows;
      expect(rows.every((x) => x.creatorOrg === K.row.id && x.originNode === 'node-here')).toBe(true);
      // A peer that does not send the envelopes in its pages (an older node): they are asked for
      // by the page's ids, with the same outcome, version by version.
      const intoByIds = await node.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'From here, envelopes by ids' });
      const byIds = await node.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-here', direction: 'pull', remoteCollection: coll.id, localCollection: intoByIds.id });
      const again = await runSubscription({ store: node.store, clock: node.clock, registry: node.federation }, byIds, { envelopesInPage: false });
      expect(again).toMatchObject({ complete: true, rejected: report.rejected, added: report.added });
      const facts = async (c: string) => (await node.store.queryObjects({ collectionIds: [c], audience: { hop: 'local', orgId: K.row.id, groupIds: [] }, purpose: 'read', version: { kind: 'all' }, limit: 10_000, lean: 'with-recipients' }))
        .rows.map((x) => JSON.stringify([x.id, x.version, x.creatorOrg, x.tlp, x.recipients, x.originNode, x.provenance])).sort();
      expect(await facts(intoByIds.id)).toEqual(await facts(into.id));
      expect((await node.federation.listRejects(byIds.id)).map((r) => r.reason).sort()).toEqual(rejects.map((r) => r.reason).sort());
    } finally {
      await node.close();
    }
  });

  it('without a TAXII Accept header nothing is served either', async () => {
    const res = await app.inject({ method: 'GET', url: `${coll$()}/objects/`, headers: { authorization: bearer(K.token), accept: 'application/json' } });
    expect(res.statusCode).toBe(406);
    expect(res.headers['content-type']).toBe(TAXII);
    expect(res.body).not.toContain('indicator--');
  });
});

describe('retractions (docs/federation.md "Retractions"): told only to a peer that could read what was deleted', () => {
  it('after the creator deletes every object, the peer is told exactly of the versions it could read that originated here; nobody else may ask', async () => {
    for (const s of stored) {
      const del = await taxii(app, 'DELETE', `${coll$()}/objects/${s.id}/`, { auth: bearer(K.token) });
      expect(del.status).toBe(200);
    }
    const peer = readers.find((x) => x.name === 'peer')!;
    const told: string[] = [];
    let after: string | undefined;
    for (;;) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/federation/retractions?collection=everything&limit=7${after ? `&after=${after}` : ''}`, headers: { authorization: bearer(peer.token) } });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ retractions: { id: string; origin: string }[]; more: boolean; next: string }>();
      for (const r of body.retractions) {
        expect(r.origin).toBe('node-here');
        told.push(r.id);
      }
      if (!body.more) break;
      after = body.next;
    }
    // Copies that arrived from node-x are not this node's to retract.
    const want = new Set([...allowed(peer, 'read')].filter((id) => stored.find((s) => s.id === id)!.originNode === null));
    expectSame(new Set(told), want, 'retractions told to the peer');
    expect(told).toHaveLength(2 * want.size); // both versions of each
    for (const r of readers.filter((x) => x.hop === 'local')) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/federation/retractions?collection=everything', headers: { authorization: bearer(r.token) } });
      expect(res.statusCode, r.name).toBe(403);
      expect(res.body).not.toContain('indicator--');
    }
  });
});
