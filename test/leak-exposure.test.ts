/**
 * The leak test extended to readiness exposure: assets, exposures, advisories and the KEV
 * alerts they raise, created by A at every TLP × recipient shape, read by A, B and C through
 * every REST read path and the live stream. Expected visibility comes from the one release
 * policy (`mayRelease`): zero leaks, every permitted read succeeds, and the alliance summary
 * shows counts only — no asset, organisation or exposure of another member. STIX `vulnerability`
 * objects of the intel store (a source of vulnerability intelligence) at every TLP × recipient
 * shape: an exposure comes from one only for members that may read it, is never released wider
 * than it, and an exposure's view names it only to a reader who may read it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayRelease } from '../src/access/index.js';
import { TLP_LEVELS, type BusEvent, type Tlp } from '../src/core/index.js';
import { eventFor } from '../src/access/index.js';
import { http, makeAlliance, sdo, submitAs, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const events: BusEvent[] = [];
type Shape = 'none' | 'B' | 'B+C';
const SHAPES: Shape[] = ['none', 'B', 'B+C'];
const READERS = { A: 'a-analyst', B: 'b-analyst', C: 'c-analyst' } as const;
type Reader = keyof typeof READERS;
const cases = TLP_LEVELS.flatMap((tlp) => SHAPES.map((shape) => ({ tlp, shape, name: `asset-${tlp}-${shape}` })));
const recipientsOf = (s: Shape) => (s === 'none' ? [] : s === 'B' ? [al.orgs.B] : [al.orgs.B, al.orgs.C]);
const allowed = (tlp: Tlp, recipients: string[], reader: Reader) =>
  mayRelease({ tlp, creatorOrg: al.orgs.A, recipients, originNode: null }, { hop: 'local', orgId: al.orgs[reader], groupIds: [] }, 'read');
const call = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) => h.call(method, `/api/v1${url}`, { token: al.tokens[user]!, ...(body !== undefined ? { body } : {}) });

const KEV = (cve: string, product: string) => ({
  catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00Z', count: 1,
  vulnerabilities: [{ cveID: cve, vendorProject: 'Leakcorp', product, vulnerabilityName: `${product} flaw`, dateAdded: '2099-01-01', shortDescription: 'x', requiredAction: 'Apply updates.', dueDate: '2099-01-22' }],
});

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  al.platform.bus.subscribe((e) => events.push(e));
  // One asset per case, each with its own product, then one KEV entry per product: one exposure and one alert per case.
  for (const [i, c] of cases.entries()) {
    const r = await call('a-analyst', 'POST', '/readiness/assets', { assets: [{ name: c.name, criticality: 'high', products: [`cpe:2.3:a:leakcorp:product${i}:1.0:*:*:*:*:*:*:*`] }], tlp: c.tlp, recipients: recipientsOf(c.shape) });
    expect(r.status, r.body).toBe(201);
  }
  const all = { catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00Z', count: cases.length, vulnerabilities: cases.map((_, i) => KEV(`CVE-2099-${String(1000 + i)}`, `product${i}`).vulnerabilities[0]) };
  const k = await call('c-admin', 'POST', '/readiness/kev/import', all);
  expect(k.status, k.body).toBe(200);
  expect(k.json()).toMatchObject({ exposures: cases.length, alerts: cases.length });
});
afterAll(async () => al.close());

describe('assets, exposures and alerts at every TLP × recipient shape', () => {
  it.each(cases)('$name', async ({ tlp, shape, name }) => {
    const recipients = recipientsOf(shape);
    const assetA = (await call('a-analyst', 'GET', '/readiness/assets')).json().items.find((a: { name: string }) => a.name === name);
    expect(assetA).toBeTruthy();
    const expA = (await call('a-analyst', 'GET', '/readiness/exposures')).json().items.find((e: { assetName: string }) => e.assetName === name);
    expect(expA).toBeTruthy();
    const alertA = (await call('a-analyst', 'GET', '/alerts?source=exposure')).json().alerts.find((a: { entity: string }) => a.entity === expA.cve);
    expect(alertA).toBeTruthy();
    for (const reader of ['B', 'C'] as const) {
      const user = READERS[reader];
      const may = allowed(tlp, recipients, reader);
      const listed = (await call(user, 'GET', '/readiness/assets')).json().items.some((a: { id: string }) => a.id === assetA.id);
      expect(listed, `${reader} lists ${name}`).toBe(may);
      expect((await call(user, 'GET', `/readiness/assets/${assetA.id}`)).status).toBe(may ? 200 : 404);
      const exps = (await call(user, 'GET', '/readiness/exposures')).json().items.some((e: { id: string }) => e.id === expA.id);
      expect(exps).toBe(may);
      expect((await call(user, 'GET', `/readiness/exposures/${expA.id}`)).status).toBe(may ? 200 : 404);
      expect((await call(user, 'GET', `/readiness/exposures?asset=${assetA.id}`)).json().items.length).toBe(may ? 1 : 0);
      // The KEV alert discloses the asset names: it reaches only the member (alliance bodies where released; none here).
      expect((await call(user, 'GET', `/alerts/${alertA.id}`)).status).toBe(404);
      // Writes by another member: indistinguishable from absent when unreadable, refused when readable.
      const st = await call(user, 'POST', `/readiness/exposures/${expA.id}/status`, { status: 'mitigated' });
      expect(st.status).toBe(may ? 403 : 404);
    }
    // The live stream: every event about this asset's exposure reaches exactly who may read it.
    for (const e of events.filter((x) => x.subject === expA.id || x.subject === alertA.id)) {
      for (const reader of ['B', 'C'] as const) {
        const got = eventFor(e, { hop: 'local', orgId: al.orgs[reader], groupIds: [] }) !== null;
        expect(got, `${reader} gets ${e.type}`).toBe(e.subject === alertA.id ? false : allowed(tlp, recipients, reader));
      }
    }
  });
});

describe('advisories', () => {
  const vex = (id: string) => ({
    document: {
      category: 'csaf_vex', csaf_version: '2.0', title: `Leak ${id}`, publisher: { category: 'coordinator', name: 'Alpha', namespace: 'https://alpha.example' },
      tracking: { id, status: 'final', version: '1', initial_release_date: '2099-01-02T00:00:00Z', current_release_date: '2099-01-02T00:00:00Z', revision_history: [{ date: '2099-01-02T00:00:00Z', number: '1', summary: 'x' }] },
    },
    product_tree: { full_product_names: [{ name: 'p', product_id: 'P1', product_identification_helper: { cpe: 'cpe:2.3:a:leakcorp:product0:1.0:*:*:*:*:*:*:*' } }] },
    vulnerabilities: [{ cve: 'CVE-2099-1000', product_status: { known_not_affected: ['P1'] }, flags: [{ label: 'component_not_present', product_ids: ['P1'] }] }],
  });
  const advCases = TLP_LEVELS.flatMap((tlp) => SHAPES.map((shape) => ({ tlp, shape })));
  it.each(advCases)('TLP $tlp shared with $shape', async ({ tlp, shape }) => {
    const recipients = recipientsOf(shape);
    const r = await call('a-analyst', 'POST', '/readiness/advisories/import', { csaf: vex(`LEAK-${tlp}-${shape}`), defaultTlp: tlp, recipients });
    expect(r.status, r.body).toBe(201);
    const id = r.json().advisory.id;
    for (const reader of ['B', 'C'] as const) {
      const may = allowed(tlp, recipients, reader);
      const user = READERS[reader];
      expect((await call(user, 'GET', '/readiness/advisories')).json().items.some((a: { id: string }) => a.id === id)).toBe(may);
      expect((await call(user, 'GET', `/readiness/advisories/${id}`)).status).toBe(may ? 200 : 404);
      const x = await call(user, 'GET', `/readiness/advisories/${id}/csaf`);
      expect(x.status).toBe(may ? 200 : 404);
      if (!may) expect(x.body).not.toContain('LEAK-');
      const p = await call(user, 'POST', `/readiness/advisories/${id}/publish`, { collection: 'alliance' });
      expect(p.status).toBe(may ? 403 : 404);
    }
  });
});

describe('STIX vulnerability objects as a source', () => {
  const stixCases = TLP_LEVELS.flatMap((tlp) => SHAPES.map((shape, j) => ({ tlp, shape, i: TLP_LEVELS.indexOf(tlp) * SHAPES.length + j })));
  const cpe = (i: number) => `cpe:2.3:a:stixcorp:widget${i}:1.0:*:*:*:*:*:*:*`;
  const cve = (i: number) => `CVE-2098-${String(1000 + i)}`;
  const ids = new Map<number, string>();
  beforeAll(async () => {
    // Every member runs every product (green assets: readable by all, so only the object limits the exposure).
    for (const u of ['a-analyst', 'b-analyst', 'c-analyst']) {
      const r = await call(u, 'POST', '/readiness/assets', { assets: [{ name: `${u}-stix-host`, products: stixCases.map((c) => cpe(c.i)) }], tlp: 'green' });
      expect(r.status, r.body).toBe(201);
    }
    for (const c of stixCases) {
      const o = sdo('vulnerability', { name: `stix-leak-${c.tlp}-${c.shape}`, external_references: [{ source_name: 'cve', external_id: cve(c.i) }, { source_name: 'cpe', external_id: cpe(c.i) }] });
      ids.set(c.i, o.id as string);
      await submitAs(al, 'a-analyst', al.shared, { objects: [o], defaultTlp: c.tlp, recipients: recipientsOf(c.shape) });
    }
    await al.platform.exposure.stix.sync();
  });

  it.each(stixCases)('TLP $tlp shared with $shape', async ({ tlp, shape, i }) => {
    const recipients = recipientsOf(shape);
    const objectId = ids.get(i)!;
    for (const reader of ['A', 'B', 'C'] as const) {
      const user = READERS[reader];
      const may = reader === 'A' || allowed(tlp, recipients, reader);
      const seen = (await call(user, 'GET', `/readiness/exposures?cve=${cve(i)}&limit=1000`)).json().items as { id: string; orgId: string; via: string }[];
      // Its own exposure exists exactly when it may read the object.
      expect(seen.some((e) => e.orgId === al.orgs[reader]), `${reader} exposed by ${tlp}/${shape}`).toBe(may);
      for (const e of seen) {
        expect(e.via).toBe('cve5 stix');
        // Any exposure it can see from this object: it may read the object (never released wider than it).
        expect(may, `${reader} sees ${e.orgId}'s exposure`).toBe(true);
        const v = await call(user, 'GET', `/readiness/exposures/${e.id}`);
        expect(v.status).toBe(200);
        expect(v.json().intel.map((x: { id: string }) => x.id)).toEqual([objectId]);
      }
      if (!may) {
        // Nothing about the object anywhere it reads.
        for (const url of ['/readiness/exposures?limit=1000', '/readiness/exposures/summary', '/readiness/exposures/trend']) {
          const body = (await call(user, 'GET', url)).body;
          expect(body, `${reader} ${url}`).not.toContain(cve(i));
          expect(body).not.toContain(objectId);
        }
      }
    }
  });
});

describe('alliance view', () => {
  it('shows per KEV entry how many members are exposed, never which assets or members', async () => {
    await call('b-analyst', 'POST', '/readiness/assets', { assets: [{ name: 'b-secret-host', products: ['cpe:2.3:a:leakcorp:product1:1.0:*:*:*:*:*:*:*'] }] });
    const s = await call('c-analyst', 'GET', '/readiness/exposures/summary');
    expect(s.status).toBe(200);
    const body = s.body;
    expect(body).not.toMatch(/asset-|b-secret-host|readiness-asset--|readiness-exposure--/);
    expect(body).not.toContain(al.orgs.A);
    expect(body).not.toContain(al.orgs.B);
    const row = s.json().alliance.kev.find((k: { cve: string }) => k.cve === 'CVE-2099-1001');
    expect(row.members).toBe(2); // A and B (B's new asset matched the existing KEV entry)
    // C's own: only the exposures the STIX objects C may read gave it (none known exploited), nothing of A's or B's.
    expect(s.json().own.kev).toBe(0);
    expect(s.json().own.open).toBe((await call('c-analyst', 'GET', `/readiness/exposures?org=${al.orgs.C}&limit=1000`)).json().items.length);
  });

  it('answers bad input with 4xx JSON errors', async () => {
    expect((await call('a-analyst', 'POST', '/readiness/kev/import', { catalogVersion: 'x' })).status).toBe(400);
    expect((await call('a-analyst', 'POST', '/readiness/inventory/import', { content: 'name,products\n"x' })).status).toBe(400);
    expect((await call('a-analyst', 'POST', '/readiness/exposures/readiness-exposure--00000000-0000-5000-a000-000000000000/status', { status: 'gone' })).status).toBe(400);
    expect((await call('a-analyst', 'GET', '/readiness/exposures/nope')).status).toBe(404);
    expect((await call('a-analyst', 'GET', '/readiness/exposures?status=weird')).status).toBe(400);
    expect((await call('a-analyst', 'GET', '/readiness/vulnerabilities/CVE-1')).status).toBe(404);
    // Query values the route schema coerces (boolean, integer) are read as such.
    const kevOnly = await call('a-analyst', 'GET', '/readiness/vulnerabilities?kev=true&limit=5000');
    expect(kevOnly.status, kevOnly.body).toBe(200);
    expect(kevOnly.json().items.length).toBe(cases.length);
    expect((await call('a-analyst', 'GET', '/readiness/exposures?kev=true&limit=3')).json().items).toHaveLength(3);
    expect((await call('a-analyst', 'GET', '/readiness/exposures?kev=maybe')).status).toBe(400);
    // Permitted (not 403), and refused whole: its only entry is malformed (a snapshot with no readable entry removes nothing).
    expect((await call('b-analyst', 'POST', '/readiness/kev/import', KEV('CVE-2099-9', 'x'))).status).toBe(400);
    expect((await h.call('POST', '/api/v1/readiness/kev/import', { token: al.tokens['a-responder']!, body: KEV('CVE-2099-9', 'x') })).status).toBe(403);
    const imp = await call('a-analyst', 'POST', '/readiness/inventory/import', { content: 'name,criticality,products\nweb-1,high,cpe:2.3:a:leakcorp:product2:1.0:*:*:*:*:*:*:*\nbad,extreme,\n' });
    expect(imp.status, imp.body).toBe(201);
    expect(imp.json()).toMatchObject({ created: 1, refused: [{ ref: 'bad', reason: expect.stringMatching(/criticality/) }] });
  });
});
