/** The respond demo content sits behind the same release policy as everything else. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { EventBus } from '../core/bus.js';
import { AccessService } from '../access/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { createDemoAlliance } from '../intel/demo/create.js';
import { createRespond, createRespondDemo, type Respond } from './index.js';
import type { AuthedActor } from './repo.js';

const clock = new ManualClock('2026-03-01T12:00:00Z');
let store: Store;
let r: Respond;
let access: AccessService;
const as = async (u: string): Promise<AuthedActor> => ({ principal: await access.principalOfUser(u), source: 'test' });

beforeAll(async () => {
  store = await openSqliteStore(':memory:');
  await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
  expect(await createRespondDemo({ store, clock })).toEqual({ incidents: 2, decisions: 2 });
  access = new AccessService(store, clock);
  r = createRespond({ store, access, clock, bus: new EventBus() });
});

describe('respond demo', () => {
  it('puts no incident in a phase its open mandatory tasks contradict', async () => {
    // Past containment the response is done: only lessons-learned tasks may still be open.
    const incidents = await r.incidents.list(await as('csirt.responder'));
    expect(incidents).toHaveLength(2);
    for (const i of incidents) {
      const open = i.tasks.filter((t) => t.mandatory && t.status !== 'completed' && t.status !== 'cancelled');
      if (i.phase === 'post-incident-activity' || i.phase === 'closed') {
        expect({ id: i.title, open: open.map((t) => t.title).filter((x) => !/lessons learned/i.test(x)) }).toEqual({ id: i.title, open: [] });
      }
      if (i.phase === 'containment-eradication-recovery') {
        // Containment does not start before the intrusion is scoped.
        expect(i.tasks[0]).toMatchObject({ status: 'completed' });
      }
    }
  });

  it('shares the AMBER wiper incident with the CSIRT and Aldermark only; the GREEN phishing incident with all', async () => {
    const titles = async (u: string) => (await r.incidents.list(await as(u))).map((i) => i.title).sort();
    expect(await titles('crv.responder')).toHaveLength(2);
    expect(await titles('csirt.responder')).toHaveLength(2);
    expect(await titles('ald.analyst')).toHaveLength(2);
    expect(await titles('est.responder')).toEqual(['Credential phishing against Duskmere ministries']);
  });

  it('has an assistance request in progress, an open silence procedure and an adopted consensus', async () => {
    const [req] = await r.assistance.list(await as('crv.responder'));
    expect(req).toMatchObject({ state: 'in-progress' });
    expect(req!.offers.map((o) => o.state).sort()).toEqual(['accepted', 'proposed']);
    const states = (await r.decisions.list(await as('csirt.rep'))).map((d) => `${d.procedure}:${d.state}`).sort();
    expect(states).toEqual(['consensus:adopted', 'silence:open']);
    // Estravia takes part in the silence procedure only.
    expect((await r.decisions.list(await as('est.rep'))).map((d) => d.procedure)).toEqual(['silence']);
  });

  it('keeps the attribution assessment to its recipients, with the judged hypothesis ranked first', async () => {
    const [a] = await r.attribution.list(await as('brn.analyst'));
    expect(a!.scores[0]!.label).toMatch(/GREY HERON/);
    expect(a!.judgement).toMatchObject({ likelihood: 'likely', confidence: 'moderate' });
    expect(await r.attribution.list(await as('dsk.analyst'))).toEqual([]);
  });
});
