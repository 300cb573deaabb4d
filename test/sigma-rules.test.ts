/**
 * The Sigma rules service through the REST API: rules added under TLP and recipients reach
 * only the organisations the release policy allows (lists, reads, `releaseOf` for alerts),
 * rules that do not compile are a 422 with the reason, placeholders resolve from the
 * configured file, directory rules load while a broken file is reported, only the creator
 * removes, and `shieldwall sigma check` reports failures with a non-zero exit code.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayRelease } from '../src/access/index.js';
import type { Audience, ReleaseFacts, Tlp } from '../src/core/index.js';
import { combineRelease, NOBODY } from '../src/detect/rules.js';
import { run } from '../src/cli/program.js';
import { makeAlliance, type Alliance } from './rest-fixtures.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'sw-sigma-rules-'));
const rulesDir = path.join(tmp, 'rules');
const placeholders = path.join(tmp, 'placeholders.yml');

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
function rule(n: number, title: string, extra = ''): string {
  return `title: ${title}
id: ${uuid(n)}
status: test
level: high
tags: [attack.discovery, attack.t1033]
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\\whoami.exe'
${extra}  condition: sel
`;
}
const ADMIN_LOGON = `title: Admin logon
id: ${uuid(50)}
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
    TargetUserName|expand: '%Admins%'
  condition: sel
`;
const UNRESOLVED = ADMIN_LOGON.replace('%Admins%', '%Nobody%').replace(uuid(50), uuid(51));

let al: Alliance;

async function call(user: string, method: 'GET' | 'POST' | 'DELETE', url: string, opts: { body?: unknown; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${al.tokens[user]}` };
  let payload: string | undefined;
  if (opts.raw !== undefined) payload = opts.raw;
  else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await al.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload !== undefined ? { payload } : {}) });
  return { status: res.statusCode, json: () => JSON.parse(res.body) };
}

beforeAll(async () => {
  mkdirSync(path.join(rulesDir, 'windows'), { recursive: true });
  writeFileSync(path.join(rulesDir, 'windows', 'whoami.yml'), rule(1, 'Directory whoami'));
  writeFileSync(path.join(rulesDir, 'net.yaml'), rule(2, 'Directory net').replace('whoami.exe', 'net.exe'));
  writeFileSync(path.join(rulesDir, 'broken.yml'), 'title: [unclosed\n');
  writeFileSync(path.join(rulesDir, 'README.md'), 'not a rule');
  writeFileSync(placeholders, 'Admins:\n  - admin*\n  - root\n');
  al = await makeAlliance({ SHIELDWALL_SIGMA_DIR: rulesDir, SHIELDWALL_SIGMA_PLACEHOLDERS: placeholders });
});
afterAll(async () => {
  await al.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('directory rules', () => {
  it('load the good files and report the broken one with its reason', async () => {
    const list = (await call('b-analyst', 'GET', '/sigma/rules')).json().items as { id: string; source: string; tlp: string; title: string }[];
    expect(list.filter((r) => r.source === 'dir').map((r) => [r.id, r.tlp, r.title])).toEqual([
      ['dir:net.yaml', 'clear', 'Directory net'], ['dir:windows/whoami.yml', 'clear', 'Directory whoami'],
    ]);
    const st = (await call('b-analyst', 'GET', '/sigma/status')).json();
    expect(st.loaded).toBe(2);
    expect(st.failed).toEqual([{ source: 'dir', rule: 'broken.yml', reason: expect.stringMatching(/YAML/) }]);
    const one = await call('c-analyst', 'GET', `/sigma/rules/${encodeURIComponent('dir:windows/whoami.yml')}`);
    expect(one.json()).toMatchObject({ source: 'dir', yaml: rule(1, 'Directory whoami'), loaded: true, level: 'high', logsource: { product: 'windows', category: 'process_creation' } });
    expect((await call('a-admin', 'DELETE', `/sigma/rules/${encodeURIComponent('dir:net.yaml')}`)).status).toBe(403);
    // The engine has them: a whoami process fires the directory rule, released to everybody.
    const snap = al.platform.sigma.snapshot();
    const hits = snap.engine.evaluate({ Image: 'C:\\Windows\\System32\\whoami.exe' }, { product: 'windows', category: 'process_creation' });
    expect(hits.map((h) => h.title)).toEqual(['Directory whoami']);
    expect(snap.releaseOf({ id: uuid(1), title: 'Directory whoami' }).tlp).toBe('clear');
  });
});

describe('rules through the API', () => {
  let amberId: string;

  it('adds a rule as raw YAML (default TLP:GREEN) and as JSON with TLP:AMBER to one organisation', async () => {
    const green = await call('a-analyst', 'POST', '/sigma/rules', { raw: rule(10, 'Green whoami'), type: 'application/yaml' });
    expect(green.status).toBe(201);
    expect(green.json()).toMatchObject({ source: 'api', tlp: 'green', title: 'Green whoami', ruleId: uuid(10), creatorOrg: al.orgs.A, loaded: true, tags: ['attack.discovery', 'attack.t1033'] });
    const amber = await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: rule(11, 'Amber whoami'), tlp: 'amber', recipients: [al.orgs.B] } });
    expect(amber.status).toBe(201);
    amberId = amber.json().id;
    expect(amberId).toMatch(/^sigma-rule--/);
    const viaQuery = await call('a-analyst', 'POST', `/sigma/rules?tlp=red&recipients=${al.orgs.B}`, { raw: rule(12, 'Red whoami'), type: 'text/yaml' });
    expect(viaQuery.json()).toMatchObject({ tlp: 'red', recipients: [al.orgs.B] });
  });

  it('lists and reads an AMBER rule for its recipient, not for another organisation (404)', async () => {
    const titles = async (u: string) => ((await call(u, 'GET', '/sigma/rules')).json().items as { title: string }[]).map((r) => r.title);
    expect(await titles('b-analyst')).toEqual(expect.arrayContaining(['Green whoami', 'Amber whoami', 'Red whoami']));
    expect(await titles('c-analyst')).toContain('Green whoami');
    expect(await titles('c-analyst')).not.toContain('Amber whoami');
    expect(await titles('c-analyst')).not.toContain('Red whoami');
    expect((await call('b-analyst', 'GET', `/sigma/rules/${amberId}`)).json().yaml).toBe(rule(11, 'Amber whoami'));
    expect((await call('c-analyst', 'GET', `/sigma/rules/${amberId}`)).status).toBe(404);
    expect((await call('c-analyst', 'DELETE', `/sigma/rules/${amberId}`)).status).toBe(404);
  });

  it('gives release facts for alerts: the AMBER rule releases to A and B, not C', async () => {
    const snap = al.platform.sigma.snapshot();
    const audience = (org: string): Audience => ({ hop: 'local', orgId: org, groupIds: [] });
    const facts = snap.releaseOf({ id: uuid(11), title: 'Amber whoami' });
    expect(mayRelease(facts, audience(al.orgs.B), 'read')).toBe(true);
    expect(mayRelease(facts, audience(al.orgs.A), 'read')).toBe(true);
    expect(mayRelease(facts, audience(al.orgs.C), 'read')).toBe(false);
    expect(snap.releaseOf(uuid(11))).toEqual(facts);
    // Without an id, by title; an unknown rule releases to no one.
    expect(snap.releaseOf({ title: 'Amber whoami' })).toEqual(facts);
    expect(snap.releaseOf({ id: uuid(999), title: 'Nothing' })).toEqual(NOBODY);
    const hits = snap.engine.evaluate({ Image: 'C:\\Windows\\System32\\whoami.exe' }, { product: 'windows', category: 'process_creation' }).map((h) => h.title);
    expect(hits.sort()).toEqual(['Amber whoami', 'Directory whoami', 'Green whoami', 'Red whoami']);
  });

  it('counts in the status only the rules the reader may read (a count is not an oracle of an AMBER or RED rule)', async () => {
    for (const [user, want] of [['c-analyst', 3], ['b-analyst', 5], ['a-analyst', 5]] as const) {
      const st = (await call(user, 'GET', '/sigma/status')).json() as { loaded: number; rules: number };
      const listed = ((await call(user, 'GET', '/sigma/rules')).json().items as { loaded: boolean }[]).filter((r) => r.loaded).length;
      expect([st.loaded, st.rules, listed], user).toEqual([want, want, want]);
    }
    // The node operator (no reader) sees every rule.
    expect(al.platform.sigma.status()).toMatchObject({ loaded: 5, rules: 5 });
  });

  it('refuses malformed YAML and rules that do not compile with 422 and the reason', async () => {
    const bad = await call('a-analyst', 'POST', '/sigma/rules', { raw: 'title: [unclosed\n', type: 'application/yaml' });
    expect(bad.status).toBe(422);
    expect(bad.json().error).toMatchObject({ code: 'UNPROCESSABLE', message: expect.stringMatching(/does not compile: YAML/) });
    const noDetection = await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: 'title: x\nlogsource: {product: windows}\n' } });
    expect(noDetection.status).toBe(422);
    expect((await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: 42 } })).status).toBe(400);
    expect((await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: rule(13, 'x'), tlp: 'purple' } })).status).toBe(400);
    expect((await call('a-analyst', 'POST', '/sigma/rules?tlp=purple', { raw: rule(13, 'x'), type: 'application/yaml' })).status).toBe(400);
    // The same id again is a conflict (references by id must stay unambiguous).
    expect((await call('b-analyst', 'POST', '/sigma/rules', { raw: rule(10, 'Copy'), type: 'application/yaml' })).status).toBe(409);
  });

  it('keeps the YAML parser\'s warnings about an upload out of the node\'s stderr (process warnings)', async () => {
    const warnings: unknown[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const r = await call('a-analyst', 'POST', '/sigma/rules', { raw: '%00\n%YAML 9.9\n---\ntitle: x\n', type: 'application/yaml' });
      expect(r.status).toBe(422);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects an unresolved placeholder by name and compiles one resolved from the configured file', async () => {
    const un = await call('a-analyst', 'POST', '/sigma/rules', { raw: UNRESOLVED, type: 'application/yaml' });
    expect(un.status).toBe(422);
    expect(un.json().error.message).toMatch(/unresolved placeholder %Nobody%/);
    const ok = await call('a-analyst', 'POST', '/sigma/rules', { raw: ADMIN_LOGON, type: 'application/yaml' });
    expect(ok.status).toBe(201);
    const ev = { EventID: 4624, TargetUserName: 'administrator' };
    const ls = { product: 'windows', service: 'security' };
    expect(al.platform.sigma.snapshot().engine.evaluate(ev, ls).map((h) => h.title)).toEqual(['Admin logon']);
    expect(al.platform.sigma.snapshot().engine.evaluate({ ...ev, TargetUserName: 'guest' }, ls)).toEqual([]);
  });

  it('keeps a correlation with its rules as one record, released as the most restrictive of them', async () => {
    const text = `${rule(20, 'Red base').replace('status: test', 'name: red_base')}---
title: Many whoami
id: ${uuid(21)}
correlation:
  type: event_count
  rules: [red_base]
  group-by: [Computer]
  timespan: 1m
  condition: {gte: 2}
`;
    const r = await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: text, tlp: 'green' } });
    expect(r.status).toBe(201);
    expect(r.json().items.map((i: { kind: string }) => i.kind)).toEqual(['detection', 'correlation']);
    // Split in two records of different TLP: the correlation (GREEN) references A's RED rule for B.
    const base = await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: rule(22, 'Red only').replace('status: test', 'name: red_only'), tlp: 'red', recipients: [al.orgs.B] } });
    expect(base.status).toBe(201);
    const corr = `title: Red only twice\nid: ${uuid(23)}\ncorrelation:\n  type: event_count\n  rules: [red_only]\n  timespan: 1m\n  condition: {gte: 2}\n`;
    expect((await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: corr, tlp: 'green' } })).status).toBe(201);
    const facts = al.platform.sigma.snapshot().releaseOf({ id: uuid(23), title: 'Red only twice' });
    const aud = (org: string): Audience => ({ hop: 'local', orgId: org, groupIds: [] });
    expect([al.orgs.A, al.orgs.B, al.orgs.C].map((o) => mayRelease(facts, aud(o), 'read'))).toEqual([true, true, false]);
    // Another organisation may not correlate on (and so silence) A's rule, nor on directory rules.
    const foreign = corr.replace(uuid(23), uuid(24));
    const f = await call('b-analyst', 'POST', '/sigma/rules', { body: { yaml: foreign } });
    expect(f.status).toBe(422);
    expect(f.json().error.message).toMatch(/another owner/);
    const onDir = `title: Dir twice\ncorrelation:\n  type: event_count\n  rules: [${uuid(1)}]\n  timespan: 1m\n  condition: {gte: 2}\n`;
    expect((await call('a-analyst', 'POST', '/sigma/rules', { body: { yaml: onDir } })).status).toBe(422);
  });

  it('removes only for the creating organisation, and notifies listeners on add and remove', async () => {
    let changes = 0;
    const off = al.platform.sigma.onChange(() => { changes++; });
    const r = await call('a-analyst', 'POST', '/sigma/rules', { raw: rule(30, 'Short-lived'), type: 'application/yaml' });
    expect(changes).toBe(1);
    const id = r.json().id as string;
    expect((await call('b-analyst', 'DELETE', `/sigma/rules/${id}`)).status).toBe(403); // GREEN: B sees it, may not remove it
    expect(changes).toBe(1);
    expect((await call('a-admin', 'DELETE', `/sigma/rules/${id}`)).status).toBe(204);
    expect(changes).toBe(2);
    off();
    expect((await call('a-admin', 'GET', `/sigma/rules/${id}`)).status).toBe(404);
    expect(al.platform.sigma.snapshot().releaseOf({ id: uuid(30), title: 'Short-lived' })).toEqual(NOBODY);
    const audit = await al.platform.store.listAudit({ limit: 1000 });
    expect(audit.filter((a) => a.target === id).map((a) => a.action).sort()).toEqual(['sigma-rule.create', 'sigma-rule.remove']);
  });

  it('reloads stored rules at start: a new platform on the same store has them', async () => {
    const { SigmaRules } = await import('../src/detect/rules.js');
    const p = al.platform;
    const again = await SigmaRules.open({ store: p.store, access: p.access, clock: p.clock, bus: p.bus }, { dir: rulesDir, placeholdersFile: placeholders });
    const before = p.sigma.status();
    expect(again.status()).toEqual(before);
    expect(before.failed.map((f) => f.rule)).toEqual(['broken.yml']);
    // Without the placeholders file the stored placeholder rule no longer compiles: reported, the rest loads.
    const without = await SigmaRules.open({ store: p.store, access: p.access, clock: p.clock, bus: p.bus }, {});
    expect(without.status().failed).toEqual([{ source: 'api', rule: expect.stringMatching(/^sigma-rule--/), reason: expect.stringMatching(/%Admins%/) }]);
    expect(without.status().loaded).toBe(before.loaded - 3); // two directory files and the placeholder rule
  });

  it('a user without the analyst or admin role may not add rules', async () => {
    expect((await call('a-responder', 'POST', '/sigma/rules', { raw: rule(40, 'x'), type: 'application/yaml' })).status).toBe(403);
  });
});

describe('combineRelease', () => {
  it('releases to an audience only when every part does', () => {
    const orgs = ['identity--o1', 'identity--o2', 'identity--o3'];
    const groups = ['identity--g1'];
    const tlps: (Tlp | null)[] = ['clear', 'green', 'amber', 'amber+strict', 'red', null];
    const facts = fc.record({
      tlp: fc.constantFrom(...tlps), creatorOrg: fc.option(fc.constantFrom(...orgs), { nil: null }),
      recipients: fc.subarray([...orgs, ...groups]), originNode: fc.constant(null),
    }) as fc.Arbitrary<ReleaseFacts>;
    const audience = fc.oneof(
      fc.record({ hop: fc.constantFrom('local' as const, 'peer' as const), orgId: fc.constantFrom(...orgs), groupIds: fc.subarray(groups) }),
      fc.constant({ hop: 'public' as const }),
    ) as fc.Arbitrary<Audience>;
    fc.assert(fc.property(fc.array(facts, { minLength: 1, maxLength: 4 }), audience, fc.constantFrom('read' as const, 'bulk' as const), (parts, aud, purpose) => {
      const all = parts.every((p) => mayRelease(p, aud, purpose));
      const combined = mayRelease(combineRelease(parts), aud, purpose);
      if (combined) expect(all).toBe(true);
      // Without groups in play, the combination is exact.
      if (all && (aud.hop === 'public' || aud.groupIds.length === 0)) expect(combined).toBe(true);
    }), { numRuns: 2000 });
  });
});

describe('shieldwall sigma check', () => {
  it('compiles a directory offline, lists the failures with reasons and exits non-zero', async () => {
    const dir = path.join(tmp, 'check');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'good.yml'), rule(60, 'Good'));
    writeFileSync(path.join(dir, 'bad.yml'), UNRESOLVED);
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const code = await run(['node', 'shieldwall', 'sigma', 'check', dir], io);
    expect(code).not.toBe(0);
    expect(out.join('\n')).toMatch(/bad\.yml.*unresolved placeholder %Nobody%/);
    expect(out.join('\n')).toMatch(/1 of 2 files compile/);
    out.length = 0;
    expect(await run(['node', 'shieldwall', 'sigma', 'check', path.join(dir, 'good.yml')], io)).toBe(0);
    expect(out.join('\n')).toMatch(/1 of 1 files compile/);
    // With the placeholders file the bad rule compiles too.
    expect(await run(['node', 'shieldwall', 'sigma', 'check', dir, '--placeholders', placeholders.replace('placeholders.yml', 'p2.yml')], io)).not.toBe(0);
    writeFileSync(path.join(tmp, 'p3.yml'), 'Nobody: [x]\n');
    expect(await run(['node', 'shieldwall', 'sigma', 'check', dir, '--placeholders', path.join(tmp, 'p3.yml')], io)).toBe(0);
  });
});
