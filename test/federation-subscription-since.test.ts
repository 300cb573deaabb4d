/**
 * A subscription with a start (`since`, docs/federation.md "Only what is recent"), over real HTTP
 * between two nodes: a pull walks the peer's collection from TAXII `added_after` = since, a push
 * sends the local versions added after it, a reset walks again from it (not from the beginning);
 * a bad or future start is a 400 with the reason.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { ManualClock } from '../src/core/clock.js';
import { nodeIdentityId, runSubscription } from '../src/federation/index.js';
import { joinNodes } from './helpers/two-nodes.js';
import { indicator, makeCollection, makeOrg, makePlatform, submit, tmpDir, type Org } from './taxii-fixtures.js';
import { sw } from './helpers/cli-run.js';

const dir = tmpDir('sw-fed-since-');
let A: Platform;
let B: Platform;
let serverA: RunningServer;
let serverB: RunningServer;
let X: Org;
let collA: { id: string };
let inbox: { id: string };
const old: string[] = [];
const recent: string[] = [];
/** Between the two batches' date_added on node A. */
let cut: string;

const env = (node: string) => ({ SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: node });
const deps = (p: Platform) => ({ store: p.store, clock: p.clock, registry: p.federation, intel: p.intel });

async function idsIn(p: Platform, collectionId: string): Promise<string[]> {
  const rows = await p.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 10_000 });
  return rows.filter((r) => r.collectionId === collectionId).map((r) => r.id).sort();
}

beforeAll(async () => {
  A = await makePlatform({ file: path.join(dir, 'a', 'shieldwall.db'), env: env('node-a') });
  B = await makePlatform({ file: path.join(dir, 'b', 'shieldwall.db'), env: env('node-b') });
  serverA = await startServer(A);
  serverB = await startServer(B);
  X = await makeOrg(A, 'X');
  const Y = await makeOrg(B, 'Y');
  collA = await makeCollection(A, 'shared', [[X.row.id, { canRead: true, canWrite: true }]]);
  inbox = await makeCollection(B, 'inbox', [[Y.row.id, { canRead: true, canWrite: true }]]);
  const batch = (into: string[]) => Array.from({ length: 3 }, () => {
    const o = indicator({ tlp: 'green' });
    into.push(o.id as string);
    return o;
  });
  // Three indicators a year before, three now: the clocks of both nodes move together.
  await submit(A, X, collA.id, batch(old));
  for (const p of [A, B]) (p.clock as ManualClock).advance(365 * 86_400_000);
  cut = new Date(A.clock.now() - 86_400_000).toISOString();
  await submit(A, X, collA.id, batch(recent));
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

describe('a subscription with a start', () => {
  it('a pull takes only what the peer added since; a reset walks again from there, not from the beginning', async () => {
    const pulled = await makeCollection(B, 'recent', []);
    const sub = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-a', direction: 'pull', remoteCollection: collA.id, localCollection: pulled.id, since: cut.slice(0, 10) });
    expect(sub.since).toBe(`${cut.slice(0, 10)}T00:00:00.000000Z`);
    const r = await runSubscription(deps(B), sub);
    expect(r).toMatchObject({ complete: true, received: 3, added: 3, rejected: 0 });
    expect(await idsIn(B, pulled.id)).toEqual([...recent].sort());

    await B.federation.reset(SYSTEM_ACTOR, sub.id);
    const again = await runSubscription(deps(B), sub);
    expect(again).toMatchObject({ complete: true, received: 3, added: 0, duplicates: 3 });
    expect(await idsIn(B, pulled.id)).toEqual([...recent].sort());

    // Without a start, the same stream takes everything.
    const all = await makeCollection(B, 'all', []);
    const whole = await B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-a', direction: 'pull', remoteCollection: collA.id, localCollection: all.id });
    expect(await runSubscription(deps(B), whole)).toMatchObject({ received: 6, added: 6 });
  });

  it('a push sends only the versions added here since', async () => {
    const sub = await A.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-b', direction: 'push', remoteCollection: inbox.id, localCollection: collA.id, since: cut });
    const r = await runSubscription(deps(A), sub);
    expect(r).toMatchObject({ complete: true, sent: 3, rejected: 0 });
    expect(await idsIn(B, inbox.id)).toEqual([...recent].sort());
  });

  it('refuses a start that is not a time, or is in the future; the CLI takes days and lists the start', async () => {
    for (const since of ['yesterday', '2026-13-01', '2026-02-30T00:00:00Z', new Date(A.clock.now() + 86_400_000).toISOString(), 7]) {
      await expect(B.federation.addSubscription(SYSTEM_ACTOR, { peer: 'node-a', direction: 'pull', remoteCollection: collA.id, localCollection: inbox.id, since: since as string }))
        .rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    const saved = { ...process.env };
    Object.assign(process.env, { SHIELDWALL_DATA_DIR: path.join(dir, 'b'), SHIELDWALL_NODE_NAME: 'node-b', SHIELDWALL_LOG_LEVEL: 'silent' });
    try {
      const added = await sw('sync', 'add', '--peer', 'node-a', '--direction', 'pull', '--remote', 'other', '--local', inbox.id, '--since', '30d');
      expect(added.err).toBe('');
      expect(added.code).toBe(0);
      const listed = await sw('sync', 'list', '--json');
      const sub = (JSON.parse(listed.out) as { subscription: { id: string; since?: string } }[]).find((s) => s.subscription.id === added.out.trim())!;
      // 30 days before now (the CLI's clock is the machine's).
      expect(Math.abs(Date.parse(sub.subscription.since!) - (Date.now() - 30 * 86_400_000))).toBeLessThan(60_000);
      expect((await sw('sync', 'list')).out).toContain(`all since ${sub.subscription.since!.slice(0, 10)}`);
      const bad = await sw('sync', 'add', '--peer', 'node-a', '--direction', 'pull', '--remote', 'other2', '--local', inbox.id, '--since', 'last week');
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('since must be an RFC 3339 time');
    } finally {
      process.env = saved;
    }
  });
});
