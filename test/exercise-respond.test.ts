/**
 * Respond actions inside an exercise (docs/exercises.md "Respond actions in an exercise"):
 * `exerciseId` on the create routes and `?exercise=` on the lists. A prompt inject asking to
 * declare an incident is met by the incident a player declares in the exercise, with its time;
 * the record stays in the exercise; outsiders get 404, observers 403, a stopped exercise 409,
 * a malformed id 400 — all as JSON, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Role } from '../src/store/index.js';
import { http, makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let id = '';
const tokens: Record<string, string> = {};
const userIds: Record<string, string> = {};
const MISSING = 'exercise--00000000-0000-4000-8000-000000000000';

const call = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
  h.call(method, `/api/v1${url}`, { token: tokens[user]!, ...(body !== undefined ? { body } : {}) });
const later = (s: number) => new Date(al.clock.now() + s * 1000).toISOString();

async function advance(seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    al.clock.advance(1000);
    await al.platform.exercise.tick();
    await al.platform.exercise.idle();
  }
}

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  Object.assign(tokens, al.tokens);
  const extra: [string, 'A' | 'B' | 'C', Role[]][] = [
    ['c-excon', 'C', ['excon']], ['c-responder', 'C', ['responder']], ['c-observer', 'C', ['responder']],
    ['b-responder', 'B', ['responder']], ['a-rep', 'A', ['representative']], ['b-rep', 'B', ['representative']],
  ];
  for (const [name, org, roles] of extra) {
    const u = await al.platform.access.createUser(SYSTEM_ACTOR, { orgId: al.orgs[org], username: name, password: 'correct horse battery staple', roles });
    userIds[name] = u.id;
    tokens[name] = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs[org], userId: u.id, kind: 'api', name: 't' })).token;
  }
  al.platform.exercise.start();
  const sc = await call('c-excon', 'POST', '/exercises/scenarios', {
    name: 'Respond drill', storyline: 'players act on the platform', category: 'attack-scenario',
    teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [al.orgs.B] }],
    injects: [
      { id: 'declare', title: 'Declare an incident', offsetSeconds: 10, type: 'prompt', teams: [], payload: { action: 'declare-incident', text: 'Declare the ransomware incident (severity 3 or more)' },
        expectations: [{ name: 'Incident', type: 'INCIDENT', expirySeconds: 600, match: { category: 'ransomware', minSeverity: 3 } }] },
      { id: 'help', title: 'Ask for help', offsetSeconds: 10, type: 'prompt', teams: ['team-a'], payload: { action: 'request-assistance', text: 'Ask the alliance for forensic help' },
        expectations: [{ name: 'Assistance', type: 'ASSISTANCE', expirySeconds: 600 }] },
      { id: 'decide', title: 'Open a decision', offsetSeconds: 10, type: 'prompt', teams: ['team-a'], payload: { action: 'open-decision', text: 'Open a decision under silence procedure' },
        expectations: [{ name: 'Decision', type: 'DECISION', expirySeconds: 600 }] },
    ],
  });
  expect(sc.status, sc.body).toBe(201);
  const run = await call('c-excon', 'POST', '/exercises', { scenarioId: sc.json().id, speed: 1, grants: [{ userId: userIds['c-observer'], role: 'observer' }] });
  expect(run.status, run.body).toBe(201);
  id = run.json().id;
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

describe('before the exercise runs', () => {
  it('a create in a scheduled exercise is refused with 409 and nothing is written', async () => {
    const r = await call('a-responder', 'POST', '/incidents', { title: 'too early', severity: 3, exerciseId: id });
    expect(r.status, r.body).toBe(409);
    expect(r.json().error.code).toBe('CONFLICT');
    expect(r.body).toContain('scheduled');
    expect(await al.platform.store.countExerciseRows(id)).toBeGreaterThanOrEqual(0);
    const list = await call('c-excon', 'GET', `/incidents?exercise=${id}`);
    expect(list.status).toBe(200);
    expect(list.json().items).toEqual([]);
  });
});

describe('a player declares an incident inside the running exercise', () => {
  let incidentId = '';
  beforeAll(async () => {
    expect((await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'launch' })).status).toBe(200);
    await advance(12);
    await advance(8);
  });

  it('the incident is created in the exercise and meets the prompt expectation with its time', async () => {
    const r = await call('a-responder', 'POST', '/incidents', { title: 'Ransomware at the port', severity: 3, category: 'ransomware', exerciseId: id });
    expect(r.status, r.body).toBe(201);
    expect(r.json().exerciseId).toBe(id);
    incidentId = r.json().id;
    await al.platform.exercise.idle();
    const exp = (await call('a-analyst', 'GET', `/exercises/${id}/expectations?team=team-a`)).json().expectations as { name: string; status: string; timeToValidateSeconds: number | null; results: { ref?: string }[] }[];
    const inc = exp.find((e) => e.name === 'Incident')!;
    expect(inc.status).toBe('success');
    expect(inc.timeToValidateSeconds).toBeGreaterThanOrEqual(9);
    expect(inc.timeToValidateSeconds).toBeLessThanOrEqual(12);
    expect(inc.results[0]!.ref).toBe(incidentId);
    // Team B has not declared: still pending.
    const b = (await call('b-analyst', 'GET', `/exercises/${id}/expectations`)).json().expectations as { name: string; status: string }[];
    expect(b.map((e) => `${e.name}:${e.status}`)).toEqual(['Incident:pending']);
  });

  it('a lower severity than the prompt asks does not meet it', async () => {
    const r = await call('b-responder', 'POST', '/incidents', { title: 'minor', severity: 1, category: 'ransomware', exerciseId: id });
    expect(r.status).toBe(201);
    await al.platform.exercise.idle();
    const b = (await call('b-analyst', 'GET', `/exercises/${id}/expectations`)).json().expectations as { name: string; status: string }[];
    expect(b[0]!.status).toBe('pending');
  });

  it('the real-world list and read never show it; the exercise list does, to participants', async () => {
    const real = await call('a-responder', 'GET', '/incidents');
    expect(real.status).toBe(200);
    expect(real.body.includes(incidentId)).toBe(false);
    const scoped = await call('a-responder', 'GET', `/incidents?exercise=${id}`);
    expect(scoped.json().items.map((i: { id: string }) => i.id)).toContain(incidentId);
    // Its owner, a participant, reads it by id and works on it.
    expect((await call('a-responder', 'GET', `/incidents/${incidentId}`)).status).toBe(200);
    expect((await call('a-responder', 'POST', `/incidents/${incidentId}/comments`, { text: 'isolating hosts' })).status).toBe(201);
  });

  it('outsiders get 404 on the scoped list, the record and the exercise stream, as if none existed', async () => {
    for (const user of ['c-responder', 'c-analyst']) {
      for (const path of [`/incidents?exercise=${id}`, `/assistance?exercise=${id}`, `/decisions?exercise=${id}`, `/assessments?exercise=${id}`]) {
        const r = await call(user, 'GET', path);
        expect(r.status, `${user} ${path} ${r.body}`).toBe(404);
        expect(r.json().error.code).toBe('NOT_FOUND');
        expect(r.body.includes('Respond drill')).toBe(false);
      }
      // The same answer as for an exercise that does not exist.
      expect((await call(user, 'GET', `/incidents?exercise=${MISSING}`)).status).toBe(404);
      const s = await al.app.inject({ method: 'GET', url: `/api/v1/stream?exercise=${id}`, headers: { authorization: `Bearer ${tokens[user]}` } });
      expect(s.statusCode, s.body).toBe(404);
    }
    const r = await call('c-responder', 'POST', '/incidents', { title: 'intruder', severity: 3, exerciseId: id });
    expect(r.status, r.body).toBe(404);
    expect((await call('c-responder', 'POST', '/incidents', { title: 'intruder', severity: 3, exerciseId: MISSING })).status).toBe(404);
  });

  it('an observer reads but does not act (403)', async () => {
    expect((await call('c-observer', 'GET', `/incidents?exercise=${id}`)).status).toBe(200);
    const r = await call('c-observer', 'POST', '/incidents', { title: 'observer', severity: 3, exerciseId: id });
    expect(r.status, r.body).toBe(403);
    expect(r.json().error.code).toBe('FORBIDDEN');
  });

  it('a malformed exercise id is a 400 JSON error, on a create and on a list', async () => {
    for (const bad of ['nope', 'exercise--x', 42, '../../etc']) {
      const r = await call('a-responder', 'POST', '/incidents', { title: 't', severity: 3, exerciseId: bad });
      expect(r.status, `${String(bad)} ${r.body}`).toBe(400);
      expect(r.json().error).toBeTruthy();
    }
    const l = await call('a-responder', 'GET', '/incidents?exercise=nope');
    expect(l.status).toBe(400);
    expect(l.json().error.code).toBe('INVALID_FILTER');
  });

  it('an exercise incident is never published into a real collection', async () => {
    const r = await call('a-responder', 'POST', `/incidents/${incidentId}/publish`, { collection: al.shared });
    expect(r.status, r.body).toBe(409);
  });

  it('a request for assistance in the exercise meets ASSISTANCE; the ally offers inside the exercise', async () => {
    const real = (await call('a-responder', 'POST', '/incidents', { title: 'real one', severity: 2 })).json().id as string;
    // The exercise and the real world do not reference each other.
    const cross = await call('a-responder', 'POST', '/assistance', { title: 'help', services: ['incident-analysis'], urgency: 'priority', offerDeadline: later(3600), incidentId: real, exerciseId: id });
    expect(cross.status, cross.body).toBe(400);
    const r = await call('a-responder', 'POST', '/assistance', { title: 'Forensics please', services: ['artifact-and-forensic-evidence-analysis'], urgency: 'priority', offerDeadline: later(3600), routedTo: [al.orgs.B], incidentId, exerciseId: id });
    expect(r.status, r.body).toBe(201);
    const reqId = r.json().id as string;
    await al.platform.exercise.idle();
    const exp = (await call('a-analyst', 'GET', `/exercises/${id}/expectations?team=team-a`)).json().expectations as { name: string; status: string }[];
    expect(exp.find((e) => e.name === 'Assistance')!.status).toBe('success');
    expect((await call('b-responder', 'GET', '/assistance')).body.includes(reqId)).toBe(false);
    expect((await call('b-responder', 'GET', `/assistance?exercise=${id}`)).body).toContain(reqId);
    const offer = await call('b-responder', 'POST', `/assistance/${reqId}/offers`, { team: 'B forensics', capacity: '2 analysts', availableFrom: later(60), availableUntil: later(7200), services: ['artifact-and-forensic-evidence-analysis'] });
    expect(offer.status, offer.body).toBe(201);
    const view = (await call('a-responder', 'GET', `/assistance/${reqId}`)).json();
    expect(JSON.stringify(view)).toContain('B forensics');
  });

  it('a decision under silence procedure in the exercise meets DECISION; one with a real-world effect is refused', async () => {
    const eff = await call('a-rep', 'POST', '/decisions', { title: 'raise', text: 'raise the level', kind: 'alert-level', procedure: 'silence', participants: [al.orgs.B], deadline: later(3600), effect: { type: 'alert-level', scope: 'alliance', level: 3 }, exerciseId: id });
    expect(eff.status, eff.body).toBe(400);
    const r = await call('a-rep', 'POST', '/decisions', { title: 'Joint statement', text: 'We condemn', kind: 'other', procedure: 'silence', participants: [al.orgs.B], deadline: later(3600), exerciseId: id });
    expect(r.status, r.body).toBe(201);
    await al.platform.exercise.idle();
    const exp = (await call('a-analyst', 'GET', `/exercises/${id}/expectations?team=team-a`)).json().expectations as { name: string; status: string }[];
    expect(exp.find((e) => e.name === 'Decision')!.status).toBe('success');
    expect((await call('b-rep', 'GET', '/decisions')).body.includes(r.json().id)).toBe(false);
    expect((await call('b-rep', 'GET', `/decisions?exercise=${id}`)).body).toContain(r.json().id);
    const pos = await call('b-rep', 'POST', `/decisions/${r.json().id}/positions`, { position: 'break-silence', reason: 'wording' });
    expect(pos.status, pos.body).toBe(200);
    expect(pos.json().state).toBe('blocked');
  });

  it('a silence procedure of the exercise is adopted at its deadline by the server\'s ticker, as a real one is (not only when read)', async () => {
    const r = await call('a-rep', 'POST', '/decisions', { title: 'Exercise statement', text: 'We condemn', kind: 'other', procedure: 'silence', participants: [al.orgs.B], deadline: later(30), exerciseId: id });
    expect(r.status, r.body).toBe(201);
    const adopted: string[] = [];
    const off = al.platform.bus.subscribe((e) => { if (e.subject === r.json().id && e.type === 'decision.adopted') adopted.push(e.exerciseId ?? 'real'); });
    try {
      al.clock.advance(31_000);
      expect(await al.platform.respond.decisions.tick()).toBeGreaterThanOrEqual(1);
      // Written and announced (the exercise's live stream) by the ticker, before anyone reads it.
      expect((await al.platform.store.getRecord(r.json().id))!.state).toBe('adopted');
      expect(adopted).toEqual([id]);
    } finally {
      off();
    }
  });

  it('an alert level raised in the exercise moves the exercise board only, never the real one', async () => {
    const r = await call('a-rep', 'POST', '/alert-levels/own', { level: 4, reason: 'exercise: ransomware outbreak', exerciseId: id });
    expect(r.status, r.body).toBe(200);
    expect(r.json().level).toBe(4);
    const board = (await call('b-analyst', 'GET', `/alert-levels?exercise=${id}`)).json();
    expect(board.members.find((m: { orgId: string }) => m.orgId === al.orgs.A).level).toBe(4);
    const real = await call('b-analyst', 'GET', '/alert-levels');
    expect(real.json().members.find((m: { orgId: string }) => m.orgId === al.orgs.A).level).toBe(1);
    expect(real.body.includes('exercise: ransomware outbreak')).toBe(false);
    expect((await call('c-analyst', 'GET', `/alert-levels?exercise=${id}`)).status).toBe(404);
    expect((await call('a-rep', 'POST', '/alert-levels/own', { level: 9, reason: 'x', exerciseId: id })).status).toBe(400);
    expect((await call('a-rep', 'POST', '/alert-levels/own', { level: 3, reason: 'x', exerciseId: 'bad' })).status).toBe(400);
  });

  it('after the end, the records are read-only (409) and creates are refused (409)', async () => {
    expect((await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'finish' })).status).toBe(200);
    const c = await call('a-responder', 'POST', '/incidents', { title: 'late', severity: 3, exerciseId: id });
    expect(c.status, c.body).toBe(409);
    expect(c.body).toContain('finished');
    const w = await call('a-responder', 'POST', `/incidents/${incidentId}/comments`, { text: 'after the end' });
    expect(w.status, w.body).toBe(409);
    // Still readable by participants for the after-action review.
    expect((await call('a-responder', 'GET', `/incidents/${incidentId}`)).status).toBe(200);
  });
});

describe('"all players" expectations count every player of the team', () => {
  let ex2 = '';
  beforeAll(async () => {
    const players = [al.principals['a-responder']!.userId!, al.principals['a-admin']!.userId!];
    const sc = await call('c-excon', 'POST', '/exercises/scenarios', {
      name: 'Everyone declares', teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A], players }],
      injects: [{ id: 'each', title: 'Each of you declares', offsetSeconds: 1, type: 'prompt', teams: [], payload: { action: 'declare-incident', text: 'Every player declares' },
        expectations: [{ name: 'Incident', type: 'INCIDENT', expirySeconds: 60, validation: 'all' }] }],
    });
    ex2 = (await call('c-excon', 'POST', '/exercises', { scenarioId: sc.json().id, speed: 1 })).json().id;
    await call('c-excon', 'POST', `/exercises/${ex2}/control`, { action: 'launch' });
    await advance(2);
  });

  it('one of two players answering keeps it pending; at expiry it is partial with half the score', async () => {
    expect((await call('a-responder', 'POST', '/incidents', { title: 'mine', severity: 3, exerciseId: ex2 })).status).toBe(201);
    await al.platform.exercise.idle();
    // A user of A who is not among the team's listed players takes no part in it.
    expect((await call('a-analyst', 'GET', `/exercises/${ex2}/expectations`)).status).toBe(404);
    const one = (await call('a-responder', 'GET', `/exercises/${ex2}/expectations`)).json().expectations[0];
    expect(one.status).toBe('pending');
    expect(one.results).toHaveLength(1);
    expect(one.results[0].userId).toBe(al.principals['a-responder']!.userId);
    await advance(62);
    const done = (await call('a-responder', 'GET', `/exercises/${ex2}/expectations`)).json().expectations[0];
    expect(done.status).toBe('partial');
    expect(done.score).toBe(50);
    const board = (await call('c-excon', 'GET', `/exercises/${ex2}/scoreboard`)).json();
    expect(board.teams[0]).toMatchObject({ teamId: 'team-a', score: 50, max: 100, partial: 1 });
  });
});
