/**
 * Scenario importers: the OpenAEV sample export (teams, objectives, inject timings and
 * expectations as in the file), CSV and XLSX MSEL sheets (the XLSX written here with exceljs),
 * absolute times made relative, conditions, and malformed rows reported with their row number.
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { importScenario, MselImportError, parseRelative, parseAbsolute, scenarioFromOpenAev } from '../src/exercise/msel/index.js';
import type { Team } from '../src/exercise/model.js';
import { sharedPath } from './helpers/shared.js';

const ORG_A = 'identity--aaaaaaaa-0000-4000-8000-000000000001';
const ORG_B = 'identity--bbbbbbbb-0000-4000-8000-000000000002';
const resolveTeam = (name: string) => ({ 'team a': [ORG_A], 'team b': [ORG_B] } as Record<string, string[]>)[name.toLowerCase()];
const TEAMS: Team[] = [{ id: 'team-a', name: 'Team A', orgs: [ORG_A] }, { id: 'team-b', name: 'Team B', orgs: [ORG_B] }];

const openaevSample = () => JSON.parse(fs.readFileSync(sharedPath('data/exercise/openaev/import-scenario-with-attack-pattern.json'), 'utf8')) as Record<string, unknown>;

async function rejection(p: Promise<unknown>): Promise<MselImportError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(MselImportError);
  return e as MselImportError;
}

describe('OpenAEV export', () => {
  it('imports the sample: its name, category, no own team or objective, the whoami inject at T+0 with its expectations', () => {
    const raw = openaevSample();
    const s = scenarioFromOpenAev(raw, { teams: TEAMS });
    const info = raw.scenario_information as Record<string, string>;
    const injects = raw.scenario_injects as Record<string, unknown>[];
    expect(s.name).toBe(info.scenario_name);
    expect(s.category).toBe('attack-scenario');
    // the file has no team and null objectives: only the teams given with the import play it
    expect(raw.scenario_teams).toEqual([]);
    expect(raw.scenario_objectives).toBeNull();
    expect(s.teams.map((t) => t.id)).toEqual(['team-a', 'team-b']);
    expect(s.objectives).toEqual([]);
    expect(s.injects).toHaveLength(injects.length);
    const [inj] = s.injects;
    expect(inj).toMatchObject({ id: injects[0]!.inject_id, title: 'whoami', offsetSeconds: injects[0]!.inject_depends_duration, type: 'technical', teams: [] });
    expect(inj!.payload).toMatchObject({ kind: 'technical', atomic: { name: 'whoami', executor: { name: 'psh', command: 'whoami' } } });
    // predefinedExpectations: PREVENTION (→ MANUAL "Prevention") and DETECTION, 100 points, 21600 s, all players
    expect(inj!.expectations).toEqual([
      { name: 'Prevention', type: 'MANUAL', expectedScore: 100, expirySeconds: 21600, validation: 'all' },
      { name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 21600, validation: 'all' },
    ]);
  });

  it('maps teams, objectives, timings and a conditional inject of a richer export built from the sample', () => {
    const raw = openaevSample();
    const base = (raw.scenario_injects as Record<string, unknown>[])[0]!;
    raw.scenario_teams = [{ team_id: 't-1', team_name: 'Team A' }, { team_id: 't-2', team_name: 'Team B' }];
    raw.scenario_objectives = [{ objective_id: 'o1', objective_title: 'Detect discovery', objective_priority: 'high' }];
    raw.scenario_injects = [
      { ...base, inject_teams: ['t-1', 't-2'], inject_depends_duration: 600 },
      {
        ...base, inject_id: 'child-1', inject_title: 'escalation', inject_teams: ['t-2'], inject_depends_duration: 4200,
        inject_depends_on: [{ dependency_relationship: { inject_parent_id: base.inject_id, inject_children_id: 'child-1' }, dependency_condition: { mode: 'and', conditions: [{ key: 'Detection', operator: 'eq', value: false }] } }],
      },
    ];
    const s = scenarioFromOpenAev(raw, { resolveTeam });
    expect(s.teams).toEqual([{ id: 'team-team-a', name: 'Team A', orgs: [ORG_A] }, { id: 'team-team-b', name: 'Team B', orgs: [ORG_B] }]);
    expect(s.objectives).toEqual([{ id: 'obj-1', title: 'Detect discovery', priority: 'high' }]);
    expect(s.injects.map((i) => [i.offsetSeconds, i.teams])).toEqual([[600, ['team-team-a', 'team-team-b']], [4200, ['team-team-b']]]);
    expect(s.injects[1]!.dependsOn).toEqual([{ parent: base.inject_id, mode: 'and', conditions: [{ key: 'Detection', value: false }] }]);
  });

  it('refuses an export without teams when none are given, and one that is not an export', async () => {
    expect((await rejection(importScenario({ format: 'openaev', content: JSON.stringify(openaevSample()) }))).message).toMatch(/no team/);
    expect((await rejection(importScenario({ format: 'openaev', content: '{"a":1}' }))).message).toMatch(/not an OpenAEV scenario export/);
  });
});

const HEADER = 'serial,time,type,teams,title,content,technique,channel,indicators,expectation type,expectation score,expectation expiry,depends on,condition,objective';
const CSV = [
  HEADER,
  '1,T+00:00,communication,Team A;Team B,Exercise start,"Welcome to the exercise. Check your inbox.",,email,,,,,,,',
  '2,T+00:10,technical,Team A;Team B,Discovery on the mail gateway,whoami run by a service account,T1033,,,DETECTION,100,30m,,,Detect intrusions',
  '3,45m,intel,all,Advisory: C2 infrastructure,The CERT lists C2 servers,,,"198.51.100.7;evil.example.com",SHARING,50,2h,,,Share indicators',
  '4,1h,communication,Team A;Team B,Escalation call,"The CISO calls: why was nothing reported?",,phone,,REPORT,100,1h,2,Detection failed,',
  '5,1h30m,prompt,all,Situation report,Publish a situation report,,,,REPORT;MANUAL,100;50,2h,,,',
].join('\n');

describe('CSV MSEL', () => {
  it('reads injects, times, teams, payloads, expectations, objectives and the conditional inject', async () => {
    const s = await importScenario({ format: 'csv', content: CSV, name: 'Coalition day 1', resolveTeam });
    expect(s.name).toBe('Coalition day 1');
    expect(s.teams.map((t) => [t.name, t.orgs])).toEqual([['Team A', [ORG_A]], ['Team B', [ORG_B]]]);
    expect(s.injects.map((i) => [i.id, i.offsetSeconds, i.type])).toEqual([
      ['1', 0, 'communication'], ['2', 600, 'technical'], ['3', 2700, 'intel'], ['4', 3600, 'communication'], ['5', 5400, 'prompt'],
    ]);
    const [, tech, intel, cond, prompt] = s.injects;
    expect(tech!.payload).toEqual({ kind: 'technical', technique: 'T1033' });
    expect(tech!.expectations).toEqual([{ name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 1800, validation: 'any', objectives: ['obj-1'], match: { technique: 'T1033' } }]);
    expect(intel!.teams).toEqual([]);
    const objects = (intel!.payload as unknown as { bundle: { objects: { type: string; pattern?: string }[] } }).bundle.objects;
    expect(objects.map((o) => o.pattern ?? o.type)).toEqual(["[ipv4-addr:value = '198.51.100.7']", "[domain-name:value = 'evil.example.com']", 'report']);
    expect(cond!.payload).toMatchObject({ kind: 'communication', channel: 'phone', subject: 'Escalation call' });
    expect(cond!.dependsOn).toEqual([{ parent: '2', mode: 'and', conditions: [{ key: 'Detection', value: false }] }]);
    expect(prompt!.expectations.map((e) => [e.type, e.expectedScore, e.expirySeconds])).toEqual([['REPORT', 100, 7200], ['MANUAL', 50, 7200]]);
    expect(s.objectives.map((o) => o.title)).toEqual(['Detect intrusions', 'Share indicators']);
  });

  it('converts absolute times to T+ from the earliest, or from a given start; semicolon-separated sheets too', async () => {
    const sheet = ['serial;absolute time;type;teams;title;content', '1;2026-11-17 09:30;communication;Team A;Kick-off;Go', '2;2026-11-17T10:45:30Z;communication;Team A;Update;Go on'].join('\n');
    const s = await importScenario({ format: 'csv', content: sheet, resolveTeam });
    expect(s.injects.map((i) => i.offsetSeconds)).toEqual([0, 4530]);
    const s2 = await importScenario({ format: 'csv', content: sheet, resolveTeam, start: Date.parse('2026-11-17T09:00:00Z') });
    expect(s2.injects.map((i) => i.offsetSeconds)).toEqual([1800, 6330]);
    const early = await rejection(importScenario({ format: 'csv', content: sheet, resolveTeam, start: Date.parse('2026-11-17T10:00:00Z') }));
    expect(early.issues).toEqual([{ row: 2, column: 'absolute time', message: expect.stringMatching(/before the exercise start/) as unknown as string }]);
  });

  it('reports every malformed row with its number', async () => {
    const bad = [
      HEADER,
      '1,T+00:00,communication,Team A,Start,Hello,,email,,,,,,,',
      '2,soon,technical,Team A,No time,x,T1033,,,,,,,,',
      '3,10m,exploit,Team A,Bad type,x,,,,,,,,,',
      '1,20m,communication,Team A,Duplicate serial,x,,,,,,,,,',
      '5,30m,technical,Team A,Bad technique,x,whoami,,,,,,,,',
      '6,40m,communication,Team A,Bad expectation,x,,,,DETECTED,,,,,',
      '7,50m,communication,Team A,Bad parent,x,,,,,,,99,,',
      '8,55m,communication,Team A,Bad condition,x,,,,,,,1,Detection failed,',
    ].join('\n');
    const e = await rejection(importScenario({ format: 'csv', content: bad, resolveTeam }));
    expect(e.http).toBe(400);
    expect(e.issues.map((i) => [i.row, i.column])).toEqual([
      [3, 'time'], [4, 'type'], [5, 'serial'], [6, 'technique'], [7, 'expectation type'], [8, 'depends on'], [9, 'condition'],
    ]);
    expect(e.message).toMatch(/^the CSV MSEL has 7 bad rows: row 3 \(time\)/);
  });

  it('refuses a sheet without the required columns, an unknown team, and a parent firing after its child', async () => {
    expect((await rejection(importScenario({ format: 'csv', content: 'a,b\n1,2', resolveTeam }))).issues[0]).toMatchObject({ row: 1, message: expect.stringMatching(/serial/) as unknown as string });
    const unknown = await rejection(importScenario({ format: 'csv', content: 'serial,time,type,teams,title,content\n1,0,communication,Team Z,Hi,Hello', resolveTeam }));
    expect(unknown.issues).toEqual([{ row: 2, column: 'teams', message: expect.stringMatching(/Team Z/) as unknown as string }]);
    const late = await rejection(importScenario({ format: 'csv', content: 'serial,time,type,teams,title,content,depends on\n1,2h,communication,Team A,Hi,Hello,\n2,1h,communication,Team A,Child,x,1', resolveTeam }));
    expect(late.issues).toEqual([{ row: 3, column: 'depends on', message: expect.stringMatching(/fires after/) as unknown as string }]);
  });
});

async function workbook(rows: unknown[][]): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('MSEL');
  for (const r of rows) ws.addRow(r);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

describe('XLSX MSEL', () => {
  it('reads a workbook written with exceljs, with real date cells made relative', async () => {
    const data = await workbook([
      ['Serial', 'Absolute time', 'Type', 'Target teams', 'Subject', 'Content', 'Technique', 'Expectation type', 'Expectation expiry'],
      ['X1', new Date('2026-11-17T09:00:00Z'), 'communication', 'Team A, Team B', 'Kick-off', 'Start', null, null, null],
      ['X2', new Date('2026-11-17T09:20:00Z'), 'technical', 'Team A, Team B', 'Discovery', 'whoami', 'T1033', 'DETECTION', '00:30'],
    ]);
    const s = await importScenario({ format: 'xlsx', content: data, name: 'From Excel', resolveTeam });
    expect(s.injects.map((i) => [i.id, i.offsetSeconds, i.type, i.teams])).toEqual([['X1', 0, 'communication', ['Team A', 'Team B'].map((t) => `team-${t.toLowerCase().replace(' ', '-')}`)], ['X2', 1200, 'technical', ['team-team-a', 'team-team-b']]]);
    expect(s.injects[1]!.expectations[0]).toMatchObject({ type: 'DETECTION', expirySeconds: 1800 });
  });

  it('reports malformed rows with their sheet row, and bytes that are not a workbook', async () => {
    const data = await workbook([
      ['serial', 'time', 'type', 'teams', 'title'],
      ['1', '0', 'communication', 'Team A', 'ok'],
      ['2', '10m', 'prompt', 'Team A', ''],
      ['3', 'later', 'prompt', 'Team A', 'x'],
    ]);
    const e = await rejection(importScenario({ format: 'xlsx', content: data, resolveTeam }));
    expect(e.issues.map((i) => [i.row, i.column])).toEqual([[3, 'title'], [4, 'time']]);
    expect((await rejection(importScenario({ format: 'xlsx', content: new TextEncoder().encode('not a zip'), resolveTeam }))).message).toMatch(/not a readable XLSX/);
  });
});

describe('times', () => {
  it('parses relative and absolute times', () => {
    expect([parseRelative('T+01:30'), parseRelative('1d 02:00'), parseRelative('90'), parseRelative('1h30m'), parseRelative('45s'), parseRelative('x')]).toEqual([5400, 93600, 5400, 5400, 45, undefined]);
    expect(parseAbsolute('2026-11-17T09:30:00+01:00')).toBe(Date.parse('2026-11-17T08:30:00Z'));
    expect(parseAbsolute('2026-02-31 10:00')).toBeUndefined();
  });
});
