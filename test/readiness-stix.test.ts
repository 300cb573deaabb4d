/**
 * STIX `vulnerability` objects of the intel store as a source of vulnerability intelligence
 * (src/readiness/exposure/stix.ts): CVE + CPE references match the inventories of the
 * organisations that may read the object, and no other; an exposure is released no wider than
 * the object; an exposure's view lists only the objects its owner and its reader may both read;
 * revoked objects and objects without a CVE do not count; malformed references are ignored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeAlliance, sdo, submitAs, type Alliance, type Stix } from './rest-fixtures.js';
import type { AuthedActor } from '../src/respond/index.js';
import { referencesOf } from '../src/readiness/exposure/index.js';

let al: Alliance;
const actor = (user: string): AuthedActor => ({ principal: al.principals[user]!, source: 'test' });
const get = (user: string, url: string) => al.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${al.tokens[user]!}` } });
const vuln = (cve: string, cpes: string[], extra: Stix = {}) => sdo('vulnerability', {
  name: `${cve} in the widget`, external_references: [{ source_name: 'cve', external_id: cve }, ...cpes.map((c) => ({ source_name: 'cpe', external_id: c }))], ...extra,
});
const WIDGET = 'cpe:2.3:a:acme:widget:2.1:*:*:*:*:*:*:*';

beforeEach(async () => {
  al = await makeAlliance();
  const { exposures } = al.platform.exposure;
  for (const u of ['a-analyst', 'b-analyst', 'c-analyst']) {
    await exposures.importAssets(actor(u), [{ name: `${u}-host`, criticality: 'high', products: [WIDGET, 'cpe:2.3:a:other:thing:1:*:*:*:*:*:*:*'] }], { tlp: 'green' });
  }
});
afterEach(async () => {
  await al.platform.exposure.stix.stop();
  await al.close();
});

/** The reader's own organisation's exposures (green exposures of others are visible too, by the policy). */
const cvesOf = async (user: string) => (await al.platform.exposure.exposures.listExposures(actor(user), { orgId: al.principals[user]!.orgId })).map((e) => `${e.cve} ${e.via} ${e.assetName}`).sort();

describe('STIX vulnerability objects as a source', () => {
  it('match only the inventories of organisations that may read the object', async () => {
    // A's private collection, TLP:AMBER: only A may read it.
    await submitAs(al, 'a-analyst', al.privateA, { objects: [vuln('CVE-2031-0001', [WIDGET])], defaultTlp: 'amber' });
    // The shared collection, TLP:AMBER for A and B only.
    await submitAs(al, 'a-analyst', al.shared, { objects: [vuln('CVE-2031-0002', ['cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*'])], defaultTlp: 'amber', recipients: [al.orgs.B] });
    // Shared, TLP:GREEN: everyone; a version range does not apply (the CPE names 3.0 only).
    await submitAs(al, 'b-analyst', al.shared, { objects: [vuln('CVE-2031-0003', [WIDGET]), vuln('CVE-2031-0004', ['cpe:2.3:a:acme:widget:3.0:*:*:*:*:*:*:*'])], defaultTlp: 'green' });
    await al.platform.exposure.stix.sync();
    expect(await cvesOf('a-analyst')).toEqual(['CVE-2031-0001 cve5 stix a-analyst-host', 'CVE-2031-0002 cve5 stix a-analyst-host', 'CVE-2031-0003 cve5 stix a-analyst-host']);
    expect(await cvesOf('b-analyst')).toEqual(['CVE-2031-0002 cve5 stix b-analyst-host', 'CVE-2031-0003 cve5 stix b-analyst-host']);
    expect(await cvesOf('c-analyst')).toEqual(['CVE-2031-0003 cve5 stix c-analyst-host']);
    // Released no wider than the object: A's green asset, amber object → an amber exposure.
    const a1 = (await al.platform.exposure.exposures.listExposures(actor('a-analyst'), { cve: 'CVE-2031-0001' }))[0]!;
    const row = await al.platform.store.getRecord(a1.id);
    expect(row?.tlp).toBe('amber');
    expect(row?.recipients).toEqual([]);
    // The exposure's view names the objects its owner and reader may both read; its via never names one.
    const view = (await get('a-analyst', `/readiness/exposures/${a1.id}`)).json();
    expect(view.intel.map((o: { name: string }) => o.name)).toEqual(['CVE-2031-0001 in the widget']);
    const b2 = (await al.platform.exposure.exposures.listExposures(actor('b-analyst'), { cve: 'CVE-2031-0002' }))[0]!;
    expect((await get('b-analyst', `/readiness/exposures/${b2.id}`)).json().intel).toHaveLength(1);
    // A later commit is followed too (nudged by the intel commit, or a sync).
    await submitAs(al, 'c-analyst', al.shared, { objects: [vuln('CVE-2031-0005', [WIDGET])], defaultTlp: 'amber' });
    await al.platform.exposure.stix.sync();
    expect(await cvesOf('c-analyst')).toEqual(['CVE-2031-0003 cve5 stix c-analyst-host', 'CVE-2031-0005 cve5 stix c-analyst-host']);
    expect(await cvesOf('a-analyst')).not.toContain('CVE-2031-0005 cve5 stix a-analyst-host');
    // A pattern CPE (no product key): every readable inventory is tested.
    await submitAs(al, 'a-analyst', al.privateA, { objects: [vuln('CVE-2031-0006', ['cpe:2.3:a:acme:wid*:*:*:*:*:*:*:*:*'])], defaultTlp: 'amber' });
    await al.platform.exposure.stix.sync();
    expect(await cvesOf('a-analyst')).toContain('CVE-2031-0006 cve5 stix a-analyst-host');
    expect(await cvesOf('b-analyst')).not.toContain('CVE-2031-0006 cve5 stix b-analyst-host');
  });

  it('never lists an object in an exposure view that the owner or the reader cannot read', async () => {
    const { exposures } = al.platform.exposure;
    // An exposure from public intelligence (KEV), on an asset of A shared with B.
    await exposures.importAssets(actor('a-analyst'), [{ name: 'shared-host', products: ['cpe:2.3:a:sharedco:gateway:1.0:*:*:*:*:*:*:*'] }], { tlp: 'amber', recipients: [al.orgs.B] });
    await exposures.importKev(actor('a-analyst'), { catalogVersion: '1', dateReleased: '2026-03-01T00:00:00Z', count: 1, vulnerabilities: [{ cveID: 'CVE-2031-0100', vendorProject: 'Sharedco', product: 'Gateway', vulnerabilityName: 'gw', dateAdded: '2026-03-01', shortDescription: 'x', requiredAction: 'patch', dueDate: '2026-03-22' }] });
    // A's private note about that CVE (no CPE: nothing to match, only intel).
    await submitAs(al, 'a-analyst', al.privateA, { objects: [vuln('CVE-2031-0100', [])], defaultTlp: 'amber' });
    await al.platform.exposure.stix.sync();
    const e = (await exposures.listExposures(actor('a-analyst'), { cve: 'CVE-2031-0100' }))[0]!;
    expect((await get('a-analyst', `/readiness/exposures/${e.id}`)).json().intel).toHaveLength(1);
    const asB = await get('b-analyst', `/readiness/exposures/${e.id}`);
    expect(asB.statusCode).toBe(200);
    expect(asB.json().intel).toEqual([]);
    // B's own object about the CVE, readable by B only: A's exposure never shows it, even to B.
    await submitAs(al, 'b-analyst', al.shared, { objects: [vuln('CVE-2031-0100', [])], defaultTlp: 'red', recipients: [al.orgs.B] });
    await al.platform.exposure.stix.sync();
    expect((await get('b-analyst', `/readiness/exposures/${e.id}`)).json().intel).toEqual([]);
    expect((await get('a-analyst', `/readiness/exposures/${e.id}`)).json().intel).toHaveLength(1);
  });

  it('ignores revoked objects, objects without a CVE and malformed references', async () => {
    const revoked = vuln('CVE-2031-0200', [WIDGET]);
    await submitAs(al, 'a-analyst', al.privateA, { objects: [{ ...revoked, revoked: true }, sdo('vulnerability', { name: 'no cve', external_references: [{ source_name: 'cpe', external_id: WIDGET }] }), vuln('CVE-2031-0201', ['cpe:2.3:a:broken', 'not a cpe'])], defaultTlp: 'amber' });
    await al.platform.exposure.stix.sync();
    expect(await cvesOf('a-analyst')).toEqual([]);
    expect(referencesOf({ name: 'CVE-2031-0300', external_references: [null, 'x', { source_name: 'CVE', external_id: 'cve-2031-0301' }, { source_name: 'cpe', external_id: 7 }] }))
      .toEqual({ cves: ['CVE-2031-0300', 'CVE-2031-0301'], cpes: [] });
    const st = await al.platform.exposure.stix.status(al.clock.now());
    expect(st).toMatchObject({ name: 'stix-vulnerabilities', behind: 0, ready: true, error: null });
  });
});
