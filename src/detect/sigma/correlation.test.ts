/**
 * Correlation rules over hand-made event sequences: the spec's example correlations (all seven
 * types, sigma-specification tests/schema/correlation) and the three Hayabusa value_count /
 * event_count rules. Each fires exactly when specified, not before, and windows slide.
 */
import { stateScope } from '../scope.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SigmaEngine } from './engine.js';
import { parseSigmaRule } from './rule.js';
import type { SigmaItem, SigmaMatch } from './types.js';
import { sharedPath } from '../../../test/helpers/shared.js';

const sigma = sharedPath('data/sigma');
const specCorr = (f: string): string => readFileSync(path.join(sigma, 'sigma-specification/tests/schema/correlation', f), 'utf8');
const hayabusa = (f: string): string =>
  readFileSync(path.join(sigma, 'correlation-examples/hayabusa-rules/hayabusa/builtin/Security/LogonLogoff/Logon', f), 'utf8');

const MIN = 60_000;
const LS = { product: 'test' };

function items(...texts: string[]): SigmaItem[] {
  return texts.flatMap((t) => {
    const r = parseSigmaRule(t);
    if (!r.ok) throw new Error(r.reason);
    return [...r.rules];
  });
}

/** A base rule: matches events whose `kind` equals `value`. */
function base(idOrName: string, value: string, named = false): string {
  return `title: base ${idOrName}\n${named ? 'name' : 'id'}: ${idOrName}\nlogsource:\n    product: test\ndetection:\n    sel:\n        kind: ${value}\n    condition: sel\n`;
}

const correlations = (ms: SigmaMatch[]): SigmaMatch[] => ms.filter((m) => m.kind === 'correlation');

describe('event_count (spec example: >= 100 failed logins per ComputerName in 1h)', () => {
  const build = (): SigmaEngine => new SigmaEngine(items(specCorr('event_count.yml'), base('5638f7c0-ac70-491d-8465-2a65075e0d86', 'failed_login')));

  it('fires on the 100th event of a group, not before, and suppresses the base rule (generate: false)', () => {
    const e = build();
    for (let i = 0; i < 99; i++) {
      expect(e.process({ kind: 'failed_login', ComputerName: 'ws1' }, i * 1000, LS)).toEqual([]);
    }
    // another group does not help ws1
    expect(e.process({ kind: 'failed_login', ComputerName: 'ws2' }, 99_000, LS)).toEqual([]);
    const out = e.process({ kind: 'failed_login', ComputerName: 'ws1' }, 100_000, LS);
    expect(out).toHaveLength(1);
    const m = out[0] as SigmaMatch;
    expect(m).toMatchObject({ kind: 'correlation', ruleId: '0e95725d-7320-415d-80f7-004da920fc11', title: 'Many failed logins' });
    expect(m.correlation).toMatchObject({ type: 'event_count', groupKey: { ComputerName: 'ws1' }, value: 100 });
    expect(m.correlation?.matches).toHaveLength(100);
    expect(m.correlation?.matches[0]?.rule.id).toBe('5638f7c0-ac70-491d-8465-2a65075e0d86');
    // the window restarts after an alert
    expect(e.process({ kind: 'failed_login', ComputerName: 'ws1' }, 101_000, LS)).toEqual([]);
  });

  it('never mixes organisations: another organisation\'s events do not complete a group', () => {
    const e = build();
    for (let i = 0; i < 99; i++) e.process({ kind: 'failed_login', ComputerName: 'ws1', 'organization.id': 'identity--a' }, i * 1000, LS);
    expect(correlations(e.process({ kind: 'failed_login', ComputerName: 'ws1', 'organization.id': 'identity--b' }, 99_000, LS))).toEqual([]);
    expect(correlations(e.process({ kind: 'failed_login', ComputerName: 'ws1', 'organization.id': 'identity--a' }, 100_000, LS))).toHaveLength(1);
  });

  it('keeps an exercise\'s groups apart from its organisation\'s real ones, and forgets both with the organisation', () => {
    const e = build();
    const ev = { kind: 'failed_login', ComputerName: 'ws1', 'organization.id': 'identity--a' };
    const exercise = stateScope('identity--a', 'exercise--1');
    for (let i = 0; i < 99; i++) e.process(ev, i * 1000, LS);
    expect(correlations(e.process(ev, 99_000, LS, exercise))).toEqual([]);
    expect(e.correlationGroups()).toBe(2);
    expect(e.forgetScopes((org) => org === 'identity--a')).toBe(2);
    expect(e.correlationGroups()).toBe(0);
  });

  it('forgets the groups of the organisations it is told to (a scale-out partition taken back), and only those', () => {
    const e = build();
    const ev = (org: string) => ({ kind: 'failed_login', ComputerName: 'ws1', 'organization.id': org });
    for (let i = 0; i < 60; i++) {
      e.process(ev('identity--a'), i * 1000, LS);
      e.process(ev('identity--b'), i * 1000, LS);
    }
    expect(e.correlationGroups()).toBe(2);
    expect(e.forgetScopes((org) => org === 'identity--a')).toBe(1);
    expect(e.correlationGroups()).toBe(1);
    // 40 more each: b reaches 100 (60 kept + 40), a only 40 (what it held was dropped, as a warm-up
    // replay would rebuild it; without the drop the replay would count those 60 events twice).
    const fired: string[] = [];
    for (let i = 60; i < 100; i++) {
      for (const org of ['identity--a', 'identity--b']) {
        if (correlations(e.process(ev(org), i * 1000, LS)).length > 0) fired.push(`${org}@${i}`);
      }
    }
    expect(fired).toEqual(['identity--b@99']);
  });

  it('slides: events older than the timespan stop counting', () => {
    const e = build();
    // 60 events in the first half hour, then 60 more 50 minutes later: never 100 within 1h
    for (let i = 0; i < 60; i++) e.process({ kind: 'failed_login', ComputerName: 'ws1' }, i * 30_000, LS);
    let fired: SigmaMatch[] = [];
    for (let i = 0; i < 60; i++) fired = fired.concat(correlations(e.process({ kind: 'failed_login', ComputerName: 'ws1' }, 80 * MIN + i * 1000, LS)));
    expect(fired).toEqual([]);
    // 40 more at 81-82 min: 100 within the hour ending there (20 of the second burst... plus 40)
    const e2 = build();
    for (let i = 0; i < 60; i++) e2.process({ kind: 'failed_login', ComputerName: 'ws1' }, 10 * MIN + i * 1000, LS);
    for (let i = 0; i < 39; i++) expect(e2.process({ kind: 'failed_login', ComputerName: 'ws1' }, 69 * MIN + i * 1000, LS)).toEqual([]);
    expect(correlations(e2.process({ kind: 'failed_login', ComputerName: 'ws1' }, 69 * MIN + 40_000, LS))).toHaveLength(1);
  });
});

describe('value_count', () => {
  it('spec example: distinct User per (ComputerName, WorkstationName) >= 100 in 1d', () => {
    const e = new SigmaEngine(items(specCorr('value_count.yml'), base('5638f7c0-ac70-491d-8465-2a65075e0d86', 'failed_login')));
    for (let i = 0; i < 99; i++) {
      // repeated users do not add to the distinct count
      e.process({ kind: 'failed_login', ComputerName: 'c', WorkstationName: 'w', User: `u${i}` }, i, LS);
      expect(e.process({ kind: 'failed_login', ComputerName: 'c', WorkstationName: 'w', User: 'u0' }, i, LS)).toEqual([]);
    }
    const out = e.process({ kind: 'failed_login', ComputerName: 'c', WorkstationName: 'w', User: 'u99' }, 100, LS);
    expect(out[0]?.correlation).toMatchObject({ type: 'value_count', value: 100, groupKey: { ComputerName: 'c', WorkstationName: 'w' } });
  });

  it('Hayabusa "User Guessing": > 3 distinct non-existent users per source in 5m', () => {
    const e = new SigmaEngine(items(hayabusa('Sec_4625_Med_LogonFail_UserGuessing_Correlation.yml')));
    expect(e.issues).toEqual([]);
    const ev = (user: string, ip = '10.0.0.9', sub = '0xc0000064') => ({
      Channel: 'Security', EventID: 4625, SubStatus: sub, IpAddress: ip, LogonType: 3, TargetDomainName: 'CORP',
      ProcessName: '-', LogonProcessName: 'NtLmSsp', WorkstationName: 'X', TargetUserName: user,
    });
    let t = 0;
    for (const u of ['a', 'b', 'c']) expect(e.process(ev(u), (t += 1000))).toEqual([]);
    expect(e.process(ev('c', '10.0.0.9', '0xc000006a'), (t += 1000))).toEqual([]); // other sub-status: base rule does not match
    expect(e.process(ev('d', '-'), (t += 1000))).toEqual([]); // filtered by the base rule
    expect(e.process(ev('d', '10.0.0.8'), (t += 1000))).toEqual([]); // other group
    const out = e.process(ev('d'), (t += 1000));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ title: 'User Guessing', level: 'medium', attack: ['T1110.003'] });
    expect(out[0]?.correlation?.value).toBe(4);
  });

  it('Hayabusa "PW Spray" slides over 5 minutes', () => {
    const e = new SigmaEngine(items(hayabusa('Sec_4648_Med_ExplicitLogon_PW-Spray_Correlation.yml')));
    const ev = (user: string) => ({ Channel: 'Security', EventID: 4648, IpAddress: '10.1.1.1', Computer: 'dc1', TargetUserName: user });
    for (let i = 0; i < 4; i++) e.process(ev(`u${i}`), i * MIN);
    // u0 was at 0: at 6 min it has left the window, so u4 makes only 4 distinct
    expect(e.process(ev('u4'), 5 * MIN + 30_000)).toEqual([]);
    expect(e.process(ev('u5'), 5 * MIN + 40_000)[0]?.correlation?.value).toBe(5);
  });
});

describe('temporal and temporal_ordered (spec examples, 5m per ComputerName and User)', () => {
  const bases = [base('recon_cmd_a', 'whoami', true), base('recon_cmd_b', 'ipconfig', true), base('recon_cmd_c', 'netuser', true)];
  const ev = (kind: string, user = 'bob') => ({ kind, ComputerName: 'ws1', User: user });

  it('temporal: all three in any order within the timespan', () => {
    const e = new SigmaEngine(items(specCorr('temporal.yml'), ...bases));
    expect(e.process(ev('netuser'), 0, LS)).toEqual([]);
    expect(e.process(ev('whoami'), MIN, LS)).toEqual([]);
    expect(e.process(ev('whoami', 'eve'), MIN, LS)).toEqual([]); // other group
    const out = e.process(ev('ipconfig'), 2 * MIN, LS);
    expect(out).toHaveLength(1);
    expect(out[0]?.correlation?.matches.map((m) => m.rule.title)).toEqual(['base recon_cmd_c', 'base recon_cmd_a', 'base recon_cmd_b']);
  });

  it('temporal: not when the first has left the window', () => {
    const e = new SigmaEngine(items(specCorr('temporal.yml'), ...bases));
    e.process(ev('netuser'), 0, LS);
    e.process(ev('whoami'), 3 * MIN, LS);
    expect(e.process(ev('ipconfig'), 5 * MIN + 1, LS)).toEqual([]);
    expect(e.process(ev('netuser'), 6 * MIN, LS)).toHaveLength(1);
  });

  it('temporal_ordered: only in the order of the rules list', () => {
    const e = new SigmaEngine(items(specCorr('temporal_ordered.yml'), ...bases));
    expect(e.process(ev('netuser'), 0, LS)).toEqual([]);
    expect(e.process(ev('ipconfig'), 1000, LS)).toEqual([]);
    expect(e.process(ev('whoami'), 2000, LS)).toEqual([]); // c, b, a: wrong order
    expect(e.process(ev('ipconfig'), 3000, LS)).toEqual([]); // a, b so far
    expect(e.process(ev('netuser'), 4000, LS)).toHaveLength(1); // a, b, c
  });
});

describe('value_sum, value_avg, value_percentile (spec examples)', () => {
  it('value_sum: bytes_sent > 1,000,000 per (SourceIP, User) in 1h', () => {
    const e = new SigmaEngine(items(specCorr('value_sum.yml'), base('website_access', 'web', true)));
    const ev = (bytes: number | string) => ({ kind: 'web', SourceIP: '10.0.0.1', User: 'u', bytes_sent: bytes });
    expect(e.process(ev(600_000), 0, LS)).toEqual([]);
    expect(e.process(ev('n/a'), 1, LS)).toEqual([]); // non-numeric values do not count
    expect(e.process(ev(400_000), 2, LS)).toEqual([]); // exactly 1,000,000 is not > 1,000,000
    expect(e.process(ev(1), 3, LS)[0]?.correlation?.value).toBe(1_000_001);
  });

  it('value_avg: average BytesOut > 500 per (SourceIP, User) in 24h', () => {
    const e = new SigmaEngine(items(specCorr('value_avg.yml'), base('rule_a_id', 'net')));
    const ev = (b: number) => ({ kind: 'net', SourceIP: 's', User: 'u', BytesOut: b });
    expect(e.process(ev(400), 0, LS)).toEqual([]);
    expect(e.process(ev(600), 1, LS)).toEqual([]); // avg 500
    expect(e.process(ev(700), 2, LS)[0]?.correlation?.value).toBeCloseTo(566.67, 1);
  });

  it('value_percentile: an Image seen in <= 1% of the computer\'s process events', () => {
    const e = new SigmaEngine(items(specCorr('value_percentile.yml'), base('process_creation', 'proc', true)));
    for (let i = 0; i < 150; i++) expect(e.process({ kind: 'proc', ComputerName: 'c', Image: 'explorer.exe' }, i, LS)).toEqual([]);
    const out = e.process({ kind: 'proc', ComputerName: 'c', Image: 'rare.exe' }, 200, LS);
    expect(out).toHaveLength(1);
    expect(out[0]?.correlation?.value).toBeCloseTo(100 / 151, 3);
  });
});

describe('aliases, generate, chaining, bounds', () => {
  it('aliases map one group-by name to a different field per rule', () => {
    const corr = `title: Conn then DNS
correlation:
    type: temporal
    rules: [conn, dns]
    group-by: [ip]
    timespan: 1m
    aliases:
        ip:
            conn: destination.ip
            dns: dns.resolved_ip
    generate: true
`;
    const e = new SigmaEngine(items(corr, base('conn', 'conn', true), base('dns', 'dns', true)));
    expect(e.process({ kind: 'dns', dns: { resolved_ip: '203.0.113.5' } }, 0, LS).map((m) => m.kind)).toEqual(['detection']);
    const out = e.process({ kind: 'conn', destination: { ip: '203.0.113.5' } }, 1000, LS);
    expect(out.map((m) => m.kind)).toEqual(['detection', 'correlation']);
    expect(out[1]?.correlation?.groupKey).toEqual({ ip: '203.0.113.5' });
  });

  it('generate: true on any referencing correlation keeps the base alerts', () => {
    const quiet = `title: Quiet\ncorrelation:\n    type: event_count\n    rules: [hit]\n    timespan: 1m\n    condition: {gte: 5}\n`;
    const loud = `title: Loud\ncorrelation:\n    type: event_count\n    rules: [hit]\n    timespan: 1m\n    condition: {gte: 5}\n    generate: true\n`;
    expect(new SigmaEngine(items(quiet, base('hit', 'x', true))).process({ kind: 'x' }, 0, LS)).toEqual([]);
    expect(new SigmaEngine(items(quiet, loud, base('hit', 'x', true))).process({ kind: 'x' }, 0, LS).map((m) => m.title)).toEqual(['base hit']);
  });

  it('correlations can reference correlations', () => {
    const inner = `title: Burst\nname: burst\ncorrelation:\n    type: event_count\n    rules: [hit]\n    group-by: [Host]\n    timespan: 1m\n    condition: {gte: 2}\n`;
    const outer = `title: Repeated bursts\ncorrelation:\n    type: event_count\n    rules: [burst]\n    group-by: [Host]\n    timespan: 1h\n    condition: {gte: 2}\n`;
    const e = new SigmaEngine(items(inner, outer, base('hit', 'x', true)));
    const at = (t: number) => e.process({ kind: 'x', Host: 'h' }, t, LS).map((m) => m.title);
    expect([at(0), at(1000), at(2000), at(3000)]).toEqual([[], [], [], ['Repeated bursts']]);
  });

  it('unknown references and cycles are reported, the rest still works', () => {
    const bad = `title: Bad\ncorrelation:\n    type: event_count\n    rules: [nowhere]\n    timespan: 1m\n    condition: {gte: 1}\n`;
    const c1 = `title: C1\nname: c1\ncorrelation:\n    type: event_count\n    rules: [c2]\n    timespan: 1m\n    condition: {gte: 1}\n`;
    const c2 = `title: C2\nname: c2\ncorrelation:\n    type: event_count\n    rules: [c1]\n    timespan: 1m\n    condition: {gte: 1}\n`;
    const e = new SigmaEngine(items(bad, c1, c2, base('ok', 'x', true)));
    expect(e.issues.map((i) => i.reason)).toEqual(['correlation references unknown rule "nowhere"', 'correlation references form a cycle', 'correlation references form a cycle']);
    expect(e.process({ kind: 'x' }, 0, LS).map((m) => m.title)).toEqual(['base ok']);
  });

  it('keeps at most maxEntries hits per group (oldest dropped), except to reach a count threshold', () => {
    const sum = `title: Sum\ncorrelation:\n    type: value_sum\n    rules: [hit]\n    timespan: 1h\n    condition: {field: n, gt: 10}\n`;
    const capped = new SigmaEngine(items(sum, base('hit', 'x', true)), { limits: { maxEntries: 2 } });
    const free = new SigmaEngine(items(sum, base('hit', 'x', true)));
    const feed = (e: SigmaEngine) => [1, 2, 3].flatMap((t) => correlations(e.process({ kind: 'x', n: 5 }, t, LS)));
    expect(feed(capped)).toEqual([]); // only the last two hits (10) are kept
    expect(feed(free)).toHaveLength(1);
    const count = `title: Count\ncorrelation:\n    type: event_count\n    rules: [hit]\n    timespan: 1h\n    condition: {gte: 5}\n`;
    const e = new SigmaEngine(items(count, base('hit', 'x', true)), { limits: { maxEntries: 2 } });
    expect([1, 2, 3, 4, 5].flatMap((t) => correlations(e.process({ kind: 'x' }, t, LS)))).toHaveLength(1);
  });

  it('keeps at most maxGroups group keys (least recently used evicted)', () => {
    const corr = `title: Pairs\ncorrelation:\n    type: event_count\n    rules: [hit]\n    group-by: [Host]\n    timespan: 1h\n    condition: {gte: 2}\n`;
    const e = new SigmaEngine(items(corr, base('hit', 'x', true)), { limits: { maxGroups: 100 } });
    for (let i = 0; i < 1000; i++) e.process({ kind: 'x', Host: `h${i}` }, i, LS);
    expect(e.correlationGroups()).toBe(100);
    // h0 was evicted: its second event starts a new group instead of completing a pair
    expect(e.process({ kind: 'x', Host: 'h0' }, 2000, LS)).toEqual([]);
    expect(e.process({ kind: 'x', Host: 'h999' }, 2001, LS)).toHaveLength(1);
  });
});
