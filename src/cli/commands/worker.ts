/**
 * `shieldwall worker`: runs detection against the node's store (spool → alerts, sightings).
 * `serve` forks one with `--supervised` and watches it over IPC (docs/pipeline.md); run on its
 * own (SHIELDWALL_WORKERS=0 on the server), it works until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { openStore } from '../../store/index.js';
import { WorkerRuntime, isSupervisorMessage, type SupervisorMessage, type WorkerMessage } from '../../detect/worker/index.js';
import { cliConfig, stdio, type Io } from '../context.js';
import type { Config } from '../../config/index.js';
import { ScaleWorker } from '../../scale/index.js';

/** Scale-out: this worker takes its share of the JetStream partitions until SIGINT/SIGTERM (docs/deploying-at-scale.md). */
async function runScaleWorker(config: Readonly<Config>, io: Io): Promise<void> {
  const nats = config.nats!;
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const w = await ScaleWorker.start({ store, clock: systemClock, log: (l) => io.err(l) }, {
    natsUrl: nats.url, prefix: nats.prefix, partitions: nats.partitions, maxBytes: nats.maxBytes, databaseUrl: config.databaseUrl!,
    sigmaDir: config.sigmaDir, sigmaPlaceholders: config.sigmaPlaceholders,
    options: { queueCapacity: config.ingestQueue, alertWindowMs: config.alertWindowMinutes * 60_000, sightings: config.sightings, testHooks: config.testHooks },
  });
  io.err(`detection worker ${process.pid}: NATS ${nats.url} stream of "${nats.prefix}", ${nats.partitions} partitions shared with the other workers`);
  let failed: unknown = null;
  await new Promise<void>((resolve) => {
    const stop = () => void w.stop().finally(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // The loop ends by itself only on failure (the PostgreSQL lease connection was lost): exit non-zero so a supervisor restarts it.
    w.done().catch((e: unknown) => {
      failed = e;
      stop();
    });
  });
  await store.close();
  if (failed) throw failed;
}

export function registerWorker(program: Command, io: Io = stdio): void {
  program.command('worker')
    .description('run telemetry detection (indicators, Sigma, anomalies) against the node\'s store; `serve` starts one itself')
    .option('--supervised', 'started by `serve`: report to it over IPC and stop when it goes')
    .action(async (o: { supervised?: boolean }) => {
      const config = cliConfig();
      if (config.nats && o.supervised !== true) {
        await runScaleWorker(config, io);
        return;
      }
      const ipc = o.supervised === true && typeof process.send === 'function';
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
