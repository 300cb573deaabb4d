/**
 * A scale-out node whose NATS does not answer (SHIELDWALL_NATS_URL at a port where nothing
 * listens): `serve`, `worker` and `status` stop promptly, exit 70, and say it is NATS, at which
 * URL (without its credentials). `serve` used to print "internal error: connection refused" and
 * stay alive without listening. A node started with another number of partitions than its stream
 * was made with is refused, naming both. The built CLI, on a database of its own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_CLI, repoRoot } from './helpers/built-cli.js';
import { freePort } from './helpers/net.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';
import { NATS_URL, natsAvailable, TEST_STREAM_BYTES, uniquePrefix } from './helpers/nats.js';
import { openStore } from '../src/store/index.js';
import { checkPartitionCount } from '../src/scale/jetstream-source.js';

const pg = await pgAvailable();
let db: { url: string; drop: () => Promise<void> } | null = null;
let dir = '';

beforeAll(async () => {
  if (!pg) return;
  db = await freshPostgresDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-nats-down-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the built CLI; kills it (this test's own child) if it is still alive after `ms`. */
function run(args: string[], env: Record<string, string>, ms = 20_000): Promise<{ code: number | null; stderr: string; ms: number; killed: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BUILT_CLI, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), SHIELDWALL_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - t0, killed });
    });
  });
}

describe.skipIf(!pg)('a NATS that does not answer', () => {
  for (const args of [['serve'], ['worker'], ['worker', '--processes', '0'], ['status']]) {
    it(`\`${args.join(' ')}\` exits 70 at once, naming NATS and the URL`, async () => {
      const natsPort = await freePort();
      const url = `nats://sensor:s3cret@127.0.0.1:${natsPort}`;
      const r = await run(args, { SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db!.url, SHIELDWALL_NATS_URL: url, SHIELDWALL_PORT: String(await freePort()), SHIELDWALL_HOST: '127.0.0.1' });
      expect(r.killed, `still running after 20 s; stderr: ${r.stderr}`).toBe(false);
      expect(r.code, r.stderr).toBe(70);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.stderr).toContain(`cannot reach NATS at nats://***@127.0.0.1:${natsPort} (SHIELDWALL_NATS_URL)`);
      expect(r.stderr).not.toContain('s3cret');
      expect(r.stderr).not.toContain('internal error');
    }, 30_000);
  }
});

const natsUp = await natsAvailable();

describe.skipIf(!pg || !natsUp)('a partition count that is not the stream\'s', () => {
  it('`serve` and `worker` refuse to start with another SHIELDWALL_NATS_PARTITIONS than the node\'s stream was partitioned in', async () => {
    const prefix = uniquePrefix('parts');
    const store = await openStore({ dataDir: dir, databaseUrl: db!.url });
    try {
      await checkPartitionCount(store, prefix, 16); // the first process of the node recorded 16
      await expect(checkPartitionCount(store, prefix, 16)).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
    for (const args of [['serve'], ['worker', '--processes', '1']]) {
      const r = await run(args, {
        SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db!.url, SHIELDWALL_NATS_URL: NATS_URL, SHIELDWALL_NATS_PREFIX: prefix, SHIELDWALL_NATS_PARTITIONS: '8',
        SHIELDWALL_NATS_MAX_BYTES: String(TEST_STREAM_BYTES), SHIELDWALL_PORT: String(await freePort()), SHIELDWALL_HOST: '127.0.0.1',
      });
      expect(r.killed, `${args.join(' ')} still running; stderr: ${r.stderr}`).toBe(false);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(`SHIELDWALL_NATS_PARTITIONS is 8, but this node's telemetry stream (SHIELDWALL_NATS_PREFIX ${prefix}) is partitioned in 16`);
      expect(r.stderr).not.toContain('internal error');
    }
  }, 60_000);
});
