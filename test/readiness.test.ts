/**
 * Readiness (issue #12): framework import from the real NIST CPRT CSF 2.0 export (withdrawn
 * 1.1 items filtered: 22 categories, 106 subcategories), CIS v8 style and Shieldwall YAML;
 * the assessment life cycle (immutability, next year from the last), aggregates with
 * quartiles, unhappy paths, hygiene findings on the operational picture, recovery against
 * the RTO read from an incident's timeline, and the yearly report as JSON and PDF.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCprt, parseFramework, PLEDGE_FRAMEWORK, distribution } from '../src/readiness/index.js';
import { sharedPath } from './helpers/shared.js';
import { readinessWorld, type ReadinessWorld } from './readiness-fixtures.js';
import type { Org } from './respond-fixtures.js';

const CPRT = sharedPath('data/readiness/nist-csf/cprt_CSF_2_0_0_04-24-2024.json');
const PLEDGE = PLEDGE_FRAMEWORK.key;

describe('frameworks as data', () => {
  it('reads CSF 2.0 from the CPRT export without the withdrawn 1.1 items: 6 functions, 22 categories, 106 subcategories', () => {
    const doc = JSON.parse(fs.readFileSync(CPRT, 'utf8'));
    const f = fromCprt(doc);
    expect(f.groups.map((g) => g.id)).toEqual(expect.arrayContaining(['GV', 'ID', 'PR', 'DE', 'RS', 'RC']));
    expect(f.groups).toHaveLength(6);
    expect(f.categories).toHaveLength(22);
    expect(f.items).toHaveLength(106);
    const per = Object.fromEntries(f.groups.map((g) => [g.id, f.items.filter((i) => i.group === g.id).length]));
    expect(per).toEqual({ GV: 31, ID: 21, PR: 22, DE: 11, RS: 13, RC: 8 });
    // Gaps in numbering are kept (PR.DS-01, -02, -10, -11) and withdrawn ids are gone.
    expect(f.items.filter((i) => i.category === 'PR.DS').map((i) => i.id)).toEqual(expect.arrayContaining(['PR.DS-01', 'PR.DS-02', 'PR.DS-10', 'PR.DS-11']));
    expect(f.items.some((i) => i.id === 'DE.AE-01')).toBe(false);
    expect(f.scale).toMatchObject({ min: 1, max: 4 });
  });

  it('reads a CIS Controls v8 style file (ids and implementation groups) and a Shieldwall YAML file', () => {
    const cis = parseFramework(JSON.stringify({ controls: [{ id: '1', title: 'Inventory of enterprise assets', safeguards: [{ id: '1.1', ig: [1, 2, 3] }, { id: '1.5', ig: [3] }] }, { id: '4', title: 'Secure configuration', safeguards: [{ id: '4.1', ig: [1, 2, 3] }] }] }));
    expect(cis).toMatchObject({ key: 'cis-v8', source: 'cis-v8' });
    expect(cis.items.map((i) => [i.id, i.ig])).toEqual([['1.1', [1, 2, 3]], ['1.5', [3]], ['4.1', [1, 2, 3]]]);
    const yaml = parseFramework(['key: ncaf-lite', 'title: NCAF lite', 'scale: { min: 1, max: 5 }', 'functions:', '  - id: GOV', '    title: Governance', '    categories:',
      '      - id: GOV.S', '        title: Strategy', '        items:', '          - { id: GOV.S-1, text: A national strategy exists }'].join('\n'));
    expect(yaml).toMatchObject({ key: 'ncaf-lite', scale: { min: 1, max: 5 } });
    expect(yaml.items).toHaveLength(1);
  });

  it('refuses broken files with a reason', () => {
    expect(() => parseFramework('{"hello": 1}')).toThrow(/unknown format/);
    expect(() => parseFramework(JSON.stringify({ controls: [{ id: '1', safeguards: [{ id: '1.1', ig: [4] }] }] }))).toThrow(/implementation groups/);
    expect(() => parseFramework(JSON.stringify({ key: 'x', title: 'X', functions: [{ id: 'A', categories: [{ id: 'A.1', items: [{ id: 'I' }, { id: 'I' }] }] }] }))).toThrow(/twice/);
    expect(() => parseFramework('key: [unclosed')).toThrow(/neither JSON nor YAML/);
  });

  it('keeps the YAML parser\'s warnings about an uploaded file out of the node\'s stderr (process warnings)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      // An unknown directive is a parser warning: with the parser's default log level it went to
      // process.emitWarning, so any user's upload could write to the node's log.
      expect(() => parseFramework('%00')).toThrow(/neither JSON nor YAML/);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('aggregate statistics', () => {
  it('withhold the median below 3 members and quartiles below 5; quartiles are member values (nearest rank)', () => {
    expect(distribution([1, 2])).toMatchObject({ n: 2, median: null, q1: null });
    expect(distribution([1, 2, 4])).toMatchObject({ n: 3, median: 2, q1: null, q3: null });
    expect(distribution([5, 1, 4, 2, 3])).toMatchObject({ n: 5, median: 3, q1: 2, q3: 4 });
    expect(distribution([1, 2, 3, 4, 5, 6, 7, 8])).toMatchObject({ median: 4, q1: 2, q3: 6 });
  });
});

describe('REST', () => {
  let w: ReadinessWorld;
  const year = 2025;
  beforeAll(async () => {
    w = await readinessWorld();
  });
  afterAll(async () => w.close());

  const answerAll = (who: `${Org}-resp`, id: string, level: (i: number) => number) =>
    w.call(who, 'POST', `/readiness/assessments/${id}/answers`, { answers: PLEDGE_FRAMEWORK.items.map((it, i) => ({ itemId: it.id, level: level(i) })) });

  it('imports CSF 2.0 through REST as an administrator (analysts may not), once per key', async () => {
    const content = fs.readFileSync(CPRT, 'utf8');
    expect((await w.call('A-analyst', 'POST', '/readiness/frameworks', { content })).status).toBe(403);
    const r = await w.as('A-admin', 'POST', '/readiness/frameworks', { content });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ key: 'csf-2.0', functions: 6, categories: 22, items: 106 });
    expect((await w.as('A-admin', 'POST', '/readiness/frameworks', { content })).status).toBe(409);
    const list = (await w.call('B-analyst', 'GET', '/readiness/frameworks')).json.items.map((f: { key: string }) => f.key);
    expect(list).toEqual([PLEDGE, 'csf-2.0']);
    expect((await w.call('B-analyst', 'GET', '/readiness/frameworks/csf-2.0')).json.items).toHaveLength(106);
    expect((await w.as('A-admin', 'POST', '/readiness/frameworks', { content: '{"nope": true}' })).status).toBe(422);
  });

  it('runs the life cycle: draft, answers with evidence, submit (then immutable: 409), next year from it', async () => {
    const a = await w.call('A-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year });
    expect(a.status).toBe(201);
    expect(a.json).toMatchObject({ state: 'draft', tlp: 'amber', orgId: w.orgs.A, recipients: [w.body], basedOn: null });
    const att = await w.call('A-resp', 'POST', `/readiness/assessments/${a.json.id}/attachments`, { name: 'policy.pdf', mediaType: 'application/pdf', contentBase64: Buffer.from('%PDF-1.4 policy').toString('base64') });
    expect(att.status).toBe(201);
    const ans = await w.call('A-resp', 'POST', `/readiness/assessments/${a.json.id}/answers`, {
      answers: [{ itemId: 'CAP-1', level: 3, owner: 'CISO', targetDate: '2026-06-30', targetLevel: 4, evidence: [{ kind: 'text', text: 'Patch KPI' }, { kind: 'link', url: 'https://intranet.example/policy' }, { kind: 'attachment', attachmentId: att.json.id }] }],
    });
    expect(ans.status).toBe(200);
    expect(ans.json.answers['CAP-1']).toMatchObject({ level: 3, owner: 'CISO', targetLevel: 4 });
    expect(ans.json.scores.find((s: { group: string }) => s.group === 'CAP')).toMatchObject({ score: 3, answered: 1, items: 3 });
    const dl = await w.call('A-resp', 'GET', `/readiness/assessments/${a.json.id}/attachments/${att.json.id}`);
    expect(dl.status).toBe(200);
    await answerAll('A-resp', a.json.id, (i) => 1 + (i % 3));
    const sub = await w.call('A-resp', 'POST', `/readiness/assessments/${a.json.id}/submit`);
    expect(sub.json).toMatchObject({ state: 'submitted' });
    expect(sub.json.submittedAt).toBeTruthy();
    // Immutable: answers, a second submit and attachments are refused.
    expect((await answerAll('A-resp', a.json.id, () => 5)).status).toBe(409);
    expect((await w.call('A-resp', 'POST', `/readiness/assessments/${a.json.id}/submit`)).status).toBe(409);
    expect((await w.call('A-resp', 'POST', `/readiness/assessments/${a.json.id}/attachments`, { name: 'x', contentBase64: 'AA==' })).status).toBe(409);
    expect((await w.call('A-resp', 'GET', `/readiness/assessments/${a.json.id}`)).json.answers['CAP-1'].level).toBe(1);
    // One assessment per framework and year.
    expect((await w.call('A-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year })).status).toBe(409);
    // Next year's starts from it, and is a draft again.
    const next = await w.call('A-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year: year + 1 });
    expect(next.json).toMatchObject({ state: 'draft', basedOn: a.json.id, year: year + 1 });
    expect(next.json.answers['CAP-1'].level).toBe(1);
    expect(next.json.answers['CAP-1'].evidence).toHaveLength(3);
    const edited = await w.call('A-resp', 'POST', `/readiness/assessments/${next.json.id}/answers`, { answers: [{ itemId: 'CAP-1', level: 4 }] });
    expect(edited.json.answers['CAP-1'].level).toBe(4);
    expect((await w.call('A-resp', 'GET', `/readiness/assessments/${a.json.id}`)).json.answers['CAP-1'].level).toBe(1);
    const hist = await w.call('A-resp', 'GET', `/readiness/history?framework=${PLEDGE}`);
    expect(hist.json.items.map((h: { year: number; state: string }) => [h.year, h.state])).toEqual([[year, 'submitted'], [year + 1, 'draft']]);
  });

  it('answers unhappy paths with clear 4xx: bad levels and unknown items 422, another org\'s assessment 404, malformed body 400', async () => {
    const b = await w.call('B-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year });
    const url = `/readiness/assessments/${b.json.id}/answers`;
    for (const level of [6, -1, 2.5, 'high']) {
      const r = await w.call('B-resp', 'POST', url, { answers: [{ itemId: 'CAP-1', level }] });
      expect(r.status, String(level)).toBe(422);
      expect(r.json.error.code).toBe('UNPROCESSABLE');
    }
    const unknown = await w.call('B-resp', 'POST', url, { answers: [{ itemId: 'GV.OC-01', level: 1 }] });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.message).toMatch(/unknown item GV.OC-01/);
    expect((await w.call('B-resp', 'POST', url, { answers: [] })).status).toBe(400);
    expect((await w.call('B-resp', 'POST', url, { answers: [{ itemId: 'CAP-1', evidence: [{ kind: 'link', url: 'javascript:alert(1)' }] }] })).status).toBe(400);
    expect((await w.call('B-resp', 'POST', url, { answers: [{ itemId: 'CAP-1', evidence: [{ kind: 'attachment', attachmentId: 'readiness-attachment--00000000-0000-4000-8000-000000000000' }] }] })).status).toBe(404);
    // Wrong organisation: C may not see B's assessment (AMBER to B and the alliance body).
    expect((await w.call('C-resp', 'POST', url, { answers: [{ itemId: 'CAP-1', level: 1 }] })).status).toBe(404);
    expect((await w.call('C-resp', 'GET', `/readiness/assessments/${b.json.id}`)).status).toBe(404);
    expect((await w.call('C-resp', 'POST', `/readiness/assessments/${b.json.id}/submit`)).status).toBe(404);
    expect((await w.call('B-resp', 'POST', '/readiness/assessments', { frameworkKey: 'no-such', year })).status).toBe(404);
    expect((await w.call('B-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year: 'soon' })).status).toBe(400);
    expect((await w.call('B-resp', 'GET', '/readiness/aggregates?year=20x5')).status).toBe(400);
    expect((await w.call('B-resp', 'GET', '/readiness/reports/member?org=identity--00000000-0000-4000-8000-000000000000')).status).toBe(404);
    // The alliance body reads but may not edit.
    expect((await w.as('X-analyst', 'GET', `/readiness/assessments/${b.json.id}`)).status).toBe(200);
    expect((await w.as('X-analyst', 'POST', url, { answers: [{ itemId: 'CAP-1', level: 1 }] })).status).toBe(403);
  });

  it('aggregates the submitted assessments: median from 3 members, quartiles from 5, and the reader\'s standing', async () => {
    // A submitted (CAP mean = (1+2+3)/3 = 2). B, C, D submit with constant levels.
    const lv: Partial<Record<Org, number>> = { B: 4, C: 0, D: 5 };
    for (const o of ['B', 'C', 'D'] as const) {
      const who = `${o}-resp` as const;
      const cur = (await w.call(who, 'GET', `/readiness/assessments?framework=${PLEDGE}&year=${year}`)).json.items.find((x: { orgId: string }) => x.orgId === w.orgs[o]);
      const id = cur?.id ?? (await w.call(who, 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year })).json.id;
      expect((await answerAll(who, id, () => lv[o]!)).status).toBe(200);
      if (o === 'C') {
        const partial = (await w.call(who, 'GET', `/readiness/aggregates?framework=${PLEDGE}&year=${year}`)).json;
        expect(partial.members).toBe(2);
        expect(partial.functions[0]).toMatchObject({ median: null, q1: null });
      }
      expect((await w.call(who, 'POST', `/readiness/assessments/${id}/submit`)).status).toBe(200);
    }
    const agg = (await w.call('C-resp', 'GET', `/readiness/aggregates?framework=${PLEDGE}&year=${year}`)).json;
    expect(agg.members).toBe(4);
    const cap = agg.functions.find((f: { group: string }) => f.group === 'CAP');
    // CAP scores: A 2, B 4, C 0, D 5 → nearest-rank median 2; quartiles withheld at 4 members.
    expect(cap).toMatchObject({ n: 4, median: 2, q1: null, q3: null, own: 0, standing: { vsMedian: 'below', band: null } });
    // A fifth member (the alliance body's own pledge assessment) unlocks quartiles.
    const x = await w.as('X-analyst', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year });
    await w.as('X-analyst', 'POST', `/readiness/assessments/${x.json.id}/answers`, { answers: PLEDGE_FRAMEWORK.items.map((it) => ({ itemId: it.id, level: 3 })) });
    await w.as('X-analyst', 'POST', `/readiness/assessments/${x.json.id}/submit`);
    const five = (await w.call('D-resp', 'GET', `/readiness/aggregates?framework=${PLEDGE}&year=${year}`)).json;
    // CAP: 0, 2, 3, 4, 5 → q1 2, median 3, q3 4; D (5) is in the top band.
    expect(five.functions.find((f: { group: string }) => f.group === 'CAP')).toMatchObject({ n: 5, q1: 2, median: 3, q3: 4, own: 5, standing: { vsMedian: 'above', band: 'top' } });
    // No member detail in an aggregate answer.
    expect(JSON.stringify(five)).not.toContain(w.orgs.A);
  });

  it('tracks findings with remediation history; overdue findings feed the owner\'s operational picture', async () => {
    const plan = await w.call('A-resp', 'POST', '/readiness/audits', { title: 'Yearly hygiene audit', frameworkKey: PLEDGE, groups: ['CAP'], checklist: ['Offline backups exist'] });
    expect(plan.status).toBe(201);
    expect(plan.json.checklist.map((c: { id: string }) => c.id)).toEqual(['CAP-1', 'CAP-2', 'CAP-3', 'C1']);
    expect((await w.call('A-resp', 'POST', `/readiness/audits/${plan.json.id}/checks`, { checkId: 'CAP-1', result: 'fail' })).json.checklist[0].result).toBe('fail');
    expect((await w.call('A-resp', 'POST', `/readiness/audits/${plan.json.id}/checks`, { checkId: 'NOPE', result: 'fail' })).status).toBe(422);
    expect((await w.call('A-resp', 'POST', '/readiness/audits', { title: 'empty' })).status).toBe(422);
    const f = await w.call('A-resp', 'POST', '/readiness/findings', { auditId: plan.json.id, title: 'Unpatched VPN', severity: 'critical', dueDate: '2026-05-03', owner: 'NetOps' });
    expect(f.status).toBe(201);
    expect(f.json).toMatchObject({ status: 'open', overdue: false });
    expect((await w.call('A-resp', 'POST', '/readiness/findings', { title: 'x', severity: 'urgent', dueDate: '2026-05-03' })).status).toBe(400);
    expect((await w.call('A-resp', 'GET', '/readiness/cop')).json.count).toBe(0);
    w.clock.advance(3 * 86_400_000);
    const cop = (await w.call('A-resp', 'GET', '/readiness/cop')).json;
    expect(cop).toMatchObject({ orgId: w.orgs.A, count: 1 });
    expect(cop.items[0]).toMatchObject({ id: f.json.id, overdue: true });
    // The feed is the owner's: B sees an empty picture, and cannot read A's finding.
    expect((await w.call('B-resp', 'GET', '/readiness/cop')).json.count).toBe(0);
    expect((await w.call('B-resp', 'GET', `/readiness/findings/${f.json.id}`)).status).toBe(404);
    expect((await w.call('B-resp', 'PATCH', `/readiness/findings/${f.json.id}`, { status: 'resolved' })).status).toBe(404);
    await w.call('A-resp', 'PATCH', `/readiness/findings/${f.json.id}`, { status: 'in-progress', note: 'vendor patch staged' });
    const done = await w.call('A-resp', 'PATCH', `/readiness/findings/${f.json.id}`, { status: 'resolved' });
    expect(done.json).toMatchObject({ status: 'resolved', overdue: false });
    expect((await w.call('A-resp', 'GET', '/readiness/cop')).json.count).toBe(0);
    const hist = (await w.call('A-resp', 'GET', `/readiness/findings/${f.json.id}`)).json.history;
    expect(hist.map((h: { kind: string }) => h.kind)).toEqual(['readiness-finding.created', 'readiness-finding.updated', 'readiness-finding.updated']);
    expect(hist[1].data).toMatchObject({ status: { from: 'open', to: 'in-progress' }, note: 'vendor patch staged' });
  });

  it('measures recovery from an incident timeline (containment → restored) against the RTO', async () => {
    const vf = await w.call('A-resp', 'POST', '/readiness/vital-functions', { name: 'Grid control', rtoMinutes: 120, rpoMinutes: 15, dependsOn: ['SCADA'], continuityPlan: { summary: 'Manual substation operation' } });
    expect(vf.status).toBe(201);
    const inc = (await w.call('A-resp', 'POST', '/incidents', { title: 'Wiper in grid control', severity: 4 })).json;
    // Not contained yet: nothing to measure.
    expect((await w.call('A-resp', 'POST', `/readiness/vital-functions/${vf.json.id}/recoveries`, { incidentId: inc.id })).status).toBe(422);
    await w.call('A-resp', 'PATCH', `/incidents/${inc.id}`, { contained: true });
    const contained = new Date(w.clock.now()).toISOString();
    const restored = new Date(w.clock.now() + 150 * 60_000).toISOString();
    await w.call('A-resp', 'POST', `/incidents/${inc.id}/timeline`, { at: restored, text: 'Grid control restored from clean backups' });
    const rec = await w.call('A-resp', 'POST', `/readiness/vital-functions/${vf.json.id}/recoveries`, { incidentId: inc.id });
    expect(rec.status).toBe(200);
    expect(rec.json.recoveries[0]).toMatchObject({ source: 'incident', containedAt: contained, minutes: 150, withinRto: false });
    expect(rec.json.rtoCompliant).toBe(false);
    const ex = await w.call('A-resp', 'POST', `/readiness/vital-functions/${vf.json.id}/recoveries`, { exerciseRef: 'Exercise Shield', containedAt: '2026-04-01T08:00:00Z', restoredAt: '2026-04-01T09:30:00Z' });
    expect(ex.json.rtoCompliant).toBe(true);
    expect((await w.call('A-resp', 'POST', `/readiness/vital-functions/${vf.json.id}/recoveries`, { exerciseRef: 'bad', containedAt: '2026-04-01T08:00:00Z', restoredAt: '2026-04-01T07:00:00Z' })).status).toBe(422);
    // Another organisation's incident is not a source (404, as if absent).
    const other = (await w.call('B-resp', 'POST', '/incidents', { title: 'B only', severity: 1 })).json;
    expect((await w.call('A-resp', 'POST', `/readiness/vital-functions/${vf.json.id}/recoveries`, { incidentId: other.id })).status).toBe(404);
    expect((await w.call('B-resp', 'GET', `/readiness/vital-functions/${vf.json.id}`)).status).toBe(404);
  });

  it('renders the yearly report as JSON and PDF, and the alliance summary', async () => {
    const rep = await w.call('A-resp', 'GET', `/readiness/reports/member?year=${year}&framework=${PLEDGE}`);
    expect(rep.status).toBe(200);
    expect(rep.json).toMatchObject({ orgId: w.orgs.A, year, assessment: { state: 'submitted' }, findings: { resolved: 1 } });
    expect(rep.json.vitalFunctions[0]).toMatchObject({ name: 'Grid control', rtoCompliant: true });
    const pdf = await w.app.inject({ method: 'GET', url: `/api/v1/readiness/reports/member.pdf?year=${year}`, headers: { authorization: `Bearer ${w.tokens['A-resp']}` } });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const all = await w.call('B-analyst', 'GET', `/readiness/reports/alliance?year=${year}&framework=${PLEDGE}`);
    expect(all.json.aggregates.members).toBe(5);
    const apdf = await w.app.inject({ method: 'GET', url: `/api/v1/readiness/reports/alliance.pdf?year=${year}`, headers: { authorization: `Bearer ${w.tokens['B-analyst']}` } });
    expect(apdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });
});
