/**
 * End-to-end test of the System page: `serve --demo` runs detection in its supervised worker
 * process, and an administrator sees that worker (running, its pid), the store's health and the
 * queue in Chromium; a user without the admin role has no System entry and is told so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, launchDemo, rest, stopDemo } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn } from './session.js';
import { runBuiltCli } from '../helpers/built-cli.js';
import { tmpDir } from '../taxii-fixtures.js';
import path from 'node:path';

let server: RunningServer;
let browser: Browser;

describe.runIf(BROWSER_TESTS)('System page (e2e, Chromium)', () => {
  beforeAll(async () => ({ server, browser } = await launchDemo()), 120_000);
  afterAll(() => stopDemo(server, browser));

  it('shows an administrator the detection worker process, the queue and the store', async () => {
    const admin = await demoActor(server, 'ald.admin');
    const sys = await rest<{ workers: { pid: number; state: string }[] }>(server.baseUrl, '/system', { token: admin.token });
    expect(sys.workers).toHaveLength(1);
    const { ctx, page } = await openSignedIn({ browser, server }, admin, '#/');
    try {
      await page.getByRole('link', { name: 'System' }).click();
      await page.getByRole('heading', { name: 'System', level: 1 }).waitFor();
      await expect.poll(async () => page.getByTestId('worker-state').textContent(), { timeout: 15_000 }).toBe('running');
      expect(await page.getByTestId('worker-row').textContent()).toContain(String(sys.workers[0]!.pid));
      expect(await page.getByTestId('store-health').textContent()).toContain('sqlite, ok');
      expect(await page.getByTestId('queue-depth').textContent()).toMatch(/\d+ of \d+ events waiting/);
      expect(await page.getByRole('region', { name: 'Dead letters' }).textContent()).toContain('None');
      // No backup yet: the page says so; after `shieldwall backup` on the node, it gives its time.
      expect(await page.getByTestId('last-backup').textContent()).toContain('never');
      const made = await runBuiltCli({ args: ['backup', path.join(tmpDir('sw-e2e-backup-'), 'b')], env: { SHIELDWALL_DATA_DIR: server.dataDir } });
      expect(made.code, made.stderr).toBe(0);
      await page.reload();
      await expect.poll(async () => page.getByTestId('last-backup').textContent(), { timeout: 15_000 }).toMatch(/ago, \d+ object versions\)$/);
      // The indexes that follow the store, and a rebuild of the correlation index (confirmed).
      expect(await page.getByTestId('index-row').count()).toBe(2);
      await expect.poll(async () => page.getByTestId('index-state-correlation').textContent(), { timeout: 15_000 }).toBe('caught up');
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('region', { name: 'Indexes' }).getByRole('button', { name: 'Rebuild' }).click();
      expect(await page.getByTestId('reindex-status').textContent()).toMatch(/^Rebuilding: \d+ rows and \d+ frequent marks cleared\.$/);
      const rows = Number((await page.getByTestId('reindex-status').textContent())!.match(/(\d+) rows/)![1]);
      expect(rows).toBeGreaterThan(0); // the demo alliance's intel was indexed
      await expect.poll(async () => page.getByTestId('index-state-correlation').textContent(), { timeout: 30_000 }).toBe('caught up');
      // The rebuild is in the organisation's audit log, found by the start of its action.
      await page.getByTestId('audit-link').click();
      await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
      await page.getByTestId('audit-row').first().waitFor();
      await page.getByTestId('audit-action').fill('correlation.');
      await page.getByTestId('audit-search').click();
      await expect.poll(async () => (await page.getByTestId('audit-row-action').allTextContents()).join(','), { timeout: 10_000 }).toBe('correlation.reindex');
      expect(await page.getByTestId('audit-row').first().textContent()).toContain('ald.admin');
      // A failed sign-in at one of the organisation's users is in its log, by no one signed in.
      const refused = await fetch(`${server.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ald.analyst', password: 'not the password at all' }) });
      expect(refused.status).toBe(401);
      await page.getByTestId('audit-action').fill('auth.fail');
      await page.getByTestId('audit-search').click();
      await expect.poll(async () => (await page.getByTestId('audit-row-action').allTextContents()).join(','), { timeout: 10_000 }).toBe('auth.fail');
      const row = await page.getByTestId('audit-row').first().textContent();
      expect(row).toContain('not signed in');
      expect(row).toContain('ald.analyst');
      await page.getByTestId('audit-action').fill('no.such.action');
      await page.getByTestId('audit-search').click();
      await page.getByTestId('audit-empty').waitFor();
      // A bad filter is the server's 400, shown.
      await page.getByTestId('audit-action').fill('Bad Action');
      await page.getByTestId('audit-search').click();
      await page.getByText(/action: an action/).waitFor();
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('has no System entry for an analyst, and the page says it is for administrators', async () => {
    const analyst = await demoActor(server, 'crv.analyst');
    const { ctx, page } = await openSignedIn({ browser, server }, analyst, '#/system');
    try {
      await page.getByText('The system view is for administrators.').waitFor();
      expect(await page.getByRole('link', { name: 'System' }).count()).toBe(0);
    } finally {
      await ctx.close();
    }
  }, 60_000);
});
