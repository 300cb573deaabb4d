/**
 * How old the detection worker's status is, wherever it is shown: the supervisor's live status
 * (GET /api/v1/system) says how long ago the worker last spoke and whether that is stale; the
 * snapshot `shieldwall status` reads from the store says when it was saved and is marked stale
 * once its supervisor stopped saving; a stopped supervisor saves `stopped`, never `running`
 * without a process. Real worker processes (the built CLI) on a real store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/core/clock.js';
import { openStore, type Store } from '../src/store/index.js';
import { WorkerSupervisor, WORKERS_STATUS_KEY, workerEntry, type WorkersSnapshot } from '../src/detect/worker/index.js';
import { runBuiltCli } from './helpers/built-cli.js';
import { until } from './helpers/until.js';

let dir = '';
let store: Store | null = null;

afterEach(async () => {
  await store?.close();
  store = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function node(): Promise<{ dataDir: string; store: Store }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-wstatus-'));
  const dataDir = path.join(dir, 'data');
  // `init` creates the node the CLI then opens.
  const init = await runBuiltCli({ args: ['init'], env: { SHIELDWALL_DATA_DIR: dataDir } });
  expect(init.code, init.stderr).toBe(0);
  store = await openStore({ dataDir });
  return { dataDir, store };
}

describe('the age of a detection worker\'s status', () => {
  it('the live status says how long ago the worker spoke; a stopped supervisor saves `stopped` without a pid, not `running`', async () => {
    const { dataDir, store: s } = await node();
    const sup = new WorkerSupervisor({ store: s, clock: systemClock, publish: () => undefined, log: () => undefined }, {
      entry: workerEntry, env: { PATH: process.env.PATH, SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent' }, batchTimeoutMs: 5_000,
    });
    sup.start();
    try {
      const running = await until('a running worker that spoke', () => {
        const st = sup.status();
        return st.state === 'running' && st.lastHeartbeatAt !== null ? st : null;
      }, { ms: 30_000 });
      expect(running.stale).toBe(false);
      expect(running.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
      expect(running.heartbeatAgeMs).toBeLessThan(5_000);
    } finally {
      await sup.stop();
    }
    const saved = JSON.parse((await s.getMeta(WORKERS_STATUS_KEY))!) as WorkersSnapshot;
    expect(saved.workers[0]).toMatchObject({ state: 'stopped', pid: null, heartbeatAgeMs: null, stale: false });
  }, 60_000);

  it('`shieldwall status` gives the snapshot\'s age and marks one saved minutes ago stale', async () => {
    const { dataDir, store: s } = await node();
    const at = new Date(Date.now() - 5 * 60_000).toISOString();
    const worker = { pid: 4242, state: 'running', startedAt: at, lastHeartbeatAt: at, heartbeatAgeMs: 0, stale: false, restarts: 0, batch: null, lastExit: null, eventsPerSecond: 0, stats: null };
    await s.setMeta(WORKERS_STATUS_KEY, JSON.stringify({ at, supervisorPid: 4241, workers: [worker] }));
    const json = await runBuiltCli({ args: ['status', '--json'], env: { SHIELDWALL_DATA_DIR: dataDir } });
    expect(json.code, json.stderr).toBe(0);
    const w = JSON.parse(json.stdout).workers;
    expect(w).toMatchObject({ savedAt: at, supervisorPid: 4241, stale: true });
    expect(w.ageMs).toBeGreaterThanOrEqual(5 * 60_000);
    const text = await runBuiltCli({ args: ['status'], env: { SHIELDWALL_DATA_DIR: dataDir } });
    expect(text.stdout).toMatch(/at .*, 5 min \d+ s ago\)/);
    expect(text.stdout).toContain('STALE');
    expect(text.stdout).toContain('running (stale)');
    // A fresh one is not.
    await s.setMeta(WORKERS_STATUS_KEY, JSON.stringify({ at: new Date().toISOString(), supervisorPid: 4241, workers: [worker] }));
    const fresh = JSON.parse((await runBuiltCli({ args: ['status', '--json'], env: { SHIELDWALL_DATA_DIR: dataDir } })).stdout).workers;
    expect(fresh.stale).toBe(false);
  }, 60_000);
});

describe('shieldwall dead-letters list --org', () => {
  it('exits 2 for an unknown organisation (docs/cli.md), not 0 with an empty table', async () => {
    const { dataDir } = await node();
    const r = await runBuiltCli({ args: ['dead-letters', 'list', '--org', 'NOPE'], env: { SHIELDWALL_DATA_DIR: dataDir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('NOPE');
  }, 30_000);
});
