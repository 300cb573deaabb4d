/**
 * End-to-end harness: starts the built server (`node dist/src/cli/main.js serve --demo`) on a
 * free port with a throw-away data directory, and talks to its REST API for test set-up.
 */
import { spawn } from 'node:child_process';
import { assertNoCredentials, demoPasswords } from '../helpers/log-secrets.js';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/net.js';

import { chromium, type Browser } from 'playwright-core';

export { freePort };

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';
/**
 * Whether the browser suites run: where Chromium is installed, and always in CI (CI=true), where
 * a missing browser must fail the run (.ci/run installs it), never skip it unnoticed.
 */
export const BROWSER_TESTS = existsSync(CHROMIUM) || process.env.CI === 'true';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync',
];

export interface DemoUser { username: string; password: string; org: string; roles: string[] }

export interface RunningServer {
  baseUrl: string;
  dataDir: string;
  users: DemoUser[];
  output: () => string;
  stop: () => Promise<void>;
}

/** The server serves dist/web; build it if a fresh checkout has not run `npm run build` yet. */
function ensureBuilt(): string {
  const cli = path.join(repoRoot, 'dist/src/cli/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` before the e2e tests`);
  if (!existsSync(path.join(repoRoot, 'dist/web/index.html'))) {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts'],
      { cwd: repoRoot, stdio: 'pipe' });
  }
  return cli;
}

async function waitUntilUp(baseUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      // Any answer (401 included) means the HTTP server is listening.
      await fetch(`${baseUrl}/taxii2/`, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`server did not answer on ${baseUrl} within 45 s:\n${output()}`);
}

/**
 * The parsed JSON of a file another process writes: it may exist before it is complete
 * (`writeFile` truncates, then writes), so an empty or cut file is read again.
 */
async function readJsonWhenWritten<T>(file: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as T;
      } catch {
        // Not complete yet.
      }
    }
    if (Date.now() > deadline) throw new Error(`${file} was not written`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startServer(): Promise<RunningServer> {
  const cli = ensureBuilt();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'shieldwall-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [cli, 'serve', '--demo'], {
    cwd: repoRoot,
    env: { ...process.env, SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_PORT: String(port), SHIELDWALL_HOST: '127.0.0.1', SHIELDWALL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
  const output = () => log.slice(-4000);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const passwords = demoPasswords(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
    // The whole log (not only its tail) must hold no token and no demo password.
    assertNoCredentials(log, passwords, 'the e2e server');
  };
  try {
    await waitUntilUp(baseUrl, child, output);
    const users = (await readJsonWhenWritten<{ users: DemoUser[] }>(path.join(dataDir, 'demo-credentials.json'))).users;
    return { baseUrl, dataDir, users, output, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A thin REST client for set-up and cross-checks (the UI itself is driven through the browser). */
export async function rest<T>(baseUrl: string, pathAndQuery: string, init: { token?: string; method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${baseUrl}/api/v1${pathAndQuery}`, {
    method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${pathAndQuery} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A demo server and a headless Chromium for a suite of browser tests (its beforeAll). */
export async function launchDemo(): Promise<{ server: RunningServer; browser: Browser }> {
  const server = await startServer();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return { server, browser };
}

/** Stops what launchDemo started (its afterAll); either may be missing when the start failed. */
export async function stopDemo(server: RunningServer | undefined, browser: Browser | undefined): Promise<void> {
  await browser?.close();
  await server?.stop();
}
