/**
 * The TAXII 2.1 client against the real server on a random port (plain HTTP and TLS with a
 * throw-away CA), plus a silent TCP server for timeouts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { TaxiiClient, TaxiiClientError, nextQuery } from '../src/taxii/index.js';
import { assertValidAgainstOasis } from './helpers/stix-schema.js';
import { PASSWORD, ROOT, indicator, makeCollection, makeOrg, makePlatform, malware, submit, tmpDir, type Org } from './taxii-fixtures.js';

/** The TaxiiClientError a call fails with; fails the test when it succeeds. */
async function failure(call: Promise<unknown>): Promise<TaxiiClientError> {
  try {
    await call;
  } catch (e) {
    if (e instanceof TaxiiClientError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

let p: Platform;
let server: RunningServer;
let A: Org, B: Org;
let coll: { id: string };
let client: TaxiiClient;

beforeAll(async () => {
  p = await makePlatform({ env: { SHIELDWALL_PORT: '0' } });
  A = await makeOrg(p, 'A');
  B = await makeOrg(p, 'B');
  coll = await makeCollection(p, 'Shared', [[A.row.id, { canRead: true, canWrite: true }], [B.row.id, { canRead: true, canWrite: false }]], 'shared');
  server = await startServer(p, { logger: false });
  client = new TaxiiClient({ url: server.url, auth: { kind: 'bearer', token: A.token } });
});

afterAll(async () => {
  await client.close();
  await server.close();
  await p.close();
});

describe('TaxiiClient against the Shieldwall server', () => {
  it('discovery, API root, collections and one collection', async () => {
    const d = await client.discovery();
    expect(d.api_roots).toEqual([`/${ROOT}/`]);
    const root = await client.apiRoot(String(d.default));
    expect(root.versions).toContain('application/taxii+json;version=2.1');
    expect(root.max_content_length).toBeGreaterThan(0);
    const list = await client.collections(ROOT);
    expect(list.map((c) => c.id)).toEqual([coll.id]);
    expect(await client.collection(`/${ROOT}/`, 'shared')).toMatchObject({ id: coll.id, can_read: true, can_write: true });
    // An API root given as an absolute URL (as discovery may list them).
    expect((await client.collections(`${server.url}/${ROOT}/`)).length).toBe(1);
  });

  it('adds objects, polls the status, and reads them back with filters and pagination', async () => {
    const objs = [...Array.from({ length: 7 }, (_, i) => indicator({ tlp: 'green', name: `c${i}` })), malware('Sandworm tool')];
    const st = await client.addObjects(ROOT, coll.id, objs);
    expect(st).toMatchObject({ total_count: 8, success_count: 8, failure_count: 0 });
    const done = await client.waitForStatus(ROOT, st, { intervalMs: 10 });
    expect(done.status).toBe('complete');
    expect((await client.status(ROOT, st.id)).id).toBe(st.id);

    const ids: string[] = [];
    let pages = 0;
    for await (const page of client.pages(ROOT, coll.id, { limit: 3 })) {
      pages++;
      expect(page.items.length).toBeLessThanOrEqual(3);
      expect(page.dateAddedFirst).toMatch(/\.\d{6}Z$/);
      for (const o of page.items) assertValidAgainstOasis(o);
      ids.push(...page.items.map((o) => String(o.id)));
    }
    expect(pages).toBe(3);
    expect(ids).toEqual(objs.map((o) => o.id));

    const mal = await client.getObjects(ROOT, coll.id, { match: { type: ['malware'] } });
    expect(mal.items.map((o) => o.id)).toEqual([objs[7]!.id]);
    const man = await client.manifest(ROOT, coll.id, { match: { id: [String(objs[0]!.id), String(objs[1]!.id)] } });
    expect(man.items.map((e) => e.id)).toEqual([objs[0]!.id, objs[1]!.id]);
    const after = await client.getObjects(ROOT, coll.id, { addedAfter: man.items[1]!.date_added });
    expect(after.items.map((o) => o.id)).toEqual(objs.slice(2).map((o) => o.id));
  });

  it('the added_after fallback: more without next continues after X-TAXII-Date-Added-Last', async () => {
    const page1 = await client.getObjects(ROOT, coll.id, { limit: 2, match: { type: ['indicator'] } });
    expect(page1.more).toBe(true);
    // A server that gives no `next`: the client asks again with added_after and the same filters.
    const q = nextQuery({ limit: 2, match: { type: ['indicator'] } }, { ...page1, next: undefined as unknown as string } as typeof page1, server.url);
    expect(q).toEqual({ limit: 2, match: { type: ['indicator'] }, addedAfter: page1.dateAddedLast });
    const page2 = await client.getObjects(ROOT, coll.id, q);
    const viaNext = await client.getObjects(ROOT, coll.id, nextQuery({ limit: 2, match: { type: ['indicator'] } }, page1, server.url));
    expect(page2.items.map((o) => o.id)).toEqual(viaNext.items.map((o) => o.id));
    expect(() => nextQuery({}, { items: [], more: true }, server.url)).toThrow(TaxiiClientError);
  });

  it('one object, its versions, and deletion', async () => {
    const v1 = indicator({ tlp: 'green', created: '2025-01-01T00:00:00.000Z' });
    const v2 = { ...v1, modified: '2025-03-01T00:00:00.000Z' };
    await client.addObjects(ROOT, coll.id, [v1]);
    await client.addObjects(ROOT, coll.id, [v2]);
    const last = await client.getObject(ROOT, coll.id, String(v1.id));
    expect(last.items.map((o) => o.modified)).toEqual([v2.modified]);
    const all = await client.getObject(ROOT, coll.id, String(v1.id), { match: { version: ['all'] } });
    expect(all.items).toHaveLength(2);
    const vs = await client.versions(ROOT, coll.id, String(v1.id));
    expect(vs.items).toEqual(['2025-01-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z']);
    await client.deleteObject(ROOT, coll.id, String(v1.id), { match: { version: ['2025-03-01T00:00:00.000Z'] } });
    expect((await client.versions(ROOT, coll.id, String(v1.id))).items).toEqual(['2025-01-01T00:00:00.000Z']);
    await client.deleteObject(ROOT, coll.id, String(v1.id));
    const gone = await client.getObject(ROOT, coll.id, String(v1.id)).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(TaxiiClientError);
    expect((gone as TaxiiClientError).status).toBe(404);
  });

  it('Basic auth with password or token works; errors carry the TAXII error message', async () => {
    const basic = new TaxiiClient({ url: server.url, auth: { kind: 'basic', username: B.user, password: PASSWORD } });
    const basicToken = new TaxiiClient({ url: server.url, auth: { kind: 'basic', username: B.user, password: B.token } });
    const wrong = new TaxiiClient({ url: server.url, auth: { kind: 'bearer', token: `${B.token}x` } });
    try {
      expect((await basic.collections(ROOT)).map((c) => c.can_write)).toEqual([false]);
      expect((await basicToken.collections(ROOT)).length).toBe(1);
      const denied = await failure(basic.addObjects(ROOT, coll.id, [indicator({ tlp: 'green' })]));
      expect(denied).toBeInstanceOf(TaxiiClientError);
      expect(denied.status).toBe(403);
      expect(denied.taxii).toMatchObject({ title: 'Forbidden', http_status: '403' });
      expect(denied.message).toMatch(/HTTP 403 Forbidden: no write access/);
      const unauth = await failure(wrong.discovery());
      expect(unauth.status).toBe(401);
      expect(unauth.taxii?.http_status).toBe('401');
      const bad = await failure(client.getObjects(ROOT, coll.id, { limit: 0 }));
      expect(bad.status).toBe(400);
      expect(bad.message).toMatch(/limit/);
    } finally {
      await Promise.all([basic.close(), basicToken.close(), wrong.close()]);
    }
  });

  it('connection refused, timeouts and aborts are clear errors', async () => {
    const silent = net.createServer(() => { /* accept and never answer */ });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const slow = new TaxiiClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 200 });
    try {
      const t = await failure(slow.discovery());
      expect(t).toBeInstanceOf(TaxiiClientError);
      expect(t.status).toBeNull();
      expect(t.message).toMatch(/no answer within 200 ms/);
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('stop')), 50);
      const a = await failure(new TaxiiClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 }).discovery({ signal: ac.signal }));
      expect(a.message).toMatch(/aborted/);
    } finally {
      await slow.close();
      silent.close();
    }
    const closedPort = await new Promise<number>((r) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const pt = (s.address() as net.AddressInfo).port;
        s.close(() => r(pt));
      });
    });
    const refused = await failure(new TaxiiClient({ url: `http://127.0.0.1:${closedPort}` }).discovery());
    expect(refused).toBeInstanceOf(TaxiiClientError);
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });
});

describe('TaxiiClient over TLS with a custom CA', () => {
  it('trusts the given CA, refuses the server without it', async () => {
    const dir = tmpDir('sw-tls-');
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const tp = await makePlatform({ env: { SHIELDWALL_PORT: '0', SHIELDWALL_TLS_CERT: cert, SHIELDWALL_TLS_KEY: key } });
    const W = await makeOrg(tp, 'W');
    const c = await makeCollection(tp, 'TLS', [[W.row.id, { canRead: true, canWrite: true }]]);
    await submit(tp, W, c.id, [indicator({ tlp: 'clear' })]);
    const s = await startServer(tp, { logger: false });
    expect(s.url).toMatch(/^https:/);
    const trusted = new TaxiiClient({ url: s.url, auth: { kind: 'bearer', token: W.token }, tls: { ca: fs.readFileSync(cert) } });
    const untrusted = new TaxiiClient({ url: s.url, auth: { kind: 'bearer', token: W.token } });
    try {
      expect((await trusted.getObjects(ROOT, c.id)).items).toHaveLength(1);
      const e = await failure(untrusted.discovery());
      expect(e).toBeInstanceOf(TaxiiClientError);
      expect(e.status).toBeNull();
      expect(e.message).toMatch(/certificate/i);
    } finally {
      await Promise.all([trusted.close(), untrusted.close()]);
      await s.close();
      await tp.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
