/** Runs the BUILT `shieldwall` command (dist/src/cli/main.js, from `npm run build:server`) as a child process. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILT_CLI = path.join(repoRoot, 'dist/src/cli/main.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

/**
 * Runs the CLI to its end without blocking (suites can run side by side) and gives what it
 * printed. Logging is silenced unless `env` sets it; `env` entries set to undefined are removed
 * from the inherited environment.
 */
export function runBuiltCli(o: { args: readonly string[]; cwd?: string; env?: Record<string, string | undefined>; input?: string; nodeFlags?: readonly string[] }): Promise<CliRun> {
  const e: Record<string, string | undefined> = { ...process.env, SHIELDWALL_LOG_LEVEL: 'silent', ...o.env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(o.nodeFlags ?? []), BUILT_CLI, ...o.args], { cwd: o.cwd ?? repoRoot, env: e as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.input ?? '');
  });
}
