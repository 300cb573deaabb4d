/**
 * A peer node is input too: what it answers, broken or hostile, must never take this node's
 * memory, hold a run (or an HTTP request) for good, cost more than linear time, or lose what
 * it sent. The peer here is a real HTTP server under the test's control that answers the TAXII
 * and federation requests of a pull or push subscription in the ways a peer should not.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { MAX_REJECTS, runSubscription, signFacts, type RunOptions, type RunReport, type Subscription } from '../src/federation/index.js';
import { TaxiiClient } from '../src/taxii/index.js';
import { TLP2_MARKING_IDS } from '../src/stix/index.js';
import { bearer, indicator, makeCollection, makeOrg, makePlatform, tmpDir, type Org } from './taxii-fixtures.js';
import { closeAll, fakePeer, type FakePeer, type PeerHandler } from './helpers/fake-peer.js';

/** The peer node "x": a plain HTTP server whose answers each test sets. */
let handler: PeerHandler = (_q, res) => res.writeHead(404).end();
const seen: URL[] = [];
let x: FakePeer;
let privateKey: crypto.KeyObject;
const CAP = 1024 * 1024;

const dir = tmpDir('sw-fed-hostile-');
let p: Platform;
let server: RunningServer;
let admin: Org;
let local: { id: string };
let pull: Subscription;
let push: Subscription;

const deps = () => ({ store: p.store, clock: p.clock, registry: p.federation, intel: p.intel });
const run = (sub: Subscription, o: RunOptions = {}): Promise<RunReport> => runSubscription(deps(), sub, o);
const green = (extra: Record<string, unknown> = {}) => ({ ...indicator({ tlp: 'green' }), ...extra });

/** A copy signed by x as its origin, with the envelope a Shieldwall peer sends in a page. */
function signed(object: Record<string, unknown>) {
  const facts = { object, origin: 'x', creator: null, recipients: [] as string[] };
  return { id: object.id as string, version: object.modified as string, origin: 'x', path: ['x'], creator: null, recipients: [], signature: signFacts(privateKey, facts) };
}

function json(res: http.ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/taxii+json;version=2.1', ...headers }).end(JSON.stringify(body));
}

/** Serves `objects` as TAXII pages honouring limit and next (an offset), with their envelopes. */
function pages(objects: Record<string, unknown>[], o: { extra?: number } = {}): PeerHandler {
  return (_q, res, url) => {
    if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const at = Number(url.searchParams.get('next') ?? 0);
    const page = objects.slice(at, at + limit + (o.extra ?? 0));
    const more = at + page.length < objects.length;
    json(res, { objects: page, more, ...(more ? { next: String(at + page.length) } : {}), x_shieldwall_envelopes: page.map((x) => signed(x)) });
  };
}

async function held(ids: readonly string[]): Promise<number> {
  const rows = await p.store.scanObjects({ types: ['indicator'], addedAfter: -1, limit: 100_000, ids });
  return rows.filter((r) => r.collectionId === local.id).length;
}

beforeAll(async () => {
  x = await fakePeer(() => (req, res, url, body) => {
    seen.push(url);
    handler(req, res, url, body);
  });
  privateKey = x.privateKey;
  const url = x.url;
  fs.mkdirSync(path.join(dir, 'n'), { recursive: true });
  p = await makePlatform({ file: path.join(dir, 'n', 'shieldwall.db'), env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'n', SHIELDWALL_PEER_MAX_RESPONSE_BYTES: String(CAP) } });
  admin = await makeOrg(p, 'NA', { roles: ['admin'] });
  local = await makeCollection(p, 'From x', [[admin.row.id, { canRead: true, canWrite: true }]]);
  await p.federation.addPeer(SYSTEM_ACTOR, { name: 'x', url, publicKey: x.publicKey, token: 'peer-token-of-n-on-x', orgs: [] });
  pull = await p.federation.addSubscription(SYSTEM_ACTOR, { peer: 'x', direction: 'pull', remoteCollection: 'remote', localCollection: local.id });
  push = await p.federation.addSubscription(SYSTEM_ACTOR, { peer: 'x', direction: 'push', remoteCollection: 'remote', localCollection: local.id });
  server = await startServer(p, { logger: false });
}, 60_000);

afterAll(() => closeAll({ server, platform: p, peer: x, dir }));

beforeEach(async () => {
  seen.length = 0;
  await p.federation.reset(SYSTEM_ACTOR, pull.id);
  await p.federation.clearRejects(SYSTEM_ACTOR, pull.id);
});

describe('a reset while a pull runs', () => {
  it('is not undone by the run\'s next page: the run stops, the cursor stays reset, and the next run walks from the start', async () => {
    const objects = Array.from({ length: 4 }, () => green());
    const serve = pages(objects);
    let resetDone = false;
    handler = (q, res, url, body) => {
      // The administrator resets the subscription while the run is on its second page.
      if (url.searchParams.get('next') === '2' && !resetDone) {
        resetDone = true;
        void p.federation.reset(SYSTEM_ACTOR, pull.id).then(() => serve(q, res, url, body));
      } else serve(q, res, url, body);
    };
    // A first page stored before the reset: the stored cursor is then not the empty one a reset writes.
    const first = await run(pull, { pageSize: 1 });
    expect(first.complete).toBe(false);
    expect(first.superseded).toBe(true);
    expect((await p.federation.state(pull.id)).cursor).toEqual({});
    expect(await held(objects.slice(2).map((o) => o.id as string))).toBe(0);
    const again = await run(pull, { pageSize: 1 });
    expect(again.complete).toBe(true);
    expect(await held(objects.map((o) => o.id as string))).toBe(4);
    expect(seen.filter((u) => u.pathname.endsWith('/objects/')).map((u) => u.searchParams.get('next')).slice(-4)).toEqual([null, '1', '2', '3']);
  });
});

describe('answers larger than the node reads at once', () => {
  it('a page over the cap is asked again with half the objects, down to a size that fits; nothing is lost', async () => {
    // ~9 KB an object: 1,000 of them are ~9 MB, 100 fit in the 1 MiB cap.
    const objects = Array.from({ length: 300 }, () => green({ description: 'd'.repeat(9000) }));
    handler = pages(objects);
    const r = await run(pull);
    expect(r.complete).toBe(true);
    expect(r.added).toBe(300);
    expect(await held(objects.map((o) => o.id as string))).toBe(300);
    const limits = seen.filter((u) => u.pathname.endsWith('/objects/')).map((u) => Number(u.searchParams.get('limit')));
    expect(limits.slice(0, 5)).toEqual([1000, 500, 250, 125, 62]);
  });

  it('an answer that never ends is cut off at the cap: the run fails with the reason, the cursor stays', async () => {
    let streamed = 0;
    handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const write = () => {
        while (!res.destroyed && res.write(chunk)) {
          streamed += chunk.length;
          if (streamed > 200 * CAP) return res.end();
        }
        if (!res.destroyed) res.once('drain', write);
      };
      res.write('{"objects":[');
      write();
    };
    const before = await p.federation.state(pull.id);
    await expect(run(pull)).rejects.toThrow(/larger than this node reads in one answer/);
    const st = await p.federation.state(pull.id);
    expect(st.cursor).toEqual(before.cursor);
    expect(st.lastError).toMatch(/larger than 1048576 bytes/);
    // Each of the 11 requests (limit 1000 down to 1) stopped soon after the cap.
    expect(streamed).toBeLessThan(11 * 8 * CAP);
  });

  it('a Content-Length over the cap is refused before the body is read', async () => {
    const client = new TaxiiClient({ url: x.url, maxResponseBytes: 1000 });
    handler = (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * CAP) }).end(Buffer.alloc(10 * CAP, 0x20));
    try {
      await expect(client.discovery()).rejects.toMatchObject({ tooLarge: true, message: expect.stringMatching(/larger than 1000 bytes/) });
    } finally {
      await client.close();
    }
  });
});

describe('keys dropped while a run goes on', () => {
  it('the pages after retired keys were dropped are verified with the keys as they are then: what the old key signed is refused', async () => {
    const next = crypto.generateKeyPairSync('ed25519');
    const nextPub = Buffer.from((next.publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64');
    // x rotated: its first key is retired, and still verifies what it signed.
    await p.federation.updatePeer(SYSTEM_ACTOR, 'x', { publicKey: nextPub });
    const objects = Array.from({ length: 4 }, () => green());
    let dropped = false;
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      const at = Number(url.searchParams.get('next') ?? 0);
      const send = () => {
        const page = objects.slice(at, at + 2);
        const more = at + 2 < objects.length;
        json(res, { objects: page, more, ...(more ? { next: String(at + 2) } : {}), x_shieldwall_envelopes: page.map((o) => signed(o)) });
      };
      if (at === 0) return send();
      // The old key turns out compromised: dropped before the second page is served.
      void p.federation.updatePeer(SYSTEM_ACTOR, 'x', { dropRetiredKeys: true }).then(() => {
        dropped = true;
        send();
      });
    };
    try {
      const r = await run(pull, { pageSize: 2 });
      expect(dropped).toBe(true);
      expect(await held(objects.slice(0, 2).map((o) => o.id as string))).toBe(2);
      expect(await held(objects.slice(2).map((o) => o.id as string))).toBe(0);
      expect(r.rejected).toBe(2);
    } finally {
      await p.federation.updatePeer(SYSTEM_ACTOR, 'x', { publicKey: x.publicKey, dropRetiredKeys: true });
    }
  });
});

describe('pages that break the protocol', () => {
  it('more objects than the limit asked: the page is refused whole, nothing stored, the cursor stays', async () => {
    const objects = Array.from({ length: 40 }, () => green());
    handler = pages(objects, { extra: 1 });
    await expect(run(pull, { pageSize: 10 })).rejects.toThrow(/answered 11 objects for a page of at most 10/);
    expect(await held(objects.map((o) => o.id as string))).toBe(0);
    expect((await p.federation.state(pull.id)).cursor).toEqual({});
  });

  it('an enormous next token: the page is refused, the token kept nowhere, the cursor stays', async () => {
    const objects = [green()];
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      json(res, { objects, more: true, next: 'n'.repeat(500_000), x_shieldwall_envelopes: objects.map((x) => signed(x)) });
    };
    await expect(run(pull)).rejects.toThrow(/next/);
    expect((await p.federation.state(pull.id)).cursor).toEqual({});
    expect(JSON.stringify(await p.federation.state(pull.id)).length).toBeLessThan(10_000);
  });

  it('more:true for ever ends the run in time; the subscription goes on at the next tick', async () => {
    let n = 0;
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      n++;
      json(res, { objects: [], more: true, next: `page-${n}`, x_shieldwall_envelopes: [] });
    };
    const t0 = Date.now();
    const r = await run(pull, { maxRunMs: 400 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.complete).toBe(false);
    expect(n).toBeGreaterThan(1);
    const st = await p.federation.state(pull.id);
    expect(st.nextRunUs).toBeLessThanOrEqual(p.clock.now() * 1000);
    // Where the last committed page ended (a page fetched ahead may not have been used).
    expect(Number(st.cursor.next?.slice(5))).toBeGreaterThanOrEqual(n - 1);
  });

  it('a redirect is not followed (the node would send its requests wherever the peer points)', async () => {
    let elsewhere = 0;
    const other = http.createServer((_q, res) => {
      elsewhere++;
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    handler = (_q, res) => res.writeHead(302, { location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/steal` }).end();
    try {
      await expect(run(pull)).rejects.toThrow(/HTTP 302 redirect to http:\/\/127\.0\.0\.1:\d+\/steal, not followed/);
      expect(elsewhere).toBe(0);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });
});

describe('a peer that asks to be left alone', () => {
  it('429 or 503 with Retry-After: the next run waits as long as the peer asked (past the backoff), and the status says so', async () => {
    const nextRunS = async () => ((await p.federation.state(pull.id)).nextRunUs - p.clock.now() * 1000) / 1e6;
    handler = (_q, res) => json(res, { title: 'Too Many Requests' }, 429, { 'retry-after': '900' });
    await expect(run(pull)).rejects.toThrow(/HTTP 429/);
    expect(await nextRunS()).toBe(900);
    const st = await p.federation.state(pull.id);
    expect(st.lastError).toMatch(/HTTP 429 Too Many Requests \(the peer asks to wait 900 s/);
    // Without Retry-After, the backoff alone (interval 30 s × 2^failures).
    handler = (_q, res) => json(res, { title: 'Service Unavailable' }, 503);
    await expect(run(pull)).rejects.toThrow(/HTTP 503/);
    expect(await nextRunS()).toBe(120);
    expect((await p.federation.state(pull.id)).lastError).not.toMatch(/asks to wait/);
    // One shorter than the backoff changes nothing; one of a year holds it a day at most.
    handler = (_q, res) => json(res, { title: 'Service Unavailable' }, 503, { 'retry-after': '5' });
    await expect(run(pull)).rejects.toThrow(/HTTP 503/);
    expect(await nextRunS()).toBe(240);
    handler = (_q, res) => json(res, { title: 'Too Many Requests' }, 429, { 'retry-after': String(365 * 86_400) });
    await expect(run(pull)).rejects.toThrow(/HTTP 429/);
    expect(await nextRunS()).toBe(86_400);
    handler = pages([]);
    expect(await run(pull)).toMatchObject({ complete: true });
    expect(await p.federation.state(pull.id)).toMatchObject({ failures: 0 });
  });
});

describe('objects a peer should never send', () => {
  it('an object nested past the limits goes to the reject list before its signature is computed; the rest of the page is stored', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const bad = green({ x_deep: deep });
    const good = green();
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      // Written by hand: JSON.stringify of the deep value would overflow the test's own stack.
      const deepText = `${'['.repeat(20_000)}"bottom"${']'.repeat(20_000)}`;
      const badText = JSON.stringify({ ...bad, x_deep: 0 }).replace('"x_deep":0', `"x_deep":${deepText}`);
      const env = { id: bad.id, version: bad.modified, origin: 'x', path: ['x'], creator: null, recipients: [], signature: 'AAAA' };
      res.writeHead(200, { 'content-type': 'application/taxii+json;version=2.1' })
        .end(`{"objects":[${badText},${JSON.stringify(good)}],"more":false,"x_shieldwall_envelopes":[${JSON.stringify(env)},${JSON.stringify(signed(good))}]}`);
    };
    const r = await run(pull);
    expect(r).toMatchObject({ complete: true, added: 1, rejected: 1 });
    const rejects = await p.federation.listRejects(pull.id);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ id: bad.id, reason: expect.stringMatching(/over the size limits of a STIX object: x_deep.*nesting deeper than 32 levels/) });
  });

  it('items that are not objects are refused as such; the page goes on', async () => {
    const good = green();
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      json(res, { objects: [null, 5, 'indicator', [good], good], more: false, x_shieldwall_envelopes: [signed(good), null, 7] });
    };
    const r = await run(pull);
    expect(r).toMatchObject({ complete: true, added: 1, rejected: 4 });
    expect(new Set((await p.federation.listRejects(pull.id)).map((x) => x.reason))).toEqual(new Set(['not a JSON object']));
  });

  it('an envelope whose (unsigned) path is not a short list of node names is refused; its neighbour is stored', async () => {
    const long = green();
    const odd = green();
    const good = green();
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      json(res, { objects: [long, odd, good], more: false, x_shieldwall_envelopes: [
        { ...signed(long), path: Array.from({ length: 100 }, (_, i) => `relay-${i}`) }, { ...signed(odd), path: ['x', { evil: true }] }, signed(good),
      ] });
    };
    const r = await run(pull);
    expect(r).toMatchObject({ complete: true, added: 1, rejected: 2 });
    expect((await p.federation.listRejects(pull.id)).map((x) => x.reason)).toEqual([expect.stringMatching(/path is not a list of at most 64 node names/), expect.stringMatching(/path is not a list/)]);
  });

  it('a reject list that is full holds the pull (cursor kept) until it is cleared over REST; then the pull goes on', async () => {
    // Objects without envelopes: each is refused ("cannot be verified") into the reject list.
    const objects = Array.from({ length: MAX_REJECTS + 10 }, () => green());
    handler = (_q, res, url) => {
      if (!url.pathname.endsWith('/objects/')) return json(res, { title: 'not here' }, 404);
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const at = Number(url.searchParams.get('next') ?? 0);
      const page = objects.slice(at, at + limit);
      const more = at + page.length < objects.length;
      json(res, { objects: page, more, ...(more ? { next: String(at + page.length) } : {}), x_shieldwall_envelopes: [] });
    };
    await expect(run(pull)).rejects.toThrow(new RegExp(`reject list of ${pull.id} holds ${MAX_REJECTS} entries`));
    const st = await p.federation.state(pull.id);
    expect(st.cursor.next).toBe(String(MAX_REJECTS));
    const status = await fetch(`${server.url}/api/v1/federation/subscriptions/${pull.id}`, { headers: { authorization: bearer(admin.token) } });
    expect(((await status.json()) as { rejects: number }).rejects).toBe(MAX_REJECTS);
    const cleared = await fetch(`${server.url}/api/v1/federation/subscriptions/${pull.id}/rejects`, { method: 'DELETE', headers: { authorization: bearer(admin.token) } });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toEqual({ cleared: MAX_REJECTS });
    const audit = await p.store.listAudit({ limit: 20 });
    expect(audit.some((a) => a.action === 'federation.rejects.clear' && a.target === pull.id)).toBe(true);
    const r = await run(pull);
    expect(r).toMatchObject({ complete: true, rejected: 10 });
  }, 120_000);
});

describe('what a peer answers to a push', () => {
  it('only failures of objects sent count, each once; a success count past what was sent is not believed', async () => {
    const mine = green({ object_marking_refs: [TLP2_MARKING_IDS.green] });
    await p.intel.submit({ principal: admin.principal, source: 'test' }, local.id, [mine]);
    handler = (_q, res, url) => {
      if (url.pathname.endsWith('/objects/')) {
        // 8,000 failures of objects never sent, the one sent twice, and a success count of a billion.
        const failures = Array.from({ length: 8_000 }, (_, i) => ({ id: `indicator--${crypto.randomUUID()}`, version: `v${i}`, message: 'no' }));
        failures.push({ id: mine.id as string, version: mine.modified as string, message: `refused: ${'z'.repeat(5000)}` });
        failures.push({ id: mine.id as string, version: mine.modified as string, message: 'again' });
        return json(res, { id: crypto.randomUUID(), status: 'complete', total_count: 1, success_count: 1e9, failure_count: failures.length, pending_count: 0, failures }, 202);
      }
      return json(res, { title: 'not here' }, 404);
    };
    const t0 = Date.now();
    const r = await run(push);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r).toMatchObject({ sent: 0, rejected: 1 });
    const rejects = await p.federation.listRejects(push.id);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.reason.length).toBeLessThan(500);
    expect((await p.federation.state(push.id)).objectsOut).toBe(0);
  });
});

describe('a push target that takes smaller requests', () => {
  it('a POST refused as too large (413) is sent again in smaller ones; an object the peer never takes goes to the reject list with the reason, and the push goes on', async () => {
    const LIMIT = 12_000;
    const small = Array.from({ length: 7 }, (_, i) => green({ object_marking_refs: [TLP2_MARKING_IDS.green], description: `${i} ${'d'.repeat(2500)}` }));
    const huge = green({ object_marking_refs: [TLP2_MARKING_IDS.green], description: 'h'.repeat(3 * LIMIT) });
    const after = green({ object_marking_refs: [TLP2_MARKING_IDS.green] });
    for (const o of [...small.slice(0, 4), huge, ...small.slice(4), after]) await p.intel.submit({ principal: admin.principal, source: 'test' }, local.id, [o]);
    const stored = new Set<string>();
    let posts = 0;
    handler = (req, res, url, body) => {
      if (req.method === 'POST' && url.pathname.endsWith('/objects/')) {
        posts++;
        if (Buffer.byteLength(body) > LIMIT) return json(res, { title: 'Payload Too Large', description: `the body exceeds max_content_length (${LIMIT})`, http_status: '413' }, 413);
        const objects = (JSON.parse(body) as { objects: { id: string }[] }).objects;
        for (const o of objects) stored.add(o.id);
        return json(res, { id: crypto.randomUUID(), status: 'complete', total_count: objects.length, success_count: objects.length, failure_count: 0, pending_count: 0 }, 202);
      }
      return json(res, { title: 'not here' }, 404);
    };
    const r = await run(push);
    expect(r).toMatchObject({ complete: true, sent: 8, rejected: 1 });
    expect([...small, after].every((o) => stored.has(o.id as string))).toBe(true);
    expect(stored.has(huge.id as string)).toBe(false);
    const reject = (await p.federation.listRejects(push.id)).find((x) => x.id === huge.id);
    expect(reject?.reason).toMatch(/refused by x: larger than it takes in one request \(HTTP 413/);
    expect(posts).toBeLessThan(40);
    // Nothing is left to send: the next run posts nothing.
    posts = 0;
    expect(await run(push)).toMatchObject({ complete: true, sent: 0 });
    expect(posts).toBe(0);
  });
});

describe('a push target that keeps its status pending', () => {
  it('past the wait, the push goes on: what the status says is counted, the rest goes to the reject list as not known, and is not sent again', async () => {
    const objs = Array.from({ length: 3 }, () => green({ object_marking_refs: [TLP2_MARKING_IDS.green] }));
    for (const o of objs) await p.intel.submit({ principal: admin.principal, source: 'test' }, local.id, [o]);
    const [ok, refused, unknown] = objs.map((o) => ({ id: o.id as string, version: o.modified as string }));
    let posts = 0;
    let polls = 0;
    handler = (req, res, url) => {
      if (req.method === 'POST' && url.pathname.endsWith('/objects/')) {
        posts++;
        return json(res, { id: 'queued-1', status: 'pending', total_count: 3, success_count: 0, failure_count: 0, pending_count: 3 }, 202);
      }
      if (url.pathname.endsWith('/status/queued-1/')) {
        polls++;
        // A queue that never finishes the last object.
        return json(res, { id: 'queued-1', status: 'pending', total_count: 3, success_count: 1, failure_count: 1, pending_count: 1, successes: [ok], failures: [{ ...refused, message: 'no such marking here' }], pendings: [unknown] });
      }
      return json(res, { title: 'not here' }, 404);
    };
    const r = await run(push, { statusWaitMs: 600 });
    expect(r).toMatchObject({ complete: true, sent: 1, rejected: 2 });
    expect(polls).toBeGreaterThan(0);
    const rejects = new Map((await p.federation.listRejects(push.id)).map((x) => [x.id, x.reason]));
    expect(rejects.get(refused!.id)).toBe('refused by x: no such marking here');
    expect(rejects.get(unknown!.id)).toMatch(/^still pending on x after 1 s \(status queued-1\): its outcome is not known; sync retry sends it again/);
    expect(rejects.has(ok!.id)).toBe(false);
    posts = 0;
    expect(await run(push, { statusWaitMs: 600 })).toMatchObject({ complete: true, sent: 0 });
    expect(posts).toBe(0);
  });
});

describe('what a peer pushes here', () => {
  let token: string;
  const deepText = `${'['.repeat(20_000)}"bottom"${']'.repeat(20_000)}`;
  const post = async (url: string, body: string, type = 'application/json') => {
    const res = await fetch(`${server.url}${url}`, { method: 'POST', headers: { authorization: bearer(token), 'content-type': type, accept: type }, body });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  beforeAll(async () => {
    const identity = (await p.federation.peer('x')).identity;
    await p.access.grantCollection(SYSTEM_ACTOR, local.id, identity, { canRead: true, canWrite: true });
    token = (await p.access.createToken(SYSTEM_ACTOR, { orgId: identity, kind: 'peer', name: 'node x' })).token;
  });

  it('objects nested past the limits: a TAXII push answers a status with the failure, the other object is stored', async () => {
    const good = green();
    const bad = green();
    const badText = JSON.stringify({ ...bad, x_deep: 0 }).replace('"x_deep":0', `"x_deep":${deepText}`);
    const envs = [{ ...signed(good) }, { id: bad.id, version: bad.modified, origin: 'x', path: ['x'], creator: null, recipients: [], signature: 'AAAA' }];
    const r = await post(`/api1/collections/${local.id}/objects/`, `{"objects":[${JSON.stringify(good)},${badText}],"x_shieldwall_envelopes":${JSON.stringify(envs)}}`, 'application/taxii+json;version=2.1');
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ success_count: 1, failure_count: 1, failures: [{ id: bad.id, message: expect.stringMatching(/nesting deeper than 32 levels/) }] });
  });

  it('retractions, records and record actions nested past any sense are refused with a 4xx or a refusal, never a 500', async () => {
    const retraction = `{"collection":"${local.id}","retractions":[{"type":"x-shieldwall-retraction","id":"indicator--${crypto.randomUUID()}","version":"2025-01-01T00:00:00.000Z","digest":${deepText},"origin":"x","signature":"AAAA","path":["x"],"retracted":"2026-01-01T00:00:00.000Z"}]}`;
    const record = `{"node":"x","records":[{"record":{"type":"x-shieldwall-record","id":"incident--${crypto.randomUUID()}","kind":"incident","body":${deepText}},"origin":"x","creator":"${admin.row.id}","recipients":[],"signature":"AAAA","path":["x"]}]}`;
    const action = `{"node":"x","body":{"record":"incident--1","action":${deepText}},"signature":"AAAA"}`;
    const answers: Record<string, { status: number; body: Record<string, unknown> }> = {};
    for (const [url, body] of [['/api/v1/federation/retractions', retraction], ['/api/v1/federation/records', record], ['/api/v1/federation/records/actions', action]] as const) {
      const r = await post(url, body);
      answers[url] = r;
      expect(r.status, `${url}: ${JSON.stringify(r.body).slice(0, 300)}`).toBeLessThan(500);
      expect(JSON.stringify(r.body)).not.toMatch(/call stack|internal/i);
    }
    // The record is well-formed up to its signature: refused for its size, not verified.
    expect(answers['/api/v1/federation/records']!.body).toMatchObject({ results: [{ status: 'rejected', message: expect.stringMatching(/over the size limits of this node: body.*nesting deeper than 32 levels/) }] });
  });
});
