/**
 * TAXII feeds (docs/federation.md "TAXII feeds: third-party servers"), over real HTTP: node B
 * pulls a collection of a TAXII 2.1 server (node A, standing for any server, with an ordinary API
 * user's credentials) on a schedule. Objects keep their content byte for byte and their own
 * creator (`created_by_ref`), are imported by B's organisation, the feed's TLP is a policy fact;
 * later pulls fetch only what is new; credentials are sealed at rest; a refused login is the
 * feed's last error, not a crash; bad configurations are a clear 4xx; the scheduler pulls a feed
 * when its interval has passed.
 */
import crypto from 'node:crypto';
import dns from 'node:dns';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { ManualClock } from '../src/core/clock.js';
import { FederationRegistry, TaxiiFeedScheduler, TaxiiFeeds } from '../src/federation/index.js';
import { TLP2_MARKING_IDS } from '../src/stix/index.js';
import { TaxiiClient } from '../src/taxii/index.js';
import { fakePeer } from './helpers/fake-peer.js';
import { sw } from './helpers/cli-run.js';
import { makeAlliance } from './rest-fixtures.js';
import { T0, makeCollection, makeOrg, makePlatform, submit, tmpDir, type Org } from './taxii-fixtures.js';

const dir = tmpDir('sw-taxii-feed-');
let A: Platform;
let B: Platform;
let serverA: RunningServer;
let V: Org; // the server's user whose credentials the feed holds
let Y: Org; // B's importing organisation
let vendorColl: { id: string };
let into: { id: string };
let feeds: TaxiiFeeds;
const clockB = new ManualClock(T0);
const VENDOR = `identity--${crypto.randomUUID()}`;

function vendorIndicator(i: number, tlp: 'green' | null): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: '2026-01-02T03:04:05.678Z', modified: '2026-01-02T03:04:05.678Z',
    created_by_ref: VENDOR, name: `vendor ${i}`, pattern: `[ipv4-addr:value = '203.0.113.${i}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    ...(tlp ? { object_marking_refs: [TLP2_MARKING_IDS[tlp]] } : {}),
  };
}

async function vendorPublishes(...objects: Record<string, unknown>[]): Promise<void> {
  const r = await A.intel.submit({ principal: V.principal, source: 'test' }, vendorColl.id, objects, { preserveProvenance: true });
  expect(r.filter((x) => x.status !== 'added')).toEqual([]);
}

/** B's stored copies of the feed's objects: id → {json, creatorOrg, tlp}. */
async function heldByB(): Promise<Map<string, { json: string; creatorOrg: string | null; tlp: string | null }>> {
  const rows = await B.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1000 });
  return new Map(rows.filter((r) => r.collectionId === into.id).map((r) => [r.id, { json: r.json, creatorOrg: r.creatorOrg, tlp: r.tlp }]));
}

beforeAll(async () => {
  // Pages of 2 objects at most: a pull reads the collection in several.
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'vendor', SHIELDWALL_MAX_PAGE_SIZE: '2' } });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-b' }, clock: clockB });
  serverA = await startServer(A);
  V = await makeOrg(A, 'V');
  vendorColl = await makeCollection(A, 'vendor feed', [[V.row.id, { canRead: true, canWrite: true }]]);
  // The vendor's objects, by the vendor's identity (a third party on A too: preserve-provenance).
  await vendorPublishes(vendorIndicator(1, 'green'), vendorIndicator(2, null), vendorIndicator(3, null));
  Y = await makeOrg(B, 'Y');
  into = await makeCollection(B, 'from vendor', [[Y.row.id, { canRead: true, canWrite: true }]]);
  feeds = new TaxiiFeeds({ store: B.store, clock: B.clock, registry: B.federation, intel: B.intel });
});

afterAll(async () => {
  await serverA?.close();
  await A?.close();
  await B?.close();
});

describe('TAXII feeds', () => {
  it('pulls a third-party collection: content byte for byte, the creator kept, imported by the local organisation, the TLP a policy fact', async () => {
    const v = await feeds.add(SYSTEM_ACTOR, {
      name: 'vendor', url: serverA.url, apiRoot: 'api1', remoteCollection: vendorColl.id, localCollection: into.id, org: 'Y', tlp: 'amber',
      auth: { kind: 'bearer', token: V.token }, intervalS: 3600,
    });
    expect(v).toMatchObject({ name: 'vendor', auth: 'bearer', hasCa: false, tlp: 'amber' });
    expect(JSON.stringify(v)).not.toContain(V.token);
    expect(await B.store.getMeta('taxii-feed.vendor')).not.toContain(V.token);

    const r = await feeds.pull('vendor');
    expect(r).toMatchObject({ received: 3, added: 3, rejected: 0, complete: true });
    const held = await heldByB();
    expect(held.size).toBe(3);
    const onA = await A.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1000 });
    for (const a of onA.filter((x) => x.collectionId === vendorColl.id)) {
      const b = held.get(a.id)!;
      // Same (id, modified), same content: nothing was added to the object, not even the feed's TLP.
      expect(b.json).toBe(a.json);
      expect((JSON.parse(b.json) as { created_by_ref: string }).created_by_ref).toBe(VENDOR);
      expect(b.creatorOrg).toBe(Y.row.id);
      expect(b.tlp).toBe(a.tlp ?? 'amber');
    }
    const st = (await feeds.list())[0]!.state;
    expect(st).toMatchObject({ added: 3, rejected: 0, lastError: null, more: false });
    expect(st.lastSuccessUs).not.toBeNull();
  });

  it('a later pull fetches only what is new (and the last object read again: date_added need not be unique on a server)', async () => {
    expect(await feeds.pull('vendor')).toMatchObject({ received: 1, added: 0, duplicates: 1 });
    await vendorPublishes(vendorIndicator(4, 'green'));
    expect(await feeds.pull('vendor')).toMatchObject({ received: 2, added: 1, duplicates: 1 });
    expect((await heldByB()).size).toBe(4);
    // A reset walks it again: everything is a duplicate.
    await feeds.reset(SYSTEM_ACTOR, 'vendor');
    expect(await feeds.pull('vendor')).toMatchObject({ received: 4, added: 0, duplicates: 4 });
  });

  it('a second organisation importing the same source stores copies of what the first stored; a version it reads first is refused', async () => {
    const Z = await makeOrg(B, 'Z');
    const zColl = await makeCollection(B, 'z copy', [[Z.row.id, { canRead: true, canWrite: true }]]);
    await feeds.add(SYSTEM_ACTOR, { name: 'vendor-z', url: serverA.url, remoteCollection: vendorColl.id, localCollection: zColl.id, org: 'Z', auth: { kind: 'bearer', token: V.token }, intervalS: 0 });
    const first = await feeds.pull('vendor-z');
    expect(first).toMatchObject({ rejected: 0 });
    expect(first.added).toBe(4);
    // The vendor publishes a new version of one of its objects: Y (the first importer, the owner here) takes it, Z is refused.
    const [row] = (await A.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1 })).filter((r) => r.collectionId === vendorColl.id);
    const next: Record<string, unknown> = { ...(JSON.parse(row!.json) as Record<string, unknown>), modified: '2026-02-01T00:00:00.000Z', name: 'vendor, second version' };
    await vendorPublishes(next);
    // Z reads it first: refused (Y owns the id here); once Y stored it, a reset of Z's feed takes it as a copy.
    expect(await feeds.pull('vendor-z')).toMatchObject({ added: 0, rejected: 1 });
    expect((await feeds.state('vendor-z')).failures[0]?.id).toBe(next.id);
    expect(await feeds.pull('vendor')).toMatchObject({ added: 1, rejected: 0 });
    await feeds.reset(SYSTEM_ACTOR, 'vendor-z');
    expect(await feeds.pull('vendor-z')).toMatchObject({ added: 1, rejected: 0 });
    await feeds.remove(SYSTEM_ACTOR, 'vendor-z');
  });

  it('HTTP Basic works too; a refused login is the feed\'s last error, not a crash', async () => {
    const other = await makeCollection(B, 'basic', [[Y.row.id, { canRead: true, canWrite: true }]]);
    await feeds.add(SYSTEM_ACTOR, { name: 'basic', url: serverA.url, remoteCollection: vendorColl.id, localCollection: other.id, org: Y.row.id, auth: { kind: 'basic', username: V.user, password: V.password }, intervalS: 0 });
    expect(await feeds.pull('basic')).toMatchObject({ added: 5 }); // four objects, one in two versions
    await feeds.add(SYSTEM_ACTOR, { name: 'wrong', url: serverA.url, remoteCollection: vendorColl.id, localCollection: other.id, org: 'Y', auth: { kind: 'bearer', token: 'not-a-valid-token-at-all' }, intervalS: 0 });
    await expect(feeds.pull('wrong')).rejects.toThrow(/TAXII feed wrong: .*401/);
    const wrong = (await feeds.list()).find((f) => f.name === 'wrong')!;
    expect(wrong.state.lastError).toMatch(/401/);
    expect(wrong.state.lastSuccessUs).toBeNull();
  });

  it('refuses a bad configuration with a clear 4xx', async () => {
    const base = { url: serverA.url, remoteCollection: vendorColl.id, localCollection: into.id, org: 'Y' };
    const bad = async (f: Partial<Parameters<TaxiiFeeds['add']>[1]>, code: string) => {
      await expect(feeds.add(SYSTEM_ACTOR, { name: 'x', ...base, ...f } as Parameters<TaxiiFeeds['add']>[1])).rejects.toMatchObject({ code });
    };
    await bad({ name: 'Bad Name' }, 'BAD_REQUEST');
    await bad({ name: 'vendor' }, 'CONFLICT');
    await bad({ url: 'ftp://x.example/' }, 'BAD_REQUEST');
    await bad({ url: 'https://user:pw@x.example/' }, 'BAD_REQUEST');
    // Never a cloud metadata service or another link-local address, however written; nor a URL whose query would swallow the paths.
    for (const url of ['http://169.254.169.254/', 'http://2852039166/', 'http://[::ffff:169.254.169.254]/', 'http://[fe80::1]:9000/', 'http://[fd00:ec2::254]/', 'http://0.0.0.0:8080/',
      'https://cti.vendor.example/latest/meta-data?x=', 'https://cti.vendor.example/#x']) await bad({ url }, 'BAD_REQUEST');
    await bad({ apiRoot: '..' }, 'BAD_REQUEST');
    await bad({ localCollection: 'no-such-collection' }, 'NOT_FOUND');
    await bad({ org: 'NOBODY' }, 'NOT_FOUND');
    await bad({ tlp: 'purple' as never }, 'BAD_REQUEST');
    await bad({ intervalS: -1 }, 'BAD_REQUEST');
    await bad({ auth: { kind: 'bearer', token: 'short' } }, 'BAD_REQUEST');
    // A peer node's organisation never imports here.
    await B.access.createOrganisation(SYSTEM_ACTOR, { name: 'Remote', shortName: 'REMOTE', node: 'dk' });
    await bad({ org: 'REMOTE' }, 'BAD_REQUEST');
    await expect(feeds.pull('no-such-feed')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('the client connects to no link-local or metadata-service address, given as such or as a name that resolves to one', async () => {
    for (const url of ['http://169.254.169.254', 'http://[::ffff:a9fe:a9fe]', 'http://[fe80::1]:8080']) {
      const c = new TaxiiClient({ url, timeoutMs: 60_000 });
      const t0 = Date.now();
      await expect(c.discovery()).rejects.toThrow(/link-local or metadata-service address/);
      expect(Date.now() - t0).toBeLessThan(5000);
      await c.close();
    }
    // A name that resolves to such an address (the resolver answers as a hostile DNS zone would).
    const real = dns.lookup.bind(dns);
    const spy = vi.spyOn(dns, 'lookup').mockImplementation(((host: string, o: unknown, cb: (e: Error | null, a: unknown) => void) => {
      if (host === 'metadata.example') return cb(null, [{ address: '169.254.169.254', family: 4 }]);
      return (real as (...a: unknown[]) => void)(host, o, cb);
    }) as never);
    try {
      const c = new TaxiiClient({ url: 'http://metadata.example', timeoutMs: 60_000 });
      await expect(c.discovery()).rejects.toThrow(/metadata\.example is resolved to 169\.254\.169\.254, a link-local or metadata-service address/);
      await c.close();
    } finally {
      spy.mockRestore();
    }
    // A name is looked up through the same guard, and reaches an ordinary address.
    const port = new URL(serverA.url).port;
    const byName = new TaxiiClient({ url: `http://localhost:${port}`, auth: { kind: 'bearer', token: V.token } });
    expect(await byName.discovery()).toHaveProperty('api_roots');
    await byName.close();
  });

  it('the scheduler pulls a feed when its interval has passed, and only then', async () => {
    const sched = new TaxiiFeedScheduler(feeds, clockB);
    await vendorPublishes(vendorIndicator(5, 'green'));
    // 'vendor' ran at T0 (the manual clock): within its hour, nothing; 'basic' and 'wrong' are manual only.
    expect((await sched.tick()).map((r) => r.feed)).toEqual([]);
    clockB.advance(3601_000);
    const ran = await sched.tick();
    expect(ran.map((r) => [r.feed, r.added])).toEqual([['vendor', 1]]);
    expect((await sched.tick()).map((r) => r.feed)).toEqual([]);
  });

  it('over REST: admins add, pull, reset and remove; every reader sees the state, never the credentials nor the refusals', async () => {
    const al = await makeAlliance({ SHIELDWALL_NODE_NAME: 'rest-feeds' });
    try {
      const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, user: string, body?: unknown) => {
        const res = await al.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${al.tokens[user]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
        return { status: res.statusCode, text: res.body, body: res.json() as Record<string, unknown> };
      };
      const local = al.shared;
      const feed = { name: 'vendor', url: serverA.url, remoteCollection: vendorColl.id, localCollection: local, org: 'A', tlp: 'green', auth: { kind: 'bearer', token: V.token }, intervalS: 0 };
      expect((await call('POST', '/taxii-feeds', 'b-analyst', feed)).status).toBe(403);
      expect((await call('POST', '/taxii-feeds', 'a-admin', { ...feed, auth: { kind: 'bearer' } })).status).toBe(400);
      expect((await call('POST', '/taxii-feeds', 'a-admin', { ...feed, auth: { kind: 'basic', username: 'u' } })).status).toBe(400);
      expect((await call('POST', '/taxii-feeds', 'a-admin', { ...feed, auth: { kind: 'oauth' } })).status).toBe(400);
      expect((await call('POST', '/taxii-feeds', 'a-admin', { ...feed, tlp: 'purple' })).status).toBe(400);
      const added = await call('POST', '/taxii-feeds', 'a-admin', feed);
      expect(added.status).toBe(200);
      expect(added.text).not.toContain(V.token);
      expect((await call('POST', '/taxii-feeds/vendor/pull', 'b-analyst')).status).toBe(403);
      const pulled = await call('POST', '/taxii-feeds/vendor/pull', 'a-admin');
      expect(pulled.body).toMatchObject({ feed: 'vendor', complete: true });
      expect(pulled.body.added).toBeGreaterThan(0);
      const list = await call('GET', '/taxii-feeds', 'b-analyst');
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(V.token);
      const item = (list.body.items as { name: string; auth: string; state: Record<string, unknown> }[])[0]!;
      expect(item).toMatchObject({ name: 'vendor', auth: 'bearer' });
      expect(item.state.added).toBe(pulled.body.added);
      expect(item.state).not.toHaveProperty('failures');
      expect((await call('GET', '/taxii-feeds/vendor/failures', 'b-analyst')).status).toBe(403);
      expect((await call('GET', '/taxii-feeds/vendor/failures', 'a-admin')).body).toEqual({ items: [] });
      expect((await call('POST', '/taxii-feeds/vendor/reset', 'a-admin')).status).toBe(200);
      expect((await call('POST', '/taxii-feeds/nope/pull', 'a-admin')).status).toBe(404);
      expect((await call('DELETE', '/taxii-feeds/vendor', 'a-admin')).status).toBe(200);
      expect((await call('GET', '/taxii-feeds', 'b-analyst')).body).toEqual({ items: [] });
    } finally {
      await al.close();
    }
  });

  it('over REST an administrator manages only the feeds its own organisation imports, into a collection it may write; a pull it asks for is audited as its own', async () => {
    const al = await makeAlliance({ SHIELDWALL_NODE_NAME: 'rest-feed-orgs' });
    try {
      const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, user: string, body?: unknown) => {
        const res = await al.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${al.tokens[user]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
        return { status: res.statusCode, text: res.body };
      };
      const feed = { name: 'a-vendor', url: serverA.url, remoteCollection: vendorColl.id, localCollection: al.privateA, org: 'A', auth: { kind: 'bearer', token: V.token }, intervalS: 0 };
      // C's administrator may not make A the importer of record, nor import as C into A's private collection or a read-only one.
      expect((await call('POST', '/taxii-feeds', 'c-admin', { ...feed, localCollection: al.shared })).status).toBe(403);
      expect((await call('POST', '/taxii-feeds', 'c-admin', { ...feed, org: 'C' })).status).toBe(404);
      expect((await call('POST', '/taxii-feeds', 'c-admin', { ...feed, org: 'C', localCollection: al.readOnly })).status).toBe(403);
      expect((await call('GET', '/taxii-feeds', 'c-admin')).text).toBe('{"items":[]}');
      expect((await call('POST', '/taxii-feeds', 'a-admin', feed)).status).toBe(200);
      // Nor manage A's feed.
      expect((await call('POST', '/taxii-feeds/a-vendor/pull', 'c-admin')).status).toBe(403);
      expect((await call('POST', '/taxii-feeds/a-vendor/reset', 'c-admin')).status).toBe(403);
      expect((await call('GET', '/taxii-feeds/a-vendor/failures', 'c-admin')).status).toBe(403);
      expect((await call('DELETE', '/taxii-feeds/a-vendor', 'c-admin')).status).toBe(403);
      expect((await al.platform.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1000 })).filter((r) => r.collectionId === al.privateA && r.json.includes(VENDOR))).toEqual([]);
      const pulled = await call('POST', '/taxii-feeds/a-vendor/pull', 'a-admin');
      expect(pulled.status, pulled.text).toBe(200);
      const audit = (await al.platform.store.listAudit({ limit: 200 })).filter((x) => x.action === 'taxii-feed.pull');
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.every((x) => x.userId === al.principals['a-admin']!.userId && x.orgId === al.orgs.A)).toBe(true);
      // A's write grant on the collection is taken away: the feed an A administrator added stops writing there.
      await al.platform.access.grantCollection(SYSTEM_ACTOR, al.privateA, al.orgs.A, { canRead: true, canWrite: false });
      const refused = await call('POST', '/taxii-feeds/a-vendor/pull', 'a-admin');
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('may no longer write into the feed\'s local collection');
      expect(JSON.parse((await call('GET', '/taxii-feeds', 'a-admin')).text).items[0].state.lastError).toContain('may no longer write');
      expect((await call('DELETE', '/taxii-feeds/a-vendor', 'a-admin')).status).toBe(200);
    } finally {
      await al.close();
    }
  });

  it('a pull stopped at its time limit with pages left is taken up at the next tick, whatever the interval', async () => {
    const paged = await makeCollection(B, 'paged', [[Y.row.id, { canRead: true, canWrite: true }]]);
    await feeds.add(SYSTEM_ACTOR, { name: 'paged', url: serverA.url, remoteCollection: vendorColl.id, localCollection: paged.id, org: 'Y', auth: { kind: 'bearer', token: V.token }, intervalS: 3600 });
    const first = await feeds.pull('paged', { maxMs: 0 });
    expect(first).toMatchObject({ pages: 1, received: 2, complete: false });
    expect((await feeds.state('paged')).more).toBe(true);
    // Within its hour, the scheduler still goes on with it (and only with it: 'vendor' is not due).
    const ran = await new TaxiiFeedScheduler(feeds, clockB).tick();
    expect(ran.map((r) => [r.feed, r.complete])).toEqual([['paged', true]]);
    expect((await feeds.state('paged')).more).toBe(false);
    await feeds.remove(SYSTEM_ACTOR, 'paged');
  });

  it('a server\'s objects never pass for the importing organisation\'s own: one naming it as creator, or its identity, is refused', async () => {
    const forgedColl = await makeCollection(A, 'forged', [[V.row.id, { canRead: true, canWrite: true }]]);
    const mine: Record<string, unknown> = { ...vendorIndicator(9, null), created_by_ref: Y.row.id, name: 'Y says: block this' };
    const identity = { type: 'identity', spec_version: '2.1', id: Y.row.id, created: '2026-01-02T03:04:05.678Z', modified: '2026-01-02T03:04:05.678Z', name: 'Y (as the vendor tells it)', identity_class: 'organization' };
    const honest = vendorIndicator(10, null);
    // Another organisation of B: refused as well (the intel service's rule for any member).
    const W = await makeOrg(B, 'W');
    const others: Record<string, unknown> = { ...vendorIndicator(11, null), created_by_ref: W.row.id };
    const r = await A.intel.submit({ principal: V.principal, source: 'test' }, forgedColl.id, [mine, identity, honest, others], { preserveProvenance: true });
    expect(r.filter((x) => x.status !== 'added')).toEqual([]);
    const local = await makeCollection(B, 'forged here', [[Y.row.id, { canRead: true, canWrite: true }]]);
    await feeds.add(SYSTEM_ACTOR, { name: 'forged', url: serverA.url, remoteCollection: forgedColl.id, localCollection: local.id, org: 'Y', tlp: 'amber', auth: { kind: 'bearer', token: V.token }, intervalS: 0 });
    expect(await feeds.pull('forged')).toMatchObject({ received: 4, added: 1, rejected: 3 });
    expect((await feeds.state('forged')).failures.map((f) => f.id).sort()).toEqual([mine.id, identity.id, others.id].sort());
    const held = (await B.store.scanObjects({ types: ['indicator', 'identity'], addedAfter: -1, limit: 1000 })).filter((x) => x.collectionId === local.id).map((x) => x.id);
    expect(held).toEqual([honest.id]);
    await feeds.remove(SYSTEM_ACTOR, 'forged');
  });

  it('a server that quotes the credentials it was sent in its error does not put them in the feed\'s last error, seen by every reader', async () => {
    // A hostile or careless server: its 401 quotes the Authorization header, decoded too.
    const echo = await fakePeer(() => (req, res) => {
      const h = req.headers.authorization ?? '';
      const decoded = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
      res.writeHead(401, { 'content-type': 'application/taxii+json;version=2.1' });
      res.end(JSON.stringify({ title: 'Unauthorized', description: `credentials ${h} (${decoded}) are not valid here` }));
    });
    try {
      const local = await makeCollection(B, 'echo', [[Y.row.id, { canRead: true, canWrite: true }]]);
      const token = 'feed-bearer-secret-0123456789';
      const password = 'feed-basic-secret-9876543210';
      await feeds.add(SYSTEM_ACTOR, { name: 'echo-bearer', url: echo.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', auth: { kind: 'bearer', token }, intervalS: 0 });
      await feeds.add(SYSTEM_ACTOR, { name: 'echo-basic', url: echo.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', auth: { kind: 'basic', username: 'feeduser', password }, intervalS: 0 });
      const b64 = Buffer.from(`feeduser:${password}`).toString('base64');
      for (const [name, secrets] of [['echo-bearer', [token]], ['echo-basic', [password, b64]]] as const) {
        const err = (await feeds.pull(name).catch((e: unknown) => e)) as Error;
        expect(err.message).toMatch(/401/);
        const st = (await feeds.list()).find((f) => f.name === name)!.state;
        expect(st.lastError).toMatch(/401/);
        for (const x of secrets) {
          expect(err.message).not.toContain(x);
          expect(st.lastError).not.toContain(x);
        }
        await feeds.remove(SYSTEM_ACTOR, name);
      }
    } finally {
      await echo.close();
    }
  });

  it('a feed removed while it is pulled stores nothing more, and nothing of it is left', async () => {
    const objects = Array.from({ length: 3 }, (_, i) => vendorIndicator(20 + i, 'green'));
    const server = await fakePeer(() => (_req, res, url) => {
      const at = Number(url.searchParams.get('next') ?? 0);
      const send = () => {
        const more = at + 1 < objects.length;
        res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' });
        res.end(JSON.stringify({ objects: objects.slice(at, at + 1), more, ...(more ? { next: String(at + 1) } : {}) }));
      };
      // The administrator removes the feed (a source found hostile) while its first page is being stored.
      if (at === 1) void feeds.remove(SYSTEM_ACTOR, 'removed').then(send);
      else send();
    });
    try {
      const local = await makeCollection(B, 'removed', [[Y.row.id, { canRead: true, canWrite: true }]]);
      await feeds.add(SYSTEM_ACTOR, { name: 'removed', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 });
      await expect(feeds.pull('removed')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const held = (await B.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1000 })).filter((x) => x.collectionId === local.id).map((x) => x.id);
      expect(held).toEqual([objects[0]!.id]);
      expect(await B.store.getMeta('taxii-feed-state.removed')).toBeNull();
      expect((await feeds.list()).map((f) => f.name)).not.toContain('removed');
    } finally {
      await server.close();
    }
  });

  it('a reset while the feed is pulled is not undone: the next page is not stored and the next pull walks from the start', async () => {
    const objects = Array.from({ length: 3 }, (_, i) => vendorIndicator(30 + i, 'green'));
    const asked: string[] = [];
    let resetDone = false;
    const server = await fakePeer(() => (_req, res, url) => {
      const at = Number(url.searchParams.get('next') ?? 0);
      asked.push(String(at));
      const send = () => {
        const more = at + 1 < objects.length;
        res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' });
        res.end(JSON.stringify({ objects: objects.slice(at, at + 1), more, ...(more ? { next: String(at + 1) } : {}) }));
      };
      // The administrator resets the feed while its first page is stored: its second page must not move the cursor on.
      if (at === 1 && !resetDone) {
        resetDone = true;
        void feeds.reset(SYSTEM_ACTOR, 'reset-mid').then(send);
      }
      else send();
    });
    try {
      const local = await makeCollection(B, 'reset-mid', [[Y.row.id, { canRead: true, canWrite: true }]]);
      await feeds.add(SYSTEM_ACTOR, { name: 'reset-mid', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 });
      const first = await feeds.pull('reset-mid');
      expect(first).toMatchObject({ pages: 1, complete: false });
      const held = async () => (await B.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1000 })).filter((x) => x.collectionId === local.id).map((x) => x.id);
      expect(await held()).toEqual([objects[0]!.id]);
      expect((await feeds.state('reset-mid')).cursor).toEqual({});
      // The next pull starts from the start, as the reset asked.
      asked.length = 0;
      const second = await feeds.pull('reset-mid');
      expect(asked[0]).toBe('0');
      expect(second).toMatchObject({ complete: true, duplicates: 1, added: 2 });
      expect((await held()).sort()).toEqual(objects.map((o) => o.id as string).sort());
    } finally {
      await feeds.remove(SYSTEM_ACTOR, 'reset-mid').catch(() => undefined);
      await server.close();
    }
  });

  it('a server that pages by added_after only (more without next, X-TAXII-Date-Added-Last) and gives objects one date_added: none is skipped; past a page of them, what may be missed is said', async () => {
    // As a server that stores date_added to the second would: a collection loaded at once shares one.
    const held: { o: Record<string, unknown>; added: string }[] = [];
    const publish = (added: string, n: number) => {
      for (let i = 0; i < n; i++) held.push({ o: vendorIndicator(40 + held.length, 'green'), added });
    };
    publish('2026-03-01T10:00:00Z', 2);
    publish('2026-03-01T10:00:01Z', 3);
    publish('2026-03-01T10:00:02Z', 1);
    const asked: (string | null)[] = [];
    const server = await fakePeer(() => (_req, res, url) => {
      const after = url.searchParams.get('added_after');
      asked.push(after);
      // Pages of 4 whatever the limit; added_after is exclusive (TAXII 2.1 §3.4); no next token.
      const rest = held.filter((x) => after === null || Date.parse(x.added) > Date.parse(after));
      const page = rest.slice(0, 4);
      res.writeHead(200, {
        'content-type': 'application/taxii+json;version=2.1',
        ...(page.length ? { 'X-TAXII-Date-Added-First': page[0]!.added, 'X-TAXII-Date-Added-Last': page[page.length - 1]!.added } : {}),
      });
      res.end(JSON.stringify({ objects: page.map((x) => x.o), more: rest.length > page.length }));
    });
    const ids = async () => new Set((await B.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 1000 })).filter((x) => x.collectionId === local.id).map((x) => x.id));
    const local = await makeCollection(B, 'by added_after', [[Y.row.id, { canRead: true, canWrite: true }]]);
    try {
      await feeds.add(SYSTEM_ACTOR, { name: 'by-date', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 });
      // The first page ends among the three objects of 10:00:01: the next page starts just before it.
      expect(await feeds.pull('by-date')).toMatchObject({ complete: true, added: 6, duplicates: 2, rejected: 0 });
      expect(await ids()).toEqual(new Set(held.map((x) => x.o.id)));
      expect(asked[1]).toBe('2026-03-01T10:00:00.999999Z');
      // Two more come in during the last object's second, after the walk ended.
      publish('2026-03-01T10:00:02Z', 2);
      expect(await feeds.pull('by-date')).toMatchObject({ complete: true, added: 2, duplicates: 1 });
      expect(await ids()).toEqual(new Set(held.map((x) => x.o.id)));
      // More objects at one date_added than a page holds: asked again the server would answer that page for ever.
      // The pull goes on after them and says what it may have missed.
      publish('2026-03-01T10:00:03Z', 5);
      publish('2026-03-01T10:00:04Z', 1);
      expect(await feeds.pull('by-date')).toMatchObject({ complete: true, rejected: 0 });
      const st = await feeds.state('by-date');
      expect(st.lastError).toBeNull();
      expect(st.failures[0]).toMatchObject({ id: null, reason: expect.stringContaining('more objects added at 2026-03-01T10:00:03Z than one page holds') });
      const now = await ids();
      expect(now).toContain(held[held.length - 1]!.o.id);
      expect(held.filter((x) => !now.has(x.o.id as string)).map((x) => x.added)).toEqual(['2026-03-01T10:00:03Z']);
    } finally {
      await feeds.remove(SYSTEM_ACTOR, 'by-date').catch(() => undefined);
      await server.close();
    }
  });

  it('a server that answers 429 or 503 with Retry-After is pulled again by the schedule no sooner than it asked', async () => {
    let answer: 'busy' | 'down' | 'ok' = 'busy';
    const server = await fakePeer(() => (_req, res) => {
      if (answer === 'busy') return res.writeHead(429, { 'content-type': 'application/taxii+json;version=2.1', 'retry-after': '7200' }).end(JSON.stringify({ title: 'Too Many Requests' }));
      if (answer === 'down') return res.writeHead(503, { 'content-type': 'text/html', 'retry-after': new Date(Date.now() + 600_000).toUTCString() }).end('<html>maintenance</html>');
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify({ objects: [vendorIndicator(60, 'green')], more: false }));
    });
    const local = await makeCollection(B, 'busy', [[Y.row.id, { canRead: true, canWrite: true }]]);
    const sched = new TaxiiFeedScheduler(feeds, clockB);
    const ran = async () => (await sched.tick()).map((r) => r.feed).filter((n) => n === 'busy');
    try {
      await feeds.add(SYSTEM_ACTOR, { name: 'busy', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 60 });
      await expect(feeds.pull('busy')).rejects.toThrow(/429/);
      let st = await feeds.state('busy');
      expect(st.lastError).toMatch(/HTTP 429 Too Many Requests \(the server asks to wait 7200 s/);
      expect(st.retryAtUs).toBe(clockB.now() * 1000 + 7200e6);
      // Its interval passed many times over: not pulled until the two hours are up.
      clockB.advance(3600_000);
      expect(await ran()).toEqual([]);
      expect((await feeds.state('busy')).lastRunUs).toBe(st.lastRunUs);
      clockB.advance(3600_000);
      // A 503 whose Retry-After is a date (RFC 9110 §10.2.3: the server's, real time).
      answer = 'down';
      expect(await ran()).toEqual([]);
      st = await feeds.state('busy');
      expect(st.lastError).toMatch(/HTTP 503 .*\(the server asks to wait (599|600) s/);
      clockB.advance(300_000);
      expect(await ran()).toEqual([]);
      clockB.advance(300_000);
      answer = 'ok';
      expect(await ran()).toEqual(['busy']);
      st = await feeds.state('busy');
      expect(st).toMatchObject({ lastError: null, retryAtUs: null, added: 1 });
    } finally {
      await feeds.remove(SYSTEM_ACTOR, 'busy').catch(() => undefined);
      await server.close();
    }
  });

  it('an API root as the server\'s discovery names it: a path of several segments (OpenCTI\'s /taxii2/root/) or its URL under the feed URL', async () => {
    const paths: string[] = [];
    const server = await fakePeer(() => (_req, res, url) => {
      paths.push(url.pathname);
      if (url.pathname !== '/taxii2/root/collections/c1/objects/') return res.writeHead(404, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify({ title: 'Not Found' }));
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify({ objects: [vendorIndicator(70, 'green')], more: false }));
    });
    const local = await makeCollection(B, 'opencti', [[Y.row.id, { canRead: true, canWrite: true }]]);
    const base = { url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 };
    try {
      for (const [name, apiRoot] of [['octi-path', '/taxii2/root/'], ['octi-url', `${server.url}/taxii2/root/`], ['octi-bare', 'taxii2/root']] as const) {
        expect((await feeds.add(SYSTEM_ACTOR, { ...base, name, apiRoot })).apiRoot).toBe('taxii2/root');
        expect(await feeds.pull(name), name).toMatchObject({ complete: true, received: 1 });
      }
      expect(new Set(paths)).toEqual(new Set(['/taxii2/root/collections/c1/objects/']));
      // An API root URL elsewhere would take the credentials there; dot segments, or a query, are no API root.
      for (const apiRoot of ['https://elsewhere.example/taxii2/root/', `${server.url}.evil.example/r/`, `${server.url}/taxii2/root/?x=1`, 'taxii2/../admin', '/./', '', 'a b']) {
        await expect(feeds.add(SYSTEM_ACTOR, { ...base, name: 'octi-bad', apiRoot }), apiRoot).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      }
    } finally {
      for (const n of ['octi-path', 'octi-url', 'octi-bare']) await feeds.remove(SYSTEM_ACTOR, n).catch(() => undefined);
      await server.close();
    }
  });

  it('a page larger than the node reads at once is asked again with half the objects, down to one that fits; nothing is lost', async () => {
    const objects = Array.from({ length: 6 }, (_, i) => ({ ...vendorIndicator(80 + i, 'green'), description: 'd'.repeat(20_000) }));
    const limits: number[] = [];
    const server = await fakePeer(() => (_req, res, url) => {
      const limit = Number(url.searchParams.get('limit'));
      limits.push(limit);
      const at = Number(url.searchParams.get('next') ?? 0);
      const page = objects.slice(at, at + limit);
      const more = at + page.length < objects.length;
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify({ objects: page, more, ...(more ? { next: String(at + page.length) } : {}) }));
    });
    // The node reads at most 64 KiB an answer (SHIELDWALL_PEER_MAX_RESPONSE_BYTES): three of these objects.
    const registry = new FederationRegistry({ store: B.store, clock: B.clock, dataDir: path.join(dir, 'b'), nodeName: 'node-b', peerMaxResponseBytes: 64 * 1024 });
    const capped = new TaxiiFeeds({ store: B.store, clock: B.clock, registry, intel: B.intel });
    const local = await makeCollection(B, 'large', [[Y.row.id, { canRead: true, canWrite: true }]]);
    try {
      await capped.add(SYSTEM_ACTOR, { name: 'large', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 });
      expect(await capped.pull('large')).toMatchObject({ complete: true, added: 6, rejected: 0 });
      expect(limits[0]).toBe(500);
      expect(Math.max(...limits.slice(-2))).toBeLessThanOrEqual(3);
      // One object larger than that alone: the pull fails with the reason, the cursor stays.
      objects.push({ ...vendorIndicator(90, 'green'), description: 'd'.repeat(100_000) });
      await expect(capped.pull('large')).rejects.toThrow(/larger than 65536 bytes/);
      expect((await capped.state('large')).lastError).toMatch(/larger than 65536 bytes/);
    } finally {
      await capped.remove(SYSTEM_ACTOR, 'large').catch(() => undefined);
      await server.close();
    }
  });

  it('more:true with no way to ask for the following page (no next, no X-TAXII-Date-Added-Last) is the feed\'s last error, saying so', async () => {
    const server = await fakePeer(() => (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify({ objects: [vendorIndicator(95, 'green')], more: true }));
    });
    const local = await makeCollection(B, 'no way on', [[Y.row.id, { canRead: true, canWrite: true }]]);
    try {
      await feeds.add(SYSTEM_ACTOR, { name: 'no-way-on', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 });
      await expect(feeds.pull('no-way-on')).rejects.toThrow(/more:true with neither a next token nor an X-TAXII-Date-Added-Last header/);
      expect((await feeds.state('no-way-on')).lastError).toMatch(/the following page cannot be asked for/);
    } finally {
      await feeds.remove(SYSTEM_ACTOR, 'no-way-on').catch(() => undefined);
      await server.close();
    }
  });

  it('a server that ignores limit and sends larger pages: taken, stored a page (500) at a time; one past 20 pages\' worth is refused', async () => {
    const objects = Array.from({ length: 1300 }, (_, i) => vendorIndicator(100 + i, 'green'));
    let pageOf = 1200;
    const server = await fakePeer(() => (_req, res, url) => {
      const at = Number(url.searchParams.get('next') ?? 0);
      const page = objects.slice(at, at + pageOf);
      const more = at + page.length < objects.length;
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify({ objects: page, more, ...(more ? { next: String(at + page.length) } : {}) }));
    });
    const local = await makeCollection(B, 'ignores limit', [[Y.row.id, { canRead: true, canWrite: true }]]);
    try {
      await feeds.add(SYSTEM_ACTOR, { name: 'no-limit', url: server.url, remoteCollection: 'c1', localCollection: local.id, org: 'Y', intervalS: 0 });
      expect(await feeds.pull('no-limit')).toMatchObject({ complete: true, pages: 2, received: 1300, added: 1300, rejected: 0 });
      const audit = (await B.store.listAudit({ limit: 1000 })).filter((x) => x.action === 'taxii-feed.pull' && (x.detail ?? '').includes('"feed":"no-limit"'));
      expect(audit).toHaveLength(4); // 500 + 500 + 200, then 100
      // Past 20 pages' worth in one answer: refused, nothing stored, the cursor stays.
      await feeds.reset(SYSTEM_ACTOR, 'no-limit');
      objects.push(...Array.from({ length: 8_800 }, (_, i) => vendorIndicator(2000 + i, 'green')));
      pageOf = 20_000;
      await expect(feeds.pull('no-limit')).rejects.toThrow(/the server answered 10100 objects for a page of at most 500 \(at most 10000 are taken\)/);
      expect((await feeds.state('no-limit')).cursor).toEqual({});
    } finally {
      await feeds.remove(SYSTEM_ACTOR, 'no-limit').catch(() => undefined);
      await server.close();
    }
  });

  it('shieldwall taxii-feed list and remove; a pull that fails exits non-zero with the reason', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SHIELDWALL_DATA_DIR: path.join(dir, 'b'), SHIELDWALL_NODE_NAME: 'node-b', SHIELDWALL_LOG_LEVEL: 'silent' });
    // The CLI opens the node's SQLite file itself: B's platform lets go of it meanwhile.
    try {
      const list = await sw('taxii-feed', 'list', '--json');
      expect(list.code).toBe(0);
      expect((JSON.parse(list.out) as { name: string }[]).map((f) => f.name).sort()).toEqual(['basic', 'vendor', 'wrong']);
      const failed = await sw('taxii-feed', 'pull', 'wrong');
      expect(failed.code).not.toBe(0);
      expect(failed.err).toMatch(/401/);
      expect((await sw('taxii-feed', 'remove', 'wrong')).code).toBe(0);
      expect((await sw('taxii-feed', 'pull', 'wrong')).code).toBe(2);
      const add = await sw('taxii-feed', 'add', 'open', '--url', serverA.url, '--collection', vendorColl.id, '--into', into.id, '--org', 'Y', '--interval', '0');
      expect(add.code).toBe(0);
      expect(add.out).toContain('manual only');
    } finally {
      process.env = saved;
    }
  });
});
