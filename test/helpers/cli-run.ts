/** Runs the CLI in this process (the program `main.js` builds), capturing what it prints. */
import { run } from '../../src/cli/program.js';

export async function sw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['node', 'shieldwall', ...argv], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
