/**
 * The node a test runs against (issue 8: "the leak tests run unchanged against the scale-out
 * mode"). SHIELDWALL_TEST_NODE=scaleout (the `scaleout` project of vitest.config.ts) turns the
 * fixtures' node into a scale-out one: a fresh PostgreSQL database, a NATS JetStream stream of its
 * own, this process as the API process, and — once a test asks for detection — the built
 * `shieldwall worker --processes 2` (two supervised worker processes sharing the partitions).
 * Otherwise (the default) the node is embedded: SQLite in memory, detection in this process.
 *
 * Tests then go through these helpers where they used to reach into the in-process engine:
 * `detectionReady` (the detector sees the store as it is now) and `detectionSettled` (every
 * accepted event processed and its sightings written).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { configEnv, loadConfig } from '../../src/config/index.js';
import { createPlatform, type Platform } from '../../src/api/index.js';
import { SYSTEM_ACTOR } from '../../src/access/index.js';
import type { Clock } from '../../src/core/index.js';
import { openSqliteStore, openStore } from '../../src/store/index.js';
import { freshPostgresDb } from './pg.js';
import { NATS_URL, TEST_STREAM_BYTES, uniquePrefix } from './nats.js';

export type NodeMode = 'embedded' | 'scaleout';
export const NODE_MODE: NodeMode = process.env.SHIELDWALL_TEST_NODE === 'scaleout' ? 'scaleout' : 'embedded';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const PARTITIONS = 4;
const WORKER_PROCESSES = 2;

interface ScaleParts {
  workers: { child: ChildProcess; output: () => string; exited: Promise<void> } | null;
}
const scaleParts = new WeakMap<Platform, ScaleParts>();

/**
 * A node for a test, on `env` (loadConfig) and `clock`: embedded (SQLite in memory) or, in the
 * scale-out project, on PostgreSQL + NATS. Its `close` also stops the workers and drops the
 * database and the stream.
 */
export async function openTestNode(env: Record<string, string>, clock: Clock): Promise<Platform> {
  if (NODE_MODE === 'embedded') return createPlatform(loadConfig(env), { clock, store: await openSqliteStore(':memory:') });
  const db = await freshPostgresDb();
  const prefix = uniquePrefix('node');
  const config = loadConfig({
    ...env, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_NATS_URL: NATS_URL, SHIELDWALL_NATS_MAX_BYTES: String(TEST_STREAM_BYTES), SHIELDWALL_NATS_PREFIX: prefix, SHIELDWALL_NATS_PARTITIONS: String(PARTITIONS),
  });
  // The store is handed in: this process is the one API process (no leader election to wait for).
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: db.url });
  const p = await createPlatform(config, { clock, store });
  const parts: ScaleParts = { workers: null };
  const node: Platform = Object.freeze({
    ...p,
    close: async () => {
      await stopWorkers(parts);
      const link = (await import('../../src/scale/index.js')).openNats;
      await p.close();
      const l = await link({ url: NATS_URL, prefix, partitions: PARTITIONS, maxBytes: TEST_STREAM_BYTES, maxAgeMs: 3_600_000, name: 'test cleanup' });
      await l.jsm.streams.delete(l.names.stream).catch(() => undefined);
      await l.close();
      await db.drop();
    },
  });
  scaleParts.set(node, parts);
  return node;
}

/**
 * Detection sees the directory, intel and rules as stored now: the in-process engine re-reads
 * them; on a scale-out node the worker processes start now (they load the whole store before
 * their first batch) and the test waits until they hold every partition.
 */
export async function detectionReady(p: Platform): Promise<void> {
  const parts = scaleParts.get(p);
  if (!parts) {
    await p.detect.refreshDirectory();
    await p.detect.feed.sync();
    return;
  }
  if (parts.workers) return;
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build:server` first');
  const child = spawn(process.execPath, [CLI, 'worker', '--processes', String(WORKER_PROCESSES)], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...configEnv(p.config), SHIELDWALL_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  parts.workers = { child, output: () => out, exited };
  // Every partition owned (each worker logs its share when it changes).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const owned = new Set<number>();
    const last = new Map<string, string>();
    for (const m of out.matchAll(/worker (\d+) partitions: \[([\d,]*)\]/g)) last.set(m[1]!, m[2]!);
    for (const v of last.values()) for (const n of v.split(',').filter(Boolean)) owned.add(Number(n));
    if (owned.size === PARTITIONS && last.size === WORKER_PROCESSES) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the scale-out workers did not take the partitions\n${out.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every event accepted so far went through detection and its sightings are written: in-process,
 * a drain and a forced sightings flush; on a scale-out node, a drain (the workers' marks cover
 * the stream) and then the workers stop, which flushes their sightings.
 */
export async function detectionSettled(p: Platform): Promise<void> {
  const parts = scaleParts.get(p);
  await p.detect.drain();
  if (!parts) {
    await p.detect.sightings.flush(SYSTEM_ACTOR, { nowMs: p.clock.now(), force: true });
    return;
  }
  await stopWorkers(parts);
}

async function stopWorkers(parts: ScaleParts): Promise<void> {
  const w = parts.workers;
  if (!w) return;
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await w.exited;
  parts.workers = null;
}
