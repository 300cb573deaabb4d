/**
 * End-to-end tests of the web shell against a real server started from the built CLI with the
 * demo alliance. The browser is the system Chromium, driven by playwright-core.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, CHROMIUM_ARGS, rest, startServer } from './harness.js';
import type { DemoUser, RunningServer } from './harness.js';
import { bundle, indicator, malware, newVersion, relationship } from './fixtures.js';
import type { Stix } from './fixtures.js';

interface Actor { user: DemoUser; token: string; orgId: string; displayName: string; readable: Set<string>; writable: Set<string> }
interface Org { id: string; name: string; shortName: string }
interface ImportResult { total: number; added: number; duplicates: number; rejected: number }

const tag = `e2e-${randomUUID().slice(0, 8)}`;

let server: RunningServer;
let browser: Browser;
let orgs: Org[];
let writer: Actor;
let recipient: Actor;
let outsider: Actor;
let collection: string;
const seed: Record<'i1' | 'i2' | 'i3' | 'mal' | 'rel' | 'amber', Stix> = {} as never;

async function actor(user: DemoUser): Promise<Actor> {
  const { token } = await rest<{ token: string }>(server.baseUrl, '/auth/login', { method: 'POST', body: { username: user.username, password: user.password } });
  const me = await rest<{ user: { orgId: string; displayName: string } }>(server.baseUrl, '/me', { token });
  const cols = await rest<{ items: { id: string; canRead: boolean; canWrite: boolean }[] }>(server.baseUrl, '/collections', { token });
  return {
    user, token, orgId: me.user.orgId, displayName: me.user.displayName,
    readable: new Set(cols.items.filter((c) => c.canRead).map((c) => c.id)),
    writable: new Set(cols.items.filter((c) => c.canWrite).map((c) => c.id)),
  };
}

/** A writer, and users of two other organisations that can read the same collection. */
function chooseActors(actors: Actor[]): void {
  // Importing needs the analyst (or admin) role besides write access to the collection.
  for (const w of actors.filter((a) => a.user.roles.includes('analyst') || a.user.roles.includes('admin'))) {
    for (const col of w.writable) {
      const others = actors.filter((a) => a.orgId !== w.orgId && a.readable.has(col));
      const r = others[0];
      const o = others.find((a) => a.orgId !== r?.orgId);
      if (r && o) { writer = w; recipient = r; outsider = o; collection = col; return; }
    }
  }
  throw new Error('the demo alliance needs a writer and users of two other organisations sharing a collection');
}

async function importRest(objects: Stix[], tlp: string, recipients: string[] = []): Promise<ImportResult> {
  const q = new URLSearchParams({ collection, tlp });
  if (recipients.length) q.set('recipients', recipients.join(','));
  return rest<ImportResult>(server.baseUrl, `/intel/import?${q}`, { token: writer.token, method: 'POST', body: bundle(objects) });
}

async function seedIntel(): Promise<void> {
  const c = { creator: writer.orgId, label: tag };
  seed.i1 = indicator(c, `${tag} beacon v1`, '198.51.100.7');
  seed.i2 = indicator(c, `${tag} scanner`, '198.51.100.8');
  seed.mal = malware(c, `${tag} RAT`);
  seed.rel = relationship(c, 'indicates', seed.i1, seed.mal);
  seed.i3 = indicator(c, `${tag} public`, '203.0.113.9');
  seed.amber = indicator(c, `${tag} amber only`, '192.0.2.44');
  expect((await importRest([seed.i1, seed.i2, seed.mal, seed.rel], 'green')).added).toBe(4);
  expect((await importRest([seed.i3], 'clear')).added).toBe(1);
  const v2 = newVersion(seed.i1, '2026-02-01T09:00:00.000Z', { name: `${tag} beacon v2`, description: 'Second look: C2 beacon' });
  expect((await importRest([v2], 'green')).added).toBe(1);
  expect((await importRest([seed.amber], 'amber', [recipient.orgId])).added).toBe(1);
}

async function newPage(): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  return { ctx, page };
}

async function signIn(page: Page, user: DemoUser, password = user.password): Promise<void> {
  await page.goto(`${server.baseUrl}/`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signedIn(user: Actor): Promise<{ ctx: BrowserContext; page: Page }> {
  const p = await newPage();
  await signIn(p.page, user.user);
  await p.page.getByTestId('whoami').waitFor();
  return p;
}

/** Rows of the explorer table as "type/tlp" strings, sorted, once loading has finished. */
async function rows(page: Page): Promise<string[]> {
  await page.getByTestId('result-count').waitFor();
  const got = await page.getByTestId('intel-row').evaluateAll((els) =>
    els.map((e) => `${e.getAttribute('data-type')}/${e.getAttribute('data-tlp')}`));
  return got.sort();
}

async function rowIds(page: Page): Promise<string[]> {
  await page.getByTestId('result-count').waitFor();
  return page.getByTestId('intel-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''));
}

async function filterByLabel(page: Page): Promise<void> {
  await page.goto(`${server.baseUrl}/#/intel`);
  await page.getByLabel('Label', { exact: true }).fill(tag);
  await page.getByRole('button', { name: 'Apply filters' }).click();
}

// Generous: `npm test` runs this file beside every other suite, on a busy machine.
const poll = { timeout: 20_000, interval: 100 };

describe.runIf(BROWSER_TESTS)('web shell (e2e, Chromium)', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const actors = await Promise.all(server.users.map(actor));
    chooseActors(actors);
    orgs = (await rest<{ items: Org[] }>(server.baseUrl, '/organisations', { token: writer.token })).items;
    await seedIntel();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('refuses a wrong password with the server message, signs in and out with the right one', async () => {
    const { ctx, page } = await newPage();
    await signIn(page, writer.user, `${writer.user.password}-wrong`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect((await alert.textContent())?.length).toBeGreaterThan(15);
    expect(await page.getByTestId('whoami').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('shieldwall.session'))).toBeNull();

    await page.getByLabel('Password').fill(writer.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('whoami').waitFor();
    expect(await page.getByTestId('whoami').textContent()).toContain(writer.displayName);
    expect(await page.evaluate(() => sessionStorage.getItem('shieldwall.session'))).toContain('token');

    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('shieldwall.session') ?? '{}') as { token?: string }).token);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('signin-form').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('shieldwall.session'))).toBeNull();
    // Signing out revokes the session on the server too.
    await expect.poll(async () => (await fetch(`${server.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } })).status, poll).toBe(401);
    await page.reload();
    await page.getByTestId('signin-form').waitFor();
    await ctx.close();
  });

  it('shows every organisation of the alliance, the sharing groups and the collections', async () => {
    const { ctx, page } = await signedIn(writer);
    // Sign-in lands on the operational picture; the alliance page is one link away.
    await page.getByRole('heading', { name: 'Common operational picture' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alliance' }).click();
    await page.getByRole('heading', { name: 'Alliance overview' }).waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#/alliance');
    await page.getByTestId('org-row').first().waitFor();
    const shown = await page.getByTestId('org-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-org-id')));
    expect(shown.sort()).toEqual(orgs.map((o) => o.id).sort());
    const text = await page.locator('main').textContent();
    for (const o of orgs) expect(text).toContain(o.name);
    // The writer's own organisation shares at least the seeded GREEN, CLEAR and AMBER objects.
    const own = page.locator(`[data-testid="org-row"][data-org-id="${writer.orgId}"]`);
    for (const t of ['green', 'clear', 'amber']) expect(await own.locator(`[data-tlp="${t}"]`).count()).toBe(1);
    expect(await page.getByTestId('collection-row').count()).toBeGreaterThan(0);
    await ctx.close();
  });

  it('narrows the explorer rows by type and by TLP', async () => {
    const { ctx, page } = await signedIn(writer);
    await filterByLabel(page);
    await expect.poll(() => rows(page), poll).toEqual(['indicator/amber', 'indicator/clear', 'indicator/green', 'indicator/green', 'malware/green']);

    await page.getByLabel('Type').selectOption('indicator');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows(page), poll).toEqual(['indicator/amber', 'indicator/clear', 'indicator/green', 'indicator/green']);

    await page.getByTestId('tlp-filter-green').check();
    await page.getByTestId('tlp-filter-clear').check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows(page), poll).toEqual(['indicator/clear', 'indicator/green', 'indicator/green']);

    await page.getByTestId('tlp-filter-clear').uncheck();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows(page), poll).toEqual(['indicator/green', 'indicator/green']);
    // Filters live in the URL, so the view survives a reload.
    await page.reload();
    await expect.poll(() => rows(page), poll).toEqual(['indicator/green', 'indicator/green']);

    await page.getByLabel('Type').selectOption('tool');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByTestId('no-results').waitFor();
    await ctx.close();
  });

  it('shows the versions, a diff and a relationship graph whose nodes navigate', async () => {
    const { ctx, page } = await signedIn(writer);
    await filterByLabel(page);
    await page.getByRole('link', { name: `${tag} beacon v2` }).click();
    await page.getByTestId('detail').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain(`${tag} beacon v2`);
    expect(JSON.parse((await page.getByTestId('raw-stix').textContent()) ?? '{}')).toMatchObject({ id: seed.i1?.id, name: `${tag} beacon v2` });
    // The indicator's pattern and validity are on the page, not only in the raw JSON.
    expect(await page.getByTestId('indicator-pattern').textContent()).toBe("[ipv4-addr:value = '198.51.100.7']");
    expect(await page.getByTestId('indicator-valid-from').textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    expect(await page.getByTestId('indicator-valid-until').textContent()).toBe('no end given');
    // Raw STIX wraps long lines instead of overflowing the page.
    expect(await page.getByTestId('raw-stix').evaluate((el) => getComputedStyle(el).whiteSpace)).toBe('pre-wrap');
    // The indicator's observable value, with the other objects that carry it (intel correlation).
    await page.locator('[data-testid="correlated-value"][data-value="198.51.100.7"]').waitFor();

    expect(await page.getByTestId('version-select').locator('option').count()).toBe(2);
    await page.getByTestId('diff-none').waitFor();
    await page.getByTestId('version-select').selectOption({ index: 0 });
    const diff = await page.getByTestId('diff-row').allTextContents();
    expect(diff.some((d) => d.includes('name'))).toBe(true);
    expect(diff.some((d) => d.includes('description') && d.includes('added'))).toBe(true);

    const graph = page.getByTestId('relationship-graph');
    expect(await graph.getByTestId('graph-node').count()).toBe(2);
    expect(await graph.getByTestId('graph-edge').textContent()).toBe('indicates');
    expect(await page.getByTestId('relationship-row').count()).toBe(1);

    await graph.locator(`[data-testid="graph-node"][data-id="${String(seed.mal?.id)}"]`).click();
    await expect.poll(() => page.url(), poll).toContain(encodeURIComponent(String(seed.mal?.id)));
    await expect.poll(async () => page.getByRole('heading', { level: 1 }).textContent(), poll).toContain(`${tag} RAT`);
    expect(await page.getByTestId('relationship-graph').getByTestId('graph-node').count()).toBe(2);
    await ctx.close();
  });

  it('imports a pasted bundle, reports rejects and duplicates, and the objects appear in the explorer', async () => {
    const { ctx, page } = await signedIn(writer);
    await page.getByRole('link', { name: 'Import' }).click();
    await page.getByTestId('import-form').waitFor();

    await page.getByLabel('…or paste the bundle JSON').fill('{"type": "bundle", "objects": [');
    await page.getByRole('button', { name: 'Import' }).click();
    expect(await page.getByTestId('error-message').textContent()).toContain('not valid JSON');

    const label = `${tag}-ui`;
    const c = { creator: writer.orgId, label };
    const ok1 = indicator(c, `${label} dropper`, '198.51.100.77');
    const ok2 = malware(c, `${label} loader`);
    const bad = { type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`, created: 'yesterday', modified: 'yesterday', name: 'broken' };
    const text = JSON.stringify(bundle([ok1, ok2, bad]), null, 2);
    await page.getByLabel('…or paste the bundle JSON').fill(text);
    await page.getByLabel('Collection').selectOption(collection);
    await page.getByLabel('TLP for unmarked objects').selectOption('green');
    await page.getByRole('button', { name: 'Import' }).click();
    const result = page.getByTestId('import-result');
    await result.waitFor();
    expect(await result.getByTestId('result-total').textContent()).toBe('3');
    expect(await result.getByTestId('result-added').textContent()).toBe('2');
    expect(await result.getByTestId('result-rejected').textContent()).toBe('1');
    expect(await page.getByTestId('import-errors').textContent()).toContain(bad.id);

    // Imports are idempotent by (id, modified): the same bundle again, now chosen as a file, only adds duplicates.
    await page.getByLabel('…or paste the bundle JSON').fill('');
    await page.getByLabel('Bundle file').setInputFiles({ name: 'bundle.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    await expect.poll(() => page.getByLabel('…or paste the bundle JSON').inputValue(), poll).toBe(text);
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(async () => result.getByTestId('result-duplicates').textContent(), poll).toBe('2');
    expect(await result.getByTestId('result-added').textContent()).toBe('0');

    await page.goto(`${server.baseUrl}/#/intel?label=${encodeURIComponent(label)}`);
    await expect.poll(() => rows(page), poll).toEqual(['indicator/green', 'malware/green']);
    await ctx.close();
  });

  it('hides AMBER objects from an organisation they were not addressed to', async () => {
    const amberId = String(seed.amber?.id);
    // A second one, addressed through the import form's recipient list.
    const strict = indicator({ creator: writer.orgId, label: tag }, `${tag} strict via form`, '192.0.2.45');
    const w = await signedIn(writer);
    await w.page.goto(`${server.baseUrl}/#/import`);
    await w.page.getByLabel('…or paste the bundle JSON').fill(JSON.stringify(bundle([strict])));
    await w.page.getByLabel('Collection').selectOption(collection);
    await w.page.getByLabel('TLP for unmarked objects').selectOption('amber+strict');
    await w.page.locator(`[data-testid="recipient"][value="${recipient.orgId}"]`).check();
    await w.page.getByRole('button', { name: 'Import' }).click();
    expect(await w.page.getByTestId('import-result').getByTestId('result-added').textContent()).toBe('1');
    await w.ctx.close();

    const out = await signedIn(outsider);
    await filterByLabel(out.page);
    // Positive control: the outsider sees the GREEN and CLEAR objects of the same collection.
    await expect.poll(() => rows(out.page), poll).toEqual(['indicator/clear', 'indicator/green', 'indicator/green', 'malware/green']);
    expect(await rowIds(out.page)).not.toContain(amberId);
    expect(await rowIds(out.page)).not.toContain(strict.id);
    await out.page.goto(`${server.baseUrl}/#/intel/${encodeURIComponent(amberId)}`);
    await out.page.getByTestId('error').waitFor();
    expect(await out.page.getByTestId('detail').count()).toBe(0);
    expect(await out.page.locator('main').textContent()).not.toContain(`${tag} amber only`);
    await out.ctx.close();

    const rec = await signedIn(recipient);
    await filterByLabel(rec.page);
    await expect.poll(() => rowIds(rec.page), poll).toContain(amberId);
    expect(await rowIds(rec.page)).toContain(strict.id);
    await rec.page.getByRole('link', { name: `${tag} amber only` }).click();
    await rec.page.getByTestId('detail').waitFor();
    expect(await rec.page.getByTestId('summary').getByTestId('tlp-badge').textContent()).toBe('TLP:AMBER');
    const recipientName = orgs.find((o) => o.id === recipient.orgId)?.name ?? recipient.orgId;
    expect(await rec.page.getByTestId('summary').textContent()).toContain(recipientName);
    await rec.ctx.close();
  });

  it('pages through the explorer with the next cursor', async () => {
    const { ctx, page } = await signedIn(writer);
    await page.goto(`${server.baseUrl}/#/intel`);
    await page.getByTestId('intel-row').first().waitFor();
    const firstPage = (await rowIds(page)).length;
    expect(firstPage).toBe(50);
    for (let i = 0; i < 20 && (await page.getByTestId('load-more').count()) > 0; i++) {
      const before = (await rowIds(page)).length;
      await page.getByTestId('load-more').click();
      await expect.poll(async () => (await rowIds(page)).length, poll).toBeGreaterThan(before);
    }
    expect(await page.getByTestId('load-more').count()).toBe(0);
    const ids = await rowIds(page);
    expect(ids.length).toBeGreaterThan(firstPage);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of Object.values(seed)) expect(ids).toContain(o.id);
    await ctx.close();
  });

  it('exports the filtered selection as a STIX bundle', async () => {
    const { ctx, page } = await signedIn(writer);
    await page.goto(`${server.baseUrl}/#/intel?label=${tag}`);
    await page.getByTestId('intel-row').first().waitFor();
    expect(await page.getByTestId('export').count()).toBe(0);
    await page.getByLabel('Collection').selectOption(collection);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByTestId('export').waitFor();
    const shown = (await rowIds(page)).sort();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const file = await download.path();
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { type: string; objects: { id: string }[] };
    expect(exported.type).toBe('bundle');
    expect(exported.objects.map((o) => o.id).sort()).toEqual(shown);
    await ctx.close();
  });

  it('changes the own password on the account page: a wrong current one is refused in place, other sessions end', async () => {
    // A demo user no other test here signs in as, so the new password disturbs nobody.
    const taken = new Set([writer, recipient, outsider].map((a) => a.user.username));
    const user = server.users.find((u) => !taken.has(u.username))!;
    const other = await rest<{ token: string }>(server.baseUrl, '/auth/login', { method: 'POST', body: { username: user.username, password: user.password } });
    const { ctx, page } = await newPage();
    await signIn(page, user);
    await page.getByTestId('whoami').getByRole('link').click();
    const form = page.getByTestId('password-form');
    const change = async (current: string, next: string, again = next) => {
      await form.getByLabel('Current password').fill(current);
      await form.getByLabel('New password (at least 12 characters)').fill(next);
      await form.getByLabel('New password again').fill(again);
      await form.getByRole('button', { name: 'Change password' }).click();
    };
    const fresh = `${user.password}-renewed`;
    await change(`${user.password}-wrong`, fresh);
    await expect.poll(async () => form.getByRole('alert').textContent(), poll).toContain('the current password is not right');
    expect(await page.getByTestId('whoami').count()).toBe(1);
    await change(user.password, fresh, `${fresh}x`);
    await expect.poll(async () => form.getByRole('alert').textContent(), poll).toContain('differ');
    await change(user.password, fresh);
    // beforeAll signed every demo user in too: those sessions end with this one.
    await expect.poll(async () => form.getByRole('status').textContent(), poll).toMatch(/^Password changed\. [2-9] other sessions signed out\.$/);
    expect((await fetch(`${server.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${other.token}` } })).status).toBe(401);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, user, fresh);
    await page.getByTestId('whoami').waitFor();
    await ctx.close();
  });

  it('returns to the sign-in form with a notice when the session is revoked elsewhere', async () => {
    const { ctx, page } = await signedIn(recipient);
    // Let the first screen (the operational picture) finish loading first: a request still in
    // flight when the session is revoked would end it before the click below, and the link would be gone.
    await page.getByTestId('member-tile').first().waitFor();
    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('shieldwall.session') ?? '{}') as { token?: string }).token);
    await rest(server.baseUrl, '/auth/logout', { method: 'POST', token, body: {} });
    await page.getByRole('link', { name: 'Intel explorer' }).click();
    await page.getByTestId('signin-form').waitFor();
    expect(await page.getByRole('status').first().textContent()).toContain('session has ended');
    await ctx.close();
  });
});
