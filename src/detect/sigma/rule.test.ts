/**
 * Rule documents: required fields, malformed rules rejected with reasons, collections (action:
 * global / reset / repeat), metadata (ATT&CK tags), correlation and filter documents.
 */
import { describe, expect, it } from 'vitest';
import { SigmaEngine } from './engine.js';
import { parseSigmaRule, parseTimespan } from './rule.js';

const BASE = `title: Whoami
id: 11111111-1111-4111-8111-111111111111
level: high
tags:
    - attack.discovery
    - attack.t1033
    - attack.T1059.001
logsource:
    category: process_creation
    product: windows
detection:
    sel:
        Image|endswith: '\\whoami.exe'
    condition: sel
`;

function reason(text: string): string {
  const r = parseSigmaRule(text);
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
}

describe('detection rule documents', () => {
  it('parse metadata and ATT&CK technique ids from tags', () => {
    const r = parseSigmaRule(BASE);
    expect(r.ok).toBe(true);
    if (!r.ok || r.rule.kind !== 'detection') return;
    expect(r.rule).toMatchObject({ title: 'Whoami', level: 'high', attack: ['T1033', 'T1059.001'], logsource: { category: 'process_creation', product: 'windows' } });
  });

  it('reject malformed rules with the reason', () => {
    expect(reason('title: [unclosed')).toMatch(/YAML/);
    expect(reason(BASE.replace('title: Whoami\n', ''))).toMatch(/title/);
    expect(reason(BASE.replace(/logsource:\n(    .*\n)+/, ''))).toMatch(/logsource/);
    expect(reason(BASE.replace('    condition: sel\n', ''))).toMatch(/condition/);
    expect(reason(BASE.replace('condition: sel', 'condition: nope'))).toMatch(/undefined search identifier "nope"/);
    expect(reason(BASE.replace('level: high', 'level: severe'))).toMatch(/invalid level/);
    expect(reason(BASE.replace('title: Whoami', `title: ${'x'.repeat(257)}`))).toMatch(/256/);
    expect(reason('title: t\nlogsource: {product: x}\n')).toMatch(/detection/);
    expect(reason('- just\n- a list\n')).toMatch(/not a map/);
    expect(reason('')).toMatch(/no rule document/);
    expect(reason(BASE.replace('sel:\n        Image', 'sel:\n        Image|endswith: x\n        Image'))).toMatch(/YAML/);
  });

  it('reject Sigma v1 aggregations and timeframe', () => {
    expect(reason(BASE.replace('condition: sel', 'condition: sel | count() by Host > 5'))).toMatch(/v1 aggregation/);
    expect(reason(BASE.replace('    condition: sel', '    timeframe: 5m\n    condition: sel'))).toMatch(/timeframe/);
  });
});

describe('rule collections', () => {
  it('action: global merges into each following document; reset clears it; repeat copies the previous', () => {
    const text = `action: global
title: Shared
logsource:
    product: windows
    category: process_creation
detection:
    condition: sel
---
id: a
detection:
    sel:
        Image|endswith: '\\a.exe'
---
action: repeat
id: b
detection:
    sel:
        Image|endswith: '\\b.exe'
---
action: reset
---
title: Alone
id: c
logsource:
    product: linux
detection:
    sel:
        Image: x
    condition: sel
`;
    const r = parseSigmaRule(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rules.map((x) => [x.id, x.title])).toEqual([['a', 'Shared'], ['b', 'Shared'], ['c', 'Alone']]);
    const engine = new SigmaEngine(r.rules);
    const ls = { product: 'windows', category: 'process_creation' };
    expect(engine.evaluate({ Image: 'C:\\b.exe' }, ls).map((x) => x.id)).toEqual(['b']);
    expect(engine.evaluate({ Image: 'x' }, { product: 'linux' }).map((x) => x.id)).toEqual(['c']);
  });

  it('name the failing document', () => {
    expect(reason(`${BASE}---\ntitle: broken\n`)).toMatch(/document 2 \("broken"\)/);
    expect(reason('action: repeat\ntitle: x\n')).toMatch(/repeat/);
    expect(reason('action: bogus\ntitle: x\n')).toMatch(/unknown action/);
  });
});

describe('correlation documents', () => {
  const corr = (c: string): string => `title: C\ncorrelation:\n${c.replace(/^/gm, '    ')}\n`;
  it('parse types, timespans and conditions', () => {
    const r = parseSigmaRule(corr('type: event_count\nrules: [r1]\ngroup-by: [Host]\ntimespan: 15m\ncondition:\n    gte: 10\n    lt: 20'));
    expect(r.ok).toBe(true);
    if (!r.ok || r.rule.kind !== 'correlation') return;
    expect(r.rule).toMatchObject({ type: 'event_count', timespanMs: 900_000, groupBy: ['Host'], generate: false, condition: [{ op: 'gte', value: 10 }, { op: 'lt', value: 20 }] });
    expect([parseTimespan('30s'), parseTimespan('2h'), parseTimespan('1d'), parseTimespan('1w'), parseTimespan('5x')]).toEqual([30_000, 7_200_000, 86_400_000, 604_800_000, undefined]);
  });

  it('reject malformed correlations', () => {
    expect(reason(corr('type: count_stuff\nrules: [a]\ntimespan: 1h\ncondition: {gte: 1}'))).toMatch(/unknown correlation type/);
    expect(reason(corr('type: event_count\nrules: []\ntimespan: 1h\ncondition: {gte: 1}'))).toMatch(/rules/);
    expect(reason(corr('type: event_count\nrules: [a]\ntimespan: soon\ncondition: {gte: 1}'))).toMatch(/timespan/);
    expect(reason(corr('type: event_count\nrules: [a]\ntimespan: 1h'))).toMatch(/requires a condition/);
    expect(reason(corr('type: value_count\nrules: [a]\ntimespan: 1h\ncondition: {gte: 1}'))).toMatch(/requires condition.field/);
    expect(reason(corr('type: event_count\nrules: [a]\ntimespan: 1h\ncondition: {about: 1}'))).toMatch(/unknown correlation condition key/);
    expect(reason(corr('type: temporal\nrules: [a]\ntimespan: 1h\ncondition: "a and b"'))).toMatch(/must be a map/);
  });
});

describe('Sigma filters', () => {
  const filter = `title: Exclude admins
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 11111111-1111-4111-8111-111111111111
    selection:
        User|startswith: 'adm_'
    condition: not selection
`;
  it('AND their condition onto the referenced rule', () => {
    const base = parseSigmaRule(BASE);
    const f = parseSigmaRule(filter);
    expect(base.ok && f.ok).toBe(true);
    if (!base.ok || !f.ok) return;
    expect(f.rule.kind).toBe('filter');
    const ls = { product: 'windows', category: 'process_creation' };
    const engine = new SigmaEngine([...base.rules, ...f.rules]);
    expect(engine.issues).toEqual([]);
    expect(engine.evaluate({ Image: 'C:\\whoami.exe', User: 'bob' }, ls)).toHaveLength(1);
    expect(engine.evaluate({ Image: 'C:\\whoami.exe', User: 'adm_bob' }, ls)).toHaveLength(0);
  });

  it('report unknown references and logsource mismatches without failing the engine', () => {
    const f1 = parseSigmaRule(filter.replace('11111111-1111-4111-8111-111111111111', 'missing-rule'));
    const f2 = parseSigmaRule(filter.replace('category: process_creation', 'category: registry_set'));
    const base = parseSigmaRule(BASE);
    if (!f1.ok || !f2.ok || !base.ok) throw new Error('parse');
    const engine = new SigmaEngine([...base.rules, ...f1.rules, ...f2.rules]);
    expect(engine.issues.map((i) => i.reason)).toEqual(['filter references unknown rule "missing-rule"', 'filter logsource does not match rule "11111111-1111-4111-8111-111111111111"']);
    expect(engine.evaluate({ Image: 'C:\\whoami.exe', User: 'adm_x' }, { product: 'windows', category: 'process_creation' })).toHaveLength(1);
    expect(reason(filter.replace(/logsource:\n(    .*\n)+/, ''))).toMatch(/logsource/);
  });
});
