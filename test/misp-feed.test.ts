/**
 * MISP feed consumption: the TweetFeed sample (manifest.json + 2 of its 365 event files) from
 * the directory and from a local HTTP server; incremental by event timestamp (a second pull
 * imports nothing), durable state, failures recorded, a hostile manifest refused.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { AccessService } from '../src/access/index.js';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { IntelService } from '../src/intel/index.js';
import { MispFeedScheduler, MispFeeds } from '../src/misp/index.js';
import { sharedPath } from './helpers/shared.js';

const FEED_DIR = sharedPath('data/misp/feed-tweetfeed');
const PRESENT = ['181b5be4-a1f6-53a4-8436-4d4cd3e272a3', '3f683153-718d-553a-9f11-83cb317e5974'];
const MANIFEST_SIZE = Object.keys(JSON.parse(readFileSync(path.join(FEED_DIR, 'manifest.json'), 'utf8')) as object).length;

let server: Server;
let url: string;
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = path.basename(req.url ?? '');
    try {
      const body = readFileSync(path.join(FEED_DIR, name));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/misp/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('MISP feeds', () => {
  let store: Store;
  let feeds: MispFeeds;
  let coll: string;
  let org: string;
  const clock = new ManualClock('2026-08-01T00:00:00Z');

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    const access = new AccessService(store, clock);
    const sys = { principal: null, source: 'test' };
    org = (await access.createOrganisation(sys, { name: 'Alpha', shortName: 'A' })).id;
    coll = (await access.createCollection(sys, { apiRoot: 'api1', title: 'c' })).id;
    feeds = new MispFeeds({ store, intel: new IntelService(store, clock), clock });
    requests = [];
  });

  const stored = async () => (await store.queryObjects({ collectionIds: [coll], audience: { hop: 'local', orgId: org, groupIds: [] }, purpose: 'read', limit: 10_000 })).rows;

  for (const kind of ['directory', 'http'] as const) {
    it(`pulls from a ${kind}: new events imported, missing files recorded as failures, the second pull imports nothing`, async () => {
      await feeds.add({ name: 'tweetfeed', source: kind === 'http' ? url : FEED_DIR, collectionId: coll, orgId: org, intervalS: 3600 });
      const first = await feeds.pull('tweetfeed');
      expect(first.manifestEvents).toBe(MANIFEST_SIZE);
      expect(first.imported).toBe(2);
      expect(first.failed).toBe(MANIFEST_SIZE - 2);
      expect(first.failures[0]?.reason).toMatch(kind === 'http' ? /HTTP 404/ : /does not exist/);
      const rows = await stored();
      for (const u of PRESENT) expect(rows.some((r) => r.id.endsWith(u) && (r.type === 'report' || r.type === 'grouping'))).toBe(true);
      const count = rows.length;
      expect(count).toBeGreaterThan(0);
      // A fresh service over the same store: the per-event timestamps are durable.
      const again = await new MispFeeds({ store, intel: new IntelService(store, clock), clock }).pull('tweetfeed');
      expect(again.imported).toBe(0);
      expect(again.upToDate).toBe(2);
      expect((await stored()).length).toBe(count);
      if (kind === 'http') expect(requests.filter((r) => r.endsWith('181b5be4-a1f6-53a4-8436-4d4cd3e272a3.json')).length).toBe(1);
      const [f] = await feeds.list();
      expect(f!.state.lastError).toMatch(/failed/);
      expect(Object.keys(f!.state.events).sort()).toEqual([...PRESENT].sort());
    });
  }

  it('re-imports an event when the manifest timestamp moves forward', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'misp-feed-'));
    const manifest = JSON.parse(readFileSync(path.join(FEED_DIR, 'manifest.json'), 'utf8')) as Record<string, { timestamp: string }>;
    const one = PRESENT[0]!;
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ [one]: manifest[one] }));
    copyFileSync(path.join(FEED_DIR, `${one}.json`), path.join(dir, `${one}.json`));
    await feeds.add({ name: 'one', source: dir, collectionId: coll, orgId: org, intervalS: 0 });
    expect((await feeds.pull('one')).imported).toBe(1);
    expect((await feeds.pull('one')).imported).toBe(0);
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ [one]: { ...manifest[one], timestamp: String(Number(manifest[one]!.timestamp) + 60) } }));
    const r = await feeds.pull('one');
    expect(r.imported).toBe(1);
    expect(r.failed).toBe(0);
  });

  it('refuses manifest keys that are not uuids (no path traversal) and records a broken manifest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'misp-feed-'));
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ '../../etc/passwd': { timestamp: '1' } }));
    await feeds.add({ name: 'evil', source: dir, collectionId: coll, orgId: org, intervalS: 0 });
    const r = await feeds.pull('evil');
    expect(r.imported).toBe(0);
    expect(r.failures[0]?.reason).toMatch(/not an event uuid/);
    writeFileSync(path.join(dir, 'manifest.json'), '{not json');
    const bad = await feeds.pull('evil');
    expect(bad.failures[0]).toMatchObject({ uuid: 'manifest' });
    expect((await feeds.get('evil')).state.lastError).toMatch(/manifest\.json/);
    await expect(feeds.add({ name: 'creds', source: 'https://user:pw@example.org/feed/', collectionId: coll, orgId: org, intervalS: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses file: and other non-http schemes, and never echoes a file\'s contents in an error', async () => {
    for (const source of ['file:///etc/', 'file:relative', 'ftp://example.org/feed/']) {
      await expect(feeds.add({ name: 'f', source, collectionId: coll, orgId: org, intervalS: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/only http\(s\) URLs and directory paths/) });
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'misp-feed-'));
    const secret = 'root:x:0:0:SECRET-FIRST-BYTES:/root:/bin/bash\n';
    writeFileSync(path.join(dir, 'passwd'), secret);
    symlinkSync(path.join(dir, 'passwd'), path.join(dir, 'manifest.json'));
    await feeds.add({ name: 'leaky', source: dir, collectionId: coll, orgId: org, intervalS: 0 });
    const r = await feeds.pull('leaky');
    const state = (await feeds.get('leaky')).state;
    const said = JSON.stringify([r, state]);
    expect(state.lastError).toMatch(/manifest\.json is not valid JSON/);
    for (const part of ['root:x', 'SECRET', 'bin/bash']) expect(said).not.toContain(part);
  });

  it('a pull stops at its time limit after one event at least, and the next goes on after it (a failed event is retried by the next full pull)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'misp-feed-'));
    const manifest = JSON.parse(readFileSync(path.join(FEED_DIR, 'manifest.json'), 'utf8')) as Record<string, { timestamp: string }>;
    const missing = Object.keys(manifest).find((k) => !PRESENT.includes(k))!;
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ [PRESENT[0]!]: manifest[PRESENT[0]!], [PRESENT[1]!]: manifest[PRESENT[1]!], [missing]: manifest[missing] }));
    for (const u of PRESENT) copyFileSync(path.join(FEED_DIR, `${u}.json`), path.join(dir, `${u}.json`));
    await feeds.add({ name: 'slow', source: dir, collectionId: coll, orgId: org, intervalS: 600 });
    const pulls = [];
    for (let i = 0; i < 3; i++) pulls.push(await feeds.pull('slow', { maxMs: 0 }));
    expect(pulls.map((r) => [r.imported + r.failed, r.more])).toEqual([[1, true], [1, true], [1, false]]);
    expect(pulls.reduce((n, r) => n + r.imported, 0)).toBe(2);
    expect((await feeds.get('slow')).state).toMatchObject({ more: false, imported: 2 });
    expect((await feeds.pull('slow')).failures.map((f) => f.uuid)).toEqual([missing]);
    // The scheduler goes on with a pull that stopped at its limit without waiting for the interval.
    await feeds.add({ name: 'slow2', source: dir, collectionId: coll, orgId: org, intervalS: 600 });
    const sched = new MispFeedScheduler(feeds, clock, 60_000, { pullMs: 0 });
    const slow2 = async () => (await sched.tick()).filter((r) => r.feed === 'slow2').map((r) => r.more);
    expect([await slow2(), await slow2(), await slow2(), await slow2()]).toEqual([[true], [true], [false], []]);
    await sched.stop();
  });

  it('an event with a refused object is imported without it, the refusal recorded, and not pulled again; one whose report/grouping is refused fails and is retried', async () => {
    const access = new AccessService(store, clock);
    const other = (await access.createOrganisation({ principal: null, source: 'test' }, { name: 'Bravo', shortName: 'B' })).id;
    const u = (n: number) => `4f4f${String(n).padStart(4, '0')}-7b48-40d5-86b4-c0070acd0835`;
    // Another organisation created indicator--u(2) and grouping--u(10) first: only it versions them.
    const at = '2023-01-01T00:00:00.000Z';
    const taken = [
      { type: 'indicator', spec_version: '2.1', id: `indicator--${u(2)}`, created: at, modified: at, pattern: "[domain-name:value = 'x.example']", pattern_type: 'stix', valid_from: at },
      { type: 'grouping', spec_version: '2.1', id: `grouping--${u(10)}`, created: at, modified: at, context: 'suspicious-activity', object_refs: [`indicator--${u(2)}`] },
    ];
    const r0 = await new IntelService(store, clock).submit({ principal: null, source: 'test' }, coll, taken, { asOrg: other });
    expect(r0.map((r) => r.status)).toEqual(['added', 'added']);
    const dir = mkdtempSync(path.join(tmpdir(), 'misp-feed-'));
    const event = (uuid: string, attrs: number[]) => ({ Event: { uuid, info: `event ${uuid}`, timestamp: '1700000000', Tag: [{ name: 'tlp:green' }],
      Attribute: attrs.map((n) => ({ uuid: u(n), type: 'domain', category: 'Network activity', value: `a${n}.example`, to_ids: true })) } });
    writeFileSync(path.join(dir, `${u(1)}.json`), JSON.stringify(event(u(1), [2, 3])));
    writeFileSync(path.join(dir, `${u(10)}.json`), JSON.stringify(event(u(10), [11])));
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ [u(1)]: { timestamp: '1700000000' }, [u(10)]: { timestamp: '1700000000' } }));
    await feeds.add({ name: 'partial', source: dir, collectionId: coll, orgId: org, intervalS: 0 });
    const first = await feeds.pull('partial');
    expect([first.imported, first.failed]).toEqual([1, 1]);
    expect(first.failures.map((f) => [f.uuid, f.reason])).toEqual([[u(10), expect.stringMatching(/grouping was refused: .*another organisation/)]]);
    expect(first.refused.map((f) => [f.event, f.id])).toEqual([[u(1), `indicator--${u(2)}`]]);
    expect(first.refused[0]!.reason).toMatch(/another organisation/);
    // The accepted part stands for the event: its grouping, the other attribute, the refused attribute's observed-data.
    const ids = new Set((await stored()).map((r) => r.id));
    for (const id of [`grouping--${u(1)}`, `indicator--${u(3)}`, `observed-data--${u(2)}`]) expect(ids.has(id), id).toBe(true);
    const second = await feeds.pull('partial');
    expect([second.imported, second.upToDate, second.failed, second.refused]).toEqual([0, 1, 1, []]);
    expect((await feeds.get('partial')).state.events).toEqual({ [u(1)]: 1700000000 });
  });

  it('the scheduler pulls a feed when its interval has elapsed, and not before', async () => {
    await feeds.add({ name: 'tweetfeed', source: FEED_DIR, collectionId: coll, orgId: org, intervalS: 600 });
    const sched = new MispFeedScheduler(feeds, clock, 60_000);
    expect((await sched.tick()).map((r) => r.imported)).toEqual([2]);
    expect(await sched.tick()).toEqual([]);
    clock.advance(601_000);
    expect((await sched.tick()).map((r) => r.imported)).toEqual([0]);
    await sched.stop();
  });

  it('a scheduler of a process that does not run the background jobs pulls nothing (several API processes: the leader only)', async () => {
    await feeds.add({ name: 'led', source: FEED_DIR, collectionId: coll, orgId: org, intervalS: 1 });
    let leading = false;
    const sched = new MispFeedScheduler(feeds, clock, 10, { active: () => leading });
    sched.start();
    await new Promise((r) => setTimeout(r, 150));
    expect((await feeds.get('led')).state.lastRunUs).toBeNull();
    leading = true;
    await expect.poll(async () => (await feeds.get('led')).state.lastRunUs, { timeout: 5000 }).not.toBeNull();
    await sched.stop();
  });
});
