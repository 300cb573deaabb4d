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

export function registerWorker(program: Command, io: Io = stdio): void {
  program.command('worker')
    .description('run telemetry detection (indicators, Sigma, anomalies) against the node\'s store; `serve` starts one itself')
    .option('--supervised', 'started by `serve`: report to it over IPC and stop when it goes')
    .action(async (o: { supervised?: boolean }) => {
      const config = cliConfig();
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
      });
      runtime = rt;
      await new Promise<void>((resolve) => {
        let stopping = false;
        stop = () => {
          if (stopping) return;
          stopping = true;
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
