/**
 * Two national nodes as real processes over HTTP (built `shieldwall serve`, each its own
 * SQLite store, the federation scheduler running): `dk` and `no`, registered as each other's
 * peers. Covers what test/federation-mesh.test.ts does not (issue #10 items 2 and 3):
 * - a push subscription (dk pushes a collection into a collection of no, with envelopes);
 * - sightings back: no pulls dk's indicator, an organisation of no sights it, and the
 *   sighting reaches dk through a `--sightings-only` push (a sighting of a local object does not);
 * - an incident and a request for assistance of dk shared with an organisation of no reach no,
 *   readable there by that organisation only, with the observables and timeline entries it may
 *   read, read-only there, and withdrawn when unshared;
 * - sharing groups across nodes: an AMBER object for a group of dk reaches its members on no
 *   only; a peer naming a group of the receiving node releases nothing through it;
 * - unhappy paths: a pushed object altered after signing refused in the TAXII status with the
 *   reason, an unknown token 401; a tampered, widened, relayed or malformed record refused with
 *   the reason, a non-peer token 403, no token 401; a record the peer refuses reported in the
 *   push status and not re-sent.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { FederationRegistry, nodeIdentityId, nodeKeys, signFacts } from '../src/federation/index.js';
import { tlpMarkingId } from '../src/stix/index.js';
import type { Tlp } from '../src/core/index.js';
import { ROOT, TAXII, startNode, stopNode, type ServerProcess } from './durability-harness.js';
import { freePort } from './helpers/net.js';
import { until as poll } from './helpers/until.js';

type Name = 'dk' | 'no';
interface NodeDef { name: Name; dataDir: string; port: number; url: string; publicKey: string; proc?: ServerProcess; collections: Record<string, string>; peerToken?: string }
interface OrgDef { id: string; short: string; node: Name; token?: string }

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-fednodes-'));
const nodes = new Map<Name, NodeDef>();
const orgs: OrgDef[] = [];
const org = (short: string) => orgs.find((o) => o.short === short)!;
let nordicGroup = ''; // a sharing group of dk with a member on no
let noGroup = ''; // a sharing group of no (NOB)
const noxId = `identity--${crypto.randomUUID()}`; // registered on dk as living on no; unknown to no
/** Per node, a token of an administrator: the record push status is federation.admin's. */
const admins = new Map<Name, string>();
const uuid = () => crypto.randomUUID();

function indicatorOf(tlp: Tlp, name: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${uuid()}`, created: now, modified: now, name,
    pattern: `[ipv4-addr:value = '10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}']`, pattern_type: 'stix', valid_from: now,
    object_marking_refs: [tlpMarkingId(tlp)],
  };
}

async function api(n: NodeDef, token: string | null, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const [method, p] = route.split(' ') as [string, string];
  const res = await fetch(`${n.url}/api/v1${p}`, {
    method, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function taxiiPost(n: NodeDef, token: string, collection: string, objects: unknown[]): Promise<void> {
  const res = await fetch(`${n.url}/${ROOT}/collections/${n.collections[collection]}/objects/`, {
    method: 'POST', headers: { Accept: TAXII, 'Content-Type': TAXII, Authorization: `Bearer ${token}` }, body: JSON.stringify({ objects }),
  });
  const st = (await res.json()) as { success_count?: number; failures?: unknown[] };
  if (res.status !== 202 || st.success_count !== objects.length) throw new Error(`POST to ${n.name}/${collection}: ${res.status} ${JSON.stringify(st)}`);
}

async function ids(n: NodeDef, token: string, collection: string): Promise<Set<string>> {
  const res = await fetch(`${n.url}/${ROOT}/collections/${n.collections[collection]}/objects/?limit=1000`, { headers: { Accept: TAXII, Authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`${n.name}/${collection}: ${res.status}`);
  return new Set(((await res.json()) as { objects?: { id: string }[] }).objects?.map((o) => o.id) ?? []);
}

const until = (what: string, check: () => Promise<boolean>, ms = 30_000) => poll(what, check, {
  ms, everyMs: 300, diag: () => [...nodes.values()].map((n) => `--- ${n.name}\n${n.proc?.output().slice(-1500) ?? ''}`).join('\n'),
});

async function start(n: NodeDef): Promise<void> {
  n.proc = await startNode(n, { port: n.port, env: { SHIELDWALL_NODE_NAME: n.name, SHIELDWALL_FEDERATION_SYNC: '1' } });
}

beforeAll(async () => {
  for (const name of ['dk', 'no'] as Name[]) {
    const port = await freePort();
    const dataDir = path.join(root, name);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    nodes.set(name, { name, dataDir, port, url: `http://127.0.0.1:${port}`, publicKey: nodeKeys(dataDir, name).publicKey, collections: {} });
  }
  orgs.push({ id: `identity--${uuid()}`, short: 'DKA', node: 'dk' }, { id: `identity--${uuid()}`, short: 'NOA', node: 'no' }, { id: `identity--${uuid()}`, short: 'NOB', node: 'no' });
  const dk = nodes.get('dk')!;
  const no = nodes.get('no')!;
  // Tokens each node issues to the other are created first, then given to the holder.
  const issued = new Map<Name, string>();
  for (const n of [dk, no]) {
    const other = n === dk ? no : dk;
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: n.dataDir, SHIELDWALL_NODE_NAME: n.name, SHIELDWALL_LOG_LEVEL: 'silent' }));
    try {
      for (const o of orgs.filter((x) => x.node === n.name)) {
        await p.access.createOrganisation(SYSTEM_ACTOR, { id: o.id, name: `Org ${o.short}`, shortName: o.short });
        const u = await p.access.createUser(SYSTEM_ACTOR, { orgId: o.id, username: `${o.short.toLowerCase()}.analyst`, password: 'correct horse battery staple', roles: ['analyst', 'responder'] });
        o.token = (await p.access.createToken(SYSTEM_ACTOR, { orgId: o.id, userId: u.id, kind: 'api', name: 'analyst' })).token;
      }
      const first = orgs.find((x) => x.node === n.name)!;
      const admin = await p.access.createUser(SYSTEM_ACTOR, { orgId: first.id, username: `${n.name}.admin`, password: 'correct horse battery staple', roles: ['admin'] });
      admins.set(n.name, (await p.access.createToken(SYSTEM_ACTOR, { orgId: first.id, userId: admin.id, kind: 'api', name: 'admin' })).token);
      const reg = new FederationRegistry({ store: p.store, clock: p.clock, dataDir: n.dataDir, nodeName: n.name });
      // dk also believes NOX lives on no (no does not know it): what dk shares with NOX is refused there.
      const extra = n === dk ? [{ id: noxId, shortName: 'NOX' }] : [];
      await reg.addPeer(SYSTEM_ACTOR, { name: other.name, url: other.url, publicKey: other.publicKey, orgs: [...orgs.filter((o) => o.node === other.name).map((o) => ({ id: o.id, shortName: o.short })), ...extra] });
      const mine = orgs.filter((o) => o.node === n.name).map((o) => o.id);
      const peerId = nodeIdentityId(other.name);
      const coll = async (alias: string, grants: [string, boolean, boolean][]) => {
        const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: alias, alias });
        for (const [who, r, w] of grants) await p.access.grantCollection(SYSTEM_ACTOR, c.id, who, { canRead: r, canWrite: w });
        n.collections[alias] = c.id;
      };
      if (n === dk) nordicGroup = (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: org('DKA').id, name: 'nordic', members: [org('NOA').id] })).id;
      else noGroup = (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: org('NOB').id, name: 'no-local', members: [] })).id;
      if (n === dk) {
        await coll('alliance', [...mine.map((m): [string, boolean, boolean] => [m, true, true]), [peerId, true, false]]);
        await coll('outbox', mine.map((m): [string, boolean, boolean] => [m, true, true]));
        await coll('sightings', [...mine.map((m): [string, boolean, boolean] => [m, true, false]), [peerId, false, true]]);
      } else {
        await coll('alliance', mine.map((m): [string, boolean, boolean] => [m, true, true]));
        await coll('inbox', [...mine.map((m): [string, boolean, boolean] => [m, true, false]), [peerId, false, true]]);
      }
      issued.set(n.name, (await p.access.createToken(SYSTEM_ACTOR, { orgId: peerId, kind: 'peer', name: `node ${other.name}` })).token);
    } finally {
      await p.close();
    }
  }
  dk.peerToken = issued.get('no'); // what no issued to dk: dk's credential on no
  no.peerToken = issued.get('dk');
  for (const n of [dk, no]) {
    const other = n === dk ? no : dk;
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: n.dataDir, SHIELDWALL_NODE_NAME: n.name, SHIELDWALL_LOG_LEVEL: 'silent' }));
    try {
      await p.federation.setToken(SYSTEM_ACTOR, other.name, n.peerToken!);
      if (n === dk) {
        await p.federation.addSubscription(SYSTEM_ACTOR, { peer: 'no', direction: 'push', remoteCollection: 'inbox', localCollection: n.collections.outbox!, intervalS: 1 });
      } else {
        await p.federation.addSubscription(SYSTEM_ACTOR, { peer: 'dk', direction: 'pull', remoteCollection: 'alliance', localCollection: n.collections.alliance!, intervalS: 1 });
        await p.federation.addSubscription(SYSTEM_ACTOR, { peer: 'dk', direction: 'push', remoteCollection: 'sightings', localCollection: n.collections.alliance!, intervalS: 1, sightingsOnly: true });
      }
    } finally {
      await p.close();
    }
  }
  await Promise.all([start(dk), start(no)]);
}, 120_000);

afterAll(async () => {
  for (const n of nodes.values()) if (n.proc) await stopNode(n.proc, 'SIGTERM');
  fs.rmSync(root, { recursive: true, force: true });
});

describe('two nodes over HTTP: push, sightings back, incidents and assistance requests', () => {
  it('an AMBER object for a sharing group of dk with members on no reaches those members only; the group itself stays on dk', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const forGroup = indicatorOf('amber', 'amber for the nordic group');
    const r = await api(dk, org('DKA').token!, `POST /intel/import?collection=${dk.collections.alliance}&recipients=${nordicGroup}`, { type: 'bundle', id: `bundle--${uuid()}`, objects: [forGroup] });
    expect(r.status).toBeLessThan(300);
    await until('NOA (a member of the group) reads it on no', async () => (await ids(no, org('NOA').token!, 'alliance')).has(forGroup.id as string));
    expect((await ids(no, org('NOB').token!, 'alliance')).has(forGroup.id as string)).toBe(false);
    // Membership is not federated: no has no such group, and NOA is named by the origin instead.
    const groups = await api(no, org('NOA').token!, 'GET /sharing-groups');
    expect((groups.body.items as { id: string }[]).some((g) => g.id === nordicGroup)).toBe(false);
  }, 60_000);

  it('a peer naming a sharing group of the receiving node releases nothing through it (the group is dropped from the recipients)', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const keys = nodeKeys(dk.dataDir, 'dk');
    const o = indicatorOf('amber', 'amber naming a group of no');
    const env = { id: o.id, version: o.modified, origin: 'dk', path: ['dk'], creator: org('DKA').id, recipients: [noGroup] };
    const signature = signFacts(keys.privateKey, { object: o, origin: 'dk', creator: org('DKA').id, recipients: [noGroup] });
    const res = await fetch(`${no.url}/${ROOT}/collections/${no.collections.inbox}/objects/`, {
      method: 'POST', headers: { Accept: TAXII, 'Content-Type': TAXII, Authorization: `Bearer ${dk.peerToken!}` },
      body: JSON.stringify({ objects: [o], x_shieldwall_envelopes: [{ ...env, signature }] }),
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { success_count: number }).success_count).toBe(1);
    // NOB is the group's member on no: it must not read what dk addressed to no's own group.
    expect((await ids(no, org('NOB').token!, 'inbox')).has(o.id as string)).toBe(false);
    expect((await ids(no, org('NOA').token!, 'inbox')).has(o.id as string)).toBe(false);
  }, 30_000);

  it('a push subscription delivers a local collection into the peer\'s collection under the release policy', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const green = indicatorOf('green', 'pushed green');
    const amberA = indicatorOf('amber', 'pushed amber for NOA');
    const amberLocal = indicatorOf('amber', 'amber for nobody on no');
    await taxiiPost(dk, org('DKA').token!, 'outbox', [green, amberLocal]);
    // AMBER to NOA: recipients come from the REST intel write (TAXII has no recipients field).
    const r = await api(dk, org('DKA').token!, `POST /intel/import?collection=${dk.collections.outbox}&recipients=${org('NOA').id}`, { type: 'bundle', id: `bundle--${uuid()}`, objects: [amberA] });
    expect(r.status).toBeLessThan(300);
    await until('NOA reads both pushed objects in no/inbox', async () => {
      const s = await ids(no, org('NOA').token!, 'inbox');
      return s.has(green.id as string) && s.has(amberA.id as string);
    });
    const a = await ids(no, org('NOA').token!, 'inbox');
    const b = await ids(no, org('NOB').token!, 'inbox');
    expect(a.has(amberLocal.id as string)).toBe(false);
    expect(b.has(green.id as string)).toBe(true);
    expect(b.has(amberA.id as string)).toBe(false);
    const subs = await api(dk, org('DKA').token!, 'GET /federation/subscriptions');
    const push = (subs.body.items as { subscription: { direction: string }; state: { objectsOut: number }; lastSuccess: string | null }[]).find((x) => x.subscription.direction === 'push')!;
    expect(push.state.objectsOut).toBeGreaterThanOrEqual(2);
    expect(push.lastSuccess).not.toBeNull();
  }, 60_000);

  it('a sighting of a pulled indicator flows back to its node of origin; a sighting of a local object does not', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const theirs = indicatorOf('green', 'dk indicator to be sighted on no');
    await taxiiPost(dk, org('DKA').token!, 'alliance', [theirs]);
    await until('no pulled the dk indicator', async () => (await ids(no, org('NOA').token!, 'alliance')).has(theirs.id as string));
    const local = indicatorOf('green', 'no local indicator');
    const now = new Date().toISOString();
    const sighting = (of: string) => ({
      type: 'sighting', spec_version: '2.1', id: `sighting--${uuid()}`, created: now, modified: now, sighting_of_ref: of, count: 3,
      first_seen: now, last_seen: now, object_marking_refs: [tlpMarkingId('green')],
    });
    const back = sighting(theirs.id as string);
    const stay = sighting(local.id as string);
    await taxiiPost(no, org('NOA').token!, 'alliance', [local, back, stay]);
    await until('dk received the sighting of its indicator', async () => (await ids(dk, org('DKA').token!, 'sightings')).has(back.id));
    const atDk = await ids(dk, org('DKA').token!, 'sightings');
    expect(atDk.has(stay.id)).toBe(false);
    expect(atDk.has(local.id as string)).toBe(false);
  }, 60_000);

  it('an incident shared with an organisation of no reaches no: that organisation only, its readable observables and timeline, read-only, withdrawn when unshared', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const dka = org('DKA').token!;
    const created = await api(dk, dka, 'POST /incidents', { title: 'Wiper on the grid operator', severity: 4, tlp: 'amber' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api(dk, dka, `POST /incidents/${id}/observables`, { type: 'domain-name', value: 'wiper.example', tlp: 'amber' })).status).toBe(200);
    expect((await api(dk, dka, `POST /incidents/${id}/observables`, { type: 'ipv4-addr', value: '203.0.113.77', tlp: 'red' })).status).toBe(200);
    expect((await api(dk, dka, `POST /incidents/${id}/shares`, { shares: [{ orgId: org('NOA').id, permission: 'contribute' }] })).status).toBe(200);
    expect((await api(dk, dka, `POST /incidents/${id}/comments`, { text: 'first comment from dk' })).status).toBe(201);
    let seen: Record<string, unknown> = {};
    await until('NOA reads the incident on no', async () => {
      const r = await api(no, org('NOA').token!, `GET /incidents/${id}`);
      seen = r.body;
      return r.status === 200;
    });
    expect(seen.title).toBe('Wiper on the grid operator');
    expect(seen.ownerOrg).toBe(org('DKA').id);
    const values = (seen.observables as { value: string }[]).map((o) => o.value);
    expect(values).toContain('wiper.example');
    expect(values).not.toContain('203.0.113.77'); // RED, released to DKA only
    expect(JSON.stringify(seen)).not.toContain('203.0.113.77');
    const tl = await api(no, org('NOA').token!, `GET /incidents/${id}/timeline`);
    expect(tl.status).toBe(200);
    expect(JSON.stringify(tl.body)).toContain('first comment from dk');
    expect(JSON.stringify(tl.body)).not.toContain('203.0.113.77');
    // Nobody else on no.
    expect((await api(no, org('NOB').token!, `GET /incidents/${id}`)).status).toBe(404);
    expect(((await api(no, org('NOB').token!, 'GET /incidents')).body.items as { id: string }[]).some((x) => x.id === id)).toBe(false);
    // A copy: it is changed on dk. With a contribute share, NOA comments from no: the comment is
    // made on dk (as NOA, by its analyst) and the fresh copy comes back at once.
    expect(seen.canContribute).toBe(false);
    expect(seen.canComment).toBe(true);
    expect(seen.originNode).toBe('dk');
    const w = await api(no, org('NOA').token!, `POST /incidents/${id}/comments`, { text: 'written back from no' });
    expect(w.status).toBe(201);
    const back = (await api(no, org('NOA').token!, `GET /incidents/${id}/timeline`)).body.items as { kind: string; orgId: string; data: { text?: string } }[];
    expect(back.some((e) => e.kind === 'incident.comment' && e.data.text === 'written back from no' && e.orgId === org('NOA').id)).toBe(true);
    const onDk = (await api(dk, dka, `GET /incidents/${id}/timeline`)).body.items as { kind: string; orgId: string; data: { text?: string } }[];
    expect(onDk.some((e) => e.kind === 'incident.comment' && e.data.text === 'written back from no' && e.orgId === org('NOA').id)).toBe(true);
    // Other writes stay on dk; another organisation of no cannot reach the incident at all.
    expect((await api(no, org('NOA').token!, `POST /incidents/${id}/tasks`, { title: 'from no' })).status).toBe(409);
    expect((await api(no, org('NOB').token!, `POST /incidents/${id}/comments`, { text: 'not shared with NOB' })).status).toBe(404);
    expect(JSON.stringify((await api(dk, dka, `GET /incidents/${id}/timeline`)).body)).not.toContain('not shared with NOB');
    // Updates flow: a new comment on dk appears on no.
    expect((await api(dk, dka, `POST /incidents/${id}/comments`, { text: 'second comment from dk' })).status).toBe(201);
    await until('the second comment reaches no', async () => JSON.stringify((await api(no, org('NOA').token!, `GET /incidents/${id}/timeline`)).body).includes('second comment from dk'));
    // Unshared on dk: withdrawn on no.
    expect((await api(dk, dka, `DELETE /incidents/${id}/shares/${org('NOA').id}`)).status).toBe(200);
    await until('the incident is withdrawn from NOA on no', async () => (await api(no, org('NOA').token!, `GET /incidents/${id}`)).status === 404);
    const peers = await api(dk, admins.get('dk')!, 'GET /federation/peers');
    const rec = (peers.body.items as { name: string; records: { out: number; lastError: string | null } }[]).find((x) => x.name === 'no')!;
    expect(rec.records.out).toBeGreaterThanOrEqual(3);
    expect(rec.records.lastError).toBeNull();
  }, 90_000);

  it('a request for assistance routed to an organisation of no reaches that organisation only, which offers help from no; dk decides; the offer is withdrawn from no', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const r = await api(dk, org('DKA').token!, 'POST /assistance', {
      title: 'Need malware analysis of a wiper', services: ['malware-analysis'], urgency: 'priority', tlp: 'amber', routedTo: [org('NOA').id],
      offerDeadline: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(r.status).toBe(201);
    const id = r.body.id as string;
    await until('NOA reads the request on no', async () => (await api(no, org('NOA').token!, `GET /assistance/${id}`)).status === 200);
    const got = await api(no, org('NOA').token!, `GET /assistance/${id}`);
    expect(got.body.title).toBe('Need malware analysis of a wiper');
    expect((await api(no, org('NOB').token!, `GET /assistance/${id}`)).status).toBe(404);
    // An offer made on no is made on dk, the request's node, and its copy comes back to no.
    const terms = { capacity: '2 analysts', availableFrom: new Date().toISOString(), availableUntil: new Date(Date.now() + 3_600_000).toISOString() };
    const wrong = await api(no, org('NOA').token!, `POST /assistance/${id}/offers`, { team: 'NO CERT', services: ['forensics'], ...terms });
    expect(wrong.status).toBe(400); // a service that was not requested: refused on no already
    const offer = await api(no, org('NOA').token!, `POST /assistance/${id}/offers`, { team: 'NO CERT malware team', services: ['malware-analysis'], ...terms });
    expect(offer.status).toBe(201);
    type OfferView = { id: string; orgId: string; state: string; team: string };
    const mine = offer.body.offers as OfferView[];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ orgId: org('NOA').id, state: 'proposed', team: 'NO CERT malware team' });
    const onDk = (await api(dk, org('DKA').token!, `GET /assistance/${id}`)).body.offers as OfferView[];
    expect(onDk.map((o) => [o.id, o.orgId, o.state])).toEqual([[mine[0]!.id, org('NOA').id, 'proposed']]);
    // Nobody else on no sees the offer (nor the request).
    expect((await api(no, org('NOB').token!, `GET /assistance/${id}`)).status).toBe(404);
    // dk accepts; the acceptance reaches the offer's copy on no with the next push.
    expect((await api(dk, org('DKA').token!, `POST /offers/${mine[0]!.id}/accept`, { reason: 'welcome' })).status).toBe(200);
    await until('NOA sees its offer accepted on no', async () => {
      const r = await api(no, org('NOA').token!, `GET /assistance/${id}`);
      return r.body.state === 'in-progress' && (r.body.offers as OfferView[])[0]?.state === 'accepted';
    });
    // NOA withdraws from no: withdrawn on dk.
    const wd = await api(no, org('NOA').token!, `POST /offers/${mine[0]!.id}/withdraw`);
    expect(wd.status).toBe(200);
    expect((wd.body.offers as OfferView[])[0]!.state).toBe('withdrawn');
    expect(((await api(dk, org('DKA').token!, `GET /assistance/${id}`)).body.offers as OfferView[])[0]!.state).toBe('withdrawn');
    // The offer's copy on no is withdrawn too: withdrawing it again is refused (409).
    const again = await api(no, org('NOA').token!, `POST /offers/${mine[0]!.id}/withdraw`);
    expect(again.status).toBe(409);
  }, 60_000);

  it('refuses a written-back action that is unsigned, malformed or for an organisation the peer does not serve', async () => {
    const dk = nodes.get('dk')!;
    const peerToken = dk.peerToken ? nodes.get('no')!.peerToken! : '';
    const action = { recordId: `incident--${uuid()}`, orgId: org('NOA').id, user: 'noa.analyst', roles: ['analyst'], nonce: uuid(), atUs: Date.now() * 1000, action: { type: 'incident.comment', text: 'x' } };
    expect((await api(dk, peerToken, 'POST /federation/records/actions', { node: 'no', body: action, signature: 'AAAA' })).status).toBe(403);
    expect((await api(dk, peerToken, 'POST /federation/records/actions', { node: 'no', body: { ...action, action: { type: 'incident.delete' } }, signature: 'AAAA' })).status).toBe(400);
    expect((await api(dk, peerToken, 'POST /federation/records/actions', { node: 'no' })).status).toBe(400);
    // An analyst's token is not a peer's.
    expect((await api(dk, org('DKA').token!, 'POST /federation/records/actions', { node: 'no', body: action, signature: 'AAAA' })).status).toBe(403);
    expect((await api(dk, null, 'POST /federation/records/actions', { node: 'no', body: action, signature: 'AAAA' })).status).toBe(401);
  }, 30_000);

  it('a pushed object changed after its origin signed it is refused in the TAXII status with the reason; an unknown token is 401', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const keys = nodeKeys(dk.dataDir, 'dk');
    const o = indicatorOf('green', 'signed then altered');
    const signature = signFacts(keys.privateKey, { object: o, origin: 'dk', creator: org('DKA').id, recipients: [] });
    const altered = { ...o, name: 'altered on the way' };
    const post = (token: string) => fetch(`${no.url}/${ROOT}/collections/${no.collections.inbox}/objects/`, {
      method: 'POST', headers: { Accept: TAXII, 'Content-Type': TAXII, Authorization: `Bearer ${token}` },
      body: JSON.stringify({ objects: [altered], x_shieldwall_envelopes: [{ id: o.id, version: o.modified, origin: 'dk', path: ['dk'], creator: org('DKA').id, recipients: [], signature }] }),
    });
    const res = await post(dk.peerToken!);
    expect(res.status).toBe(202);
    const st = (await res.json()) as { success_count: number; failures?: { id: string; message: string }[] };
    expect(st.success_count).toBe(0);
    expect(st.failures?.[0]?.message).toMatch(/signature of origin node dk does not verify/);
    expect((await ids(no, org('NOA').token!, 'inbox')).has(o.id as string)).toBe(false);
    expect((await post('not-a-token-of-this-node')).status).toBe(401);
  }, 30_000);

  it('a record the peer refuses (shared with an organisation it does not have) is reported in the push status and not sent again until it changes', async () => {
    const dk = nodes.get('dk')!;
    const dka = org('DKA').token!;
    const created = await api(dk, dka, 'POST /incidents', { title: 'For an organisation no does not know', severity: 1, tlp: 'amber' });
    const id = created.body.id as string;
    expect((await api(dk, dka, `POST /incidents/${id}/shares`, { shares: [{ orgId: noxId, permission: 'read' }] })).status).toBe(200);
    type Rec = { refused: number; lastRefusal: string | null; out: number };
    const status = async () => ((await api(dk, admins.get('dk')!, 'GET /federation/peers')).body.items as { name: string; records: Rec }[]).find((x) => x.name === 'no')!.records;
    let st: Rec = await status();
    await until('the refusal is in the status', async () => {
      st = await status();
      return st.refused >= 1 && (st.lastRefusal ?? '').includes(id);
    });
    expect(st.lastRefusal).toMatch(/shared with no organisation of this node/);
    await new Promise((r) => setTimeout(r, 5000)); // two more scans
    expect((await status()).refused).toBe(st.refused);
  }, 60_000);

  it('refuses a tampered record with the reason, a record relayed from an origin this node does not know, a non-peer token (403) and no token (401)', async () => {
    const dk = nodes.get('dk')!;
    const no = nodes.get('no')!;
    const keys = nodeKeys(dk.dataDir, 'dk');
    const id = `incident--${uuid()}`;
    const record = {
      type: 'x-shieldwall-record', id, kind: 'incident', state: 'detection-analysis', tlp: 'amber', createdUs: Date.now() * 1000, updatedUs: Date.now() * 1000,
      withdrawn: false, events: [],
      doc: {
        title: 'signed by dk', description: '', category: 'default', severity: 2, phase: 'detection-analysis', determination: 'suspected', investigationStatus: 'new',
        pap: 'amber', assignees: [], tasks: [], observables: [], links: { alerts: [], sightings: [], indicators: [], techniques: [] }, shares: [], attachments: [],
        stages: { occurredAt: null, detectedAt: new Date().toISOString(), triagedAt: null, containedAt: null, resolvedAt: null, closedAt: null },
      },
    };
    const facts = { object: record, origin: 'dk', creator: org('DKA').id, recipients: [org('NOB').id] };
    const signature = signFacts(keys.privateKey, facts);
    const tampered = { record: { ...record, doc: { ...record.doc, title: 'changed on the way' } }, origin: 'dk', creator: org('DKA').id, recipients: [org('NOB').id], signature };
    const widened = { record, origin: 'dk', creator: org('DKA').id, recipients: [org('NOB').id, org('NOA').id], signature };
    const relayed = { record, origin: 'se', creator: org('DKA').id, recipients: [org('NOB').id], signature };
    // Signed by dk but not an incident a reader here could open: refused, never a 500 later.
    const malformedRecord = { ...record, id: `incident--${uuid()}`, doc: { title: 'no observables list' } };
    const malformed = { record: malformedRecord, origin: 'dk', creator: org('DKA').id, recipients: [org('NOB').id], signature: signFacts(keys.privateKey, { ...facts, object: malformedRecord }) };
    const r = await api(no, dk.peerToken!, 'POST /federation/records', { node: 'dk', records: [tampered, widened, relayed, { record: 'x' }, malformed] });
    expect(r.status).toBe(200);
    const results = r.body.results as { id: string; status: string; message?: string }[];
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect(results[4]!.message).toMatch(/malformed incident/);
    expect(results[0]!.message).toMatch(/signature of node dk does not verify/);
    expect(results[1]!.message).toMatch(/signature of node dk does not verify/);
    expect(results[2]!.message).toMatch(/se is not a peer of this node/);
    expect((await api(no, org('NOB').token!, `GET /incidents/${id}`)).status).toBe(404);
    // The untampered one is accepted, for NOB only.
    const ok = await api(no, dk.peerToken!, 'POST /federation/records', { node: 'dk', records: [{ record, origin: 'dk', creator: org('DKA').id, recipients: [org('NOB').id], signature }] });
    expect((ok.body.results as { status: string }[])[0]!.status).toBe('added');
    expect((await api(no, org('NOB').token!, `GET /incidents/${id}`)).status).toBe(200);
    expect((await api(no, org('NOA').token!, `GET /incidents/${id}`)).status).toBe(404);
    const analyst = await api(no, org('NOA').token!, 'POST /federation/records', { node: 'dk', records: [] });
    expect(analyst.status).toBe(403);
    expect((await api(no, null, 'POST /federation/records', { node: 'dk', records: [] })).status).toBe(401);
    const bad = await api(no, dk.peerToken!, 'POST /federation/records', { records: 'nope' });
    expect(bad.status).toBe(400);
  }, 30_000);
});
