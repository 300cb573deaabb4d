/**
 * `shieldwall worker`: runs detection against the node's store (spool → alerts, sightings).
 * `serve` forks one with `--supervised` and watches it over IPC (docs/pipeline.md); run on its
 * own (SHIELDWALL_WORKERS=0 on the server), it works until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { openStore } from '../../store/index.js';
import { exitWhenOrphaned, WorkerRuntime, isSupervisorMessage, type SupervisorMessage, type WorkerMessage } from '../../detect/worker/index.js';
import { cliConfig, stdio, type Io } from '../context.js';
import type { Config } from '../../config/index.js';
import type { ScaleWorker } from '../../scale/index.js';
import { configEnv } from '../../config/index.js';
import { DEFAULT_DETECT_OPTIONS } from '../../detect/pipeline/index.js';
import { workerEntry } from '../../detect/worker/index.js';

/**
 * Scale-out: this worker takes its share of the JetStream partitions until SIGINT/SIGTERM
 * (docs/deploying-at-scale.md). `report`: the supervisor's IPC channel when forked by one.
 */
async function runScaleWorker(config: Readonly<Config>, io: Io, report?: (m: WorkerMessage) => void): Promise<void> {
  const nats = config.nats!;
  // The supervisor's messages are listened to from the start: one sent while the worker is being
  // built (a careful range, a stop) is kept for it, not dropped.
  let w: ScaleWorker | null = null;
  let careful: readonly { readonly from: number; readonly to: number }[] = parseCareful(process.env[CAREFUL_ENV]);
  let stopEarly = false;
  let stopNow: () => void = () => {
    stopEarly = true;
  };
  if (report) {
    process.on('message', (m: unknown) => {
      if (!isSupervisorMessage(m)) return;
      if (m.t === 'stop') stopNow();
      else if (m.t === 'careful') {
        careful = m.ranges;
        w?.careful(m.ranges);
      }
    });
    // The supervisor is gone (even SIGKILLed): stop at once; a batch not committed is read
    // again by the next owner of its partition (the mark moves only with its alerts).
    process.once('disconnect', () => process.exit(0));
    process.on('SIGINT', () => undefined); // Ctrl-C reaches the group: the supervisor decides
  }
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  // Scale-out only (NATS and PostgreSQL clients): the embedded default's worker never loads it.
  const { ScaleWorker } = await import('../../scale/index.js');
  // A start that fails (NATS does not answer) closes the store: its pool must not hold the process.
  w = await closingOnFailure(store, () => ScaleWorker.start({ store, clock: systemClock, log: (l) => io.err(l), ...(report ? { report, careful } : {}) }, {
    natsUrl: nats.url, prefix: nats.prefix, partitions: nats.partitions, maxBytes: nats.maxBytes, databaseUrl: config.databaseUrl!,
    sigmaDir: config.sigmaDir, sigmaPlaceholders: config.sigmaPlaceholders, supervisorId: process.env[SUPERVISOR_ENV] ?? null,
    options: { queueCapacity: config.ingestQueue, alertWindowMs: config.alertWindowMinutes * 60_000, sightings: config.sightings, testHooks: config.testHooks, eventLimits: config.eventLimits },
  }));
  io.err(`detection worker ${process.pid}: NATS ${nats.url} stream of "${nats.prefix}", ${nats.partitions} partitions shared with the other workers`);
  let failed: unknown = null;
  const worker = w;
  if (report) worker.careful(careful); // a range that came while it was being built
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void worker.stop().finally(resolve);
    };
    stopNow = stop;
    if (stopEarly) stop();
    if (!report) process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // The loop ends by itself only on failure (the PostgreSQL lease connection was lost): exit non-zero so a supervisor restarts it.
    worker.done().catch((e: unknown) => {
      failed = e;
      stop();
    });
  });
  await store.close();
  if (failed) {
    // Supervised, the IPC channel would hold this process open after the error (a worker that
    // no longer works, still "alive", until the supervisor's silence watchdog kills it a minute
    // or more later): let go of it, without the `disconnect` listener's exit 0, so the process
    // ends with the error's code and the supervisor restarts it at once.
    if (report) {
      process.removeAllListeners('disconnect');
      process.removeAllListeners('message');
      if (process.connected) process.disconnect();
    }
    throw failed;
  }
}

/** Runs `open`; when it fails, closes the store first (an open PostgreSQL pool would keep the failed command alive). */
async function closingOnFailure<T>(store: { close(): Promise<void> }, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}

/** Environment variable with the careful ranges a supervisor starts a worker with (JSON). */
const CAREFUL_ENV = 'SHIELDWALL_WORKER_CAREFUL';
/** Environment variable with the presence id of the supervisor that forked a worker. */
const SUPERVISOR_ENV = 'SHIELDWALL_WORKER_SUPERVISOR_ID';

function parseCareful(raw: string | undefined): { from: number; to: number }[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((r): r is { from: number; to: number } => typeof r?.from === 'number' && typeof r?.to === 'number') : [];
  } catch {
    return [];
  }
}

/**
 * Scale-out, on a machine: `processes` supervised workers (scale/supervisor.ts) — a batch that
 * hangs one gets it killed and restarted, and the event it hangs on dead-lettered.
 */
async function superviseScaleWorkers(config: Readonly<Config>, io: Io, processes: number): Promise<void> {
  const nats = config.nats!;
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const { checkPartitionCount, openNats, scaleNames, ScaleSupervisor } = await import('../../scale/index.js');
  // Refused here, once, rather than by every worker it would start and restart.
  await closingOnFailure(store, () => checkPartitionCount(store, scaleNames(nats.prefix).prefix, nats.partitions));
  const link = await closingOnFailure(store, () => openNats({ url: nats.url, prefix: nats.prefix, partitions: nats.partitions, maxBytes: nats.maxBytes, maxAgeMs: DEFAULT_DETECT_OPTIONS.spoolRetentionMs, name: `shieldwall-worker-supervisor ${process.pid}` }));
  const sup = new ScaleSupervisor({ store, clock: systemClock, link, log: (l) => io.err(l) }, {
    entry: workerEntry, env: { ...process.env, ...configEnv(config) }, batchTimeoutMs: config.workerBatchTimeoutMs, processes, carefulEnv: CAREFUL_ENV,
    supervisorEnv: SUPERVISOR_ENV, partitions: nats.partitions,
  });
  sup.start();
  io.err(`worker supervisor ${process.pid}: ${processes} detection worker process(es) on the stream of "${nats.prefix}", batch limit ${config.workerBatchTimeoutMs} ms`);
  await new Promise<void>((resolve) => {
    const stop = () => void sup.stop().finally(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await link.close();
  await store.close();
}

export function registerWorker(program: Command, io: Io = stdio): void {
  program.command('worker')
    .description('run telemetry detection (indicators, Sigma, anomalies) against the node\'s store; `serve` starts one itself')
    .option('--supervised', 'started by `serve` (or a scale-out worker supervisor): report to it over IPC and stop when it goes')
    .option('--processes <n>', 'scale-out (SHIELDWALL_NATS_URL): worker processes this command starts and supervises; 0 runs one here, unsupervised', '1')
    .action(async (o: { supervised?: boolean; processes: string }) => {
      const config = cliConfig();
      const ipc = o.supervised === true && typeof process.send === 'function';
      // Supervised: never outlive the supervisor, even spinning on one event (orphan-guard.ts).
      if (ipc) exitWhenOrphaned();
      const processes = /^[0-9]{1,3}$/.test(o.processes) ? Number(o.processes) : NaN;
      if (!Number.isInteger(processes) || processes > 256) throw new AppError('BAD_REQUEST', `--processes must be an integer from 0 to 256 (got ${o.processes.slice(0, 20)})`);
      // The SQL spool has one reader: without NATS a node runs one detection worker, here.
      if (!config.nats && processes > 1) throw new AppError('BAD_REQUEST', '--processes is for scale-out (SHIELDWALL_NATS_URL): without it a node runs one detection worker, which `serve` starts itself');
      if (config.nats) {
        if (ipc) await runScaleWorker(config, io, (m) => {
          if (process.connected) process.send!(m);
        });
        else if (processes === 0) await runScaleWorker(config, io);
        else await superviseScaleWorkers(config, io, processes);
        return;
      }
      const send = (m: WorkerMessage): void => {
        if (ipc && process.connected) process.send!(m);
      };
      // Messages that arrive while the engine is being built wait for it.
      const early: SupervisorMessage[] = [];
      let runtime: WorkerRuntime | null = null;
      let stop: () => void = () => process.exit(0);
      if (ipc) {
        process.on('message', (m: unknown) => {
          if (!isSupervisorMessage(m)) return;
          if (m.t === 'stop') stop();
          else if (runtime) void runtime.handle(m);
          else early.push(m);
        });
        // The server is gone (even SIGKILLed): stop at once; a batch not committed is simply
        // read again by the next worker (the position moves only with its alerts).
        process.once('disconnect', () => process.exit(0));
        // Ctrl-C reaches the whole process group: the supervisor decides when its worker stops.
        process.on('SIGINT', () => undefined);
      }
      const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      const rt = await WorkerRuntime.open({ store, clock: systemClock, channel: { send }, sigmaDir: config.sigmaDir, sigmaPlaceholders: config.sigmaPlaceholders }, {
        queueCapacity: config.ingestQueue, alertWindowMs: config.alertWindowMinutes * 60_000, sightings: config.sightings, testHooks: config.testHooks,
    eventLimits: config.eventLimits,
      });
      runtime = rt;
      // The engine's timers do not hold the process open (they are unref'd for in-process use);
      // on its own, this one does until the worker stops. Supervised, the IPC channel does.
      const keepAlive = ipc ? null : setInterval(() => undefined, 3_600_000);
      await new Promise<void>((resolve) => {
        let stopping = false;
        stop = () => {
          if (stopping) return;
          stopping = true;
          if (keepAlive) clearInterval(keepAlive);
          void rt.stop().finally(() => store.close().finally(resolve));
        };
        process.once('SIGTERM', stop);
        if (!ipc) {
          process.once('SIGINT', stop);
          io.err(`detection worker ${process.pid} on the ${store.capabilities.dialect} store of node "${config.nodeName}"`);
          void rt.go(null);
        }
        for (const m of early.splice(0)) {
          if (m.t === 'stop') stop();
          else void rt.handle(m);
        }
      });
      if (ipc && process.connected) process.disconnect();
    });
}
