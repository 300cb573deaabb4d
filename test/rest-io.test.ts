/**
 * REST bundle import and export and the audit log: roles and collection rights, recipients,
 * invalid STIX, malformed JSON, body size (413), RED never in a bulk export (DESIGN §2.1),
 * and every import/export audited (DESIGN §2.5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlpMarkingId } from '../src/stix/index.js';
import { bundle, expectError, http, indicator, makeAlliance, malware, submitAs, type Alliance, type Stix } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const o: Record<string, Stix> = {};

const importAs = (user: string, query: string, body: unknown) => h.call('POST', `/api/v1/intel/import?${query}`, { token: al.tokens[user]!, body });
const exportAs = (user: string, query: string) => h.get(user, `/api/v1/intel/export?${query}`);
const exportedIds = (body: string): string[] => (JSON.parse(body) as { objects: { id: string }[] }).objects.map((x) => x.id);

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  o.clear = indicator('clear export');
  o.amberB = indicator('amber export for bravo');
  o.redB = indicator('red export for bravo');
  o.unmarked = malware('unmarked export');
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.clear], defaultTlp: 'clear' });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.amberB], defaultTlp: 'amber', recipients: [al.orgs.B] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.redB], defaultTlp: 'red', recipients: [al.orgs.B] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [o.unmarked] });
});
afterAll(async () => {
  await al.close();
});

describe('import', () => {
  it('stores a bundle with the default TLP and recipients; visible to recipients only; idempotent', async () => {
    const ind = indicator('imported for bravo');
    const mal = malware('imported malware', { object_marking_refs: [tlpMarkingId('green')] });
    const a = await importAs('a-analyst', `collection=${al.shared}&tlp=amber&recipients=${al.orgs.B}`, bundle([ind, mal]));
    expect(a.status, a.body).toBe(200);
    expect(a.json()).toEqual({ total: 2, added: 2, duplicates: 0, rejected: 0, errors: [] });
    const forB = (await h.get('b-analyst', `/api/v1/intel/${ind.id}`)).json();
    expect(forB.summary).toMatchObject({ tlp: 'amber', recipients: [al.orgs.B], creatorOrg: al.orgs.A });
    // Exactly as imported: the submitter and the TLP are policy facts (columns), not edits of the object.
    expect(forB.object).toEqual(ind);
    expectError(await h.get('c-analyst', `/api/v1/intel/${ind.id}`), 404, 'NOT_FOUND');
    // The object's own marking (TLP:GREEN) wins over the default.
    expect((await h.get('c-analyst', `/api/v1/intel/${mal.id}`)).json().summary.tlp).toBe('green');
    const again = await importAs('a-analyst', `collection=alliance&tlp=amber&recipients=${al.orgs.B}`, bundle([ind, mal]));
    expect(again.json()).toMatchObject({ total: 2, added: 0, duplicates: 2, rejected: 0 });
  });

  it('accepts application/stix+json bodies and sharing groups as recipients', async () => {
    const ind = indicator('for the group');
    const a = await h.call('POST', `/api/v1/intel/import?collection=${al.shared}&tlp=amber&recipients=${al.group}`, {
      token: al.tokens['a-analyst']!, raw: JSON.stringify(bundle([ind])), contentType: 'application/stix+json;version=2.1',
    });
    expect(a.status, a.body).toBe(200);
    expect((await h.get('c-analyst', `/api/v1/intel/${ind.id}`)).status).toBe(200);
    expect((await h.get('b-analyst', `/api/v1/intel/${ind.id}`)).status).toBe(404);
  });

  it('reports invalid objects per item and stores the valid ones', async () => {
    const good = indicator('good one');
    const bad = { type: 'indicator', spec_version: '2.1', id: 'indicator--not-a-uuid', name: 'bad' };
    const a = await importAs('a-analyst', `collection=${al.shared}&tlp=green`, bundle([good, bad, 42]));
    expect(a.status, a.body).toBe(200);
    const r = a.json();
    expect(r).toMatchObject({ total: 3, added: 1, duplicates: 0, rejected: 2 });
    expect(r.errors.map((e: { index: number }) => e.index)).toEqual([1, 2]);
    expect(r.errors[0].id).toBe('indicator--not-a-uuid');
    expect(r.errors[1].id).toBeNull();
    for (const e of r.errors) expect(e.message.length).toBeGreaterThan(0);
  });

  it('refuses a body that is not a STIX bundle with 422 INVALID_STIX', async () => {
    for (const body of [[indicator('x')], indicator('x'), { type: 'bundle', objects: 'nope' }, { type: 'bundle', id: 'x', objects: [] }, 'text', 7]) {
      expectError(await importAs('a-analyst', `collection=${al.shared}`, body), 422, 'INVALID_STIX');
    }
    expectError(await h.call('POST', `/api/v1/intel/import?collection=${al.shared}`, { token: al.tokens['a-analyst']! }), 422, 'INVALID_STIX');
  });

  it('refuses malformed JSON with 400 MALFORMED_JSON, for JSON and STIX media types', async () => {
    for (const contentType of ['application/json', 'application/stix+json']) {
      const a = await h.call('POST', `/api/v1/intel/import?collection=${al.shared}`, { token: al.tokens['a-analyst']!, raw: '{"type": "bundle", "objects": [', contentType });
      expectError(a, 400, 'MALFORMED_JSON');
    }
    expectError(await h.call('POST', `/api/v1/intel/import?collection=${al.shared}`, { token: al.tokens['a-analyst']!, raw: '<bundle/>', contentType: 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('checks roles, collection rights and parameters', async () => {
    const b = bundle([indicator('role check')]);
    expectError(await importAs('a-responder', `collection=${al.shared}`, b), 403, 'FORBIDDEN');
    expect((await importAs('a-admin', `collection=${al.shared}`, b)).status).toBe(200);
    expectError(await importAs('b-analyst', `collection=${al.readOnly}`, b), 403, 'FORBIDDEN');
    expectError(await importAs('b-analyst', `collection=${al.privateA}`, b), 404, 'NOT_FOUND');
    expectError(await importAs('a-analyst', '', b), 400, 'INVALID_FILTER');
    expectError(await importAs('a-analyst', `collection=${al.shared}&tlp=white-ish`, b), 400, 'INVALID_FILTER');
    expectError(await importAs('a-analyst', `collection=${al.shared}&recipients=identity--00000000-0000-4000-8000-000000000000`, b), 400, 'INVALID_FILTER');
    expectError(await importAs('a-analyst', `collection=${al.shared}&recipients=B`, b), 400, 'INVALID_FILTER');
    expectError(await importAs('a-analyst', `collection=${al.shared}&tlp=red&tlp=amber`, b), 400, 'INVALID_FILTER');
    expectError(await importAs('a-analyst', `collection=${al.shared}&extra=1`, b), 400, 'INVALID_FILTER');
  });

  it('refuses bodies over max_content_length with 413', async () => {
    const small = await makeAlliance({ SHIELDWALL_MAX_CONTENT_LENGTH: '4096' });
    try {
      const hs = http(small);
      const big = bundle(Array.from({ length: 40 }, (_, i) => indicator(`padding ${i} ${'x'.repeat(100)}`)));
      const a = await hs.call('POST', `/api/v1/intel/import?collection=${small.shared}`, { token: small.tokens['a-analyst']!, body: big });
      expectError(a, 413, 'PAYLOAD_TOO_LARGE');
      const fits = await hs.call('POST', `/api/v1/intel/import?collection=${small.shared}`, { token: small.tokens['a-analyst']!, body: bundle([indicator('fits')]) });
      expect(fits.status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe('export', () => {
  it('answers a STIX bundle of the latest visible versions; RED never leaves in bulk', async () => {
    const a = await exportAs('b-analyst', `collection=${al.shared}`);
    expect(a.status, a.body).toBe(200);
    expect(a.headers['content-type']).toBe('application/stix+json;version=2.1');
    expect(String(a.headers['content-disposition'])).toMatch(/^attachment; filename="shieldwall-export-\d{4}-\d\d-\d\d\.json"$/);
    const b = JSON.parse(a.body) as { type: string; id: string };
    expect(b.type).toBe('bundle');
    expect(b.id).toMatch(/^bundle--[0-9a-f-]{36}$/);
    const forB = exportedIds(a.body);
    expect(forB).toEqual(expect.arrayContaining([o.clear!.id, o.amberB!.id]));
    expect(forB).not.toContain(o.redB!.id);
    expect(forB).not.toContain(o.unmarked!.id);
    // The creator reads its RED object, but does not export it either.
    const forA = exportedIds((await exportAs('a-analyst', `collection=${al.shared}`)).body);
    expect(forA).toContain(o.unmarked!.id);
    expect(forA).not.toContain(o.redB!.id);
    const forC = exportedIds((await exportAs('c-analyst', `collection=${al.shared}`)).body);
    expect(forC).toContain(o.clear!.id);
    expect(forC).not.toContain(o.amberB!.id);
  });

  it('takes the search filters and requires a readable collection', async () => {
    expect(exportedIds((await exportAs('b-analyst', `collection=${al.shared}&q=amber%20export`)).body)).toEqual([o.amberB!.id]);
    expect(exportedIds((await exportAs('b-analyst', `collection=${al.shared}&tlp=red`)).body)).toEqual([]);
    expectError(await exportAs('b-analyst', ''), 400, 'INVALID_FILTER');
    expectError(await exportAs('b-analyst', `collection=${al.privateA}`), 404, 'NOT_FOUND');
    expectError(await exportAs('b-analyst', `collection=${al.shared}&tlp=ultra`), 400, 'INVALID_FILTER');
    expectError(await exportAs('b-analyst', `collection=${al.shared}&cursor=abc`), 400, 'INVALID_FILTER');
  });
});

describe('audit', () => {
  it('lists the own organisation\'s entries to its admins, newest first, with imports and exports', async () => {
    await exportAs('c-admin', `collection=${al.shared}`);
    await importAs('c-admin', `collection=${al.shared}&tlp=clear`, bundle([indicator('audited import')]));
    const a = await h.get('c-admin', '/api/v1/audit');
    expect(a.status, a.body).toBe(200);
    const items = a.json().items as { id: number; orgId: string; action: string; userId: string; source: string; at: string; detail: Record<string, unknown> }[];
    expect(items.every((e) => e.orgId === al.orgs.C)).toBe(true);
    expect(items[0]).toMatchObject({ action: 'intel.import', userId: al.principals['c-admin']!.userId, source: '127.0.0.1', target: al.shared });
    expect(items[0]!.detail).toMatchObject({ total: 1, added: 1, tlp: 'clear' });
    // IntelService audits the submission itself, in the transaction of the objects.
    expect(items[1]).toMatchObject({ action: 'intel.submit' });
    const exp = items.find((e) => e.action === 'intel.export')!;
    expect(exp).toMatchObject({ userId: al.principals['c-admin']!.userId, target: al.shared });
    expect(exp.detail).toMatchObject({ count: expect.any(Number), audience: al.orgs.C });
    expect(items.map((e) => e.id)).toEqual([...items.map((e) => e.id)].sort((x, y) => y - x));
  });

  it('pages with a cursor bound to the organisation; admins only', async () => {
    const all = (await h.get('a-admin', '/api/v1/audit?limit=1000')).json().items as { id: number; orgId: string }[];
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((e) => e.orgId === al.orgs.A)).toBe(true);
    const seen: number[] = [];
    let url = '/api/v1/audit?limit=2';
    let cursor: string | undefined;
    for (;;) {
      const page = (await h.get('a-admin', url)).json() as { items: { id: number }[]; next?: string };
      seen.push(...page.items.map((e) => e.id));
      if (!page.next) break;
      cursor ??= page.next;
      url = `/api/v1/audit?limit=2&cursor=${page.next}`;
    }
    expect(seen).toEqual(all.map((e) => e.id));
    expectError(await h.get('c-admin', `/api/v1/audit?cursor=${cursor!}`), 400, 'INVALID_CURSOR');
    expectError(await h.get('a-admin', '/api/v1/audit?cursor=zz.zz'), 400, 'INVALID_CURSOR');
    expectError(await h.get('a-analyst', '/api/v1/audit'), 403, 'FORBIDDEN');
    expectError(await h.get('a-admin', '/api/v1/audit?limit=-1'), 400, 'INVALID_FILTER');
  });
});
