/**
 * REST API /api/v1 (docs/rest-api.md), socketless through `app.inject` on an in-memory SQLite
 * store: authentication, the directory, search with every filter and cursor pagination,
 * object detail, and the release policy on every read path (DESIGN §2.1).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, http, indicator, makeAlliance, malware, relationship, submitAs, type Alliance, type Answer, type Stix } from './rest-fixtures.js';

let al: Alliance;
let get: ReturnType<typeof http>['get'];
let call: ReturnType<typeof http>['call'];
const o: Record<string, Stix> = {};
const ids = (a: Answer): string[] => (a.json().items as { id: string }[]).map((i) => i.id);

beforeAll(async () => {
  al = await makeAlliance();
  ({ get, call } = http(al));
  const { A: _A, B, C: _C } = al.orgs;
  o.clear = indicator('clear beacon', { labels: ['phishing'] });
  o.green = malware('GreenRat', { labels: ['rat', 'phishing'] });
  o.amberB = indicator('amber for bravo');
  o.amberGroup = indicator('amber for the group');
  o.strictB = indicator('strict for bravo');
  o.redB = indicator('red for bravo');
  o.unmarked = malware('unmarked secret');
  o.privateGreen = indicator('private green');
  o.relToAmber = relationship(o.clear, 'related-to', o.amberB);
  o.relToGreen = relationship(o.amberB, 'indicates', o.green);
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.clear!, o.green!, o.relToAmber!], defaultTlp: 'clear' });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.amberB!, o.relToGreen!], defaultTlp: 'amber', recipients: [B] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.amberGroup!], defaultTlp: 'amber', recipients: [al.group] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.strictB!], defaultTlp: 'amber+strict', recipients: [B] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.redB!], defaultTlp: 'red', recipients: [B] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.unmarked!] });
  await submitAs(al, 'a-analyst', al.privateA, { objects: [o.privateGreen!], defaultTlp: 'green' });
  // A second, later version of the green malware (STIX 2.1 §3.6: same id, later modified).
  o.green2 = { ...o.green!, modified: '2026-02-02T08:00:00.000Z', description: 'second version' };
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.green2], defaultTlp: 'clear' });
});

afterAll(async () => {
  await al.close();
});

describe('directory', () => {
  it('GET /me answers the user and organisation of the token', async () => {
    const a = await get('b-analyst', '/api/v1/me');
    expect(a.status).toBe(200);
    expect(a.json().user).toMatchObject({ username: 'b-analyst', orgId: al.orgs.B, roles: ['analyst'] });
    expect(a.json().organisation).toMatchObject({ id: al.orgs.B, name: 'Bravo CERT', shortName: 'B', kind: 'member' });
  });

  it('GET /organisations counts what each org shared that the caller may see, per TLP', async () => {
    const forB = (await get('b-analyst', '/api/v1/organisations')).json().items as { id: string; shortName: string; shared: { total: number; byTlp: Record<string, number> } }[];
    const aForB = forB.find((x) => x.id === al.orgs.A)!;
    // clear: clear indicator, clear relationship; green... none in readable collections (privateA unreadable);
    // the malware is CLEAR; amber: amberB + its relationship; strict: 1; red: 1; the unmarked one is A's alone.
    expect(aForB.shared.byTlp).toEqual({ clear: 3, green: 0, amber: 2, 'amber+strict': 1, red: 1, none: 0 });
    expect(aForB.shared.total).toBe(7);
    const aForC = ((await get('c-analyst', '/api/v1/organisations')).json().items as typeof forB).find((x) => x.id === al.orgs.A)!;
    expect(aForC.shared.byTlp).toEqual({ clear: 3, green: 0, amber: 1, 'amber+strict': 0, red: 0, none: 0 });
    const aForA = ((await get('a-analyst', '/api/v1/organisations')).json().items as typeof forB).find((x) => x.id === al.orgs.A)!;
    expect(aForA.shared.byTlp).toEqual({ clear: 3, green: 1, amber: 3, 'amber+strict': 1, red: 1, none: 1 });
    expect(forB.find((x) => x.id === al.orgs.C)!.shared.total).toBe(0);
    expect(forB.map((x) => x.shortName).sort()).toEqual(['A', 'B', 'C']);
  });

  it('GET /sharing-groups lists groups the org belongs to or created', async () => {
    const forA = (await get('a-analyst', '/api/v1/sharing-groups')).json().items as { id: string; members: string[] }[];
    expect(forA.map((g) => g.id)).toEqual([al.group]);
    expect(forA[0]!.members.sort()).toEqual([al.orgs.A, al.orgs.C].sort());
    expect(ids(await get('c-analyst', '/api/v1/sharing-groups'))).toEqual([al.group]);
    expect(ids(await get('b-analyst', '/api/v1/sharing-groups'))).toEqual([]);
  });

  it('GET /collections lists readable or writable collections with their rights', async () => {
    const forA = (await get('a-analyst', '/api/v1/collections')).json().items as { id: string; canRead: boolean; canWrite: boolean; alias: string | null }[];
    expect(forA.map((c) => c.id).sort()).toEqual([al.shared, al.privateA, al.readOnly].sort());
    const forB = (await get('b-analyst', '/api/v1/collections')).json().items as typeof forA;
    expect(forB.map((c) => c.id).sort()).toEqual([al.shared, al.readOnly].sort());
    expect(forB.find((c) => c.id === al.readOnly)).toMatchObject({ canRead: true, canWrite: false, alias: null });
    expect(forB.find((c) => c.id === al.shared)).toMatchObject({ canRead: true, canWrite: true, alias: 'alliance' });
  });
});

describe('intel search', () => {
  it('applies the release policy per organisation', async () => {
    const b = ids(await get('b-analyst', '/api/v1/intel?limit=100'));
    const c = ids(await get('c-analyst', '/api/v1/intel?limit=100'));
    const a = ids(await get('a-analyst', '/api/v1/intel?limit=100'));
    expect(b).toEqual(expect.arrayContaining([o.clear!.id, o.green!.id, o.amberB!.id, o.strictB!.id, o.redB!.id, o.relToGreen!.id]));
    expect(b).not.toContain(o.amberGroup!.id);
    expect(b).not.toContain(o.unmarked!.id);
    expect(b).not.toContain(o.privateGreen!.id);
    expect(c).toContain(o.amberGroup!.id);
    for (const hidden of [o.amberB, o.strictB, o.redB, o.unmarked, o.privateGreen, o.relToGreen]) expect(c).not.toContain(hidden!.id);
    expect(a).toEqual(expect.arrayContaining([o.unmarked!.id, o.privateGreen!.id, o.amberGroup!.id]));
    // Only the latest version of each object is listed.
    expect(b.filter((x) => x === o.green!.id)).toHaveLength(1);
  });

  it('answers summaries with creator names, TLP, labels and collection', async () => {
    const items = (await get('b-analyst', `/api/v1/intel?q=greenrat`)).json().items as Record<string, unknown>[];
    expect(items).toHaveLength(1);
    expect(items[0]).toEqual({
      id: o.green!.id, type: 'malware', name: 'GreenRat', tlp: 'clear', created: o.green!.created, modified: '2026-02-02T08:00:00.000Z',
      creatorOrg: al.orgs.A, creatorName: 'Alpha CERT', labels: ['rat', 'phishing'], revoked: false, collectionId: al.shared, recipients: [],
    });
    const amber = (await get('b-analyst', `/api/v1/intel?q=${encodeURIComponent('amber for bravo')}`)).json().items as { recipients: string[]; tlp: string }[];
    expect(amber).toHaveLength(1);
    expect(amber[0]).toMatchObject({ tlp: 'amber', recipients: [al.orgs.B] });
  });

  it('filters by type, q, label, tlp, creator and collection', async () => {
    const q = async (user: string, query: string) => ids(await get(user, `/api/v1/intel?limit=100&${query}`)).sort();
    expect(await q('b-analyst', 'type=malware')).toEqual([o.green!.id]);
    expect(await q('a-analyst', 'type=malware,relationship')).toEqual([o.green!.id, o.unmarked!.id, o.relToAmber!.id, o.relToGreen!.id].sort());
    expect(await q('a-analyst', 'type=malware&type=relationship')).toEqual(await q('a-analyst', 'type=malware,relationship'));
    expect(await q('b-analyst', 'q=BRAVO')).toEqual([o.amberB!.id, o.strictB!.id, o.redB!.id].sort());
    expect(await q('b-analyst', 'label=phishing')).toEqual([o.clear!.id, o.green!.id].sort());
    expect(await q('b-analyst', 'label=phishing&label=rat')).toEqual([o.green!.id]);
    expect(await q('b-analyst', 'tlp=red')).toEqual([o.redB!.id]);
    expect(await q('b-analyst', 'tlp=amber%2Bstrict,red')).toEqual([o.strictB!.id, o.redB!.id].sort());
    // A literal "+" decodes to a space in a query string; "amber strict" is read as amber+strict.
    expect(await q('b-analyst', 'tlp=amber+strict')).toEqual([o.strictB!.id]);
    expect(await q('a-analyst', 'tlp=none')).toEqual([o.unmarked!.id]);
    expect(await q('a-analyst', 'tlp=green&collection=' + al.privateA)).toEqual([o.privateGreen!.id]);
    expect(await q('b-analyst', `creator=${al.orgs.A}&type=malware`)).toEqual([o.green!.id]);
    expect(await q('b-analyst', 'creator=A&type=malware')).toEqual([o.green!.id]);
    expect(await q('b-analyst', `creator=${al.orgs.C}`)).toEqual([]);
    expect(await q('b-analyst', `collection=${al.readOnly}`)).toEqual([]);
    expect(await q('b-analyst', 'collection=alliance&tlp=red')).toEqual([o.redB!.id]);
  });

  it('refuses bad parameters with 400 and a code, and unreadable collections with 404', async () => {
    expectError(await get('b-analyst', '/api/v1/intel?tlp=purple'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?type=Not_A_Type'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?limit=0'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?limit=ten'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?q=a&q=b'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?colection=x'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?creator=ZZZ'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', '/api/v1/intel?creator=not%20an%20id'), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', `/api/v1/intel?q=${'x'.repeat(300)}`), 400, 'INVALID_FILTER');
    expectError(await get('b-analyst', `/api/v1/intel?collection=${al.privateA}`), 404, 'NOT_FOUND');
    expectError(await get('b-analyst', '/api/v1/intel?collection=no%2Fsuch'), 400, 'INVALID_FILTER');
  });

  it('pages through the results with an opaque cursor and refuses tampered or foreign ones', async () => {
    const all = ids(await get('a-analyst', '/api/v1/intel?limit=1000'));
    expect(all.length).toBeGreaterThan(5);
    const seen: string[] = [];
    let url = '/api/v1/intel?limit=2';
    let first: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = (await get('a-analyst', url)).json() as { items: { id: string }[]; next?: string };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((x) => x.id));
      if (!page.next) break;
      first ??= page.next;
      url = `/api/v1/intel?limit=2&cursor=${encodeURIComponent(page.next)}`;
    }
    expect(seen).toEqual(all);
    expect(first).toBeDefined();
    const [payload, mac] = first!.split('.');
    const tampered = `${Buffer.from(Buffer.from(payload!, 'base64url').toString().replace(/^\d/, '9')).toString('base64url')}.${mac}`;
    expectError(await get('a-analyst', `/api/v1/intel?limit=2&cursor=${tampered}`), 400, 'INVALID_CURSOR');
    expectError(await get('a-analyst', '/api/v1/intel?limit=2&cursor=garbage'), 400, 'INVALID_CURSOR');
    expectError(await get('a-analyst', '/api/v1/intel?limit=2&cursor=%7B%7D'), 400, 'INVALID_CURSOR');
    // Bound to the filters and to the organisation it was issued to.
    expectError(await get('a-analyst', `/api/v1/intel?limit=2&type=malware&cursor=${first!}`), 400, 'INVALID_CURSOR');
    expectError(await get('c-analyst', `/api/v1/intel?limit=2&cursor=${first!}`), 400, 'INVALID_CURSOR');
  });
});

describe('intel detail', () => {
  it('answers the latest visible version, all visible versions oldest first', async () => {
    const a = await get('b-analyst', `/api/v1/intel/${o.green!.id}`);
    expect(a.status).toBe(200);
    const d = a.json();
    expect(d.object).toMatchObject({ id: o.green!.id, description: 'second version' });
    expect(d.summary).toMatchObject({ id: o.green!.id, creatorName: 'Alpha CERT', tlp: 'clear' });
    expect(d.versions.map((v: { version: string }) => v.version)).toEqual([o.green!.modified, '2026-02-02T08:00:00.000Z']);
    expect(d.versions[0].object.description).toBeUndefined();
    expect(typeof d.versions[0].dateAdded).toBe('string');
  });

  it('shows the latest of many versions and lists the newest 100, a late older version notwithstanding', async () => {
    const base = indicator('Long-lived', { created: '2026-03-01T00:00:00.000Z' });
    const at = (k: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + k * 60_000).toISOString();
    const version = (k: number) => ({ ...base, modified: at(k), description: `version ${k}` });
    for (let k = 0; k < 1200; k += 600) {
      await submitAs(al, 'a-analyst', al.shared, { objects: Array.from({ length: 600 }, (_, j) => version(k + j + 1)), defaultTlp: 'clear' });
    }
    // Stored last, older than all but one: the newest rows by arrival no longer hold the latest version alone.
    await submitAs(al, 'a-analyst', al.shared, { objects: [{ ...base, modified: '2026-03-01T00:00:30.000Z', description: 'late' }], defaultTlp: 'clear' });
    const d = (await get('b-analyst', `/api/v1/intel/${base.id}`)).json();
    expect(d.object).toMatchObject({ modified: at(1200), description: 'version 1200' });
    expect(d.summary.modified).toBe(at(1200));
    expect(d.versions).toHaveLength(100);
    expect(d.versions.map((v: { version: string }) => v.version)).toEqual(Array.from({ length: 100 }, (_, j) => at(1101 + j)));
    expect(d.versionsTruncated).toBe(true);
    expect((await get('b-analyst', `/api/v1/intel/${o.green!.id}`)).json().versionsTruncated).toBe(false);
  });

  it('answers 404 for objects the caller may not see, and 400 for malformed ids', async () => {
    expectError(await get('c-analyst', `/api/v1/intel/${o.amberB!.id}`), 404, 'NOT_FOUND');
    expectError(await get('b-analyst', `/api/v1/intel/${o.unmarked!.id}`), 404, 'NOT_FOUND');
    expectError(await get('b-analyst', `/api/v1/intel/${o.privateGreen!.id}`), 404, 'NOT_FOUND');
    expectError(await get('b-analyst', '/api/v1/intel/indicator--00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
    expectError(await get('b-analyst', '/api/v1/intel/not-an-id'), 400, 'INVALID_FILTER');
    expect((await get('b-analyst', `/api/v1/intel/${o.amberB!.id}`)).status).toBe(200);
  });

  it('lists relationships with the other end named only when visible', async () => {
    const forC = (await get('c-analyst', `/api/v1/intel/${o.clear!.id}`)).json().relationships as Record<string, unknown>[];
    expect(forC).toEqual([{
      id: o.relToAmber!.id, relationship_type: 'related-to', source_ref: o.clear!.id, target_ref: o.amberB!.id,
      source: { id: o.clear!.id, type: 'indicator', name: 'clear beacon' }, target: null,
    }]);
    const forB = (await get('b-analyst', `/api/v1/intel/${o.clear!.id}`)).json().relationships as { target: unknown }[];
    expect(forB[0]!.target).toEqual({ id: o.amberB!.id, type: 'indicator', name: 'amber for bravo' });
    // The AMBER relationship amberB → green is invisible to C: not listed on the green malware.
    const greenForC = (await get('c-analyst', `/api/v1/intel/${o.green!.id}`)).json().relationships as unknown[];
    expect(greenForC).toEqual([]);
    const greenForB = (await get('b-analyst', `/api/v1/intel/${o.green!.id}`)).json().relationships as { id: string; source: { name: string } }[];
    expect(greenForB.map((r) => r.id)).toEqual([o.relToGreen!.id]);
    expect(greenForB[0]!.source.name).toBe('amber for bravo');
  });
});


describe('hostile input', () => {
  it('never answers 500 to arbitrary query values on the read routes', async () => {
    const params = ['type', 'q', 'label', 'tlp', 'creator', 'collection', 'limit', 'cursor'];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...params), fc.string({ maxLength: 60 }), fc.constantFrom('/api/v1/intel', '/api/v1/intel/export', '/api/v1/audit'), async (key, value, route) => {
      const a = await get('a-admin', `${route}?${key}=${encodeURIComponent(value)}`);
      expect(a.status, a.body).toBeLessThan(500);
      if (a.status >= 400) expect(typeof a.json().error.code).toBe('string');
    }), { numRuns: 150 });
  });

  it('never answers 500 to odd paths, encodings and bodies', async () => {
    const odd = ['/api/v1/intel/%ZZ', '/api/v1/intel/%00', `/api/v1/intel/${'a'.repeat(5000)}`, '/api/v1/intel?type[]=x', '/api/v1/intel?tlp=%E0%A4%A',
      '/api/v1/intel?limit=99999999999999999999', '/api/v1/intel?cursor=' + 'A'.repeat(3000), '/api/v1/nope'];
    for (const url of odd) {
      const a = await get('a-analyst', url);
      expect(a.status, `${url}: ${a.body}`).toBeGreaterThanOrEqual(400);
      expect(a.status, url).toBeLessThan(500);
    }
    const bodies = ['{"__proto__": {"x": 1}, "type": "bundle"}', '[]', 'null', '"bundle"', '{"type": "bundle", "objects": [null, [], "x", {"type": {}}]}'];
    for (const raw of bodies) {
      const a = await call('POST', `/api/v1/intel/import?collection=${al.shared}`, { token: al.tokens['a-analyst']!, raw });
      expect(a.status, `${raw}: ${a.body}`).toBeLessThan(500);
    }
  });
});

describe('revoked relationships', () => {
  it('drops a relationship from the detail once its latest visible version is revoked', async () => {
    expect(((await get('c-analyst', `/api/v1/intel/${o.clear!.id}`)).json().relationships as unknown[]).length).toBe(1);
    await submitAs(al, 'a-analyst', al.shared, { objects: [{ ...o.relToAmber!, modified: '2026-02-03T08:00:00.000Z', revoked: true }], defaultTlp: 'clear' });
    expect((await get('c-analyst', `/api/v1/intel/${o.clear!.id}`)).json().relationships).toEqual([]);
    const rel = (await get('c-analyst', `/api/v1/intel/${o.relToAmber!.id}`)).json();
    expect(rel.summary.revoked).toBe(true);
    expect(rel.versions).toHaveLength(2);
  });
});
