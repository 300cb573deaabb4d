/**
 * Demo content of the readiness domain for the demo alliance: each member's pledge
 * assessment submitted last year and a draft this year (started from it), a hygiene audit
 * with findings (one overdue), and vital functions with RTO and a measured recovery.
 * Levels are invented, spread so that the alliance aggregates show a median and quartiles.
 */
import { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { AccessService } from '../access/index.js';
import type { Store } from '../store/index.js';
import { DEMO_ORGS } from '../intel/demo/alliance.js';
import { createRespond, type AuthedActor } from '../respond/index.js';
import { createReadiness } from './index.js';
import { PLEDGE_FRAMEWORK } from './assessment/pledge.js';

export async function createReadinessDemo(deps: { store: Store; clock: Clock }): Promise<{ assessments: number; findings: number; vitalFunctions: number }> {
  const access = new AccessService(deps.store, deps.clock);
  const bus = new EventBus();
  const respond = createRespond({ store: deps.store, access, clock: deps.clock, bus });
  const r = createReadiness({ store: deps.store, access, clock: deps.clock, bus }, respond.incidents);
  const as = async (user: string): Promise<AuthedActor> => ({ principal: await access.principalOfUser(user), source: 'demo' });
  const year = new Date(deps.clock.now()).getUTCFullYear();
  const day = (d: number) => new Date(deps.clock.now() + d * 86_400_000).toISOString().slice(0, 10);
  let assessments = 0;
  let findings = 0;
  let vitalFunctions = 0;
  const members = DEMO_ORGS.filter((o) => o.kind === 'member');
  for (const [n, o] of members.entries()) {
    const a = await as(`${o.userPrefix}.admin`);
    const last = await r.assessments.create(a, { frameworkKey: PLEDGE_FRAMEWORK.key, year: year - 1 });
    await r.assessments.answer(a, last.id, PLEDGE_FRAMEWORK.items.map((it, i) => ({
      itemId: it.id, level: Math.min(5, 1 + ((n + i) % 4)), owner: `${o.shortName} CISO office`, targetDate: `${year}-12-31`, targetLevel: Math.min(5, 2 + ((n + i) % 4)),
      evidence: [{ kind: 'text', text: 'Self-assessed by the national coordinator.' }],
    })));
    await r.assessments.submit(a, last.id);
    const draft = await r.assessments.create(a, { frameworkKey: PLEDGE_FRAMEWORK.key, year });
    await r.assessments.answer(a, draft.id, PLEDGE_FRAMEWORK.items.slice(0, 5).map((it, i) => ({ itemId: it.id, level: Math.min(5, 2 + ((n + i) % 4)) })));
    assessments += 2;

    const audit = await r.audits.createPlan(a, { title: `${o.shortName} yearly hygiene audit`, frameworkKey: PLEDGE_FRAMEWORK.key, groups: ['CAP', 'THR'], scheduledFor: day(-20) });
    await r.audits.check(a, audit.id, { checkId: 'CAP-1', result: 'fail', note: 'Patch backlog on OT jump hosts.' });
    await r.audits.createFinding(a, { auditId: audit.id, itemId: 'CAP-1', title: 'Patch backlog on OT jump hosts', severity: 'high', owner: 'OT operations', dueDate: day(-5 - n) });
    const f = await r.audits.createFinding(a, { auditId: audit.id, title: 'Backups not tested offline', severity: 'medium', owner: 'IT operations', dueDate: day(30) });
    await r.audits.updateFinding(a, f.id, { status: 'in-progress', note: 'Restore test scheduled.' });
    findings += 2;

    const vf = await r.recovery.create(a, {
      name: 'Government communications', rtoMinutes: 240, rpoMinutes: 60, dependsOn: ['Core network', 'Secure e-mail gateway'],
      continuityPlan: { summary: 'Fail over to the secondary data centre; satellite voice as fallback.', url: null, lastTested: day(-90) },
    });
    await r.recovery.recordRecovery(a, vf.id, { exerciseRef: `Exercise Northwind Shield ${year - 1}`, containedAt: `${year - 1}-10-14T09:00:00.000Z`, restoredAt: `${year - 1}-10-14T${String(11 + n).padStart(2, '0')}:30:00.000Z` });
    await r.recovery.create(a, { name: 'Electricity grid control', rtoMinutes: 480, rpoMinutes: 15, dependsOn: ['SCADA servers', 'Engineering workstations'] });
    vitalFunctions += 2;
  }
  return { assessments, findings, vitalFunctions };
}
