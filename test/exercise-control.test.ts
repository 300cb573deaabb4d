/**
 * The run's life cycle (docs/exercises.md "Model"): scheduled → running ⇄ paused → finished |
 * cancelled. A scheduled exercise that never ran is cancelled, not finished (a finished one has
 * an after-action report of play that never happened); once ended, its clock no longer moves:
 * a speed change is a 409 that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addExcon, expectError, http, makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let scenarioId = '';
const tokens: Record<string, string> = {};
const control = (id: string, body: Record<string, unknown>) => h.call('POST', `/api/v1/exercises/${id}/control`, { token: tokens['c-excon']!, body });
const newRun = async () => (await h.call('POST', '/api/v1/exercises', { token: tokens['c-excon']!, body: { scenarioId, speed: 10 } })).json().id as string;

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  tokens['c-excon'] = await addExcon(al);
  const sc = await h.call('POST', '/api/v1/exercises/scenarios', { token: tokens['c-excon']!, body: {
    name: 'Life cycle', teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }],
    injects: [
      { id: 'm', title: 'Mail', offsetSeconds: 600, type: 'communication', teams: [], payload: { channel: 'email', from: 'x', subject: 's', body: 'b' }, expectations: [] },
      { id: 'r', title: 'Report now', offsetSeconds: 0, type: 'prompt', teams: [], payload: { action: 'publish-sitrep', text: 'x' }, expectations: [{ name: 'Report', type: 'REPORT', expirySeconds: 36_000 }] },
    ],
  } });
  scenarioId = sc.json().id;
});
afterAll(async () => al.close());

describe('exercise control', () => {
  it('ending an exercise settles what was still expected: the report shows it missed at the end, never pending', async () => {
    al.platform.exercise.start();
    try {
      const id = await newRun();
      expect((await control(id, { action: 'launch' })).status).toBe(200);
      al.clock.advance(2000);
      await al.platform.exercise.tick();
      await al.platform.exercise.idle();
      al.clock.advance(3000);
      const ended = (await control(id, { action: 'finish' })).json();
      const report = (await h.call('GET', `/api/v1/exercises/${id}/report`, { token: tokens['c-excon']! })).json();
      const team = report.teams[0];
      expect(team.expectations).toMatchObject({ pending: 0, missed: 1 });
      expect(team.expectations.items[0]).toMatchObject({ name: 'Report', status: 'failed', score: 0 });
      // Missed when play ended, not at its expiry ten hours later (the report's timeline places it there).
      expect(team.expectations.items[0].expiresAt).toBe(ended.endedAt);
    } finally {
      al.platform.exercise.stop();
    }
  });

  it('a scheduled exercise is cancelled, not finished', async () => {
    const id = await newRun();
    expectError(await control(id, { action: 'finish' }), 409, 'CONFLICT');
    const r = await control(id, { action: 'cancel' });
    expect(r.status, r.body).toBe(200);
    expect(r.json().status).toBe('cancelled');
  });

  it('an ended exercise keeps its clock and speed', async () => {
    for (const end of ['finish', 'cancel']) {
      const id = await newRun();
      expect((await control(id, { action: 'launch' })).status).toBe(200);
      al.clock.advance(5000);
      const ended = (await control(id, { action: end })).json();
      expect(ended.status).toBe(end === 'finish' ? 'finished' : 'cancelled');
      expectError(await control(id, { action: 'speed', speed: 100 }), 409, 'CONFLICT');
      const after = (await h.call('GET', `/api/v1/exercises/${id}`, { token: tokens['c-excon']! })).json().run;
      expect(after).toMatchObject({ speed: 10, clock: ended.clock, status: ended.status });
    }
  });
});
