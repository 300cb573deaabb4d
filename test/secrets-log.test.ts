/**
 * No credential in any log line, and the data directory private (issue #11, item 6): the BUILT
 * server runs as a child process with logging at info; the test signs in, opens the live stream
 * the way the web app does, calls TAXII with HTTP Basic, ingests with a sensor token, fails a few
 * authentications; then greps everything the server wrote for every token and password it
 * issued or used. Also: data directory 0700, its files 0600.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnCaptured } from './helpers/net.js';
import { credentialsIn } from './helpers/log-secrets.js';

const root = path.resolve(import.meta.dirname, '..');
const CLI = path.join(root, 'dist/src/cli/main.js');
const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sw-secrets-')), 'data');
let child: ChildProcess;
let out = '';
let url = '';
const env = () => ({ PATH: process.env.PATH ?? '', HOME: os.tmpdir(), SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'info', SHIELDWALL_HOST: '127.0.0.1' });
const secrets: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build:server` first');
  const port = await freePort();
  child = spawn(process.execPath, [CLI, 'serve', '--demo', '--port', String(port)], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(path.join(dataDir, 'demo-credentials.json'))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});
afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

async function stream(path_: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(`${url}${path_}`, { headers, signal: ctrl.signal });
  if (res.ok) {
    const reader = res.body!.getReader();
    await reader.read();
  }
  ctrl.abort();
  return res.status;
}

describe('credentials never reach the log', () => {
  it('signs in, streams, TAXII with Basic, ingests with a sensor token, fails auth: no secret in the output', async () => {
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as { users: { username: string; password: string; orgId: string; roles: string[] }[] };
    const users = creds.users.slice(0, 3);
    for (const u of users) {
      secrets.push(u.password);
      const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u.username, password: u.password }) });
      expect(login.status).toBe(200);
      const token = ((await login.json()) as { token: string }).token;
      secrets.push(token);
      const auth = { authorization: `Bearer ${token}` };
      expect((await fetch(`${url}/api/v1/me`, { headers: auth })).status).toBe(200);
      // The web app's live stream: a single-use ticket in the URL, never the session token.
      const t = await fetch(`${url}/api/v1/stream/ticket`, { method: 'POST', headers: auth });
      expect(t.status).toBe(200);
      const ticket = ((await t.json()) as { ticket: string }).ticket;
      secrets.push(ticket);
      expect(await stream(`/api/v1/stream?ticket=${encodeURIComponent(ticket)}`)).toBe(200);
      expect(await stream(`/api/v1/stream?ticket=${encodeURIComponent(ticket)}`), 'a ticket works once').toBe(401);
      expect(await stream(`/api/v1/stream?access_token=${encodeURIComponent(token)}`), 'a session token in the URL is refused').toBe(401);
      expect(await stream('/api/v1/stream', auth)).toBe(200);
      const basic = `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;
      expect((await fetch(`${url}/taxii2/`, { headers: { authorization: basic, accept: 'application/taxii+json;version=2.1' } })).status).toBe(200);
      // A wrong password and a wrong token are logged as failures, never with the secret.
      const wrong = `${u.password}-wrong`;
      secrets.push(wrong);
      expect((await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u.username, password: wrong }) })).status).toBe(401);
    }
    const made = spawnSync(process.execPath, [CLI, 'token', 'create', '--org', creds.users[0]!.orgId, '--name', 'log-sensor', '--kind', 'sensor'], { cwd: root, env: env(), encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const sensor = made.stdout.trim();
    secrets.push(sensor);
    const ingest = await fetch(`${url}/api/v1/ingest?format=ecs`, {
      method: 'POST', headers: { authorization: `Bearer ${sensor}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ '@timestamp': new Date().toISOString(), source: { ip: '198.51.100.1' }, destination: { ip: '203.0.113.9' } })}\n`,
    });
    expect(ingest.status).toBe(202);
    const bogus = 'sw_0123456789ab_notarealtokenbutstillasecretvalue0000000000';
    secrets.push(bogus);
    expect((await fetch(`${url}/api/v1/me?access_token=${bogus}`, { headers: { authorization: `Bearer ${bogus}` } })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(out).toContain('"url":"/api/v1/stream'); // the requests were logged at all
    for (const s of secrets) expect(out.includes(s), `secret ${s.slice(0, 6)}… appears in the server log`).toBe(false);
    for (const s of secrets.filter((x) => x.startsWith('sw_'))) expect(out.includes(s.slice(16)), 'a token secret part appears in the log').toBe(false);
    // And the generic check all harnesses use: no string of the token form at all.
    expect(credentialsIn(out)).toEqual([]);
  });

  it('keeps the data directory 0700 and its files 0600', () => {
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(dataDir).filter((f) => fs.statSync(path.join(dataDir, f)).isFile());
    expect(files).toEqual(expect.arrayContaining(['shieldwall.db', 'demo-credentials.json']));
    for (const f of files) expect(fs.statSync(path.join(dataDir, f)).mode & 0o777, f).toBe(0o600);
  });
});

describe('every spawned-server harness checks its whole log for credentials', () => {
  // test/helpers/net.ts spawnCaptured (durability, scale-out harnesses) and test/e2e/harness.ts
  // (browser tests) run the same check when their child exits; here it is shown to bite.
  const fakeToken = `sw_0123456789ab_${'A'.repeat(43)}`;
  it('spawnCaptured rejects `exited` when the child printed a token', async () => {
    const c = await spawnCaptured(['-e', `console.log('GET /api/v1/stream?access_token=${fakeToken}')`], { cwd: root, env: { PATH: process.env.PATH ?? '' } });
    await expect(c.exited).rejects.toThrow(/wrote credentials to its log: token sw_0123456789ab_AA…/);
    expect(String(await c.exited.catch((e: Error) => e.message))).not.toContain(fakeToken);
    expect(c.output()).toContain(fakeToken);
  });

  it('spawnCaptured rejects when the child printed a demo password of its data directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-secrets-pw-'));
    fs.writeFileSync(path.join(dir, 'demo-credentials.json'), JSON.stringify({ users: [{ username: 'x', password: 'correct horse battery' }] }));
    const c = await spawnCaptured(['-e', `setTimeout(() => console.error('login failed for x with correct horse battery'), 50)`], { cwd: root, env: { PATH: process.env.PATH ?? '', SHIELDWALL_DATA_DIR: dir } });
    await expect(c.exited).rejects.toThrow(/password co…/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a clean log passes', async () => {
    const c = await spawnCaptured(['-e', `console.log('GET /api/v1/stream?ticket=[redacted]')`], { cwd: root, env: { PATH: process.env.PATH ?? '' } });
    await expect(c.exited).resolves.toBeUndefined();
  });

  it('the secrets found by this file are found by the shared check too', () => {
    expect(credentialsIn(`x ${fakeToken} y`)).toHaveLength(1);
    expect(credentialsIn('sw_ alone, sw_12_short')).toEqual([]);
  });
});
