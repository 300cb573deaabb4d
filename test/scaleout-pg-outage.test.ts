/**
 * A scale-out node through a PostgreSQL outage (issue 8): every connection of the node's database
 * is ended by the server (as a restart or a failover does). Runs the BUILT `shieldwall worker`
 * (`npm run build:server` first) on a real PostgreSQL and a real NATS JetStream.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable } from './helpers/nats.js';
import { alertsOf, post, scaleDeployment, start, stop, type Proc } from './scaleout-harness.js';
import { partitionOf } from '../src/scale/index.js';
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

  it('a batch whose transaction fails is matched again as if for the first time: two events of a three-event correlation raise nothing, each sighting hit counts once', async () => {
    const d = await scaleDeployment('pgretry', { partitions: 2 });
    cleanups.push(...d.cleanups);
    const { prep, env } = d;
    const api = await start('serve', env);
    procs.push(api);
    const worker = await start('worker', env, ['--processes', '0']);
    procs.push(worker);
    const diag = () => worker.output().slice(-4000);
    await until('the worker to take the partitions', () => /partitions: \[0,1\]/.test(worker.output()), { ms: 60_000, diag });
    const mark = `scale.${env.SHIELDWALL_NATS_PREFIX}.hwm.${partitionOf(prep.orgIds.DSK, 2)}`;
    const holder = new pg.Client({ connectionString: env.SHIELDWALL_DATABASE_URL });
    await holder.connect();
    cleanups.push(() => holder.end());

    const at = new Date(Date.now() - 60_000).toISOString();
    const beacon = JSON.stringify({ timestamp: at, event_type: 'flow', src_ip: '10.0.0.9', src_port: 40000, dest_ip: '198.51.100.7', dest_port: 443, proto: 'TCP' });
    // A first batch, committed as usual: the worker is past its start.
    const markNow = async () => Number((await holder.query<{ value: string }>('select value from meta where key = $1', [mark])).rows[0]?.value ?? 0);
    expect((await post(api.url, prep.sensors.DSK[0], [beacon])).status).toBe(202);
    await until('the first batch to commit', async () => (await markNow()) === 1, { ms: 30_000, diag });

    // The partition's mark is locked: the worker's batch waits on it inside its transaction,
    // then that connection is ended (as a failover does) and the transaction fails.
    await holder.query('begin');
    await holder.query('select key from meta where key = $1 for update', [mark]);
    const whoami = () => JSON.stringify({ EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': at, Hostname: 'retry-host', Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all', User: 'CORP\\bob' });
    expect((await post(api.url, prep.sensors.DSK[0], [whoami(), whoami(), beacon, beacon])).status).toBe(202);
    // (pg_stat_activity may still show the session's previous statement: matched on the wait.)
    const blocked = await until('the batch to wait on the mark', async () => {
      const r = await holder.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()");
      return r.rows[0]?.pid ?? null;
    }, { ms: 30_000, diag });
    await holder.query('select pg_terminate_backend($1)', [blocked]);
    await holder.query('rollback');
    await until('the batch to commit on its second reading', async () => (await markNow()) === 2, { ms: 30_000, diag });
    await new Promise((r) => setTimeout(r, 500));

    const bursts = async () => (await alertsOf(api.url, prep.analysts.DSK)).filter((a) => a.title === 'Whoami burst');
    expect(await bursts()).toEqual([]); // two events: the correlation (three) must not fire
    expect((await post(api.url, prep.sensors.DSK[0], [whoami()])).status).toBe(202);
    await until('the third event to raise the correlation', async () => (await bursts()).length === 1, { ms: 30_000, diag });

    // The worker writes its sightings when it stops: the three beacons, once each.
    await stop(worker);
    const sightings = await (await fetch(`${api.url}/api/v1/intel/indicator--5c0f0000-0000-4000-8000-000000000001/sightings`, { headers: { authorization: `Bearer ${prep.analysts.DSK}` } })).json() as { total: number };
    expect(sightings.total).toBe(3);
  }, 120_000);
});
