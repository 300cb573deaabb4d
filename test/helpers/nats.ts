/**
 * The NATS JetStream server of the tests: SHIELDWALL_TEST_NATS (`.ci/run` starts `nats-server -js`
 * when none answers), default nats://127.0.0.1:4222. Tests make their own stream (a unique
 * prefix per run) and delete it afterwards.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';

export const NATS_URL = process.env.SHIELDWALL_TEST_NATS ?? 'nats://127.0.0.1:4222';
/**
 * The stream size cap of a test node (SHIELDWALL_NATS_MAX_BYTES). JetStream reserves each stream's
 * max_bytes against the server's store (75% of the free disk by default): with the 8 GB default,
 * a few test nodes at once (parallel files) used it all up and the next stream was refused with
 * "insufficient storage resources available".
 */
export const TEST_STREAM_BYTES = 256 * 1024 * 1024;

export async function natsAvailable(): Promise<boolean> {
  const u = new URL(NATS_URL.replace(/^nats:/, 'http:'));
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 4222) });
    s.setTimeout(2000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** In CI (CI=true) a missing server is a failure, never a skip. */
export function mustRun(): boolean {
  return process.env.CI === 'true';
}

export function uniquePrefix(tag: string): string {
  return `swt_${tag}_${crypto.randomBytes(4).toString('hex')}`;
}

/** Whether `nats-server` is installed (a test that runs a server of its own needs it). */
export const natsServerInstalled = (() => {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A nats-server of a test's own (JetStream, file storage kept in a directory of its own, a free
 * port), to kill as a crash does (SIGKILL) and start again on the same storage. `cleanups` gets
 * what removes it all.
 */
export async function ownNatsServer(cleanups: (() => Promise<unknown>)[]): Promise<{ port: number; start(): Promise<void>; kill(): void }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-own-nats-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  let server: ChildProcess | null = null;
  return {
    port,
    async start() {
      const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
      server = child;
      cleanups.push(async () => void child.kill('SIGKILL'));
      for (let i = 0; i < 200 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await listening(port))) throw new Error(`nats-server on port ${port} did not listen within 10 s`);
    },
    kill() {
      server?.kill('SIGKILL');
    },
  };
}
