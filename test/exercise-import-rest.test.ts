/**
 * Scenario import over REST (POST /api/v1/exercises/scenarios/import): a CSV MSEL naming
 * member organisations as teams, an XLSX MSEL sent as base64, an OpenAEV export with teams
 * given in the request; malformed rows answer 400 with their row numbers; who may import;
 * and the after-action report PDF of an exercise (GET /exercises/:id/report.pdf).
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, http, makeAlliance, type Alliance } from './rest-fixtures.js';
import { sharedPath } from './helpers/shared.js';
import { pdfPageCount, pdfText } from './helpers/pdf-text.js';

let al: Alliance;
let call: ReturnType<typeof http>['call'];
beforeAll(async () => {
  al = await makeAlliance();
  call = http(al).call;
});
afterAll(async () => al.close());

const CSV = [
  'serial,time,type,teams,title,content,technique,expectation type,expectation expiry,depends on,condition',
  '1,T+00:00,communication,A;B,Start,Welcome,,,,,',
  '2,T+00:05,technical,A;B,Discovery,whoami,T1033,DETECTION,10m,,',
  '3,T+00:20,communication,A;B,Escalation,Why was nothing seen?,,REPORT,30m,2,Detection failed',
].join('\n');
const imp = (token: string, body: unknown) => call('POST', '/api/v1/exercises/scenarios/import', { token, body });

describe('scenario import', () => {
  it('stores a CSV MSEL whose teams are organisations of the directory', async () => {
    const r = await imp(al.tokens['a-admin']!, { format: 'csv', content: CSV, name: 'Coalition day 1' });
    expect(r.status, r.body).toBe(201);
    const s = r.json().scenario;
    expect(s.name).toBe('Coalition day 1');
    expect(s.teams.map((t: { name: string; orgs: string[] }) => [t.name, t.orgs])).toEqual([['A', [al.orgs.A]], ['B', [al.orgs.B]]]);
    expect(s.injects.map((i: { id: string; offsetSeconds: number }) => [i.id, i.offsetSeconds])).toEqual([['1', 0], ['2', 300], ['3', 1200]]);
    const listed = await call('GET', '/api/v1/exercises/scenarios', { token: al.tokens['a-admin']! });
    expect(listed.json().scenarios.map((x: { id: string }) => x.id)).toContain(r.json().id);
  });

  it('stores an XLSX MSEL sent as base64', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('MSEL');
    ws.addRow(['Serial', 'Absolute time', 'Type', 'Teams', 'Title', 'Content']);
    ws.addRow(['x1', new Date('2026-03-01T10:00:00Z'), 'communication', 'Alpha CERT', 'Start', 'Go']);
    ws.addRow(['x2', new Date('2026-03-01T10:30:00Z'), 'prompt', 'Alpha CERT', 'Report', 'Write a sitrep']);
    const b64 = Buffer.from(await wb.xlsx.writeBuffer()).toString('base64');
    const r = await imp(al.tokens['a-admin']!, { format: 'xlsx', contentBase64: b64, name: 'From Excel' });
    expect(r.status, r.body).toBe(201);
    expect(r.json().scenario.injects.map((i: { offsetSeconds: number }) => i.offsetSeconds)).toEqual([0, 1800]);
  });

  it('stores the OpenAEV sample with the teams given in the request', async () => {
    const content = fs.readFileSync(sharedPath('data/exercise/openaev/import-scenario-with-attack-pattern.json'), 'utf8');
    const r = await imp(al.tokens['a-admin']!, { format: 'openaev', content, teams: [{ id: 'blue-a', name: 'Blue A', orgs: [al.orgs.A] }] });
    expect(r.status, r.body).toBe(201);
    expect(r.json().scenario).toMatchObject({ name: 'test export', category: 'attack-scenario', teams: [{ id: 'blue-a' }], injects: [{ title: 'whoami', offsetSeconds: 0 }] });
  });

  it('answers 400 with the row numbers of malformed rows, and nothing is stored', async () => {
    const before = (await call('GET', '/api/v1/exercises/scenarios', { token: al.tokens['a-admin']! })).json().scenarios.length;
    const bad = `${CSV}\n4,later,communication,A,Bad time,x,,,,,\n5,1h,communication,Nobody,Unknown team,x,,,,,`;
    const r = await imp(al.tokens['a-admin']!, { format: 'csv', content: bad });
    expectError(r, 400, 'BAD_REQUEST');
    expect(r.json().error.details.errors.map((e: { row: number; column: string }) => [e.row, e.column])).toEqual([[5, 'time']]);
    const r2 = await imp(al.tokens['a-admin']!, { format: 'csv', content: `${CSV}\n5,1h,communication,Nobody,Unknown team,x,,,,,` });
    expectError(r2, 400, 'BAD_REQUEST');
    expect(r2.json().error.message).toMatch(/row 5 \(teams\): team Nobody/);
    expect((await call('GET', '/api/v1/exercises/scenarios', { token: al.tokens['a-admin']! })).json().scenarios.length).toBe(before);
  });

  it('refuses unknown formats, non-base64 bytes, broken JSON, and users who may not plan', async () => {
    expectError(await imp(al.tokens['a-admin']!, { format: 'pdf', content: 'x' }), 400, 'BAD_REQUEST');
    expectError(await imp(al.tokens['a-admin']!, { format: 'xlsx', contentBase64: '***' }), 400, 'BAD_REQUEST');
    expectError(await imp(al.tokens['a-admin']!, { format: 'openaev', content: '{' }), 400, 'MALFORMED_JSON');
    expectError(await imp(al.tokens['a-analyst']!, { format: 'csv', content: CSV }), 403, 'FORBIDDEN');
    expectError(await call('POST', '/api/v1/exercises/scenarios/import', { body: { format: 'csv', content: CSV } }), 401, 'UNAUTHENTICATED');
  });
});

describe('after-action report PDF', () => {
  it('renders the report of an exercise, and is 404 for outsiders', async () => {
    const sc = await imp(al.tokens['a-admin']!, { format: 'csv', content: CSV, name: 'PDF check' });
    const run = await call('POST', '/api/v1/exercises', { token: al.tokens['a-admin']!, body: { scenarioId: sc.json().id, name: 'Report drill', speed: 60 } });
    expect(run.status, run.body).toBe(201);
    const id = run.json().id as string;
    const res = await al.app.inject({ method: 'GET', url: `/api/v1/exercises/${id}/report.pdf?compress=false`, headers: { authorization: `Bearer ${al.tokens['a-admin']!}` } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const pdf = res.rawPayload;
    expect(pdfPageCount(pdf)).toBe(3); // title page + one page per team (A, B)
    const text = pdfText(pdf);
    expect(text).toContain('EXERCISE - Report drill');
    expect(text).toContain('Team A');
    expect(text).toContain('Team B');
    const outsider = await call('GET', `/api/v1/exercises/${id}/report.pdf`, { token: al.tokens['c-admin']! });
    expectError(outsider, 404, 'NOT_FOUND');
    expectError(await call('GET', '/api/v1/exercises/exercise--nope/report.pdf', { token: al.tokens['a-admin']! }), 404, 'NOT_FOUND');
  });
});
