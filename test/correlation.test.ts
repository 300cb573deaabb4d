/**
 * Correlation and warninglists over HTTP (the platform's app): links only for readers who may
 * see both objects, the per-value cap, exclusions, MISP warninglist import (and refusals),
 * matching of every warninglist type, and incremental indexing of objects written after start
 * (through the service, and by another process through the store).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { timestampKey } from '../src/core/time.js';
import { Correlations, IntelService, Warninglists } from '../src/intel/index.js';
import { expectError, http, indicator, makeAlliance, sdo, submitAs, type Alliance, type Answer, type Stix } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;

const ipIndicator = (ip: string, name = `ind ${ip}`): Stix => indicator(name, { pattern: `[ipv4-addr:value = '${ip}']` });
const corr = async (user: string, id: unknown): Promise<Answer> => {
  await al.platform.correlations.idle();
  return h.get(user, `/api/v1/objects/${String(id)}/correlations`);
};
const linkIds = (a: Answer, value?: string): string[] => {
  expect(a.status, a.body).toBe(200);
  const vals = (a.json().values as { value: string; links: { id: string }[] }[]).filter((v) => value === undefined || v.value === value);
  return vals.flatMap((v) => v.links.map((l) => l.id)).sort();
};
const send = (method: 'POST' | 'PATCH' | 'DELETE', user: string, url: string, body?: unknown) => sendRaw({ method, user, url, body });
const sendRaw = ({ method, user, url, body, raw }: { method: 'POST' | 'PATCH' | 'DELETE'; user: string; url: string; body?: unknown; raw?: string }) =>
  al.app.inject({
    method, url, headers: { authorization: `Bearer ${al.tokens[user]!}`, ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(raw !== undefined ? { payload: raw } : body !== undefined ? { payload: JSON.stringify(body) } : {}),
  }).then((r): Answer => ({ status: r.statusCode, headers: r.headers, body: r.body, json: () => JSON.parse(r.body) }));

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
});
afterAll(async () => {
  await al.close();
});

describe('correlation after a deletion', () => {
  it('lets the older version left speak for the object once its latest version is deleted, and drops the object when nothing is left', async () => {
    const ipOld = '45.77.99.1';
    const ipNew = '45.77.99.2';
    const v1 = indicator('A, two versions', { pattern: `[ipv4-addr:value = '${ipOld}']`, modified: '2026-02-01T08:00:00.000Z' });
    const v2 = { ...v1, pattern: `[ipv4-addr:value = '${ipNew}']`, modified: '2026-02-02T08:00:00.000Z' };
    const other = ipIndicator(ipOld, 'B, same address as A\'s first version');
    await submitAs(al, 'a-analyst', al.shared, { objects: [v1], defaultTlp: 'green' });
    await submitAs(al, 'a-analyst', al.shared, { objects: [v2], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [other], defaultTlp: 'green' });
    expect(linkIds(await corr('b-analyst', other.id), ipOld)).toEqual([]); // A's object says ipNew now
    expect(await al.platform.intel.deleteVersions(al.shared, v1.id as string, [timestampKey('2026-02-02T08:00:00.000Z')!])).toBe(1);
    expect(linkIds(await corr('b-analyst', other.id), ipOld)).toEqual([v1.id]);
    expect(linkIds(await corr('b-analyst', v1.id), ipOld)).toEqual([other.id]);
    expect(await al.platform.intel.deleteVersions(al.shared, v1.id as string, [timestampKey('2026-02-01T08:00:00.000Z')!])).toBe(1);
    expect(linkIds(await corr('b-analyst', other.id), ipOld)).toEqual([]);
  });
});

describe('full re-index', () => {
  it('brings back the values an exclusion kept out once it is removed, for admins only, audited', async () => {
    const ip = '45.77.98.7';
    const a = ipIndicator(ip, 'A, reindex');
    const b = ipIndicator(ip, 'B, reindex');
    const added = await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { pattern: ip, comment: 'test' });
    expect(added.status, added.body).toBe(201);
    await submitAs(al, 'a-analyst', al.shared, { objects: [a], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [b, ipIndicator('45.77.98.8', 'B, indexed all along')], defaultTlp: 'green' });
    expect(linkIds(await corr('a-analyst', a.id), ip)).toEqual([]);
    expect((await send('DELETE', 'a-admin', `/api/v1/correlation/exclusions/${added.json().id}`)).status).toBe(200);
    // Removing the exclusion does not index what was skipped while it held…
    expect(linkIds(await corr('a-analyst', a.id), ip)).toEqual([]);
    expectError(await send('POST', 'a-analyst', '/api/v1/correlation/reindex'), 403, 'FORBIDDEN');
    expectError(await sendRaw({ method: 'POST', user: 'a-admin', url: '/api/v1/correlation/reindex', raw: '[1]' }), 400, 'BAD_REQUEST');
    const before = (await al.platform.correlations.stats()).rows;
    expect(before).toBeGreaterThan(0);
    const started = await send('POST', 'a-admin', '/api/v1/correlation/reindex');
    expect(started.status, started.body).toBe(202);
    expect(started.json()).toMatchObject({ started: true, cleared: { rows: before } });
    // …a re-index does, and every link held before is back.
    expect(linkIds(await corr('a-analyst', a.id), ip)).toEqual([b.id]);
    await al.platform.correlations.sync();
    expect((await al.platform.correlations.stats()).rows).toBe(before + 2);
    const audit = await al.platform.store.listAudit({ limit: 20 });
    expect(audit.some((e) => e.action === 'correlation.reindex' && e.userId !== null)).toBe(true);
  });
});

describe('two indexers on one store (two node processes, or a re-index meanwhile)', () => {
  it('a slice running across a re-index is rolled back and read again: the rebuilt index misses nothing, and no failure is reported', async () => {
    const other = await makeAlliance();
    try {
      other.platform.correlations.stop();
      await other.platform.correlations.idle();
      const deps = { store: other.platform.store, clock: other.platform.clock, intel: other.platform.intel, warninglists: other.platform.warninglists };
      const first = Array.from({ length: 300 }, (_, i) => ipIndicator(`10.77.1.${i % 250}`, `race ${i}`));
      await submitAs(other, 'a-analyst', other.shared, { objects: first, defaultTlp: 'green' });
      const admin = new Correlations(deps);
      await admin.sync();
      const full = async () => {
        const c = new Correlations(deps);
        await c.reindex({ principal: null, source: 'test' });
        await c.sync();
        return (await c.stats()).rows;
      };
      // The indexer under test reads a slice of new objects; a re-index (another process) lands
      // between its read and its commit.
      const real = other.platform.store;
      let raced = false;
      const store = new Proxy(real, {
        get(t, p) {
          if (p === 'objectsAddedAfter') {
            return async (after: number, limit: number) => {
              const rows = await t.objectsAddedAfter(after, limit);
              if (!raced && rows.length > 0) {
                raced = true;
                await admin.reindex({ principal: null, source: 'test' });
              }
              return rows;
            };
          }
          const v = Reflect.get(t, p) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
      const racing = new Correlations({ ...deps, store });
      await submitAs(other, 'a-analyst', other.shared, { objects: Array.from({ length: 50 }, (_, i) => ipIndicator(`10.77.2.${i}`, `late ${i}`)), defaultTlp: 'green' });
      await racing.sync();
      expect(raced).toBe(true);
      expect(racing.lastError).toBeNull();
      expect((await racing.status()).ready).toBe(true);
      expect((await racing.stats()).rows).toBe(await full());
    } finally {
      await other.close();
    }
  });
});

describe('correlation release rule', () => {
  const ip = '45.77.10.20';
  const green = ipIndicator(ip, 'A green');
  const amberB = ipIndicator(ip, 'B amber, B only');
  const amberBtoC = ipIndicator(ip, 'B amber to C');

  beforeAll(async () => {
    await submitAs(al, 'a-analyst', al.shared, { objects: [green], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [amberB], defaultTlp: 'amber' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [amberBtoC], defaultTlp: 'amber', recipients: [al.orgs.C] });
  });

  it('links the same IP across organisations for a reader who may see both objects', async () => {
    const a = await corr('b-analyst', green.id);
    expect(linkIds(a, ip)).toEqual([amberB.id, amberBtoC.id].sort());
    const link = (a.json().values[0].links as { id: string; creatorOrg: string; creatorName: string; tlp: string }[]).find((l) => l.id === amberB.id)!;
    expect(link).toMatchObject({ creatorOrg: al.orgs.B, creatorName: 'Bravo CERT', tlp: 'amber' });
    expect(linkIds(await corr('b-analyst', amberB.id), ip)).toEqual([green.id, amberBtoC.id].sort());
  });

  it('gives no link to a reader who sees only one side', async () => {
    // A sees its own GREEN indicator but neither AMBER indicator of B.
    expect(linkIds(await corr('a-analyst', green.id), ip)).toEqual([]);
    // C is a recipient of one of B's AMBER indicators only.
    expect(linkIds(await corr('c-analyst', green.id), ip)).toEqual([amberBtoC.id]);
    expect(linkIds(await corr('c-analyst', amberBtoC.id), ip)).toEqual([green.id]);
  });

  it('answers 404 for an object the reader may not see, and 400 for a malformed id', async () => {
    expectError(await corr('a-analyst', amberB.id), 404, 'NOT_FOUND');
    expectError(await corr('c-analyst', amberB.id), 404, 'NOT_FOUND');
    expect((await corr('a-analyst', 'not-an-id')).status).toBe(400);
    expect((await h.call('GET', `/api/v1/objects/${green.id}/correlations`)).status).toBe(401);
  });

  it('links an address with a CIDR block that contains it (ISSUBSET), both ways', async () => {
    const block = indicator('A block', { pattern: "[ipv4-addr:value ISSUBSET '45.77.10.0/24']" });
    await submitAs(al, 'a-analyst', al.shared, { objects: [block], defaultTlp: 'green' });
    const a = await corr('b-analyst', block.id);
    expect(a.json().values[0]).toMatchObject({ kind: 'ip', value: '45.77.10.0/24' });
    expect(linkIds(a)).toEqual([green.id, amberB.id, amberBtoC.id].sort());
    expect(a.json().values[0].links.every((l: { via: string }) => l.via === ip)).toBe(true);
    const back = await corr('a-analyst', green.id);
    expect(linkIds(back)).toEqual([block.id]);
    expect(back.json().values[0].links[0].via).toBe('45.77.10.0/24');
  });

  it('normalises values: case of domains, IPv6 spelling, hashes', async () => {
    const d1 = indicator('d1', { pattern: "[domain-name:value = 'Evil-Update.Example.NET.'] OR [file:hashes.'SHA-256' = 'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']" });
    const d2 = sdo('domain-name', { value: 'evil-update.example.net' });
    delete d2.created; delete d2.modified; delete d2.spec_version;
    const d3 = indicator('v6', { pattern: "[ipv6-addr:value = '2001:0DB9:0000:0000:0000:0000:0000:0001'] AND [file:hashes.MD5 != 'x']" });
    const d4 = indicator('v6b', { pattern: "[ipv6-addr:value IN ('2001:db9::1', '2001:db9::2')] OR [file:hashes.'SHA-256' = 'aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899']" });
    await submitAs(al, 'a-analyst', al.shared, { objects: [d1, { ...d2, spec_version: '2.1' }, d3], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [d4], defaultTlp: 'green' });
    const a = await corr('c-analyst', d1.id);
    expect(a.json().values.map((v: { kind: string; value: string }) => `${v.kind}:${v.value}`).sort()).toEqual([
      'domain:evil-update.example.net', 'hash:aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899',
    ]);
    expect(linkIds(a, 'evil-update.example.net')).toEqual([d2.id]);
    expect(linkIds(a, 'aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899')).toEqual([d4.id]);
    // Negated comparisons are not values of the object.
    const b = await corr('c-analyst', d3.id);
    expect(b.json().values.map((v: { value: string }) => v.value)).toEqual(['2001:db9::1']);
    expect(linkIds(b)).toEqual([d4.id]);
  });
});

describe('warninglist hits on objects', () => {
  it('flags a benign value and does not link it', async () => {
    const x = ipIndicator('8.8.8.8', 'dns A');
    const y = ipIndicator('8.8.8.8', 'dns B');
    const z = indicator('benign host', { pattern: "[domain-name:value = 'download.windowsupdate.com']" });
    await submitAs(al, 'a-analyst', al.shared, { objects: [x, z], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [y], defaultTlp: 'green' });
    const a = await corr('a-analyst', x.id);
    expect(a.json().values[0]).toMatchObject({ value: '8.8.8.8', warninglist: { listId: 'builtin-public-resolvers' }, links: [] });
    const b = await corr('a-analyst', z.id);
    expect(b.json().values[0].warninglist).toMatchObject({ listId: 'builtin-benign-domains' });
  });
});

describe('correlation exclusions (REST, admin)', () => {
  it('excludes a CIDR block from correlation, and removing it restores the links', async () => {
    const p = ipIndicator('91.200.12.7', 'excl A');
    const q = ipIndicator('91.200.12.7', 'excl B');
    await submitAs(al, 'a-analyst', al.shared, { objects: [p], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [q], defaultTlp: 'green' });
    expect(linkIds(await corr('a-analyst', p.id))).toEqual([q.id]);

    expectError(await send('POST', 'a-analyst', '/api/v1/correlation/exclusions', { type: 'cidr', pattern: '91.200.0.0/16' }), 403, 'FORBIDDEN');
    expectError(await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { type: 'cidr', pattern: '91.200.0.0/33' }), 400, 'BAD_REQUEST');
    // Regexes run on RE2 (linear time): what it cannot run is a 422 with the reason and the position.
    const unclosed = await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { type: 'regex', pattern: '(' });
    expectError(unclosed, 422, 'UNPROCESSABLE');
    expect(unclosed.json().error.message).toMatch(/missing \) .*\(at position 1\)/);
    const backref = await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { type: 'regex', pattern: 'x(a)\\1' });
    expectError(backref, 422, 'UNPROCESSABLE');
    expect(backref.json().error.message).toMatch(/backreference \\1 is not supported.*\(at position 4\)/);
    expect(backref.json().error.details).toMatchObject({ position: 4 });
    const look = await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { type: 'regex', pattern: '/^a(?!b)/i' });
    expectError(look, 422, 'UNPROCESSABLE');
    expect(look.json().error.details).toMatchObject({ reason: expect.stringMatching(/negative lookahead/), position: 3 });
    expectError(await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { type: 'nope', pattern: 'x' }), 400, 'BAD_REQUEST');
    const added = await send('POST', 'a-admin', '/api/v1/correlation/exclusions', { type: 'cidr', pattern: '91.200.0.0/16', comment: 'sinkhole' });
    expect(added.status, added.body).toBe(201);
    const a = await corr('a-analyst', p.id);
    expect(a.json().values[0]).toMatchObject({ value: '91.200.12.7', excluded: true, links: [] });
    const list = await h.get('b-analyst', '/api/v1/correlation/exclusions');
    expect(list.json().items.map((e: { pattern: string }) => e.pattern)).toContain('91.200.0.0/16');
    expect((await send('DELETE', 'a-admin', `/api/v1/correlation/exclusions/${added.json().id}`)).status).toBe(200);
    expectError(await send('DELETE', 'a-admin', `/api/v1/correlation/exclusions/${added.json().id}`), 404, 'NOT_FOUND');
    expect(linkIds(await corr('a-analyst', p.id))).toEqual([q.id]);
    const audit = await al.platform.store.listAudit({ limit: 50 });
    expect(audit.map((x) => x.action)).toEqual(expect.arrayContaining(['correlation.exclude', 'correlation.unexclude']));
  });

  it('excludes exact values and regexes', async () => {
    const e1 = indicator('mutex 1', { pattern: "[mutex:name = 'Global\\\\SharedLock']" });
    const e2 = indicator('mutex 2', { pattern: "[mutex:name = 'Global\\\\SharedLock']" });
    const u1 = indicator('u1', { pattern: "[url:value = 'http://tracker.campaign.invalid/x']" });
    const u2 = indicator('u2', { pattern: "[url:value = 'HTTP://TRACKER.campaign.invalid/x']" });
    await submitAs(al, 'c-analyst', al.shared, { objects: [e1, e2, u1, u2], defaultTlp: 'green' });
    expect(linkIds(await corr('c-analyst', e1.id))).toEqual([e2.id]);
    expect(linkIds(await corr('c-analyst', u1.id))).toEqual([u2.id]);
    expect((await send('POST', 'c-admin', '/api/v1/correlation/exclusions', { type: 'value', kind: 'string', pattern: 'Global\\SharedLock' })).status).toBe(201);
    expect((await send('POST', 'c-admin', '/api/v1/correlation/exclusions', { type: 'regex', kind: 'url', pattern: '/^http:\\/\\/tracker\\./i' })).status).toBe(201);
    expect(linkIds(await corr('c-analyst', e1.id))).toEqual([]);
    expect(linkIds(await corr('c-analyst', u1.id))).toEqual([]);
  });
});

describe('per-value cap', () => {
  it('stops recording a value over the cap and reports it as frequent', async () => {
    // A fresh platform whose own indexer is replaced by one with cap 3.
    const other = await makeAlliance();
    try {
      other.platform.correlations.stop();
      await other.platform.correlations.idle();
      const small = new Correlations({ store: other.platform.store, clock: other.platform.clock, intel: other.platform.intel, warninglists: other.platform.warninglists }, { cap: 3 });
      small.start();
      const objs = Array.from({ length: 8 }, (_, i) => ipIndicator('77.88.99.1', `many ${i}`));
      for (const o of objs) await submitAs(other, i2u(objs.indexOf(o)), other.shared, { objects: [o], defaultTlp: 'green' });
      await small.idle();
      const stats = await small.stats();
      expect(stats.frequent).toBe(1);
      // At most cap + 1 rows were recorded for the value (the row that crossed the cap).
      expect(stats.rows).toBeLessThanOrEqual(4);
      const reader = { audience: other.platform.access.audienceOf(other.principals['a-analyst']!), collectionIds: [other.shared] };
      const r = await small.linksOf(reader, String(objs[7]!.id));
      expect(r.values[0]).toMatchObject({ value: '77.88.99.1', frequent: true, links: [] });
      expect((await small.frequentValues()).map((f) => f.value)).toEqual(['77.88.99.1']);
      // A reader who sees none of the objects holding the value is not told it exists.
      expect((await small.frequentValues(10, reader)).map((f) => f.value)).toEqual(['77.88.99.1']);
      expect(await small.frequentValues(10, { ...reader, collectionIds: [other.privateA] })).toEqual([]);
      small.stop();
    } finally {
      await other.close();
    }
  });

  it('lists frequent values over REST with the cap', async () => {
    const a = await h.get('a-analyst', '/api/v1/correlation/frequent');
    expect(a.status).toBe(200);
    expect(a.json().cap).toBe(100);
    expect(Array.isArray(a.json().items)).toBe(true);
  });
});

function i2u(i: number): string {
  return ['a-analyst', 'b-analyst', 'c-analyst'][i % 3]!;
}

describe('incremental indexing', () => {
  it('indexes objects committed by another process (not announced) when read', async () => {
    // A second IntelService on the same store stands for the CLI: its commits reach no listener here.
    const cli = new IntelService(al.platform.store, al.clock);
    const mine = ipIndicator('5.6.7.8', 'mine');
    await submitAs(al, 'a-analyst', al.shared, { objects: [mine], defaultTlp: 'green' });
    const theirs = ipIndicator('5.6.7.8', 'from the CLI');
    const res = await cli.submit({ principal: null, source: 'cli' }, al.shared, [theirs], { asOrg: al.orgs.B, defaultTlp: 'green' });
    expect(res[0]!.status).toBe('added');
    expect(linkIds(await corr('c-analyst', mine.id))).toEqual([theirs.id]);
  });

  it('follows new versions: a value removed in the latest version no longer links', async () => {
    const v1 = ipIndicator('66.66.66.66', 'versioned');
    const other = ipIndicator('66.66.66.66', 'other');
    await submitAs(al, 'a-analyst', al.shared, { objects: [v1], defaultTlp: 'green' });
    await submitAs(al, 'b-analyst', al.shared, { objects: [other], defaultTlp: 'green' });
    expect(linkIds(await corr('b-analyst', other.id))).toEqual([v1.id]);
    const v2 = { ...v1, modified: '2026-02-02T08:00:00.000Z', pattern: "[ipv4-addr:value = '66.66.66.67']" };
    await submitAs(al, 'a-analyst', al.shared, { objects: [v2], defaultTlp: 'green' });
    expect(linkIds(await corr('b-analyst', other.id))).toEqual([]);
    const v3 = { ...v1, modified: '2026-02-03T08:00:00.000Z', revoked: true };
    await submitAs(al, 'a-analyst', al.shared, { objects: [v3], defaultTlp: 'green' });
    expect((await corr('b-analyst', v1.id)).json().values).toEqual([]);
  });
});

describe('warninglists (REST)', () => {
  const misp = {
    name: 'Test sinkholes', version: 3, description: 'sinkhole hosts', type: 'hostname', matching_attributes: ['hostname', 'domain', 'url'],
    list: ['sinkhole.test-lab.org', '.sinkhole-two.org'],
  };

  it('lists the built-in lists, with documentation ranges disabled by default', async () => {
    const a = await h.get('b-analyst', '/api/v1/warninglists');
    expect(a.status).toBe(200);
    const byId = new Map((a.json().items as { id: string; enabled: boolean; builtin: boolean; entryCount: number }[]).map((w) => [w.id, w]));
    expect(byId.get('builtin-special-ip')).toMatchObject({ enabled: true, builtin: true });
    expect(byId.get('builtin-documentation-ip')).toMatchObject({ enabled: false, builtin: true });
    expect(byId.get('builtin-benign-domains')!.entryCount).toBeGreaterThan(5);
  });

  it('imports a MISP warninglist (admin), matches it, disables, re-enables and deletes it', async () => {
    expectError(await send('POST', 'a-analyst', '/api/v1/warninglists', misp), 403, 'FORBIDDEN');
    const a = await send('POST', 'a-admin', '/api/v1/warninglists', misp);
    expect(a.status, a.body).toBe(201);
    expect(a.json()).toMatchObject({ id: 'misp-test-sinkholes', name: 'Test sinkholes', version: 3, type: 'hostname', enabled: true, builtin: false, entryCount: 2, skipped: 0 });
    const m = await h.get('a-analyst', '/api/v1/warninglists/match?kind=domain&value=a.b.Sinkhole.Test-Lab.org');
    expect(m.json().match).toEqual({ listId: 'misp-test-sinkholes', name: 'Test sinkholes' });
    expect((await h.get('a-analyst', '/api/v1/warninglists/match?kind=domain&value=nosinkhole.test-lab.org')).json().match).toBeNull();
    expect((await h.get('a-analyst', '/api/v1/warninglists/match?kind=url&value=https://x.sinkhole-two.org/p')).json().match).not.toBeNull();
    expectError(await h.get('a-analyst', '/api/v1/warninglists/match?kind=bogus&value=x'), 400, 'BAD_REQUEST');

    const off = await send('PATCH', 'a-admin', '/api/v1/warninglists/misp-test-sinkholes', { enabled: false });
    expect(off.status, off.body).toBe(200);
    expect(off.json().enabled).toBe(false);
    expect((await h.get('a-analyst', '/api/v1/warninglists/match?kind=domain&value=sinkhole.test-lab.org')).json().match).toBeNull();
    expectError(await send('PATCH', 'a-admin', '/api/v1/warninglists/misp-test-sinkholes', { enabled: 'yes' }), 400, 'BAD_REQUEST');
    expectError(await send('PATCH', 'a-admin', '/api/v1/warninglists/no-such-list', { enabled: true }), 404, 'NOT_FOUND');
    await send('PATCH', 'a-admin', '/api/v1/warninglists/misp-test-sinkholes', { enabled: true });
    expect(al.platform.warninglists.match('domain', 'sinkhole.test-lab.org')).not.toBeNull();

    // Re-import by name replaces the list (new version, new entries).
    const again = await send('POST', 'a-admin', '/api/v1/warninglists', { ...misp, version: 4, list: ['only.sinkhole.org'] });
    expect(again.json()).toMatchObject({ id: 'misp-test-sinkholes', version: 4, entryCount: 1 });
    expect(al.platform.warninglists.match('domain', 'sinkhole.test-lab.org')).toBeNull();

    expectError(await send('DELETE', 'a-admin', '/api/v1/warninglists/builtin-special-ip'), 409, 'CONFLICT');
    expect((await send('DELETE', 'a-admin', '/api/v1/warninglists/misp-test-sinkholes')).status).toBe(200);
    expectError(await send('DELETE', 'a-admin', '/api/v1/warninglists/misp-test-sinkholes'), 404, 'NOT_FOUND');
    expect(al.platform.warninglists.match('domain', 'only.sinkhole.org')).toBeNull();
    const audit = (await al.platform.store.listAudit({ limit: 100 })).map((x) => x.action);
    expect(audit).toEqual(expect.arrayContaining(['warninglist.import', 'warninglist.disable', 'warninglist.enable', 'warninglist.delete']));
  });

  it('refuses malformed input with 400/422, never 500', async () => {
    expect((await sendRaw({ method: 'POST', user: 'a-admin', url: '/api/v1/warninglists', raw: '{"name": "x", "list": [' })).status).toBe(400);
    for (const bad of [
      [], 'text', { name: 'x', version: 1, type: 'string' }, { name: 'x', version: 1, type: 'string', list: [] },
      { name: 'x', version: 1, type: 'fuzzy', list: ['a'] }, { name: 'x', version: 'one', type: 'string', list: ['a'] },
      { name: '', version: 1, type: 'string', list: ['a'] }, { name: 'x', version: 1, type: 'string', list: [1, 2] },
      { name: 'x', version: 1, type: 'cidr', list: ['not-a-cidr'] }, { name: 'x', version: 1, type: 'regex', list: ['(unclosed'] },
      { name: 'x', version: 1, type: 'string', matching_attributes: 'ip-src', list: ['a'] },
    ]) {
      const a = await send('POST', 'a-admin', '/api/v1/warninglists', bad);
      expect([400, 422], `${JSON.stringify(bad)} → ${a.body}`).toContain(a.status);
    }
    // A regex entry RE2 cannot run refuses the whole list, naming the entry and the position.
    const backref = await send('POST', 'a-admin', '/api/v1/warninglists', { name: 'Backref', version: 1, type: 'regex', list: ['^ok$', '/(a)\\1/i'] });
    expectError(backref, 422, 'UNPROCESSABLE');
    expect(backref.json().error.message).toMatch(/^list\[1\]: regular expression refused: backreference \\1.*\(at position 4\)$/);
    expect(backref.json().error.details).toMatchObject({ entry: 1, position: 4 });
    expect((await h.get('a-admin', '/api/v1/warninglists')).json().items.map((w: { name: string }) => w.name)).not.toContain('Backref');
    // Unusable entries among usable ones are skipped and counted.
    const a = await send('POST', 'a-admin', '/api/v1/warninglists', { name: 'Mixed CIDRs', version: 1, type: 'cidr', matching_attributes: ['ip-dst'], list: ['10.1.0.0/16', 'bogus'] });
    expect(a.status, a.body).toBe(201);
    expect(a.json().skipped).toBe(1);
  });
});

describe('Warninglists.match for each list type', () => {
  let w: Warninglists;
  beforeAll(async () => {
    w = al.platform.warninglists;
    const imports = [
      { name: 'WL string', version: 1, type: 'string', matching_attributes: ['ip-dst', 'md5', 'email-src'], list: ['203.0.113.250', 'D41D8CD98F00B204E9800998ECF8427E', 'Noreply@Bank.Example'] },
      { name: 'WL substring', version: 1, type: 'substring', matching_attributes: ['url'], list: ['/wp-content/uploads/'] },
      { name: 'WL hostname', version: 1, type: 'hostname', matching_attributes: ['domain', 'hostname', 'url', 'email-src'], list: ['corp-cdn.org'] },
      { name: 'WL cidr', version: 1, type: 'cidr', matching_attributes: ['ip-src'], list: ['52.96.0.0/14', '2603:1000::/25'] },
      { name: 'WL regex', version: 1, type: 'regex', matching_attributes: ['user-agent'], list: ['/^Mozilla\\/5\\.0 \\(compatible; Googlebot/i'] },
    ];
    for (const i of imports) await w.importMisp(SYSTEM_ACTOR, i);
  });

  it('string: exact, after normalisation, only for the listed kinds', () => {
    expect(w.match('ip', '203.0.113.250')?.name).toBe('WL string');
    expect(w.match('hash', 'd41d8cd98f00b204e9800998ecf8427e')?.name).toBe('WL string');
    expect(w.match('email', 'noreply@bank.example')?.name).toBe('WL string');
    expect(w.match('ip', '203.0.113.251')).toBeNull();
    expect(w.match('domain', '203.0.113.250')).toBeNull();
  });

  it('substring', () => {
    expect(w.match('url', 'https://blog.victim.org/wp-content/uploads/2026/a.zip')?.name).toBe('WL substring');
    expect(w.match('url', 'https://blog.victim.org/wp-admin/')).toBeNull();
  });

  it('hostname: the name and its subdomains, in domains, URLs and e-mail addresses', () => {
    expect(w.match('domain', 'corp-cdn.org')?.name).toBe('WL hostname');
    expect(w.match('domain', 'static.eu.CORP-CDN.org.')?.name).toBe('WL hostname');
    expect(w.match('url', 'https://img.corp-cdn.org:8443/a.png')?.name).toBe('WL hostname');
    expect(w.match('email', 'ops@mail.corp-cdn.org')?.name).toBe('WL hostname');
    expect(w.match('domain', 'evilcorp-cdn.org')).toBeNull();
    expect(w.match('domain', 'corp-cdn.org.evil.com')).toBeNull();
  });

  it('cidr: IPv4 and IPv6 addresses inside the blocks, and the built-in private ranges', () => {
    expect(w.match('ip', '52.97.1.2')?.name).toBe('WL cidr');
    expect(w.match('ip', '52.100.0.1')).toBeNull();
    expect(w.match('ip', '2603:1000:0:1::5')?.name).toBe('WL cidr');
    expect(w.match('ip', '::ffff:52.96.0.9')?.name).toBe('WL cidr');
    expect(w.match('ip', '192.168.10.1')?.listId).toBe('builtin-special-ip');
    expect(w.match('ip', 'fe80::1')?.listId).toBe('builtin-special-ip');
    expect(w.match('ip', '198.51.100.7')).toBeNull(); // documentation ranges ship disabled
    expect(w.match('ip', 'not an ip')).toBeNull();
  });

  it('regex: MISP /pattern/flags style', () => {
    expect(w.match('string', 'mozilla/5.0 (compatible; Googlebot/2.1)')?.name).toBe('WL regex');
    expect(w.match('string', 'curl/8.0')).toBeNull();
  });

  it('reloads lists changed by another process (refresh)', async () => {
    const other = new Warninglists(al.platform.store, al.clock);
    await other.load();
    await other.importMisp(SYSTEM_ACTOR, { name: 'From another process', version: 1, type: 'string', matching_attributes: ['domain'], list: ['elsewhere.org'] });
    expect(w.match('domain', 'elsewhere.org')).toBeNull();
    let changed = 0;
    const off = w.onChange(() => changed++);
    expect(await w.refresh()).toBe(true);
    off();
    expect(changed).toBe(1);
    expect(w.match('domain', 'elsewhere.org')?.name).toBe('From another process');
    expect(await w.refresh()).toBe(false);
  });
});
