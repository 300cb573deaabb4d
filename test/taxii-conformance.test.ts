/**
 * TAXII 2.1 conformance of the server, item by item from the checklist
 * (../shared/reference/taxii-2.1-conformance.md, drawn from the OASIS TAXII 2.1 standard):
 * socketless through app.inject, on a real SQLite store, fixtures built with the services.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../src/api/index.js';
import { ManualClock } from '../src/core/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { assertValidAgainstOasis } from './helpers/stix-schema.js';
import {
  PASSWORD, ROOT, T0, TAXII, basic, bearer, buildApp, indicator, makeCollection, makeOrg, makePlatform, malware, submit, taxii, tmpDir, type Get, type Org,
} from './taxii-fixtures.js';

const R = `/${ROOT}`;
let p: Platform;
let app: FastifyInstance;
let clock: ManualClock;
let A: Org, B: Org, C: Org, D: Org, E: Org;
let main: { id: string };
let other: { id: string };
let empty: { id: string };
const multi = { id: '', v: ['2025-06-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z'] };
const seeded: Record<string, unknown>[] = [];

/** Every error body is a TAXII error message (§3.6.1) with http_status equal to the status. */
function expectTaxiiError(r: Get, status: number): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers['content-type']).toBe(TAXII);
  expect(typeof r.body.title).toBe('string');
  expect(r.body.http_status).toBe(String(status));
}

function expectOk(r: Get, status = 200): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers['content-type']).toBe(TAXII);
}

const get = (url: string, who: Org = A, headers?: Record<string, string>) => taxii(app, 'GET', url, { auth: bearer(who.token), ...(headers ? { headers } : {}) });
const objectsUrl = (cid = main.id) => `${R}/collections/${cid}/objects/`;
const manifestUrl = (cid = main.id) => `${R}/collections/${cid}/manifest/`;

beforeAll(async () => {
  clock = new ManualClock(T0);
  p = await makePlatform({ clock });
  app = await buildApp(p, { logger: false });
  A = await makeOrg(p, 'A');
  B = await makeOrg(p, 'B');
  C = await makeOrg(p, 'C'); // write only
  D = await makeOrg(p, 'D'); // nothing
  E = await makeOrg(p, 'E'); // read only
  main = await makeCollection(p, 'Main', [[A.row.id, { canRead: true, canWrite: true }], [B.row.id, { canRead: true, canWrite: true }],
    [C.row.id, { canRead: false, canWrite: true }], [E.row.id, { canRead: true, canWrite: false }]], 'main');
  other = await makeCollection(p, 'Other', [[A.row.id, { canRead: true, canWrite: true }]]);
  empty = await makeCollection(p, 'Empty', [[A.row.id, { canRead: true, canWrite: true }]]);
  // Seed: 6 green indicators, one malware, one object with three versions (one submit each).
  for (let i = 0; i < 6; i++) seeded.push(indicator({ tlp: 'green', name: `seed ${i}` }));
  seeded.push(malware('BlackEnergy'));
  await submit(p, A, main.id, seeded);
  const first = indicator({ tlp: 'green', created: multi.v[0]!, modified: multi.v[0]! });
  multi.id = first.id as string;
  await submit(p, A, main.id, [first]);
  await submit(p, A, main.id, [{ ...first, modified: multi.v[1] }]);
  await submit(p, A, main.id, [{ ...first, modified: multi.v[2] }]);
  await submit(p, A, other.id, [indicator({ tlp: 'clear' })]);
});

afterAll(async () => {
  await app.close();
  await p.close();
});

describe('discovery and API root (§4.1, §4.2)', () => {
  it('serves discovery at /taxii2/ with api_roots and a default among them', async () => {
    const r = await get('/taxii2/');
    expectOk(r);
    expect(typeof r.body.title).toBe('string');
    expect(r.body.api_roots).toEqual([`/${ROOT}/`]);
    expect(r.body.api_roots).toContain(r.body.default);
  });

  it('API root lists TAXII 2.1 in versions and max_content_length in octets', async () => {
    const r = await get(`${R}/`);
    expectOk(r);
    expect(typeof r.body.title).toBe('string');
    expect(r.body.versions).toContain(TAXII);
    expect(r.body.max_content_length).toBe(p.config.maxContentLength);
  });

  it('request paths without the trailing slash are not TAXII endpoints (§3.1)', async () => {
    expectTaxiiError(await get(`${R}/collections`), 404);
  });
});

describe('authentication (§1.6.9, §8.2.2)', () => {
  it('401 with WWW-Authenticate without credentials', async () => {
    const r = await taxii(app, 'GET', '/taxii2/');
    expectTaxiiError(r, 401);
    expect(String(r.headers['www-authenticate'])).toMatch(/Basic/);
  });

  it('Basic user:password, Basic user:token and Bearer token all work', async () => {
    expectOk(await taxii(app, 'GET', `${R}/collections/`, { auth: basic(A.user, PASSWORD) }));
    expectOk(await taxii(app, 'GET', `${R}/collections/`, { auth: basic(A.user, A.token) }));
    expectOk(await taxii(app, 'GET', `${R}/collections/`, { auth: bearer(A.token) }));
  });

  it('wrong password, wrong token, a token under another username, unknown scheme → 401', async () => {
    for (const auth of [basic(A.user, 'wrong password!!'), bearer(`${A.token}x`), basic(B.user, A.token), 'Digest abc', basic('nobody', PASSWORD), 'Basic !!!']) {
      const r = await taxii(app, 'GET', `${R}/collections/`, { auth });
      expectTaxiiError(r, 401);
      expect(r.headers['www-authenticate']).toBeTruthy();
    }
  });

  it('expired and revoked tokens → 401', async () => {
    // Tokens of A's user: a token without a user has no role and may not read (docs/security.md "Permissions").
    const userId = A.principal.userId;
    const short = await p.access.createToken(SYSTEM_ACTOR, { orgId: A.row.id, userId, kind: 'api', name: 'short', ttlMs: 60_000 });
    expectOk(await get(`${R}/collections/`, { ...A, token: short.token }));
    clock.advance(61_000);
    expectTaxiiError(await get(`${R}/collections/`, { ...A, token: short.token }), 401);
    const rev = await p.access.createToken(SYSTEM_ACTOR, { orgId: A.row.id, userId, kind: 'api', name: 'revoked' });
    expectOk(await get(`${R}/collections/`, { ...A, token: rev.token }));
    await p.access.revokeToken(SYSTEM_ACTOR, rev.row.id);
    expectTaxiiError(await get(`${R}/collections/`, { ...A, token: rev.token }), 401);
  });
});

describe('media types (§1.6.8, §3.1)', () => {
  it('406 on an Accept without the TAXII media type, or asking for version 2.0', async () => {
    for (const accept of ['application/json', 'application/taxii+json;version=2.0', 'text/html', 'application/stix+json;version=2.1']) {
      expectTaxiiError(await get(`${R}/`, A, { accept }), 406);
    }
  });

  it('accepts application/taxii+json without a version, and among several ranges', async () => {
    expectOk(await get(`${R}/`, A, { accept: 'application/taxii+json' }));
    expectOk(await get(`${R}/`, A, { accept: 'application/json, application/taxii+json;version=2.1' }));
    // Parameter values may be quoted, and carry q-values (RFC 9110 §5.6.6, §12.5.1).
    expectOk(await get(`${R}/`, A, { accept: 'application/taxii+json; version="2.1"' }));
    expectOk(await get(`${R}/`, A, { accept: 'application/taxii+json;version=2.1;q=0.9, */*;q=0.1' }));
    expectTaxiiError(await get(`${R}/`, A, { accept: 'application/taxii+json; version="2.0"' }), 406);
  });

  it('a quoted version and a charset in the Content-Type are accepted', async () => {
    for (const ct of ['application/taxii+json; version="2.1"', 'application/taxii+json;version=2.1; charset=utf-8', 'application/taxii+json']) {
      const r = await taxii(app, 'POST', objectsUrl(other.id), { auth: bearer(A.token), body: { objects: [indicator({ tlp: 'green' })] }, headers: { 'content-type': ct } });
      expectOk(r, 202);
    }
  });

  it('415 on a POST whose Content-Type is not TAXII 2.1', async () => {
    for (const ct of ['application/json', 'application/taxii+json;version=2.0', 'application/stix+json;version=2.1']) {
      const r = await taxii(app, 'POST', objectsUrl(), { auth: bearer(A.token), body: { objects: [indicator({ tlp: 'green' })] }, headers: { 'content-type': ct } });
      expectTaxiiError(r, 415);
    }
  });

  it('answers without a User-Agent (§3.2)', async () => {
    const res = await app.inject({ method: 'GET', url: `${R}/`, headers: { accept: TAXII, authorization: bearer(A.token) } });
    expect(res.headers['user-agent']).toBeUndefined();
    expect(res.statusCode).toBe(200);
  });
});

describe('collections (§5.1, §5.2)', () => {
  it('lists the readable or writable collections in a stable order with the resource fields', async () => {
    const r1 = await get(`${R}/collections/`);
    const r2 = await get(`${R}/collections/`);
    expectOk(r1);
    const list = r1.body.collections as Record<string, unknown>[];
    expect(list.map((c) => c.id).sort()).toEqual([main.id, other.id, empty.id].sort());
    expect(r2.body).toEqual(r1.body);
    expect(list.find((c) => c.id === main.id)).toMatchObject({ id: main.id, title: 'Main', alias: 'main', can_read: true, can_write: true, media_types: ['application/stix+json;version=2.1'] });
  });

  it('an organisation without rights gets {} (never an empty list)', async () => {
    const r = await get(`${R}/collections/`, D);
    expectOk(r);
    expect(r.body).toEqual({});
  });

  it('one collection: by id or alias; 404 without rights; can_read/can_write reflect the grant', async () => {
    expect((await get(`${R}/collections/${main.id}/`)).body).toMatchObject({ id: main.id, can_read: true, can_write: true });
    expect((await get(`${R}/collections/main/`)).body).toMatchObject({ id: main.id });
    expectTaxiiError(await get(`${R}/collections/${main.id}/`, D), 404);
    expectTaxiiError(await get(`${R}/collections/${crypto.randomUUID()}/`), 404);
    expect((await get(`${R}/collections/${main.id}/`, C)).body).toMatchObject({ can_read: false, can_write: true });
    expect((await get(`${R}/collections/${main.id}/`, E)).body).toMatchObject({ can_read: true, can_write: false });
  });

  it('403 with only the other right; 404 with none, on every endpoint', async () => {
    for (const url of [objectsUrl(), manifestUrl(), `${objectsUrl()}${multi.id}/`, `${objectsUrl()}${multi.id}/versions/`]) {
      expectTaxiiError(await get(url, C), 403);
      expectTaxiiError(await get(url, D), 404);
    }
    const post = (who: Org) => taxii(app, 'POST', objectsUrl(), { auth: bearer(who.token), body: { objects: [indicator({ tlp: 'green' })] } });
    expectTaxiiError(await post(E), 403);
    expectTaxiiError(await post(D), 404);
  });
});

type Entry = { id: string; date_added: string; version: string; media_type?: string };
const entries = (r: Get) => (r.body.objects ?? []) as Entry[];
const objs = (r: Get) => (r.body.objects ?? []) as Record<string, unknown>[];

/** Follows `next` with the same filters until `more` is gone; returns every page. */
async function allPages(url: string, who: Org = A): Promise<Get[]> {
  const pages: Get[] = [];
  let next: string | undefined;
  for (let i = 0; i < 100; i++) {
    const sep = url.includes('?') ? '&' : '?';
    const r = await get(next ? `${url}${sep}next=${encodeURIComponent(next)}` : url, who);
    expectOk(r);
    pages.push(r);
    if (!r.body.more) return pages;
    expect(typeof r.body.next).toBe('string');
    next = r.body.next as string;
  }
  throw new Error('pagination did not end');
}

describe('manifest and objects (§5.3, §5.4)', () => {
  it('manifest entries ascend by date_added, carry version and media type; headers match first/last', async () => {
    const r = await get(manifestUrl());
    expectOk(r);
    const list = entries(r);
    expect(list).toHaveLength(seeded.length + 1);
    const dates = list.map((e) => e.date_added);
    expect([...dates].sort()).toEqual(dates);
    for (const d of dates) expect(d).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(new Set(list.map((e) => e.id)).size).toBe(list.length);
    expect(list.every((e) => e.media_type === 'application/stix+json;version=2.1')).toBe(true);
    expect(list.find((e) => e.id === multi.id)?.version).toBe(multi.v[2]);
    expect(r.headers['x-taxii-date-added-first']).toBe(dates[0]);
    expect(r.headers['x-taxii-date-added-last']).toBe(dates[dates.length - 1]);
  });

  it('objects come in an envelope, ascending, same order as the manifest, valid against the OASIS schemas', async () => {
    const r = await get(objectsUrl());
    expectOk(r);
    const m = entries(await get(manifestUrl()));
    expect(objs(r).map((o) => o.id)).toEqual(m.map((e) => e.id));
    for (const o of objs(r)) assertValidAgainstOasis(o);
    expect(r.headers['x-taxii-date-added-first']).toBe(m[0]!.date_added);
    expect(r.headers['x-taxii-date-added-last']).toBe(m[m.length - 1]!.date_added);
    expect(r.body.more).toBeUndefined();
    expect(r.body.next).toBeUndefined();
  });

  it('an empty result is the empty envelope {} without the date headers', async () => {
    for (const url of [objectsUrl(empty.id), manifestUrl(empty.id), `${objectsUrl()}?match[type]=campaign`, `${manifestUrl()}?match[spec_version]=2.0`]) {
      const r = await get(url);
      expectOk(r);
      expect(r.body).toEqual({});
      expect(r.headers['x-taxii-date-added-first']).toBeUndefined();
    }
  });

  it('added_after relates to date_added only and is exclusive', async () => {
    const m = entries(await get(manifestUrl()));
    const cut = m[2]!.date_added;
    const r = await get(`${manifestUrl()}?added_after=${cut}`);
    expect(entries(r).map((e) => e.id)).toEqual(m.slice(3).map((e) => e.id));
    // A time before everything returns everything; after everything returns {}.
    expect(entries(await get(`${manifestUrl()}?added_after=2000-01-01T00:00:00Z`))).toHaveLength(m.length);
    expect((await get(`${manifestUrl()}?added_after=2999-01-01T00:00:00.000000Z`)).body).toEqual({});
  });

  it('match[id], match[type] (ORed within, ANDed across)', async () => {
    const ids = [seeded[0]!.id, seeded[6]!.id] as string[];
    expect(objs(await get(`${objectsUrl()}?match[id]=${ids.join(',')}`)).map((o) => o.id).sort()).toEqual([...ids].sort());
    expect(objs(await get(`${objectsUrl()}?match[type]=malware`)).map((o) => o.id)).toEqual([seeded[6]!.id]);
    expect(objs(await get(`${objectsUrl()}?match[type]=malware,indicator`))).toHaveLength(seeded.length + 1);
    expect(objs(await get(`${objectsUrl()}?match[type]=indicator&match[id]=${ids.join(',')}`)).map((o) => o.id)).toEqual([ids[0]]);
    // Unknown match fields may be ignored (§3.4).
    expect(objs(await get(`${objectsUrl()}?match[x_unknown]=1`))).toHaveLength(seeded.length + 1);
  });

  it('match[version]: last is the default; first, all, exact timestamps and combinations', async () => {
    const v = async (q: string) => objs(await get(`${objectsUrl()}?match[id]=${multi.id}${q}`)).map((o) => o.modified);
    expect(await v('')).toEqual([multi.v[2]]);
    expect(await v('&match[version]=last')).toEqual([multi.v[2]]);
    expect(await v('&match[version]=first')).toEqual([multi.v[0]]);
    expect(await v('&match[version]=all')).toEqual(multi.v);
    expect(await v(`&match[version]=${multi.v[1]}`)).toEqual([multi.v[1]]);
    expect(await v(`&match[version]=${multi.v[0]},${multi.v[2]}`)).toEqual([multi.v[0], multi.v[2]]);
    expect(await v('&match[version]=first,last')).toEqual([multi.v[0], multi.v[2]]);
    expect(await v(`&match[version]=last,${multi.v[1]}`)).toEqual([multi.v[1], multi.v[2]]);
    expect(await v('&match[version]=2020-01-01T00:00:00.000Z')).toEqual([]);
    // The manifest applies the same filters (§5.3).
    const m = entries(await get(`${manifestUrl()}?match[id]=${multi.id}&match[version]=all`));
    expect(m.map((e) => e.version)).toEqual(multi.v);
  });

  it('match[spec_version]: 2.1 keeps everything, other versions exclude', async () => {
    expect(objs(await get(`${objectsUrl()}?match[spec_version]=2.1`))).toHaveLength(seeded.length + 1);
    expect(objs(await get(`${objectsUrl()}?match[spec_version]=2.0,2.1`))).toHaveLength(seeded.length + 1);
    expect((await get(`${objectsUrl()}?match[spec_version]=2.0`)).body).toEqual({});
  });

  it('limit: never more than asked; more:true and next; following next gives everything once', async () => {
    const full = entries(await get(manifestUrl())).map((e) => e.id);
    for (const path of [manifestUrl(), objectsUrl()]) {
      const pages = await allPages(`${path}?limit=3`);
      expect(pages.length).toBe(Math.ceil(full.length / 3));
      for (const pg of pages) expect(objs(pg).length).toBeLessThanOrEqual(3);
      expect(pages[0]!.body.more).toBe(true);
      expect(pages.flatMap((pg) => objs(pg).map((o) => o.id))).toEqual(full);
      for (const pg of pages) {
        const list = objs(pg);
        const m = entries(await get(`${manifestUrl()}?match[id]=${list.map((o) => o.id).join(',')}`));
        expect(pg.headers['x-taxii-date-added-first']).toBe(m[0]!.date_added);
        expect(pg.headers['x-taxii-date-added-last']).toBe(m[m.length - 1]!.date_added);
      }
    }
  });

  it('when everything fits in the limit, all of it is returned without more', async () => {
    const r = await get(`${objectsUrl()}?limit=${seeded.length + 1}`);
    expect(objs(r)).toHaveLength(seeded.length + 1);
    expect(r.body.more).toBeUndefined();
  });

  it('the added_after = X-TAXII-Date-Added-Last fallback walks the same pages', async () => {
    const full = entries(await get(manifestUrl())).map((e) => e.id);
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await get(`${objectsUrl()}?limit=2${after ? `&added_after=${after}` : ''}`);
      seen.push(...objs(r).map((o) => o.id as string));
      if (!r.body.more) break;
      after = r.headers['x-taxii-date-added-last'] as string;
    }
    expect(seen).toEqual(full);
  });
});

describe('object and versions (§5.6, §5.8)', () => {
  const one = () => `${objectsUrl()}${multi.id}/`;

  it('get an object: an envelope with the last version by default; match[version] and spec_version apply', async () => {
    const r = await get(one());
    expectOk(r);
    expect(objs(r).map((o) => o.modified)).toEqual([multi.v[2]]);
    expect(r.headers['x-taxii-date-added-first']).toBeTruthy();
    expect(objs(await get(`${one()}?match[version]=all`)).map((o) => o.modified)).toEqual(multi.v);
    expect(objs(await get(`${one()}?match[version]=first`)).map((o) => o.modified)).toEqual([multi.v[0]]);
    const paged = await allPages(`${one()}?match[version]=all&limit=1`);
    expect(paged.flatMap((pg) => objs(pg).map((o) => o.modified))).toEqual(multi.v);
  });

  it('unknown object → 404; match[id]/match[type] are not filters of this endpoint → 400', async () => {
    expectTaxiiError(await get(`${objectsUrl()}indicator--${crypto.randomUUID()}/`), 404);
    expectTaxiiError(await get(`${one()}?match[type]=indicator`), 400);
  });

  it('versions: ascending list of version strings with headers, limit/next, spec_version', async () => {
    const r = await get(`${one()}versions/`);
    expectOk(r);
    expect(r.body.versions).toEqual(multi.v);
    expect(r.headers['x-taxii-date-added-last']).toBeTruthy();
    const pages = await allPages(`${one()}versions/?limit=2`);
    expect(pages.flatMap((pg) => pg.body.versions as string[])).toEqual(multi.v);
    // Filters that exclude every version of the object: it is "not found" for this request.
    expectTaxiiError(await get(`${one()}versions/?match[spec_version]=2.0`), 404);
    expectTaxiiError(await get(`${objectsUrl()}indicator--${crypto.randomUUID()}/versions/`), 404);
    expectTaxiiError(await get(`${one()}versions/?match[version]=all`), 400);
  });
});

describe('malformed filters → 400 (§3.4)', () => {
  const cases = [
    'limit=0', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=', 'limit=1&limit=2',
    'added_after=yesterday', 'added_after=2026-13-01T00:00:00Z', 'added_after=2026-01-01', 'added_after=2026-01-01T00:00:00Z&added_after=2026-01-02T00:00:00Z',
    'match[version]=all,last', 'match[version]=last,last', 'match[version]=first,first', 'match[version]=newest',
    'match[version]=2025-06-01T00:00:00.000Z,2025-06-01T00:00:00Z', 'match[version]=2025-02-30T00:00:00Z',
    'match[id]=not-an-id', 'match[id]=indicator--1234', 'match[type]=Indicator', 'match[type]=indicator,,malware', 'match[type]=indicator, malware',
    'match[type]=malware,malware', 'match[spec_version]=two', 'match[spec_version]=2.1,2.1', 'match[type]=a&match[type]=b', 'next=',
  ];
  it.each(cases)('%s', async (q) => {
    expectTaxiiError(await get(`${objectsUrl()}?${q}`), 400);
  });

  it('duplicate ids in match[id] → 400', async () => {
    expectTaxiiError(await get(`${objectsUrl()}?match[id]=${multi.id},${multi.id}`), 400);
  });
});

describe('add objects and status (§5.5, §4.3)', () => {
  const post = (body: unknown, who: Org = B, cid = main.id) => taxii(app, 'POST', objectsUrl(cid), { auth: bearer(who.token), body });

  it('202 with a complete status resource; the status can be read back by the poster only', async () => {
    const objs2 = [indicator({ tlp: 'green' }), malware('Industroyer', 'clear')];
    const r = await post({ objects: objs2 });
    expectOk(r, 202);
    const st = r.body;
    expect(st).toMatchObject({ status: 'complete', total_count: 2, success_count: 2, failure_count: 0, pending_count: 0 });
    expect(st.request_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect((st.successes as { id: string; version: string }[]).map((s) => s.id)).toEqual(objs2.map((o) => o.id));
    // §4.3.1: each version echoed as the object carries it, not reformatted to microseconds.
    expect((st.successes as { version: string }[]).map((s) => s.version)).toEqual(objs2.map((o) => o.modified));
    const back = await get(`${R}/status/${String(st.id)}/`, B);
    expectOk(back);
    expect(back.body).toEqual(st);
    expectTaxiiError(await get(`${R}/status/${String(st.id)}/`, A), 404);
    expectTaxiiError(await get(`${R}/status/${crypto.randomUUID()}/`, B), 404);
    // The posted objects are readable exactly as posted: the poster is a policy fact, not an edit (no created_by_ref added).
    const got = objs(await get(`${objectsUrl()}${String(objs2[0]!.id)}/`, A));
    expect(got[0]).toEqual(objs2[0]);
  });

  it('an exact duplicate is not an error; invalid objects are listed as failures without stopping the rest', async () => {
    const o = indicator({ tlp: 'green' });
    expectOk(await post({ objects: [o] }), 202);
    const bad = { type: 'indicator', id: `indicator--${crypto.randomUUID()}`, spec_version: '2.1' };
    const badDated: Record<string, unknown> = { ...indicator({ tlp: 'green' }), modified: '2025-06-02T00:00:00Z', pattern: '[broken' };
    const undated: Record<string, unknown> = { ...indicator({ tlp: 'green' }), modified: 'yesterday' };
    const r = await post({ objects: [o, bad, indicator({ tlp: 'green' }), badDated, undated] });
    expectOk(r, 202);
    expect(r.body).toMatchObject({ total_count: 5, success_count: 2, failure_count: 3, pending_count: 0 });
    const failures = r.body.failures as { id: string; version: string; message: string }[];
    expect(failures.map((f) => f.id)).toEqual([bad.id, badDated.id, undated.id]);
    for (const f of failures) expect(f.message.length).toBeGreaterThan(0);
    // §4.3.1: version (a timestamp) is required on every status detail: as submitted, else the
    // request time (also for a `modified` that is no timestamp: it is not echoed as a version).
    expect(failures.map((f) => f.version)).toEqual([r.body.request_timestamp, '2025-06-02T00:00:00Z', r.body.request_timestamp]);
    expect((r.body.successes as { version: string }[])[0]!.version).toBe(o.modified);
    expectTaxiiError(await get(`${objectsUrl()}${bad.id}/`, B), 404);
  });

  it('another organisation may not add versions of an object it did not create', async () => {
    const r = await post({ objects: [{ ...seeded[0], modified: '2026-01-01T00:00:00.000Z' }] }, B);
    expect(r.body).toMatchObject({ success_count: 0, failure_count: 1 });
  });

  it('422 for a malformed envelope, 400 for malformed JSON', async () => {
    for (const body of [[], {}, { objects: [] }, { objects: 'x' }, { objects: {} }, 'null', '42']) {
      expectTaxiiError(await post(body), 422);
    }
    expectTaxiiError(await post('{"objects": ['), 400);
  });

  it('413 over max_content_length; a body just under it is accepted', async () => {
    const small = await makePlatform({ env: { SHIELDWALL_MAX_CONTENT_LENGTH: '4096' } });
    const smallApp = await buildApp(small, { logger: false });
    try {
      const W = await makeOrg(small, 'W');
      const c = await makeCollection(small, 'Small', [[W.row.id, { canRead: true, canWrite: true }]]);
      const api = await taxii(smallApp, 'GET', `${R}/`, { auth: bearer(W.token) });
      expect(api.body.max_content_length).toBe(4096);
      const under = JSON.stringify({ objects: [indicator({ tlp: 'green' })] });
      expect(Buffer.byteLength(under)).toBeLessThan(4096);
      expectOk(await taxii(smallApp, 'POST', objectsUrl(c.id), { auth: bearer(W.token), body: under }), 202);
      const over = JSON.stringify({ objects: Array.from({ length: 20 }, () => indicator({ tlp: 'green' })) });
      expect(Buffer.byteLength(over)).toBeGreaterThan(4096);
      expectTaxiiError(await taxii(smallApp, 'POST', objectsUrl(c.id), { auth: bearer(W.token), body: over }), 413);
    } finally {
      await smallApp.close();
      await small.close();
    }
  });
});

describe('delete an object (§5.7)', () => {
  const del = (id: string, who: Org, q = '') => taxii(app, 'DELETE', `${objectsUrl()}${id}/${q}`, { auth: bearer(who.token) });

  it('rights table: neither right → 404, one right → 403; only the creator may delete', async () => {
    const o = indicator({ tlp: 'green' });
    await submit(p, A, main.id, [o]);
    expectTaxiiError(await del(o.id as string, D), 404);
    expectTaxiiError(await del(o.id as string, C), 403);
    expectTaxiiError(await del(o.id as string, E), 403);
    expectTaxiiError(await del(o.id as string, B), 403);
    expectTaxiiError(await del(`indicator--${crypto.randomUUID()}`, A), 404);
    const r = await del(o.id as string, A);
    expectOk(r);
    expectTaxiiError(await get(`${objectsUrl()}${String(o.id)}/`), 404);
    expectTaxiiError(await get(`${objectsUrl()}${String(o.id)}/versions/`), 404);
    expect(entries(await get(manifestUrl())).some((e) => e.id === o.id)).toBe(false);
    expect(objs(await get(objectsUrl())).some((e) => e.id === o.id)).toBe(false);
  });

  it('match[version] deletes one version; the others stay', async () => {
    const v1 = indicator({ tlp: 'green', created: '2025-01-01T00:00:00.000Z' });
    const v2 = { ...v1, modified: '2025-02-01T00:00:00.000Z' };
    await submit(p, A, main.id, [v1]);
    await submit(p, A, main.id, [v2]);
    expectOk(await del(v1.id as string, A, `?match[version]=${String(v2.modified)}`));
    const left = await get(`${objectsUrl()}${String(v1.id)}/versions/`);
    expect(left.body.versions).toEqual(['2025-01-01T00:00:00.000Z']);
    expectTaxiiError(await get(`${objectsUrl()}${String(v1.id)}/?match[version]=${String(v2.modified)}`), 404);
    expectTaxiiError(await del(v1.id as string, A, '?match[type]=indicator'), 400);
  });

  it('without match[version] deletes every version, so the object is gone', async () => {
    const v1 = indicator({ tlp: 'green', created: '2025-03-01T00:00:00.000Z' });
    const v2 = { ...v1, modified: '2025-04-01T00:00:00.000Z' };
    await submit(p, A, main.id, [v1, v2]);
    expectOk(await del(v1.id as string, A));
    expectTaxiiError(await get(`${objectsUrl()}${String(v1.id)}/`), 404);
    expectTaxiiError(await get(`${objectsUrl()}${String(v1.id)}/versions/`), 404);
  });
});

describe('next cursors (§3.4, Appendix B)', () => {
  async function firstNext(who: Org, q = ''): Promise<string> {
    const r = await get(`${objectsUrl()}?limit=2${q}`, who);
    expect(r.body.more).toBe(true);
    return r.body.next as string;
  }

  it('a tampered cursor → 400', async () => {
    const next = await firstNext(A);
    const [payload, mac] = next.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace(/^1/, '2')).toString('base64url');
    for (const bad of [`${forged}.${mac}`, `${payload}.${mac.slice(0, -2)}AA`, 'garbage', `${payload}`, `${next}x`]) {
      expectTaxiiError(await get(`${objectsUrl()}?limit=2&next=${encodeURIComponent(bad)}`), 400);
    }
  });

  it('a cursor issued to another organisation → 400', async () => {
    const next = await firstNext(A);
    expectTaxiiError(await get(`${objectsUrl()}?limit=2&next=${encodeURIComponent(next)}`, B), 400);
  });

  it('a cursor with other filters, another endpoint or another collection → 400; a different limit is fine', async () => {
    const next = await firstNext(A);
    const n = encodeURIComponent(next);
    expectTaxiiError(await get(`${objectsUrl()}?limit=2&match[type]=indicator&next=${n}`), 400);
    expectTaxiiError(await get(`${objectsUrl()}?limit=2&added_after=2000-01-01T00:00:00Z&next=${n}`), 400);
    expectTaxiiError(await get(`${manifestUrl()}?limit=2&next=${n}`), 400);
    expectTaxiiError(await get(`${objectsUrl(other.id)}?limit=2&next=${n}`), 400);
    expectOk(await get(`${objectsUrl()}?limit=5&next=${n}`));
  });
});

describe('cursors survive a restart on the same SQLite file', () => {
  it('a next token issued before a restart pages on after it; another node refuses it', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'node.db');
    const p1 = await makePlatform({ file });
    const app1 = await buildApp(p1, { logger: false });
    const W = await makeOrg(p1, 'W');
    const c = await makeCollection(p1, 'Durable', [[W.row.id, { canRead: true, canWrite: true }]]);
    const all = Array.from({ length: 5 }, (_, i) => indicator({ tlp: 'amber', name: `durable ${i}` }));
    await submit(p1, W, c.id, all);
    const r1 = await taxii(app1, 'GET', `${objectsUrl(c.id)}?limit=2`, { auth: bearer(W.token) });
    const next = r1.body.next as string;
    expect(next).toBeTruthy();
    await app1.close();
    await p1.close();

    const p2 = await makePlatform({ file });
    const app2 = await buildApp(p2, { logger: false });
    const stranger = await makePlatform();
    const strangerApp = await buildApp(stranger, { logger: false });
    try {
      const seen = objs(r1).map((o) => o.id);
      let n: string | undefined = next;
      while (n) {
        const r = await taxii(app2, 'GET', `${objectsUrl(c.id)}?limit=2&next=${encodeURIComponent(n)}`, { auth: bearer(W.token) });
        expectOk(r);
        seen.push(...objs(r).map((o) => o.id));
        n = r.body.more ? (r.body.next as string) : undefined;
      }
      expect(seen).toEqual(all.map((o) => o.id));
      // The same collection id and organisation on another node: its key differs, so the cursor is forged there.
      const W2 = await makeOrg(stranger, 'W');
      await stranger.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'Durable', id: c.id });
      await stranger.access.grantCollection(SYSTEM_ACTOR, c.id, W2.row.id, { canRead: true, canWrite: true });
      expectTaxiiError(await taxii(strangerApp, 'GET', `${objectsUrl(c.id)}?limit=2&next=${encodeURIComponent(next)}`, { auth: bearer(W2.token) }), 400);
    } finally {
      await app2.close();
      await p2.close();
      await strangerApp.close();
      await stranger.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('everything emitted conforms to the OASIS STIX 2.1 schemas', () => {
  it('all versions of all objects in every readable collection', async () => {
    for (const cid of [main.id, other.id]) {
      const pages = await allPages(`${objectsUrl(cid)}?match[version]=all&limit=4`);
      const list = pages.flatMap(objs);
      expect(list.length).toBeGreaterThan(0);
      for (const o of list) assertValidAgainstOasis(o);
    }
  });
});

describe('defaults and server limits (§3.4.1, §3.5)', () => {
  it('a STIX 2.0 object is stored as 2.1 and served by default (latest spec version) and under match[spec_version]=2.1', async () => {
    const id = `indicator--${crypto.randomUUID()}`;
    const legacy = { type: 'indicator', id, created: '2024-01-01T00:00:00Z', modified: '2024-01-01T00:00:00Z', labels: ['malicious-activity'],
      pattern: "[ipv4-addr:value = '192.0.2.7']", valid_from: '2024-01-01T00:00:00Z', object_marking_refs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'] };
    const r = await taxii(app, 'POST', objectsUrl(), { auth: bearer(A.token), body: { objects: [legacy] } });
    expect(r.body).toMatchObject({ success_count: 1 });
    const got = objs(await get(`${objectsUrl()}${id}/`));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ spec_version: '2.1', pattern_type: 'stix' });
    assertValidAgainstOasis(got[0]);
    expect(objs(await get(`${objectsUrl()}?match[id]=${id}&match[spec_version]=2.1`))).toHaveLength(1);
    expect((await get(`${objectsUrl()}?match[id]=${id}&match[spec_version]=2.0`)).body).toEqual({});
  });

  it('the server page size cuts a larger limit: more:true with next, and never more than the server limit', async () => {
    const capped = await makePlatform({ env: { SHIELDWALL_MAX_PAGE_SIZE: '3' } });
    const cappedApp = await buildApp(capped, { logger: false });
    try {
      const W = await makeOrg(capped, 'W');
      const c = await makeCollection(capped, 'Capped', [[W.row.id, { canRead: true, canWrite: true }]]);
      const all = Array.from({ length: 7 }, () => indicator({ tlp: 'green' }));
      await submit(capped, W, c.id, all);
      const seen: unknown[] = [];
      let next: string | undefined;
      for (let i = 0; i < 5; i++) {
        const r = await taxii(cappedApp, 'GET', `${objectsUrl(c.id)}?limit=100${next ? `&next=${encodeURIComponent(next)}` : ''}`, { auth: bearer(W.token) });
        expect(objs(r).length).toBeLessThanOrEqual(3);
        seen.push(...objs(r).map((o) => o.id));
        if (!r.body.more) break;
        next = r.body.next as string;
      }
      expect(seen).toEqual(all.map((o) => o.id));
    } finally {
      await cappedApp.close();
      await capped.close();
    }
  });
});
