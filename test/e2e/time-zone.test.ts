/**
 * Times typed into the web app are UTC, as their labels say, whatever the browser's time zone:
 * exercise control in Kolkata (UTC+5:30) imports an MSEL sheet with absolute times and an
 * exercise start; the injects fall at their offsets from that start read in UTC (the start was
 * read in the browser's zone, which moved every inject by 5 h 30).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { BROWSER_TESTS, launchDemo, rest, stopDemo } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, type DemoActor } from './session.js';

interface Scenario { scenario: { name: string; injects: { id: string; offsetSeconds: number }[] } }

const poll = { timeout: 20_000, interval: 200 };
const MSEL = [
  'serial,absolute time,type,teams,title,content',
  'k1,2026-11-17T09:00:00Z,communication,ALD-CERT,Kick-off,Start',
  'k2,2026-11-17 09:30,prompt,ALD-CERT,Report,Write a situation report',
].join('\n');

let server: RunningServer;
let browser: Browser;
let excon: DemoActor;

describe.runIf(BROWSER_TESTS)('times typed in a browser of another time zone (e2e, Chromium)', () => {
  beforeAll(async () => {
    ({ server, browser } = await launchDemo());
    excon = await demoActor(server, 'csirt.excon');
  }, 120_000);
  afterAll(() => stopDemo(server, browser));

  it('the exercise start of an MSEL import is UTC, as its label says', async () => {
    const ctx = await browser.newContext({ timezoneId: 'Asia/Kolkata' });
    try {
      const page = await ctx.newPage();
      await page.goto(`${server.baseUrl}/#/exercises`);
      await page.getByLabel('Username').fill(excon.user.username);
      await page.getByLabel('Password').fill(excon.user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('…or paste the content').fill(MSEL);
      await page.getByLabel('Scenario name (sheets)').fill('Kolkata drill');
      await page.getByLabel('Exercise start for absolute times (optional, UTC)').fill('2026-11-17T09:00');
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await expect.poll(() => page.getByTestId('msel-imported').textContent(), poll).toContain('Kolkata drill: 2 injects');
      const all = await rest<{ scenarios: Scenario[] }>(server.baseUrl, '/exercises/scenarios', { token: excon.token });
      const sc = all.scenarios.find((s) => s.scenario.name === 'Kolkata drill')!;
      expect(sc.scenario.injects.map((i) => [i.id, i.offsetSeconds])).toEqual([['k1', 0], ['k2', 1800]]);
    } finally {
      await ctx.close();
    }
  }, 60_000);
});
