/**
 * Incidents shared with organisations of a peer are pushed to it by a scan every few seconds
 * (federation/records.ts). A scan looks at a bounded number of records: the most recently
 * updated and the next page of a walk over all of them. With more shared records than one scan
 * looks at, every one must still reach the peer, a comment on an old one must still travel (at
 * once through the event feed, and through the walk when the feed missed it), and none that is
 * still shared may be withdrawn there (it used to be: a record outside the newest page was taken
 * for unshared). The peer here is an HTTP server that records what it is sent.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { ManualClock } from '../src/core/clock.js';
import { pushRecords } from '../src/federation/index.js';
import { bearer, makeOrg, makePlatform, tmpDir, type Org } from './taxii-fixtures.js';
import { closeAll, fakePeer, type FakePeer } from './helpers/fake-peer.js';

interface Pushed { record: { id: string; withdrawn: boolean; events: { kind: string }[] } }

const received: Pushed[] = [];
let y: FakePeer;
const THEIRS = `identity--${crypto.randomUUID()}`;

const dir = tmpDir('sw-fed-recscan-');
let p: Platform;
let server: RunningServer;
let owner: Org;
const ids: string[] = [];

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/v1${url}`, { method, headers: { authorization: bearer(owner.token), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One scan looking at two records of a kind; returns what the peer received in it. */
async function scan(): Promise<Pushed[]> {
  const from = received.length;
  await pushRecords({ store: p.store, clock: p.clock, registry: p.federation, intel: p.intel }, 'y', { scanLimit: 2 });
  return received.slice(from);
}

beforeAll(async () => {
  // The peer y records what it is sent and takes all of it.
  y = await fakePeer(() => (_req, res, _url, text) => {
    const body = JSON.parse(text || '{}') as { records?: Pushed[] };
    received.push(...(body.records ?? []));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: (body.records ?? []).map((r) => ({ id: r.record.id, status: 'stored' })) }));
  });
  fs.mkdirSync(path.join(dir, 'n'), { recursive: true });
  p = await makePlatform({ file: path.join(dir, 'n', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'n' } });
  owner = await makeOrg(p, 'NA', { roles: ['responder'] });
  await p.federation.addPeer(SYSTEM_ACTOR, { name: 'y', url: y.url, publicKey: y.publicKey, token: 'token-of-n-on-y', orgs: [{ id: THEIRS, shortName: 'YO' }] });
  server = await startServer(p, { logger: false });
  for (let i = 0; i < 5; i++) {
    const created = await call('POST', '/incidents', { title: `Incident ${i}`, severity: 3, tlp: 'amber' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    ids.push(id);
    expect((await call('POST', `/incidents/${id}/shares`, { shares: [{ orgId: THEIRS, permission: 'read' }] })).status).toBe(200);
  }
}, 60_000);

afterAll(() => closeAll({ server, platform: p, peer: y, dir }));

describe('record push scans over more shared records than one scan looks at', () => {
  it('every shared record reaches the peer within a walk, and none is withdrawn while it is shared', async () => {
    const got: Pushed[] = [];
    for (let i = 0; i < 4; i++) got.push(...(await scan()));
    expect(new Set(got.map((g) => g.record.id))).toEqual(new Set(ids));
    expect(got.filter((g) => g.record.withdrawn)).toEqual([]);
    // Nothing changed: further scans over the whole walk send nothing.
    for (let i = 0; i < 4; i++) expect(await scan()).toEqual([]);
  });

  it('a comment on the oldest record (which does not make it recent) travels on the next scan', async () => {
    expect((await call('POST', `/incidents/${ids[0]}/comments`, { text: 'seen on our side too' })).status).toBeLessThan(300);
    const got = await scan();
    expect(got.map((g) => g.record.id)).toEqual([ids[0]]);
    expect(got[0]!.record.events.some((e) => e.kind === 'incident.comment')).toBe(true);
    for (let i = 0; i < 4; i++) expect(await scan()).toEqual([]);
  });

  it('a change the event feed missed (an event committed after a later one, on PostgreSQL) travels within a walk', async () => {
    expect((await call('POST', `/incidents/${ids[2]}/comments`, { text: 'late' })).status).toBeLessThan(300);
    // As if the comment's event had committed behind the feed's cursor.
    const key = 'federation.recscan.y';
    await p.store.setMeta(key, JSON.stringify({ ...JSON.parse((await p.store.getMeta(key)) ?? '{}') as object, events: 1e12 }));
    const got: Pushed[] = [];
    for (let i = 0; i < 4; i++) got.push(...(await scan()));
    expect(got.map((g) => g.record.id)).toEqual([ids[2]]);
    expect(got[0]!.record.events.filter((e) => e.kind === 'incident.comment')).toHaveLength(1);
  });

  it('a record unshared is withdrawn on the next scan, the others stay', async () => {
    // A change makes the record the most recently updated (the clock moves, as it does on a node).
    (p.clock as ManualClock).advance(1000);
    expect((await call('DELETE', `/incidents/${ids[1]}/shares/${THEIRS}`)).status).toBe(200);
    const got = await scan();
    expect(got.map((g) => [g.record.id, g.record.withdrawn])).toEqual([[ids[1], true]]);
    for (let i = 0; i < 4; i++) expect(await scan()).toEqual([]);
  });
});
