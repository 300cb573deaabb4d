/**
 * A TLP given at import is a policy fact beside an object that carries no TLP marking
 * (docs/stix-versioning.md rule 1): the object is never edited. Over federation that fact travels
 * signed in the envelope (docs/federation.md "Integrity"), so the peer releases the copy as the
 * origin does. Before, the peer stored it unmarked, for its creator alone: the GREEN intel of an
 * object without created_by_ref, or of a third party, was read by nobody on the peer, nor the
 * AMBER/RED it was released to.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeIdentityId, parsePublicKey, runSubscription, signFacts, verifyFacts, type Subscription } from '../src/federation/index.js';
import type { Tlp } from '../src/core/index.js';
import { makeCollection, makeOrg, makePlatform, tmpDir, type Org } from './taxii-fixtures.js';

const dir = tmpDir('sw-fed-tlp-');
let A: Platform;
let B: Platform;
let server: RunningServer;
let XA: Org; // creator, on a
let YB: Org; // recipient, on b
let ZB: Org; // another reader on b
let collA: { id: string };
let collB: { id: string };
let sub: Subscription;
const T = '2025-01-01T00:00:00.000Z';
const unmarked = (name: string) => ({
  type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: T, modified: T, name,
  pattern: "[domain-name:value = 'tlp-fact.example']", pattern_type: 'stix', valid_from: T,
});

beforeAll(async () => {
  for (const n of ['a', 'b']) fs.mkdirSync(path.join(dir, n), { recursive: true });
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'a' } });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'b' } });
  XA = await makeOrg(A, 'XA');
  YB = await makeOrg(B, 'YB');
  ZB = await makeOrg(B, 'ZB');
  for (const o of [YB, ZB]) await A.access.createOrganisation(SYSTEM_ACTOR, { id: o.row.id, name: `Org ${o.row.shortName}`, shortName: o.row.shortName, node: 'b' });
  collA = await makeCollection(A, 'Alliance', [[XA.row.id, { canRead: true, canWrite: true }]]);
  collB = await makeCollection(B, 'From a', [[YB.row.id, { canRead: true, canWrite: true }], [ZB.row.id, { canRead: true, canWrite: false }]]);
  server = await startServer(A, { logger: false });
  const b = { id: YB.row.id, shortName: 'YB' };
  await A.federation.addPeer(SYSTEM_ACTOR, { name: 'b', url: null, publicKey: B.federation.keys().publicKey, orgs: [b, { id: ZB.row.id, shortName: 'ZB' }] });
  const identity = nodeIdentityId('b');
  await A.access.grantCollection(SYSTEM_ACTOR, collA.id, identity, { canRead: true, canWrite: false });
  const token = (await A.access.createToken(SYSTEM_ACTOR, { orgId: identity, kind: 'peer', name: 'node b' })).token;
  await B.federation.addPeer(SYSTEM_ACTOR, { name: 'a', url: server.url, publicKey: A.federation.keys().publicKey, token, orgs: [{ id: XA.row.id, shortName: 'XA' }] });
  sub = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'a', direction: 'pull', remoteCollection: collA.id, localCollection: collB.id });
});

afterAll(async () => {
  await server?.close();
  await A?.close();
  await B?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the TLP given at import travels signed with an unmarked object', () => {
  it('a peer releases the copy at the origin\'s TLP: GREEN to everyone there, AMBER and RED to the recipient only', async () => {
    const put = async (tlp: Tlp, recipients: string[]) => {
      const o = unmarked(`${tlp} by policy fact`);
      const [r] = await A.intel.submit({ principal: XA.principal, source: 'test' }, collA.id, [o], { defaultTlp: tlp, recipients });
      expect(r?.status).toBe('added');
      return o;
    };
    const green = await put('green', []);
    const amber = await put('amber', [YB.row.id]);
    const red = await put('red', [YB.row.id]);
    const report = await runSubscription({ store: B.store, clock: B.clock, registry: B.federation, intel: B.intel }, sub);
    expect([report.added, report.rejected]).toEqual([3, 0]);
    const reads = async (who: Org) => (await B.store.queryObjects({
      collectionIds: [collB.id], audience: { hop: 'local', orgId: who.row.id, groupIds: [] }, purpose: 'read', ids: [green.id, amber.id, red.id], limit: 10,
    })).rows.map((r) => r.name).sort();
    expect(await reads(YB)).toEqual(['amber by policy fact', 'green by policy fact', 'red by policy fact']);
    expect(await reads(ZB)).toEqual(['green by policy fact']);
    // The object itself was not edited on the way: the same bytes on both nodes.
    const bytes = async (p: Platform, id: string) => (await p.store.storedVersions([{ id, version: '2025-01-01T00:00:00.000000Z' }])).map((r) => r.json);
    for (const o of [green, amber, red]) expect(await bytes(B, o.id)).toEqual(await bytes(A, o.id));
  });

  it('the TLP fact is signed: changed on the way, the signature no longer verifies', () => {
    const keys = A.federation.keys();
    const facts = { object: unmarked('x'), origin: 'a', creator: XA.row.id, recipients: [], tlp: 'red' };
    const signature = signFacts(keys.privateKey, facts);
    const key = parsePublicKey(keys.publicKey)!;
    expect(verifyFacts(key, facts, signature)).toBe(true);
    expect(verifyFacts(key, { ...facts, tlp: 'green' }, signature)).toBe(false);
    const { tlp: _, ...without } = facts;
    expect(verifyFacts(key, without, signature)).toBe(false);
  });
});
