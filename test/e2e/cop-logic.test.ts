/**
 * Pure logic of the COP and alert screens (feed merge, filters in the hash, heatmap scale,
 * chart series, raw-event summary, routes), tested without a browser.
 */
import { describe, expect, it } from 'vitest';
import {
  attackUrl, describeHistory, filterFromParams, filterToParams, heatCells, heatStep, matchesFilter, mergeAlert, mergeAlerts, rateSeries, sampleSummary, totalAlerts,
} from '../../web/src/components/alertView.js';
import { href, parseRoute } from '../../web/src/router.js';
import type { Alert } from '../../web/src/alertTypes.js';

function alert(id: string, lastSeen: string, over: Partial<Alert> = {}): Alert {
  return {
    id, orgId: 'o', orgName: 'O', sensorId: 's', source: 'indicator', title: id, severity: 'high', status: 'new', assignee: null,
    entity: '10.0.0.1', count: 1, firstSeen: lastSeen, lastSeen, techniques: [],
    matched: { kind: 'indicator', id: 'indicator--1', name: null, pattern: "[ipv4-addr:value = '1.2.3.4']", via: 'index', path: null, value: null, tactics: [] }, groupKey: 'g',
    samples: [], incidentId: null, rev: 1, exerciseId: null, ...over,
  };
}

describe('live feed merge', () => {
  it('puts a new alert first and keeps the list bounded', () => {
    let feed: Alert[] = [];
    for (let i = 0; i < 60; i++) feed = mergeAlert(feed, alert(`a${String(i).padStart(2, '0')}`, `2026-11-26T05:${String(i).padStart(2, '0')}:00.000Z`), 50);
    expect(feed).toHaveLength(50);
    expect(feed[0]?.id).toBe('a59');
    expect(feed.at(-1)?.id).toBe('a10');
  });

  it('replaces an updated alert in place, never duplicates it, and ignores an older revision', () => {
    const a = alert('a', '2026-11-26T05:00:00.000Z');
    const b = alert('b', '2026-11-26T05:01:00.000Z');
    let feed = mergeAlerts([], [a, b]);
    expect(feed.map((x) => x.id)).toEqual(['b', 'a']);
    feed = mergeAlert(feed, { ...a, status: 'acknowledged', rev: 2 });
    expect(feed.map((x) => `${x.id}:${x.status}`)).toEqual(['b:new', 'a:acknowledged']);
    // A reload answered before the update arrived must not undo it.
    feed = mergeAlerts(feed, [a]);
    expect(feed.find((x) => x.id === 'a')?.status).toBe('acknowledged');
  });
});

describe('filters', () => {
  it('round-trips through the hash query and drops unknown values', () => {
    const f = filterFromParams(new URLSearchParams('severity=high,bogus,critical&status=new&source=sigma,x'));
    expect(f).toEqual({ severity: ['high', 'critical'], status: ['new'], source: ['sigma'] });
    expect(filterToParams(f).toString()).toBe('severity=high%2Ccritical&status=new&source=sigma');
    expect(filterFromParams(new URLSearchParams('severity=nope'))).toEqual({});
  });

  it('matches every group it sets; an empty group matches anything', () => {
    const a = alert('a', '2026-11-26T05:00:00.000Z', { severity: 'low', status: 'acknowledged', source: 'anomaly' });
    expect(matchesFilter(a, {})).toBe(true);
    expect(matchesFilter(a, { severity: [] })).toBe(true);
    expect(matchesFilter(a, { severity: ['low', 'high'], source: ['anomaly'] })).toBe(true);
    expect(matchesFilter(a, { status: ['new'] })).toBe(false);
    expect(matchesFilter(a, { severity: ['low'], source: ['sigma'] })).toBe(false);
  });
});

describe('heatmap and chart', () => {
  it('steps counts on a square-root scale from 1 to 5, 0 for none', () => {
    expect(heatStep(0, 100)).toBe(0);
    expect(heatStep(1, 100)).toBe(1);
    expect(heatStep(25, 100)).toBe(3);
    expect(heatStep(100, 100)).toBe(5);
    expect(heatStep(3, 0)).toBe(0);
  });

  it('orders techniques numerically and groups sub-techniques under their parent', () => {
    const cells = heatCells([{ technique: 'T1566.001', count: 2 }, { technique: 'T1059.001', count: 8 }, { technique: 'T1059', count: 1 }, { technique: 'T1003', count: 4 }]);
    expect(cells.map((c) => c.technique)).toEqual(['T1003', 'T1059', 'T1059.001', 'T1566.001']);
    expect(cells.map((c) => c.parent)).toEqual(['T1003', 'T1059', 'T1059', 'T1566']);
    expect(cells.find((c) => c.technique === 'T1059.001')?.step).toBe(5);
  });

  it('links ATT&CK ids to their pages and nothing else', () => {
    expect(attackUrl('T1059.001')).toBe('https://attack.mitre.org/techniques/T1059/001/');
    expect(attackUrl('T1003')).toBe('https://attack.mitre.org/techniques/T1003/');
    expect(attackUrl('attack.t1059')).toBeNull();
    expect(attackUrl('javascript:alert(1)')).toBeNull();
  });

  it('gives uPlot columns in time order, x in seconds', () => {
    const [x, ev, al] = rateSeries([
      { t: '2026-11-26T05:10:00.000Z', events: 7, alerts: 1 }, { t: '2026-11-26T05:00:00.000Z', events: 3, alerts: 0 },
    ]);
    expect(x).toEqual([Date.parse('2026-11-26T05:00:00.000Z') / 1000, Date.parse('2026-11-26T05:10:00.000Z') / 1000]);
    expect(ev).toEqual([3, 7]);
    expect(al).toEqual([0, 1]);
    expect(totalAlerts({ critical: 1, high: 2, medium: 0, low: 4, informational: 5 })).toBe(12);
  });
});

describe('raw events and routes', () => {
  it('summarises flat and nested ECS events', () => {
    expect(sampleSummary({ '@timestamp': '2026-11-26T05:00:00Z', 'event.dataset': 'suricata.dns', 'source.ip': '10.0.0.5', 'destination.ip': '10.0.0.53', 'destination.port': 53, 'dns.question.name': 'x.example' }))
      .toBe('2026-11-26T05:00:00Z · suricata.dns · 10.0.0.5 → 10.0.0.53:53 · x.example');
    expect(sampleSummary({ event: { category: 'process' }, process: { command_line: 'powershell -enc AAA' } })).toBe('process · powershell -enc AAA');
    expect(sampleSummary({})).toBe('event');
  });

  it('describes history entries in words', () => {
    expect(describeHistory({ status: { from: 'new', to: 'acknowledged' }, note: 'on it' })).toBe('status: new → acknowledged, note: on it');
    expect(describeHistory({ assignee: null })).toBe('assignee: none');
    expect(describeHistory({ incidentId: 'incident--1', nested: { deep: 1 } })).toBe('incidentId: incident--1');
    expect(describeHistory(null)).toBe('');
  });

  it('routes the COP, the alert list with filters and an alert', () => {
    const cop = parseRoute('#/cop?severity=high');
    expect(cop.name).toBe('cop');
    if (cop.name === 'cop') expect(cop.params.get('severity')).toBe('high');
    expect(parseRoute('#/alerts').name).toBe('alerts');
    expect(parseRoute(href.alert('alert--1/2'))).toEqual({ name: 'alert', id: 'alert--1/2' });
    expect(href.cop()).toBe('#/cop');
    expect(href.alerts(new URLSearchParams('status=new'))).toBe('#/alerts?status=new');
  });
});
