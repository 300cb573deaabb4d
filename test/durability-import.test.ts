/**
 * Crash durability of `shieldwall import` (DESIGN §2.2: "a crash mid-import leaves either the
 * whole batch or none of it"): the built CLI is SIGKILLed while it streams a large bundle; the
 * store then holds none of the bundle (or, if the kill came after the commit, all of it), and
 * importing the same bundle again stores it whole. Run after `npm run build`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/index.js';
import { generateIndicators } from '../bench/generate.js';
import { prepareNode, repoRoot, type Node } from './durability-harness.js';

const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const INTEL_COMMANDS = path.join(repoRoot, 'dist/src/cli/commands/intel.js');
const hasImport = fs.existsSync(CLI) && fs.existsSync(INTEL_COMMANDS) && fs.readFileSync(INTEL_COMMANDS, 'utf8').includes("command('import");
// Large enough that the import outlasts several progress reports (printed once a second off a TTY).
const OBJECTS = 30_000;

interface Run { code: number | null; signal: NodeJS.Signals | null; output: string; killedAt: number | null }

/** Runs `shieldwall import`; when `killAtObjects` is given, SIGKILLs it once its progress reaches that many objects. */
function runImport(node: Node, file: string, killAtObjects?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'import', file, '--collection', 'durability', '--org', 'DUR', '--progress', '--batch-size', '500'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SHIELDWALL_DATA_DIR: node.dataDir, SHIELDWALL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let killedAt: number | null = null;
    const onData = (b: Buffer) => {
      output += b.toString();
      const seen = [...output.matchAll(/(\d+) objects/g)].map((m) => Number(m[1]));
      const latest = seen[seen.length - 1] ?? 0;
      if (killAtObjects !== undefined && killedAt === null && latest >= killAtObjects) {
        killedAt = latest;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => resolve({ code, signal, output, killedAt }));
  });
}

async function storedCount(node: Node): Promise<number> {
  const store = await openSqliteStore(path.join(node.dataDir, 'shieldwall.db'));
  try {
    return await store.countObjects(node.collectionId);
  } finally {
    await store.close();
  }
}

const nodes: Node[] = [];
afterAll(() => {
  for (const n of nodes) fs.rmSync(n.dataDir, { recursive: true, force: true });
});

describe.skipIf(!hasImport)('crash durability of `shieldwall import` (one transaction per bundle)', () => {
  const moments = [
    { name: 'early in the stream', at: 1_000 },
    { name: 'half-way through the stream', at: Math.floor(OBJECTS * 0.5) },
  ];
  for (const { name, at } of moments) {
    it(`SIGKILL ${name}: the bundle is stored whole or not at all, and a re-run stores it whole`, async () => {
      const node = await prepareNode();
      nodes.push(node);
      const file = path.join(node.dataDir, 'bundle.json');
      const objects = generateIndicators(OBJECTS, { seed: 99 + at, tlpOf: () => 'green' });
      fs.writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--6f1f5e2c-3c0b-4d8e-9a3f-2b7c1d0e9f11', objects }));

      const killed = await runImport(node, file, at);
      expect(killed.signal, `import was not killed:\n${killed.output.slice(-2000)}`).toBe('SIGKILL');
      expect(killed.killedAt).toBeGreaterThanOrEqual(at);
      const after = await storedCount(node);
      // Killed while batches were still being added to the open transaction: nothing committed.
      if (killed.killedAt! < OBJECTS) expect(after).toBe(0);
      else expect([0, OBJECTS]).toContain(after);

      const again = await runImport(node, file);
      expect(again.code, again.output.slice(-2000)).toBe(0);
      expect(again.output).toMatch(new RegExp(`imported ${OBJECTS} objects: ${OBJECTS - after} added, ${after} duplicates, 0 rejected`));
      expect(await storedCount(node)).toBe(OBJECTS);
    }, 180_000);
  }
});
