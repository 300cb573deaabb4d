/**
 * Readiness from the shell: `shieldwall readiness framework import <file>` with the real CSF
 * 2.0 CPRT export (22 categories, 106 subcategories), a refused file, aggregates and a
 * member report as PDF.
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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-readiness-'));

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Nation AA', shortName: 'AA' });
  await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'aa-admin', password: 'long enough password', roles: ['admin'] });
  await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'aa-analyst', password: 'long enough password', roles: ['analyst'] });
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

describe('shieldwall readiness', () => {
  it('imports the CSF 2.0 CPRT export and lists it; refuses a second import and a broken file', async () => {
    const file = sharedPath('data/readiness/nist-csf/cprt_CSF_2_0_0_04-24-2024.json');
    const denied = await sw('readiness', 'framework', 'import', file, '--as', 'aa-analyst');
    expect(denied.code).toBe(1); // FORBIDDEN is a usage error on the CLI
    expect(denied.err).toMatch(/readiness.admin needs the admin role/);
    const r = await sw('readiness', 'framework', 'import', file, '--as', 'aa-admin', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ key: 'csf-2.0', functions: 6, categories: 22, items: 106 });
    expect((await sw('readiness', 'framework', 'import', file, '--as', 'aa-admin')).code).toBe(3);
    const broken = path.join(dir, 'broken.yaml');
    fs.writeFileSync(broken, 'title: nothing here\n');
    const b = await sw('readiness', 'framework', 'import', broken, '--as', 'aa-admin');
    expect(b.code).not.toBe(0);
    expect(b.err).toMatch(/unknown format/);
    expect((await sw('readiness', 'framework', 'list', '--as', 'aa-analyst')).out).toMatch(/csf-2.0\t106 items/);
  });

  it('prints aggregates and writes a member report PDF', async () => {
    const agg = await sw('readiness', 'aggregates', '--as', 'aa-analyst', '--year', '2025', '--json');
    expect(JSON.parse(agg.out)).toMatchObject({ year: 2025, members: 0 });
    const out = path.join(dir, 'r.pdf');
    const rep = await sw('readiness', 'report', '--as', 'aa-analyst', '--year', '2025', '--pdf', out);
    expect(rep.code).toBe(0);
    expect(fs.readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await sw('readiness', 'aggregates', '--as', 'aa-analyst', '--year', 'soon')).code).toBe(1);
  });
});
