/**
 * End-to-end test of the readiness dashboard against a real server with the demo alliance, in
 * the system Chromium: Aldermark's view (its own maturity over two years, its standing, its
 * overdue finding) against Brenova's view of the same page (its own numbers, none of
 * Aldermark's detail) until Aldermark releases its assessment to Brenova; an answer given in
 * the self-assessment tab is stored; a refused finding status change is shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, CHROMIUM_ARGS, rest, startServer } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn, type DemoActor } from './session.js';

interface Assessment { id: string; orgId: string; year: number; state: string; answers: Record<string, { level: number | null }> }
interface Aggregates { members: number; functions: { group: string; own: number | null; median: number | null }[] }

const poll = { timeout: 20_000, interval: 100 };
let server: RunningServer;
let browser: Browser;
let ald: DemoActor;
let brn: DemoActor;
const year = new Date().getUTCFullYear();

describe.runIf(BROWSER_TESTS)('readiness dashboard (e2e, Chromium)', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    [ald, brn] = await Promise.all([demoActor(server, 'ald.analyst'), demoActor(server, 'brn.analyst')]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const ownCap = async (a: DemoActor) => (await rest<Aggregates>(server.baseUrl, `/readiness/aggregates?framework=pledge-2016&year=${year - 1}`, { token: a.token })).functions.find((f) => f.group === 'CAP')!.own;

  it('a member sees its own maturity, standing and overdue remediation; another member sees its own, not the first one\'s detail', async () => {
    const [aldCap, brnCap] = [await ownCap(ald), await ownCap(brn)];
    expect(aldCap).not.toBeNull();
    expect(aldCap).not.toBe(brnCap);
    const a = await openSignedIn({ browser, server }, ald, '#/readiness');
    await a.page.getByRole('tab', { name: 'Dashboard' }).waitFor();
    await expect.poll(() => a.page.getByTestId('own-maturity').getByTestId('maturity-chart').getAttribute('data-years'), poll).toBe(`${year - 1},${year}`);
    await expect.poll(() => a.page.getByTestId('standing-CAP').getByTestId('own-score').textContent(), poll).toBe(String(aldCap));
    await expect.poll(() => a.page.getByTestId('overdue-count').textContent(), poll).toBe('1');
    await expect.poll(() => a.page.getByTestId('released-to-us').textContent(), poll).toMatch(/No other organisation released/);
    // The canvas is drawn (uPlot) for both charts.
    expect(await a.page.locator('[data-testid=maturity-chart] canvas').count()).toBeGreaterThanOrEqual(2);

    const b = await openSignedIn({ browser, server }, brn, '#/readiness');
    await expect.poll(() => b.page.getByTestId('standing-CAP').getByTestId('own-score').textContent(), poll).toBe(String(brnCap));
    await expect.poll(() => b.page.getByTestId('released-to-us').textContent(), poll).toMatch(/No other organisation released/);
    expect(await b.page.content()).not.toContain(ald.orgId);

    // Aldermark releases last year's assessment to Brenova: now (and only now) Brenova sees it.
    const aldLast = (await rest<{ items: Assessment[] }>(server.baseUrl, '/readiness/assessments?framework=pledge-2016', { token: ald.token })).items.find((x) => x.year === year - 1)!;
    await expect(rest(server.baseUrl, `/readiness/assessments/${aldLast.id}`, { token: brn.token })).rejects.toThrow(/404/);
    await rest(server.baseUrl, `/readiness/assessments/${aldLast.id}/release`, { token: ald.token, method: 'POST', body: { tlp: 'amber', recipients: [brn.orgId] } });
    await b.page.reload();
    await expect.poll(() => b.page.getByTestId('released-to-us').textContent(), poll).toContain(ald.orgId);
    expect(await b.page.getByTestId('released-to-us').textContent()).toContain(`${year - 1} · submitted`);
    await a.ctx.close();
    await b.ctx.close();
  });

  it('an answer given in the self-assessment tab is stored in this year\'s draft', async () => {
    const { ctx, page } = await openSignedIn({ browser, server }, ald, '#/readiness?tab=assessment');
    const form = page.getByTestId('assessment-form');
    await expect.poll(() => form.getAttribute('data-state'), poll).toBe('draft');
    await form.getByLabel('Level of IMP-2').selectOption('4');
    const draft = async () => (await rest<{ items: Assessment[] }>(server.baseUrl, '/readiness/assessments?framework=pledge-2016', { token: ald.token })).items.find((x) => x.year === year && x.orgId === ald.orgId)!;
    await expect.poll(async () => (await draft()).answers['IMP-2']?.level, poll).toBe(4);
    await ctx.close();
  });

  it('a finding status change the server refuses is said, and the stored status shown again (it reverted silently)', async () => {
    const { ctx, page } = await openSignedIn({ browser, server }, ald, '#/readiness?tab=findings');
    const table = page.getByTestId('findings-table');
    const select = table.getByLabel('Status of Patch backlog on OT jump hosts');
    await expect.poll(() => select.inputValue(), poll).toBe('open');
    // The server refuses this change (as it would a finding another organisation owns, or a
    // status moved on meanwhile); the REST answer is the API's error shape.
    await page.route('**/api/v1/readiness/findings/*', (route) => (route.request().method() === 'PATCH'
      ? route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: { code: 'CONFLICT', message: 'the finding changed meanwhile' } }) })
      : route.continue()));
    await select.selectOption('resolved');
    await expect.poll(() => page.getByTestId('error').textContent(), poll).toMatch(/The status was not changed: the finding changed meanwhile \(CONFLICT\)/);
    await expect.poll(() => select.inputValue(), poll).toBe('open');
    await ctx.close();
  });
});
