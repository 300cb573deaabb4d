/**
 * Incident response and collective defence through the HTTP API: an incident shared with two
 * allies, assistance requested and offered, silence procedures adopted and blocked, a
 * consensus round, an ACH matrix ranked as computed by hand, MTTD/MTTR against a fixture,
 * illegal transitions, roles, and STIX export checked against the OASIS schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { respondWorld, inHours, type RespondWorld } from './respond-fixtures.js';
import { oasisErrors } from './helpers/stix-schema.js';

let w: RespondWorld;
beforeAll(async () => {
  w = await respondWorld();
});
afterAll(async () => w.close());

describe('incident declared, shared and helped', () => {
  let incidentId: string;
  let requestId: string;

  it('A declares an incident from the ransomware playbook', async () => {
    const r = await w.call('A-resp', 'POST', '/incidents', { title: 'Ransomware at the grid operator', severity: 4, category: 'ransomware', tlp: 'amber' });
    expect(r.status).toBe(201);
    incidentId = r.json.id;
    expect(r.json).toMatchObject({ phase: 'detection-analysis', investigationStatus: 'new', ownerOrg: w.orgs.A, isOwner: true });
    expect(r.json.tasks.filter((t: { mandatory: boolean }) => t.mandatory).length).toBeGreaterThan(3);
  });

  it('shares it with B (contribute) and C (read); D sees nothing', async () => {
    const r = await w.call('A-resp', 'POST', `/incidents/${incidentId}/shares`, { shares: [{ orgId: w.orgs.B, permission: 'contribute' }, { orgId: w.orgs.C, permission: 'read' }] });
    expect(r.status).toBe(200);
    expect((await w.call('B-resp', 'GET', `/incidents/${incidentId}`)).json.canContribute).toBe(true);
    expect((await w.call('C-resp', 'GET', `/incidents/${incidentId}`)).json.canContribute).toBe(false);
    expect((await w.call('D-resp', 'GET', `/incidents/${incidentId}`)).status).toBe(404);
    expect((await w.call('D-resp', 'GET', '/incidents')).json.items).toEqual([]);
    expect((await w.call('D-resp', 'GET', `/incidents/${incidentId}/timeline`)).status).toBe(404);
  });

  it('lets a contributor add tasks and observables, not a reader', async () => {
    expect((await w.call('B-resp', 'POST', `/incidents/${incidentId}/tasks`, { title: 'Analyse the dropper' })).status).toBe(200);
    expect((await w.call('C-resp', 'POST', `/incidents/${incidentId}/tasks`, { title: 'x' })).status).toBe(403);
    const o = await w.call('B-resp', 'POST', `/incidents/${incidentId}/observables`, { type: 'ipv4-addr', value: '203.0.113.9', ioc: true, tlp: 'amber' });
    expect(o.json.observables).toHaveLength(1);
    // An observable at RED reaches only the recipients named on it (B), its author and the owner.
    await w.call('A-resp', 'POST', `/incidents/${incidentId}/observables`, { type: 'domain-name', value: 'c2.invalid', tlp: 'red', recipients: [w.orgs.B] });
    const values = async (who: 'A-resp' | 'B-resp' | 'C-resp') => (await w.call(who, 'GET', `/incidents/${incidentId}`)).json.observables.map((x: { value: string }) => x.value);
    expect(await values('C-resp')).toEqual(['203.0.113.9']);
    expect(await values('B-resp')).toEqual(['203.0.113.9', 'c2.invalid']);
    expect(await values('A-resp')).toEqual(['203.0.113.9', 'c2.invalid']);
  });

  it('requests assistance, receives two offers and accepts one', async () => {
    const r = await w.call('A-resp', 'POST', '/assistance', {
      title: 'Forensics for the grid incident', services: ['artifact-and-forensic-evidence-analysis', 'malware-analysis'], urgency: 'immediate',
      incidentId, routedTo: [w.orgs.B, w.orgs.C], offerDeadline: inHours(w.clock, 24),
    });
    expect(r.status).toBe(201);
    requestId = r.json.id;
    expect((await w.call('D-resp', 'GET', `/assistance/${requestId}`)).status).toBe(404);
    const offer = (who: 'B-resp' | 'C-resp', team: string) => w.call(who, 'POST', `/assistance/${requestId}/offers`, {
      team, services: ['malware-analysis'], capacity: '2 analysts', availableFrom: inHours(w.clock, 1), availableUntil: inHours(w.clock, 72),
    });
    expect((await offer('B-resp', 'B CERT malware lab')).status).toBe(201);
    expect((await offer('C-resp', 'C forensic team')).status).toBe(201);
    const seen = await w.call('A-resp', 'GET', `/assistance/${requestId}`);
    expect(seen.json.offers).toHaveLength(2);
    // An ally sees its own offer, not the other ally's.
    expect((await w.call('B-resp', 'GET', `/assistance/${requestId}`)).json.offers).toHaveLength(1);
    const offerB = seen.json.offers.find((o: { orgId: string }) => o.orgId === w.orgs.B).id;
    const offerC = seen.json.offers.find((o: { orgId: string }) => o.orgId === w.orgs.C).id;
    expect((await w.call('B-resp', 'POST', `/offers/${offerB}/accept`)).status).toBe(403);
    const acc = await w.call('A-resp', 'POST', `/offers/${offerB}/accept`);
    expect(acc.status).toBe(200);
    expect(acc.json.state).toBe('in-progress');
    expect((await w.call('C-resp', 'POST', `/offers/${offerC}/withdraw`)).status).toBe(200);
    // Accepting a withdrawn offer is an illegal transition and changes nothing.
    const again = await w.call('A-resp', 'POST', `/offers/${offerC}/accept`);
    expect(again.status).toBe(409);
    const after = await w.call('A-resp', 'GET', `/assistance/${requestId}`);
    expect(after.json.offers.find((o: { id: string }) => o.id === offerC).state).toBe('withdrawn');
  });

  it('refuses closure while mandatory tasks are open, and bad input', async () => {
    expect((await w.call('A-resp', 'POST', `/incidents/${incidentId}/phase`, { to: 'closed' })).status).toBe(409);
    expect((await w.call('A-resp', 'POST', `/incidents/${incidentId}/phase`, { to: 'sideways' })).status).toBe(400);
    expect((await w.call('A-resp', 'PATCH', `/incidents/${incidentId}`, { severity: 9 })).status).toBe(400);
    expect((await w.call('A-analyst', 'POST', '/incidents', { title: 'x', severity: 1 })).status).toBe(403);
    const big = Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64');
    expect((await w.call('A-resp', 'POST', `/incidents/${incidentId}/attachments`, { name: 'big.bin', contentBase64: big })).status).toBe(413);
    const small = await w.call('A-resp', 'POST', `/incidents/${incidentId}/attachments`, { name: 'note.txt', contentBase64: Buffer.from('hello').toString('base64') });
    expect(small.json.attachments[0]).toMatchObject({ size: 5, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' });
  });

  it('exports the incident as STIX that validates against the OASIS schemas', async () => {
    await w.call('A-resp', 'POST', `/incidents/${incidentId}/phase`, { to: 'containment-eradication-recovery' });
    const r = await w.call('C-resp', 'GET', `/incidents/${incidentId}/stix`);
    expect(r.status).toBe(200);
    const types = r.json.objects.map((o: { type: string }) => o.type);
    expect(types).toContain('incident');
    expect(types).toContain('task');
    expect(types).toContain('event');
    for (const o of r.json.objects) expect(oasisErrors(o), JSON.stringify(o)).toEqual([]);
    const inc = r.json.objects.find((o: { type: string }) => o.type === 'incident');
    expect(inc.extensions['extension-definition--ef765651-680c-498d-9894-99799f2fa126']).toMatchObject({ extension_type: 'property-extension', determination: 'suspected', investigation_status: 'open', criticality: 85 });
    const pub = await w.call('A-resp', 'POST', `/incidents/${incidentId}/publish`, { collection: w.collection });
    expect(pub.json.results.every((x: { status: string }) => x.status === 'added')).toBe(true);
  });

  it('exports a started task and a TLP change as new versions: a published (id, modified) never comes back with another content', async () => {
    type Obj = { id: string; type: string; modified: string };
    const stix = async () => (await w.call('A-resp', 'GET', `/incidents/${incidentId}/stix`)).json.objects as Obj[];
    const published = new Map((await stix()).map((o) => [`${o.id} ${o.modified}`, JSON.stringify(o)]));
    const task = (await w.call('A-resp', 'GET', `/incidents/${incidentId}`)).json.tasks.find((t: { status: string; dependsOn: string[] }) => t.status === 'open' && t.dependsOn.length === 0);
    w.clock.advance(60_000);
    expect((await w.call('A-resp', 'POST', `/incidents/${incidentId}/tasks/${task.id}/status`, { status: 'in-progress' })).status).toBe(200);
    w.clock.advance(60_000);
    expect((await w.call('A-resp', 'PATCH', `/incidents/${incidentId}`, { tlp: 'amber+strict' })).status).toBe(200);
    const now = await stix();
    const changed = now.filter((o) => published.has(`${o.id} ${o.modified}`) && published.get(`${o.id} ${o.modified}`) !== JSON.stringify(o));
    expect(changed.map((o) => `${o.type} ${o.id}`)).toEqual([]);
    expect(now.filter((o) => o.type === 'task' || o.type === 'event').every((o) => !published.has(`${o.id} ${o.modified}`))).toBe(true);
    const pub = await w.call('A-resp', 'POST', `/incidents/${incidentId}/publish`, { collection: w.collection });
    expect(pub.json.results.filter((x: { status: string }) => x.status === 'rejected')).toEqual([]);
  });
});

describe('decisions', () => {
  const propose = (procedure: 'silence' | 'consensus', extra: Record<string, unknown> = {}) => w.call('A-rep', 'POST', '/decisions', {
    title: `Joint response (${procedure})`, text: 'The Allies will jointly block the infrastructure.', kind: 'collective-response', procedure,
    participants: [w.orgs.B, w.orgs.C], deadline: inHours(w.clock, 1), ...extra,
  });

  it('adopts a silence procedure at its deadline', async () => {
    const d = (await propose('silence')).json;
    expect(d.state).toBe('open');
    w.clock.advance(3600_000);
    const after = await w.call('B-rep', 'GET', `/decisions/${d.id}`);
    expect(after.json.state).toBe('adopted');
    expect(after.json.outcome).toMatchObject({ result: 'adopted', revision: 1 });
    // Too late to break silence.
    expect((await w.call('C-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'break-silence', reason: 'late' })).status).toBe(409);
  });

  it('blocks a silence procedure on one written objection, and re-issues an amended text', async () => {
    const d = (await propose('silence')).json;
    expect((await w.call('B-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'break-silence' })).status).toBe(400);
    expect((await w.call('B-analyst', 'POST', `/decisions/${d.id}/positions`, { position: 'break-silence', reason: 'x' })).status).toBe(403);
    expect((await w.call('D-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'break-silence', reason: 'x' })).status).toBe(404);
    const b = await w.call('B-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'break-silence', reason: 'National caveat on para 2' });
    expect(b.json.state).toBe('blocked');
    w.clock.advance(3600_000);
    expect((await w.call('A-rep', 'GET', `/decisions/${d.id}`)).json.state).toBe('blocked');
    const re = await w.call('A-rep', 'POST', `/decisions/${d.id}/reissue`, { text: 'Amended text without para 2.', deadline: inHours(w.clock, 2) });
    expect(re.json).toMatchObject({ state: 'open', revision: 2 });
    w.clock.advance(2 * 3600_000);
    const fin = await w.call('C-rep', 'GET', `/decisions/${d.id}`);
    expect(fin.json).toMatchObject({ state: 'adopted', revision: 2 });
    expect(fin.json.positions).toHaveLength(1); // the break of revision 1 stays on record
  });

  it('passes a consensus round only when every participant concurs', async () => {
    const d = (await propose('consensus')).json;
    expect((await w.call('B-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' })).json.state).toBe('open');
    expect((await w.call('B-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' })).status).toBe(409);
    expect((await w.call('C-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' })).json.state).toBe('open');
    expect((await w.call('A-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' })).json.state).toBe('adopted');
  });

  it('blocks a consensus round on one objection', async () => {
    const d = (await propose('consensus')).json;
    await w.call('B-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' });
    const o = await w.call('C-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'object', reason: 'Not in our interest' });
    expect(o.json.state).toBe('blocked');
    expect((await w.call('A-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' })).status).toBe(409);
  });

  it('raises the alliance alert level only through an adopted decision', async () => {
    const d = (await propose('consensus', { kind: 'alert-level', effect: { type: 'alert-level', scope: 'alliance', level: 3 } })).json;
    for (const who of ['A-rep', 'B-rep', 'C-rep'] as const) await w.call(who, 'POST', `/decisions/${d.id}/positions`, { position: 'concur' });
    const board = await w.call('D-analyst', 'GET', '/alert-levels');
    expect(board.json.alliance).toMatchObject({ level: 3, name: 'ELEVATED', decisionId: d.id });
    const own = await w.call('B-rep', 'POST', '/alert-levels/own', { level: 2, reason: 'Phishing wave' });
    expect(own.json).toMatchObject({ scope: w.orgs.B, level: 2 });
    expect((await w.call('B-analyst', 'POST', '/alert-levels/own', { level: 2, reason: 'x' })).status).toBe(403);
  });
});

describe('attribution', () => {
  it('ranks hypotheses by weighted inconsistency as computed by hand', async () => {
    const a = (await w.call('A-analyst', 'POST', '/assessments', { title: 'Who hit the grid?' })).json;
    const hyp = async (label: string) => (await w.call('A-analyst', 'POST', `/assessments/${a.id}/hypotheses`, { label })).json.hypotheses.at(-1).id as string;
    const h1 = await hyp('Intrusion set ONE');
    const h2 = await hyp('Intrusion set TWO');
    const h3 = await hyp('Criminal group THREE');
    const ev = async (grade: [string, number], relevance: string) =>
      (await w.call('A-analyst', 'POST', `/assessments/${a.id}/evidence`, { description: 'e', reliability: grade[0], credibility: grade[1], relevance })).json.evidence.at(-1).id as string;
    const e1 = await ev(['A', 1], 'high'); // weight √2·√2 = 2
    const e2 = await ev(['C', 3], 'medium'); // weight 1·1 = 1
    const e3 = await ev(['F', 6], 'low'); // weight (1/√2)·(1/√2) = 0.5
    const r = await w.call('A-analyst', 'POST', `/assessments/${a.id}/ratings`, {
      ratings: [
        { evidenceId: e1, hypothesisId: h1, rating: 'C' }, { evidenceId: e2, hypothesisId: h1, rating: 'I' }, { evidenceId: e3, hypothesisId: h1, rating: 'II' },
        { evidenceId: e1, hypothesisId: h2, rating: 'II' }, { evidenceId: e2, hypothesisId: h2, rating: 'C' }, { evidenceId: e3, hypothesisId: h2, rating: 'C' },
        { evidenceId: e1, hypothesisId: h3, rating: 'CC' }, { evidenceId: e2, hypothesisId: h3, rating: 'N' }, { evidenceId: e3, hypothesisId: h3, rating: 'I' },
      ],
    });
    // By hand: H1 = 2·0 + 1·(−1) + 0.5·(−2) = −2; H2 = 2·(−2) = −4; H3 = 0.5·(−1) = −0.5.
    expect(r.json.scores.map((s: { label: string; inconsistency: number; rank: number }) => [s.label, s.inconsistency, s.rank])).toEqual([
      ['Criminal group THREE', -0.5, 1], ['Intrusion set ONE', -2, 2], ['Intrusion set TWO', -4, 3],
    ]);
    const j = await w.call('A-analyst', 'POST', `/assessments/${a.id}/judgement`, { hypothesisId: h3, likelihood: 'likely', confidence: 'moderate', rationale: 'Least inconsistent.' });
    expect(j.json.likelihoodRange).toEqual([55, 80]);
    expect((await w.call('A-analyst', 'POST', `/assessments/${a.id}/judgement`, { hypothesisId: h3, likelihood: 'probably', confidence: 'moderate', rationale: 'x' })).status).toBe(400);
    expect((await w.call('B-analyst', 'GET', `/assessments/${a.id}`)).status).toBe(404);
  });
});

describe('metrics', () => {
  it('computes MTTD and MTTR per organisation as in the hand-made fixture', async () => {
    const start = Date.parse('2026-06-01T00:00:00Z');
    const make = async (who: 'D-resp', detectH: number, resolveH: number) => {
      w.clock.set(start + detectH * 3600_000);
      const i = (await w.call(who, 'POST', '/incidents', {
        title: 'fixture', severity: 1, occurredAt: new Date(start).toISOString(), detectedAt: new Date(start + detectH * 3600_000).toISOString(),
      })).json;
      w.clock.set(start + (detectH + resolveH) * 3600_000);
      const r = await w.call(who, 'POST', `/incidents/${i.id}/phase`, { to: 'post-incident-activity' });
      expect(r.status).toBe(200);
    };
    await make('D-resp', 2, 10); // TTD 2 h, TTR 10 h
    await make('D-resp', 4, 6); // TTD 4 h, TTR 6 h
    const m = (await w.call('D-resp', 'GET', '/incidents/metrics')).json.items;
    expect(m).toEqual([{ orgId: w.orgs.D, incidents: 2, mttd: 3 * 3600, mttt: 8 * 3600, mttc: 8 * 3600, mttr: 8 * 3600 }]);
  });
});

describe('incident limits', () => {
  it('holds at most 5,000 links of a kind and 500 tasks, refused beyond with a clear 409; duplicates are not counted', async () => {
    const inc = (await w.call('A-resp', 'POST', '/incidents', { title: 'Big case', severity: 2 })).json;
    const ref = (k: number) => `indicator--${k.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    for (let k = 0; k < 5000; k += 200) {
      const r = await w.call('A-resp', 'POST', `/incidents/${inc.id}/links`, { kind: 'indicators', refs: Array.from({ length: 200 }, (_, j) => ref(k + j)) });
      expect(r.status).toBe(200);
    }
    // Already linked: nothing to add, not a refusal.
    expect((await w.call('A-resp', 'POST', `/incidents/${inc.id}/links`, { kind: 'indicators', refs: [ref(0), ref(0)] })).status).toBe(200);
    const over = await w.call('A-resp', 'POST', `/incidents/${inc.id}/links`, { kind: 'indicators', refs: [ref(5000)] });
    expect(over.status).toBe(409);
    expect(over.json.error.message).toBe('an incident holds at most 5000 links');
    expect((await w.call('A-resp', 'GET', `/incidents/${inc.id}`)).json.links.indicators).toHaveLength(5000);
    // Another kind has its own room.
    expect((await w.call('A-resp', 'POST', `/incidents/${inc.id}/links`, { kind: 'techniques', refs: ['T1059'] })).status).toBe(200);
    const actor = { principal: await w.platform.access.authenticateToken(w.tokens['A-resp'], '127.0.0.1'), source: 'test' };
    const playbook = (await w.call('A-resp', 'GET', `/incidents/${inc.id}`)).json.tasks.length;
    for (let k = playbook; k < 500; k++) await w.platform.respond.incidents.addTask(actor, inc.id, { title: `task ${k}` });
    const task = await w.call('A-resp', 'POST', `/incidents/${inc.id}/tasks`, { title: 'one too many' });
    expect(task.status).toBe(409);
    expect(task.json.error.message).toBe('an incident holds at most 500 tasks');
  });
});
