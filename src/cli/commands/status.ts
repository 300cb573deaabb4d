/**
 * The node's processes from the shell (node operator), read from the store so it works beside
 * a running server: `shieldwall status` (queue, lag, workers as their supervisor last saved
 * them, dead letters, store health) and `shieldwall dead-letters list | retry SEQ | discard SEQ`.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { DEFAULT_DETECT_OPTIONS, DeadLetters, deadLetterView, SPOOL_CURSOR_KEY } from '../../detect/pipeline/index.js';
import { readWorkersSnapshot, STATUS_STALE_MS, WORKERS_STATUS_KEY } from '../../detect/worker/index.js';
import { CLI_ACTOR, orgOf, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { printRows } from '../table.js';
import { LAST_BACKUP_META, readLastBackup } from '../../ops/last-backup.js';
import { Correlations, Warninglists } from '../../intel/index.js';

function deadLetters(p: CliPlatform): DeadLetters {
  // A running worker polls the spool every 2 s; nothing to wake from here.
  return new DeadLetters({ store: p.store, clock: p.clock, wake: () => undefined });
}

function seqArg(raw: string): number {
  const n = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new AppError('BAD_REQUEST', `SEQ must be a dead letter's seq (a positive integer), got "${raw.slice(0, 40)}"`);
  return n;
}

async function status(p: CliPlatform) {
  const { store, clock } = p;
  const t0 = performance.now();
  const position = Number((await store.getMeta(SPOOL_CURSOR_KEY)) ?? '0');
  const lastSeq = await store.lastIngestSeq();
  const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
  const [oldest] = lastSeq > position ? await store.readIngest(position, 1) : [];
  const saved = await store.getMeta(WORKERS_STATUS_KEY);
  const workers = saved ? readWorkersSnapshot(saved, clock.now()) : null;
  const flagged = new Map<string, number>();
  for (const d of await store.listDeadLetters({ limit: 1000 })) if (d.ruleRef) flagged.set(d.ruleRef, (flagged.get(d.ruleRef) ?? 0) + 1);
  return {
    node: p.config.nodeName,
    store: { dialect: store.capabilities.dialect, ok: true, latencyMs },
    queue: { depth: lastSeq > position ? await store.countIngestAfter(position) : 0, processedSeq: position, lastSeq, lagMs: oldest ? Math.max(0, clock.now() - Math.floor(oldest.receivedUs / 1000)) : 0 },
    workers,
    deadLetters: { total: await store.countDeadLetters(), flaggedRules: [...flagged].map(([ref, count]) => ({ ref, count })) },
    // The correlation index follows the store; read from the store, as the running node's indexer left it.
    correlation: await new Correlations({ store, clock, intel: p.intel, warninglists: new Warninglists(store, clock) }).status(),
    backup: readLastBackup(await store.getMeta(LAST_BACKUP_META)),
    scale: p.config.nats ? await scaleStatus(p) : null,
  };
}

/** A duration for people: 4 s, 3 min 20 s, 2 h 5 min. */
function ago(ms: number): string {
  const sec = Math.round(ms / 1000);
  if (sec < 60) return `${sec} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${sec % 60} s`;
  return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
}

/** Waits this long for the processes of a scale-out deployment to answer the presence question. */
const ASK_MS = 1_500;

/**
 * Scale-out: the processes of the deployment as they answer on NATS (scale/presence.ts) — API
 * processes, worker supervisors and workers on every machine, and the stream's queue.
 */
async function scaleStatus(p: CliPlatform) {
  const nats = p.config.nats!;
  const { openNats, PresenceBoard, deploymentView, unownedBacklog, unownedPartitions } = await import('../../scale/index.js');
  const link = await openNats({ url: nats.url, prefix: nats.prefix, partitions: nats.partitions, maxBytes: nats.maxBytes, maxAgeMs: DEFAULT_DETECT_OPTIONS.spoolRetentionMs, name: `shieldwall-status ${process.pid}` });
  try {
    const board = PresenceBoard.listen(link.nc, link.names.prefix);
    await link.nc.flush();
    board.ask();
    await new Promise((r) => setTimeout(r, ASK_MS));
    board.stop();
    const seen = board.list();
    const unowned = await unownedBacklog(link, p.store, unownedPartitions(seen, nats.partitions));
    return { nats: { url: nats.url, prefix: nats.prefix, ok: true }, ...deploymentView(seen, nats.partitions, unowned) };
  } finally {
    await link.close();
  }
}

export function registerStatus(program: Command, io: Io = stdio): void {
  program.command('status')
    .description('queue, lag, detection workers, dead letters and store health of this node')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const s = await status(p);
      if (o.json) {
        io.out(JSON.stringify(s, null, 2));
        return;
      }
      io.out(`node ${s.node}: ${s.store.dialect} store ok (${s.store.latencyMs} ms)`);
      if (s.scale) {
        const st = s.scale.stream;
        io.out(`scale-out: NATS ${s.scale.nats.url} ("${s.scale.nats.prefix}"): ${st.waitingMessages} ingest chunks waiting in ${st.partitions} partitions, lag ${Math.round(st.lagMs / 1000)} s, ${st.eventsPerSecond} events/s`
          + (st.unowned.length ? `; NO WORKER owns partition(s) ${st.unowned.join(', ')}` : ''));
        printRows(io, false, [
          // Column names are the headers (upper-cased): `uptime_s`, not `uptimeS` ("UPTIMES").
          ...s.scale.processes.map((x) => ({ role: x.role, host: x.host, pid: x.pid, uptime_s: x.uptimeS, partitions: null, waiting: null, events_per_s: null, restarts: x.supervisor?.restarts ?? null, quarantined: x.supervisor?.deadLetters ?? null })),
          ...s.scale.workers.map((x) => ({ role: 'worker', host: x.host, pid: x.pid, uptime_s: x.uptimeS, partitions: x.partitions.join(' '), waiting: x.waitingMessages, events_per_s: x.eventsPerSecond, restarts: null, quarantined: null })),
        ], ['role', 'host', 'pid', 'uptime_s', 'partitions', 'waiting', 'events_per_s', 'restarts', 'quarantined']);
      } else {
        io.out(`queue: ${s.queue.depth} events waiting (processed through ${s.queue.processedSeq} of ${s.queue.lastSeq}), lag ${Math.round(s.queue.lagMs / 1000)} s`);
        if (!s.workers) io.out('workers: no supervisor has reported (is `shieldwall serve` running?)');
        else {
          const w0 = s.workers;
          io.out(`workers (as saved by supervisor ${w0.supervisorPid} at ${w0.savedAt}, ${ago(w0.ageMs)} ago):`);
          if (w0.stale) io.out(`STALE: saved more than ${STATUS_STALE_MS / 1000} s ago — its supervisor (shieldwall serve) is not running or not saving; the rows below were true then, not now`);
          printRows(io, false, w0.list.map((w) => ({
            pid: w.pid, state: w0.stale ? `${w.state} (stale)` : w.state, restarts: w.restarts, lastHeartbeat: w.lastHeartbeatAt,
            heartbeatAge: w.heartbeatAgeMs === undefined || w.heartbeatAgeMs === null ? null : `${ago(w.heartbeatAgeMs)}${w.stale ? ' (silent)' : ''}`, eventsPerS: w.eventsPerSecond,
            batch: w.batch ? `${w.batch.from}-${w.batch.to} (${w.batch.runningMs} ms)` : w.stats?.warmUp?.state === 'replaying' ? `warming up (${w.stats.warmUp.replayed} replayed)` : null,
            lastExit: w.lastExit?.reason ?? null,
          })), ['pid', 'state', 'restarts', 'lastHeartbeat', 'heartbeatAge', 'eventsPerS', 'batch', 'lastExit']);
        }
      }
      io.out(`dead letters: ${s.deadLetters.total}${s.deadLetters.flaggedRules.length ? `; flagged rules: ${s.deadLetters.flaggedRules.map((f) => `${f.ref} (${f.count})`).join(', ')}` : ''}`);
      const c = s.correlation;
      io.out(`correlation index: ${c.ready ? 'caught up' : `${c.behind} object versions behind, lag ${Math.round(c.lagMs / 1000)} s`}${c.error ? `; last error: ${c.error}` : ''}`);
      const b = s.backup;
      io.out(b ? `last backup: ${b.at} (${ago(Math.max(0, p.clock.now() - Date.parse(b.at)))} ago), ${b.counts.objectVersions} object versions` : 'last backup: never (shieldwall backup DIR)');
    }));

  const dl = program.command('dead-letters').description('telemetry events quarantined because they hung or crashed a detection worker');
  dl.command('list')
    .description('list dead letters, newest first')
    .option('--org <org>', 'only this organisation\'s telemetry (short name or identity id)')
    .option('--limit <n>', 'at most n', '100')
    .option('--json', 'print JSON (with the events)')
    .action((o: { org?: string; limit: string; json?: boolean }) => withPlatform(async (p) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new AppError('BAD_REQUEST', `--limit must be 1-10000, got "${o.limit}"`);
      // By short name or identity id; an unknown organisation is NOT_FOUND (exit 2), not an empty list.
      const orgId = o.org === undefined ? undefined : (await orgOf(p, o.org)).id;
      const rows = (await p.store.listDeadLetters({ limit, ...(orgId ? { orgId } : {}) })).map((r) => deadLetterView(r, r.ruleRef));
      printRows(io, o.json, rows, ['seq', 'orgId', 'sensorId', 'quarantinedAt', 'attempts', 'ruleRef', 'reason']);
    }));
  dl.command('retry <seq>')
    .description('send a dead letter through detection again (after fixing or removing the rule it hung on)')
    .action((seq: string) => withPlatform(async (p) => {
      const nats = p.config.nats;
      if (!nats) {
        const next = await deadLetters(p).retry(CLI_ACTOR, seqArg(seq));
        io.out(`dead letter ${seq} is back in the spool as event ${next}`);
        return;
      }
      // Scale-out: back into the telemetry stream (docs/deploying-at-scale.md), not the SQL spool no worker reads.
      const { openNats, StreamPublisher } = await import('../../scale/index.js');
      const link = await openNats({ url: nats.url, prefix: nats.prefix, partitions: nats.partitions, maxBytes: nats.maxBytes, maxAgeMs: DEFAULT_DETECT_OPTIONS.spoolRetentionMs, name: `shieldwall-cli ${process.pid}` });
      try {
        const dl = new DeadLetters({ store: p.store, clock: p.clock, wake: () => undefined, stream: new StreamPublisher(link, p.store) });
        const next = await dl.retry(CLI_ACTOR, seqArg(seq));
        io.out(`dead letter ${seq} is back in the telemetry stream as event ${next}`);
      } finally {
        await link.close();
      }
    }));
  dl.command('discard <seq>')
    .description('drop a dead letter for good')
    .action((seq: string) => withPlatform(async (p) => {
      await deadLetters(p).discard(CLI_ACTOR, seqArg(seq));
      io.out(`dead letter ${seq} discarded`);
    }));
}
