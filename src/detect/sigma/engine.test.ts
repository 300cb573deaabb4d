/**
 * The engine: logsource routing (Windows channel / event id mapping), the literal prefilter never
 * hides a match (agreement with evaluating every routed rule), and, property-based, compile +
 * evaluate never throws on arbitrary events.
 */
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchSigma } from './bench.js';
import { SigmaEngine } from './engine.js';
import { EventView, type SigmaEvent } from './event.js';
import { loadRulesDir } from './load.js';
import { ruleSeesEvent, windowsLogsource } from './logsource.js';
import { parseSigmaRule } from './rule.js';
import type { DetectionRule, EventLogsource, SigmaItem } from './types.js';
import { sharedPath } from '../../../test/helpers/shared.js';

const sigma = sharedPath('data/sigma');

function rule(text: string): SigmaItem[] {
  const r = parseSigmaRule(text);
  if (!r.ok) throw new Error(r.reason);
  return [...r.rules];
}

/** Every routed rule evaluated directly, without the prefilter. */
function bruteForce(engine: SigmaEngine, event: SigmaEvent, ls: EventLogsource | undefined): string[] {
  const ev = new EventView(event, ls?.fieldMap);
  return engine.rules.filter((r: DetectionRule) => ruleSeesEvent(r, ls) && r.match(ev)).map((r) => r.title);
}

describe('Windows logsource mapping', () => {
  it('maps Sysmon, Security and PowerShell channels to Sigma categories and services', () => {
    const sysmon = 'Microsoft-Windows-Sysmon/Operational';
    expect(windowsLogsource({ Channel: sysmon, EventID: 1 })).toEqual({ product: 'windows', service: 'sysmon', category: ['process_creation'] });
    expect(windowsLogsource({ Channel: sysmon, EventID: '13' })?.category).toEqual(['registry_event', 'registry_set']);
    expect(windowsLogsource({ Channel: sysmon, EventID: 12, EventType: 'CreateKey' })?.category).toEqual(['registry_event', 'registry_add']);
    expect(windowsLogsource({ Channel: sysmon, EventID: 12, EventType: 'DeleteValue' })?.category).toEqual(['registry_event', 'registry_delete']);
    expect(windowsLogsource({ Channel: 'Security', EventID: 4688 })).toEqual({
      product: 'windows', service: 'security', category: ['process_creation'], fieldMap: { Image: 'NewProcessName', ParentImage: 'ParentProcessName' },
    });
    expect(windowsLogsource({ Channel: 'Security', EventID: 4625 })?.category).toEqual([]);
    expect(windowsLogsource({ Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4104 })?.category).toEqual(['ps_script']);
    expect(windowsLogsource({ Channel: 'Some-Vendor/Admin', EventID: 1 })?.service).toBe('some-vendor/admin');
    expect(windowsLogsource({ EventID: 1 })).toBeUndefined();
    // Windows Event Forwarding: the provider decides
    expect(windowsLogsource({ Channel: 'ForwardedEvents', Provider_Name: 'Microsoft-Windows-Sysmon', EventID: 1 })?.category).toEqual(['process_creation']);
    expect(windowsLogsource({ Channel: 'ForwardedEvents', EventID: 1 })?.category).toEqual([]);
  });

  it('a rule sees an event when every key it declares is among the event values', () => {
    const ls = { product: 'windows', service: 'sysmon', category: ['registry_event', 'registry_set'] };
    expect(ruleSeesEvent({ logsource: { product: 'windows', category: 'registry_set' } }, ls)).toBe(true);
    expect(ruleSeesEvent({ logsource: { product: 'windows' } }, ls)).toBe(true);
    expect(ruleSeesEvent({ logsource: { product: 'windows', category: 'process_creation' } }, ls)).toBe(false);
    expect(ruleSeesEvent({ logsource: { product: 'windows', service: 'security' } }, ls)).toBe(false);
    expect(ruleSeesEvent({ logsource: { product: 'linux' } }, ls)).toBe(false);
    expect(ruleSeesEvent({ logsource: { product: 'linux' } }, undefined)).toBe(true);
  });
});

describe('routing', () => {
  const items = rule(`title: Proc
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\\evil.exe'
    condition: sel
---
title: Any windows
logsource: {product: windows}
detection:
    sel:
        Image|endswith: '\\evil.exe'
    condition: sel
---
title: Linux
logsource: {product: linux, category: process_creation}
detection:
    sel:
        Image|endswith: '\\evil.exe'
    condition: sel
`);
  const engine = new SigmaEngine(items);
  const titles = (e: SigmaEvent) => engine.process(e, 0).map((m) => m.title);

  it('runs only the rules of the event logsource (no EventID cross-talk between providers)', () => {
    const img = 'C:\\evil.exe';
    expect(titles({ Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Image: img })).toEqual(['Proc', 'Any windows']);
    expect(titles({ Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 7, Image: img })).toEqual(['Any windows']);
    expect(engine.process({ Image: img }, 0, { product: 'linux', category: 'process_creation' }).map((m) => m.title)).toEqual(['Linux']);
    // an event without a derivable logsource is offered to every rule (documented)
    expect(titles({ Image: img })).toEqual(['Proc', 'Any windows', 'Linux']);
  });

  it('Security 4688 reaches process_creation rules through the field mapping', () => {
    const sec = { Channel: 'Security', EventID: 4688, NewProcessName: 'C:\\Temp\\evil.exe', ParentProcessName: 'C:\\x.exe' };
    expect(titles(sec)).toEqual(['Proc', 'Any windows']);
    expect(titles({ ...sec, NewProcessName: 'C:\\good.exe' })).toEqual([]);
  });

  it('a custom logsourceOf decides the routing', () => {
    const e = new SigmaEngine(items, { logsourceOf: (ev) => (ev['os'] === 'linux' ? { product: 'linux', category: 'process_creation' } : undefined) });
    expect(e.process({ os: 'linux', Image: 'x\\evil.exe' }, 0).map((m) => m.title)).toEqual(['Linux']);
  });
});

describe('the prefilter never hides a match', () => {
  const loaded = loadRulesDir(path.join(sigma, 'rules/windows/process_creation'));
  const engine = new SigmaEngine(loaded.items);
  const ls = { product: 'windows', service: 'sysmon', category: ['process_creation'] };
  const fragments = [
    '\\cmd.exe', 'C:\\Windows\\System32\\', '\\powershell.exe', ' -enc ', ' /c ', 'rundll32', 'comsvcs.dll', 'MiniDump',
    'certutil', ' -urlcache ', 'http://', '\\AppData\\Local\\Temp\\', 'reg.exe', ' add ', 'vssadmin', 'delete shadows',
    'wmic', 'process call create', '\\mshta.exe', 'javascript:', 'bitsadmin', '/transfer', 'schtasks', '/create', 'ÿ', '–',
  ];
  const text = fc.array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 6 })), { maxLength: 6 }).map((xs) => xs.join(''));
  const event = fc.record({
    Image: text,
    CommandLine: text,
    ParentImage: text,
    OriginalFileName: fc.oneof(text, fc.constantFrom('Cmd.Exe', 'PowerShell.EXE', 'RUNDLL32.EXE')),
    ParentCommandLine: text,
    Hashes: text,
    User: fc.oneof(text, fc.constant('NT AUTHORITY\\SYSTEM')),
  }, { requiredKeys: [] });

  it('on random process events built from rule literals, the result equals evaluating every rule', () => {
    expect(loaded.items.length).toBeGreaterThan(1000);
    let matched = 0;
    fc.assert(
      fc.property(event, (e) => {
        const fast = engine.evaluate(e, ls).map((r) => r.title);
        expect(fast).toEqual(bruteForce(engine, e, ls));
        matched += fast.length;
      }),
      { numRuns: 400, seed: 4711 },
    );
    expect(matched).toBeGreaterThan(0);
  });

  it('compile + evaluate never throws on arbitrary events', () => {
    const anyEvent = fc.dictionary(
      fc.oneof(fc.constantFrom('Image', 'CommandLine', 'Channel', 'EventID', 'EventType', 'process.args', 'TimeCreated', '__proto__', 'constructor'), fc.string()),
      fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.string(), fc.integer())), fc.object()),
    );
    fc.assert(
      fc.property(anyEvent, fc.integer(), (e, t) => {
        expect(() => engine.process(e, t)).not.toThrow();
        expect(() => engine.process({ ...e, Channel: 'constructor', EventID: 'toString' }, t)).not.toThrow();
        expect(() => engine.process(e, t, ls)).not.toThrow();
      }),
      { numRuns: 300, seed: 99 },
    );
  });

  it('parseSigmaRule never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseSigmaRule(`title: x\nlogsource: {product: y}\ndetection:\n    sel:\n        F|contains: ${JSON.stringify(s)}\n    condition: ${s}`);
        expect(typeof r.ok).toBe('boolean');
        const r2 = parseSigmaRule(s);
        expect(typeof r2.ok).toBe('boolean');
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('benchSigma', () => {
  it('reports events per second of CPU and wall time over the given events', () => {
    const items = rule(`title: Whoami\nlogsource: {product: windows, category: process_creation}\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel\n`);
    const events = [
      { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Image: 'C:\\Windows\\System32\\whoami.exe' },
      { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Image: 'C:\\Windows\\System32\\cmd.exe' },
    ];
    const r = benchSigma(items, events, 0.05);
    expect(r.rules).toBe(1);
    expect(r.events).toBeGreaterThanOrEqual(2);
    expect(r.events % 2).toBe(0);
    expect(r.matches).toBe(r.events / 2);
    expect(r.eventsPerSecond).toBeGreaterThan(0);
    expect(r.eventsPerWallSecond).toBeGreaterThan(0);
    expect(benchSigma(items, [], 1).events).toBe(0);
  });
});
