/**
 * Times given to the respond commands (`--deadline`, `--from`, `--until`) are RFC 3339 with their
 * offset: a deadline without one was read in the local time zone of whoever typed it, so the same
 * silence procedure closed at 10:00Z for one operator, 15:00Z for one in New York and 01:00Z for
 * one in Tokyo. Without an offset (or not a timestamp at all) it is refused; with one it is the
 * instant it names.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sw } from './helpers/cli-run.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-deadline-'));

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  for (const o of ['AA', 'BB']) {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Nation ${o}`, shortName: o });
    await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `${o.toLowerCase()}-ops`, password: 'long enough password', roles: ['responder', 'representative'] });
  }
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

const propose = (deadline: string) => sw('decision', 'propose', '--as', 'aa-ops', '--title', 'Joint statement', '--text', 'text', '--procedure', 'silence', '--participants', 'BB', '--deadline', deadline, '--json');

describe('respond command times', () => {
  it('a deadline without an offset is refused, naming the flag; nothing is proposed', async () => {
    for (const deadline of ['2030-01-01T10:00:00', '2030-01-01', 'Jan 1 2030 10:00', '2030-01-01 10:00:00']) {
      const r = await propose(deadline);
      expect(r.code, `${deadline}: ${r.out}`).toBe(1);
      expect(r.err).toContain('--deadline');
    }
    expect(JSON.parse((await sw('decision', 'list', '--as', 'aa-ops', '--json')).out)).toEqual([]);
  });

  it('with an offset it is the instant it names', async () => {
    const r = await propose('2030-01-01T10:00:00+02:00');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).deadline).toBe('2030-01-01T08:00:00.000Z');
    const z = await propose('2030-01-01T10:00:00Z');
    expect(JSON.parse(z.out).deadline).toBe('2030-01-01T10:00:00.000Z');
  });

  it('so do an offer deadline and an availability window', async () => {
    const bad = await sw('assistance', 'request', '--as', 'aa-ops', '--title', 'Need forensics', '--services', 'malware-analysis', '--deadline', '2030-01-01T10:00:00', '--to', 'BB');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--deadline');
    const req = await sw('assistance', 'request', '--as', 'aa-ops', '--title', 'Need forensics', '--services', 'malware-analysis', '--deadline', '2030-01-01T10:00:00Z', '--to', 'BB');
    expect(req.code, req.err).toBe(0);
    const offer = await sw('assistance', 'offer', req.out.trim(), '--as', 'bb-ops', '--team', 'BB lab', '--services', 'malware-analysis', '--capacity', '2', '--from', '2029-01-01T00:00:00', '--until', '2030-01-01T00:00:00Z');
    expect(offer.code).toBe(1);
    expect(offer.err).toContain('--from');
  });
});
