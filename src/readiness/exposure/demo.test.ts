/** The exposure demo: every member sees its own exposures, the CSIRT those shared with it, the aggregate counts members. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { EventBus } from '../../core/bus.js';
import { AccessService } from '../../access/index.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { createDemoAlliance } from '../../intel/demo/create.js';
import type { AuthedActor } from '../../respond/index.js';
import { createExposureDemo } from './demo.js';
import { ExposureService } from './service.js';

const clock = new ManualClock('2026-03-01T12:00:00Z');
let store: Store;
let svc: ExposureService;
let access: AccessService;
const as = async (u: string): Promise<AuthedActor> => ({ principal: await access.principalOfUser(u), source: 'test' });

beforeAll(async () => {
  store = await openSqliteStore(':memory:');
  await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
  const r = await createExposureDemo({ store, clock });
  expect(r.assets).toBe(8);
  expect(r.alerts).toBeGreaterThanOrEqual(4);
  access = new AccessService(store, clock);
  svc = new ExposureService({ store, access, clock, bus: new EventBus() });
});

describe('exposure demo', () => {
  it('shows each member its own exposures (KEV first) and the CSIRT every member\'s', async () => {
    const ald = await svc.listExposures(await as('ald.analyst'));
    expect(ald.map((e) => `${e.assetName} ${e.cve}`)).toEqual(['ald-edge-fw-1 CVE-2099-20001']);
    const crv = await svc.listExposures(await as('crv.analyst'));
    expect(crv.map((e) => e.cve).sort()).toEqual(['CVE-2099-10001', 'CVE-2099-20001']);
    expect(crv.find((e) => e.cve === 'CVE-2099-10001')).toMatchObject({ kev: true, confidence: 'version' });
    const dsk = await svc.listExposures(await as('dsk.analyst'));
    expect(dsk).toMatchObject([{ cve: 'CVE-2099-10002', kev: false, assetName: 'dsk-portal' }]);
    const csirt = await svc.listExposures(await as('csirt.analyst'));
    expect(new Set(csirt.map((e) => e.orgId)).size).toBe(5);
    const sum = await svc.summary(await as('est.analyst'));
    expect(sum.alliance.kev.find((k) => k.cve === 'CVE-2099-20002')?.members).toBe(2); // Brenova and Estravia
  });
});
