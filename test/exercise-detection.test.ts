/**
 * DETECTION expectations are met by an alert raised after their inject fired (docs/exercises.md
 * "Scoring"), also when they name the rule or indicator (`match.ruleRef`) and the alert is found
 * by the periodic scan of the exercise's alerts (a detection worker in another process): an
 * alert an earlier inject raised does not answer a later one. Control grades within the
 * expectation's score: a team never scores more than the expectations allow. The exercise picture
 * filters by team as asked, and an unknown parameter is refused rather than ignored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addExcon, expectError, http, indicator, makeAlliance, submitAs, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let id = '';
let launchedAt = 0;
const tokens: Record<string, string> = {};
const C2 = '203.0.113.77';
const RULE = 'Drill C2';

const call = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) => h.call(method, `/api/v1${url}`, { token: tokens[user]!, ...(body !== undefined ? { body } : {}) });
/** Moves the manual clock, lets the scheduler and detection catch up, then runs the periodic alert scan. */
async function advance(ms: number) {
  al.clock.advance(ms);
  await al.platform.exercise.tick();
  await al.platform.detect.drain();
  await al.platform.exercise.idle();
  await al.platform.exercise.scanAlerts();
}
/** Advances to T+`seconds` on the exercise clock (60×), then half a real second more for detection. */
async function until(seconds: number) {
  await advance(Math.max(0, launchedAt + (seconds * 1000) / 60 - al.clock.now()));
  await advance(500);
}
const expectation = async (injectId: string) =>
  (await call('a-analyst', 'GET', `/exercises/${id}/expectations`)).json().expectations.find((e: { injectId: string }) => e.injectId === injectId);

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  Object.assign(tokens, al.tokens);
  tokens['c-excon'] = await addExcon(al);
  await submitAs(al, 'a-analyst', al.privateA, { objects: [indicator(RULE, { pattern: `[ipv4-addr:value = '${C2}']` })], defaultTlp: 'amber' });
  await al.platform.detect.refreshDirectory();
  await al.platform.detect.feed.sync();
  al.platform.exercise.start();
  const detection = (name: string) => ({ name, type: 'DETECTION', expectedScore: 100, expirySeconds: 600, validation: 'any', match: { ruleRef: RULE } });
  const sc = await call('c-excon', 'POST', '/exercises/scenarios', {
    name: 'Detection drill', storyline: 'the same C2, three times', category: 'attack-scenario',
    teams: [{ id: 'team-a', name: 'Alpha', orgs: [al.orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [al.orgs.B] }],
    injects: [
      { id: 'beacon', title: 'C2 beacon', offsetSeconds: 60, type: 'technical', teams: [], payload: { technique: 'T1071.001', network: [{ destIp: C2, destPort: 443 }] }, expectations: [detection('Detection')] },
      // Traffic the team's indicator does not cover: the C2 alert of the first beacon must not answer it.
      { id: 'elsewhere', title: 'Beacon to a new address', offsetSeconds: 300, type: 'technical', teams: [], payload: { technique: 'T1071.001', network: [{ destIp: '198.51.100.250', destPort: 443 }] }, expectations: [detection('Detection')] },
      { id: 'again', title: 'C2 beacon again', offsetSeconds: 1500, type: 'technical', teams: [], payload: { technique: 'T1071.001', network: [{ destIp: C2, destPort: 443 }] }, expectations: [detection('Detection')] },
    ],
  });
  expect(sc.status, sc.body).toBe(201);
  const run = await call('c-excon', 'POST', '/exercises', { scenarioId: sc.json().id, speed: 60 });
  id = run.json().id;
  expect((await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'launch' })).status).toBe(200);
  launchedAt = al.clock.now();
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

describe('DETECTION with match.ruleRef', () => {
  it('the first beacon is detected by the named indicator', async () => {
    await until(60);
    expect(await expectation('beacon')).toMatchObject({ status: 'success', score: 100 });
  });

  it('a later inject the indicator does not catch is not met by the earlier alert: pending, then failed at expiry', async () => {
    await until(300);
    expect((await call('c-excon', 'GET', `/exercises/${id}/injects`)).json().injects.find((i: { injectId: string }) => i.injectId === 'elsewhere').state).toBe('fired');
    const pending = await expectation('elsewhere');
    expect(pending, JSON.stringify(pending)).toMatchObject({ status: 'pending', score: null, results: [] });
    await until(930); // past T+300 + 600 s
    expect(await expectation('elsewhere')).toMatchObject({ status: 'failed', score: 0 });
  });

  it('the C2 seen again after a later inject fired meets that inject', async () => {
    await until(1500);
    expect(await expectation('again')).toMatchObject({ status: 'success', score: 100 });
  });
});

describe('grading', () => {
  it('control grades between 0 and the expected score: above it is a 400 and the scoreboard keeps its figures', async () => {
    const before = (await call('c-excon', 'GET', `/exercises/${id}/scoreboard`)).json().teams.find((t: { teamId: string }) => t.teamId === 'team-a');
    const g = await call('c-excon', 'POST', `/exercises/${id}/expectations/grade`, { injectId: 'elsewhere', teamId: 'team-a', name: 'Detection', score: 1000 });
    expectError(g, 400, 'BAD_REQUEST');
    const after = (await call('c-excon', 'GET', `/exercises/${id}/scoreboard`)).json().teams.find((t: { teamId: string }) => t.teamId === 'team-a');
    expect(after).toEqual(before);
    expect(after.score).toBeLessThanOrEqual(after.max);
    const ok = await call('c-excon', 'POST', `/exercises/${id}/expectations/grade`, { injectId: 'elsewhere', teamId: 'team-a', name: 'Detection', score: 100, comment: 'found by hunting' });
    expect(ok.status, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'success', score: 100 });
  });
});

describe('the exercise picture by team', () => {
  it('answers the team asked for only; an unknown parameter is a 400', async () => {
    const alerts = async (q: string) => (await call('c-excon', 'GET', `/exercises/${id}/alerts${q}`)).json().alerts as { orgId: string }[];
    const all = await alerts('');
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((a) => a.orgId === al.orgs.A)).toBe(true); // Bravo holds no indicator for the C2
    expect(await alerts('?team=team-a')).toHaveLength(all.length);
    expect(await alerts('?team=team-b')).toEqual([]);
    for (const path of ['alerts?tem=team-b', 'inbox?teams=team-b', 'expectations?tean=team-b']) {
      expectError(await call('c-excon', 'GET', `/exercises/${id}/${path}`), 400, 'INVALID_FILTER');
    }
  });
});
