/** The readiness demo: submitted last year, draft this year, findings, vital functions; under the release policy. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { EventBus } from '../core/bus.js';
import { AccessService } from '../access/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { createDemoAlliance } from '../intel/demo/create.js';
import { createRespond, type AuthedActor } from '../respond/index.js';
import { createReadiness, createReadinessDemo, type Readiness } from './index.js';

const clock = new ManualClock('2026-03-01T12:00:00Z');
let store: Store;
let r: Readiness;
let access: AccessService;
const as = async (u: string): Promise<AuthedActor> => ({ principal: await access.principalOfUser(u), source: 'test' });

beforeAll(async () => {
  store = await openSqliteStore(':memory:');
  await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
  expect(await createReadinessDemo({ store, clock })).toEqual({ assessments: 10, findings: 10, vitalFunctions: 10 });
  access = new AccessService(store, clock);
  const deps = { store, access, clock, bus: new EventBus() };
  r = createReadiness(deps, createRespond(deps).incidents);
});

describe('readiness demo', () => {
  it('each member has last year submitted and this year as a draft started from it; the CSIRT sees all, a member only its own', async () => {
    const own = await r.assessments.list(await as('ald.analyst'));
    expect(own.map((a) => [a.year, a.state])).toEqual([[2026, 'draft'], [2025, 'submitted']]);
    expect(own[0]!.basedOn).toBe(own[1]!.id);
    expect(await r.assessments.list(await as('csirt.analyst'))).toHaveLength(10);
  });

  it('shows the alliance aggregates of last year with quartiles (5 members) and one overdue finding per member', async () => {
    const agg = await r.assessments.aggregates(await as('brn.analyst'), 'pledge-2016', 2025);
    expect(agg.members).toBe(5);
    expect(agg.functions.every((f) => f.median !== null && f.q1 !== null && f.own !== null)).toBe(true);
    const feed = await r.audits.overdueFeed(await as('crv.analyst'));
    expect(feed.count).toBe(1);
    // Government communications (RTO 240 min) was restored in 150 min at Aldermark, 330 min at Duskmere.
    const comms = async (u: string) => (await r.recovery.list(await as(u))).find((v) => v.name === 'Government communications');
    expect(await comms('ald.analyst')).toMatchObject({ rtoCompliant: true, recoveries: [{ minutes: 150 }] });
    expect(await comms('dsk.analyst')).toMatchObject({ rtoCompliant: false, recoveries: [{ minutes: 330 }] });
  });
});
