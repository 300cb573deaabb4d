/**
 * Federation over real HTTP: two Shieldwall nodes with their own SQLite files; node B pulls a
 * collection of node A with a peer token. Checks the peer-hop release policy, provenance,
 * resumption after an interruption (and a restart) without loss or duplicates, and that
 * rejected objects are reported without stopping the pull.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, buildApp, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { pull, type PullReport } from '../src/federation/index.js';
import type { Tlp } from '../src/core/index.js';
import { assertValidAgainstOasis } from './helpers/stix-schema.js';
import { deterministicScoId, TLP2_MARKING_IDS } from '../src/stix/index.js';
import { parsePublicKey, verifyBatchFacts } from '../src/federation/index.js';
import { envelopeKey, envelopeOf, type Envelope } from '../src/federation/envelope.js';
import { ROOT, bearer, indicator, makeCollection, makeOrg, makePlatform, submitWith, taxii, tmpDir, type Org } from './taxii-fixtures.js';

const dir = tmpDir('sw-fed-');
const fileA = path.join(dir, 'a', 'shieldwall.db');
const fileB = path.join(dir, 'b', 'shieldwall.db');
let A: Platform, B: Platform;
let serverA: RunningServer;
let X: Org, Z: Org, W: Org; // on A: X and Z local, W an organisation of node-c known to A
let Y: Org; // on B
let sharedA: { id: string };
let pulledB: { id: string };
let peerToken: string;
const expected = new Set<string>();
const withheld = new Set<string>();
let conflictId = '';

const env = (node: string) => ({ SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: node });

async function openB(): Promise<Platform> {
  return makePlatform({ file: fileB, env: env('node-b') });
}

function peer() {
  return { url: serverA.url, apiRoot: ROOT, collectionId: sharedA.id, token: peerToken, orgId: X.row.id, node: 'node-a' };
}

async function put(a: { who: Org; tlp: Tlp | null; recipients?: string[]; originNode?: string | null; through: boolean; name?: string }) {
  const o = indicator({ tlp: a.tlp, name: a.name ?? `${a.tlp ?? 'none'} by ${a.who.user}` });
  await submitWith(A, { who: a.who, collectionId: sharedA.id, objects: [o], ...(a.recipients ? { recipients: a.recipients } : {}), ...(a.originNode !== undefined ? { originNode: a.originNode } : {}) });
  (a.through ? expected : withheld).add(o.id as string);
  return o;
}

beforeAll(async () => {
  A = await makePlatform({ file: fileA, env: env('node-a') });
  B = await openB();
  X = await makeOrg(A, 'X');
  Z = await makeOrg(A, 'Z');
  W = await makeOrg(A, 'W', { node: 'node-c' });
  Y = await makeOrg(B, 'Y');
  // Each node knows the other's organisations under the same identity ids.
  await A.access.createOrganisation(SYSTEM_ACTOR, { id: Y.row.id, name: 'Org Y', shortName: 'Y', node: 'node-b' });
  await B.access.createOrganisation(SYSTEM_ACTOR, { id: X.row.id, name: 'Org X', shortName: 'X', node: 'node-a' });
  sharedA = await makeCollection(A, 'Shared', [[X.row.id, { canRead: true, canWrite: true }], [Z.row.id, { canRead: true, canWrite: true }],
    [W.row.id, { canRead: true, canWrite: true }], [Y.row.id, { canRead: true, canWrite: false }]]);
  pulledB = await makeCollection(B, 'From node A', [[Y.row.id, { canRead: true, canWrite: true }]]);
  peerToken = (await A.access.createToken(SYSTEM_ACTOR, { orgId: Y.row.id, kind: 'peer', name: 'node-b' })).token;

  // Created on A by X.
  await put({ who: X, tlp: 'clear', through: true });
  await put({ who: X, tlp: 'green', through: true });
  await put({ who: X, tlp: 'amber', recipients: [Y.row.id], through: true });
  await put({ who: X, tlp: 'amber', recipients: [Z.row.id], through: false });
  await put({ who: X, tlp: 'amber+strict', recipients: [Y.row.id], through: true });
  await put({ who: X, tlp: 'red', recipients: [Y.row.id], through: true, name: 'red for Y' });
  await put({ who: X, tlp: 'red', recipients: [Z.row.id], through: false });
  await put({ who: X, tlp: null, recipients: [Y.row.id], through: false });
  // Arrived at A from node-c: AMBER+STRICT and RED are never forwarded, even to a named recipient.
  await put({ who: W, tlp: 'amber+strict', recipients: [Y.row.id], originNode: 'node-c', through: false });
  await put({ who: W, tlp: 'red', recipients: [Y.row.id], originNode: 'node-c', through: false });
  await put({ who: W, tlp: 'green', originNode: 'node-c', through: true });
  await put({ who: W, tlp: 'amber', recipients: [Y.row.id], originNode: 'node-c', through: true });
  // Two versions of one object: both travel.
  const v1 = indicator({ tlp: 'green', created: '2025-02-01T00:00:00.000Z' });
  await submitWith(A, { who: X, collectionId: sharedA.id, objects: [v1] });
  await submitWith(A, { who: X, collectionId: sharedA.id, objects: [{ ...v1, modified: '2025-03-01T00:00:00.000Z' }] });
  expected.add(v1.id as string);
  // An id Y already created on B: node A's version of it must be rejected there, and reported.
  const mine = indicator({ tlp: 'green' });
  await submitWith(B, { who: Y, collectionId: pulledB.id, objects: [mine] });
  await submitWith(A, { who: X, collectionId: sharedA.id, objects: [{ ...mine, modified: '2025-09-01T00:00:00.000Z', name: 'takeover attempt' }] });
  conflictId = mine.id as string;
  serverA = await startServer(A, { logger: false });
});

afterAll(async () => {
  await serverA.close();
  await A.close();
  await B.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What Y reads on B through TAXII: id → versions. */
async function readOnB(): Promise<Map<string, string[]>> {
  const app = await buildApp(B, { logger: false });
  try {
    const out = new Map<string, string[]>();
    let next: string | undefined;
    for (;;) {
      const r = await taxii(app, 'GET', `/${ROOT}/collections/${pulledB.id}/objects/?match[version]=all&limit=4${next ? `&next=${encodeURIComponent(next)}` : ''}`, { auth: bearer(Y.token) });
      expect(r.status).toBe(200);
      for (const o of (r.body.objects ?? []) as Record<string, unknown>[]) {
        assertValidAgainstOasis(o);
        out.set(o.id as string, [...(out.get(o.id as string) ?? []), String(o.modified)]);
      }
      if (!r.body.more) return out;
      next = r.body.next as string;
    }
  } finally {
    await app.close();
  }
}

describe('node B pulls from node A over TAXII 2.1', () => {
  it('an interrupted pull (aborted after its first page, then a restart of B) resumes without loss or duplicates', async () => {
    const ac = new AbortController();
    let first: PullReport | undefined;
    const err = await pull({
      platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id, pageSize: 3, signal: ac.signal,
      onPage: (r) => {
        first = structuredClone(r);
        ac.abort(new Error('operator stop'));
      },
    }).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toBe('operator stop');
    expect(first?.pages).toBe(1);
    expect(first?.received).toBe(3);
    expect(first?.cursor.next).toBeTruthy();
    const afterFirst = await B.store.countObjects(pulledB.id);
    expect(afterFirst).toBe(1 + 3); // Y's own object and the first page

    // Restart node B on the same file: the cursor is durable.
    await B.close();
    B = await openB();
    const rest = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id, pageSize: 3 });
    expect(rest.complete).toBe(true);
    expect(rest.duplicates).toBe(0);
    expect(rest.rejected).toBe(1);
    expect(rest.failures[0]).toMatchObject({ id: conflictId });
    expect(rest.failures[0]!.message).toMatch(/another organisation/);

    const got = await readOnB();
    const pulledIds = new Set([...got.keys()].filter((id) => id !== conflictId));
    expect(pulledIds).toEqual(expected);
    for (const id of withheld) expect(got.has(id)).toBe(false);
    // Both versions of the versioned object arrived; the conflicting one kept Y's version only.
    expect([...got.values()].some((v) => v.length === 2)).toBe(true);
    expect(got.get(conflictId)).toHaveLength(1);
    // Nothing twice: every (id, version) once, total = Y's own + every version pulled.
    const versions = [...got.values()].flat().length;
    expect(await B.store.countObjects(pulledB.id)).toBe(versions);
  });

  it('a further pull finds nothing new, then only what was added since', async () => {
    const again = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id });
    expect(again).toMatchObject({ complete: true, received: 0, added: 0, duplicates: 0 });
    const fresh = await put({ who: X, tlp: 'red', recipients: [Y.row.id], through: true, name: 'late red' });
    await put({ who: X, tlp: 'red', recipients: [Z.row.id], through: false });
    const more = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id });
    expect(more).toMatchObject({ complete: true, received: 1, added: 1 });
    expect((await readOnB()).has(fresh.id as string)).toBe(true);
  });

  it('keeps provenance: origin node, the true creator, and the pulling organisation as recipient', async () => {
    const rows = (await B.store.queryObjects({ collectionIds: [pulledB.id], audience: { hop: 'local', orgId: Y.row.id, groupIds: [] }, purpose: 'read', limit: 1000, version: { kind: 'all' } })).rows;
    const pulledRows = rows.filter((r) => r.originNode !== null);
    expect(pulledRows.length).toBeGreaterThan(0);
    for (const r of pulledRows) {
      expect(r.originNode).toBe('node-a');
      expect(r.creatorOrg).toBe(X.row.id); // W is unknown on B: attributed to the peer's organisation
      expect(r.recipients).toEqual([Y.row.id]);
    }
    const red = pulledRows.find((r) => r.name === 'red for Y');
    expect(red?.tlp).toBe('red');
    // Same (id, modified) ⇒ the same bytes on both nodes: the content is never edited on the way
    // (created_by_ref stays as its creator sent it: these fixtures send none).
    const onA = await A.store.storedVersions(pulledRows.map((r) => ({ id: r.id, version: r.version })));
    const jsonOnA = new Map(onA.map((r) => [`${r.id} ${r.version}`, r.json]));
    for (const r of pulledRows) expect(r.json).toBe(jsonOnA.get(`${r.id} ${r.version}`));
  });

  it('the serving node authenticates the puller as a peer: a user token of the same organisation gets the local view', async () => {
    const app = await buildApp(A, { logger: false });
    try {
      const url = `/${ROOT}/collections/${sharedA.id}/manifest/`;
      const asPeer = await taxii(app, 'GET', url, { auth: bearer(peerToken) });
      const ids = new Set(((asPeer.body.objects ?? []) as { id: string }[]).map((e) => e.id));
      for (const id of withheld) expect(ids.has(id)).toBe(false);
      // Y lives on node-b: it never has users here (they would be a local door to what A releases to Y over the peer hop).
      await expect(A.access.createUser(SYSTEM_ACTOR, { orgId: Y.row.id, username: 'y-visitor', password: 'correct horse battery staple', roles: ['analyst'] })).rejects.toThrow(/lives on node node-b/);
      // The W AMBER+STRICT / RED objects addressed to Y are withheld over the peer hop only: Y's local view holds them.
      const local = await A.store.queryObjects({ collectionIds: [sharedA.id], audience: { hop: 'local', orgId: Y.row.id, groupIds: [] }, purpose: 'read', limit: 1000 });
      const localIds = new Set(local.rows.map((r) => r.id));
      expect(localIds.size).toBe(ids.size + 2);
    } finally {
      await app.close();
    }
  });

  it('a wrong token or an unknown collection fails the pull with the peer\'s TAXII error, cursor untouched', async () => {
    const before = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id });
    const bad = await pull({ platform: B, peer: { ...peer(), token: `${peerToken}x` }, intoCollectionId: pulledB.id, asOrgId: Y.row.id }).then(() => new Error('expected the pull to fail'), (e: unknown) => e as Error);
    expect(bad.message).toMatch(/HTTP 401/);
    const none = await pull({ platform: B, peer: { ...peer(), collectionId: crypto.randomUUID() }, intoCollectionId: pulledB.id, asOrgId: Y.row.id }).then(() => new Error('expected the pull to fail'), (e: unknown) => e as Error);
    expect(none.message).toMatch(/HTTP 404/);
    const after = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id });
    expect(after.cursor).toEqual(before.cursor);
  });

  it('a next token the restarted peer no longer honours (new cursor key): the pull starts a new walk after the last committed object, no loss, no duplicates', async () => {
    const fresh = [];
    for (let i = 0; i < 5; i++) fresh.push(await put({ who: X, tlp: 'green', through: true, name: `after restart ${i}` }));
    const ac = new AbortController();
    const err = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id, pageSize: 2, signal: ac.signal, onPage: () => ac.abort(new Error('stop')) })
      .then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toBe('stop');
    // Restart node A on the same port with a new cursor key: every outstanding next is now forged.
    const port = new URL(serverA.url).port;
    await serverA.close();
    await A.close();
    const raw = await openSqliteStore(fileA);
    await raw.setMeta('taxii.cursor-key', Buffer.alloc(32, 7).toString('base64'));
    await raw.close();
    A = await makePlatform({ file: fileA, env: { ...env('node-a'), SHIELDWALL_PORT: port } });
    serverA = await startServer(A, { logger: false });
    const rest = await pull({ platform: B, peer: peer(), intoCollectionId: pulledB.id, asOrgId: Y.row.id, pageSize: 2 });
    expect(rest).toMatchObject({ complete: true, received: 3, added: 3, duplicates: 0, rejected: 0 });
    const got = await readOnB();
    for (const o of fresh) expect(got.has(o.id as string)).toBe(true);
  });

  it('two organisations\' copies of one SCO get one signed envelope each, told apart by content digest', async () => {
    const rw = { canRead: true, canWrite: true };
    const scos = await makeCollection(A, 'Observables', [[X.row.id, rw], [Z.row.id, rw], [Y.row.id, { canRead: true, canWrite: false }]]);
    const id = deterministicScoId('ipv4-addr', { value: '192.0.2.55' });
    const base = { type: 'ipv4-addr', spec_version: '2.1', id, value: '192.0.2.55' };
    const copies = [{ ...base, object_marking_refs: [TLP2_MARKING_IDS.green] }, { ...base, object_marking_refs: [TLP2_MARKING_IDS.clear] }];
    await submitWith(A, { who: X, collectionId: scos.id, objects: [copies[0]!] });
    await submitWith(A, { who: Z, collectionId: scos.id, objects: [copies[1]!] });
    // What a subscription (and a push receiver) asks: the envelopes of the objects it got, by (id, version).
    const res = await fetch(`${serverA.url}/api/v1/federation/envelopes`, {
      method: 'POST', headers: { authorization: `Bearer ${peerToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ collection: scos.id, objects: [{ id, version: null }] }),
    });
    expect(res.status).toBe(200);
    const envs = ((await res.json()) as { envelopes: Envelope[] }).envelopes;
    expect(envs).toHaveLength(2);
    const byKey = new Map(envs.map((e) => [envelopeKey(e), e]));
    expect(byKey.size).toBe(2);
    const key = parsePublicKey(((await (await fetch(`${serverA.url}/api/v1/federation/node`, { headers: { authorization: `Bearer ${X.token}` } })).json()) as { publicKey: string }).publicKey)!;
    for (const [i, o] of copies.entries()) {
      const env = envelopeOf(byKey, id, o)!;
      expect(env.creator).toBe([X.row.id, Z.row.id][i]);
      const facts = { object: o, origin: env.origin, creator: env.creator, recipients: env.recipients };
      // Versions originated here are signed per page (a Merkle root), each with its inclusion proof.
      expect(env.batch).toBeDefined();
      expect(verifyBatchFacts(key, facts, { signature: env.signature!, proof: env.batch! })).toBe(true);
    }
  });

  it('a peer asking for the envelopes in a Get Objects page gets those of exactly the page\'s versions; any other caller gets the plain TAXII envelope', async () => {
    const url = `${serverA.url}/${ROOT}/collections/${sharedA.id}/objects/?match[version]=all&limit=7`;
    const get = async (token: string, ask: boolean) => {
      const res = await fetch(url, { headers: { accept: 'application/taxii+json;version=2.1', authorization: `Bearer ${token}`, ...(ask ? { 'x-shieldwall-envelopes': '1' } : {}) } });
      expect(res.status).toBe(200);
      return (await res.json()) as { objects: Record<string, unknown>[]; more?: boolean; x_shieldwall_envelopes?: Envelope[] };
    };
    const page = await get(peerToken, true);
    expect(page.objects).toHaveLength(7);
    expect(page.more).toBe(true);
    const inPage = page.x_shieldwall_envelopes!;
    expect(inPage.map((e) => envelopeKey(e))).toEqual(page.objects.map((o) => envelopeKey({ id: String(o.id), version: String(o.modified) })));
    // The same envelopes as asked for by the page's ids.
    const res = await fetch(`${serverA.url}/api/v1/federation/envelopes`, {
      method: 'POST', headers: { authorization: `Bearer ${peerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ collection: sharedA.id, objects: page.objects.map((o) => ({ id: o.id, version: o.modified })) }),
    });
    const byIds = new Map(((await res.json()) as { envelopes: Envelope[] }).envelopes.map((e) => [envelopeKey(e), e]));
    const key = parsePublicKey(A.federation.keys().publicKey)!;
    expect(inPage.some((e) => e.origin === 'node-a')).toBe(true);
    for (const [i, e] of inPage.entries()) {
      const o = page.objects[i]!;
      const twin = byIds.get(envelopeKey(e))!;
      expect({ ...e, signature: null, batch: null }).toEqual({ ...twin, signature: null, batch: null });
      // Versions originated here: each set is signed as its own batch, and both verify. A relayed
      // one carries what was received with it, in both.
      if (e.origin !== 'node-a') expect([e.signature, e.batch]).toEqual([twin.signature, twin.batch]);
      else expect(verifyBatchFacts(key, { object: o, origin: e.origin, creator: e.creator, recipients: e.recipients }, { signature: e.signature!, proof: e.batch! })).toBe(true);
    }
    // Not asked for, or asked for by a user of a member: plain TAXII.
    expect((await get(peerToken, false)).x_shieldwall_envelopes).toBeUndefined();
    const asUser = await get(X.token, true);
    expect(asUser.x_shieldwall_envelopes).toBeUndefined();
    expect(asUser.objects.length).toBeGreaterThan(0);
  });

  it('a relayed version is served with the provenance stored in its row, or in meta when it was received before migration 0012', async () => {
    const relay = await makeCollection(A, 'Relayed', [[X.row.id, { canRead: true, canWrite: true }], [Y.row.id, { canRead: true, canWrite: false }]]);
    const prov = (n: number) => ({ origin: 'node-c', path: ['node-c', `hop-${n}`], creator: W.row.id, recipients: [], signature: `sig-${n}` });
    const inRow = indicator({ tlp: 'green', name: 'provenance in its row' });
    const inMeta = indicator({ tlp: 'green', name: 'provenance in meta' });
    const none = indicator({ tlp: 'green', name: 'no provenance' });
    const opts = { asOrg: W.row.id, originNode: 'node-c', preserveProvenance: true, exact: true };
    await A.intel.submit({ principal: null, source: 'test' }, relay.id, [inRow, none], { ...opts, provenance: [JSON.stringify(prov(1)), null] });
    await A.intel.submit({ principal: null, source: 'test' }, relay.id, [inMeta], opts);
    await A.store.addMetas([{ key: `federation.prov.${String(inMeta.id)}|${String(inMeta.modified)}`, value: JSON.stringify(prov(2)) }]);
    const res = await fetch(`${serverA.url}/api/v1/federation/envelopes`, {
      method: 'POST', headers: { authorization: `Bearer ${peerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ collection: relay.id, objects: [inRow, inMeta, none].map((o) => ({ id: o.id, version: o.modified })) }),
    });
    expect(res.status).toBe(200);
    const envs = new Map(((await res.json()) as { envelopes: Envelope[] }).envelopes.map((e) => [e.id, e]));
    expect(envs.get(String(inRow.id))).toMatchObject({ origin: 'node-c', path: ['node-c', 'hop-1', 'node-a'], creator: W.row.id, signature: 'sig-1' });
    expect(envs.get(String(inMeta.id))).toMatchObject({ origin: 'node-c', path: ['node-c', 'hop-2', 'node-a'], signature: 'sig-2' });
    // Without any: the origin is known, the signature is not (a receiver refuses it).
    expect(envs.get(String(none.id))).toMatchObject({ origin: 'node-c', path: ['node-c', 'node-a'], signature: null });
  });
});
