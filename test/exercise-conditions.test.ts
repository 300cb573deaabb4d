/**
 * Conditional injects are decided for every team (docs/exercises.md "Conditional injects"): a
 * child fires or is blocked, with its reason, once its parents can tell. A parent that was itself
 * blocked will never have an expectation result, and a parent aimed at other teams never executes
 * for this one: children waiting on them were left pending for ever, with the scheduler waking
 * every 100 ms for an inject that could never be decided.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addExcon, http, makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let id = '';
let token = '';

const mail = (subject: string) => ({ channel: 'email', from: 'EXCON', subject, body: 'x' });
async function advance(ms: number) {
  al.clock.advance(ms);
  await al.platform.exercise.tick();
  await al.platform.exercise.idle();
}

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  token = await addExcon(al);
  al.platform.exercise.start();
  const sc = await h.call('POST', '/api/v1/exercises/scenarios', { token, body: {
    name: 'Conditions drill', teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [al.orgs.B] }],
    injects: [
      { id: 'p1', title: 'Brief', offsetSeconds: 60, type: 'communication', teams: [], payload: mail('brief'), expectations: [] },
      // Only if the brief did not go out: blocked for both teams.
      { id: 'p2', title: 'Fallback brief', offsetSeconds: 120, type: 'prompt', teams: [], payload: { action: 'publish-sitrep', text: 'x' },
        dependsOn: [{ parent: 'p1', mode: 'and', conditions: [{ key: 'Execution', value: false }] }],
        expectations: [{ name: 'Report', type: 'REPORT', expirySeconds: 60 }] },
      // On the fallback's report: its parent was blocked, so there will never be one.
      { id: 'p3', title: 'Follow-up on the report', offsetSeconds: 180, type: 'communication', teams: [], payload: mail('follow-up'),
        dependsOn: [{ parent: 'p2', mode: 'and', conditions: [{ key: 'Report', value: true }] }], expectations: [] },
      { id: 'p4', title: 'Alpha only', offsetSeconds: 60, type: 'communication', teams: ['team-a'], payload: mail('alpha'), expectations: [] },
      // After Alpha's own inject: Bravo never gets p4.
      { id: 'p5', title: 'After Alpha', offsetSeconds: 120, type: 'communication', teams: [], payload: mail('after alpha'),
        dependsOn: [{ parent: 'p4', mode: 'and', conditions: [{ key: 'Execution', value: true }] }], expectations: [] },
    ],
  } });
  expect(sc.status, sc.body).toBe(201);
  id = (await h.call('POST', '/api/v1/exercises', { token, body: { scenarioId: sc.json().id, speed: 60 } })).json().id;
  expect((await h.call('POST', `/api/v1/exercises/${id}/control`, { token, body: { action: 'launch' } })).status).toBe(200);
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

describe('conditional injects', () => {
  it('are decided for every team: a blocked parent blocks children on its expectations, a parent the team never gets blocks too', async () => {
    for (let i = 0; i < 5; i++) await advance(1000); // T+300
    const all = (await h.call('GET', `/api/v1/exercises/${id}/injects`, { token })).json().injects as { injectId: string; teamId: string; state: string; reason?: string }[];
    const state = (inject: string, team: string) => all.find((e) => e.injectId === inject && e.teamId === team);
    for (const team of ['team-a', 'team-b']) {
      expect(state('p2', team)?.state).toBe('blocked');
      expect(state('p3', team), JSON.stringify(state('p3', team))).toMatchObject({ state: 'blocked' });
      expect(state('p3', team)?.reason).toContain('p2');
    }
    expect(state('p5', 'team-a')?.state).toBe('fired');
    expect(state('p5', 'team-b'), JSON.stringify(state('p5', 'team-b'))).toMatchObject({ state: 'blocked' });
    expect(state('p5', 'team-b')?.reason).toContain('p4');
    // Nothing is left for the scheduler to wake up for.
    const view = (await h.call('GET', `/api/v1/exercises/${id}`, { token })).json();
    expect(view.nextInjectAt).toBeNull();
  });
});
