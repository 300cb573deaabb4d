/**
 * Demo content of readiness exposure for the demo alliance (src/intel/demo): a few assets per
 * member with realistic CPE names, and hand-written vulnerability entries (invented CVE ids in
 * the 2099 range, KEV-style records and CVE 5-style ranges) so that the demo shows exposures,
 * a KEV alert and the alliance aggregate. Nothing here is copied from a real feed.
 */
import { EventBus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { AccessService } from '../../access/index.js';
import type { Store } from '../../store/index.js';
import { DEMO_ORGS } from '../../intel/demo/alliance.js';
import type { AuthedActor } from '../../respond/index.js';
import { ExposureService } from './service.js';

const ASSETS: Record<string, { name: string; vitalFunction: string; criticality: string; products: string[] }[]> = {
  ald: [
    { name: 'ald-edge-fw-1', vitalFunction: 'government network', criticality: 'critical', products: ['cpe:2.3:o:northgate:edgeguard_os:10.2.5:*:*:*:*:*:*:*'] },
    { name: 'ald-mail-1', vitalFunction: 'government communications', criticality: 'high', products: ['cpe:2.3:a:mailworks:mailserver:15.2.1:*:*:*:*:*:*:*', 'cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*'] },
  ],
  brn: [
    { name: 'brn-vpn-gw', vitalFunction: 'remote access for defence staff', criticality: 'critical', products: ['cpe:2.3:a:tunnelcorp:secure_gateway:22.3:*:*:*:*:*:*:*'] },
    { name: 'brn-ci', vitalFunction: 'software delivery', criticality: 'medium', products: ['cpe:2.3:a:jenkins:jenkins:2.426.2:*:*:*:*:*:*:*'] },
  ],
  crv: [
    { name: 'crv-scada-hist', vitalFunction: 'electricity distribution', criticality: 'critical', products: ['cpe:2.3:a:gridsoft:historian:4.1.0:*:*:*:*:*:*:*'] },
    { name: 'crv-edge-fw', vitalFunction: 'grid operator network', criticality: 'high', products: ['cpe:2.3:o:northgate:edgeguard_os:11.0.1:*:*:*:*:*:*:*'] },
  ],
  dsk: [{ name: 'dsk-portal', vitalFunction: 'citizen services', criticality: 'high', products: ['cpe:2.3:a:webframe:portal:3.4.2:*:*:*:*:*:*:*'] }],
  est: [{ name: 'est-port-ops', vitalFunction: 'port logistics', criticality: 'high', products: ['cpe:2.3:a:tunnelcorp:secure_gateway:21.9:*:*:*:*:*:*:*'] }],
};

const kevEntry = (cve: string, vendor: string, product: string, name: string, ransomware: boolean) => ({
  cveID: cve, vendorProject: vendor, product, vulnerabilityName: name, dateAdded: '2099-01-05', dueDate: '2099-01-26',
  shortDescription: `${name} (demo entry).`, requiredAction: 'Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.',
  knownRansomwareCampaignUse: ransomware ? 'Known' : 'Unknown', notes: '', cwes: [],
});

/** A CVE 5-shaped record with one affected range (hand-written demo data). */
const cveRecord = (cve: string, a: { vendor: string; product: string; from: string; lessThan: string; cvss: number; title: string }) => ({
  dataType: 'CVE_RECORD', dataVersion: '5.1',
  cveMetadata: { cveId: cve, state: 'PUBLISHED', assignerShortName: 'demo', datePublished: '2099-01-02T00:00:00Z' },
  containers: {
    cna: {
      providerMetadata: { orgId: '00000000-0000-4000-8000-000000000000', shortName: 'demo' }, title: a.title,
      descriptions: [{ lang: 'en', value: `${a.title} (demo record).` }],
      affected: [{ vendor: a.vendor, product: a.product, cpes: [`cpe:2.3:a:${a.vendor}:${a.product}:*:*:*:*:*:*:*:*`], defaultStatus: 'unaffected', versions: [{ version: a.from, lessThan: a.lessThan, versionType: 'semver', status: 'affected' }] }],
      metrics: [{ format: 'CVSS', cvssV3_1: { version: '3.1', baseScore: a.cvss, vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseSeverity: a.cvss >= 9 ? 'CRITICAL' : 'HIGH' } }],
    },
  },
});

export async function createExposureDemo(deps: { store: Store; clock: Clock }): Promise<{ assets: number; exposures: number; alerts: number }> {
  const access = new AccessService(deps.store, deps.clock);
  const svc = new ExposureService({ store: deps.store, access, clock: deps.clock, bus: new EventBus() });
  const as = async (user: string): Promise<AuthedActor> => ({ principal: await access.principalOfUser(user), source: 'demo' });
  const csirt = (await access.organisation(DEMO_ORGS.find((o) => o.key === 'csirt')!.shortName)).id;
  let assets = 0;
  let exposures = 0;
  for (const [key, list] of Object.entries(ASSETS)) {
    // Shared with the alliance CSIRT (AMBER + recipient), so the KEV alerts reach it too.
    const r = await svc.importAssets(await as(`${key}.analyst`), list, { tlp: 'amber', recipients: [csirt] });
    assets += r.created;
  }
  const analyst = await as('csirt.analyst');
  exposures += (await svc.importCves(analyst, [
    cveRecord('CVE-2099-10001', { vendor: 'gridsoft', product: 'historian', from: '4.0.0', lessThan: '4.1.3', cvss: 8.8, title: 'Gridsoft Historian authentication bypass' }),
    cveRecord('CVE-2099-10002', { vendor: 'webframe', product: 'portal', from: '3.0.0', lessThan: '3.4.5', cvss: 7.5, title: 'Webframe Portal path traversal' }),
  ])).exposures;
  const kev = await svc.importKev(analyst, {
    title: 'Demo KEV catalog', catalogVersion: '2099.01.05', dateReleased: '2099-01-05T12:00:00Z', count: 3,
    vulnerabilities: [
      kevEntry('CVE-2099-20001', 'Northgate', 'EdgeGuard OS', 'Northgate EdgeGuard OS command injection', false),
      kevEntry('CVE-2099-20002', 'TunnelCorp', 'Secure Gateway', 'TunnelCorp Secure Gateway authentication bypass', true),
      kevEntry('CVE-2099-10001', 'Gridsoft', 'Historian', 'Gridsoft Historian authentication bypass', false),
    ],
  });
  return { assets, exposures: exposures + kev.exposures, alerts: kev.alerts };
}
