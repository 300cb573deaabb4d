/**
 * Exercises through the REST API on a manual clock: scenario import (and its 4xx), control
 * actions and who may take them, a technical inject going through the real ingest pipeline
 * (team A's indicator catches it: DETECTION success with a time to detect; team B has no such
 * indicator and fails at expiry), a conditional inject firing only for the team whose parent
 * expectation failed, grading of a situation report, scoreboard and after-action report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { BusEvent } from '../src/core/index.js';
import { expectError, http, indicator, makeAlliance, submitAs, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const tokens: Record<string, string> = {};
const events: BusEvent[] = [];
const C2 = '203.0.113.66';

export function scenarioFor(orgs: { A: string; B: string }) {
  return {
    name: 'Cyber Coalition test', storyline: 'A campaign against two members.', category: 'attack-scenario',
    objectives: [{ id: 'obj-detect', title: 'Detect the intrusion', priority: 'high' }, { id: 'obj-report', title: 'Report the situation', priority: 'medium' }],
    teams: [{ id: 'team-a', name: 'Alpha', orgs: [orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [orgs.B] }],
    variables: [{ key: 'c2', value: C2 }],
    injects: [
      { id: 'brief', title: 'Exercise brief', offsetSeconds: 30, type: 'communication', teams: [], payload: { channel: 'email', from: 'EXCON', subject: 'Start', body: 'STARTEX' }, expectations: [] },
      {
        id: 'beacon', title: 'C2 beacon from a workstation', offsetSeconds: 120, type: 'technical', teams: [],
        payload: { technique: 'T1071.001', network: [{ destIp: C2, destPort: 443 }] },
        expectations: [{ name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 600, validation: 'any', objectives: ['obj-detect'] }],
      },
      {
        id: 'contingency', title: 'Contingency: a partner tips you off', offsetSeconds: 900, type: 'communication', teams: [],
        dependsOn: [{ parent: 'beacon', mode: 'and', conditions: [{ key: 'Detection', value: false }] }],
        payload: { channel: 'phone', from: 'Partner CERT', subject: 'Tip-off', body: `We see beacons to ${C2}` }, expectations: [],
      },
      {
        id: 'sitrep', title: 'Send a situation report', offsetSeconds: 1000, type: 'prompt', teams: ['team-a'],
        payload: { action: 'publish-sitrep', text: 'Publish a sitrep' },
        expectations: [{ name: 'Sitrep', type: 'REPORT', expectedScore: 100, expirySeconds: 3600, validation: 'any', objectives: ['obj-report'] }],
      },
    ],
  };
}

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  const { access } = al.platform;
  for (const [name, org, roles] of [['c-excon', al.orgs.C, ['excon']], ['b-responder', al.orgs.B, ['responder']], ['c-observer', al.orgs.C, ['analyst']]] as const) {
    const u = await access.createUser(SYSTEM_ACTOR, { orgId: org, username: name, password: 'correct horse battery staple', roles: [...roles] });
    tokens[name] = (await access.createToken(SYSTEM_ACTOR, { orgId: org, userId: u.id, kind: 'api', name: 't' })).token;
  }
  Object.assign(tokens, al.tokens);
  // A's indicator for the C2 address, released to A only; B has none.
  await submitAs(al, 'a-analyst', al.privateA, { objects: [indicator('Exercise C2', { pattern: `[ipv4-addr:value = '${C2}']` })], defaultTlp: 'amber' });
  await al.platform.detect.refreshDirectory();
  await al.platform.detect.feed.sync();
  al.platform.exercise.start();
  al.platform.bus.subscribe((e) => events.push(e));
});
afterAll(async () => { al.platform.exercise.stop(); await al.close(); });

const call = (user: string, method: 'GET' | 'POST', url: string, body?: unknown) => h.call(method, `/api/v1${url}`, { token: tokens[user]!, ...(body !== undefined ? { body } : {}) });
const put = async (user: string, url: string, body: unknown) => {
  const r = await al.app.inject({ method: 'PUT', url: `/api/v1${url}`, headers: { authorization: `Bearer ${tokens[user]}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: r.statusCode, json: () => JSON.parse(r.body), body: r.body, headers: r.headers };
};
const del = async (user: string, url: string) => {
  const r = await al.app.inject({ method: 'DELETE', url: `/api/v1${url}`, headers: { authorization: `Bearer ${tokens[user]}` } });
  return { status: r.statusCode, json: () => JSON.parse(r.body), body: r.body, headers: r.headers };
};
/** Moves the manual clock and lets the scheduler and detection catch up. */
async function advance(ms: number) {
  al.clock.advance(ms);
  await al.platform.exercise.tick();
  await al.platform.detect.drain();
  await al.platform.exercise.idle();
}

describe('scenario import', () => {
  it('refuses bad scenario JSON with 400 naming every problem', async () => {
    const bad = await call('c-excon', 'POST', '/exercises/scenarios', { name: '', teams: [], injects: [{ id: 'x', type: 'nope' }] });
    expectError(bad, 400, 'BAD_REQUEST');
    const errors = bad.json().error.details.errors as string[];
    expect(errors.some((e) => e.startsWith('$.name'))).toBe(true);
    expect(errors.some((e) => e.startsWith('$.injects[0].type'))).toBe(true);
    const sc = scenarioFor(al.orgs);
    const dangling = { ...sc, injects: [...sc.injects, { ...sc.injects[2]!, id: 'x2', dependsOn: [{ parent: 'ghost', mode: 'and', conditions: [{ key: 'Execution', value: true }] }] }] };
    expect((await call('c-excon', 'POST', '/exercises/scenarios', dangling)).json().error.details.errors.join()).toContain('unknown inject ghost');
    expectError(await h.call('POST', '/api/v1/exercises/scenarios', { token: tokens['c-excon']!, raw: '{"name":', contentType: 'application/json' }), 400, 'MALFORMED_JSON');
  });

  it('a player may not write scenarios (403) and imports round-trip through the export', async () => {
    expectError(await call('a-analyst', 'POST', '/exercises/scenarios', scenarioFor(al.orgs)), 403, 'FORBIDDEN');
    const created = await call('c-excon', 'POST', '/exercises/scenarios', scenarioFor(al.orgs));
    expect(created.status, created.body).toBe(201);
    const exp = await call('c-excon', 'GET', `/exercises/scenarios/${created.json().id}/export`);
    expect(exp.json().format).toBe('shieldwall-scenario');
    const again = await call('c-excon', 'POST', '/exercises/scenarios', exp.json());
    expect(again.status).toBe(201);
    expect(again.json().scenario).toEqual(created.json().scenario);
    // Another organisation's excon does not see C's scenarios.
    expectError(await call('a-admin', 'GET', `/exercises/scenarios/${created.json().id}`), 404, 'NOT_FOUND');
  });
});

describe('a run', () => {
  let id = '';
  it('is created, launched at 60×, and players cannot control it', async () => {
    const sc = (await call('c-excon', 'POST', '/exercises/scenarios', scenarioFor(al.orgs))).json();
    const observer = (await al.platform.store.listUsers(al.orgs.C)).find((u) => u.username === 'c-observer')!;
    const run = await call('c-excon', 'POST', '/exercises', { scenarioId: sc.id, speed: 60, grants: [{ userId: observer.id, role: 'observer' }] });
    expect(run.status, run.body).toBe(201);
    id = run.json().id;
    expectError(await call('a-analyst', 'POST', `/exercises/${id}/control`, { action: 'launch' }), 403, 'FORBIDDEN');
    expectError(await call('a-admin', 'POST', `/exercises/${id}/control`, { action: 'launch' }), 403, 'FORBIDDEN');
    expectError(await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'explode' }), 400, 'BAD_REQUEST');
    expectError(await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'speed', speed: -1 }), 400, 'BAD_REQUEST');
    expectError(await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'pause' }), 409, 'CONFLICT');
    // An organisation with no part in it: 404, as if it did not exist.
    expect((await call('b-analyst', 'GET', `/exercises/${id}`)).status).toBe(200);
    const launched = await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'launch' });
    expect(launched.status, launched.body).toBe(200);
    expect(launched.json()).toMatchObject({ status: 'running', speed: 60 });
    // The observer reads everything and controls nothing.
    expect((await call('c-observer', 'GET', `/exercises/${id}/injects`)).json().injects.length).toBe(7);
    expectError(await call('c-observer', 'POST', `/exercises/${id}/control`, { action: 'pause' }), 403, 'FORBIDDEN');
    expectError(await call('c-observer', 'POST', `/exercises/${id}/expectations/grade`, { injectId: 'sitrep', teamId: 'team-a', name: 'Sitrep', score: 100 }), 403, 'FORBIDDEN');
    // Nor does it write the after-action report: lessons are control's and the players' (docs/exercises.md).
    expectError(await call('c-observer', 'POST', `/exercises/${id}/lessons`, { questionId: 'observations', teamId: 'team-a', positive: 'written by an observer', negative: '', score: 50 }), 403, 'FORBIDDEN');
    expect((await call('c-excon', 'GET', `/exercises/${id}/report`)).body).not.toContain('written by an observer');
  });

  it('a pause moves pending injects by its length', async () => {
    const before = (await call('c-excon', 'GET', `/exercises/${id}/injects`)).json().injects.find((i: { injectId: string }) => i.injectId === 'beacon').scheduledAt;
    expect(before).toBe(al.clock.now() + 120_000 / 60); // start + T/speed
    await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'pause' });
    al.clock.advance(5000);
    expect((await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'resume' })).json().status).toBe('running');
    const after = (await call('c-excon', 'GET', `/exercises/${id}/injects`)).json().injects.find((i: { injectId: string }) => i.injectId === 'beacon').scheduledAt;
    expect(after - before).toBe(5000);
  });

  it('a technical inject raises an alert for team A (DETECTION success with its time to detect); B fails at expiry', async () => {
    await advance(1000); // T+60 s … the brief at T+30 fired
    expect((await call('a-analyst', 'GET', `/exercises/${id}/inbox`)).json().items.map((i: { injectId: string }) => i.injectId)).toEqual(['brief']);
    await advance(1000); // T+120 s: the beacon fires for both teams
    await advance(500);
    const alertsA = (await call('a-analyst', 'GET', `/exercises/${id}/alerts`)).json().alerts;
    expect(alertsA.length).toBe(1);
    expect(alertsA[0]).toMatchObject({ orgId: al.orgs.A, source: 'indicator', exerciseId: id });
    expect((await call('b-analyst', 'GET', `/exercises/${id}/alerts`)).json().alerts).toEqual([]);
    // The real picture never shows it.
    expect((await call('a-analyst', 'GET', '/alerts')).json().alerts).toEqual([]);
    const expA = (await call('a-analyst', 'GET', `/exercises/${id}/expectations`)).json().expectations;
    expect(expA).toHaveLength(1);
    expect(expA[0]).toMatchObject({ teamId: 'team-a', name: 'Detection', status: 'success', score: 100 });
    expect(expA[0].timeToValidateSeconds).toBeGreaterThanOrEqual(0);
    expect(expA[0].timeToValidateSeconds).toBeLessThanOrEqual(60);
    // A player sees only the own team.
    expect(expA.every((e: { teamId: string }) => e.teamId === 'team-a')).toBe(true);
    const expB = (await call('b-analyst', 'GET', `/exercises/${id}/expectations`)).json().expectations;
    expect(expB[0]).toMatchObject({ teamId: 'team-b', status: 'pending' });
    await advance(10_500); // past T+120 + 600 s
    expect((await call('b-analyst', 'GET', `/exercises/${id}/expectations`)).json().expectations[0]).toMatchObject({ status: 'failed', score: 0 });
    expect(events.some((e) => e.type === 'exercise.expectation.updated' && e.exerciseId === id && e.data.teamId === 'team-b' && e.data.status === 'failed')).toBe(true);
  });

  it('the conditional inject fires only for the team whose parent expectation failed, and says why it is blocked for the other', async () => {
    await advance(3000); // past T+900
    const inj = (await call('c-excon', 'GET', `/exercises/${id}/injects`)).json().injects.filter((i: { injectId: string }) => i.injectId === 'contingency');
    const a = inj.find((i: { teamId: string }) => i.teamId === 'team-a');
    const b = inj.find((i: { teamId: string }) => i.teamId === 'team-b');
    expect(b.state).toBe('fired');
    expect(a.state).toBe('blocked');
    expect(a.reason).toContain('Detection met');
    expect((await call('b-analyst', 'GET', `/exercises/${id}/inbox`)).json().items.map((i: { injectId: string }) => i.injectId)).toContain('contingency');
    expect((await call('a-analyst', 'GET', `/exercises/${id}/inbox`)).json().items.map((i: { injectId: string }) => i.injectId)).not.toContain('contingency');
  });

  it('a player writes a situation report, control grades it; scoreboard and report show the figures', async () => {
    await advance(2000); // T+1000: the sitrep prompt for team A
    expectError(await call('b-analyst', 'POST', `/exercises/${id}/sitreps`, { teamId: 'team-a', title: 'x', body: 'y' }), 403, 'FORBIDDEN');
    const rep = await call('a-analyst', 'POST', `/exercises/${id}/sitreps`, { teamId: 'team-a', injectId: 'sitrep', title: 'SITREP 1', body: 'Beacon contained.' });
    expect(rep.status, rep.body).toBe(201);
    expectError(await call('a-analyst', 'POST', `/exercises/${id}/expectations/grade`, { injectId: 'sitrep', teamId: 'team-a', name: 'Sitrep', score: 80 }), 403, 'FORBIDDEN');
    const g = await call('c-excon', 'POST', `/exercises/${id}/expectations/grade`, { injectId: 'sitrep', teamId: 'team-a', name: 'Sitrep', score: 80 });
    expect(g.json()).toMatchObject({ status: 'partial', score: 80 });
    const board = (await call('c-excon', 'GET', `/exercises/${id}/scoreboard`)).json();
    expect(board.teams).toEqual(expect.arrayContaining([
      expect.objectContaining({ teamId: 'team-a', score: 180, max: 200, success: 1, partial: 1 }),
      expect.objectContaining({ teamId: 'team-b', score: 0, max: 100, failed: 1 }),
    ]));
    expect((await call('c-excon', 'POST', `/exercises/${id}/evaluations`, { objectiveId: 'obj-detect', teamId: 'team-a', score: 85 })).status).toBe(201);
    expectError(await call('c-excon', 'POST', `/exercises/${id}/evaluations`, { objectiveId: 'obj-detect', score: 83 }), 400, 'BAD_REQUEST');
    await call('c-excon', 'POST', `/exercises/${id}/control`, { action: 'finish' });
    const report = (await call('c-excon', 'GET', `/exercises/${id}/report`)).json();
    const ta = report.teams.find((t: { teamId: string }) => t.teamId === 'team-a');
    const tb = report.teams.find((t: { teamId: string }) => t.teamId === 'team-b');
    expect(ta.injects.find((i: { injectId: string }) => i.injectId === 'beacon').timeToDetectSeconds).not.toBeNull();
    expect(tb.injects.find((i: { injectId: string }) => i.injectId === 'beacon').timeToDetectSeconds).toBeNull();
    expect(ta.expectations).toMatchObject({ met: 1, partial: 1, missed: 0 });
    expect(tb.expectations).toMatchObject({ met: 0, missed: 1 });
    expect(ta.objectives.find((o: { objectiveId: string }) => o.objectiveId === 'obj-detect')).toMatchObject({ score: 100, max: 100, evaluation: 85 });
    expect(ta.timeline.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(['inject.fired', 'alert', 'sitrep', 'expectation.detection']));
    // A player's report holds the own team only.
    expect((await call('b-analyst', 'GET', `/exercises/${id}/report`)).json().teams.map((t: { teamId: string }) => t.teamId)).toEqual(['team-b']);
  });

  it('archive makes it read-only; purge removes every row of it', async () => {
    expect((await call('c-excon', 'POST', `/exercises/${id}/archive`)).json().archived).toBe(true);
    expectError(await call('c-excon', 'POST', `/exercises/${id}/evaluations`, { objectiveId: 'obj-detect', score: 50 }), 409, 'CONFLICT');
    expect(await al.platform.store.countExerciseRows(id)).toBeGreaterThan(5);
    expectError(await del('a-analyst', `/exercises/${id}`), 403, 'FORBIDDEN');
    const purged = await del('c-excon', `/exercises/${id}`);
    expect(purged.status, purged.body).toBe(200);
    expect(await al.platform.store.countExerciseRows(id)).toBe(0);
    expect(await al.platform.store.getRecord(id)).toBeNull();
    expectError(await call('c-excon', 'GET', `/exercises/${id}`), 404, 'NOT_FOUND');
  });

  it('grants are replaced by control only', async () => {
    const sc = (await call('c-excon', 'GET', '/exercises/scenarios')).json().scenarios[0];
    const run = (await call('c-excon', 'POST', '/exercises', { scenarioId: sc.id })).json();
    expectError(await put('a-admin', `/exercises/${run.id}/grants`, { grants: [] }), 403, 'FORBIDDEN'); // a player of team A
    expectError(await put('c-excon', `/exercises/${run.id}/grants`, { grants: [{ userId: 'nobody', role: 'observer' }] }), 400, 'BAD_REQUEST');
    expect((await put('c-excon', `/exercises/${run.id}/grants`, { grants: [] })).status).toBe(200);
  });
});
