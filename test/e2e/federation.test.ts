/**
 * End-to-end test of the Federation page (`serve --demo`, Chromium): an administrator adds a
 * peer (URL, key, token, its organisations) and a pull subscription from the forms, sees their
 * status, then removes both; a refused form (a bad key) shows the server's reason; an analyst
 * sees the status but no form and no remove button, and the REST call is refused (403). Objects a
 * peer sent that were refused are listed on the page and the list is cleared from it. An
 * administrator rotates the node's signing key from the page.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, launchDemo, rest, stopDemo } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn } from './session.js';
import { fakePeer } from '../helpers/fake-peer.js';

let server: RunningServer;
let browser: Browser;

const rawKey = () => Buffer.from((crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64');

describe.runIf(BROWSER_TESTS)('Federation page (e2e, Chromium)', () => {
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
      await page.getByTestId('peer-relayed-orgs').fill(`identity--${crypto.randomUUID()}:FICERT:Finnish CERT`);
      await page.getByTestId('add-peer').click();
      await page.getByTestId('peer').first().waitFor();
      const row = await page.getByTestId('peer').first().textContent();
      expect(row).toContain('se');
      expect(row).toContain('kept (encrypted)');
      expect(await page.getByTestId('peer-orgs-list').first().textContent()).toBe('SECERT, FICERT (relayed)');
      // The token the peer issues later is kept from the page (replaced here), never shown.
      await page.getByTestId('set-token-value').fill('a-second-token-from-se');
      await page.getByTestId('set-token').click();
      await expect.poll(async () => page.getByTestId('set-token-value').inputValue(), { timeout: 10_000 }).toBe('');
      expect(await page.content()).not.toContain('a-second-token-from-se');
      const peers = await rest<{ items: { name: string; hasToken: boolean; orgs: { shortName: string; relayed: boolean }[] }[] }>(server.baseUrl, '/federation/peers', { token: admin.token });
      expect(peers.items[0]).toMatchObject({ name: 'se', hasToken: true, orgs: [{ shortName: 'SECERT', relayed: false }, { shortName: 'FICERT', relayed: true }] });
      // A subscription from the form.
      await page.getByTestId('sub-remote').fill('alliance');
      await page.getByTestId('sub-local').selectOption(local.id);
      // Only what the peer added from a day on.
      await page.getByTestId('sub-since-input').fill('2026-01-15');
      await page.getByTestId('add-subscription').click();
      await page.getByTestId('subscription').first().waitFor();
      expect(await page.getByTestId('subscription').first().textContent()).toContain('pull');
      expect(await page.getByTestId('sub-since').textContent()).toContain('since');
      const subs = await rest<{ items: { subscription: { id: string; peer: string; localCollection: string; since?: string } }[] }>(server.baseUrl, '/federation/subscriptions', { token: admin.token });
      expect(subs.items.map((s) => [s.subscription.peer, s.subscription.localCollection, s.subscription.since])).toEqual([['se', local.id, '2026-01-15T00:00:00.000000Z']]);
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

  it('an administrator sees what a peer sent that was refused, and clears the reject list', async () => {
    // A peer that serves three objects without their provenance envelopes: each is refused.
    const objects = [0, 1, 2].map(() => ({
      type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      pattern: "[ipv4-addr:value = '192.0.2.1']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00.000Z',
    }));
    // It serves them once (the node's scheduler also runs the subscription: after the list is
    // cleared it finds nothing new, as it would on a real peer after its cursor).
    let served = false;
    const peer = await fakePeer(() => (_req, res, url) => {
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/taxii+json;version=2.1' }).end(JSON.stringify(body));
      if (url.pathname.endsWith('/objects/')) {
        const page = served ? [] : objects;
        served = true;
        return answer(200, { objects: page, more: false });
      }
      // Asked for the page's envelopes by id (what a node does when the page carries none): none.
      if (url.pathname === '/api/v1/federation/envelopes') return answer(200, { envelopes: [] });
      return answer(404, { title: 'not here' });
    });
    const admin = await demoActor(server, 'ald.admin');
    const collections = await rest<{ items: { id: string; canWrite: boolean }[] }>(server.baseUrl, '/collections', { token: admin.token });
    await rest(server.baseUrl, '/federation/peers', { token: admin.token, method: 'POST', body: { name: 'refusing', url: peer.url, publicKey: peer.publicKey, token: 'token-of-the-demo-node' } });
    const sub = await rest<{ subscription: { id: string } }>(server.baseUrl, '/federation/subscriptions', {
      token: admin.token, method: 'POST', body: { peer: 'refusing', direction: 'pull', remoteCollection: 'remote', localCollection: collections.items.find((c) => c.canWrite)!.id, intervalS: 86_400 },
    });
    await rest(server.baseUrl, `/federation/subscriptions/${sub.subscription.id}/run`, { token: admin.token, method: 'POST', body: {} });
    const { ctx, page } = await openSignedIn({ browser, server }, admin, '#/federation');
    page.on('dialog', (d) => void d.accept());
    try {
      const row = page.getByTestId('subscription').filter({ hasText: sub.subscription.id });
      await expect.poll(async () => row.getByTestId('rejects').textContent(), { timeout: 10_000 }).toBe('3');
      await row.getByTestId('show-rejects').click();
      await expect.poll(async () => page.getByTestId('reject').count(), { timeout: 10_000 }).toBe(3);
      expect(await page.getByTestId('reject').first().textContent()).toMatch(/no provenance envelope from refusing/);
      await row.getByTestId('clear-rejects').click();
      await expect.poll(async () => row.getByTestId('rejects').textContent(), { timeout: 10_000 }).toBe('0');
      expect(await page.getByTestId('reject').count()).toBe(0);
      const after = await rest<{ items: unknown[] }>(server.baseUrl, `/federation/subscriptions/${sub.subscription.id}/rejects`, { token: admin.token });
      expect(after.items).toEqual([]);
    } finally {
      await ctx.close();
      await rest(server.baseUrl, `/federation/subscriptions/${sub.subscription.id}`, { token: admin.token, method: 'DELETE' });
      await rest(server.baseUrl, '/federation/peers/refusing', { token: admin.token, method: 'DELETE' });
      await peer.close();
    }
  }, 90_000);

  it('an administrator rotates the node signing key from the page and is told what each peer runs; then the secret', async () => {
    const admin = await demoActor(server, 'ald.admin');
    const { ctx, page } = await openSignedIn({ browser, server }, admin, '#/federation');
    page.on('dialog', (d) => void d.accept());
    try {
      const before = await page.getByTestId('public-key').textContent();
      expect(before).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      await page.getByTestId('rotate-key').click();
      await page.getByTestId('rotated').waitFor();
      const after = await page.getByTestId('public-key').textContent();
      expect(after).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(after).not.toBe(before);
      const told = await page.getByTestId('rotated').textContent();
      expect(told).toContain(`--public-key ${after!}`);
      expect(told).toContain(before!);
      const node = await rest<{ publicKey: string }>(server.baseUrl, '/federation/node', { token: admin.token });
      expect(node.publicKey).toBe(after);
      // The secret: re-encrypts what the node keeps, says how many, and the peers' tokens still open.
      await page.getByTestId('rotate-secret').click();
      await page.getByTestId('secret-rotated').waitFor();
      expect(await page.getByTestId('secret-rotated').textContent()).toMatch(/\d+ peer token\(s\) and \d+ TAXII feed credential\(s\) re-encrypted/);
      expect(await page.getByTestId('public-key').textContent()).toBe(after);
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('an administrator adds a TAXII feed from the page, pulls it (its error shown where it failed) and removes it', async () => {
    const admin = await demoActor(server, 'ald.admin');
    const { ctx, page } = await openSignedIn({ browser, server }, admin, '#/federation');
    page.on('dialog', (d) => void d.accept());
    try {
      await page.getByTestId('no-feeds').waitFor();
      await page.getByTestId('feed-name').fill('vendor');
      await page.getByTestId('feed-url').fill('http://127.0.0.1:9');
      await page.getByTestId('feed-remote').fill('91a7b528-80eb-42ed-a74d-c6fbd5a26116');
      await page.getByTestId('feed-local').selectOption({ index: 1 });
      await page.getByTestId('feed-org').fill('ALD-CERT');
      await page.getByTestId('feed-tlp').selectOption('amber');
      await page.getByTestId('feed-auth').selectOption('bearer');
      await page.getByTestId('feed-token').fill('a-vendor-token-never-shown');
      await page.getByTestId('add-feed').click();
      await page.getByTestId('taxii-feed').first().waitFor();
      expect(await page.content()).not.toContain('a-vendor-token-never-shown');
      await page.getByTestId('feed-pull').click();
      // Nothing listens there: the pull fails, and the feed's last error says why.
      await expect.poll(async () => page.getByTestId('feed-error').first().textContent(), { timeout: 15_000 }).toMatch(/127\.0\.0\.1:9\/api1\/collections\/.*: \S/);
      await page.getByTestId('feed-remove').click();
      await page.getByTestId('no-feeds').waitFor();
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('an analyst sees the status but no form and no remove button; the REST call is refused', async () => {
    const analyst = await demoActor(server, 'crv.analyst');
    const { ctx, page } = await openSignedIn({ browser, server }, analyst, '#/federation');
    try {
      await page.getByRole('heading', { name: 'Federation', level: 1 }).waitFor();
      await page.getByRole('region', { name: 'Subscriptions' }).waitFor();
      expect(await page.getByTestId('add-peer').count()).toBe(0);
      expect(await page.getByTestId('add-subscription').count()).toBe(0);
      expect(await page.getByTestId('remove-peer').count()).toBe(0);
      expect(await page.getByTestId('rotate-key').count()).toBe(0);
      expect(await page.getByTestId('rotate-secret').count()).toBe(0);
      await page.getByRole('region', { name: 'TAXII feeds' }).waitFor();
      expect(await page.getByTestId('add-feed').count()).toBe(0);
    } finally {
      await ctx.close();
    }
    await expect(rest(server.baseUrl, '/federation/peers', { token: analyst.token, method: 'POST', body: { name: 'se', publicKey: rawKey() } })).rejects.toThrow(/403/);
  }, 60_000);
});
