/**
 * The web app shows each reader only what the permission table lets it do (issue 11, item 11):
 * for every demo role of one member, each navigation entry and each action button that calls a
 * guarded route is present exactly when the documented table (src/access/permissions.ts) grants
 * the route's action to the user's roles. Driven in the system Chromium against a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, launchDemo, stopDemo } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn } from './session.js';
import { can, type Action } from '../../src/access/index.js';
import type { Role } from '../../src/store/types.js';

let server: RunningServer;
let browser: Browser;

/** Where each checked control lives, and the action of the route it calls (src/api/route-permissions.ts). */
const CONTROLS: { hash: string; ready: string; action: Action; present: (p: Page) => Promise<boolean> }[] = [
  { hash: '#/incidents', ready: 'Incidents', action: 'incident.write', present: (p) => p.getByRole('button', { name: 'Declare incident…' }).isVisible() },
  { hash: '#/assistance', ready: 'Assistance board', action: 'assistance.write', present: (p) => p.getByRole('button', { name: 'Request assistance…' }).isVisible() },
  { hash: '#/decisions', ready: 'Decisions', action: 'decision.write', present: (p) => p.getByRole('button', { name: 'Propose decision…' }).isVisible() },
  { hash: '#/attribution', ready: 'Attribution assessments', action: 'assessment.write', present: (p) => p.getByRole('form', { name: 'New assessment' }).isVisible() },
  { hash: '#/alert-levels', ready: 'Alert levels', action: 'alert-level.write', present: (p) => p.getByRole('form', { name: 'Change own alert level' }).isVisible() },
  // Reached by a deep link even where the menu hides them: the form is there only for those who may use it.
  { hash: '#/import', ready: 'Import a STIX bundle', action: 'intel.write', present: (p) => p.getByTestId('import-form').isVisible() },
  { hash: '#/readiness/inventory', ready: 'Inventory', action: 'inventory.write', present: (p) => p.getByRole('form', { name: 'Import inventory' }).isVisible() },
  { hash: '#/readiness/advisories', ready: 'Advisories', action: 'advisory.write', present: (p) => p.getByRole('form', { name: 'Import CSAF advisory' }).isVisible() },
];
const NAV: { label: string; action: Action | null }[] = [
  { label: 'Operational picture', action: null },
  { label: 'Import', action: 'intel.write' },
  { label: 'System', action: 'admin.system' },
];

describe.runIf(BROWSER_TESTS)('buttons follow the permission table (e2e, Chromium)', () => {
  beforeAll(async () => ({ server, browser } = await launchDemo()), 120_000);
  afterAll(() => stopDemo(server, browser));

  for (const username of ['ald.analyst', 'ald.responder', 'ald.rep', 'ald.admin']) {
    it(`${username} sees exactly the actions its roles hold`, async () => {
      const a = await demoActor(server, username);
      const principal = { kind: 'password' as const, roles: a.user.roles as Role[] };
      const { ctx, page } = await openSignedIn({ browser, server }, a);
      try {
        const nav = page.getByRole('navigation', { name: 'Main' });
        await nav.getByRole('link', { name: 'Operational picture' }).waitFor();
        for (const n of NAV) {
          const shown = await nav.getByRole('link', { name: n.label, exact: true }).count();
          expect({ user: username, nav: n.label, shown: shown === 1 }).toEqual({ user: username, nav: n.label, shown: n.action === null || can(principal, n.action) });
        }
        for (const c of CONTROLS) {
          await page.goto(`${server.baseUrl}/${c.hash}`);
          await page.getByRole('heading', { level: 1, name: c.ready }).waitFor();
          expect({ user: username, page: c.hash, shown: await c.present(page) }).toEqual({ user: username, page: c.hash, shown: can(principal, c.action) });
        }
      } finally {
        await ctx.close();
      }
    }, 90_000);
  }
});
