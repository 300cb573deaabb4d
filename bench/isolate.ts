/**
 * A bench section in a fresh process, as the product runs the work it measures: a detection
 * worker holds only its index, an API process only its own state. In the process of `npm run
 * bench`, a section after the import and page sections shares a heap they grew (the generated
 * objects, caches), and its collector's work with it: the indicator index's RSS was 1.1 GB there
 * against ~400 MB alone, and the end-to-end ingest's API accepted the same lines in 1.5–1.8 s
 * against 0.9–1.0 s (docs/benchmarks.md, nineteenth session).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when the module at `moduleUrl` is the script node was started with (its direct-run entry). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

/**
 * Runs the module's direct-run entry (`node --expose-gc <module> ...args`) and returns the JSON
 * object of its last stdout line; its log lines (stderr) pass through.
 */
export function figuresOfOwnProcess(moduleUrl: string, args: readonly string[], what: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(moduleUrl), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${what} bench process failed (exit ${String(r.status)}): ${last.slice(0, 200)}`);
  return JSON.parse(last) as Record<string, number>;
}
