/**
 * A file named on the command line that cannot be read is one line naming it, with the exit
 * code of docs/cli.md: 2 when it is not there, 1 when it is a directory. Several commands
 * printed the raw "ENOENT: no such file or directory, open 'x'" and exited 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sw } from './helpers/cli-run.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-input-'));
const missing = path.join(dir, 'missing.json');
const saved = { ...process.env };

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Nation AA', shortName: 'AA' });
  await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'aa-ops', password: 'long enough password', roles: ['analyst', 'excon', 'admin'] });
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

afterAll(() => {
  process.env = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

const AS = ['--as', 'aa-ops'];
const COMMANDS: { name: string; args: (file: string) => string[]; label?: string }[] = [
  { name: 'readiness inventory import', args: (f) => ['readiness', 'inventory', 'import', f, ...AS] },
  { name: 'readiness kev import', args: (f) => ['readiness', 'kev', 'import', f, ...AS] },
  { name: 'readiness cve import', args: (f) => ['readiness', 'cve', 'import', f, ...AS] },
  { name: 'readiness epss import', args: (f) => ['readiness', 'epss', 'import', f, ...AS] },
  { name: 'readiness csaf import', args: (f) => ['readiness', 'csaf', 'import', f, ...AS] },
  { name: 'readiness framework import', args: (f) => ['readiness', 'framework', 'import', f, ...AS] },
  { name: 'exercise import', args: (f) => ['exercise', 'import', f, ...AS] },
  { name: 'scenario import', args: (f) => ['scenario', 'import', f, '--format', 'json', ...AS] },
  { name: 'import', args: (f) => ['import', f, '--collection', 'inbox', '--org', 'AA'] },
  { name: 'peer add --ca', args: (f) => ['peer', 'add', '--name', 'node-z', '--public-key', Buffer.alloc(32, 7).toString('base64'), '--ca', f], label: '--ca ' },
  { name: 'taxii-feed add --ca', args: (f) => ['taxii-feed', 'add', 'feed-z', '--url', 'https://taxii.example', '--collection', 'c1', '--into', 'inbox', '--org', 'AA', '--ca', f], label: '--ca ' },
];

describe('an input file that cannot be read', () => {
  beforeAll(async () => {
    const c = await sw('collection', 'create', '--title', 'Inbox', '--alias', 'inbox');
    expect(c.code, c.err).toBe(0);
    expect((await sw('collection', 'grant', 'inbox', 'AA', '--read', '--write')).code).toBe(0);
  });

  for (const c of COMMANDS) {
    it(`${c.name}: a missing file exits 2 with one line naming it`, async () => {
      const r = await sw(...c.args(missing));
      expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: `shieldwall: cannot read ${c.label ?? ''}${missing}: no such file or directory` });
    });

    it(`${c.name}: a directory exits 1 with one line naming it`, async () => {
      const r = await sw(...c.args(dir));
      expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `shieldwall: cannot read ${c.label ?? ''}${dir}: is a directory, not a file` });
    });
  }
});
