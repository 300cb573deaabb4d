/**
 * End-to-end exercise in the system Chromium against a real server with the demo alliance.
 * Exercise control (csirt.excon) imports an MSEL as CSV and as XLSX in the web app, creates an
 * exercise at 120× speed, launches, pauses and resumes it (the pending technical inject moves
 * by exactly the pause length). The technical inject (T1003.001) goes through the real ingest
 * pipeline for both teams; only Aldermark (team A) has a Sigma rule for it (its own AMBER
 * rule), so A's DETECTION succeeds with a time to detect and A sees the alert in its exercise
 * picture, while Brenova (team B) misses it and fails at expiry. The conditional inject
 * ("if Detection failed") then fires for B only and is blocked for A with its reason. A's
 * player submits a situation report, control grades it in the grading queue, and the
 * after-action report page and its PDF (page count and text) show these figures.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, CHROMIUM_ARGS, rest, startServer } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn, type DemoActor } from './session.js';
import { pdfPageCount, pdfText } from '../helpers/pdf-text.js';
import { A_RULE, MSEL } from './exercise-fixtures.js';

interface Execution { injectId: string; teamId: string; state: string; scheduledAt: number | null; firedAt: number | null; reason?: string }
interface Result { injectId: string; teamId: string; name: string; type: string; status: string; score: number | null; timeToValidateSeconds: number | null }
interface View { run: { id: string; name: string; status: string; pauses: { start: number; end: number | null }[]; scenario: { teams: { id: string; name: string }[] } } }

const SPEED = 120;
const poll = { timeout: 60_000, interval: 250 };

let server: RunningServer;
let browser: Browser;
let excon: DemoActor;
let playerA: DemoActor;
let playerB: DemoActor;
let control: { ctx: BrowserContext; page: Page };
let exerciseId = '';
let teamA = '';
let teamB = '';

const api = <T,>(a: DemoActor, p: string, init: { method?: string; body?: unknown } = {}) => rest<T>(server.baseUrl, p, { token: a.token, ...init });
const executions = async () => (await api<{ injects: Execution[] }>(excon, `/exercises/${exerciseId}/injects`)).injects;
const results = async () => (await api<{ expectations: Result[] }>(excon, `/exercises/${exerciseId}/expectations`)).expectations;

async function xlsx(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('MSEL');
  ws.addRow(['Serial', 'Absolute time', 'Type', 'Target teams', 'Subject', 'Content']);
  ws.addRow(['x1', new Date('2026-11-17T09:00:00Z'), 'communication', 'ALD-CERT', 'Kick-off', 'Start']);
  ws.addRow(['x2', new Date('2026-11-17T09:30:00Z'), 'prompt', 'ALD-CERT', 'Report', 'Write a sitrep']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe.runIf(BROWSER_TESTS)('exercise end to end', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    excon = await demoActor(server, 'csirt.excon');
    playerA = await demoActor(server, 'ald.analyst');
    playerB = await demoActor(server, 'brn.analyst');
    await api(playerA, '/sigma/rules', { method: 'POST', body: { yaml: A_RULE, tlp: 'amber' } });
    control = await openSignedIn({ browser, server }, excon, '#/exercises');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('control imports an MSEL as CSV and as XLSX in the web app; a bad row is refused with its number', async () => {
    const page = control.page;
    await page.getByLabel('…or paste the content').fill(`${MSEL}\n5,sometime,communication,ALD-CERT,Broken,x,,,,,`);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByTestId('msel-errors').textContent(), poll).toContain('sometime');
    expect(await page.getByTestId('msel-errors').locator('tbody td').first().textContent()).toBe('6');

    await page.getByLabel('…or paste the content').fill(MSEL);
    await page.getByLabel('Scenario name (sheets)').fill('Coalition Shield');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByTestId('msel-imported').textContent(), poll).toContain('Coalition Shield: 4 injects, 2 teams');

    await page.getByLabel('Format').selectOption('xlsx');
    await page.locator('#msel-file').setInputFiles({ name: 'msel.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: await xlsx() });
    await page.getByLabel('Scenario name (sheets)').fill('Excel drill');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByTestId('msel-imported').textContent(), poll).toContain('Excel drill: 2 injects, 1 teams');
  });

  it('creates the exercise at speed; launch, pause and resume move the pending inject by the pause length', async () => {
    const page = control.page;
    const card = page.getByTestId('scenario').filter({ hasText: 'Coalition Shield' });
    await card.getByLabel('Exercise name').fill('Coalition Shield 2026');
    await card.getByLabel('Speed (×)').fill(String(SPEED));
    await card.getByRole('button', { name: 'Create exercise' }).click();
    await page.getByTestId('exercise-console').waitFor();
    exerciseId = decodeURIComponent(page.url().split('#/exercises/')[1]!);
    expect(await page.getByTestId('exercise-banner-name').textContent()).toBe('Coalition Shield 2026');
    const view = await api<View>(excon, `/exercises/${exerciseId}`);
    teamA = view.run.scenario.teams.find((t) => t.name === 'ALD-CERT')!.id;
    teamB = view.run.scenario.teams.find((t) => t.name === 'BRN-CYBERCOM')!.id;

    await page.getByRole('button', { name: 'Launch' }).click();
    await expect.poll(() => page.getByTestId('exercise-status').textContent(), poll).toBe('running');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByTestId('exercise-status').textContent(), poll).toBe('paused');
    const before = (await executions()).find((e) => e.injectId === '2' && e.teamId === teamA)!;
    expect(before.state).toBe('pending');
    await new Promise((r) => setTimeout(r, 3000));
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByTestId('exercise-status').textContent(), poll).toBe('running');
    const pause = (await api<View>(excon, `/exercises/${exerciseId}`)).run.pauses.at(-1)!;
    const after = (await executions()).find((e) => e.injectId === '2' && e.teamId === teamA)!;
    const length = pause.end! - pause.start;
    expect(length).toBeGreaterThanOrEqual(2900);
    // While paused the inject kept moving; after resume it sits at its T/speed time shifted by the whole pause.
    const launched = (await api<View & { run: { startedAt: number } }>(excon, `/exercises/${exerciseId}`)).run.startedAt;
    expect(after.scheduledAt! - (launched + (10 * 60 * 1000) / SPEED)).toBeCloseTo(length, -1);
    expect(after.scheduledAt! - before.scheduledAt!).toBeGreaterThanOrEqual(length - 1000);
  });

  it("A detects the technical inject with a time to detect; B misses it and fails at expiry", async () => {
    await expect.poll(async () => (await results()).find((r) => r.injectId === '2' && r.teamId === teamA)?.status, poll).toBe('success');
    const a = (await results()).find((r) => r.injectId === '2' && r.teamId === teamA)!;
    expect(a.timeToValidateSeconds).toBeGreaterThanOrEqual(0);
    await expect.poll(async () => (await results()).find((r) => r.injectId === '2' && r.teamId === teamB)?.status, poll).toBe('failed');
    // A's exercise picture in the browser shows the alert; B's shows none.
    const { ctx, page } = await openSignedIn({ browser, server }, playerA, `#/exercises/${encodeURIComponent(exerciseId)}`);
    await page.getByTestId('player-view').waitFor();
    expect(await page.getByTestId('exercise-banner-name').textContent()).toBe('Coalition Shield 2026');
    await expect.poll(() => page.getByTestId('exercise-alert').count(), poll).toBeGreaterThan(0);
    await ctx.close();
    const b = await api<{ alerts: unknown[] }>(playerB, `/exercises/${exerciseId}/alerts`);
    expect(b.alerts).toHaveLength(0);
  });

  it('the conditional inject fires only for the team whose Detection failed', async () => {
    await expect.poll(async () => (await executions()).find((e) => e.injectId === '3' && e.teamId === teamB)?.state, poll).toBe('fired');
    const a = (await executions()).find((e) => e.injectId === '3' && e.teamId === teamA)!;
    expect(a.state).toBe('blocked');
    expect(a.reason).toMatch(/Detection/);
    await expect.poll(() => control.page.locator(`[data-inject="3"][data-team="${teamA}"] [data-testid="inject-state"]`).textContent(), poll).toBe('blocked');
  });

  it('a player of A submits a situation report and control grades it', async () => {
    await expect.poll(async () => (await executions()).find((e) => e.injectId === '4' && e.teamId === teamA)?.state, poll).toBe('fired');
    const { ctx, page } = await openSignedIn({ browser, server }, playerA, `#/exercises/${encodeURIComponent(exerciseId)}`);
    await page.getByTestId('sitrep-form').waitFor();
    await page.getByLabel('In answer to').selectOption({ label: 'Situation report' });
    await page.getByLabel('Title').fill('SITREP 1: credential dumping contained');
    await page.getByLabel('Report', { exact: true }).fill('DC01 isolated, krbtgt reset twice, no lateral movement seen.');
    await page.getByRole('button', { name: 'Submit the report' }).click();
    await page.getByText('Report sent to exercise control.').waitFor();
    await ctx.close();

    const item = control.page.locator(`.grade-item[data-inject="4"][data-team="${teamA}"]`);
    await expect.poll(() => item.getByTestId('sitrep').count(), poll).toBe(1);
    expect(await item.getByTestId('sitrep').textContent()).toContain('credential dumping contained');
    await item.getByLabel(/Score/).fill('100');
    await item.getByLabel('Comment').fill('Clear and on time');
    await item.getByRole('button', { name: 'Grade' }).click();
    await expect.poll(async () => (await results()).find((r) => r.injectId === '4' && r.teamId === teamA && r.type === 'REPORT')?.status, poll).toBe('success');
  });

  it('the after-action report page and its PDF show these figures', async () => {
    await api(excon, `/exercises/${exerciseId}/control`, { method: 'POST', body: { action: 'finish' } });
    const page = control.page;
    await page.goto(`${server.baseUrl}/#/exercises/${encodeURIComponent(exerciseId)}/report`);
    await page.getByTestId('aar').waitFor();
    expect(await page.getByTestId('exercise-banner-name').textContent()).toBe('Coalition Shield 2026');
    const rowA = page.getByTestId('aar-scores').locator(`tr[data-team="${teamA}"]`);
    const rowB = page.getByTestId('aar-scores').locator(`tr[data-team="${teamB}"]`);
    expect(Number(await rowA.getByTestId('met').textContent())).toBeGreaterThanOrEqual(2);
    expect(Number(await rowB.getByTestId('missed').textContent())).toBeGreaterThanOrEqual(1);
    const ttdA = await page.locator(`.aar-team[data-team="${teamA}"] tr[data-inject="2"] [data-testid="ttd"]`).textContent();
    expect(ttdA).toMatch(/\d+ (s|min)/);
    expect(await page.locator(`.aar-team[data-team="${teamB}"] tr[data-inject="2"] [data-testid="ttd"]`).textContent()).toBe('–');
    await page.getByTestId('chart-scores').waitFor();
    await page.getByTestId('chart-ttd').waitFor();

    const res = await fetch(`${server.baseUrl}/api/v1/exercises/${exerciseId}/report.pdf?compress=false`, { headers: { Authorization: `Bearer ${excon.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdfPageCount(pdf)).toBe(3);
    const text = pdfText(pdf);
    for (const s of ['EXERCISE - Coalition Shield 2026', 'Team ALD-CERT', 'Team BRN-CYBERCOM', 'Credential dumping on the domain controller', 'CISO escalation call', 'Time to detect per team and inject']) {
      expect(text).toContain(s);
    }
  });
});
