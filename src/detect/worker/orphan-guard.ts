/**
 * A supervised worker that outlives its supervisor. It stops when the IPC channel closes
 * (`disconnect`), but only between tasks: one spinning on a hostile event never gets back to its
 * event loop. A thread of its own (worker_threads: its own event loop) watches the parent pid and
 * kills the process when it changes — the supervisor is gone, even by SIGKILL, and the orphan was
 * reparented. Linux has PR_SET_PDEATHSIG for this; Node does not expose it.
 */
import { Worker } from 'node:worker_threads';

/** How often the thread looks at the parent pid (ms). */
const ORPHAN_CHECK_MS = 500;

// CommonJS, evaluated in the thread (no module file to resolve in a built or test layout).
const WATCH = `const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.pid, 'SIGKILL');
}, workerData.every);`;

/** Kills this process once its parent (now `process.ppid`) is gone. Returns the stop function. */
export function exitWhenOrphaned(everyMs = ORPHAN_CHECK_MS): () => void {
  const w = new Worker(WATCH, { eval: true, workerData: { parent: process.ppid, pid: process.pid, every: everyMs } });
  // The thread never holds the process open; an error in it leaves the IPC `disconnect` path.
  w.unref();
  w.on('error', () => undefined);
  return () => {
    void w.terminate();
  };
}
