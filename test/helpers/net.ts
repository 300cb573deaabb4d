/** A free TCP port on loopback, for tests that start a real server process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

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
  readonly exited: Promise<void>;
}

/** Spawns `node <args>` in `cwd` with exactly `env` (no inherited environment), capturing its output. */
export async function spawnCaptured(args: string[], o: { cwd: string; env: Record<string, string> }): Promise<CapturedChild> {
  const child = spawn(process.execPath, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => out, exited };
}
