/** A free TCP port on loopback, for tests that start a real server process. */
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
