/**
 * `shieldwall exercise …` in-process: import a scenario (bad JSON → exit 1), launch, pause,
 * resume, status, report and purge, as control; a player may not launch (exit 1, 403 text).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sw } from './helpers/cli-run.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-exercise-'));
const orgs: Record<string, string> = {};

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_WORKERS: '0' }));
  for (const [o, roles] of [['EX', ['excon']], ['AA', ['analyst']]] as const) {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Nation ${o}`, shortName: o });
    orgs[o] = org.id;
    await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `${o.toLowerCase()}-user`, password: 'long enough password', roles: [...roles] });
  }
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

describe('shieldwall exercise', () => {
  it('imports, launches, pauses, resumes, reports and purges', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ name: 'x', teams: [] }));
    const b = await sw('exercise', 'import', bad, '--as', 'ex-user');
    expect(b.code).toBe(1);
    expect(b.err).toContain('$.teams');
    const file = path.join(dir, 'sc.json');
    fs.writeFileSync(file, JSON.stringify({
      name: 'CLI drill', teams: [{ id: 'aa', name: 'AA', orgs: [orgs.AA] }],
      injects: [{ id: 'm', title: 'Mail', offsetSeconds: 600, type: 'communication', teams: [], payload: { channel: 'email', from: 'x', subject: 's', body: 'b' }, expectations: [{ type: 'MANUAL' }] }],
    }));
    const imp = await sw('exercise', 'import', file, '--run', '--speed', '60', '--as', 'ex-user', '--json');
    expect(imp.code, imp.err).toBe(0);
    const id = JSON.parse(imp.out).run.id as string;
    const denied = await sw('exercise', 'launch', id, '--as', 'aa-user');
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/exercise.control|control/);
    expect((await sw('exercise', 'launch', id, '--as', 'ex-user')).out).toContain('running');
    expect((await sw('exercise', 'pause', id, '--as', 'ex-user')).out).toContain('paused');
    expect((await sw('exercise', 'resume', id, '--as', 'ex-user')).out).toContain('running');
    const st = await sw('exercise', 'status', id, '--as', 'ex-user');
    expect(st.out).toContain('pending');
    expect(st.out).toContain('score aa: 0/0');
    expect((await sw('exercise', 'list', '--as', 'aa-user')).out).toContain(id);
    expect(JSON.parse((await sw('exercise', 'report', id, '--as', 'ex-user')).out).exercise.id).toBe(id);
    expect((await sw('exercise', 'purge', id, '--as', 'ex-user')).code).toBe(3); // still running: conflict
    expect((await sw('exercise', 'finish', id, '--as', 'ex-user')).out).toContain('finished');
    const pg = await sw('exercise', 'purge', id, '--as', 'ex-user');
    expect(pg.code, pg.err).toBe(0);
    expect((await sw('exercise', 'status', id, '--as', 'ex-user')).code).toBe(2);
  });
});
