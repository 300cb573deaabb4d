/**
 * The queue of a scale-out node while no worker runs (issue 8, `GET /api/v1/system` and
 * `shieldwall status`): the telemetry accepted then waits in partitions nobody owns, and both
 * must say how much waits and for how long — not an empty queue because no worker reports it.
 * And whether NATS answers: a node whose NATS is down says so, and recovers when it is back.
 * Runs the BUILT `shieldwall serve`, `status` and `worker` (`npm run build:server` first) on a
 * real PostgreSQL and a real NATS JetStream (the second test a `nats-server` of its own).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable, natsServerInstalled, ownNatsServer } from './helpers/nats.js';
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
    // GET /detect/status counts the same queue (the analysts' view of the pipeline).
    const detectStatus = async () => (await (await fetch(`${api.url}/api/v1/detect/status`, { headers: { authorization: `Bearer ${prep.analysts.DSK}` } })).json()) as { queueDepth: number; processed: number; indicators: number };
    expect((await detectStatus()).queueDepth).toBe(3);
    const noWorker = ((await (await fetch(`${api.url}/api/v1/system`, { headers: { authorization: `Bearer ${prep.analysts.DSK}` } })).json()) as { indexes: { name: string; ready: boolean; error: string | null }[] }).indexes.find((i) => i.name === 'indicators');
    expect(noWorker).toMatchObject({ ready: false, error: 'no detection worker reports (start `shieldwall worker`)' });

    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--json'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
    const status = JSON.parse(stdout) as { scale: { stream: Stream } };
    expect(status.scale.stream.waitingMessages).toBe(3);
    expect(status.scale.stream.lagMs).toBeGreaterThanOrEqual(300);
    const statusText = async () => (await promisify(execFile)(process.execPath, [CLI, 'status'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } })).stdout;
    expect(await statusText()).toMatch(/^scale-out: NATS .*: 3 ingest chunks waiting in 4 partitions/m);

    // A worker takes the partitions and processes the chunks: nothing waits any more.
    const worker = await start('worker', env, ['--processes', '0']);
    procs.push(worker);
    await until('the queue to empty', async () => {
      const s = await system();
      return s.unowned.length === 0 && s.waitingMessages === 0 && s.lagMs === 0;
    }, { ms: 60_000, everyMs: 500, diag: () => worker.output().slice(-3000) });
    // The indicator feed of detection as the workers report it (they loaded the 3 indicators).
    const feed = async () => ((await (await fetch(`${api.url}/api/v1/system`, { headers: { authorization: `Bearer ${prep.analysts.DSK}` } })).json()) as { indexes: { name: string; behind: number; ready: boolean; error: string | null }[] }).indexes.find((i) => i.name === 'indicators');
    expect(await until('the workers\' feed to be reported caught up', async () => {
      const f = await feed();
      return f?.ready ? f : null;
    }, { ms: 10_000, everyMs: 500 })).toMatchObject({ behind: 0, error: null });
    expect(await detectStatus()).toMatchObject({ queueDepth: 0, processed: 10, indicators: 3 });
    // The table: readable headers, and the worker's uptime (it announces it).
    const table = await statusText();
    expect(table).toMatch(/^ROLE +HOST +PID +UPTIME_S +PARTITIONS +WAITING +EVENTS_PER_S +RESTARTS +QUARANTINED$/m);
    expect(table).toMatch(/^worker +\S+ +\d+ +\d+ +0 1 2 3 +0 /m);
  }, 120_000);

  it.runIf(natsServerInstalled)('says whether NATS answers (GET /system `nats`), and ingests again without a restart once it is back', async () => {
    const nats = await ownNatsServer(cleanups);
    const port = nats.port;
    await nats.start();
    const url = `nats://health:s3cret@127.0.0.1:${port}`;
    const d = await scaleDeployment('health', { partitions: 2, env: { SHIELDWALL_NATS_URL: url } });
    cleanups.push(...d.cleanups.filter((_, i) => i < 2)); // the stream goes with this test's nats-server
    const api = await start('serve', d.env);
    procs.push(api);
    type Nats = { url: string; ok: boolean; latencyMs: number; error?: string };
    const health = async () => {
      const t0 = Date.now();
      const body = (await (await fetch(`${api.url}/api/v1/system`, { headers: { authorization: `Bearer ${d.prep.analysts.DSK}` } })).json()) as { nats: Nats };
      return { ...body.nats, tookMs: Date.now() - t0 };
    };
    const up = await health();
    expect(up).toMatchObject({ url: `nats://***@127.0.0.1:${port}`, ok: true });
    const send = () => post(api.url, d.prep.sensors.DSK[0], [JSON.stringify({ timestamp: new Date().toISOString(), event_type: 'flow', src_ip: '10.0.0.1', dest_ip: '192.0.2.1' })]);
    expect((await send()).status).toBe(202);

    nats.kill();
    const down = await until('GET /system to report NATS failing', async () => {
      const h = await health();
      return h.ok ? null : h;
    }, { ms: 10_000 });
    expect(down.error).toBeTruthy();
    expect(JSON.stringify(down)).not.toContain('s3cret');
    expect(down.tookMs).toBeLessThan(5_000); // bounded: the page answers while NATS does not
    // Ingest answers 503 at once, not after a publish timeout longer than a sensor waits.
    const t0 = Date.now();
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(Date.now() - t0).toBeLessThan(2_000);

    await nats.start();
    await until('NATS to answer again', async () => (await health()).ok, { ms: 20_000 });
    await until('ingest to be accepted again', async () => (await send()).status === 202, { ms: 20_000 });
  }, 120_000);
});
