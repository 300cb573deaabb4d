/**
 * The leak test extended to readiness: for every TLP × recipient shape, organisation A's
 * assessment (with an evidence attachment), its audit finding and its vital function are read
 * by B, C, D and the alliance body X through every path — REST lists, gets, history,
 * aggregates, the member report (JSON and PDF), attachments, the picture feed, error texts and
 * the live stream. Expected visibility is the one release policy (`mayRelease`): zero leaks,
 * and every permitted read succeeds. Aggregates never carry a member's detail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayRelease } from '../src/access/index.js';
import { TLP_LEVELS, type BusEvent, type Tlp } from '../src/core/index.js';
import { PLEDGE_FRAMEWORK } from '../src/readiness/index.js';
import { readinessWorld, type ReadinessWorld } from './readiness-fixtures.js';

let w: ReadinessWorld;
const events: BusEvent[] = [];
beforeAll(async () => {
  w = await readinessWorld();
  w.platform.bus.subscribe((e) => events.push(e));
});
afterAll(async () => w.close());

type Reader = 'B' | 'C' | 'D' | 'X';
const READERS: Reader[] = ['B', 'C', 'D', 'X'];
type Shape = 'none' | 'B' | 'B+C';
const SHAPES: Shape[] = ['none', 'B', 'B+C'];
const PLEDGE = PLEDGE_FRAMEWORK.key;
const orgOf = (r: Reader) => (r === 'X' ? w.body : w.orgs[r]);
const recipientsOf = (s: Shape) => (s === 'none' ? [] : s === 'B' ? [w.orgs.B] : [w.orgs.B, w.orgs.C]);
const allowed = (tlp: Tlp | null, recipients: string[], reader: Reader) =>
  mayRelease({ tlp, creatorOrg: w.orgs.A, recipients, originNode: null }, { hop: 'local', orgId: orgOf(reader), groupIds: [] }, 'read');
const get = (r: Reader, url: string) => (r === 'X' ? w.as('X-analyst', 'GET', url) : w.call(`${r}-analyst`, 'GET', url));
const raw = async (r: Reader, url: string) => {
  const token = r === 'X' ? undefined : w.tokens[`${r}-analyst`];
  if (!token) return get(r, url);
  const res = await w.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, json: null, headers: res.headers as Record<string, unknown>, raw: res.rawPayload };
};

describe('default release', () => {
  it('an assessment is AMBER to its organisation and the alliance bodies unless chosen otherwise', async () => {
    const a = (await w.call('A-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year: 1999 })).json;
    expect(a).toMatchObject({ tlp: 'amber', recipients: [w.body] });
    for (const r of READERS) expect((await get(r, `/readiness/assessments/${a.id}`)).status, r).toBe(r === 'X' ? 200 : 404);
  });
});

describe('assessments, attachments, findings, vital functions', () => {
  const cases = TLP_LEVELS.flatMap((tlp) => SHAPES.map((shape) => ({ tlp, shape })));
  it.each(cases)('TLP $tlp released to $shape', async ({ tlp, shape }) => {
    const year = 2000 + cases.findIndex((c) => c.tlp === tlp && c.shape === shape);
    const recipients = recipientsOf(shape);
    const marker = `secret-${tlp}-${shape}-${year}`;
    const a = (await w.call('A-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year, tlp, recipients })).json;
    const att = (await w.call('A-resp', 'POST', `/readiness/assessments/${a.id}/attachments`, { name: `${marker}.txt`, contentBase64: Buffer.from(marker).toString('base64') })).json;
    await w.call('A-resp', 'POST', `/readiness/assessments/${a.id}/answers`, { answers: [{ itemId: 'CAP-1', level: 2, owner: marker, evidence: [{ kind: 'text', text: marker }, { kind: 'attachment', attachmentId: att.id }] }] });
    await w.call('A-resp', 'POST', `/readiness/assessments/${a.id}/submit`);
    const f = (await w.call('A-resp', 'POST', '/readiness/findings', { title: marker, severity: 'high', dueDate: '2026-04-01', tlp, recipients })).json;
    const vf = (await w.call('A-resp', 'POST', '/readiness/vital-functions', { name: marker, rtoMinutes: 60, rpoMinutes: 10, tlp, recipients })).json;
    for (const reader of READERS) {
      const ok = allowed(tlp, recipients, reader);
      const one = await get(reader, `/readiness/assessments/${a.id}`);
      expect(one.status, `${reader} GET assessment`).toBe(ok ? 200 : 404);
      if (!ok) expect(JSON.stringify(one.json), `${reader} error text`).not.toContain(marker);
      const list = await get(reader, `/readiness/assessments?framework=${PLEDGE}`);
      expect(list.json.items.some((x: { id: string }) => x.id === a.id), `${reader} list`).toBe(ok);
      const hist = await get(reader, `/readiness/history?framework=${PLEDGE}&org=${w.orgs.A}`);
      expect(hist.json.items.some((h: { year: number }) => h.year === year), `${reader} history`).toBe(ok);
      expect((await get(reader, `/readiness/assessments/${a.id}/attachments/${att.id}`)).status, `${reader} attachment`).toBe(ok ? 200 : 404);
      const agg = await get(reader, `/readiness/aggregates?framework=${PLEDGE}&year=${year}`);
      expect(agg.status).toBe(200);
      expect(JSON.stringify(agg.json), `${reader} aggregates`).not.toContain(marker);
      expect(JSON.stringify(agg.json), `${reader} aggregates`).not.toContain(w.orgs.A);
      const allianceReport = await get(reader, `/readiness/reports/alliance?framework=${PLEDGE}&year=${year}`);
      expect(JSON.stringify(allianceReport.json)).not.toContain(w.orgs.A);
      // Only one member submitted this year: nothing is shown of it.
      expect(agg.json.functions[0]).toMatchObject({ median: null, q1: null, own: null });
      const rep = await get(reader, `/readiness/reports/member?org=${w.orgs.A}&year=${year}&framework=${PLEDGE}`);
      expect(rep.status, `${reader} report`).toBe(ok ? 200 : 404);
      if (!ok) expect(JSON.stringify(rep.json)).not.toContain(marker);
      expect((await raw(reader, `/readiness/reports/member.pdf?org=${w.orgs.A}&year=${year}&framework=${PLEDGE}`)).status, `${reader} report pdf`).toBe(ok ? 200 : 404);
      // Findings and vital functions (same release here).
      expect((await get(reader, `/readiness/findings/${f.id}`)).status, `${reader} finding`).toBe(ok ? 200 : 404);
      expect((await get(reader, '/readiness/findings')).json.items.some((x: { id: string }) => x.id === f.id), `${reader} finding list`).toBe(ok);
      expect(JSON.stringify((await get(reader, '/readiness/cop')).json), `${reader} picture`).not.toContain(marker);
      expect((await get(reader, `/readiness/vital-functions/${vf.id}`)).status, `${reader} vital function`).toBe(ok ? 200 : 404);
      expect((await get(reader, '/readiness/vital-functions')).json.items.some((x: { id: string }) => x.id === vf.id), `${reader} vital list`).toBe(ok);
      // The live stream: no event of these records reaches a reader who may not read them.
      for (const id of [a.id, att.id, f.id, vf.id]) {
        const streamed = events.filter((e) => e.subject === id).map((e) => mayRelease(e.facts, { hop: 'local', orgId: orgOf(reader), groupIds: [] }, 'read'));
        expect(streamed.length).toBeGreaterThan(0);
        expect(streamed.every((s) => s === ok), `${reader} stream ${id}`).toBe(true);
      }
    }
  });

  it('a release can be widened after submission, without changing the content, and then reaches the new recipient', async () => {
    const a = (await w.call('A-resp', 'POST', '/readiness/assessments', { frameworkKey: PLEDGE, year: 2100, tlp: 'amber', recipients: [] })).json;
    await w.call('A-resp', 'POST', `/readiness/assessments/${a.id}/submit`);
    expect((await get('D', `/readiness/assessments/${a.id}`)).status).toBe(404);
    expect((await w.call('D-resp', 'POST', `/readiness/assessments/${a.id}/release`, { tlp: 'clear', recipients: [] })).status).toBe(404);
    const rel = await w.call('A-resp', 'POST', `/readiness/assessments/${a.id}/release`, { tlp: 'amber', recipients: [w.orgs.D] });
    expect(rel.json).toMatchObject({ state: 'submitted', recipients: [w.orgs.D] });
    const d = await get('D', `/readiness/assessments/${a.id}`);
    expect(d.status).toBe(200);
    expect(d.json.isOwner).toBe(false);
    expect((await get('B', `/readiness/assessments/${a.id}`)).status).toBe(404);
  });
});
