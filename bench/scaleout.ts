/**
 * Scale-out on PostgreSQL + NATS JetStream: the same EVE telemetry (the surevego sample) from
 * 12 organisations through `POST /api/v1/ingest` of an API process (in this process) into the
 * stream, detected by 1 and then 3 `shieldwall worker` processes (the built CLI), against the
 * sample's own indicators plus generated ones.
 *
 * - `scaleout_e2e_events_per_s_{1,3}w`: events sent ÷ time from the first request until every
 *   partition's high-water mark reached its last chunk (alerts committed);
 * - `scaleout_events_per_worker_cpu_s_{1,3}w`: events ÷ the workers' CPU seconds (user + system,
 *   from /proc), and `scaleout_workers_efficiency` = the 3-worker figure ÷ the 1-worker figure
 *   (CPU-normalised, so a 2-core machine can measure it: 1.0 = no coordination overhead).
 *
 * Runnable alone: `node --expose-gc dist/bench/scaleout.js` (after `npm run build`); the last
 * stdout line is a JSON object. Needs SHIELDWALL_TEST_PG and SHIELDWALL_TEST_NATS (or the defaults).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { createPlatform, startServer } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { openNats, partitionOf } from '../src/scale/index.js';
import { splitEventSeq } from '../src/scale/codec.js';
import { openPostgresStore } from '../src/store/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { freshPostgresDb, pgAvailable } from '../test/helpers/pg.js';
import { NATS_URL, natsAvailable } from '../test/helpers/nats.js';
import pg from 'pg';
import { generateIndicators } from './generate.js';
import { sampleIndicators } from './ingest.js';
import { log, nowMs, round } from './stats.js';

const ORGS = 12;
const PARTITIONS = 12;
const BATCH = 2000;
/** Events sent before the measured ones (one request per organisation). */
const WARMUP_EVENTS = ORGS * BATCH;
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

function ownCpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** Live children of a process (all its threads'). */
function childrenOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/**
 * CPU seconds of `shieldwall worker` and the worker process(es) it supervises. A child restarted
 * during the run would lose its time before the restart; none is (no batch hangs here).
 */
function cpuSeconds(pid: number): number {
  return ownCpuSeconds(pid) + childrenOf(pid).reduce((n, c) => n + cpuSeconds(c), 0);
}

interface Run { eventsPerS: number; perCpuS: number; alerts: number; batches: number }

async function runWith(workers: number, lines: readonly string[], indicators: number): Promise<Run> {
  const db = await freshPostgresDb();
  const prefix = `bench_${crypto.randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-bench-scale-'));
  const env = {
    SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_NATS_URL: NATS_URL, SHIELDWALL_NATS_PREFIX: prefix,
    SHIELDWALL_NATS_PARTITIONS: String(PARTITIONS), SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_PORT: '0', SHIELDWALL_HOST: '127.0.0.1',
  };
  const p = await createPlatform(loadConfig(env));
  const procs: ChildProcess[] = [];
  try {
    const sensors: { token: string; orgId: string }[] = [];
    let principal = null;
    for (let i = 0; i < ORGS; i++) {
      const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Bench ${i}`, shortName: `B${i}` });
      sensors.push({ orgId: org.id, token: (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, kind: 'sensor', name: 'fw' })).token });
      if (!principal) {
        const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'bench', password: 'correct horse battery staple', roles: ['analyst'] });
        principal = await p.access.authenticateToken((await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: 'b' })).token, 'bench');
      }
    }
    const coll = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'feed' });
    for (const s of sensors) await p.access.grantCollection(SYSTEM_ACTOR, coll.id, s.orgId, { canRead: true, canWrite: true });
    const generated = generateIndicators(indicators, { seed: 11 });
    for (let i = 0; i < generated.length; i += 5000) await p.intel.submit({ principal: principal!, source: 'bench' }, coll.id, generated.slice(i, i + 5000), { defaultTlp: 'green' });
    // The sample's own values, so that events match and alerts are written (by every worker, into one PostgreSQL).
    await p.intel.submit({ principal: principal!, source: 'bench' }, coll.id, sampleIndicators(lines), { defaultTlp: 'green' });
    const server = await startServer(p, { logger: false });
    const shares: number[] = [];
    for (let i = 0; i < workers; i++) {
      const child = spawn(process.execPath, [CLI, 'worker'], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push(child);
      shares.push(-1);
      child.stderr?.on('data', (b: Buffer) => {
        const m = /partitions: \[([0-9,]*)\]\s*$/.exec(b.toString().trim().split('\n').pop() ?? '');
        if (m) shares[i] = m[1] === '' ? 0 : m[1]!.split(',').length;
      });
    }
    // Measure from when every worker has loaded its index and holds its share (each logs its partitions).
    const w0 = nowMs();
    while (!(shares.every((n) => n > 0) && shares.reduce((a, b) => a + b, 0) === PARTITIONS)) {
      if (nowMs() - w0 > 120_000) throw new Error(`the workers did not share the partitions: ${JSON.stringify(shares)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const store = await openPostgresStore(db.url);
    /** Sends `ls` through the API (two senders, BATCH lines a request, organisations in turn) and waits until every partition's mark covers it. */
    const pump = async (ls: readonly string[]): Promise<void> => {
      const last = new Map<number, number>();
      const t0 = nowMs();
      const batches: { token: string; orgId: string; body: string }[] = [];
      for (let i = 0, k = 0; i < ls.length; i += BATCH, k++) batches.push({ ...sensors[k % ORGS]!, body: ls.slice(i, i + BATCH).join('\n') });
      let next = 0;
      const sender = async () => {
        while (next < batches.length) {
          const b = batches[next++]!;
          const res = await fetch(`${server.url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/x-ndjson' }, body: b.body });
          const body = (await res.json()) as { lastSeq: number };
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
          const part = partitionOf(b.orgId, PARTITIONS);
          // The partition's mark is a stream sequence; lastSeq names the last event (stream sequence × LINE_SLOTS + line).
          last.set(part, Math.max(last.get(part) ?? 0, splitEventSeq(body.lastSeq).streamSeq));
        }
      };
      await Promise.all([sender(), sender()]);
      for (;;) {
        let done = true;
        for (const [part, seq] of last) if (Number((await store.getMeta(`scale.${prefix}.hwm.${part}`)) ?? 0) < seq) done = false;
        if (done) break;
        if (nowMs() - t0 > 600_000) throw new Error('the workers did not finish within 10 minutes');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let secs: number;
    let cpu: number;
    try {
      // Warm-up, untimed and the same for 1 and 3 workers: one request per organisation, so every
      // worker's matching code is compiled (JIT) before the measured events — a cost per process
      // that a worker running for days never pays again, and that is not coordination.
      await pump(lines.slice(0, WARMUP_EVENTS));
      await new Promise((r) => setTimeout(r, 1_000));
      const cpu0 = procs.map((c) => cpuSeconds(c.pid!));
      const e0 = nowMs();
      await pump(lines);
      secs = (nowMs() - e0) / 1000;
      cpu = procs.reduce((n, c, i) => n + cpuSeconds(c.pid!) - cpu0[i]!, 0);
    } finally {
      await store.close();
    }
    // Detection batches committed (one audit row each): events per transaction, the main cost per event beside matching.
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    const txs = Number((await pgc.query<{ n: string }>("select count(*) as n from audit where action = 'detect.batch'")).rows[0]?.n ?? 0);
    await pgc.end();
    const alerts = await p.store.listAlertFacts({ sinceUs: 0, exerciseId: null, limit: 1_000_000 });
    await server.close();
    return { eventsPerS: lines.length / secs, perCpuS: lines.length / Math.max(0.01, cpu), alerts: alerts.length, batches: txs };
  } finally {
    for (const c of procs) c.kill('SIGTERM');
    await Promise.all(procs.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await p.close();
    const link = await openNats({ url: NATS_URL, prefix, partitions: PARTITIONS, maxBytes: 1 << 30, maxAgeMs: 3_600_000, name: 'bench cleanup' });
    await link.jsm.streams.delete(link.names.stream).catch(() => undefined);
    await link.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchScaleOut(opts: { events: number; indicators: number; rounds?: number }): Promise<Record<string, number | string>> {
  if (!(await pgAvailable()) || !(await natsAvailable())) {
    log('scale-out: skipped, PostgreSQL or NATS is not reachable (SHIELDWALL_TEST_PG, SHIELDWALL_TEST_NATS)');
    return { scaleout_skipped: 'postgres or nats not reachable' };
  }
  const sample = fs.readFileSync(sharedPath('data/telemetry/suricata-eve/surevego/testdata/eve.json'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const lines = Array.from({ length: opts.events }, (_, i) => sample[i % sample.length]!);
  // Rounds of a 1-worker then a 3-worker run, each on a fresh database and stream: on a shared
  // 2-core host one pair's ratio swung 0.68–0.83 from run to run, so the figures are the median
  // round's (by its ratio), as in the import and ingest sections.
  const rounds: { one: Run; three: Run; ratio: number }[] = [];
  for (let k = 0; k < (opts.rounds ?? 3); k++) {
    const one = await runWith(1, lines, opts.indicators);
    const three = await runWith(3, lines, opts.indicators);
    rounds.push({ one, three, ratio: three.perCpuS / one.perCpuS });
    log(`scale-out: round ${k + 1}: 1 worker ${Math.round(one.perCpuS)} events per worker-CPU-s, 3 workers ${Math.round(three.perCpuS)}, ratio ${round(three.perCpuS / one.perCpuS)}`);
  }
  const { one, three } = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
  const efficiency = round(three.perCpuS / one.perCpuS);
  log(`scale-out: ${lines.length} EVE events, ${ORGS} organisations, ${PARTITIONS} partitions: 1 worker ${Math.round(one.eventsPerS)} events/s ` +
    `(${Math.round(one.perCpuS)} per worker-CPU-s, ${one.alerts} alerts, ${one.batches} batches), 3 workers ${Math.round(three.eventsPerS)} events/s (${Math.round(three.perCpuS)} per worker-CPU-s, ` +
    `${three.alerts} alerts, ${three.batches} batches); efficiency ${efficiency} (median of ${rounds.map((r) => round(r.ratio)).join(', ')}; on ${os.cpus().length} CPUs shared with the API, PostgreSQL and NATS)`);
  return {
    scaleout_events: lines.length, scaleout_e2e_events_per_s_1w: Math.round(one.eventsPerS), scaleout_e2e_events_per_s_3w: Math.round(three.eventsPerS),
    scaleout_e2e_events_per_s: Math.round(three.eventsPerS),
    scaleout_events_per_worker_cpu_s_1w: Math.round(one.perCpuS), scaleout_events_per_worker_cpu_s_3w: Math.round(three.perCpuS), scaleout_workers_efficiency: efficiency,
  };
}

// Run alone: node dist/bench/scaleout.js
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const scale = Number(process.env.BENCH_SCALE ?? '1') || 1;
  benchScaleOut({ events: Math.max(20_000, Math.round(200_000 * scale)), indicators: Math.max(1000, Math.round(20_000 * scale)) })
    .then((f) => process.stdout.write(`${JSON.stringify(f)}\n`))
    .catch((e: unknown) => {
      log(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 1;
    });
}
