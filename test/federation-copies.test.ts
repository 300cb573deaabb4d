/**
 * A copy of a version that another organisation re-posted identically into a second collection
 * (docs/stix-versioning.md "Readers") travels signed with the version's owner as its creator, so
 * a peer that receives the copy before the original still knows whose id it is: the owner's later
 * versions, its revocation included, are taken there. Before, the copier became the owner on the
 * peer, which then refused the revocation and went on serving and detecting a revoked indicator.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeIdentityId, runSubscription, type Subscription } from '../src/federation/index.js';
import { TLP2_MARKING_IDS } from '../src/stix/index.js';
import { makeCollection, makeOrg, makePlatform, tmpDir, type Org } from './taxii-fixtures.js';

const dir = tmpDir('sw-fed-copies-');
let A: Platform;
let B: Platform;
let server: RunningServer;
let XA: Org; // owner, on a
let ZA: Org; // copier, on a
let YB: Org; // reader, on b
let own: { id: string }; // XA's collection on a
let shared: { id: string }; // ZA's (and XA's) on a
let into: { id: string }; // on b
const subs = {} as Record<'own' | 'shared', Subscription>;
const T1 = '2025-01-01T00:00:00.000Z';
const T2 = '2025-02-01T00:00:00.000Z';

beforeAll(async () => {
  for (const n of ['a', 'b']) fs.mkdirSync(path.join(dir, n), { recursive: true });
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'a' } });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'b' } });
  XA = await makeOrg(A, 'XA');
  ZA = await makeOrg(A, 'ZA');
  YB = await makeOrg(B, 'YB');
  await A.access.createOrganisation(SYSTEM_ACTOR, { id: YB.row.id, name: 'Org YB', shortName: 'YB', node: 'b' });
  own = await makeCollection(A, 'XA only', [[XA.row.id, { canRead: true, canWrite: true }]]);
  shared = await makeCollection(A, 'ZA and XA', [[ZA.row.id, { canRead: true, canWrite: true }], [XA.row.id, { canRead: true, canWrite: true }]]);
  into = await makeCollection(B, 'From a', [[YB.row.id, { canRead: true, canWrite: true }]]);
  server = await startServer(A, { logger: false });
  await A.federation.addPeer(SYSTEM_ACTOR, { name: 'b', url: null, publicKey: B.federation.keys().publicKey, orgs: [{ id: YB.row.id, shortName: 'YB' }] });
  const identity = nodeIdentityId('b');
  for (const c of [own, shared]) await A.access.grantCollection(SYSTEM_ACTOR, c.id, identity, { canRead: true, canWrite: false });
  const token = (await A.access.createToken(SYSTEM_ACTOR, { orgId: identity, kind: 'peer', name: 'node b' })).token;
  await B.federation.addPeer(SYSTEM_ACTOR, {
    name: 'a', url: server.url, publicKey: A.federation.keys().publicKey, token, orgs: [{ id: XA.row.id, shortName: 'XA' }, { id: ZA.row.id, shortName: 'ZA' }],
  });
  subs.shared = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'a', direction: 'pull', remoteCollection: shared.id, localCollection: into.id });
  subs.own = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'a', direction: 'pull', remoteCollection: own.id, localCollection: into.id });
});

afterAll(async () => {
  await server?.close();
  await A?.close();
  await B?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a copy by another organisation reaches a peer as its owner\'s', () => {
  it('the peer that got the copy first takes the owner\'s revocation', async () => {
    const id = `indicator--${crypto.randomUUID()}`;
    const ind = (modified: string, extra: Record<string, unknown> = {}) => ({
      type: 'indicator', spec_version: '2.1', id, created: T1, modified, created_by_ref: XA.row.id, pattern: "[domain-name:value = 'copied.example']",
      pattern_type: 'stix', valid_from: T1, object_marking_refs: [TLP2_MARKING_IDS.green], ...extra,
    });
    expect((await A.intel.submit({ principal: XA.principal, source: 'test' }, own.id, [ind(T1)]))[0]?.status).toBe('added');
    expect((await A.intel.submit({ principal: ZA.principal, source: 'test' }, shared.id, [ind(T1)]))[0]?.status).toBe('added');
    const run = (s: Subscription) => runSubscription({ store: B.store, clock: B.clock, registry: B.federation, intel: B.intel }, s);
    expect((await run(subs.shared)).added).toBe(1);
    expect((await B.store.objectHeads([id])).get(id)?.creatorOrg).toBe(XA.row.id);
    expect((await A.intel.submit({ principal: XA.principal, source: 'test' }, own.id, [ind(T2, { revoked: true })]))[0]?.status).toBe('added');
    const report = await run(subs.own);
    expect([report.added, report.rejected]).toEqual([1, 0]);
    expect((await B.store.objectHeads([id])).get(id)).toMatchObject({ creatorOrg: XA.row.id, revokedAt: '2025-02-01T00:00:00.000000Z' });
  });
});
