/**
 * Pure logic of the web shell (routing, version diff, graph neighbourhood, bundle pre-check),
 * tested without a browser. Lives beside the browser tests because vitest only collects test/ and src/.
 */
import { describe, expect, it } from 'vitest';
import { parseRoute, href } from '../../web/src/router.js';
import { diffObjects } from '../../web/src/components/VersionDiff.js';
import { neighbourhood } from '../../web/src/components/RelationshipGraph.js';
import { checkBundle } from '../../web/src/pages/Import.js';
import { buildQuery } from '../../web/src/api.js';
import { ANALYST_TYPES, apiFilter } from '../../web/src/pages/Explorer.js';
import type { Relationship } from '../../web/src/types.js';

describe('hash routes', () => {
  it('maps hashes to pages and back', () => {
    // The first screen is the operational picture; the alliance page has its own path.
    expect(parseRoute('').name).toBe('cop');
    expect(parseRoute('#/').name).toBe('cop');
    expect(parseRoute('#/alliance')).toEqual({ name: 'overview' });
    expect(parseRoute(href.overview())).toEqual({ name: 'overview' });
    expect(parseRoute('#/import')).toEqual({ name: 'import' });
    const ex = parseRoute('#/intel?type=indicator&tlp=green,red');
    expect(ex.name).toBe('explorer');
    if (ex.name === 'explorer') expect(ex.params.get('tlp')).toBe('green,red');
    const id = 'indicator--0b7a2d5e-5c0f-4a3c-9c3e-1d2b7f1e2a10';
    expect(parseRoute(href.detail(id))).toEqual({ name: 'detail', id });
    expect(parseRoute('#/nowhere')).toEqual({ name: 'not-found', path: '/nowhere' });
  });

  it('drops empty query values', () => {
    expect(buildQuery({ a: '', b: undefined, c: null, d: 'x y', e: 0 })).toBe('?d=x+y&e=0');
    expect(buildQuery({})).toBe('');
  });
});

describe('version diff', () => {
  it('reports added, removed and changed top-level properties only', () => {
    const before = { id: 'x', name: 'a', labels: ['p'], gone: 1, same: { k: [1] } };
    const after = { id: 'x', name: 'b', labels: ['p'], added: true, same: { k: [1] } };
    expect(diffObjects(before, after)).toEqual([
      { key: 'added', kind: 'added', after: true },
      { key: 'gone', kind: 'removed', before: 1 },
      { key: 'name', kind: 'changed', before: 'a', after: 'b' },
    ]);
    expect(diffObjects(after, after)).toEqual([]);
  });
});

describe('relationship neighbourhood', () => {
  const centre = { id: 'indicator--1', type: 'indicator', name: 'I', visible: true };
  const rel = (id: string, src: string, tgt: string, other: Relationship['source']): Relationship => ({
    id, relationship_type: 'indicates', source_ref: src, target_ref: tgt,
    source: src === centre.id ? { id: src, type: 'indicator', name: 'I' } : other,
    target: tgt === centre.id ? { id: tgt, type: 'indicator', name: 'I' } : other,
  });

  it('puts each related object once, in either direction, and marks invisible ends', () => {
    const m = { id: 'malware--1', type: 'malware', name: 'M' };
    const { nodes, edges } = neighbourhood(centre, [
      rel('relationship--1', centre.id, m.id, m),
      rel('relationship--2', m.id, centre.id, m),
      rel('relationship--3', 'threat-actor--9', centre.id, null),
    ]);
    expect(nodes.map((n) => [n.id, n.visible])).toEqual([[centre.id, true], [m.id, true], ['threat-actor--9', false]]);
    expect(nodes[2]?.type).toBe('threat-actor');
    expect(edges.map((e) => `${e.from}>${e.to}`)).toEqual([`${centre.id}>${m.id}`, `${m.id}>${centre.id}`, `threat-actor--9>${centre.id}`]);
  });
});

describe('bundle pre-check', () => {
  it('accepts a bundle and explains what is wrong otherwise', () => {
    expect(checkBundle('{"type":"bundle","id":"bundle--1","objects":[]}')).toBeNull();
    expect(checkBundle('  ')).toMatch(/Choose a file/);
    expect(checkBundle('{"type":')).toMatch(/not valid JSON/);
    expect(checkBundle('{"type":"indicator"}')).toMatch(/not a STIX bundle/);
    expect(checkBundle('[1]')).toMatch(/not a STIX bundle/);
    expect(checkBundle('{"type":"bundle"}')).toMatch(/no "objects"/);
  });
});

describe('explorer default types', () => {
  const f = { type: '', q: '', label: '', tlp: [], creator: '', collection: '' };
  it('lists threat intelligence by default, not identities and marking definitions; "any" lists every type', () => {
    const types = ANALYST_TYPES.split(',');
    expect(types).toContain('indicator');
    expect(types).toContain('malware');
    expect(types).toContain('relationship');
    expect(types).not.toContain('identity');
    expect(types).not.toContain('marking-definition');
    expect(apiFilter(f).type).toBe(ANALYST_TYPES);
    expect(apiFilter({ ...f, type: 'any' }).type).toBe('');
    expect(apiFilter({ ...f, type: 'malware' }).type).toBe('malware');
  });
});

describe('exercise pages', async () => {
  const { parseTplus } = await import('../../web/src/exercise/InjectsEditor.js');
  const { scoreSeriesData } = await import('../../web/src/exercise/reportData.js');
  const { tplus, duration } = await import('../../web/src/exercise/api.js');
  it('routes exercise pages', () => {
    expect(parseRoute('#/exercises')).toEqual({ name: 'exercises' });
    expect(parseRoute(href.exercise('exercise--1'))).toEqual({ name: 'exercise', id: 'exercise--1' });
    expect(parseRoute(href.exerciseReport('exercise--1'))).toEqual({ name: 'exercise-report', id: 'exercise--1' });
  });
  it('reads and writes T+ times', () => {
    expect([parseTplus('T+01:30:00'), parseTplus('00:10'), parseTplus('90m'), parseTplus('1h 5m'), parseTplus('soon')]).toEqual([5400, 600, 5400, 3900, null]);
    expect(tplus(5400)).toBe('T+01:30:00');
    expect([duration(45), duration(240), duration(3720), duration(null)]).toEqual(['45 s', '4 min', '1 h 2 min', '–']);
  });
  it('aligns cumulative team scores on one time axis for the chart', () => {
    const report = {
      teams: [{ teamId: 'a' }, { teamId: 'b' }],
      scoreSeries: [
        { teamId: 'a', points: [{ at: '2026-01-01T00:00:10Z', score: 100 }, { at: '2026-01-01T00:00:30Z', score: 150 }] },
        { teamId: 'b', points: [{ at: '2026-01-01T00:00:20Z', score: 50 }] },
      ],
    } as unknown as Parameters<typeof scoreSeriesData>[0];
    const t0 = Date.parse('2026-01-01T00:00:00Z') / 1000;
    expect(scoreSeriesData(report)).toEqual([[t0 + 10, t0 + 20, t0 + 30], [100, 100, 150], [0, 50, 50]]);
  });
});
