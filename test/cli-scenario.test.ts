/**
 * `shieldwall scenario import` (CSV MSEL with organisations as teams, the OpenAEV sample with a
 * --team definition, a malformed sheet naming its rows) and `scenario report-pdf`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sw } from './helpers/cli-run.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { sharedPath } from './helpers/shared.js';
import { pdfPageCount } from './helpers/pdf-text.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-scenario-'));
let orgA = '';

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  for (const o of ['AA', 'BB']) {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Nation ${o}`, shortName: o });
    if (o === 'AA') orgA = org.id;
    await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `${o.toLowerCase()}-excon`, password: 'long enough password', roles: ['excon'] });
  }
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

describe('shieldwall scenario', () => {
  it('imports a CSV MSEL and the OpenAEV sample', async () => {
    const csv = path.join(dir, 'msel.csv');
    fs.writeFileSync(csv, 'serial,time,type,teams,title,content\n1,0,communication,AA;BB,Start,Go\n2,15m,prompt,AA,Report,Write a sitrep\n');
    const c = await sw('scenario', 'import', csv, '--as', 'aa-excon', '--name', 'Day 1', '--json');
    expect(c.code, c.err).toBe(0);
    const rec = JSON.parse(c.out);
    expect(rec.scenario.injects.map((i: { offsetSeconds: number }) => i.offsetSeconds)).toEqual([0, 900]);
    expect(rec.scenario.teams.map((t: { name: string }) => t.name)).toEqual(['AA', 'BB']);
    const o = await sw('scenario', 'import', sharedPath('data/exercise/openaev/import-scenario-with-attack-pattern.json'), '--as', 'aa-excon', '--team', `blue=Blue:${orgA}`);
    expect(o.code, o.err).toBe(0);
    expect(o.out).toMatch(/^exercise-scenario--\S+\t1 injects\t1 teams\ttest export$/);
  });

  it('exits 1 with the bad rows of a malformed sheet', async () => {
    const csv = path.join(dir, 'bad.csv');
    fs.writeFileSync(csv, 'serial,time,type,teams,title\n1,0,communication,AA,Start\n2,whenever,prompt,AA,Report\n');
    const c = await sw('scenario', 'import', csv, '--as', 'aa-excon');
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/row 3 \(time\)/);
  });

  it('writes the report PDF of an exercise', async () => {
    const csv = path.join(dir, 'pdf.csv');
    fs.writeFileSync(csv, 'serial,time,type,teams,title,content\n1,0,communication,AA,Start,Go\n');
    const sc = JSON.parse((await sw('scenario', 'import', csv, '--as', 'aa-excon', '--json')).out);
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
    const principal = await p.access.principalOfUser('aa-excon');
    const runRec = await p.exercise.createRun({ principal, source: 'test' }, { scenarioId: sc.id, name: 'CLI drill' });
    await p.close();
    const out = path.join(dir, 'aar.pdf');
    const c = await sw('scenario', 'report-pdf', runRec.id, '--as', 'aa-excon', '--out', out);
    expect(c.code, c.err).toBe(0);
    expect(pdfPageCount(fs.readFileSync(out))).toBe(2);
  });
});
