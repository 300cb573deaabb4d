/**
 * Respond records of an exercise and of real operations stay in their own worlds (DESIGN §2.3,
 * docs/exercises.md "Isolation"): the similar incidents of an exercise incident are incidents of
 * that exercise, never real ones; those of a real incident never an exercise's. A decision in an
 * exercise is taken by members that play in it: one that does not could never take its position
 * (the exercise answers it 404), so a consensus round could never pass; nor is an exercise incident
 * transferred to such a member, which could not even read it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { BusEvent } from '../src/core/index.js';
import { addExcon, http, makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let id = '';
const tokens: Record<string, string> = {};
const C2 = 'c2.worlds.example';

const call = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
  h.call(method, `/api/v1${url}`, { token: tokens[user]!, ...(body !== undefined ? { body } : {}) });

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  Object.assign(tokens, al.tokens);
  tokens['c-excon'] = await addExcon(al);
  for (const org of ['A', 'B', 'C'] as const) {
    const rep = await al.platform.access.createUser(SYSTEM_ACTOR, { orgId: al.orgs[org], username: `${org.toLowerCase()}-rep`, password: 'correct horse battery staple', roles: ['representative'] });
    tokens[`${org.toLowerCase()}-rep`] = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs[org], userId: rep.id, kind: 'api', name: 't' })).token;
  }
  al.platform.exercise.start();
  const sc = await call('c-excon', 'POST', '/exercises/scenarios', {
    name: 'Worlds drill', teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [al.orgs.B] }],
    injects: [{ id: 'declare', title: 'Declare an incident', offsetSeconds: 10, type: 'prompt', teams: [], payload: { action: 'declare-incident', text: 'Declare it' }, expectations: [] }],
  });
  id = (await call('c-excon', 'POST', '/exercises', { scenarioId: sc.json().id, speed: 1 })).json().id;
  expect((await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'launch' })).status).toBe(200);
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

describe('similar incidents', () => {
  it('of an exercise incident are of that exercise only, of a real one real only', async () => {
    const declare = async (title: string, exerciseId?: string) => {
      const r = await call('a-responder', 'POST', '/incidents', { title, severity: 2, ...(exerciseId ? { exerciseId } : {}) });
      expect(r.status, r.body).toBe(201);
      const o = await call('a-responder', 'POST', `/incidents/${r.json().id}/observables`, { type: 'domain-name', value: C2 });
      expect(o.status, o.body).toBe(200);
      return r.json().id as string;
    };
    const real1 = await declare('Real beacon to the C2');
    const real2 = await declare('Real beacon again');
    const drill1 = await declare('Drill beacon to the C2', id);
    const drill2 = await declare('Drill beacon again', id);
    const similar = async (incident: string) => (await call('a-responder', 'GET', `/incidents/${incident}/similar`)).json().items.map((i: { id: string }) => i.id);
    expect(await similar(drill1)).toEqual([drill2]);
    expect(await similar(real1)).toEqual([real2]);
  });
});

describe('decisions in an exercise', () => {
  const propose = (participants: string[]) => call('a-rep', 'POST', '/decisions', {
    title: 'Joint response', text: 'Block the C2.', kind: 'collective-response', procedure: 'consensus', participants,
    deadline: new Date(al.clock.now() + 3600_000).toISOString(), exerciseId: id,
  });

  it('name only members that play in it: another member is a 400 naming it, and nothing is written', async () => {
    // C controls the exercise: its representative takes no part in the play.
    const r = await propose([al.orgs.B, al.orgs.C]);
    expect(r.status, r.body).toBe(400);
    expect(r.json().error.code).toBe('BAD_REQUEST');
    expect(r.json().error.message).toContain(al.orgs.C);
    expect((await call('a-rep', 'GET', `/decisions?exercise=${id}`)).json().items).toEqual([]);
  });

  it('among the players, a consensus round passes when every one concurs', async () => {
    const d = (await propose([al.orgs.B])).json();
    expect(d.participants.sort()).toEqual([al.orgs.A, al.orgs.B].sort());
    await call('a-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' });
    expect((await call('b-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'concur' })).json().state).toBe('adopted');
  });
});

describe('an exercise incident changing hands', () => {
  it('goes only to a member that plays in the exercise: to another it is a 400 and the owner keeps it', async () => {
    const inc = (await call('a-responder', 'POST', '/incidents', { title: 'Drill incident', severity: 2, exerciseId: id })).json();
    const away = await call('a-responder', 'POST', `/incidents/${inc.id}/transfer`, { orgId: al.orgs.C });
    expect(away.status, away.body).toBe(400);
    expect(away.json().error.code).toBe('BAD_REQUEST');
    const still = await call('a-responder', 'GET', `/incidents/${inc.id}`);
    expect(still.json()).toMatchObject({ ownerOrg: al.orgs.A, isOwner: true });
    expect((await call('a-responder', 'POST', `/incidents/${inc.id}/transfer`, { orgId: al.orgs.B })).json().ownerOrg).toBe(al.orgs.B);
  });
});

describe('intel shared in the exercise', () => {
  it('reaches every team of the exercise, as the live event announcing it does', async () => {
    const events: BusEvent[] = [];
    const off = al.platform.bus.subscribe((e) => { if (e.exerciseId === id) events.push(e); });
    const bundle = { type: 'bundle', id: 'bundle--7d0c3f2e-1111-4aaa-8bbb-000000000001', objects: [{
      type: 'indicator', spec_version: '2.1', id: 'indicator--7d0c3f2e-1111-4aaa-8bbb-000000000002', name: 'Drill C2 shared by Alpha',
      pattern: "[domain-name:value = 'c2.worlds.example']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z',
    }] };
    const shared = await call('a-analyst', 'POST', `/exercises/${id}/intel`, { teamId: 'team-a', bundle });
    expect(shared.status, shared.body).toBe(201);
    off();
    // The announcement goes to Bravo's organisation too …
    expect(events.find((e) => e.type === 'exercise.intel.created')?.facts.recipients).toContain(al.orgs.B);
    // … and Bravo reads what it announces.
    for (const user of ['a-analyst', 'b-analyst', 'c-excon']) {
      const r = await call(user, 'GET', `/exercises/${id}/intel`);
      expect(r.body, user).toContain('Drill C2 shared by Alpha');
    }
    // Outside the exercise nobody does.
    expect((await call('c-analyst', 'GET', `/exercises/${id}/intel`)).status).toBe(404);
  });
});
