/**
 * Respond screens inside an exercise, in the system Chromium against a real server with the demo
 * alliance. Control (csirt.excon) runs a drill whose prompt inject asks Aldermark to declare an
 * incident. Aldermark's responder opens the exercise, goes to the normal incident screen — now
 * marked EXERCISE and scoped to it — and declares the incident there: the prompt's INCIDENT
 * expectation succeeds with its time, the incident lists in the exercise and never in the
 * real-world incident list. A lesson the player adds on the after-action report page appears
 * in the report and in its PDF.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, CHROMIUM_ARGS, rest, startServer } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn, type DemoActor } from './session.js';
import { pdfText } from '../helpers/pdf-text.js';

interface Result { injectId: string; teamId: string; name: string; status: string; timeToValidateSeconds: number | null; results: { ref?: string }[] }

const poll = { timeout: 60_000, interval: 250 };
const TITLE = 'Ransomware at the container terminal';
const LESSON = 'Declaring in the exercise from the normal incident screen worked first time';

let server: RunningServer;
let browser: Browser;
let excon: DemoActor;
let player: DemoActor;
let exerciseId = '';

const api = <T,>(a: DemoActor, p: string, init: { method?: string; body?: unknown } = {}) => rest<T>(server.baseUrl, p, { token: a.token, ...init });

describe.runIf(BROWSER_TESTS)('respond actions inside an exercise, in the browser', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    excon = await demoActor(server, 'csirt.excon');
    player = await demoActor(server, 'ald.responder');
    const sc = await api<{ id: string }>(excon, '/exercises/scenarios', {
      method: 'POST',
      body: {
        name: 'Harbour respond drill', storyline: 'A ransomware outbreak at the port', category: 'attack-scenario',
        teams: [{ id: 'ald', name: 'ALD-CERT', orgs: [player.orgId] }],
        injects: [{
          id: 'declare', title: 'Declare the incident', offsetSeconds: 1, type: 'prompt', teams: [],
          payload: { action: 'declare-incident', text: 'Declare an incident for the ransomware at the terminal (severity 3 or more).' },
          expectations: [{ name: 'Incident', type: 'INCIDENT', expirySeconds: 3600, match: { minSeverity: 3 } }],
        }],
      },
    });
    exerciseId = (await api<{ id: string }>(excon, '/exercises', { method: 'POST', body: { scenarioId: sc.id, name: 'Harbour drill 2026', speed: 1 } })).id;
    await api(excon, `/exercises/${exerciseId}/control`, { method: 'POST', body: { action: 'launch' } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a player declares an incident on the incident screen in exercise mode and the prompt expectation is met', async () => {
    const { ctx, page } = await openSignedIn({ browser, server }, player, `#/exercises/${encodeURIComponent(exerciseId)}`);
    await page.getByTestId('player-view').waitFor();
    await expect.poll(() => page.locator('.inbox-item[data-inject="declare"]').count(), poll).toBe(1);
    // The prompt in the inbox leads to the normal incident screen.
    await page.locator('.inbox-item[data-inject="declare"]').getByTestId('prompt-action').click();
    await page.waitForURL(/#\/incidents$/);
    // The normal incident screen, marked EXERCISE and scoped to the exercise.
    expect(await page.getByTestId('exercise-banner-name').textContent()).toBe('Harbour drill 2026');
    await page.getByTestId('exercise-scope').waitFor();
    expect(await page.getByTestId('exercise-scope').textContent()).toContain('Harbour drill 2026');
    // The demo's real incidents are not listed in the exercise.
    expect(await page.getByTestId('incident-row').count()).toBe(0);
    await page.getByRole('button', { name: 'Declare incident…' }).click();
    await page.getByLabel('Title').fill(TITLE);
    await page.getByLabel('Severity').selectOption('3');
    await page.getByRole('button', { name: 'Declare incident', exact: true }).click();
    await page.waitForURL(/#\/incidents\/incident--/);
    const incidentId = decodeURIComponent(page.url().split('#/incidents/')[1]!);
    await page.getByTestId('exercise-scope').waitFor();

    await expect.poll(async () => (await api<{ expectations: Result[] }>(player, `/exercises/${exerciseId}/expectations`)).expectations[0]?.status, poll).toBe('success');
    const r = (await api<{ expectations: Result[] }>(player, `/exercises/${exerciseId}/expectations`)).expectations[0]!;
    expect(r.results[0]!.ref).toBe(incidentId);
    expect(r.timeToValidateSeconds).toBeGreaterThanOrEqual(0);
    // The player's own exercise view shows it met.
    await page.goto(`${server.baseUrl}/#/exercises/${encodeURIComponent(exerciseId)}`);
    await expect.poll(() => page.getByTestId('player-view').textContent(), poll).toContain('success');
    await ctx.close();

    // Real operations: a fresh tab (no exercise) lists the demo's incidents, never the exercise's.
    const real = await openSignedIn({ browser, server }, player, '#/incidents');
    await real.page.getByTestId('incident-table').waitFor();
    expect(await real.page.getByTestId('incident-row').count()).toBeGreaterThan(0);
    expect(await real.page.locator(`[data-testid="incident-row"][data-id="${incidentId}"]`).count()).toBe(0);
    expect(await real.page.getByTestId('exercise-scope').count()).toBe(0);
    expect(await real.page.getByTestId('incident-table').textContent()).not.toContain(TITLE);
    await real.ctx.close();
    const list = await api<{ items: { id: string }[] }>(player, '/incidents');
    expect(list.items.map((i) => i.id)).not.toContain(incidentId);
  });

  it('a lesson added on the after-action report page appears in the report and its PDF', async () => {
    const { ctx, page } = await openSignedIn({ browser, server }, player, `#/exercises/${encodeURIComponent(exerciseId)}/report`);
    await page.getByTestId('lesson-form').waitFor();
    await page.getByLabel('What went well').fill(LESSON);
    await page.getByLabel('What should change').fill('Add the port authority to the team');
    await page.getByLabel('Score (0–100)').fill('80');
    await page.getByRole('button', { name: 'Add the lesson' }).click();
    await page.getByText('Lesson added to the after-action report.').waitFor();
    await expect.poll(() => page.getByTestId('lesson-answer').allTextContents(), poll).toEqual([expect.stringContaining(LESSON)]);
    await ctx.close();

    const res = await fetch(`${server.baseUrl}/api/v1/exercises/${exerciseId}/report.pdf?compress=false`, { headers: { Authorization: `Bearer ${excon.token}` } });
    expect(res.status).toBe(200);
    const text = pdfText(Buffer.from(await res.arrayBuffer()));
    expect(text).toContain('Lessons learned');
    expect(text).toContain(LESSON);
  });
});
