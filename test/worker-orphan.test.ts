/**
 * A supervised worker never outlives its supervisor (src/detect/worker/orphan-guard.ts): a child
 * that spins forever — its event loop never turns again, so the IPC `disconnect` it would stop on
 * never reaches it — is killed by its watch thread once the parent is SIGKILLed. Runs the built
 * module (dist/), as the supervised worker does; run after `npm run build:server`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const guard = path.join(repoRoot, 'dist/src/detect/worker/orphan-guard.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-orphan-'));
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a supervised worker whose supervisor is SIGKILLed', () => {
  it('is killed by its watch thread even while it spins on one event', async () => {
    fs.writeFileSync(path.join(dir, 'child.mjs'), `import { exitWhenOrphaned } from ${JSON.stringify(guard)};
exitWhenOrphaned(100);
process.send('spinning');
for (;;) {}
`);
    fs.writeFileSync(path.join(dir, 'parent.mjs'), `import { fork } from 'node:child_process';
const c = fork(${JSON.stringify(path.join(dir, 'child.mjs'))}, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
c.on('message', () => process.stdout.write(c.pid + '\\n'));
`);
    const parent = spawn(process.execPath, [path.join(dir, 'parent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    pids.push(parent.pid!);
    const childPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      parent.once('exit', () => reject(new Error('the parent exited early')));
    });
    pids.push(childPid);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(childPid)).toBe(true); // spinning, with its parent alive
    parent.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    while (alive(childPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(childPid)).toBe(false);
  }, 30_000);
});
