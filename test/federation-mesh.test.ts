/**
 * Federation with real processes over HTTP (issue #10): a hub and three spokes, each a built
 * `shieldwall serve` with its own SQLite store, syncing continuously through subscriptions.
 * Every spoke creates objects at every TLP × recipient shape; after sync, every reader on every
 * node sees exactly what the release policy allows (zero leaks, zero wrongful denials). A relay
 * that alters an object is caught by the origin signature (reject list with the reason); the
 * hub killed with SIGKILL mid-sync and a spoke offline for a while converge with no loss and no
 * duplicate; the hub ⇄ spoke loop never amplifies; versions deleted on their spoke of origin
 * are retracted on every node.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { FederationRegistry, nodeIdentityId, nodeKeys } from '../src/federation/index.js';
import { P_BATCH } from '../src/federation/batches.js';
import { tlpMarkingId } from '../src/stix/index.js';
import type { Tlp } from '../src/core/index.js';
import { ROOT, TAXII, startNode, stopNode, type ServerProcess } from './durability-harness.js';
import { freePort } from './helpers/net.js';

type NodeName = 'hub' | 's1' | 's2' | 's3';
const SPOKES = ['s1', 's2', 's3'] as const;
const NODES: NodeName[] = ['hub', ...SPOKES];
const uuid = () => crypto.randomUUID();

interface OrgDef { id: string; short: string; node: NodeName; token?: string }
interface NodeDef { name: NodeName; dataDir: string; port: number; url: string; collection: string; own?: string; proc?: ServerProcess; publicKey: string }
interface Made { id: string; origin: NodeName; creator: string; tlp: Tlp | null; recipients: string[]; name: string; deleted?: boolean }

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-fedmesh-'));
const nodes = new Map<NodeName, NodeDef>();
const orgs: OrgDef[] = [];
const made: Made[] = [];
let proxy: http.Server;
let proxyPort = 0;

const orgsOn = (n: NodeName) => orgs.filter((o) => o.node === n);
/** Per node, a token of an administrator: the record push status is federation.admin's. */
const admins = new Map<NodeName, string>();
const orgById = (id: string) => orgs.find((o) => o.id === id)!;

function indicatorOf(tlp: Tlp | null, name: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${uuid()}`, created: now, modified: now, name,
    pattern: `[ipv4-addr:value = '10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}']`,
    pattern_type: 'stix', valid_from: now, ...(tlp ? { object_marking_refs: [tlpMarkingId(tlp)] } : {}),
  };
}

/** What the policy lets `reader` (an organisation on node `on`) see of object `m` after sync through the hub. */
function allowed(m: Made, reader: OrgDef): boolean {
  if (m.deleted) return false; // deleted on its node of origin: retracted everywhere
  if (m.name.includes('tamper me') && reader.node === 's3') return false; // refused by s3: altered by its relay
  if (reader.id === m.creator) return true;
  switch (m.tlp) {
    case null: return false;
    case 'clear': case 'green': return true;
    case 'amber': return m.recipients.includes(reader.id);
    case 'amber+strict': case 'red':
      // Only from the node of origin: readers there, or on the hub (which pulls from the origin).
      return m.recipients.includes(reader.id) && (reader.node === m.origin || reader.node === 'hub');
  }
}

async function readAll(n: NodeDef, token: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let next: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ limit: '1000', 'match[version]': 'all', ...(next ? { next } : {}) });
    const res = await fetch(`${n.url}/${ROOT}/collections/${n.collection}/objects/?${q}`, { headers: { Accept: TAXII, Authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${n.name}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { objects?: { id: string }[]; more?: boolean; next?: string };
    for (const o of body.objects ?? []) out.set(o.id, (out.get(o.id) ?? 0) + 1);
    if (!body.more || !body.next) return out;
    next = body.next;
  }
}

async function start(n: NodeDef): Promise<void> {
  n.proc = await startNode(n, { port: n.port, env: { SHIELDWALL_NODE_NAME: n.name, SHIELDWALL_FEDERATION_SYNC: '1' } });
}

async function openNode(n: NodeDef) {
  return createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: n.dataDir, SHIELDWALL_NODE_NAME: n.name, SHIELDWALL_LOG_LEVEL: 'silent' }));
}

async function converge(check: () => Promise<string | null>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let why: string | null = 'not checked';
  let said = 0;
  while (Date.now() < deadline) {
    why = await check();
    if (why === null) return;
    if (process.env.FEDMESH_DEBUG && Date.now() - said > 5000) {
      said = Date.now();
      console.log(why);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const logs = [...nodes.values()].map((n) => `--- ${n.name}\n${n.proc?.output().slice(-1500) ?? ''}`).join('\n');
  throw new Error(`no convergence within ${ms} ms: ${why}\n${logs}`);
}

async function mismatch(): Promise<string | null> {
  for (const reader of orgs) {
    const n = nodes.get(reader.node)!;
    const seen = await readAll(n, reader.token!);
    for (const m of made) {
      const want = allowed(m, reader);
      const got = seen.has(m.id);
      if (want !== got) return `${reader.short} on ${reader.node} ${got ? 'LEAK' : 'missing'}: ${m.name}`;
      if (got && seen.get(m.id) !== 1) return `${reader.short} on ${reader.node}: ${seen.get(m.id)} copies of ${m.name}`;
    }
  }
  return null;
}

beforeAll(async () => {
  // Ports first: every peer registration names the others' URLs.
  for (const name of NODES) {
    const port = await freePort();
    const dataDir = path.join(root, name);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    nodes.set(name, { name, dataDir, port, url: `http://127.0.0.1:${port}`, collection: '', publicKey: nodeKeys(dataDir, name).publicKey });
  }
  orgs.push({ id: `identity--${uuid()}`, short: 'H1', node: 'hub' });
  for (const s of SPOKES) for (const x of ['A', 'B']) orgs.push({ id: `identity--${uuid()}`, short: `${s.toUpperCase()}${x}`, node: s });
  // s3 reaches the hub through a relay that alters one object.
  proxyPort = await freePort();
  const hub = nodes.get('hub')!;
  proxy = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      try {
        const up = await fetch(`${hub.url}${req.url}`, { method: req.method ?? 'GET', headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
        let text = await up.text();
        if (req.url?.includes('/objects/') && req.method === 'GET' && text.includes('tamper me')) text = text.replace(/tamper me/g, 'tamper me (altered by the relay)');
        const out: Record<string, string> = {};
        up.headers.forEach((v, k) => {
          if (k !== 'content-length' && k !== 'content-encoding' && k !== 'transfer-encoding') out[k] = v;
        });
        res.writeHead(up.status, out);
        res.end(text);
      } catch {
        res.writeHead(502).end();
      }
    })();
  });
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));

  // Each node: its organisations with a reader each, the shared collection, its peers.
  const peerTokens = new Map<string, string>(); // `${issuer}>${holder}` → token
  for (const n of nodes.values()) {
    const p = await openNode(n);
    try {
      for (const o of orgsOn(n.name)) {
        await p.access.createOrganisation(SYSTEM_ACTOR, { id: o.id, name: `Org ${o.short}`, shortName: o.short });
        const u = await p.access.createUser(SYSTEM_ACTOR, { orgId: o.id, username: `${o.short.toLowerCase()}.analyst`, password: 'correct horse battery staple', roles: ['analyst', 'responder'] });
        o.token = (await p.access.createToken(SYSTEM_ACTOR, { orgId: o.id, userId: u.id, kind: 'api', name: 'reader' })).token;
      }
      const first = orgsOn(n.name)[0]!;
      const admin = await p.access.createUser(SYSTEM_ACTOR, { orgId: first.id, username: `${n.name}.admin`, password: 'correct horse battery staple', roles: ['admin'] });
      admins.set(n.name, (await p.access.createToken(SYSTEM_ACTOR, { orgId: first.id, userId: admin.id, kind: 'api', name: 'admin' })).token);
      const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'alliance', alias: 'alliance' });
      n.collection = c.id;
      // A collection of the spoke's own that nobody pulls: sightings made there go back only
      // through the sightings push (s2 → hub → the origin).
      if (n.name !== 'hub') {
        const own = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'own', alias: 'own' });
        n.own = own.id;
        for (const o of orgsOn(n.name)) await p.access.grantCollection(SYSTEM_ACTOR, own.id, o.id, { canRead: true, canWrite: true });
      }
      for (const o of orgsOn(n.name)) await p.access.grantCollection(SYSTEM_ACTOR, c.id, o.id, { canRead: true, canWrite: true });
      const reg = new FederationRegistry({ store: p.store, clock: p.clock, dataDir: n.dataDir, nodeName: n.name });
      const link = async (peer: NodeName, url: string | null, served: OrgDef[]) => {
        // On a spoke, the other spokes' organisations are reached through the hub (relayed).
        await reg.addPeer(SYSTEM_ACTOR, { name: peer, url, publicKey: nodes.get(peer)!.publicKey, orgs: served.map((o) => ({ id: o.id, shortName: o.short, relayed: n.name !== 'hub' && o.node !== 'hub' })) });
        if (!url) return;
        // Write too: spokes push sightings back into the hub's collection.
        await p.access.grantCollection(SYSTEM_ACTOR, c.id, nodeIdentityId(peer), { canRead: true, canWrite: n.name === 'hub' });
        peerTokens.set(`${n.name}>${peer}`, (await p.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId(peer), kind: 'peer', name: `node ${peer}` })).token);
      };
      if (n.name === 'hub') {
        for (const s of SPOKES) await link(s, nodes.get(s)!.url, orgsOn(s));
      } else {
        const hubUrl = n.name === 's3' ? `http://127.0.0.1:${proxyPort}` : hub.url;
        await link('hub', hubUrl, orgs.filter((o) => o.node !== n.name));
        for (const s of SPOKES) if (s !== n.name) await link(s, null, []);
      }
      // Objects at every TLP × recipient shape, created by the spoke's first organisation.
      if (n.name !== 'hub') {
        const [a, b] = orgsOn(n.name);
        const other = orgsOn(SPOKES[(SPOKES.indexOf(n.name as 's1') + 1) % 3]!)[0]!;
        const h1 = orgsOn('hub')[0]!;
        const shapes: [string, string[]][] = [['none', []], ['local', [b!.id]], ['hub', [h1.id]], ['other spoke', [other.id]], ['hub+other', [h1.id, other.id]]];
        const principal = await p.access.principalOfUser(`${a!.short.toLowerCase()}.analyst`);
        for (const tlp of [null, 'clear', 'green', 'amber', 'amber+strict', 'red'] as (Tlp | null)[]) {
          for (const [label, recipients] of shapes) {
            const name = `${n.name} ${tlp ?? 'no-tlp'} to ${label}`;
            const o = indicatorOf(tlp, name);
            const r = await p.intel.submit({ principal, source: 'test' }, c.id, [o], { recipients });
            expect(r[0]!.status).toBe('added');
            made.push({ id: String(o.id), origin: n.name, creator: a!.id, tlp, recipients, name });
          }
        }
        if (n.name === 's1') {
          const o = indicatorOf('green', 's1 tamper me');
          await p.intel.submit({ principal, source: 'test' }, c.id, [o]);
          made.push({ id: String(o.id), origin: 's1', creator: a!.id, tlp: 'green', recipients: [], name: 's1 tamper me' });
        }
      }
    } finally {
      await p.close();
    }
  }
  // Tokens issued by each node are kept by the node they were issued to; subscriptions.
  for (const n of nodes.values()) {
    const p = await openNode(n);
    try {
      const reg = new FederationRegistry({ store: p.store, clock: p.clock, dataDir: n.dataDir, nodeName: n.name });
      for (const [k, token] of peerTokens) {
        const [issuer, holder] = k.split('>') as [NodeName, NodeName];
        if (holder === n.name) await reg.setToken(SYSTEM_ACTOR, issuer, token);
      }
      const peers = n.name === 'hub' ? [...SPOKES] : ['hub'];
      for (const peer of peers) await reg.addSubscription(SYSTEM_ACTOR, { peer, direction: 'pull', remoteCollection: 'alliance', localCollection: n.collection, intervalS: 1 });
      if (n.own) await reg.addSubscription(SYSTEM_ACTOR, { peer: 'hub', direction: 'push', remoteCollection: 'alliance', localCollection: n.own, intervalS: 1, sightingsOnly: true });
    } finally {
      await p.close();
    }
  }
  // Spokes first: the hub's subscriptions then find them up.
  for (const name of [...SPOKES, 'hub'] as NodeName[]) await start(nodes.get(name)!);
}, 120_000);

afterAll(async () => {
  for (const n of nodes.values()) if (n.proc) await stopNode(n.proc, 'SIGKILL');
  await new Promise<void>((r) => proxy?.close(() => r()));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('hub and three spokes over HTTP', () => {
  it('every reader on every node sees exactly what the release policy allows (zero leaks, zero wrongful denials)', async () => {
    await converge(mismatch, 60_000);
    expect(await mismatch()).toBeNull();
  }, 120_000);

  it('the relay that altered an object is caught by the origin signature, with the reason in the reject list', async () => {
    const s3 = nodes.get('s3')!;
    const admin = orgsOn('s3')[0]!;
    // An analyst may read the status; the reject list needs an admin: read it from the store.
    const all = await (await fetch(`${s3.url}/api/v1/federation/subscriptions`, { headers: { Authorization: `Bearer ${admin.token}` } })).json() as { items: { subscription: { id: string; direction: string }; rejects: number; state: { objectsIn: number }; lastSuccess: string | null }[] };
    const subs = { items: all.items.filter((x) => x.subscription.direction === 'pull') };
    expect(subs.items).toHaveLength(1);
    expect(subs.items[0]!.rejects).toBeGreaterThanOrEqual(1);
    expect(subs.items[0]!.lastSuccess).not.toBeNull();
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: s3.dataDir, SHIELDWALL_NODE_NAME: 's3', SHIELDWALL_LOG_LEVEL: 'silent' }));
    try {
      const rejects = await p.federation.listRejects(subs.items[0]!.subscription.id);
      const tampered = made.find((m) => m.name === 's1 tamper me')!;
      const r = rejects.find((x) => x.id === tampered.id);
      expect(r?.reason).toMatch(/signature of origin node s1 does not verify/);
    } finally {
      await p.close();
    }
  }, 60_000);

  it('the hub keeps of each relayed version its place in the origin\'s batch, and each batch\'s proof nodes once', async () => {
    const hub = nodes.get('hub')!;
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: hub.dataDir, SHIELDWALL_NODE_NAME: 'hub', SHIELDWALL_LOG_LEVEL: 'silent' }));
    try {
      const relayed = made.filter((m) => m.origin !== 'hub' && !m.deleted && m.tlp !== null && m.tlp !== 'red' && m.tlp !== 'amber+strict').map((m) => m.id);
      const provs = await p.store.provenanceOf(relayed);
      expect(provs.size).toBeGreaterThan(0);
      const refs = new Set<string>();
      for (const raw of provs.values()) {
        const batch = (JSON.parse(raw) as { batch?: { ref?: string; path?: unknown } }).batch;
        expect(batch?.path).toBeUndefined();
        refs.add(batch!.ref!);
      }
      const kept = await p.store.listMeta(P_BATCH);
      expect(new Set(kept.map((k) => k.key.slice(P_BATCH.length)))).toEqual(refs);
    } finally {
      await p.close();
    }
  }, 30_000);

  it('an AMBER+STRICT or RED version for another spoke\'s organisation never reaches the hub, which could not pass it on', async () => {
    const hub = nodes.get('hub')!;
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: hub.dataDir, SHIELDWALL_NODE_NAME: 'hub', SHIELDWALL_LOG_LEVEL: 'silent' }));
    try {
      const strict = made.filter((m) => m.origin !== 'hub' && (m.tlp === 'red' || m.tlp === 'amber+strict'));
      const forHub = strict.filter((m) => m.recipients.some((r) => orgById(r).node === 'hub'));
      const notForHub = strict.filter((m) => !m.recipients.some((r) => orgById(r).node === 'hub'));
      expect(forHub.length).toBeGreaterThan(0);
      expect(notForHub.some((m) => m.recipients.some((r) => orgById(r).node !== m.origin))).toBe(true);
      const held = new Set((await p.store.scanObjects({ types: ['indicator'], ids: strict.map((m) => m.id), addedAfter: 0, limit: 10_000 })).map((r) => r.id));
      expect(forHub.filter((m) => !m.deleted && !held.has(m.id)).map((m) => m.name)).toEqual([]);
      expect(notForHub.filter((m) => held.has(m.id)).map((m) => m.name)).toEqual([]);
    } finally {
      await p.close();
    }
  }, 30_000);

  it('the loop hub ⇄ spoke never amplifies: the hub never sends a spoke its own objects back, and each is stored once', async () => {
    const s1 = nodes.get('s1')!;
    const reader = orgsOn('s1')[0]!;
    const all = await (await fetch(`${s1.url}/api/v1/federation/subscriptions`, { headers: { Authorization: `Bearer ${reader.token}` } })).json() as { items: { subscription: { direction: string }; state: { looped: number } }[] };
    const subs = { items: all.items.filter((x) => x.subscription.direction === 'pull') };
    // The hub leaves out, for a peer node, the copies whose origin is that node (TAXII serve).
    expect(subs.items[0]!.state.looped).toBe(0);
    const seen = await readAll(s1, reader.token!);
    for (const [, n] of seen) expect(n).toBe(1);
  }, 30_000);

  it('a sighting on s2 of an s1 indicator relayed by the hub goes back through the hub to s1; a sighting of a local object stays', async () => {
    const s1 = nodes.get('s1')!;
    const s2 = nodes.get('s2')!;
    const hub = nodes.get('hub')!;
    const target = made.find((m) => m.origin === 's1' && m.tlp === 'green' && m.name.endsWith('to none'))!;
    const writer = orgsOn('s2')[0]!;
    const now = new Date().toISOString();
    const sighting = (of: string) => ({
      type: 'sighting', spec_version: '2.1', id: `sighting--${uuid()}`, created: now, modified: now, sighting_of_ref: of, count: 1,
      first_seen: now, last_seen: now, object_marking_refs: [tlpMarkingId('green')],
    });
    const local = indicatorOf('green', 's2 own indicator');
    const back = sighting(target.id);
    const stay = sighting(String(local.id));
    const res = await fetch(`${s2.url}/${ROOT}/collections/${s2.own}/objects/`, {
      method: 'POST', headers: { Accept: TAXII, 'Content-Type': TAXII, Authorization: `Bearer ${writer.token!}` }, body: JSON.stringify({ objects: [local, back, stay] }),
    });
    expect(res.status).toBe(202);
    const reader = orgsOn('s1')[0]!;
    await converge(async () => ((await readAll(s1, reader.token!)).has(back.id) ? null : 'the sighting has not reached s1'), 60_000);
    const atHub = await readAll(hub, orgsOn('hub')[0]!.token!);
    expect(atHub.has(back.id)).toBe(true);
    expect(atHub.has(stay.id)).toBe(false);
    expect(atHub.has(String(local.id))).toBe(false);
  }, 90_000);

  it('an incident of s1 shared with an organisation of s2 travels through the hub: read there only, answered from s2 through the hub, withdrawn when unshared', async () => {
    const [s1, s2, hub] = [nodes.get('s1')!, nodes.get('s2')!, nodes.get('hub')!];
    const [s1a] = orgsOn('s1');
    const [s2a, s2b] = orgsOn('s2');
    const call = async (n: NodeDef, token: string, route: string, body?: unknown) => {
      const [method, p] = route.split(' ') as [string, string];
      const res = await fetch(`${n.url}/api/v1${p}`, {
        method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    const created = await call(s1, s1a!.token!, 'POST /incidents', { title: 'Relayed wiper', severity: 3, tlp: 'amber' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call(s1, s1a!.token!, `POST /incidents/${id}/shares`, { shares: [{ orgId: s2a!.id, permission: 'contribute' }] })).status).toBe(200);
    await converge(async () => ((await call(s2, s2a!.token!, `GET /incidents/${id}`)).status === 200 ? null : 'S2A does not read the relayed incident on s2 yet'), 30_000);
    const seen = (await call(s2, s2a!.token!, `GET /incidents/${id}`)).body;
    expect(seen).toMatchObject({ title: 'Relayed wiper', ownerOrg: s1a!.id, originNode: 's1', canComment: true, canContribute: false });
    // The hub's record push status for s2 counts the relayed copy, and nothing waits any more.
    const peers = (await call(hub, admins.get('hub')!, 'GET /federation/peers')).body.items as { name: string; records: { out: number; relayWaiting: number } }[];
    expect(peers.find((x) => x.name === 's2')!.records).toMatchObject({ relayWaiting: 0 });
    expect(peers.find((x) => x.name === 's2')!.records.out).toBeGreaterThanOrEqual(1);
    // Nobody else: not the other organisation of s2, not the hub (which only relays it), not s3.
    expect((await call(s2, s2b!.token!, `GET /incidents/${id}`)).status).toBe(404);
    expect((await call(hub, orgsOn('hub')[0]!.token!, `GET /incidents/${id}`)).status).toBe(404);
    expect((await call(nodes.get('s3')!, orgsOn('s3')[0]!.token!, `GET /incidents/${id}`)).status).toBe(404);
    // A comment from s2 goes through the hub to s1 and comes back.
    const c = await call(s2, s2a!.token!, `POST /incidents/${id}/comments`, { text: 'seen here too, via the hub' });
    expect(c.status).toBe(201);
    type Entry = { kind: string; orgId: string; data: { text?: string } };
    const has = (items: Entry[]) => items.some((e) => e.kind === 'incident.comment' && e.orgId === s2a!.id && e.data.text === 'seen here too, via the hub');
    expect(has((await call(s1, s1a!.token!, `GET /incidents/${id}/timeline`)).body.items as Entry[])).toBe(true);
    expect(has((await call(s2, s2a!.token!, `GET /incidents/${id}/timeline`)).body.items as Entry[])).toBe(true);
    expect((await call(s2, s2b!.token!, `POST /incidents/${id}/comments`, { text: 'not mine' })).status).toBe(404);
    // Unshared on s1: the withdrawal is relayed too.
    expect((await call(s1, s1a!.token!, `DELETE /incidents/${id}/shares/${s2a!.id}`)).status).toBe(200);
    await converge(async () => ((await call(s2, s2a!.token!, `GET /incidents/${id}`)).status === 404 ? null : 'the incident is still readable on s2'), 30_000);
  }, 90_000);

  it('SIGKILL of the hub mid-sync and a spoke offline for a while: convergence with no loss and no duplicate', async () => {
    const s1 = nodes.get('s1')!;
    const s2 = nodes.get('s2')!;
    const hub = nodes.get('hub')!;
    await stopNode(s2.proc!, 'SIGTERM');
    const writer = orgsOn('s1')[0]!;
    const batch = Array.from({ length: 400 }, (_, i) => indicatorOf('green', `s1 late ${i}`));
    for (let i = 0; i < batch.length; i += 100) {
      const res = await fetch(`${s1.url}/${ROOT}/collections/${s1.collection}/objects/`, {
        method: 'POST', headers: { Accept: TAXII, 'Content-Type': TAXII, Authorization: `Bearer ${writer.token}` }, body: JSON.stringify({ objects: batch.slice(i, i + 100) }),
      });
      expect(res.status).toBe(202);
    }
    for (const o of batch) made.push({ id: String(o.id), origin: 's1', creator: writer.id, tlp: 'green', recipients: [], name: String(o.name) });
    // Kill the hub while it pulls the batch, then bring it (and later s2) back.
    await new Promise((r) => setTimeout(r, 700));
    await stopNode(hub.proc!, 'SIGKILL');
    await start(hub);
    await new Promise((r) => setTimeout(r, 3000));
    await start(s2);
    await converge(mismatch, 120_000);
    expect(await mismatch()).toBeNull();
  }, 240_000);

  it('versions deleted on their spoke of origin are retracted on the hub and the other spokes (signed, relayed by the hub)', async () => {
    const s1 = nodes.get('s1')!;
    const writer = orgsOn('s1')[0]!;
    const s2reader = orgsOn('s2')[0]!;
    const targets = [
      made.find((m) => m.origin === 's1' && m.creator === writer.id && m.tlp === 'green' && !m.deleted)!,
      made.find((m) => m.origin === 's1' && m.creator === writer.id && m.tlp === 'amber' && m.recipients.includes(s2reader.id))!,
    ];
    // Both had reached s2 before.
    const before = await readAll(nodes.get('s2')!, s2reader.token!);
    for (const t of targets) expect(before.has(t.id)).toBe(true);
    for (const t of targets) {
      const res = await fetch(`${s1.url}/${ROOT}/collections/${s1.collection}/objects/${t.id}/`, { method: 'DELETE', headers: { Accept: TAXII, Authorization: `Bearer ${writer.token!}` } });
      expect(res.status).toBe(200);
      t.deleted = true;
    }
    await converge(mismatch, 60_000);
    expect(await mismatch()).toBeNull();
  }, 90_000);
});
