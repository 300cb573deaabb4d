/**
 * Pure logic of the respond screens (routes, durations, task gating, timeline wording, live
 * event wording), tested without a browser; the phase moves the page offers are checked
 * against the server's own table so the two cannot drift apart.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { href, parseRoute } from '../../web/src/router.js';
import { formatDuration, fromUtcInput, toUtcInput } from '../../web/src/components/Respond.js';
import { PHASE_MOVES as PAGE_MOVES } from '../../web/src/pages/IncidentDetail.js';
import { describeEntry, waitingFor } from '../../web/src/pages/IncidentParts.js';
import { LIVE_EVENT_TYPES, describeEvent } from '../../web/src/live.js';
import type { Task, TimelineEntry } from '../../web/src/respondTypes.js';
import { PHASE_MOVES } from '../../src/respond/model.js';
import { repoRoot } from './harness.js';

describe('respond routes', () => {
  it('maps list and detail hashes to pages and back', () => {
    for (const [hash, name] of [['#/incidents', 'incidents'], ['#/assistance', 'assistance'], ['#/decisions', 'decisions'],
      ['#/attribution', 'attribution'], ['#/alert-levels', 'alert-levels']] as const) {
      expect(parseRoute(hash)).toEqual({ name });
    }
    const inc = 'incident--0b7a2d5e-5c0f-4a3c-9c3e-1d2b7f1e2a10';
    expect(parseRoute(href.incident(inc))).toEqual({ name: 'incident', id: inc });
    expect(parseRoute(href.decision('decision--1'))).toEqual({ name: 'decision', id: 'decision--1' });
    expect(parseRoute(href.assessment('assessment--1'))).toEqual({ name: 'assessment', id: 'assessment--1' });
    expect(parseRoute('#/incidentsx')).toEqual({ name: 'not-found', path: '/incidentsx' });
  });
});

describe('durations and times', () => {
  it('formats seconds at the scale that matters', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(61)).toBe('1m 1s');
    expect(formatDuration(7200)).toBe('2h 0m 0s');
    expect(formatDuration(90061)).toBe('1d 1h 1m');
    expect(formatDuration(-30)).toBe('-30s');
  });

  it('datetime inputs are UTC, like every time the app shows, whatever the browser zone', () => {
    const d = new Date('2026-03-04T05:06:07.000Z');
    expect(toUtcInput(d)).toBe('2026-03-04T05:06:07');
    expect(fromUtcInput('2026-03-04T05:06:07')).toBe('2026-03-04T05:06:07.000Z');
    expect(fromUtcInput('2026-03-04T05:06')).toBe('2026-03-04T05:06:00.000Z');
    expect(fromUtcInput(toUtcInput(d))).toBe(d.toISOString());
    expect(fromUtcInput('')).toBeUndefined();
    expect(fromUtcInput('not a date')).toBeUndefined();
  });
});

describe('incident page logic', () => {
  it('offers exactly the phase moves the server allows', () => {
    expect(PAGE_MOVES).toEqual(PHASE_MOVES);
  });

  const task = (id: string, status: string, dependsOn: string[] = []): Task => ({
    id, title: `T${id}`, description: '', status, mandatory: true, dependsOn, assignee: null, createdAt: '', completedAt: null, orgId: 'o',
  });

  it('shows a task as waiting while a dependency is neither completed nor cancelled', () => {
    const all = [task('1', 'in-progress'), task('2', 'cancelled'), task('3', 'open', ['1', '2']), task('4', 'open', ['2'])];
    expect(waitingFor(all[2]!, all).map((t) => t.id)).toEqual(['1']);
    expect(waitingFor(all[3]!, all)).toEqual([]);
    all[0] = task('1', 'completed');
    expect(waitingFor(all[2]!, all)).toEqual([]);
  });

  it('words timeline entries, naming organisations', () => {
    const e = (kind: string, data: Record<string, unknown>): TimelineEntry => ({ seq: 1, at: '2026-01-01T00:00:00Z', kind, orgId: 'a', userId: null, data });
    const name = (id: string) => ({ a: 'ALD', b: 'BRN' })[id] ?? id;
    expect(describeEntry(e('incident.phase', { from: 'detection-analysis', to: 'closed' }), name)).toBe('Phase detection analysis → closed');
    expect(describeEntry(e('incident.shared', { shares: [{ orgId: 'b', permission: 'read' }] }), name)).toBe('Shared with BRN (read)');
    expect(describeEntry(e('incident.transferred', { from: 'a', to: 'b' }), name)).toBe('Ownership transferred ALD → BRN');
    expect(describeEntry(e('incident.comment', { text: 'on site' }), name)).toBe('on site');
    expect(describeEntry(e('incident.timeline', { at: '2026-01-02T03:04:05Z', text: 'scrubbing' }), name)).toBe('2026-01-02 03:04:05 UTC: scrubbing');
    // Links and updates in words, never the event's JSON.
    expect(describeEntry(e('incident.linked', { kind: 'alerts', refs: ['alert--1'] }), name)).toBe('Linked alert: alert--1');
    expect(describeEntry(e('incident.linked', { kind: 'techniques', refs: ['T1071', 'T1566'] }), name)).toBe('Linked 2 ATT&CK techniques: T1071, T1566');
    expect(describeEntry(e('incident.updated', { severity: { from: 2, to: 3 }, title: 'x' }), name)).toBe('Updated: severity 2 → 3, title x');
    expect(describeEntry(e('incident.something-new', { a: { b: 1 } }), name)).toBe('something new: a b 1');
    for (const k of ['incident.linked', 'incident.updated', 'incident.other']) expect(describeEntry(e(k, { kind: 'alerts', refs: ['r'], x: { y: [1] } }), name)).not.toMatch(/[{}"]/);
  });

  it('words live events for the toast', () => {
    const ev = (type: string) => ({ type, subject: 'x', at: '', data: {} });
    expect(describeEvent(ev('decision.blocked'))).toBe('Decision: blocked');
    expect(describeEvent(ev('assistance-offer.created'))).toBe('Assistance: created');
    expect(describeEvent(ev('incident.task.status'))).toBe('Incident: task status');
    expect(describeEvent(ev('alert-level.changed'))).toBe('Alert level: changed');
  });
});

describe('live event names', () => {
  // EventSource delivers a named event only to listeners of that exact name, so the page must
  // list every name the respond domain publishes: the literal ones, `<record kind>.created`,
  // and the templated outcomes.
  it('listens to every event kind the respond domain writes', () => {
    const dir = path.join(repoRoot, 'src/respond');
    const code = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
    const literal = [...code.matchAll(/kind: '([a-z-]+\.[a-z.-]+)'/g)].map((m) => m[1]!);
    const records = [...code.matchAll(/export const [A-Z_]+ = '([a-z-]+)';/g)].map((m) => m[1]!).filter((k) => k !== 'alliance');
    expect(records.sort()).toEqual(['alert-level', 'assessment', 'assistance-offer', 'assistance-request', 'decision', 'incident']);
    expect(code).toContain('kind: `${r.kind}.created`');
    expect(code).toContain('kind: `assistance.${how}`');
    expect(code).toContain('kind: `assistance.offer.${state}`');
    expect(code).toContain('kind: `decision.${result}`');
    const templated = ['assistance.closed', 'assistance.withdrawn', 'assistance.offer.accepted', 'assistance.offer.declined', 'assistance.offer.withdrawn',
      'decision.adopted', 'decision.blocked', 'decision.no-consensus', 'decision.withdrawn'];
    const expected = new Set([...literal, ...records.map((k) => `${k}.created`), ...templated]);
    expect(literal.length).toBeGreaterThan(15);
    expect([...expected].filter((k) => !(LIVE_EVENT_TYPES as readonly string[]).includes(k))).toEqual([]);
  });
});
