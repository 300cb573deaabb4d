/**
 * Supervised scale-out workers (issue 8): on a real PostgreSQL and a real NATS JetStream, one
 * `shieldwall serve` and one `shieldwall worker --processes 2` (the test hook on). One event of a
 * batch spins the worker that matches it: the supervisor kills that worker after
 * SHIELDWALL_WORKER_BATCH_TIMEOUT_MS and restarts it, the batch is read again (by whichever worker
 * holds the partition), then gone through carefully; the hanging event is dead-lettered with its
 * reason and the rule it hung on, every other event of the batch raises its alert, and the
 * workers go on with the next batches. Runs against dist/ (`npm run build:server` first).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_HANG_MARKER } from '../src/detect/pipeline/index.js';
import { pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable } from './helpers/nats.js';
import { alertsOf, post, repoRoot, scaleDeployment, start, stop, type Proc } from './scaleout-harness.js';
import { until as poll } from './helpers/until.js';

const CLI = path.join(repoRoot, 'dist/src/cli/main.js');

const [pgUp, natsUp] = await Promise.all([pgAvailable(), natsAvailable()]);
if ((!pgUp || !natsUp) && mustRun()) throw new Error(`the supervised scale-out test needs PostgreSQL (${pgUp}) and NATS at ${NATS_URL} (${natsUp})`);

const PARTITIONS = 2;
const TIMEOUT_MS = 1_500;
const C2 = '198.51.100.7';
const procs: Proc[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await stop(p).catch(() => undefined);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const until = <T>(what: string, fn: () => Promise<T | null>, ms: number, diag: () => string) => poll(what, fn, { ms, everyMs: 200, diag });

const flow = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({
  timestamp: new Date(Date.now() - 60_000).toISOString(), event_type: 'flow', src_ip: `10.0.0.${i}`, src_port: 40000 + i, dest_ip: C2, dest_port: 443, proto: 'TCP', ...extra,
});

describe.runIf(pgUp && natsUp)('supervised scale-out workers (built serve + worker --processes 2, test hooks on)', () => {
  it('kills and restarts the worker stuck on one event, dead-letters that event with its reason and rule, raises every other alert and goes on', async () => {
    const d = await scaleDeployment('supervised', { partitions: PARTITIONS, env: { SHIELDWALL_TEST_HOOKS: '1', SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: String(TIMEOUT_MS) } });
    cleanups.push(...d.cleanups);
    const { prep, env } = d;
    const api = await start('serve', env);
    procs.push(api);
    const workers = await start('worker', env, ['--processes', '2']);
    procs.push(workers);
    const diag = () => `--- api\n${api.output().slice(-3000)}\n--- workers\n${workers.output().slice(-6000)}`;
    await until('both worker processes to hold a partition', async () => ((workers.output().match(/partitions: \[\d/g) ?? []).length >= 2 ? true : null), 60_000, diag);

    // The deployment as GET /api/v1/system sees it (scale/presence.ts): the API process, the
    // supervisor and its two workers, every partition owned.
    const admin0 = prep.analysts.DSK;
    const system = async () => (await (await fetch(`${api.url}/api/v1/system`, { headers: { authorization: `Bearer ${admin0}` } })).json()) as any;
    const seen = await until('the supervisor and both workers to announce themselves', async () => {
      const s = await system();
      return s.workers.length === 2 && s.processes.some((p: any) => p.role === 'worker-supervisor') && s.detection.stream.unowned.length === 0 ? s : null;
    }, 30_000, diag);
    expect(seen.detection.queue).toBeNull();
    expect(seen.detection.stream.partitions).toBe(PARTITIONS);
    expect(seen.processes[0]).toMatchObject({ role: 'api', self: true, pid: api.child.pid });
    const sup = seen.processes.find((p: any) => p.role === 'worker-supervisor');
    expect(sup.pid).toBe(workers.child.pid);
    expect(sup.supervisor.processes).toBe(2);
    expect([...seen.workers.flatMap((w: any) => w.partitions)].sort()).toEqual([0, 1]);
    for (const w of seen.workers) expect(sup.supervisor.pids).toContain(w.pid);

    // Nine matching events, the hostile one in the middle of the same batch (one stream message).
    const lines = [1, 2, 3, 4].map((i) => flow(i)).concat(flow(5, { app_proto: TEST_HANG_MARKER }), [6, 7, 8, 9, 10].map((i) => flow(i)));
    // Another organisation's traffic in flight at the same time (its partition may share a batch
    // with the hostile event's): it too is processed exactly once.
    const [res, other] = await Promise.all([post(api.url, prep.sensors.DSK[0], lines), post(api.url, prep.sensors.NOR[0], [20, 21, 22].map((i) => flow(i)))]);
    expect(res.status).toBe(202);
    expect(other.status).toBe(202);
    const ingest = (await res.json()) as { accepted: number; firstSeq: number; lastSeq: number };
    expect(ingest.accepted).toBe(10);
    expect(ingest.lastSeq - ingest.firstSeq).toBe(9); // one message: its events' seqs are consecutive
    const hostileSeq = ingest.firstSeq + 4;

    const admin = prep.analysts.DSK; // analyst + admin of DSK
    const get = async (p: string) => {
      const r = await fetch(`${api.url}${p}`, { headers: { authorization: `Bearer ${admin}` } });
      return { status: r.status, body: (await r.json()) as any };
    };
    const dead = await until('the hanging event to be dead-lettered', async () => {
      const items = (await get('/api/v1/system/dead-letters')).body.items as { seq: number; reason: string; ruleRef: string | null; event: string; attempts: number }[];
      return items.length > 0 ? items : null;
    }, 180_000, diag);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.seq).toBe(hostileSeq);
    expect(dead[0]!.event).toContain(TEST_HANG_MARKER);
    expect(dead[0]!.reason).toContain('SHIELDWALL_WORKER_BATCH_TIMEOUT_MS');
    expect(dead[0]!.ruleRef).toBe('test-hook:hang');
    expect(dead[0]!.attempts).toBeGreaterThanOrEqual(3);

    // Every other event of the batch raised its alert: nine sources, each counted once.
    const c2 = await until('the other nine events to raise their alerts', async () => {
      const a = (await alertsOf(api.url, admin)).filter((x) => x.title.includes('C2 address'));
      return a.reduce((n, x) => n + x.count, 0) >= 9 ? a : null;
    }, 30_000, diag);
    expect(c2.reduce((n, x) => n + x.count, 0)).toBe(9);
    const nor = await until('the other organisation\'s events to raise their alerts', async () => {
      const a = (await alertsOf(api.url, prep.analysts.NOR)).filter((x) => x.title.includes('C2 address'));
      return a.reduce((n, x) => n + x.count, 0) >= 3 ? a : null;
    }, 30_000, diag);
    expect(nor.reduce((n, x) => n + x.count, 0)).toBe(3);
    const out = workers.output();
    expect(out).toContain('restarting and retrying the batch');
    expect(out).toContain('carefully');
    expect(out).toMatch(new RegExp(`event ${hostileSeq} quarantined`));

    // The workers go on: a later batch is processed, and the count stays exact (nothing twice).
    expect((await post(api.url, prep.sensors.DSK[0], [flow(11), flow(12)])).status).toBe(202);
    await until('the next batch to be processed', async () => {
      const n = (await alertsOf(api.url, admin)).filter((x) => x.title.includes('C2 address')).reduce((k, x) => k + x.count, 0);
      return n >= 11 ? n : null;
    }, 30_000, diag);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await alertsOf(api.url, admin)).filter((x) => x.title.includes('C2 address')).reduce((k, x) => k + x.count, 0)).toBe(11);

    // The supervisor's restarts and quarantines show at /system and in `shieldwall status`
    // (once its workers are both back and hold every partition).
    const after = await system();
    const supAfter = after.processes.find((p: any) => p.role === 'worker-supervisor');
    expect(supAfter.supervisor.restarts).toBeGreaterThanOrEqual(3);
    expect(supAfter.supervisor.deadLetters).toBeGreaterThanOrEqual(1);
    const st = await until('shieldwall status to show both workers holding every partition', async () => {
      const s = JSON.parse(execFileSync(process.execPath, [CLI, 'status', '--json'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, encoding: 'utf8' })) as any;
      return s.scale.workers.length === 2 && s.scale.stream.unowned.length === 0 ? s : null;
    }, 60_000, diag);
    expect(st.scale.processes.map((p: any) => p.role).sort()).toEqual(['api', 'worker-supervisor']);

    // A retried dead letter goes back into the stream and now raises its alert (the hook still
    // hangs on it, so it comes back as a new dead letter: the retry reached a worker).
    const retried = await fetch(`${api.url}/api/v1/system/dead-letters/${hostileSeq}/retry`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(retried.status).toBe(202);
    const newSeq = ((await retried.json()) as { seq: number }).seq;
    expect(newSeq).toBeGreaterThan(hostileSeq);
    const again = await until('the retried event to reach a worker again', async () => {
      const items = (await get('/api/v1/system/dead-letters')).body.items as { seq: number }[];
      return items.length === 1 && items[0]!.seq === newSeq ? items[0]! : null;
    }, 180_000, diag);
    expect(again.seq).toBe(newSeq);
    // The CLI's retry does the same on a scale-out node: into the stream, never the SQL spool no worker reads.
    const cli = execFileSync(process.execPath, [CLI, 'dead-letters', 'retry', String(newSeq)], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, encoding: 'utf8' });
    expect(cli).toContain('back in the telemetry stream as event');
    const third = Number(/as event (\d+)/.exec(cli)![1]);
    expect(third).toBeGreaterThan(newSeq);
    await until('the event retried from the CLI to reach a worker again', async () => {
      const items = (await get('/api/v1/system/dead-letters')).body.items as { seq: number }[];
      return items.length === 1 && items[0]!.seq === third ? true : null;
    }, 180_000, diag);
    // Bad input stays a 4xx.
    expect((await get('/api/v1/system/dead-letters/abc')).status).toBe(404);
  }, 600_000);

  it('counts a batch\'s failures across machines: two supervisors (one worker each) quarantine the hanging event once, whichever machine it fails on', async () => {
    const d = await scaleDeployment('two-machines', { partitions: 1, env: { SHIELDWALL_TEST_HOOKS: '1', SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: String(TIMEOUT_MS) } });
    cleanups.push(...d.cleanups);
    const { prep, env } = d;
    const api = await start('serve', env);
    procs.push(api);
    const m1 = await start('worker', env, ['--processes', '1']);
    const m2 = await start('worker', env, ['--processes', '1']);
    procs.push(m1, m2);
    const diag = () => `--- api\n${api.output().slice(-2000)}\n--- machine 1\n${m1.output().slice(-4000)}\n--- machine 2\n${m2.output().slice(-4000)}`;
    const admin = prep.analysts.DSK;
    await until('both machines to announce their worker', async () => {
      const s = (await (await fetch(`${api.url}/api/v1/system`, { headers: { authorization: `Bearer ${admin}` } })).json()) as any;
      return s.workers.length === 2 && s.processes.filter((p: any) => p.role === 'worker-supervisor').length === 2 && s.detection.stream.unowned.length === 0 ? s : null;
    }, 60_000, diag);

    const lines = [1, 2, 3].map((i) => flow(i)).concat(flow(4, { app_proto: TEST_HANG_MARKER }), [5, 6].map((i) => flow(i)));
    const res = await post(api.url, prep.sensors.DSK[0], lines);
    expect(res.status).toBe(202);
    const ingest = (await res.json()) as { firstSeq: number };
    const dead = await until('the hanging event to be dead-lettered', async () => {
      const r = await fetch(`${api.url}/api/v1/system/dead-letters`, { headers: { authorization: `Bearer ${admin}` } });
      const items = ((await r.json()) as { items: { seq: number; attempts: number }[] }).items;
      return items.length > 0 ? items : null;
    }, 180_000, diag);
    expect(dead.map((d) => d.seq)).toEqual([ingest.firstSeq + 3]);
    const c2 = await until('the other five events to raise their alerts', async () => {
      const a = (await alertsOf(api.url, admin)).filter((x) => x.title.includes('C2 address'));
      return a.reduce((n, x) => n + x.count, 0) >= 5 ? a : null;
    }, 30_000, diag);
    expect(c2.reduce((n, x) => n + x.count, 0)).toBe(5);
    // The batch's first failure is the only one either machine treats as a first failure: the
    // count is the deployment's, so a second failure on the other machine is a second failure.
    const both = m1.output() + m2.output();
    expect(both.match(/restarting and retrying the batch/g) ?? []).toHaveLength(1);
    expect(both).toMatch(new RegExp(`event ${ingest.firstSeq + 3} quarantined`));
  }, 600_000);
});
