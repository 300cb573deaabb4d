/**
 * A player reads the exercise script only as the run delivers it to its team (docs/exercises.md
 * "Who may do what"): the run view (GET /exercises/:id), the inject list and the after-action
 * report hold no inject that has not reached the player's team yet, no other team's inject, no
 * scenario variable, no time of the next inject and no technical payload (the inbox holds technical injects back: what the
 * team must detect is not told). Control and observers keep the whole script.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { http, makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let id = '';
const tokens: Record<string, string> = {};
const C2 = '203.0.113.91';
const SECRET = 'Contingency: the minister leaks the breach';

const call = (user: string, url: string) => h.call('GET', `/api/v1${url}`, { token: tokens[user]! });
async function advance(ms: number) {
  al.clock.advance(ms);
  await al.platform.exercise.tick();
  await al.platform.detect.drain();
  await al.platform.exercise.idle();
}
const injectIds = (run: { scenario: { injects: { id: string }[] } }) => run.scenario.injects.map((i) => i.id).sort();

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  Object.assign(tokens, al.tokens);
  const users: Record<string, string> = {};
  for (const [name, org, roles] of [['c-excon', al.orgs.C, ['excon']], ['c-observer', al.orgs.C, ['analyst']]] as const) {
    const u = await al.platform.access.createUser(SYSTEM_ACTOR, { orgId: org, username: name, password: 'correct horse battery staple', roles: [...roles] });
    users[name] = u.id;
    tokens[name] = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: org, userId: u.id, kind: 'api', name: 't' })).token;
  }
  al.platform.exercise.start();
  const post = (user: string, url: string, body: unknown) => h.call('POST', `/api/v1${url}`, { token: tokens[user]!, body });
  const sc = await post('c-excon', '/exercises/scenarios', {
    name: 'Script drill', storyline: 'what players learn, and when', category: 'attack-scenario',
    teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [al.orgs.B] }],
    variables: [{ key: 'c2', value: C2 }],
    injects: [
      { id: 'brief', title: 'Exercise brief', offsetSeconds: 30, type: 'communication', teams: [], payload: { channel: 'email', from: 'EXCON', subject: 'STARTEX', body: 'Play.' }, expectations: [] },
      { id: 'beacon', title: 'C2 beacon', offsetSeconds: 60, type: 'technical', teams: [], payload: { technique: 'T1071.001', network: [{ destIp: '#{c2}', destPort: 443 }] },
        expectations: [{ name: 'Detection', type: 'DETECTION', expirySeconds: 600 }] },
      { id: 'alpha-only', title: 'Alpha: ask for help', offsetSeconds: 90, type: 'prompt', teams: ['team-a'], payload: { action: 'request-assistance', text: 'Ask for forensics' }, expectations: [] },
      { id: 'leak', title: SECRET, offsetSeconds: 3000, type: 'communication', teams: [], payload: { channel: 'media', from: 'Herald', subject: SECRET, body: 'x' }, expectations: [] },
    ],
  });
  expect(sc.status, sc.body).toBe(201);
  const run = await post('c-excon', '/exercises', { scenarioId: sc.json().id, speed: 60, grants: [{ userId: users['c-observer'], role: 'observer' }] });
  id = run.json().id;
  expect((await post('c-excon', `/exercises/${id}/control`, { action: 'launch' })).status).toBe(200);
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

describe('what a player reads of the script', () => {
  it('before any inject: no inject, no variable, in the run view, the inject list or the report', async () => {
    const v = (await call('b-analyst', `/exercises/${id}`)).json();
    expect(v.access.role).toBe('player');
    // Nor when the next one comes: a technical inject is not announced.
    expect(v.nextInjectAt).toBeNull();
    expect((await call('c-excon', `/exercises/${id}`)).json().nextInjectAt).toBeGreaterThan(al.clock.now());
    expect(v.run.scenario.injects).toEqual([]);
    expect(v.run.scenario.variables).toEqual([]);
    // The exercise's frame stays: its name, storyline, objectives and teams.
    expect(v.run.scenario).toMatchObject({ name: 'Script drill', storyline: 'what players learn, and when' });
    expect(v.run.scenario.teams.map((t: { id: string }) => t.id)).toEqual(['team-a', 'team-b']);
    expect((await call('b-analyst', `/exercises/${id}/injects`)).json().injects).toEqual([]);
    const report = await call('b-analyst', `/exercises/${id}/report`);
    expect(report.json().teams[0].injects).toEqual([]);
    for (const r of [JSON.stringify(v), report.body]) {
      expect(r).not.toContain(SECRET);
      expect(r).not.toContain(C2);
    }
  });

  it('as injects reach the team: those delivered to it, a technical one without its payload; never another team\'s', async () => {
    await advance(1000); // T+60: brief, beacon
    await advance(1000); // T+120: alpha-only (team A)
    const b = (await call('b-analyst', `/exercises/${id}`)).json().run;
    expect(injectIds(b)).toEqual(['beacon', 'brief']);
    expect(b.scenario.injects.find((i: { id: string }) => i.id === 'beacon').payload).toEqual({ kind: 'technical' });
    expect((await call('b-analyst', `/exercises/${id}/injects`)).json().injects.map((e: { injectId: string }) => e.injectId).sort()).toEqual(['beacon', 'brief']);
    expect(injectIds((await call('a-analyst', `/exercises/${id}`)).json().run)).toEqual(['alpha-only', 'beacon', 'brief']);
    const body = (await call('b-analyst', `/exercises/${id}/report`)).body + (await call('b-analyst', `/exercises/${id}`)).body;
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain(C2);
    expect(body).not.toContain('Alpha: ask for help');
  });

  it('control and observers read the whole script', async () => {
    for (const who of ['c-excon', 'c-observer']) {
      const run = (await call(who, `/exercises/${id}`)).json().run;
      expect(injectIds(run)).toEqual(['alpha-only', 'beacon', 'brief', 'leak']);
      expect(run.scenario.variables).toEqual([{ key: 'c2', value: C2 }]);
      expect((await call(who, `/exercises/${id}/injects`)).json().injects.some((e: { injectId: string; state: string }) => e.injectId === 'leak' && e.state === 'pending')).toBe(true);
    }
  });
});
