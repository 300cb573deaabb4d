/**
 * Rotating a node's signing key (docs/federation.md "Rotating the signing key"): the origin
 * rotates; a peer registers the new key and keeps the old one as retired, so the copies signed
 * before (relayed by a hub, or retried from a reject list) still verify; after
 * `dropRetiredKeys` (a compromised key) they no longer do. Every API process of a node signs with
 * the key the store records for it: one whose data directory holds another key or secret
 * refuses to sign, saying what to copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Platform } from '../src/api/index.js';
import { FederationRegistry, SECRET_KEY_FILE, SIGNING_KEY_FILE, nodeKeys, peerAudience, receive } from '../src/federation/index.js';
import type { PeerRecord } from '../src/federation/registry.js';
import { envelopesFor, type Envelope } from '../src/federation/envelope.js';
import { NODE_KEY_META } from '../src/federation/registry.js';
import { indicator, makeCollection, makeOrg, makePlatform, submit, tmpDir, type Org } from './taxii-fixtures.js';
import { makeAlliance } from './rest-fixtures.js';
import { sw } from './helpers/cli-run.js';

const dir = tmpDir('sw-fed-rotate-');
let A: Platform; // origin
let B: Platform; // receiver, reading copies relayed by the hub
let X: Org;
let collA: { id: string };
let collB: { id: string };
let hub: PeerRecord;

const env = (node: string) => ({ SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: node });

/** The versions of `ids` on A with the envelopes A serves a peer for them (signed now, with A's current key). */
async function signedCopies(ids: string[]): Promise<{ object: Record<string, unknown>; envelope: Envelope }[]> {
  const audience = await peerAudience(A.store, (await A.federation.getPeer('node-b'))!);
  const page = await A.store.queryObjects({ collectionIds: [collA.id], audience, purpose: 'read', ids, version: { kind: 'all' }, limit: 100 });
  const envelopes = await envelopesFor({ store: A.store, registry: A.federation, audience, collectionId: collA.id, items: page.rows.map((r) => ({ id: r.id, version: r.modified ?? r.created })) });
  return page.rows.map((r) => {
    const object = JSON.parse(r.json) as Record<string, unknown>;
    // As the hub serves it on: the origin's signature and proof, the path one hop longer.
    const e = envelopes.find((x) => x.id === r.id)!;
    return { object, envelope: { ...e, path: [...e.path, 'hub'] } };
  });
}

/** B stores copies relayed by the hub (as a pull of the hub would). */
async function receiveRelayed(items: { object: Record<string, unknown>; envelope: Envelope }[]) {
  const deps = { store: B.store, clock: B.clock, registry: B.federation, intel: B.intel };
  return B.store.transaction((tx) => receive(tx, { deps, peer: hub, collectionId: collB.id, items, subscription: null }));
}

async function newIndicator(name: string): Promise<string> {
  const o = indicator({ tlp: 'green', name });
  await submit(A, X, collA.id, [o]);
  return o.id as string;
}

beforeAll(async () => {
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: env('node-a') });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: env('node-b') });
  X = await makeOrg(A, 'X');
  collA = await makeCollection(A, 'shared', [[X.row.id, { canRead: true, canWrite: true }]]);
  const bNode = await makeOrg(B, 'Y');
  collB = await makeCollection(B, 'pulled', [[bNode.row.id, { canRead: true, canWrite: true }]]);
  // A knows B (to compute what B may read); B knows A by key (the origin) and the hub that relays.
  await A.federation.addPeer(SYSTEM_ACTOR, { name: 'node-b', publicKey: B.federation.keys().publicKey, orgs: [] });
  await B.federation.addPeer(SYSTEM_ACTOR, { name: 'node-a', publicKey: A.federation.keys().publicKey, orgs: [{ id: X.row.id, shortName: 'X' }] });
  const hubKey = nodeKeys(tmpDir('sw-fed-rotate-hub-'), 'hub').publicKey;
  hub = await B.federation.addPeer(SYSTEM_ACTOR, { name: 'hub', url: 'https://hub.example:8443', publicKey: hubKey, orgs: [] });
});

afterAll(async () => {
  await A?.close();
  await B?.close();
});

describe('rotating a node signing key', () => {
  it('copies signed before the rotation still verify with the retired key; new ones with the new key; none after the retired key is dropped', async () => {
    const before = await newIndicator('signed with the first key');
    const beforeCopies = await signedCopies([before]);
    const late = await newIndicator('signed with the first key, relayed late');
    const lateCopies = await signedCopies([late]);

    const old = A.federation.keys().publicKey;
    const r = await A.federation.rotateKey({ principal: null, source: 'test' });
    expect(r.previous).toBe(old);
    expect(r.publicKey).not.toBe(old);
    expect(A.federation.keys().publicKey).toBe(r.publicKey);
    // The store records the node's key (what every API process of the node must hold), and the rotation is audited.
    expect(JSON.parse((await A.store.getMeta(NODE_KEY_META))!)).toMatchObject({ publicKey: r.publicKey });
    const audit = (await A.store.listAudit({ limit: 50 })).filter((x) => x.action === 'federation.key.rotate');
    expect(audit.map((x) => JSON.parse(x.detail ?? '{}') as unknown)).toContainEqual({ previous: old, publicKey: r.publicKey });
    // Written by rename over the old file: still readable by the node's user only.
    expect(fs.statSync(path.join(A.config.dataDir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);

    // Before B registers the new key, what A signs now is refused, with the reason.
    const after = await newIndicator('signed with the new key');
    const afterCopies = await signedCopies([after]);
    const refused = await receiveRelayed(afterCopies);
    expect(refused.rejected).toBe(1);
    expect(refused.results[0]).toMatchObject({ status: 'rejected', message: expect.stringContaining('does not verify') });

    // B registers the new key: the old one is kept as retired.
    const updated = await B.federation.updatePeer(SYSTEM_ACTOR, 'node-a', { publicKey: r.publicKey });
    expect(updated.retiredKeys).toEqual([old]);
    expect((await B.federation.view(updated)).retiredKeys).toEqual([old]);
    const got = await receiveRelayed([...beforeCopies, ...afterCopies]);
    expect(got.results.map((x) => x.status)).toEqual(['added', 'added']);

    // A compromised key: dropped, what it signed no longer verifies.
    const dropped = await B.federation.updatePeer(SYSTEM_ACTOR, 'node-a', { dropRetiredKeys: true });
    expect(dropped.retiredKeys).toEqual([]);
    const refusedLate = await receiveRelayed(lateCopies);
    expect(refusedLate.rejected).toBe(1);
    expect(refusedLate.results[0]).toMatchObject({ status: 'rejected', message: expect.stringContaining('does not verify') });
  });

  it('a retired key of one peer cannot be registered for another (one node, one key)', async () => {
    const k1 = nodeKeys(tmpDir('sw-fed-rotate-k1-'), 'n1').publicKey;
    const k2 = nodeKeys(tmpDir('sw-fed-rotate-k2-'), 'n1').publicKey;
    await B.federation.addPeer(SYSTEM_ACTOR, { name: 'n1', publicKey: k1 });
    await B.federation.updatePeer(SYSTEM_ACTOR, 'n1', { publicKey: k2 });
    await expect(B.federation.addPeer(SYSTEM_ACTOR, { name: 'n2', publicKey: k1 })).rejects.toThrow(/registered with this public key \(one it signed with before a rotation\)/);
    // Rotating back to a retired key makes it current again (not also retired).
    const back = await B.federation.updatePeer(SYSTEM_ACTOR, 'n1', { publicKey: k1 });
    expect(back.publicKey).toBe(k1);
    expect(back.retiredKeys).toEqual([k2]);
  });

  it('an API process whose data directory holds another key or secret than the node refuses to sign, saying what to copy', async () => {
    const recorded = JSON.parse((await A.store.getMeta(NODE_KEY_META))!) as { publicKey: string };
    // A second API machine of node-a, started on the same store without a copy of the keys.
    const otherDir = tmpDir('sw-fed-rotate-api2-');
    const second = new FederationRegistry({ store: A.store, clock: A.clock, dataDir: otherDir, nodeName: 'node-a' });
    await expect(second.signingKeys()).rejects.toThrow(new RegExp(`signing key .* is not node node-a's \\(${recorded.publicKey.replace(/[+/]/g, '.')}\\): copy ${SIGNING_KEY_FILE} and ${SECRET_KEY_FILE}`));
    // The same signing key but another secret (which seals the peer tokens): refused too.
    const thirdDir = tmpDir('sw-fed-rotate-api3-');
    fs.copyFileSync(path.join(A.config.dataDir, SIGNING_KEY_FILE), path.join(thirdDir, SIGNING_KEY_FILE));
    const third = new FederationRegistry({ store: A.store, clock: A.clock, dataDir: thirdDir, nodeName: 'node-a' });
    await expect(third.signingKeys()).rejects.toThrow(/secret \(federation-secret.key\) is not node node-a's/);
    // Both files copied: it signs, with the node's key.
    const fourthDir = tmpDir('sw-fed-rotate-api4-');
    for (const f of [SIGNING_KEY_FILE, SECRET_KEY_FILE]) fs.copyFileSync(path.join(A.config.dataDir, f), path.join(fourthDir, f));
    const fourth = new FederationRegistry({ store: A.store, clock: A.clock, dataDir: fourthDir, nodeName: 'node-a' });
    expect((await fourth.signingKeys()).publicKey).toBe(recorded.publicKey);
  });

  it('a server picks up a key rotated by another process on its data directory within a second', async () => {
    const keysDir = tmpDir('sw-fed-rotate-watch-');
    const first = nodeKeys(keysDir, 'watched').publicKey;
    // Another process (the CLI) writes a new key and renames it over the file.
    const other = tmpDir('sw-fed-rotate-src-');
    nodeKeys(other, 'watched');
    fs.copyFileSync(path.join(other, SIGNING_KEY_FILE), path.join(keysDir, `${SIGNING_KEY_FILE}.new`));
    fs.renameSync(path.join(keysDir, `${SIGNING_KEY_FILE}.new`), path.join(keysDir, SIGNING_KEY_FILE));
    await new Promise((r) => setTimeout(r, 1100));
    const now = nodeKeys(keysDir, 'watched').publicKey;
    expect(now).not.toBe(first);
    expect(now).toBe(nodeKeys(other, 'watched').publicKey);
  });
});

describe('rotating over REST and the CLI', () => {
  it('an admin rotates (confirmed) over REST, audited; a reader may not; PATCH drops a peer\'s retired keys', async () => {
    const al = await makeAlliance({ SHIELDWALL_NODE_NAME: 'rest-node' });
    try {
      const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, user: string, body?: unknown) => {
        const res = await al.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${al.tokens[user]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
        return { status: res.statusCode, body: res.json() as Record<string, unknown> };
      };
      const before = (await call('GET', '/federation/node', 'b-analyst')).body.publicKey as string;
      expect((await call('POST', '/federation/node/rotate-key', 'b-analyst', { confirm: true })).status).toBe(403);
      expect((await call('POST', '/federation/node/rotate-key', 'a-admin', {})).status).toBe(400);
      expect((await call('POST', '/federation/node/rotate-key', 'a-admin', { confirm: false })).status).toBe(400);
      expect((await call('GET', '/federation/node', 'b-analyst')).body.publicKey).toBe(before);
      const r = await call('POST', '/federation/node/rotate-key', 'a-admin', { confirm: true });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ node: 'rest-node', previousPublicKey: before });
      expect(r.body.publicKey).not.toBe(before);
      expect((await call('GET', '/federation/node', 'b-analyst')).body.publicKey).toBe(r.body.publicKey);
      expect((await al.platform.store.listAudit({ limit: 20 })).some((x) => x.action === 'federation.key.rotate')).toBe(true);

      const k1 = nodeKeys(tmpDir('sw-fed-rotate-rest-1-'), 'dk').publicKey;
      const k2 = nodeKeys(tmpDir('sw-fed-rotate-rest-2-'), 'dk').publicKey;
      expect((await call('POST', '/federation/peers', 'a-admin', { name: 'dk', publicKey: k1 })).status).toBe(200);
      const rotated = await call('PATCH', '/federation/peers/dk', 'a-admin', { publicKey: k2 });
      expect(rotated.body).toMatchObject({ publicKey: k2, retiredKeys: [k1] });
      expect((await call('GET', '/federation/peers/dk', 'b-analyst')).body.retiredKeys).toEqual([k1]);
      expect((await call('PATCH', '/federation/peers/dk', 'a-admin', { dropRetiredKeys: 'yes' })).status).toBe(400);
      expect((await call('PATCH', '/federation/peers/dk', 'a-admin', { dropRetiredKeys: true })).body).toMatchObject({ publicKey: k2, retiredKeys: [] });
    } finally {
      await al.close();
    }
  });

  it('shieldwall peer rotate-key asks for --yes, then rotates and says what each peer runs; peer update --drop-retired-keys', async () => {
    const data = tmpDir('sw-fed-rotate-cli-');
    const saved = { ...process.env };
    Object.assign(process.env, { SHIELDWALL_DATA_DIR: data, SHIELDWALL_NODE_NAME: 'cli-node', SHIELDWALL_LOG_LEVEL: 'silent' });
    try {
      const first = JSON.parse((await sw('peer', 'whoami', '--json')).out) as { publicKey: string };
      const asked = await sw('peer', 'rotate-key');
      expect(asked.code).toBe(1);
      expect(asked.err).toContain('Run again with --yes');
      expect(JSON.parse((await sw('peer', 'whoami', '--json')).out)).toMatchObject({ publicKey: first.publicKey });
      const done = await sw('peer', 'rotate-key', '--yes', '--json');
      expect(done.code).toBe(0);
      const r = JSON.parse(done.out) as { previousPublicKey: string; publicKey: string };
      expect(r.previousPublicKey).toBe(first.publicKey);
      expect(JSON.parse((await sw('peer', 'whoami', '--json')).out)).toMatchObject({ publicKey: r.publicKey });
      const text = await sw('peer', 'rotate-key', '--yes');
      expect(text.out).toContain('on every peer: shieldwall peer update cli-node --public-key ');

      const k1 = nodeKeys(tmpDir('sw-fed-rotate-cli-1-'), 'se').publicKey;
      const k2 = nodeKeys(tmpDir('sw-fed-rotate-cli-2-'), 'se').publicKey;
      expect((await sw('peer', 'add', '--name', 'se', '--public-key', k1)).code).toBe(0);
      const upd = await sw('peer', 'update', 'se', '--public-key', k2);
      expect(upd.out).toContain('1 retired key still verifying what se signed before');
      const drop = await sw('peer', 'update', 'se', '--drop-retired-keys', '--json');
      expect(JSON.parse(drop.out)).toMatchObject({ publicKey: k2, retiredKeys: [] });
    } finally {
      process.env = saved;
    }
  });
});
