/**
 * The supervisor's silence watchdog covers every state in which a worker is expected to talk:
 * starting, running and careful. A worker silent outside a batch for the silence limit is killed
 * and restarted — a careful one restarted careful, as the batch that failed twice is still ahead.
 *
 * The worker here is a stand-in process (a script written by the test, forked by the real
 * supervisor over real IPC), because the real one has no way to go silent on demand outside a
 * batch: it plays two batches that hang (so the supervisor goes careful) and then a careful
 * worker that never sends its `batch` message — what a careful worker whose messages were stuck
 * behind a flood of others looked like to the supervisor.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/core/clock.js';
import { openStore, type Store } from '../src/store/index.js';
import { WorkerSupervisor } from '../src/detect/worker/supervisor.js';
import { until } from './helpers/until.js';

const STAND_IN = `import fs from 'node:fs';
const { STANDIN_LOG: log, STANDIN_MODE: mode } = process.env;
const stats = { processed: 0, alertsWritten: 0, suppressed: 0, sightingsWritten: 0, queueDepth: 0, indicators: 0, sigmaRules: 0, feed: {}, rssBytes: 0 };
if (mode === 'mute') {
  fs.appendFileSync(log, 'mute\\n');
  setInterval(() => undefined, 1000); // alive, never a word
} else {
  process.send({ t: 'ready', pid: process.pid, stats });
  process.on('message', (m) => {
    if (m.t !== 'go') return;
    fs.appendFileSync(log, JSON.stringify(m.carefulThrough) + '\\n');
    if (m.carefulThrough === null) process.send({ t: 'batch', from: 7, to: 9, events: 3 }, () => { for (;;); });
    else for (;;); // careful, and silent
  });
}
`;

let dir = '';
let store: Store | null = null;
let sup: WorkerSupervisor | null = null;

afterEach(async () => {
  await sup?.stop();
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function supervise(mode: 'careful' | 'mute'): Promise<{ sup: WorkerSupervisor; gos: () => string[]; logs: string[] }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-watchdog-'));
  const script = path.join(dir, 'stand-in-worker.mjs');
  fs.writeFileSync(script, STAND_IN);
  const log = path.join(dir, 'gos.log');
  store = await openStore({ dataDir: path.join(dir, 'data') });
  const logs: string[] = [];
  sup = new WorkerSupervisor({ store, clock: systemClock, publish: () => undefined, log: (l) => logs.push(l) }, {
    entry: () => script, env: { PATH: process.env.PATH, STANDIN_LOG: log, STANDIN_MODE: mode }, batchTimeoutMs: 300, silenceMs: 1_500,
  });
  sup.start();
  const gos = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
  return { sup, gos, logs };
}

describe('the supervisor\'s silence watchdog', () => {
  it('kills a careful worker that sends nothing outside a batch, and restarts it careful', async () => {
    const { sup: s, gos, logs } = await supervise('careful');
    // Two hanging batches (killed on the batch limit), then the careful pass through seq 9.
    await until('the careful worker', () => (s.status().state === 'careful' ? true : null), { diag: () => logs.join('\n') });
    // It stays silent: killed after the silence limit and restarted careful again.
    await until('a second careful worker', () => (gos().length >= 4 ? true : null), { ms: 10_000, diag: () => `${gos().join(',')}\n${logs.join('\n')}` });
    expect(gos().slice(0, 4)).toEqual(['null', 'null', '9', '9']);
    expect(s.status().lastExit?.reason).toMatch(/sent nothing for \d+ s/);
    expect(logs.some((l) => l.includes('(careful pass)'))).toBe(true);
  }, 30_000);

  it('kills a worker that never says it is ready (starting) after the silence limit', async () => {
    const { sup: s, gos, logs } = await supervise('mute');
    await until('a restart', () => (gos().length >= 2 ? true : null), { ms: 10_000, diag: () => logs.join('\n') });
    expect(s.status().lastExit?.reason).toMatch(/sent nothing/);
    expect(s.status().restarts).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
