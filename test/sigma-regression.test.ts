/**
 * SigmaHQ regression data: for every case directory, every rule named in `info.yml` fires on the
 * directory's event(s). Events are evtx_dump-style JSON (several pretty-printed objects may be
 * concatenated in one file) or, for one Cisco case, a raw syslog line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EventView, flattenWindowsEvent, loadRulesDir, ruleSeesEvent, SigmaEngine, splitConcatenatedJson, windowsLogsource } from '../src/detect/sigma/index.js';
import type { SigmaEvent } from '../src/detect/sigma/index.js';
import { filesUnder, sharedPath } from './helpers/shared.js';

const sigma = sharedPath('data/sigma');
const regression = sharedPath('data/telemetry/sigma-regression/regression_data');
const otrf = sharedPath('data/telemetry/otrf-security-datasets/datasets/atomic/windows');

function caseDirs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) caseDirs(p, out);
    else if (e === 'info.yml') out.push(dir);
  }
  return out.sort();
}

const items = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].flatMap((d) => loadRulesDir(path.join(sigma, d)).items);
const engine = new SigmaEngine(items);
const dirs = caseDirs(regression);

interface Info { rule_metadata: { id: string; title: string }[] }

describe('SigmaHQ regression data', () => {
  it('has the 203 documented cases', () => {
    expect(dirs).toHaveLength(203);
  });

  it.each(dirs.map((d) => [path.relative(regression, d), d]))('%s', (_name, dir) => {
    const info = parse(readFileSync(path.join(dir, 'info.yml'), 'utf8')) as Info;
    const fired = new Set<string>();
    let events = 0;
    for (const f of readdirSync(dir)) {
      if (f === 'info.yml') continue;
      const text = readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.raw')) {
        // A raw syslog line: the rule's logsource (cisco/aaa) is what the collector would tag it.
        for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
          events++;
          for (const m of engine.process({ message: line }, events, { product: 'cisco', service: 'aaa' })) fired.add(m.ruleId ?? '');
        }
      } else {
        for (const doc of splitConcatenatedJson(text)) {
          const ev = flattenWindowsEvent(doc);
          expect(ev).toBeDefined();
          if (ev === undefined) continue;
          // Routing is by the event's own Channel/EventID, never "all rules".
          expect(windowsLogsource(ev)).toBeDefined();
          events++;
          for (const m of engine.process(ev, events)) fired.add(m.ruleId ?? '');
        }
      }
    }
    expect(events).toBeGreaterThan(0);
    for (const r of info.rule_metadata) expect(fired, `${r.title} (${r.id})`).toContain(r.id);
  });
});

describe('prefilter agreement on real telemetry (whole corpus)', () => {
  it('the routed, prefiltered result equals evaluating every routed rule', () => {
    const events: SigmaEvent[] = [];
    for (const f of filesUnder(regression, '.json')) {
      for (const doc of splitConcatenatedJson(readFileSync(f, 'utf8'))) {
        const ev = flattenWindowsEvent(doc);
        if (ev !== undefined) events.push(ev);
      }
    }
    // OTRF: flat NDJSON, Sysmon and Security with background noise; every 20th line keeps it quick
    for (const f of filesUnder(otrf, '.json')) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (i % 20 === 0 && line.trim() !== '') events.push(JSON.parse(line) as SigmaEvent);
      });
    }
    expect(events.length).toBeGreaterThan(550);
    let total = 0;
    for (const e of events) {
      const ls = windowsLogsource(e);
      const fast = engine.evaluate(e).map((r) => r.id);
      const view = new EventView(e, ls?.fieldMap);
      const slow = engine.rules.filter((r) => ruleSeesEvent(r, ls) && r.match(view)).map((r) => r.id);
      expect(fast).toEqual(slow);
      total += fast.length;
    }
    expect(total).toBeGreaterThan(238);
  });
});
