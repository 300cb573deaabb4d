/**
 * Web hardening (issue #11, item 7): the dashboard's index page carries the same
 * Content-Security-Policy as its deep links, the production bundle has no source map to serve,
 * and the failed-authentication limiter locks out a guesser, not everyone behind the same
 * proxy: it counts per account and address, and honours a configured trusted proxy
 * (SHIELDWALL_TRUSTED_PROXY) to learn the client's address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, createPlatform, type Platform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { openSqliteStore } from '../src/store/index.js';

const webDir = path.resolve(import.meta.dirname, '../dist/web');
const worlds: { platform: Platform; app: FastifyInstance; dir: string }[] = [];

async function world(env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-web-'));
  const platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent', ...env }), { store: await openSqliteStore(':memory:') });
  const org = await platform.access.createOrganisation(SYSTEM_ACTOR, { name: 'Org', shortName: 'ORG' });
  for (const u of ['alice', 'bob']) await platform.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: u, password: 'long enough password', roles: ['analyst'] });
  const app = await buildApp(platform, { logger: false });
  worlds.push({ platform, app, dir });
  return app;
}
afterAll(async () => {
  for (const w of worlds) {
    await w.app.close();
    await w.platform.close();
    fs.rmSync(w.dir, { recursive: true, force: true });
  }
});

const login = (app: FastifyInstance, username: string, password: string, extra: { remoteAddress?: string; headers?: Record<string, string> } = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json', ...extra.headers }, payload: JSON.stringify({ username, password }), ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}) });

describe('the dashboard', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    if (!fs.existsSync(path.join(webDir, 'index.html'))) throw new Error('dist/web is missing: run `npm run build:web` first');
    app = await world();
  });

  it('sends the Content-Security-Policy on the index page as on deep links', async () => {
    for (const url of ['/', '/index.html', '/incidents']) {
      const r = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toContain('text/html');
      expect(r.headers['content-security-policy'], url).toContain("default-src 'self'");
    }
  });

  it('ships no source map and serves none', async () => {
    const files = fs.readdirSync(webDir, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const f of files.filter((x) => x.endsWith('.js'))) expect(fs.readFileSync(path.join(webDir, f), 'utf8'), f).not.toContain('sourceMappingURL');
    const js = files.find((f) => f.endsWith('.js'))!;
    expect((await app.inject({ method: 'GET', url: `/${js}.map` })).statusCode).toBe(404);
  });
});

describe('the failed-authentication limiter', () => {
  it('behind one address, a guesser of one account does not lock out the others', async () => {
    const app = await world({ SHIELDWALL_AUTH_FAILURE_LIMIT: '5' });
    const proxy = { remoteAddress: '10.0.0.1' };
    for (let i = 0; i < 5; i++) expect((await login(app, 'alice', `wrong ${i}`, proxy)).statusCode).toBe(401);
    expect((await login(app, 'alice', 'long enough password', proxy)).statusCode, 'the guessed account is held').toBe(429);
    expect((await login(app, 'bob', 'long enough password', proxy)).statusCode, 'another account from the same address').toBe(200);
    // Spraying many accounts from one address is still bounded (5 × the per-account limit).
    for (let i = 0; i < 25; i++) await login(app, `nobody${i}`, 'x', proxy);
    expect((await login(app, 'bob', 'long enough password', proxy)).statusCode).toBe(429);
    expect((await login(app, 'bob', 'long enough password', { remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
  });

  it('takes the client address from X-Forwarded-For only from a configured trusted proxy', async () => {
    const trusted = await world({ SHIELDWALL_AUTH_FAILURE_LIMIT: '5', SHIELDWALL_TRUSTED_PROXY: '10.0.0.1' });
    const via = (client: string, remoteAddress = '10.0.0.1') => ({ remoteAddress, headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < 30; i++) await login(trusted, `nobody${i}`, 'x', via('203.0.113.5'));
    expect((await login(trusted, 'bob', 'long enough password', via('203.0.113.5'))).statusCode).toBe(429);
    expect((await login(trusted, 'bob', 'long enough password', via('203.0.113.6'))).statusCode, 'another client behind the proxy').toBe(200);
    // An untrusted sender cannot choose its address by the header.
    for (let i = 0; i < 30; i++) await login(trusted, `nobody${i}`, 'x', via(`198.51.100.${i}`, '192.0.2.9'));
    expect((await login(trusted, 'bob', 'long enough password', via('198.51.100.200', '192.0.2.9'))).statusCode).toBe(429);
  });

  it('refuses a malformed SHIELDWALL_TRUSTED_PROXY', () => {
    expect(() => loadConfig({ SHIELDWALL_DATA_DIR: '/tmp/x', SHIELDWALL_TRUSTED_PROXY: 'everyone!' })).toThrow(/SHIELDWALL_TRUSTED_PROXY/);
  });
});
