/**
 * End-to-end test of the Federation page (`serve --demo`, Chromium): an administrator adds a
 * peer (URL, key, token, its organisations) and a pull subscription from the forms, sees their
 * status, then removes both; a refused form (a bad key) shows the server's reason; an analyst
 * sees the status but no form and no remove button, and the REST call is refused (403).
 */
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchDemo, rest, stopDemo } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn } from './session.js';

let server: RunningServer;
let browser: Browser;

const rawKey = () => Buffer.from((crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64');

describe.skipIf(!existsSync(CHROMIUM))('Federation page (e2e, Chromium)', () => {
  beforeAll(async () => ({ server, browser } = await launchDemo()), 120_000);
  afterAll(() => stopDemo(server, browser));

  it('an administrator adds a peer and a subscription, sees their status, and removes them', async () => {
    const admin = await demoActor(server, 'ald.admin');
    const collections = await rest<{ items: { id: string; alias: string | null; title: string }[] }>(server.baseUrl, '/collections', { token: admin.token });
    const local = collections.items[0]!;
    const { ctx, page } = await openSignedIn({ browser, server }, admin, '#/federation');
    page.on('dialog', (d) => void d.accept());
    try {
      await page.getByRole('heading', { name: 'Federation', level: 1 }).waitFor();
      // A refused registration shows the reason and adds nothing.
      await page.getByTestId('peer-name').fill('se');
      await page.getByTestId('peer-key').fill('not-a-key');
      await page.getByTestId('add-peer').click();
      await page.getByText(/public key must be the base64 of a raw 32-byte Ed25519 key/).waitFor();
      expect(await page.getByTestId('peer').count()).toBe(0);
      // The real one.
      await page.getByTestId('peer-key').fill(rawKey());
      await page.getByTestId('peer-url').fill('http://127.0.0.1:9');
      await page.getByTestId('peer-token').fill('token-that-se-issued-to-us');
      await page.getByTestId('peer-orgs').fill(`identity--${crypto.randomUUID()}:SECERT:Swedish CERT`);
      await page.getByTestId('add-peer').click();
      await page.getByTestId('peer').first().waitFor();
      const row = await page.getByTestId('peer').first().textContent();
      expect(row).toContain('se');
      expect(row).toContain('SECERT');
      expect(row).toContain('kept (encrypted)');
      // A subscription from the form.
      await page.getByTestId('sub-remote').fill('alliance');
      await page.getByTestId('sub-local').selectOption(local.id);
      await page.getByTestId('add-subscription').click();
      await page.getByTestId('subscription').first().waitFor();
      expect(await page.getByTestId('subscription').first().textContent()).toContain('pull');
      const subs = await rest<{ items: { subscription: { id: string; peer: string; localCollection: string } }[] }>(server.baseUrl, '/federation/subscriptions', { token: admin.token });
      expect(subs.items.map((s) => [s.subscription.peer, s.subscription.localCollection])).toEqual([['se', local.id]]);
      // The peer cannot go while it has subscriptions: the reason is shown.
      await page.getByTestId('remove-peer').click();
      await page.getByText(/has subscriptions/).waitFor();
      await page.getByTestId('remove-subscription').click();
      await expect.poll(async () => page.getByTestId('subscription').count(), { timeout: 10_000 }).toBe(0);
      await page.getByTestId('remove-peer').click();
      await expect.poll(async () => page.getByTestId('peer').count(), { timeout: 10_000 }).toBe(0);
    } finally {
      await ctx.close();
    }
  }, 90_000);

  it('an analyst sees the status but no form and no remove button; the REST call is refused', async () => {
    const analyst = await demoActor(server, 'crv.analyst');
    const { ctx, page } = await openSignedIn({ browser, server }, analyst, '#/federation');
    try {
      await page.getByRole('heading', { name: 'Federation', level: 1 }).waitFor();
      await page.getByRole('region', { name: 'Subscriptions' }).waitFor();
      expect(await page.getByTestId('add-peer').count()).toBe(0);
      expect(await page.getByTestId('add-subscription').count()).toBe(0);
      expect(await page.getByTestId('remove-peer').count()).toBe(0);
    } finally {
      await ctx.close();
    }
    await expect(rest(server.baseUrl, '/federation/peers', { token: analyst.token, method: 'POST', body: { name: 'se', publicKey: rawKey() } })).rejects.toThrow(/403/);
  }, 60_000);
});
