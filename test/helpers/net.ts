/** A free TCP port on loopback, for tests that start a real server process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { assertNoCredentials, demoPasswords } from './log-secrets.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Waits until a server child process answers on `url` (any answer, 401 included, means it
 * listens); throws with its output when it exits first or does not answer within 30 s.
 */
export async function waitForServer(child: { exitCode: number | null }, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      await fetch(`${url}/taxii2/`, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`server did not answer on ${url}:\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A child process with its stdout and stderr captured together, and a promise of its exit. */
export interface CapturedChild {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves when the child exits; REJECTS when its output held a credential (test/helpers/log-secrets.ts). */
  readonly exited: Promise<void>;
}

/**
 * Spawns `node <args>` in `cwd` with exactly `env` (no inherited environment), capturing its output.
 * When the child exits, its whole output is checked for every token the node can issue and for
 * the demo passwords of its data directory: a harness awaiting `exited` fails on a logged credential.
 */
export async function spawnCaptured(args: string[], o: { cwd: string; env: Record<string, string> }): Promise<CapturedChild> {
  const child = spawn(process.execPath, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  // Read before the harness removes the data directory.
  let passwords: string[] = [];
  const poll = setInterval(() => { if (passwords.length === 0) passwords = demoPasswords(o.env.SHIELDWALL_DATA_DIR); }, 500);
  // The message names no argument: arguments may themselves carry a secret.
  const exited = new Promise<void>((resolve, reject) => child.once('exit', () => {
    clearInterval(poll);
    if (passwords.length === 0) passwords = demoPasswords(o.env.SHIELDWALL_DATA_DIR);
    try {
      assertNoCredentials(out, passwords, `the child process (${args.length} arguments)`);
      resolve();
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  }));
  // A harness that never awaits `exited` must not crash on an unhandled rejection; the ones that do still see it.
  exited.catch(() => undefined);
  return { child, output: () => out, exited };
}
