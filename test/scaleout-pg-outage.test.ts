/**
 * A scale-out node through a PostgreSQL outage (issue 8): every connection of the node's database
 * is ended by the server (as a restart or a failover does). Runs the BUILT `shieldwall worker`
 * (`npm run build:server` first) on a real PostgreSQL and a real NATS JetStream.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable } from './helpers/nats.js';
import { scaleDeployment, start, stop, type Proc } from './scaleout-harness.js';
import { until } from './helpers/until.js';

const [pgUp, natsUp] = await Promise.all([pgAvailable(), natsAvailable()]);
if ((!pgUp || !natsUp) && mustRun()) throw new Error(`the PostgreSQL outage test needs PostgreSQL (${pgUp}) and NATS at ${NATS_URL} (${natsUp})`);

const procs: Proc[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await stop(p).catch(() => undefined);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Ends every connection to the database of `url`, as a PostgreSQL restart does. */
async function endConnections(url: string): Promise<number> {
  const db = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const r = await admin.query<{ n: string }>('select count(pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [db]);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await admin.end();
  }
}

const workerPids = (out: string) => [...out.matchAll(/detection worker (\d+): NATS/g)].map((m) => Number(m[1]));

describe.runIf(pgUp && natsUp)('a scale-out node through a PostgreSQL outage', () => {
  it('a supervised worker that loses its lease connection exits at once and is restarted, not left hanging until the silence watchdog', async () => {
    const d = await scaleDeployment('pgoutage', { partitions: 2, env: { SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: '1500' } });
    cleanups.push(...d.cleanups);
    const workers = await start('worker', d.env, ['--processes', '1']);
    procs.push(workers);
    const diag = () => workers.output().slice(-4000);
    await until('the worker to take the partitions', () => /partitions: \[0,1\]/.test(workers.output()), { ms: 60_000, diag });
    const [first] = workerPids(workers.output());

    expect(await endConnections(d.env.SHIELDWALL_DATABASE_URL!)).toBeGreaterThan(0);
    // The silence watchdog would restart it only after a minute: the worker must end by itself.
    const next = await until('a new worker process after the lost connection', () => workerPids(workers.output()).find((p) => p !== first) ?? null, { ms: 20_000, everyMs: 200, diag });
    expect(workers.output()).toMatch(new RegExp(`worker ${first}: the worker exited with code 70`));
    expect(workers.output()).not.toMatch(/sent nothing for/);
    await until('the new worker to take the partitions', () => new RegExp(`worker ${next} partitions: \\[0,1\\]`).test(workers.output()), { ms: 30_000, diag });
  }, 120_000);
});
