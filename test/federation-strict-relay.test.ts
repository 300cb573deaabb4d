/**
 * AMBER+STRICT and RED are accepted only from their node of origin (docs/federation.md "What
 * travels, and to whom"): a receiver refuses such a version relayed by another node even when
 * the origin's signature verifies, whatever marking id says the level — the TLP 2.0 ids, the
 * TLP 1.0 RED id, OpenCTI's AMBER+STRICT id. The same versions from the origin itself are taken.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Platform } from '../src/api/index.js';
import { nodeKeys, peerAudience, receive } from '../src/federation/index.js';
import { envelopesFor, type Envelope } from '../src/federation/envelope.js';
import type { PeerRecord } from '../src/federation/registry.js';
import { TLP1_MARKING_IDS, TLP2_MARKING_IDS } from '../src/stix/index.js';
import { indicator, makeCollection, makeOrg, makePlatform, submitWith, tmpDir, type Org } from './taxii-fixtures.js';

const dir = tmpDir('sw-fed-strict-');
let A: Platform; // origin
let B: Platform; // receiver
let X: Org; // on A
let Y: Org; // on B
let collA: { id: string };
let collB: { id: string };
let origin: PeerRecord;
let hub: PeerRecord;

const MARKINGS = {
  'TLP 2.0 RED': TLP2_MARKING_IDS.red,
  'TLP 2.0 AMBER+STRICT': TLP2_MARKING_IDS['amber+strict'],
  'TLP 1.0 RED': TLP1_MARKING_IDS.red,
  'OpenCTI AMBER+STRICT': 'marking-definition--826578e1-40ad-459f-bc73-ede076f81f37',
} as const;

/** A's version of an indicator marked `marking`, released to Y, with the envelope A serves node-b. */
async function signedCopy(marking: string): Promise<{ object: Record<string, unknown>; envelope: Envelope }> {
  const o: Record<string, unknown> = { ...indicator({ tlp: null, name: `strict ${marking}` }), object_marking_refs: [marking] };
  await submitWith(A, { who: X, collectionId: collA.id, objects: [o], recipients: [Y.row.id] });
  const audience = await peerAudience(A.store, (await A.federation.getPeer('node-b'))!);
  const [envelope] = await envelopesFor({ store: A.store, registry: A.federation, audience, collectionId: collA.id, items: [{ id: o.id as string, version: o.modified as string }] });
  expect(envelope?.signature).toBeTruthy();
  const [row] = (await A.store.queryObjects({ collectionIds: [collA.id], audience, purpose: 'read', ids: [o.id as string], version: { kind: 'all' }, limit: 1 })).rows;
  return { object: JSON.parse(row!.json) as Record<string, unknown>, envelope: envelope! };
}

async function receiveFrom(peer: PeerRecord, item: { object: Record<string, unknown>; envelope: Envelope }) {
  const deps = { store: B.store, clock: B.clock, registry: B.federation, intel: B.intel };
  const envelope = peer.name === 'node-a' ? item.envelope : { ...item.envelope, path: [...item.envelope.path, peer.name] };
  return B.store.transaction((tx) => receive(tx, { deps, peer, collectionId: collB.id, items: [{ object: item.object, envelope }], subscription: null }));
}

beforeAll(async () => {
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-a' } });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-b' } });
  X = await makeOrg(A, 'X');
  Y = await makeOrg(B, 'Y');
  collA = await makeCollection(A, 'shared', [[X.row.id, { canRead: true, canWrite: true }]]);
  collB = await makeCollection(B, 'pulled', [[Y.row.id, { canRead: true, canWrite: true }]]);
  // A knows Y as an organisation living on node-b, so A releases Y's strict versions to node-b.
  await A.federation.addPeer(SYSTEM_ACTOR, { name: 'node-b', publicKey: B.federation.keys().publicKey, orgs: [{ id: Y.row.id, shortName: 'Y' }] });
  origin = await B.federation.addPeer(SYSTEM_ACTOR, { name: 'node-a', publicKey: A.federation.keys().publicKey, orgs: [{ id: X.row.id, shortName: 'X' }] });
  hub = await B.federation.addPeer(SYSTEM_ACTOR, { name: 'hub', url: 'https://hub.example:8443', publicKey: nodeKeys(tmpDir('sw-fed-strict-hub-'), 'hub').publicKey, orgs: [] });
});

afterAll(async () => {
  await A?.close();
  await B?.close();
});

describe('strict TLPs only from their node of origin', () => {
  for (const [name, marking] of Object.entries(MARKINGS)) {
    it(`${name}: refused when a hub relays it, taken from the origin`, async () => {
      const copy = await signedCopy(marking);
      const relayed = await receiveFrom(hub, copy);
      expect(relayed.results[0]).toMatchObject({ status: 'rejected', message: expect.stringContaining('accepted only from its node of origin') });
      const direct = await receiveFrom(origin, copy);
      expect(direct.results[0]).toEqual({ status: 'added' });
    });
  }
});
