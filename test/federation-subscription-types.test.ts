/**
 * A subscription limited to STIX types (docs/federation.md "Subscriptions of some types"), over
 * real HTTP between two nodes with their own SQLite files: a pull asks the peer with TAXII
 * `match[type]`, so only those types travel (counted on the wire); a push reads only those types;
 * what a peer that ignores the filter sends anyway is not stored; bad types and a typed
 * sightings-only push are refused with a 400; the same stream with other types is another
 * subscription, with the same types a conflict.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeIdentityId, runSubscription, type Subscription } from '../src/federation/index.js';
import { joinNodes } from './helpers/two-nodes.js';
import { indicator, makeCollection, makeOrg, makePlatform, malware, submit, tmpDir, type Org } from './taxii-fixtures.js';
import { makeAlliance } from './rest-fixtures.js';

const dir = tmpDir('sw-fed-types-');
let A: Platform;
let B: Platform;
let serverA: RunningServer;
let serverB: RunningServer;
let X: Org;
let collA: { id: string };
let pulled: { id: string };
let inbox: { id: string };
const ids: Record<'indicator' | 'malware' | 'relationship', string[]> = { indicator: [], malware: [], relationship: [] };

const env = (node: string) => ({ SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: node });
const deps = (p: Platform) => ({ store: p.store, clock: p.clock, registry: p.federation, intel: p.intel });

/** The types of what `p` holds in a collection. */
async function typesIn(p: Platform, collectionId: string): Promise<Record<string, number>> {
  const rows = await p.store.scanObjects({ types: ['indicator', 'malware', 'relationship', 'identity', 'marking-definition'], addedAfter: -1, limit: 10_000 });
  const out: Record<string, number> = {};
  for (const r of rows) if (r.collectionId === collectionId) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

beforeAll(async () => {
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: env('node-a') });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: env('node-b') });
  serverA = await startServer(A);
  serverB = await startServer(B);
  X = await makeOrg(A, 'X');
  const Y = await makeOrg(B, 'Y');
  collA = await makeCollection(A, 'shared', [[X.row.id, { canRead: true, canWrite: true }]]);
  pulled = await makeCollection(B, 'pulled', [[Y.row.id, { canRead: true, canWrite: true }]]);
  inbox = await makeCollection(B, 'inbox', [[Y.row.id, { canRead: true, canWrite: true }]]);
  const objects: Record<string, unknown>[] = [];
  for (let i = 0; i < 3; i++) {
    const ind = indicator({ tlp: 'green', name: `typed ${i}` });
    const mal = malware(`family ${i}`, 'green');
    const rel = {
      type: 'relationship', spec_version: '2.1', id: `relationship--${crypto.randomUUID()}`, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      relationship_type: 'indicates', source_ref: ind.id, target_ref: mal.id, object_marking_refs: ind.object_marking_refs,
    };
    objects.push(ind, mal, rel);
    ids.indicator.push(ind.id as string);
    ids.malware.push(mal.id as string);
    ids.relationship.push(rel.id);
  }
  await submit(A, X, collA.id, objects);
  // Each node knows the other, with a token to read (B pulls A) or write (A pushes to B).
  await joinNodes(
    { p: A, server: serverA, name: 'node-a', org: { id: X.row.id, shortName: 'X' } },
    { p: B, server: serverB, name: 'node-b', org: { id: Y.row.id, shortName: 'Y' } },
    { readable: collA.id, writable: inbox.id },
  );
});

afterAll(async () => {
  await serverA?.close();
  await serverB?.close();
  await A?.close();
  await B?.close();
});

describe('subscriptions of some STIX types', () => {
  it('a pull asks the peer for its types only: nothing else travels or is stored', async () => {
    const sub = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-a', direction: 'pull', remoteCollection: collA.id, localCollection: pulled.id, types: ['malware', 'indicator', 'indicator'] });
    expect(sub.types).toEqual(['indicator', 'malware']);
    const r = await runSubscription(deps(B), sub);
    // Received = what came over the wire: the six of those types, not the nine.
    expect(r).toMatchObject({ complete: true, received: 6, added: 6, rejected: 0 });
    expect(await typesIn(B, pulled.id)).toEqual({ indicator: 3, malware: 3 });
  });

  it('a push reads only its types', async () => {
    const sub = await A.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-b', direction: 'push', remoteCollection: inbox.id, localCollection: collA.id, types: ['relationship'] });
    const r = await runSubscription(deps(A), sub);
    expect(r).toMatchObject({ complete: true, sent: 3, rejected: 0 });
    expect(await typesIn(B, inbox.id)).toEqual({ relationship: 3 });
  });

  it('what a peer sends outside the types (it ignored match[type]) is not stored', async () => {
    // A proxy in front of A that drops match[type] from every request: a peer ignoring the filter.
    const proxy = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', serverA.url);
      u.searchParams.delete('match[type]');
      const fwd = http.request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(fwd);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      await B.federation.updatePeer(SYSTEM_ACTOR, 'node-a', { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      const other = await makeCollection(B, 'malware only', []);
      const sub = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-a', direction: 'pull', remoteCollection: collA.id, localCollection: other.id, types: ['malware'] });
      const r = await runSubscription(deps(B), sub);
      // All nine came over the wire; the three of its type were stored, the rest not (nor rejected).
      expect(r).toMatchObject({ complete: true, received: 9, added: 3, rejected: 0 });
      expect(await typesIn(B, other.id)).toEqual({ malware: 3 });
    } finally {
      await B.federation.updatePeer(SYSTEM_ACTOR, 'node-a', { url: serverA.url });
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('refuses bad types and a typed sightings-only push (400); the same stream with other types is another subscription', async () => {
    const al = await makeAlliance({ SHIELDWALL_NODE_NAME: 'typed' });
    try {
      const call = async (body: unknown) => {
        const res = await al.app.inject({ method: 'POST', url: '/api/v1/federation/subscriptions', headers: { authorization: `Bearer ${al.tokens['a-admin']}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        return { status: res.statusCode, body: res.json() as { error?: { message?: string }; subscription?: Subscription } };
      };
      await al.platform.federation.addPeer(SYSTEM_ACTOR, { name: 'dk', url: 'https://dk.example:8443', publicKey: A.federation.keys().publicKey, orgs: [] });
      // One a-admin's organisation may write (an administrator pulls only into such a collection).
      const local = al.shared;
      const base = { peer: 'dk', direction: 'pull', remoteCollection: 'alliance', localCollection: local };
      for (const types of [['Indicator'], ['x'], ['indicator--1'], [7], Array.from({ length: 51 }, (_, i) => `type-${i}`)]) {
        const r = await call({ ...base, types });
        expect(r.status).toBe(400);
      }
      expect((await call({ ...base, types: ['Indicator'] })).body.error?.message).toContain('is not a STIX type name');
      expect((await call({ ...base, direction: 'push', sightingsOnly: true, types: ['sighting'] })).body.error?.message).toContain('takes no types');
      const first = await call({ ...base, types: ['indicator'] });
      expect(first.status).toBe(200);
      expect(first.body.subscription?.types).toEqual(['indicator']);
      expect((await call({ ...base, types: ['malware'] })).status).toBe(200);
      expect((await call({ ...base, types: ['indicator'] })).status).toBe(409);
      expect((await call(base)).status).toBe(200);
    } finally {
      await al.close();
    }
  });
});
