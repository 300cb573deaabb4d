/**
 * Exercise isolation (DESIGN §2.3), in the manner of the other leak tests: an exercise runs
 * (a technical inject raising an alert through the real pipeline, an intel inject, a
 * communication, an incident declared in the exercise), then every real-world read path —
 * every parameterless GET of the REST API, TAXII objects of every collection, the real alert
 * level and the live stream without `?exercise` — is read by every user: none shows anything
 * of the exercise. Players see only their own team's exercise world and no real intel. A purge
 * leaves no row of the exercise in any table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../src/core/index.js';
import { ROUTE_ACTIONS } from '../src/api/route-permissions.js';
import { addExcon, http, indicator, makeAlliance, submitAs, type Alliance } from './rest-fixtures.js';
import { detectionReady } from './helpers/node-mode.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let id = '';
/** Read paths of respond records made in the exercise through the REST scope. */
const scoped: string[] = [];
const tokens: Record<string, string> = {};
const events: BusEvent[] = [];
const C2 = '203.0.113.99';
const MARK = 'EXERCISE-MARKER-7c1f';
const REAL_RED = 'REAL-RED-INTEL-91ab';

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  tokens['c-excon'] = await addExcon(al);
  Object.assign(tokens, al.tokens);
  // Real intel: A's indicator for the C2 (catches the exercise beacon) and A's RED object for nobody.
  await submitAs(al, 'a-analyst', al.shared, { objects: [indicator('C2 feed', { pattern: `[ipv4-addr:value = '${C2}']` })], defaultTlp: 'amber' });
  await submitAs(al, 'a-analyst', al.shared, { objects: [indicator(REAL_RED, { pattern: "[domain-name:value = 'red.example']" })], defaultTlp: 'red' });
  await detectionReady(al.platform);
  al.platform.exercise.start();
  al.platform.bus.subscribe((e) => events.push(e));
  const ex = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) => h.call(method, `/api/v1${url}`, { token: tokens[user]!, ...(body !== undefined ? { body } : {}) });
  const sc = await ex('c-excon', 'POST', '/exercises/scenarios', {
    name: `Leak ${MARK}`, storyline: MARK, category: 'attack-scenario',
    teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [al.orgs.B] }],
    injects: [
      { id: 'beacon', title: `Beacon ${MARK}`, offsetSeconds: 10, type: 'technical', teams: [], payload: { technique: 'T1071.001', network: [{ destIp: C2 }] }, expectations: [{ name: 'Detection', type: 'DETECTION' }, { name: 'Incident', type: 'INCIDENT' }] },
      { id: 'advisory', title: `Advisory ${MARK}`, offsetSeconds: 20, type: 'intel', teams: ['team-a'], payload: { bundle: { type: 'bundle', id: 'bundle--6f1b1d0a-8c5e-4a53-9d0e-000000000001', objects: [{ type: 'indicator', spec_version: '2.1', id: 'indicator--6f1b1d0a-8c5e-4a53-9d0e-000000000002', name: MARK, pattern: "[domain-name:value = 'ex.example']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z' }] } }, expectations: [] },
      { id: 'mail', title: `Mail ${MARK}`, offsetSeconds: 30, type: 'communication', teams: ['team-a'], payload: { channel: 'email', from: 'press', subject: MARK, body: MARK }, expectations: [] },
    ],
  });
  expect(sc.status, sc.body).toBe(201);
  id = (await ex('c-excon', 'POST', '/exercises', { scenarioId: sc.json().id, speed: 10 })).json().id;
  await ex('c-excon', 'POST', `/exercises/${id}/control`, { action: 'launch' });
  for (let i = 0; i < 4; i++) {
    al.clock.advance(1000);
    await al.platform.exercise.tick();
    await al.platform.detect.drain();
    await al.platform.exercise.idle();
  }
  // A responder of team A declares an incident in the exercise (the respond service, tagged).
  await al.platform.respond.incidents.create({ principal: al.principals['a-responder']!, source: 'test' }, { title: `Incident ${MARK}`, severity: 3, exerciseId: id });
  await al.platform.exercise.idle();
  // And through the REST routes' exercise scope: an incident and a request for assistance to B.
  const inc = await ex('a-responder', 'POST', '/incidents', { title: `REST incident ${MARK}`, severity: 3, exerciseId: id });
  expect(inc.status, inc.body).toBe(201);
  const req = await ex('a-responder', 'POST', '/assistance', { title: `Help ${MARK}`, services: ['incident-analysis'], urgency: 'priority', routedTo: [al.orgs.B], offerDeadline: new Date(al.clock.now() + 3600_000).toISOString(), exerciseId: id });
  expect(req.status, req.body).toBe(201);
  scoped.push(`/incidents/${inc.json().id}`, `/assistance/${req.json().id}`);
  // An alert level raised in the exercise (its reason carries the marker the real board must not show).
  expect((await ex('a-admin', 'POST', '/alert-levels/own', { level: 4, reason: `Raised ${MARK}`, exerciseId: id })).status).toBe(200);
  await al.platform.exercise.idle();
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

const USERS = ['a-analyst', 'a-admin', 'a-responder', 'b-analyst', 'c-analyst', 'c-admin', 'c-excon'];

describe('the real world sees nothing of the exercise', () => {
  it('the exercise did produce an alert, an incident, intel and an inbox item (else this test proves nothing)', async () => {
    const alerts = (await h.call('GET', `/api/v1/exercises/${id}/alerts`, { token: tokens['c-excon']! })).json().alerts;
    expect(alerts.length).toBe(1);
    const exp = (await h.call('GET', `/api/v1/exercises/${id}/expectations`, { token: tokens['a-analyst']! })).json().expectations;
    expect(exp.map((e: { name: string; status: string }) => `${e.name}:${e.status}`).sort()).toEqual(['Detection:success', 'Incident:success']);
    expect((await h.call('GET', `/api/v1/exercises/${id}/intel`, { token: tokens['a-analyst']! })).body).toContain(MARK);
    expect((await h.call('GET', `/api/v1/exercises/${id}/inbox`, { token: tokens['a-analyst']! })).body).toContain(MARK);
    expect(await al.platform.store.countExerciseRows(id)).toBeGreaterThan(5);
  });

  const gets = Object.entries(ROUTE_ACTIONS).filter(([k, a]) => k.startsWith('GET /api/v1/') && !k.includes(':') && a !== 'public')
    .map(([k]) => k.slice(4)).filter((p) => !p.startsWith('/api/v1/exercises') && p !== '/api/v1/stream' && p !== '/api/v1/audit');
  it.each(USERS)('%s: every parameterless GET of the REST API', async (user) => {
    expect(gets.length).toBeGreaterThan(15);
    for (const path of gets) {
      const r = await h.call('GET', path, { token: tokens[user]! });
      expect(r.status, `${path} ${r.body.slice(0, 200)}`).toBeLessThan(500);
      for (const needle of [id, MARK, C2]) expect(r.body.includes(needle), `${user} ${path} shows ${needle}`).toBe(false);
    }
  });

  it.each(USERS)('%s: search (intel q=, alerts and incidents by text) finds nothing of the exercise', async (user) => {
    for (const path of [`/api/v1/intel?q=${encodeURIComponent(MARK)}`, '/api/v1/intel?q=ex.example', `/api/v1/alerts?q=${encodeURIComponent(C2)}`, '/api/v1/incidents?phase=detection-analysis']) {
      const r = await h.call('GET', path, { token: tokens[user]! });
      expect(r.status, `${path} ${r.body.slice(0, 200)}`).toBeLessThan(500);
      for (const needle of [id, MARK]) expect(r.body.includes(needle), `${user} ${path} shows ${needle}`).toBe(false);
    }
  });

  it.each(USERS)('%s: TAXII objects of every collection', async (user) => {
    const root = al.platform.config.apiRoots[0]!.name;
    const cols = (await h.call('GET', `/${root}/collections/`, { token: tokens[user]!, headers: { accept: 'application/taxii+json;version=2.1' } })).json().collections ?? [];
    for (const c of cols as { id: string }[]) {
      const r = await h.call('GET', `/${root}/collections/${c.id}/objects/`, { token: tokens[user]!, headers: { accept: 'application/taxii+json;version=2.1' } });
      for (const needle of [id, MARK]) expect(r.body.includes(needle), `${user} ${c.id}`).toBe(false);
    }
  });

  it('the real live stream carries no exercise event; exercise events go only to its participants', () => {
    const ex = events.filter((e) => e.exerciseId === id);
    expect(ex.length).toBeGreaterThan(3);
    // The stream route delivers an event only when its exerciseId equals the subscriber's ?exercise (null for the real world).
    expect(events.filter((e) => e.exerciseId === null).some((e) => JSON.stringify(e).includes(MARK))).toBe(false);
    // Team A's events are not released to team B's organisation.
    for (const e of ex.filter((x) => x.data.teamId === 'team-a')) expect(e.facts.recipients).not.toContain(al.orgs.B);
  });
});

describe('respond records made in the exercise (REST exerciseId)', () => {
  it('are reached by id only by participants: 404 to every other reader', async () => {
    expect(scoped.length).toBe(2);
    for (const path of scoped) {
      for (const user of ['c-analyst']) {
        const r = await h.call('GET', `/api/v1${path}`, { token: tokens[user]! });
        expect(r.status, `${user} ${path}`).toBe(404);
        expect(r.body.includes(MARK)).toBe(false);
      }
      // Its owner (a player of team A) reads it; B, the routed ally of the request, reads the request.
      expect((await h.call('GET', `/api/v1${path}`, { token: tokens['a-responder']! })).status).toBe(200);
    }
    expect((await h.call('GET', `/api/v1${scoped[1]}`, { token: tokens['b-analyst']! })).status).toBe(200);
    expect((await h.call('GET', `/api/v1${scoped[0]}`, { token: tokens['b-analyst']! })).status).toBe(404);
  });

  it.each(['incidents', 'assistance', 'decisions', 'assessments'])('?exercise on /%s: outsiders 404, players only what they may read', async (list) => {
    const out = await h.call('GET', `/api/v1/${list}?exercise=${id}`, { token: tokens['c-analyst']! });
    expect(out.status).toBe(404);
    expect(out.body.includes(MARK)).toBe(false);
    const b = await h.call('GET', `/api/v1/${list}?exercise=${id}`, { token: tokens['b-analyst']! });
    expect(b.status).toBe(200);
    // B sees A's request routed to it, never A's AMBER incident.
    expect(b.body.includes(`REST incident ${MARK}`)).toBe(false);
    expect(b.body.includes(REAL_RED)).toBe(false);
  });

  it('the exercise stream is refused to outsiders (404) and its events go only to the participants\' organisations', async () => {
    const r = await al.app.inject({ method: 'GET', url: `/api/v1/stream?exercise=${id}`, headers: { authorization: `Bearer ${tokens['c-analyst']}` } });
    expect(r.statusCode).toBe(404);
    const created = events.filter((e) => e.exerciseId === id && e.type === 'incident.created');
    expect(created.length).toBe(2);
    for (const e of created) expect([e.facts.creatorOrg, ...e.facts.recipients]).not.toContain(al.orgs.B);
  });
});

describe('players see only their own team and nothing real they may not read', () => {
  it.each(['inbox', 'intel', 'alerts', 'expectations', 'injects', 'scoreboard', 'report', 'sitreps'])('B on /exercises/:id/%s', async (path) => {
    const r = await h.call('GET', `/api/v1/exercises/${id}/${path}`, { token: tokens['b-analyst']! });
    expect(r.status).toBe(200);
    expect(r.body.includes('team-a'), r.body.slice(0, 300)).toBe(false);
    expect(r.body.includes(REAL_RED)).toBe(false);
    const a = await h.call('GET', `/api/v1/exercises/${id}/${path}`, { token: tokens['a-analyst']! });
    expect(a.body.includes(REAL_RED)).toBe(false);
  });

  it('an organisation with no part in it gets 404 on every exercise path', async () => {
    for (const path of ['', '/inbox', '/alerts', '/report', '/scoreboard']) {
      expect((await h.call('GET', `/api/v1/exercises/${id}${path}`, { token: tokens['c-analyst']! })).status).toBe(404);
    }
    expect((await h.call('GET', '/api/v1/exercises', { token: tokens['c-analyst']! })).json().exercises).toEqual([]);
  });
});

describe('scenarios are the planners\' (exercise.plan): the whole script, every team\'s injects', () => {
  it('a user of the planning organisation without excon or admin reads no scenario, as it reads no exercise it does not play', async () => {
    const sc = (await h.call('GET', '/api/v1/exercises/scenarios', { token: tokens['c-excon']! })).json().scenarios as { id: string }[];
    expect(sc.length).toBeGreaterThan(0);
    const sid = sc[0]!.id;
    expect((await h.call('GET', `/api/v1/exercises/scenarios/${sid}/export`, { token: tokens['c-excon']! })).body).toContain(MARK);
    for (const path of ['/exercises/scenarios', `/exercises/scenarios/${sid}`, `/exercises/scenarios/${sid}/export`]) {
      const r = await h.call('GET', `/api/v1${path}`, { token: tokens['c-analyst']! });
      expect(r.status, `${path}: ${r.body.slice(0, 200)}`).toBe(403);
      expect(r.body).not.toContain(MARK);
    }
  });
});

describe('purge', () => {
  it('leaves no row of the exercise in any table', async () => {
    expect(await al.platform.store.getRecord(`alert-level--${id}--${al.orgs.A}`)).not.toBeNull();
    await h.call('POST', `/api/v1/exercises/${id}/control`, { token: tokens['c-excon']!, body: { action: 'finish' } });
    const r = await al.app.inject({ method: 'DELETE', url: `/api/v1/exercises/${id}`, headers: { authorization: `Bearer ${tokens['c-excon']}` } });
    expect(r.statusCode, r.body).toBe(200);
    expect(JSON.parse(r.body).removed).toBeGreaterThan(5);
    expect(await al.platform.store.countExerciseRows(id)).toBe(0);
    expect(await al.platform.store.getRecord(id)).toBeNull();
    // The exercise's own alert-level record went with it; the real one is untouched (never created).
    expect(await al.platform.store.getRecord(`alert-level--${id}--${al.orgs.A}`)).toBeNull();
    expect((await al.platform.respond.levels.get(al.orgs.A)).level).toBe(1);
    for (const kind of ['exercise.team-state', 'exercise.inbox', 'exercise.intel', 'incident', 'alert', 'assistance-request', 'alert-level']) {
      for (const org of Object.values(al.orgs)) {
        const rows = await al.platform.store.listRecords({ kind, audience: { hop: 'local', orgId: org, groupIds: [] }, purpose: 'read', exerciseId: id, limit: 100 });
        expect(rows, `${kind}`).toEqual([]);
      }
    }
  });
});
