/**
 * Scheduled KEV / EPSS feeds (src/readiness/exposure/feeds.ts) against a local HTTP server:
 * configuration through REST (validation → 4xx JSON, permission), a run imports and records its
 * outcome, a failure records the error and backs off, the schedule runs only due feeds, the
 * node configuration provides a feed until REST configures one, gzip bodies are read.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sharedPath } from './helpers/shared.js';
import { makeAlliance, type Alliance } from './rest-fixtures.js';
import { httpFetch, VulnFeeds } from '../src/readiness/exposure/index.js';
import type { AuthedActor } from '../src/respond/index.js';

const DATA = sharedPath('data/readiness');
const KEV = readFileSync(path.join(DATA, 'kev/known_exploited_vulnerabilities-2024.09.09.json'));
const EPSS = readFileSync(path.join(DATA, 'epss/epss_kev_nvd-2024-09-10.csv'));

let server: http.Server;
let base: string;
let hits: string[];
let al: Alliance;

beforeEach(async () => {
  hits = [];
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/kev.json') res.writeHead(200, { 'content-type': 'application/json' }).end(KEV);
    else if (req.url === '/epss.csv.gz') res.writeHead(200).end(gzipSync(EPSS));
    else if (req.url === '/not-json') res.writeHead(200).end('<html>maintenance</html>');
    else if (req.url?.startsWith('/hop/')) {
      // /hop/<n>: n redirects (relative, then absolute) before the KEV file.
      const n = Number(req.url.slice(5));
      res.writeHead(302, { location: n <= 1 ? `${base}/kev.json` : `/hop/${n - 1}` }).end();
    } else if (req.url === '/to-metadata') res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    else if (req.url === '/to-file') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await al?.close();
  await new Promise<void>((r) => server.close(() => r()));
});

const put = (user: string, name: string, body: unknown) => al.app.inject({ method: 'PUT', url: `/api/v1/readiness/feeds/${name}`, headers: { authorization: `Bearer ${al.tokens[user]!}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
const call = (method: 'GET' | 'POST', user: string, url: string) => al.app.inject({ method, url, headers: { authorization: `Bearer ${al.tokens[user]!}` } });

describe('the feeds\' HTTP fetch', () => {
  it('follows up to 3 redirects, relative or absolute, and refuses a fourth, a non-http(s) target and a metadata-service address', async () => {
    expect((await httpFetch(`${base}/kev.json`)).equals(KEV)).toBe(true);
    expect((await httpFetch(`${base}/hop/3`)).equals(KEV)).toBe(true);
    expect(hits.filter((h) => h.startsWith('/hop/'))).toEqual(['/hop/3', '/hop/2', '/hop/1']);
    await expect(httpFetch(`${base}/hop/4`)).rejects.toThrow(/more than 3 redirects/);
    await expect(httpFetch(`${base}/to-metadata`)).rejects.toThrow(/169\.254\.169\.254 is a link-local or metadata-service address/);
    await expect(httpFetch(`${base}/to-file`)).rejects.toThrow(/only http\(s\) is fetched/);
    await expect(httpFetch('http://169.254.169.254/latest/meta-data/')).rejects.toThrow(/link-local or metadata-service/);
    await expect(httpFetch(`${base}/missing`)).rejects.toThrow(/answered HTTP 404/);
  });
});

describe('vulnerability feeds', () => {
  it('are configured through REST, run now, and record their outcome', async () => {
    al = await makeAlliance();
    const none = await call('GET', 'a-analyst', '/api/v1/readiness/feeds');
    expect(none.statusCode).toBe(200);
    expect(none.json().items.map((f: { name: string; configuredBy: string }) => [f.name, f.configuredBy])).toEqual([['kev', 'none'], ['epss', 'none']]);

    const cfg = await put('a-analyst', 'kev', { url: `${base}/kev.json`, intervalS: 86_400 });
    expect(cfg.statusCode).toBe(200);
    expect(cfg.json()).toMatchObject({ name: 'kev', url: `${base}/kev.json`, intervalS: 86_400, configuredBy: 'rest', failures: 0, lastSuccessAt: null });

    const run = await call('POST', 'a-analyst', '/api/v1/readiness/feeds/kev/run');
    expect(run.statusCode).toBe(200);
    const f = run.json();
    expect(f.lastError).toBeNull();
    expect(f.lastSuccessAt).not.toBeNull();
    expect(f.lastResult).toMatchObject({ entries: 1165, added: 1165, removed: 0 });
    expect(Date.parse(f.nextAt) - Date.parse(f.lastSuccessAt)).toBe(86_400_000);
    expect((await al.platform.exposure.exposures.listVulns({ kev: true, limit: 5000 })).length).toBe(1165);

    // EPSS, served gzipped as FIRST does.
    await put('a-analyst', 'epss', { url: `${base}/epss.csv.gz`, intervalS: 0 });
    const e = await call('POST', 'a-analyst', '/api/v1/readiness/feeds/epss/run');
    expect(e.statusCode).toBe(200);
    expect(e.json().lastResult.imported).toBeGreaterThan(1000);
    expect(e.json().nextAt).toBeNull(); // manual only
  });

  it('refuse bad configuration with 4xx JSON and need vuln-intel.write', async () => {
    al = await makeAlliance();
    for (const [body, status] of [
      [{ url: 'ftp://x/kev', intervalS: 3600 }, 400], [{ url: 'not a url', intervalS: 3600 }, 400], [{ url: `${base}/kev.json`, intervalS: 10 }, 400],
      [{ url: `${base}/kev.json`, intervalS: 1.5 }, 400], [{ url: 42, intervalS: 3600 }, 400], [{ intervalS: 3600 }, 400], ['[]', 400],
    ] as const) {
      const r = await put('a-analyst', 'kev', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(status);
      expect(r.json().error.code).toMatch(/^[A-Z_]+$/);
    }
    expect((await put('a-analyst', 'nvd', { url: `${base}/x`, intervalS: 3600 })).statusCode).toBe(404);
    expect((await call('POST', 'a-analyst', '/api/v1/readiness/feeds/kev/run')).statusCode).toBe(409); // no URL yet
    // A responder may not configure, run or read feeds.
    expect((await put('a-responder', 'kev', { url: `${base}/kev.json`, intervalS: 3600 })).statusCode).toBe(403);
    expect((await call('GET', 'a-responder', '/api/v1/readiness/feeds')).statusCode).toBe(403);
    expect((await call('POST', 'a-responder', '/api/v1/readiness/feeds/kev/run')).statusCode).toBe(403);
  });

  it('record a failure with its reason and back off exponentially, capped at the interval', async () => {
    al = await makeAlliance();
    const { feeds } = al.platform.exposure;
    await put('a-analyst', 'kev', { url: `${base}/missing.json`, intervalS: 600 });
    const r = await call('POST', 'a-analyst', '/api/v1/readiness/feeds/kev/run');
    expect(r.statusCode).toBe(503);
    expect(r.json().error.message).toMatch(/HTTP 404/);
    const a = await call('GET', 'a-analyst', '/api/v1/readiness/feeds/kev');
    expect(a.json()).toMatchObject({ failures: 1, lastSuccessAt: null });
    expect(a.json().lastError).toMatch(/HTTP 404/);
    expect(Date.parse(a.json().nextAt) - Date.parse(a.json().lastAttemptAt)).toBe(60_000);
    // Not due yet: the schedule leaves it.
    expect(await feeds.tick()).toEqual([]);
    const step = (ms: number) => al.clock.advance(ms);
    step(60_000);
    expect(await feeds.tick()).toEqual(['kev']);
    const b = (await call('GET', 'a-analyst', '/api/v1/readiness/feeds/kev')).json();
    expect(b.failures).toBe(2);
    expect(Date.parse(b.nextAt) - Date.parse(b.lastAttemptAt)).toBe(120_000);
    // A body that is not JSON is a failure with its reason; the wait is capped at the interval (600 s).
    await put('a-analyst', 'kev', { url: `${base}/not-json`, intervalS: 600 });
    for (let i = 0; i < 5; i++) {
      step(600_000);
      await feeds.tick();
    }
    const c = (await call('GET', 'a-analyst', '/api/v1/readiness/feeds/kev')).json();
    expect(c.lastError).toBe('the KEV feed did not answer JSON');
    expect(c.failures).toBe(5);
    expect(Date.parse(c.nextAt) - Date.parse(c.lastAttemptAt)).toBe(600_000);
    // Fixed: the next run succeeds and resets the failures.
    await put('a-analyst', 'kev', { url: `${base}/kev.json`, intervalS: 600 });
    expect(await feeds.tick()).toEqual(['kev']);
    const d = (await call('GET', 'a-analyst', '/api/v1/readiness/feeds/kev')).json();
    expect(d).toMatchObject({ failures: 0, lastError: null });
    expect(await feeds.tick()).toEqual([]);
  });

  it('take the node configuration until REST configures them', async () => {
    al = await makeAlliance({ SHIELDWALL_KEV_FEED_URL: `${base}/kev.json`, SHIELDWALL_VULN_FEED_INTERVAL_S: '3600' });
    const list = (await call('GET', 'a-analyst', '/api/v1/readiness/feeds')).json().items;
    expect(list[0]).toMatchObject({ name: 'kev', url: `${base}/kev.json`, intervalS: 3600, configuredBy: 'config', nextAt: null });
    expect(list[1]).toMatchObject({ name: 'epss', url: null, configuredBy: 'none' });
    expect(await al.platform.exposure.feeds.tick()).toEqual(['kev']);
    const after = (await call('GET', 'a-analyst', '/api/v1/readiness/feeds/kev')).json();
    expect(after).toMatchObject({ configuredBy: 'config', failures: 0, lastError: null });
    expect(hits).toEqual(['/kev.json']);
    // REST wins from then on.
    await put('a-admin', 'kev', { url: null, intervalS: 0 });
    expect((await call('GET', 'a-analyst', '/api/v1/readiness/feeds/kev')).json()).toMatchObject({ url: null, configuredBy: 'rest' });
    expect(await al.platform.exposure.feeds.tick()).toEqual([]);
  });

  it('keep a configuration made while a run was fetching', async () => {
    al = await makeAlliance();
    const who: AuthedActor = { principal: al.principals['a-analyst']!, source: 'test' };
    let feeds: VulnFeeds | null = null;
    feeds = new VulnFeeds(al.platform.exposure.exposures, {
      store: al.platform.store, clock: al.clock,
      fetch: async () => {
        await feeds!.configure(who, 'kev', { url: `${base}/other.json`, intervalS: 3600 });
        return KEV;
      },
    });
    await feeds.configure(who, 'kev', { url: `${base}/kev.json`, intervalS: 600 });
    const r = await feeds.run(who, 'kev');
    expect(r).toMatchObject({ url: `${base}/other.json`, intervalS: 3600, lastError: null });
    expect((await feeds.get(who, 'kev')).url).toBe(`${base}/other.json`);
  });
});
