/**
 * The queue of a scale-out node while no worker runs (issue 8, `GET /api/v1/system` and
 * `shieldwall status`): the telemetry accepted then waits in partitions nobody owns, and both
 * must say how much waits and for how long — not an empty queue because no worker reports it.
 * Runs the BUILT `shieldwall serve`, `status` and `worker` (`npm run build:server` first) on a
 * real PostgreSQL and a real NATS JetStream.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable } from './helpers/nats.js';
import { post, repoRoot, scaleDeployment, start, stop, type Proc } from './scaleout-harness.js';
import { until } from './helpers/until.js';

const [pgUp, natsUp] = await Promise.all([pgAvailable(), natsAvailable()]);
if ((!pgUp || !natsUp) && mustRun()) throw new Error(`the scale-out status test needs PostgreSQL (${pgUp}) and NATS at ${NATS_URL} (${natsUp})`);

const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const PARTITIONS = 4;
const procs: Proc[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await stop(p).catch(() => undefined);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface Stream { partitions: number; unowned: number[]; waitingMessages: number; lagMs: number }

describe.runIf(pgUp && natsUp)('the queue of a scale-out node without a worker', () => {
  it('counts what waits in partitions no worker owns, in GET /system and `shieldwall status`, and empties once a worker runs', async () => {
    const d = await scaleDeployment('status', { partitions: PARTITIONS });
    cleanups.push(...d.cleanups);
    const { prep, env } = d;
    const api = await start('serve', env);
    procs.push(api);
    const flow = (i: number) => JSON.stringify({ timestamp: new Date().toISOString(), event_type: 'flow', src_ip: `10.0.0.${i}`, dest_ip: '192.0.2.1', dest_port: 443, proto: 'TCP' });
    // Three requests (three chunks) from two organisations: nobody processes them yet.
    for (const [org, n] of [['DSK', 5], ['NOR', 3], ['DSK', 2]] as const) {
      const res = await post(api.url, prep.sensors[org][0], Array.from({ length: n }, (_, i) => flow(i)));
      expect(res.status).toBe(202);
    }
    await new Promise((r) => setTimeout(r, 300));

    const system = async () => ((await (await fetch(`${api.url}/api/v1/system`, { headers: { authorization: `Bearer ${prep.analysts.DSK}` } })).json()) as { detection: { stream: Stream } }).detection.stream;
    const waiting = await system();
    expect(waiting.unowned).toEqual([0, 1, 2, 3]);
    expect(waiting.waitingMessages).toBe(3);
    expect(waiting.lagMs).toBeGreaterThanOrEqual(300);

    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--json'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
    const status = JSON.parse(stdout) as { scale: { stream: Stream } };
    expect(status.scale.stream.waitingMessages).toBe(3);
    expect(status.scale.stream.lagMs).toBeGreaterThanOrEqual(300);

    // A worker takes the partitions and processes the chunks: nothing waits any more.
    const worker = await start('worker', env, ['--processes', '0']);
    procs.push(worker);
    await until('the queue to empty', async () => {
      const s = await system();
      return s.unowned.length === 0 && s.waitingMessages === 0 && s.lagMs === 0;
    }, { ms: 60_000, everyMs: 500, diag: () => worker.output().slice(-3000) });
  }, 120_000);
});
