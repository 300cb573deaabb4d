/**
 * `shieldwall scenario import --start`: the exercise start is read like the sheet's absolute
 * times, UTC unless it carries a zone. It was read in the local time zone of the shell while the
 * sheet's times are UTC, so on a machine in Tokyo every inject of a sheet landed 9 hours late
 * (T+09:00 for a STARTEX at the start), and in New York the import failed ("before the exercise
 * start"). This test runs with the process in Tokyo time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sw } from './helpers/cli-run.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-scenario-start-'));
const tz = process.env.TZ;

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Nation AA', shortName: 'AA' });
  await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'aa-excon', password: 'long enough password', roles: ['excon'] });
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
  process.env.TZ = 'Asia/Tokyo';
});
afterAll(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('scenario import --start', () => {
  it('is UTC like the sheet unless it names a zone', async () => {
    expect(new Date(Date.UTC(2030, 0, 1)).getHours()).toBe(9); // the process is in Tokyo
    const csv = path.join(dir, 'abs.csv');
    fs.writeFileSync(csv, 'serial,time,type,teams,title,content\n1,2030-01-01 10:00,communication,AA,Start,Go\n2,2030-01-01 10:30,prompt,AA,Report,Write a sitrep\n');
    const offsets = async (start: string) => {
      const r = await sw('scenario', 'import', csv, '--as', 'aa-excon', '--start', start, '--json');
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out).scenario.injects.map((i: { offsetSeconds: number }) => i.offsetSeconds);
    };
    expect(await offsets('2030-01-01T10:00:00')).toEqual([0, 1800]);
    expect(await offsets('2030-01-01 10:00')).toEqual([0, 1800]);
    expect(await offsets('2030-01-01T09:00:00Z')).toEqual([3600, 5400]);
    expect(await offsets('2030-01-01T19:00:00+09:00')).toEqual([0, 1800]);
    const bad = await sw('scenario', 'import', csv, '--as', 'aa-excon', '--start', 'tomorrow');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--start');
  });
});
