/**
 * Readiness exposure: the real files of shared/data/readiness import with every entry
 * accounted for; inventory × KEV/CVE matching; the exposure lifecycle (priority, due date,
 * status history, KEV alert, KEV removal); CSAF 2.0 advisories validate against the OASIS
 * schema after export and round-trip; a VEX statement clears an exposure.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { sharedPath } from './helpers/shared.js';
import { makeAlliance, type Alliance } from './rest-fixtures.js';
import type { AuthedActor } from '../src/respond/index.js';
import { parseCsaf } from '../src/readiness/csaf/csaf.js';

const DATA = sharedPath('data/readiness');
const readJson = (rel: string): unknown => JSON.parse(readFileSync(path.join(DATA, rel), 'utf8'));
const KEV_FILE = 'kev/known_exploited_vulnerabilities-2024.09.09.json';
const CSAF_FILES = readdirSync(path.join(DATA, 'csaf')).filter((f) => f.endsWith('.json') && f !== 'csaf_json_schema.json').sort();

function csafValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  // The CSAF schema refers to FIRST's CVSS schemas, which are not in the shared data: these stand-ins
  // check the properties FIRST's schemas require (version, vectorString, baseScore, baseSeverity for v3).
  for (const [v, extra] of [['2.0', []], ['3.0', ['baseSeverity']], ['3.1', ['baseSeverity']]] as const) {
    ajv.addSchema({
      $id: `https://www.first.org/cvss/cvss-v${v}.json`, type: 'object', required: ['version', 'vectorString', 'baseScore', ...extra],
      properties: { version: { const: v }, vectorString: { type: 'string' }, baseScore: { type: 'number', minimum: 0, maximum: 10 } },
    });
  }
  return ajv.compile(readJson('csaf/csaf_json_schema.json') as object);
}

let al: Alliance;
const actor = (user: string): AuthedActor => ({ principal: al.principals[user]!, source: 'test' });
const kev = () => readJson(KEV_FILE) as { vulnerabilities: Record<string, unknown>[]; count: number };

beforeEach(async () => {
  al = await makeAlliance();
});
afterEach(async () => {
  await al.close();
});

describe('real files', () => {
  it('imports every KEV entry of the 2024.09.09 catalog, CVE 5 records and the EPSS extract, each accounted for', async () => {
    const { exposures } = al.platform.exposure;
    const k = await exposures.importKev(actor('a-analyst'), kev());
    expect(k.entries + k.refused.length).toBe(1165);
    expect(k.entries).toBe(1165);
    expect(k.added).toHaveLength(1165);
    const cveFiles = readdirSync(path.join(DATA, 'cve')).filter((f) => /^CVE-.*\.json$/.test(f));
    const c = await exposures.importCves(actor('a-analyst'), [...cveFiles.map((f) => readJson(`cve/${f}`)), { dataType: 'nope' }]);
    expect(c.imported).toBe(5);
    expect(c.refused).toEqual([{ ref: '#5', reason: 'not a CVE JSON 5 record (dataType must be CVE_RECORD)' }]);
    const e = await exposures.importEpss(actor('a-analyst'), readFileSync(path.join(DATA, 'epss/epss_kev_nvd-2024-09-10.csv'), 'utf8'));
    expect(e.imported + e.refused.length).toBe(1165);
    expect(e.imported).toBe(1165);
    const v = await exposures.vuln('CVE-2024-3400');
    expect(v?.kev?.dueDate).toBe('2024-04-19');
    expect(v?.epss?.score).toBeGreaterThan(0.9);
    expect(v?.cvss.map((s) => s.source)).toContain('cna:palo_alto');
    expect(v?.affected.some((r) => r.kind === 'cve5' && r.source === 'adp:CISA-ADP')).toBe(true);
    const ransomware = (await exposures.listVulns({ kev: true, limit: 5000 })).filter((x) => x.kev?.ransomware);
    expect(ransomware.length).toBe(kev().vulnerabilities.filter((x) => x.knownRansomwareCampaignUse === 'Known').length);
  });

  it('refuses malformed KEV entries with a reason, and the catalog as a whole when it is not one', async () => {
    const { exposures } = al.platform.exposure;
    const doc = kev();
    doc.vulnerabilities = [doc.vulnerabilities[0]!, { ...doc.vulnerabilities[1], cveID: 'CVE-12' }, { ...doc.vulnerabilities[2], dueDate: undefined }, doc.vulnerabilities[0]!];
    const r = await exposures.importKev(actor('a-analyst'), doc);
    expect(r.entries).toBe(1);
    expect(r.refused.map((x) => x.reason)).toEqual(['cveID CVE-12 is not CVE-YYYY-NNNN', 'missing dueDate', 'duplicate cveID in the catalog']);
    await expect(exposures.importKev(actor('a-analyst'), { nope: 1 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(exposures.importKev(actor('b-analyst'), { vulnerabilities: [] })).resolves.toBeTruthy();
  });

  it('imports every CSAF example (VEX too); the export validates against the CSAF 2.0 schema and round-trips', async () => {
    const validate = csafValidator();
    const { advisories } = al.platform.exposure;
    expect(CSAF_FILES).toHaveLength(5);
    for (const f of CSAF_FILES) {
      const original = readJson(`csaf/${f}`);
      const { advisory } = await advisories.import(actor('a-analyst'), original);
      const exported = await advisories.exportCsaf(actor('a-analyst'), advisory.id);
      expect(validate(exported), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
      const again = parseCsaf(exported);
      const first = parseCsaf(original);
      // Documents without a TLP get the member's default (AMBER), which the export states.
      expect(again).toEqual({ ...first, tlp: first.tlp ?? 'amber' });
      expect(advisory.tlp).toBe(first.tlp ?? 'amber');
    }
  });

  it('exports AMBER+STRICT as RED with a note (CSAF 2.0 has TLP 1.0 labels only)', async () => {
    const { advisories } = al.platform.exposure;
    const doc = readJson('csaf/2022-evd-uc-08-001.json');
    const { advisory } = await advisories.import(actor('a-analyst'), doc, { defaultTlp: 'amber+strict' });
    expect(advisory.tlp).toBe('amber+strict');
    const out = (await advisories.exportCsaf(actor('a-analyst'), advisory.id)) as { document: { distribution: { tlp: { label: string }; text: string } } };
    expect(out.document.distribution.tlp.label).toBe('RED');
    expect(out.document.distribution.text).toMatch(/AMBER\+STRICT/);
    expect(csafValidator()(out)).toBe(true);
    await expect(advisories.import(actor('a-analyst'), { document: { csaf_version: '2.1' } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

const PAN = 'cpe:2.3:o:paloaltonetworks:pan-os:10.2.5:*:*:*:*:*:*:*';
const JENKINS_OLD = 'cpe:2.3:a:jenkins:jenkins:2.426.2:*:*:*:*:*:*:*';
const JENKINS_FIXED = 'cpe:2.3:a:jenkins:jenkins:2.426.3:*:*:*:*:*:*:*';

describe('exposure lifecycle', () => {
  it('a KEV update hits the inventory: exposure with priority and due date, an alert for the member only, status history, removal diff', async () => {
    const { exposures } = al.platform.exposure;
    const full = kev();
    const without = { ...full, vulnerabilities: full.vulnerabilities.filter((v) => v.cveID !== 'CVE-2024-3400' && v.cveID !== 'CVE-2024-23897') };
    await exposures.importKev(actor('a-analyst'), without);
    const cves = ['CVE-2024-3400', 'CVE-2024-23897'].map((id) => readJson(`cve/${id}.json`));
    await exposures.importCves(actor('a-analyst'), cves);
    const inv = await exposures.importAssets(actor('a-analyst'), [
      { name: 'edge-fw-1', criticality: 'critical', vitalFunction: 'government network', products: [PAN] },
      { name: 'ci-old', criticality: 'medium', products: [JENKINS_OLD] },
      { name: 'ci-fixed', criticality: 'medium', products: [JENKINS_FIXED] },
      { name: 'broken', products: ['cpe:2.3:a:x'] },
    ]);
    expect(inv.created).toBe(3);
    expect(inv.refused).toEqual([{ ref: 'broken', reason: expect.stringMatching(/11 attributes/) }]);
    // CVE records alone (not in KEV yet): version-aware exposures, no alerts.
    const ours = new Set(['CVE-2024-3400', 'CVE-2024-23897']);
    // Other PAN-OS KEV entries (no CVE record here) match by vendor and product, confidence `product`.
    const others = (await exposures.listExposures(actor('a-analyst'))).filter((e) => !ours.has(e.cve));
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((e) => e.kev && e.confidence === 'product' && e.assetName === 'edge-fw-1')).toBe(true);
    let mine = (await exposures.listExposures(actor('a-analyst'))).filter((e) => ours.has(e.cve));
    expect(mine.map((e) => `${e.assetName} ${e.cve} ${e.kev}`).sort()).toEqual(['ci-old CVE-2024-23897 false', 'edge-fw-1 CVE-2024-3400 false']);

    al.clock.advance(60_000);
    const r = await exposures.importKev(actor('a-analyst'), full);
    expect(r.added.sort()).toEqual(['CVE-2024-23897', 'CVE-2024-3400']);
    mine = (await exposures.listExposures(actor('a-analyst'))).filter((e) => ours.has(e.cve));
    expect(mine.every((e) => e.kev && e.confidence === 'version')).toBe(true);
    // Both KEV: the one with known ransomware use (Jenkins CVE-2024-23897) comes first.
    expect(mine.map((e) => [e.cve, e.ransomware])).toEqual([['CVE-2024-23897', true], ['CVE-2024-3400', false]]);
    // Newly known exploited: alerts in A's picture; B sees neither alert nor exposure.
    // The exposures existed (from the CVE records); becoming known exploited raises one alert per CVE.
    expect(r.alerts).toBe(2);
    const fresh = await exposures.importAssets(actor('a-analyst'), [{ name: 'edge-fw-2', criticality: 'high', products: [PAN] }]);
    expect(fresh.exposures).toBe(others.length + 1);
    const alertsA = await al.platform.alerts.list(actor('a-analyst'), { sources: ['exposure'] });
    expect(alertsA.map((a) => a.entity).sort()).toEqual(['CVE-2024-23897', 'CVE-2024-3400']); // inventory growth is not a new KEV entry
    expect(alertsA.find((a) => a.entity === 'CVE-2024-3400')!.matched).toMatchObject({ kind: 'exposure', assets: ['edge-fw-1'] });
    expect(await al.platform.alerts.list(actor('b-analyst'), { sources: ['exposure'] })).toEqual([]);

    const f = mine.find((e) => e.assetName === 'edge-fw-1')!;
    expect(f.dueDate).toBe(new Date(al.clock.now() - 60_000 + 14 * 86_400_000).toISOString().slice(0, 10));
    expect(f.cisaDueDate).toBe('2024-04-19');
    const moved = await exposures.setStatus(actor('a-responder'), f.id, { status: 'accepted', note: 'compensating control' });
    expect(moved.status).toBe('accepted');
    await expect(exposures.setStatus(actor('a-responder'), f.id, { status: 'closed' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(exposures.setStatus(actor('b-analyst'), f.id, { status: 'open' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const hist = await exposures.getExposure(actor('a-analyst'), f.id);
    expect(hist.history.map((h) => h.kind)).toEqual(['readiness-exposure.opened', 'readiness-exposure.kev', 'readiness-exposure.status']);
    expect(hist.history[2]!.data).toMatchObject({ from: 'open', to: 'accepted', note: 'compensating control' });
    expect(await exposures.listExposures(actor('b-analyst'))).toEqual([]);

    // CISA drops an entry silently: the next snapshot marks it removed, first/last seen kept.
    al.clock.advance(86_400_000);
    const dropped = await exposures.importKev(actor('a-analyst'), { ...full, vulnerabilities: full.vulnerabilities.filter((v) => v.cveID !== 'CVE-2024-23897') });
    expect(dropped.removed).toEqual(['CVE-2024-23897']);
    const gone = await exposures.vuln('CVE-2024-23897');
    expect(gone?.kev?.removedAt).not.toBeNull();
    expect(gone!.kev!.removedAt! > gone!.kev!.lastSeen).toBe(true); // seen in one snapshot, absent from the next
  });

  it('a new KEV entry matching by vendor and product raises one alert per member, released to that member only', async () => {
    const { exposures } = al.platform.exposure;
    await exposures.importAssets(actor('a-analyst'), [{ name: 'vpn-1', criticality: 'high', products: ['cpe:/a:ivanti:connect_secure:22.3'] }]);
    await exposures.importAssets(actor('b-analyst'), [{ name: 'mail', criticality: 'low', products: [{ vendor: 'Acme', product: 'Mailer', version: '1.0' }] }]);
    const entry = { cveID: 'CVE-2099-0001', vendorProject: 'Ivanti', product: 'Connect Secure', vulnerabilityName: 'Ivanti Connect Secure test', dateAdded: '2099-01-01', shortDescription: 'x', requiredAction: 'Apply updates.', dueDate: '2099-01-22', knownRansomwareCampaignUse: 'Known' };
    const r = await exposures.importKev(actor('c-admin'), { catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00Z', count: 1, vulnerabilities: [entry] });
    expect(r).toMatchObject({ exposures: 1, alerts: 1 });
    const [alert] = await al.platform.alerts.list(actor('a-analyst'), { sources: ['exposure'] });
    expect(alert).toMatchObject({ source: 'exposure', severity: 'critical', entity: 'CVE-2099-0001', orgId: al.orgs.A });
    expect(alert!.matched).toMatchObject({ kind: 'exposure', assets: ['vpn-1'] });
    expect(await al.platform.alerts.list(actor('b-analyst'), { sources: ['exposure'] })).toEqual([]);
    const [e] = await exposures.listExposures(actor('a-analyst'));
    expect(e).toMatchObject({ confidence: 'product', kev: true, ransomware: true, via: 'kev:cisa' });
    const sumB = await exposures.summary(actor('b-analyst'));
    expect(sumB.own.open).toBe(0);
    expect(sumB.alliance.kev).toEqual([{ cve: 'CVE-2099-0001', name: 'Ivanti Connect Secure test', members: 1 }]);
    expect(JSON.stringify(sumB)).not.toContain('vpn-1');
  });

  it('a CSAF VEX statement (known_not_affected) clears the matching exposure and links the advisory', async () => {
    const { exposures, advisories } = al.platform.exposure;
    await exposures.importCves(actor('a-analyst'), [readJson('cve/CVE-2024-3400.json')]);
    await exposures.importAssets(actor('a-analyst'), [{ name: 'fw', criticality: 'high', products: [PAN] }, { name: 'fw-b', criticality: 'high', products: ['cpe:2.3:o:paloaltonetworks:pan-os:11.0.1:*:*:*:*:*:*:*'] }]);
    expect(await exposures.listExposures(actor('a-analyst'))).toHaveLength(2); // no KEV loaded here: CVE 5 ranges only
    const { buildVex } = await import('../src/readiness/csaf/csaf.js');
    const vex = buildVex({
      trackingId: 'A-VEX-2024-0001', title: 'PAN-OS 10.2.5 with device telemetry disabled', publisher: 'Alpha CERT', namespace: 'https://alpha.example', at: '2024-04-20T00:00:00.000Z',
      product: { name: 'PAN-OS 10.2.5', cpe: PAN }, statements: [{ cve: 'CVE-2024-3400', status: 'known_not_affected', justification: 'vulnerable_code_cannot_be_controlled_by_adversary' }],
    });
    expect(csafValidator()(vex)).toBe(true);
    const { outcomes, advisory } = await advisories.import(actor('a-analyst'), vex);
    expect(outcomes).toEqual([{ exposure: expect.any(String), cve: 'CVE-2024-3400', status: 'false_positive', action: 'cleared' }]);
    const cleared = await exposures.getExposure(actor('a-analyst'), outcomes[0]!.exposure);
    expect(cleared.status).toBe('false_positive');
    expect(cleared.advisories).toEqual([advisory.id]);
    expect(cleared.history.at(-1)!.data).toMatchObject({ by: 'vex', note: expect.stringContaining('vulnerable_code_cannot_be_controlled_by_adversary') });
    const other = (await exposures.listExposures(actor('a-analyst'))).find((e) => e.assetName === 'fw-b')!;
    expect(other.status).toBe('open');
    // B cannot read A's advisory (AMBER by default) on any path.
    await expect(advisories.get(actor('b-analyst'), advisory.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(advisories.exportCsaf(actor('b-analyst'), advisory.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await advisories.list(actor('b-analyst'))).toEqual([]);
    // Publishing to the alliance: STIX vulnerability + course-of-action + relationship, and the advisory becomes readable.
    const pub = await advisories.publish(actor('a-analyst'), advisory.id, { collection: al.shared, tlp: 'green' });
    expect(pub.stix.length).toBe(1);
    expect((await advisories.get(actor('b-analyst'), advisory.id)).trackingId).toBe('A-VEX-2024-0001');
  });
});

describe('large inventories', () => {
  it('the summary counts a member with 160,000 exposures (more than a spread argument list holds)', async () => {
    const { exposures } = al.platform.exposure;
    const entry = { cveID: 'CVE-2099-0002', vendorProject: 'Acme', product: 'Web', vulnerabilityName: 'Acme Web test', dateAdded: '2099-01-01', shortDescription: 'x', requiredAction: 'Apply updates.', dueDate: '2099-01-22', knownRansomwareCampaignUse: 'Unknown' };
    await exposures.importKev(actor('a-analyst'), { catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00Z', count: 1, vulnerabilities: [entry] });
    const N = 160_000;
    const nowUs = al.clock.now() * 1000;
    // Written straight to the store (matching 160,000 exposures takes minutes): what the matcher writes.
    const rows = Array.from({ length: N }, (_, i) => ({
      id: `readiness-exposure--00000000-0000-5000-a000-${String(i).padStart(12, '0')}`, kind: 'readiness-exposure', parentId: `readiness-asset--${i}`, creatorOrg: al.orgs.A,
      tlp: 'amber' as const, recipients: [], originNode: null, exerciseId: null, state: 'open', createdUs: nowUs, updatedUs: nowUs + i, rev: 1,
      json: JSON.stringify({ orgId: al.orgs.A, assetId: `readiness-asset--${i}`, assetName: `h${i}`, cve: 'CVE-2099-0002', kev: true, dueDate: '2099-01-15' }),
    }));
    for (let i = 0; i < N; i += 10_000) await al.platform.store.insertRecords(rows.slice(i, i + 10_000));
    const sum = await exposures.summary(actor('a-analyst'));
    expect(sum.own).toMatchObject({ open: N, kev: N });
    expect(sum.alliance).toEqual({ members: 1, kev: [{ cve: 'CVE-2099-0002', name: 'Acme Web test', members: 1 }] });
  }, 120_000);
});

describe('inventory files', () => {
  const importCsv = async (content: string) => {
    const res = await al.app.inject({ method: 'POST', url: '/api/v1/readiness/inventory/import', headers: { authorization: `Bearer ${al.tokens['a-analyst']}` }, payload: { content } });
    expect(res.statusCode).toBe(201);
    return res.json() as { imported: number; created: number; updated: number; refused: { ref: string; reason: string }[] };
  };

  it('rows naming the same host (one row per product, any case) make one asset with every product', async () => {
    const csv = '\uFEFFname,vital_function,criticality,owner,vendor,product,version\n'
      + 'web-1,portal,medium,ops,Apache Software Foundation,HTTP  Server,2.4.57-1ubuntu2\n'
      + 'WEB-1,,High,,OpenSSL,OpenSSL,3.0.2\n'
      + 'web-2,,,,,,\n'
      + ',x,low,,a,b,1\n';
    const r = await importCsv(csv);
    expect(r).toMatchObject({ imported: 2, created: 2, updated: 0, refused: [{ ref: '#4', reason: 'asset name: 1–200 characters' }] });
    const web1 = (await al.platform.exposure.exposures.listAssets(actor('a-analyst'))).find((a) => a.name.toLowerCase() === 'web-1')!;
    expect(web1).toMatchObject({ name: 'web-1', vitalFunction: 'portal', owner: 'ops', criticality: 'high' });
    expect(web1.products).toEqual(['cpe:2.3:a:apache_software_foundation:http_server:2.4.57-1ubuntu2:*:*:*:*:*:*:*', 'cpe:2.3:a:openssl:openssl:3.0.2:*:*:*:*:*:*:*']);
  });

  it('reads a CSV separated by semicolons or tabs (spreadsheets of many locales), products quoted', async () => {
    const semi = 'name;vital_function;criticality;owner;products\n'
      + 'semi-1;portal;high;ops;"cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*;cpe:2.3:a:openssl:openssl:3.0.2:*:*:*:*:*:*:*"\n';
    expect(await importCsv(semi)).toMatchObject({ imported: 1, refused: [] });
    expect(await importCsv('name\tcriticality\tcpe\ntab-1\tlow\tcpe:2.3:a:openssl:openssl:3.0.2:*:*:*:*:*:*:*\n')).toMatchObject({ imported: 1, refused: [] });
    const assets = await al.platform.exposure.exposures.listAssets(actor('a-analyst'));
    expect(assets.find((a) => a.name === 'semi-1')).toMatchObject({ criticality: 'high', owner: 'ops', products: ['cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*', 'cpe:2.3:a:openssl:openssl:3.0.2:*:*:*:*:*:*:*'] });
    expect(assets.find((a) => a.name === 'tab-1')).toMatchObject({ criticality: 'low', products: ['cpe:2.3:a:openssl:openssl:3.0.2:*:*:*:*:*:*:*'] });
  });
});

describe('exposure lists', () => {
  it('filters by kev and cve over every exposure the reader may read, highest priority first, not over the newest 1,000', async () => {
    const { exposures } = al.platform.exposure;
    const nowUs = al.clock.now() * 1000;
    const row = (i: number, cve: string, kev: boolean, priority: number) => ({
      id: `readiness-exposure--00000000-0000-5000-a000-${String(i).padStart(12, '0')}`, kind: 'readiness-exposure', parentId: `readiness-asset--${i}`, creatorOrg: al.orgs.A,
      tlp: 'amber' as const, recipients: [], originNode: null, exerciseId: null, state: 'open', createdUs: nowUs + i, updatedUs: nowUs + i, rev: 1,
      json: JSON.stringify({ orgId: al.orgs.A, assetId: `readiness-asset--${i}`, assetName: `h${i}`, cve, kev, priority, dueDate: '2099-01-15' }),
    });
    // The KEV exposure is the oldest; 1,200 newer ones are not KEV.
    await al.platform.store.insertRecords([row(0, 'CVE-2099-0003', true, 900), ...Array.from({ length: 1200 }, (_, i) => row(i + 1, 'CVE-2099-0004', false, 10))]);
    expect((await exposures.listExposures(actor('a-analyst'), { kev: true })).map((e) => e.cve)).toEqual(['CVE-2099-0003']);
    expect(await exposures.listExposures(actor('a-analyst'), { cve: 'CVE-2099-0003' })).toHaveLength(1);
    expect((await exposures.listExposures(actor('a-analyst'), { limit: 5 }))[0]!.cve).toBe('CVE-2099-0003');
    expect(await exposures.listExposures(actor('b-analyst'), { kev: true })).toEqual([]);
  });
});

describe('KEV snapshots', () => {
  it('a refused entry is not a removal, and a snapshot with no readable entry is refused whole', async () => {
    const { exposures } = al.platform.exposure;
    const e1 = { cveID: 'CVE-2099-0005', vendorProject: 'Acme', product: 'Web', vulnerabilityName: 'one', dateAdded: '2099-01-01', shortDescription: 'x', requiredAction: 'Apply updates.', dueDate: '2099-01-22', knownRansomwareCampaignUse: 'Unknown' };
    const e2 = { ...e1, cveID: 'CVE-2099-0006', vulnerabilityName: 'two' };
    const snap = (vulnerabilities: unknown[]) => ({ catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00Z', count: vulnerabilities.length, vulnerabilities });
    await exposures.importKev(actor('a-analyst'), snap([e1, e2]));
    const r = await exposures.importKev(actor('a-analyst'), snap([e1, { ...e2, dueDate: '22/01/2099' }]));
    expect(r).toMatchObject({ entries: 1, removed: [], refused: [{ ref: 'CVE-2099-0006', reason: 'dateAdded / dueDate must be YYYY-MM-DD' }] });
    expect((await exposures.vuln('CVE-2099-0006'))?.kev?.removedAt).toBeNull();
    await expect(exposures.importKev(actor('a-analyst'), snap([{ cveID: 'CVE-2099-0007' }]))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    for (const cve of ['CVE-2099-0005', 'CVE-2099-0006']) expect((await exposures.vuln(cve))?.kev?.removedAt).toBeNull();
  });
});

describe('asset lists', () => {
  it('?org= lists the assets of that member released to the reader even when newer assets of others fill the page', async () => {
    const { exposures } = al.platform.exposure;
    await exposures.importAssets(actor('a-analyst'), [{ name: 'a-old', products: [] }], { tlp: 'amber', recipients: [al.orgs.C] });
    al.clock.advance(1000);
    await exposures.importAssets(actor('c-analyst'), Array.from({ length: 30 }, (_, i) => ({ name: `c-${i}`, products: [] })));
    expect((await exposures.listAssets(actor('c-analyst'), { orgId: al.orgs.A, limit: 10 })).map((a) => a.name)).toEqual(['a-old']);
    expect(await exposures.listAssets(actor('b-analyst'), { orgId: al.orgs.A })).toEqual([]);
  });
});
