/**
 * Incident response from the shell (`--as <user>`): declare, share, phase, metrics, export;
 * a silence procedure settled by `decision tick`; assistance request and offer; alert level.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sw } from './helpers/cli-run.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { oasisErrors } from './helpers/stix-schema.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-respond-'));

beforeAll(async () => {
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  for (const o of ['AA', 'BB']) {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Nation ${o}`, shortName: o });
    await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `${o.toLowerCase()}-ops`, password: 'long enough password', roles: ['responder', 'representative', 'admin'] });
  }
  const aa = (await p.store.listOrganisations()).find((o) => o.shortName === 'AA');
  if (!aa) throw new Error('no AA');
  await p.access.createUser(SYSTEM_ACTOR, { orgId: aa.id, username: 'aa-norole', password: 'long enough password', roles: [] });
  await p.access.createUser(SYSTEM_ACTOR, { orgId: aa.id, username: 'aa-analyst', password: 'long enough password', roles: ['analyst'] });
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

describe('shieldwall incident / decision / assistance / alert-level', () => {
  it('declares, shares, moves and exports an incident', async () => {
    const c = await sw('incident', 'create', '--as', 'aa-ops', '--title', 'Wiper at the port authority', '--severity', '3', '--category', 'apt-intrusion');
    expect(c.code).toBe(0);
    const id = c.out.trim();
    expect(id).toMatch(/^incident--/);
    expect((await sw('incident', 'share', id, '--as', 'aa-ops', '--org', 'BB', '--permission', 'contribute')).code).toBe(0);
    expect((await sw('incident', 'list', '--as', 'bb-ops')).out).toContain(id);
    expect((await sw('incident', 'phase', id, 'containment-eradication-recovery', '--as', 'aa-ops')).out).toContain('containment-eradication-recovery');
    const bad = await sw('incident', 'phase', id, 'nowhere', '--as', 'aa-ops');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/phase must be one of/);
    expect((await sw('incident', 'phase', id, 'closed', '--as', 'aa-ops')).code).toBe(3); // mandatory tasks open → conflict
    const exp = await sw('incident', 'export', id, '--as', 'bb-ops');
    const bundle = JSON.parse(exp.out) as { objects: Record<string, unknown>[] };
    for (const o of bundle.objects) expect(oasisErrors(o)).toEqual([]);
    const m = await sw('incident', 'metrics', '--as', 'aa-ops', '--json');
    expect(JSON.parse(m.out)[0]).toMatchObject({ incidents: 1 });
    expect((await sw('incident', 'show', id, '--as', 'nobody')).code).toBe(2);
  });

  it('runs a silence procedure and an assistance request', async () => {
    const deadline = new Date(Date.now() + 1500).toISOString();
    const d = await sw('decision', 'propose', '--as', 'aa-ops', '--title', 'Joint statement', '--text', 'text', '--procedure', 'silence', '--participants', 'BB', '--deadline', deadline);
    expect(d.code).toBe(0);
    const id = d.out.trim();
    await new Promise((r) => setTimeout(r, 1600));
    expect((await sw('decision', 'tick')).out).toMatch(/1 decision/);
    expect((await sw('decision', 'show', id, '--as', 'bb-ops')).out).toMatch(/adopted/);
    const req = await sw('assistance', 'request', '--as', 'aa-ops', '--title', 'Need forensics', '--services', 'malware-analysis', '--deadline', new Date(Date.now() + 3600_000).toISOString(), '--to', 'BB');
    expect(req.code).toBe(0);
    const offer = await sw('assistance', 'offer', req.out.trim(), '--as', 'bb-ops', '--team', 'BB lab', '--services', 'malware-analysis', '--capacity', '2', '--from', '2026-01-01T00:00:00Z', '--until', '2027-01-01T00:00:00Z');
    expect(offer.out).toMatch(/1 offer/);
    expect((await sw('alert-level', 'set', '3', '--as', 'bb-ops', '--reason', 'wiper')).out).toMatch(/3 ELEVATED/);
    expect((await sw('alert-level', 'board')).out).toMatch(/Nation BB\t3 ELEVATED/);
  });

  it('shows an ally\'s text with its control characters escaped: an ESC sequence never reaches the terminal, a newline never forges a row', async () => {
    // BB proposes a decision to AA with a hostile title, through the service a REST call reaches.
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }));
    const aa = (await p.store.listOrganisations()).find((o) => o.shortName === 'AA')!;
    const title = 'Statement\u001b]0;pwned\u0007\u001b[2J\nincident--00000000-0000-4000-8000-000000000000\tforged\u202e';
    const d = await p.respond.decisions.propose({ principal: await p.access.principalOfUser('bb-ops'), source: 'test' }, {
      title, text: 'x', kind: 'other', procedure: 'consensus', participants: [aa.id], deadline: new Date(Date.now() + 3600_000).toISOString(),
    });
    await p.close();
    const list = await sw('decision', 'list', '--as', 'aa-ops');
    const show = await sw('decision', 'show', d.id, '--as', 'aa-ops');
    for (const r of [list, show]) {
      expect(r.code).toBe(0);
      expect(r.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
      expect(r.out).toContain('Statement\\u001b]0;pwned\\u0007\\u001b[2J\\u000aincident--00000000-0000-4000-8000-000000000000\\u0009forged\\u202e');
    }
    expect(list.out.split('\n').filter((l) => l.includes('forged'))).toHaveLength(1);
    // --json keeps the text as written.
    expect((JSON.parse((await sw('decision', 'show', d.id, '--as', 'aa-ops', '--json')).out) as { title: string }).title).toBe(title);
  });

  it('applies the permission table of REST to --as users, reads included', async () => {
    const made = await sw('incident', 'create', '--as', 'aa-ops', '--title', 'Shared read test', '--severity', '2', '--tlp', 'green');
    const id = made.out.trim();
    // A user without role holds only session.read: every read and write is refused with the action named, exit 1.
    for (const argv of [['incident', 'list'], ['incident', 'show', id], ['incident', 'metrics'], ['incident', 'export', id],
      ['decision', 'list'], ['assistance', 'list'], ['sigma', 'list']]) {
      const r = await sw(...argv, '--as', 'aa-norole');
      expect({ argv, code: r.code, out: r.out }).toEqual({ argv, code: 1, out: '' });
      expect(r.err).toMatch(/\.read needs/);
    }
    // An analyst reads incidents but may not declare one, propose a decision, request help or set a level.
    expect((await sw('incident', 'list', '--as', 'aa-analyst')).out).toContain(id);
    for (const [argv, action] of [
      [['incident', 'create', '--title', 'x', '--severity', '1'], 'incident.write'],
      [['incident', 'phase', id, 'closed'], 'incident.write'],
      [['decision', 'propose', '--title', 't', '--text', 't', '--procedure', 'silence', '--participants', 'BB', '--deadline', '2030-01-01T00:00:00Z'], 'decision.write'],
      [['assistance', 'request', '--title', 't', '--services', 'malware-analysis', '--deadline', '2030-01-01T00:00:00Z'], 'assistance.write'],
      [['alert-level', 'set', '2', '--reason', 'r'], 'alert-level.write'],
    ] as const) {
      const r = await sw(...argv, '--as', 'aa-analyst');
      expect({ argv, code: r.code }).toEqual({ argv, code: 1 });
      expect(r.err).toContain(`${action} needs`);
    }
    // The analyst's refused writes left nothing behind.
    expect((await sw('incident', 'list', '--as', 'aa-ops', '--json')).out).not.toContain('"title": "x"');
  });
});
