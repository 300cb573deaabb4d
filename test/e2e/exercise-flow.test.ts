/**
 * The exercise acceptance flow against the built server with the demo alliance, over REST
 * only (the same steps as exercise.test.ts without a browser, so it also runs where Chromium
 * is missing): MSEL import, launch at 120×, a pause that moves the pending technical inject
 * by exactly its length, A's own AMBER Sigma rule detects the inject (DETECTION success with
 * its time to detect), B misses it (failed at expiry), the conditional inject fires for B only,
 * a situation report graded by control, and the after-action report JSON and PDF.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, startServer, type RunningServer } from './harness.js';
import { demoActor, type DemoActor } from './session.js';
import { pdfPageCount, pdfText } from '../helpers/pdf-text.js';
import { A_RULE, MSEL } from './exercise-fixtures.js';

const SPEED = 120;
interface Execution { injectId: string; teamId: string; state: string; scheduledAt: number | null; reason?: string }
interface Result { injectId: string; teamId: string; name: string; status: string; timeToValidateSeconds: number | null }
const poll = { timeout: 60_000, interval: 300 };

let server: RunningServer;
let ex: DemoActor;
let A: DemoActor;
let B: DemoActor;
let id = '';
const api = <T,>(a: DemoActor, p: string, init: { method?: string; body?: unknown } = {}) => rest<T>(server.baseUrl, p, { token: a.token, ...init });
const injects = async () => (await api<{ injects: Execution[] }>(ex, `/exercises/${id}/injects`)).injects;
const results = async () => (await api<{ expectations: Result[] }>(ex, `/exercises/${id}/expectations`)).expectations;
const control = (body: unknown) => api(ex, `/exercises/${id}/control`, { method: 'POST', body });

describe('exercise flow over REST', () => {
  beforeAll(async () => {
    server = await startServer();
    [ex, A, B] = await Promise.all([demoActor(server, 'csirt.excon'), demoActor(server, 'ald.analyst'), demoActor(server, 'brn.analyst')]);
    await api(A, '/sigma/rules', { method: 'POST', body: { yaml: A_RULE, tlp: 'amber' } });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('runs the MSEL: pause shift, detection by A only, conditional inject for B, graded sitrep, report and PDF', async () => {
    const sc = await api<{ id: string }>(ex, '/exercises/scenarios/import', { method: 'POST', body: { format: 'csv', content: MSEL, name: 'Coalition Shield' } });
    id = (await api<{ id: string }>(ex, '/exercises', { method: 'POST', body: { scenarioId: sc.id, name: 'Coalition Shield 2026', speed: SPEED } })).id;
    await control({ action: 'launch', speed: SPEED });
    await control({ action: 'pause' });
    const before = (await injects()).find((e) => e.injectId === '2' && e.teamId === 'ALD-CERT')!;
    expect(before.state).toBe('pending');
    await new Promise((r) => setTimeout(r, 2000));
    await control({ action: 'resume' });
    const run = (await api<{ run: { startedAt: number; pauses: { start: number; end: number }[] } }>(ex, `/exercises/${id}`)).run;
    const pause = run.pauses.at(-1)!;
    const after = (await injects()).find((e) => e.injectId === '2' && e.teamId === 'ALD-CERT')!;
    expect(after.scheduledAt).toBe(run.startedAt + (10 * 60 * 1000) / SPEED + (pause.end - pause.start));

    await expect.poll(async () => (await results()).find((r) => r.injectId === '2' && r.teamId === 'ALD-CERT')?.status, poll).toBe('success');
    expect((await results()).find((r) => r.injectId === '2' && r.teamId === 'ALD-CERT')!.timeToValidateSeconds).toBeGreaterThanOrEqual(0);
    await expect.poll(async () => (await results()).find((r) => r.injectId === '2' && r.teamId === 'BRN-CYBERCOM')?.status, poll).toBe('failed');
    expect((await api<{ alerts: { techniques?: string[] }[] }>(A, `/exercises/${id}/alerts`)).alerts.some((a) => a.techniques?.includes('T1003.001'))).toBe(true);
    expect((await api<{ alerts: unknown[] }>(B, `/exercises/${id}/alerts`)).alerts).toEqual([]);

    await expect.poll(async () => (await injects()).find((e) => e.injectId === '3' && e.teamId === 'BRN-CYBERCOM')?.state, poll).toBe('fired');
    const blocked = (await injects()).find((e) => e.injectId === '3' && e.teamId === 'ALD-CERT')!;
    expect(blocked).toMatchObject({ state: 'blocked', reason: expect.stringMatching(/Detection/) as unknown as string });

    await expect.poll(async () => (await injects()).find((e) => e.injectId === '4' && e.teamId === 'ALD-CERT')?.state, poll).toBe('fired');
    await api(A, `/exercises/${id}/sitreps`, { method: 'POST', body: { teamId: 'ALD-CERT', injectId: '4', title: 'SITREP 1', body: 'DC01 isolated.' } });
    await api(ex, `/exercises/${id}/expectations/grade`, { method: 'POST', body: { injectId: '4', teamId: 'ALD-CERT', name: 'Report', score: 100, comment: 'Clear' } });
    expect((await results()).find((r) => r.injectId === '4' && r.teamId === 'ALD-CERT')!.status).toBe('success');
    await control({ action: 'finish' });

    type Team = { teamId: string; expectations: { met: number; missed: number }; injects: { injectId: string; timeToDetectSeconds: number | null }[] };
    const report = await api<{ teams: Team[] }>(ex, `/exercises/${id}/report`);
    const ta = report.teams.find((t) => t.teamId === 'ALD-CERT')!;
    const tb = report.teams.find((t) => t.teamId === 'BRN-CYBERCOM')!;
    expect(ta.expectations.met).toBe(2);
    expect(tb.expectations.missed).toBeGreaterThanOrEqual(1);
    expect(ta.injects.find((i) => i.injectId === '2')!.timeToDetectSeconds).toBeGreaterThanOrEqual(0);
    expect(tb.injects.find((i) => i.injectId === '2')!.timeToDetectSeconds).toBeNull();

    const res = await fetch(`${server.baseUrl}/api/v1/exercises/${id}/report.pdf?compress=false`, { headers: { Authorization: `Bearer ${ex.token}` } });
    expect(res.status).toBe(200);
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdfPageCount(pdf)).toBe(3);
    const text = pdfText(pdf);
    for (const s of ['EXERCISE - Coalition Shield 2026', 'Team ALD-CERT', 'Team BRN-CYBERCOM', 'Credential dumping on the domain controller', 'Time to detect per team and inject']) expect(text).toContain(s);
  }, 180_000);
});
