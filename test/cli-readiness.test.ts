/**
 * `shieldwall readiness …`: an inventory CSV and the real KEV / CVE files from the shell, every
 * refused entry printed with its reason; another organisation's user sees none of it.
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
  for (const o of ['AA', 'BB']) {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Nation ${o}`, shortName: o });
    await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `${o.toLowerCase()}-ops`, password: 'long enough password', roles: ['analyst'] });
  }
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

describe('shieldwall readiness', () => {
  it('imports an inventory CSV, the KEV catalog and CVE records; lists the exposures per organisation', async () => {
    const csv = path.join(dir, 'inventory.csv');
    fs.writeFileSync(csv, 'name,vital_function,criticality,owner,products\nedge-fw,government network,critical,netops,cpe:2.3:o:paloaltonetworks:pan-os:10.2.5:*:*:*:*:*:*:*\nci,build,medium,dev,cpe:/a:jenkins:jenkins:2.426.2\nbroken,,urgent,,\n');
    const inv = await sw('readiness', 'inventory', 'import', csv, '--as', 'aa-ops');
    // A row refused: the import finished partly (exit 4, as docs/cli.md says of imports).
    expect(inv.code, inv.err).toBe(4);
    expect(inv.out).toContain('assets: 2 created, 0 updated, 1 refused');
    expect(inv.out).toMatch(/refused\tbroken\tcriticality must be one of/);
    const cve = await sw('readiness', 'cve', 'import', sharedPath('data/readiness/cve/CVE-2024-3400.json'), sharedPath('data/readiness/cve/CVE-2024-23897.json'), '--as', 'aa-ops');
    expect(cve.out).toContain('CVE records: 2 imported, 0 refused; 2 new exposures');
    const kev = await sw('readiness', 'kev', 'import', sharedPath('data/readiness/kev/known_exploited_vulnerabilities-2024.09.09.json'), '--as', 'aa-ops');
    expect(kev.code, kev.err).toBe(0);
    expect(kev.out).toMatch(/^KEV 2024\.09\.09: 1165 entries, 1165 new, 0 removed \(none\), 0 refused; \d+ new exposures, \d+ alerts/);
    const list = await sw('readiness', 'exposures', '--kev', '--as', 'aa-ops', '--json');
    const items = JSON.parse(list.out) as { cve: string; assetName: string }[];
    expect(items.some((e) => e.cve === 'CVE-2024-3400' && e.assetName === 'edge-fw')).toBe(true);
    expect(items.some((e) => e.cve === 'CVE-2024-23897' && e.assetName === 'ci')).toBe(true);
    const other = await sw('readiness', 'exposures', '--as', 'bb-ops', '--json');
    expect(JSON.parse(other.out)).toEqual([]);
    const bad = await sw('readiness', 'inventory', 'import', path.join(dir, 'missing.csv'), '--as', 'aa-ops');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/cannot read/);
  });
});
