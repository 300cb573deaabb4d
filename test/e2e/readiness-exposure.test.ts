/**
 * End-to-end: readiness exposure in Chromium against a real server with the demo alliance.
 * A Corvanian analyst imports an inventory on the Inventory page; a KEV update arrives (REST,
 * as the alliance CSIRT's analyst); the exposure appears on the Exposures page and its alert on
 * the Alerts page; the alliance aggregate counts the member; a Brenovan analyst sees the
 * aggregate but not the exposure; a CSAF VEX imported on the Advisories page clears it and the
 * aggregate changes. The KEV trend chart draws once the leader has taken its first snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, CHROMIUM_ARGS, rest, startServer } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn, type DemoActor } from './session.js';

const CVE = 'CVE-2099-30001';
const CPE = 'cpe:2.3:a:acme:e2e_gateway:5.1:*:*:*:*:*:*:*';
const poll = { timeout: 30_000, interval: 250 };

let server: RunningServer;
let browser: Browser;
let owner: DemoActor;
let outsider: DemoActor;
let csirt: DemoActor;

interface Vuln { cve: string; kev: { cve: string; vendorProject: string; product: string; vulnerabilityName: string; dateAdded: string; dueDate: string; shortDescription: string; requiredAction: string } | null }

describe.runIf(BROWSER_TESTS)('readiness exposure (e2e, Chromium)', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    [owner, outsider, csirt] = await Promise.all(['crv.analyst', 'brn.analyst', 'csirt.analyst'].map((u) => demoActor(server, u))) as [DemoActor, DemoActor, DemoActor];
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('inventory → KEV update → exposure and alert → alliance aggregate → VEX clears it', async () => {
    const { ctx, page } = await openSignedIn({ browser, server }, owner, '#/readiness/inventory');
    await page.getByLabel('or paste it').fill(`name,vital_function,criticality,owner,products\ne2e-gateway,border control,critical,netops,${CPE}\n`);
    await page.getByRole('button', { name: 'Import inventory' }).click();
    await expect.poll(async () => page.getByTestId('inventory-result').textContent(), poll).toContain('1 created');
    await expect.poll(async () => (await page.getByTestId('asset-row').allTextContents()).join(' '), poll).toContain('e2e-gateway');

    await page.goto(`${server.baseUrl}/#/readiness/exposures`);
    await page.getByTestId('own-summary').waitFor();
    // The KEV update: the current catalog plus one new entry naming the imported product.
    const current = (await rest<{ items: Vuln[] }>(server.baseUrl, '/readiness/vulnerabilities?kev=true&limit=5000', { token: csirt.token })).items;
    const entries = current.filter((v) => v.kev).map((v) => ({ ...v.kev!, cveID: v.kev!.cve }));
    const fresh = { cveID: CVE, vendorProject: 'Acme', product: 'E2E Gateway', vulnerabilityName: 'Acme E2E Gateway remote code execution', dateAdded: '2099-02-01', dueDate: '2099-02-22', shortDescription: 'e2e', requiredAction: 'Apply updates.', knownRansomwareCampaignUse: 'Known' };
    const upd = await rest<{ added: string[]; alerts: number }>(server.baseUrl, '/readiness/kev/import', { token: csirt.token, method: 'POST', body: { catalogVersion: '2099.02.01', dateReleased: '2099-02-01T00:00:00Z', count: entries.length + 1, vulnerabilities: [...entries, fresh] } });
    expect(upd.added).toEqual([CVE]);
    expect(upd.alerts).toBe(1);
    // The exposure appears live on the open page; the aggregate counts one member.
    const row = page.locator(`[data-testid="exposure-row"][data-cve="${CVE}"]`);
    await row.waitFor(poll);
    expect(await row.textContent()).toContain('KEV · ransomware');
    await expect.poll(async () => page.getByTestId(`alliance-count-${CVE}`).textContent(), poll).toBe('1');
    // The KEV trend: the leader's first snapshot (within a tick of the start) draws the chart on reload.
    await expect.poll(async () => {
      await page.reload();
      await page.getByTestId('own-summary').waitFor();
      return page.getByTestId('kev-trend').count();
    }, poll).toBe(1);
    expect(Number(await page.getByTestId('kev-trend').getAttribute('data-days'))).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('kev-trend').locator('canvas').count()).toBeGreaterThan(0);
    // …and its alert on the alerts page.
    await page.goto(`${server.baseUrl}/#/alerts`);
    await expect.poll(async () => page.locator('main').textContent(), poll).toContain(CVE);

    // Another member: the aggregate only.
    const other = await openSignedIn({ browser, server }, outsider, '#/readiness/exposures');
    await expect.poll(async () => other.page.getByTestId(`alliance-count-${CVE}`).textContent(), poll).toBe('1');
    expect(await other.page.locator(`[data-testid="exposure-row"][data-cve="${CVE}"]`).count()).toBe(0);
    expect(await other.page.locator('main').textContent()).not.toContain('e2e-gateway');
    const otherAlerts = await rest<{ alerts: { entity: string }[] }>(server.baseUrl, '/alerts?source=exposure', { token: outsider.token });
    expect(otherAlerts.alerts.some((a) => a.entity === CVE)).toBe(false);

    // A CSAF VEX statement clears the exposure; the aggregate drops the entry.
    const vex = {
      document: {
        category: 'csaf_vex', csaf_version: '2.0', title: 'E2E Gateway 5.1 not affected', publisher: { category: 'coordinator', name: 'Corvania NCSC', namespace: 'https://crv.example' },
        tracking: { id: 'CRV-VEX-2099-0001', status: 'final', version: '1', initial_release_date: '2099-02-02T00:00:00Z', current_release_date: '2099-02-02T00:00:00Z', revision_history: [{ date: '2099-02-02T00:00:00Z', number: '1', summary: 'Initial.' }] },
      },
      product_tree: { full_product_names: [{ name: 'Acme E2E Gateway 5.1', product_id: 'P1', product_identification_helper: { cpe: CPE } }] },
      vulnerabilities: [{ cve: CVE, product_status: { known_not_affected: ['P1'] }, flags: [{ label: 'vulnerable_code_not_in_execute_path', product_ids: ['P1'] }] }],
    };
    await page.goto(`${server.baseUrl}/#/readiness/advisories`);
    await page.getByLabel('CSAF JSON').fill(JSON.stringify(vex));
    await page.getByRole('button', { name: 'Import advisory' }).click();
    await expect.poll(async () => page.getByTestId('vex-outcomes').textContent(), poll).toContain(`${CVE}: cleared (false positive)`);
    await expect.poll(async () => (await page.getByTestId('advisory-row').allTextContents()).join(' '), poll).toContain('CRV-VEX-2099-0001');
    await page.goto(`${server.baseUrl}/#/readiness/exposures`);
    await page.getByTestId('alliance-summary').waitFor();
    await expect.poll(async () => page.getByTestId(`alliance-count-${CVE}`).count(), poll).toBe(0);
    expect(await page.locator(`[data-testid="exposure-row"][data-cve="${CVE}"]`).count()).toBe(0); // filtered to open
    await other.page.reload();
    await other.page.getByTestId('alliance-summary').waitFor();
    await expect.poll(async () => other.page.getByTestId(`alliance-count-${CVE}`).count(), poll).toBe(0);
    await other.ctx.close();
    await ctx.close();
  }, 120_000);
});
