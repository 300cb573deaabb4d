/**
 * Retractions across nodes (docs/federation.md "Retractions"), over real HTTP between four
 * nodes with their own SQLite files: `a` originates objects; the hub `h` pulls `a`; the spoke
 * `b` pulls `h`; `c` also pulls `a` directly, and `h` pulls `c` (a second path to `h`).
 * A version deleted on `a` is deleted on `h`, then on `b` (passed on with a's signature), and
 * only where the reader could read the object; it never comes back by the other path; a
 * retraction altered or of an unknown origin is refused into the reject list; a copy deleted
 * on a relay by choice is not retracted elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { IntelService } from '../src/intel/index.js';
import { timestampKey } from '../src/core/time.js';
import { deterministicScoId, TLP2_MARKING_IDS } from '../src/stix/index.js';
import { P_BATCH } from '../src/federation/batches.js';
import { applyRetractions, nodeIdentityId, runSubscription, signRetraction, type Retraction, type RunReport, type Subscription } from '../src/federation/index.js';
import { ROOT, TAXII, bearer, indicator, makeCollection, makeOrg, makePlatform, submitWith, tmpDir, type Org } from './taxii-fixtures.js';

type Name = 'a' | 'h' | 'b' | 'c' | 'd';
const dir = tmpDir('sw-fed-retract-');
const P = {} as Record<Name, Platform>;
const S = {} as Partial<Record<Name, RunningServer>>;
const coll = {} as Record<Name, { id: string }>;
const subs = {} as Record<'ha' | 'bh' | 'ca' | 'hc', Subscription>;
let XA: Org; // creator, on a
let YH: Org; // reader on h
let ZB: Org; // reader on b
const objs: Record<string, Record<string, unknown>> = {};

async function run(node: Name, sub: Subscription): Promise<RunReport> {
  const p = P[node];
  return runSubscription({ store: p.store, clock: p.clock, registry: p.federation, intel: p.intel }, sub);
}

/** Which of the test objects `node` holds a copy of in its collection (whoever may read it). */
async function held(node: Name): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [name, o] of Object.entries(objs)) {
    const copies = await P[node].store.storedVersions([{ id: o.id as string, version: timestampKey(String(o.modified))! }]);
    if (copies.some((r) => r.collectionId === coll[node].id)) out.add(name);
  }
  return out;
}

/** `from` pulls `to`'s collection into its own: `to` registers `from` and grants it a token. */
async function link(from: Name, to: Name, served: { id: string; shortName: string }[], fromOrgs: { id: string; shortName: string }[] = []): Promise<Subscription> {
  const pf = P[from];
  const pt = P[to];
  if (!(await pt.federation.getPeer(from))) await pt.federation.addPeer(SYSTEM_ACTOR, { name: from, url: null, publicKey: pf.federation.keys().publicKey, orgs: fromOrgs });
  const identity = nodeIdentityId(from);
  await pt.access.grantCollection(SYSTEM_ACTOR, coll[to].id, identity, { canRead: true, canWrite: false });
  const token = (await pt.access.createToken(SYSTEM_ACTOR, { orgId: identity, kind: 'peer', name: `node ${from}` })).token;
  await pf.federation.addPeer(SYSTEM_ACTOR, { name: to, url: S[to]!.url, publicKey: pt.federation.keys().publicKey, token, orgs: served });
  return pf.federation.addSubscription(SYSTEM_ACTOR, { peer: to, direction: 'pull', remoteCollection: coll[to].id, localCollection: coll[from].id });
}

/** How many rows name each batch whose proof nodes `node` keeps (a relay keeps them once per batch), sorted. */
async function batchRows(node: Name): Promise<number[]> {
  return (await P[node].store.listMeta(P_BATCH)).map((m) => (JSON.parse(m.value) as { rows: number }).rows).sort((x, y) => x - y);
}

async function taxiiDelete(node: Name, who: Org, id: string): Promise<number> {
  const res = await fetch(`${S[node]!.url}/${ROOT}/collections/${coll[node].id}/objects/${id}/`, { method: 'DELETE', headers: { Accept: TAXII, Authorization: bearer(who.token) } });
  return res.status;
}

async function retractionsAs(node: Name, token: string, after?: string): Promise<{ status: number; body: { retractions?: Retraction[]; more?: boolean; next?: string | null; node?: string } }> {
  const q = new URLSearchParams({ collection: coll[node].id, ...(after ? { after } : {}) });
  const res = await fetch(`${S[node]!.url}/api/v1/federation/retractions?${q}`, { headers: { Authorization: bearer(token) } });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  for (const n of ['a', 'h', 'b', 'c'] as Name[]) {
    fs.mkdirSync(path.join(dir, n), { recursive: true });
    P[n] = await makePlatform({ file: path.join(dir, n, 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: n } });
  }
  XA = await makeOrg(P.a, 'XA');
  YH = await makeOrg(P.h, 'YH');
  ZB = await makeOrg(P.b, 'ZB');
  // Each node knows the organisations of the others it names, under the same ids.
  await P.a.access.createOrganisation(SYSTEM_ACTOR, { id: YH.row.id, name: 'Org YH', shortName: 'YH', node: 'h' });
  await P.a.access.createOrganisation(SYSTEM_ACTOR, { id: ZB.row.id, name: 'Org ZB', shortName: 'ZB', node: 'h' });
  coll.a = await makeCollection(P.a, 'Alliance', [[XA.row.id, { canRead: true, canWrite: true }]]);
  coll.h = await makeCollection(P.h, 'From a', [[YH.row.id, { canRead: true, canWrite: true }]]);
  coll.b = await makeCollection(P.b, 'From h', [[ZB.row.id, { canRead: true, canWrite: true }]]);
  coll.c = await makeCollection(P.c, 'From a (c)', []);
  for (const n of ['a', 'h', 'c'] as Name[]) S[n] = await startServer(P[n], { logger: false });
  const xa = { id: XA.row.id, shortName: 'XA' };
  subs.ha = await link('h', 'a', [xa], [{ id: YH.row.id, shortName: 'YH' }, { id: ZB.row.id, shortName: 'ZB' }]);
  subs.bh = await link('b', 'h', [xa, { id: YH.row.id, shortName: 'YH' }], [{ id: ZB.row.id, shortName: 'ZB' }]);
  subs.ca = await link('c', 'a', [xa]);
  subs.hc = await link('h', 'c', []);
  // b verifies what h relays from a with a's key.
  await P.b.federation.addPeer(SYSTEM_ACTOR, { name: 'a', url: null, publicKey: P.a.federation.keys().publicKey, orgs: [] });

  const put = async (name: string, tlp: 'green' | 'amber', recipients?: string[]) => {
    const o = indicator({ tlp, name });
    objs[name] = o;
    await submitWith(P.a, { who: XA, collectionId: coll.a.id, objects: [o], ...(recipients ? { recipients } : {}) });
  };
  await put('green-retracted', 'green');
  await put('green-kept', 'green');
  await put('amber-b-retracted', 'amber', [ZB.row.id]);
  await put('amber-h-retracted', 'amber', [YH.row.id]);
  await put('green-deleted-on-h', 'green');
}, 60_000);

afterAll(async () => {
  for (const n of ['a', 'h', 'c', 'd'] as Name[]) await S[n]?.close();
  for (const n of ['a', 'h', 'b', 'c', 'd'] as Name[]) await P[n]?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('retractions travel with the objects', () => {
  it('copies are where the release policy put them before anything is deleted', async () => {
    expect((await run('h', subs.ha)).complete).toBe(true);
    expect((await run('b', subs.bh)).complete).toBe(true);
    expect((await run('c', subs.ca)).complete).toBe(true);
    expect(await held('h')).toEqual(new Set(Object.keys(objs)));
    expect(await held('b')).toEqual(new Set(['green-retracted', 'green-kept', 'amber-b-retracted', 'green-deleted-on-h']));
    expect(await held('c')).toEqual(new Set(['green-retracted', 'green-kept', 'green-deleted-on-h']));
    // One page of a, one batch: each node keeps its nodes once and counts the rows naming it.
    expect(await batchRows('h')).toEqual([5]);
    expect(await batchRows('b')).toEqual([4]);
    expect(await batchRows('c')).toEqual([3]);
  });

  it('a version deleted on its origin is deleted on the hub, and the hub tells b only what b could read', async () => {
    for (const n of ['green-retracted', 'amber-b-retracted', 'amber-h-retracted']) expect(await taxiiDelete('a', XA, objs[n]!.id as string)).toBe(200);
    const r = await run('h', subs.ha);
    expect(r).toMatchObject({ complete: true, retracted: 3, rejected: 0 });
    expect(await held('h')).toEqual(new Set(['green-kept', 'green-deleted-on-h']));
    expect(await batchRows('h')).toEqual([2]);
    // The hub serves b the two b could read, with a's signature; not the one for YH only.
    const b = await P.h.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId('b'), kind: 'peer', name: 'probe b' });
    const page = await retractionsAs('h', b.token);
    expect(page.status).toBe(200);
    expect(new Set(page.body.retractions!.map((x) => x.id))).toEqual(new Set([objs['green-retracted']!.id, objs['amber-b-retracted']!.id]));
    expect(page.body.retractions!.every((x) => x.origin === 'a' && x.path.join('>') === 'a' && x.type === 'x-shieldwall-retraction')).toBe(true);
    // A second ask after the cursor: nothing new.
    const again = await retractionsAs('h', b.token, page.body.next!);
    expect(again.body.retractions).toEqual([]);
    expect(again.body.more).toBe(false);
    // The hub's audit says what the retraction deleted.
    const audit = await P.h.store.listAudit({ limit: 100 });
    expect(audit.some((e) => e.action === 'federation.retract')).toBe(true);
  });

  it('b applies what the hub passes on; running again changes nothing', async () => {
    const r = await run('b', subs.bh);
    expect(r).toMatchObject({ complete: true, retracted: 2, rejected: 0 });
    expect(await held('b')).toEqual(new Set(['green-kept', 'green-deleted-on-h']));
    expect(await batchRows('b')).toEqual([2]);
    const st = await P.b.federation.state(subs.bh.id);
    expect(st.retracted).toBe(2);
    const r2 = await run('b', subs.bh);
    expect(r2.retracted ?? 0).toBe(0);
    expect((await P.b.federation.state(subs.bh.id)).retracted).toBe(2);
  });

  it('a retracted version never comes back to the hub by another path (c still holds it)', async () => {
    expect(await held('c')).toContain('green-retracted');
    const r = await run('h', subs.hc);
    expect(r.complete).toBe(true);
    expect(await held('h')).not.toContain('green-retracted');
    const rejects = await P.h.federation.listRejects(subs.hc.id);
    expect(rejects.find((x) => x.id === objs['green-retracted']!.id)?.reason).toMatch(/retracted by its node of origin a/);
    // Once c applies it too, c passes it on to h: h holds nothing of it, so nothing happens.
    expect((await run('c', subs.ca)).retracted).toBe(1);
    expect(await held('c')).not.toContain('green-retracted');
    const r2 = await run('h', subs.hc);
    expect(r2).toMatchObject({ retracted: 0, rejected: 0 });
  });

  it('a copy deleted on a relay by choice is not retracted elsewhere', async () => {
    expect(await taxiiDelete('h', YH, objs['green-deleted-on-h']!.id as string)).toBe(403); // not YH's object
    const o = objs['green-deleted-on-h']!;
    expect(await P.h.intel.deleteVersions(coll.h.id, o.id as string, [timestampKey(String(o.modified))!])).toBe(1);
    await run('b', subs.bh);
    expect(await held('b')).toContain('green-deleted-on-h');
    expect(await batchRows('h')).toEqual([1]);
    expect(await batchRows('b')).toEqual([2]);
  });

  it('the origin may store the same content again; peers keep it retracted', async () => {
    const o = objs['green-retracted']!;
    const res = await submitWith(P.a, { who: XA, collectionId: coll.a.id, objects: [o] });
    expect(res[0]?.status).toBe('added');
    await run('h', subs.ha);
    expect(await held('h')).not.toContain('green-retracted');
    expect((await P.h.federation.listRejects(subs.ha.id)).some((x) => x.id === o.id && /retracted by its node of origin a/.test(x.reason))).toBe(true);
  });
});

describe('retractions of objects without a version (SCOs)', () => {
  const copies = async (node: Name, id: string) => (await P[node].store.scanObjects({ types: ['ipv4-addr'], addedAfter: -1, limit: 100, ids: [id] }))
    .filter((r) => r.collectionId === coll[node].id).map((r) => r.creatorOrg);

  it('an SCO deleted by its submitter on the origin goes from the hub and the spoke; another organisation\'s own copy stays', async () => {
    const sco = { type: 'ipv4-addr', spec_version: '2.1', id: deterministicScoId('ipv4-addr', { value: '198.51.100.77' }), value: '198.51.100.77', object_marking_refs: [TLP2_MARKING_IDS.green] };
    await submitWith(P.a, { who: XA, collectionId: coll.a.id, objects: [sco] });
    // YH holds its own copy of the same observable on h.
    await submitWith(P.h, { who: YH, collectionId: coll.h.id, objects: [sco] });
    await run('h', subs.ha);
    await run('b', subs.bh);
    expect((await copies('h', sco.id)).sort()).toEqual([XA.row.id, YH.row.id].sort());
    expect(await copies('b', sco.id)).toEqual([XA.row.id]);
    expect(await batchRows('h')).toEqual([1, 1]);
    expect(await batchRows('b')).toEqual([1, 2]);
    expect(await taxiiDelete('a', XA, sco.id)).toBe(200);
    expect((await run('h', subs.ha)).retracted).toBe(1);
    expect(await copies('h', sco.id)).toEqual([YH.row.id]);
    expect((await run('b', subs.bh)).retracted).toBe(1);
    expect(await copies('b', sco.id)).toEqual([]);
    // The SCO's batch went with its last row, on the hub and on the spoke.
    expect(await batchRows('h')).toEqual([1]);
    expect(await batchRows('b')).toEqual([2]);
  });
});

describe('retractions that are refused', () => {
  const forged = (o: Record<string, unknown>, over: Partial<Retraction> = {}): Retraction => {
    const base = { id: o.id as string, version: String(o.modified), digest: '0'.repeat(64), origin: 'a' };
    return { type: 'x-shieldwall-retraction', ...base, signature: signRetraction(P.c.federation.keys().privateKey, base), path: [], retracted: new Date().toISOString(), ...over };
  };

  it('a signature that is not the origin\'s, an unknown origin or a malformed item goes to the reject list; nothing is deleted', async () => {
    const kept = objs['green-kept']!;
    const peer = await P.b.federation.peer('h');
    const out = await P.b.store.transaction((tx) => applyRetractions(tx, {
      registry: P.b.federation, intel: new IntelService(tx, P.b.clock), peer, collectionId: coll.b.id,
      items: [forged(kept), forged(kept, { origin: 'nowhere' }), { type: 'x-shieldwall-retraction', id: 42 }],
    }));
    expect(out.deleted).toBe(0);
    expect(out.refused.map((r) => r.message)).toEqual([
      expect.stringMatching(/signature of origin node a does not verify/),
      expect.stringMatching(/unknown origin node nowhere/),
      expect.stringMatching(/not a well-formed retraction/),
    ]);
    expect(await held('b')).toContain('green-kept');
  });

  it('a signed retraction whose digest is not the copy held deletes nothing', async () => {
    const kept = objs['green-kept']!;
    const base = { id: kept.id as string, version: String(kept.modified), digest: 'f'.repeat(64), origin: 'a' };
    const item: Retraction = { type: 'x-shieldwall-retraction', ...base, signature: signRetraction(P.a.federation.keys().privateKey, base), path: [], retracted: new Date().toISOString() };
    const peer = await P.b.federation.peer('h');
    const out = await P.b.store.transaction(async (tx) => applyRetractions(tx, {
      registry: P.b.federation, intel: new IntelService(tx, P.b.clock), peer, collectionId: coll.b.id, items: [item],
    }));
    expect(out).toMatchObject({ deleted: 0, absent: 1, refused: [] });
    expect(await held('b')).toContain('green-kept');
  });

  it('the endpoint refuses a foreign cursor (400), a reader without the peer right (403) and no token (401)', async () => {
    const b = await P.h.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId('b'), kind: 'peer', name: 'probe b 2' });
    expect((await retractionsAs('h', b.token, 'not-a-cursor')).status).toBe(400);
    expect((await retractionsAs('h', YH.token)).status).toBe(403);
    const res = await fetch(`${S.h!.url}/api/v1/federation/retractions?collection=${coll.h.id}`);
    expect(res.status).toBe(401);
  });
});

describe('retractions pushed', () => {
  it('a push subscription sends the origin\'s retractions after its objects; the receiver deletes its copy', async () => {
    fs.mkdirSync(path.join(dir, 'd'), { recursive: true });
    P.d = await makePlatform({ file: path.join(dir, 'd', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'd' } });
    coll.d = await makeCollection(P.d, 'Pushed by a', []);
    S.d = await startServer(P.d, { logger: false });
    // d lets a write into its collection; a pushes there with d's token.
    await P.d.federation.addPeer(SYSTEM_ACTOR, { name: 'a', url: null, publicKey: P.a.federation.keys().publicKey, orgs: [{ id: XA.row.id, shortName: 'XA' }] });
    await P.d.access.grantCollection(SYSTEM_ACTOR, coll.d.id, nodeIdentityId('a'), { canRead: true, canWrite: true });
    const token = (await P.d.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId('a'), kind: 'peer', name: 'node a' })).token;
    await P.a.federation.addPeer(SYSTEM_ACTOR, { name: 'd', url: S.d.url, publicKey: P.d.federation.keys().publicKey, token, orgs: [] });
    const push = await P.a.federation.addSubscription(SYSTEM_ACTOR, { peer: 'd', direction: 'push', remoteCollection: coll.d.id, localCollection: coll.a.id });
    const o = indicator({ tlp: 'green', name: 'pushed then retracted' });
    objs['pushed-retracted'] = o;
    await submitWith(P.a, { who: XA, collectionId: coll.a.id, objects: [o] });
    const first = await run('a', push);
    expect(first.complete).toBe(true);
    expect(await held('d')).toContain('pushed-retracted');
    expect(await taxiiDelete('a', XA, o.id as string)).toBe(200);
    const second = await run('a', push);
    expect(second).toMatchObject({ complete: true, retracted: 1 });
    expect(await held('d')).not.toContain('pushed-retracted');
    // Nothing more to send on the next run.
    expect((await run('a', push)).retracted ?? 0).toBe(0);
    // A reader of d, not a peer: refused.
    const reader = await makeOrg(P.d, 'RD');
    const res = await fetch(`${S.d.url}/api/v1/federation/retractions`, {
      method: 'POST', headers: { Authorization: bearer(reader.token), 'content-type': 'application/json' }, body: JSON.stringify({ collection: coll.d.id, retractions: [] }),
    });
    expect(res.status).toBe(403);
  });
});
