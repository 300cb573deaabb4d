/**
 * Scale-out mode (docs/deploying-at-scale.md): telemetry through NATS JetStream, partitioned
 * by organisation, to any number of `shieldwall worker` processes; the live stream fanned out
 * between processes through core NATS; ownership and leadership by PostgreSQL advisory locks.
 */
import type { EventBus } from '../core/bus.js';
import type { NatsConfig } from '../config/index.js';
import { BusBridge } from './fanout.js';
import { openNats, redactUrl, type NatsLink } from './nats.js';
import { StreamPublisher } from './publisher.js';
import { shareFailures } from './shared-limits.js';
import { natsPipe } from './pipe.js';
import { PgPipe } from './pg-pipe.js';
import { deploymentView, PresenceAnnouncer, PresenceBoard, unownedPartitions } from './presence.js';
import { unownedBacklog } from './backlog.js';
import { checkPartitionCount } from './jetstream-source.js';
import { scaleNames } from './partition.js';
import type { FailureLimiter } from '../access/rate-limit.js';
import type { Store } from '../store/index.js';

export { ScaleWorker } from './worker.js';
export { ScaleSupervisor } from './supervisor.js';
export type { ScaleSupervisorDeps, ScaleSupervisorOptions } from './supervisor.js';
export type { ScaleWorkerDeps, ScaleWorkerSettings } from './worker.js';
export { fnv1a32, partitionOf, scaleNames } from './partition.js';
export type { ScaleNames } from './partition.js';
export { StreamPublisher } from './publisher.js';
export { BusBridge } from './fanout.js';
export { natsPipe } from './pipe.js';
export type { Pipe } from './pipe.js';
export { PgPipe } from './pg-pipe.js';
export { checkNats, openNats } from './nats.js';
export { electLeader, SOLE_LEADER } from './leader.js';
export type { Leader } from './leader.js';
export type { NatsLink, NatsSettings } from './nats.js';
export { deploymentView, overview, PresenceAnnouncer, PresenceBoard, PRESENCE_MS, STALE_MS, unownedPartitions } from './presence.js';
export { unownedBacklog } from './backlog.js';
export { checkPartitionCount } from './jetstream-source.js';
export type { PartitionBacklog, ProcessReport, ScaleOverview, SeenProcess, SupervisorReport, WorkerReport } from './presence.js';

/** What an API process of a scale-out node holds: the stream it ingests into and the live-stream bridge. */
export interface ScaleApi {
  readonly link: NatsLink;
  readonly stream: StreamPublisher;
  readonly bridge: BusBridge;
  /** What every process of the deployment last said about itself (GET /api/v1/system). */
  readonly presence: PresenceBoard;
  /** This API process on the presence subject. */
  readonly self: PresenceAnnouncer;
  /**
   * The deployment as GET /api/v1/system shows it: the other processes as they last announced
   * themselves, and the queue — what partitions no worker owns hold included.
   */
  deployment(): Promise<ReturnType<typeof deploymentView>>;
  /** Whether NATS answers now (a round trip, at most HEALTH_TIMEOUT_MS), as `store` says it of PostgreSQL. */
  health(): Promise<NatsHealth>;
  close(): Promise<void>;
}

export interface NatsHealth {
  /** The configured URL, credentials shown as `***`. */
  readonly url: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

/** A NATS that takes longer than this to answer a ping is reported as failing. */
const HEALTH_TIMEOUT_MS = 1_000;

async function natsHealth(link: NatsLink, url: string): Promise<NatsHealth> {
  const t0 = performance.now();
  const ms = () => Math.round((performance.now() - t0) * 100) / 100;
  let timer: NodeJS.Timeout | undefined;
  try {
    // While disconnected a ping waits for the reconnection: bounded, so the page answers.
    await Promise.race([link.nc.rtt(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS)))]);
    return { url: redactUrl(url), ok: true, latencyMs: ms() };
  } catch (e) {
    return { url: redactUrl(url), ok: false, latencyMs: ms(), error: (e instanceof Error ? e.message : String(e)).slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

export async function openScaleApi(nats: NatsConfig, o: { bus: EventBus; limiter: FailureLimiter; retentionMs: number; store: Store }): Promise<ScaleApi> {
  await checkPartitionCount(o.store, scaleNames(nats.prefix).prefix, nats.partitions);
  const link = await openNats({ url: nats.url, prefix: nats.prefix, partitions: nats.partitions, maxBytes: nats.maxBytes, maxAgeMs: o.retentionMs, name: `shieldwall-serve ${process.pid}` });
  const pipe = natsPipe(link.nc);
  const bridge = BusBridge.start(pipe, link.names.live, o.bus);
  const unshare = shareFailures(pipe, `${link.names.prefix}.authfail`, o.limiter);
  const presence = PresenceBoard.listen(link.nc, link.names.prefix);
  const self = new PresenceAnnouncer(link.nc, link.names.prefix, () => ({ role: 'api', partitionsTotal: nats.partitions })).start();
  presence.ask();
  return {
    link, stream: new StreamPublisher(link, o.store), bridge, presence, self,
    health: () => natsHealth(link, nats.url),
    deployment: async () => {
      const seen = presence.list().filter((x) => x.id !== self.id);
      return deploymentView(seen, nats.partitions, await unownedBacklog(link, o.store, unownedPartitions(seen, nats.partitions)));
    },
    close: async () => {
      self.stop();
      presence.stop();
      unshare();
      bridge.stop();
      await link.close();
    },
  };
}

/**
 * Several API processes on one PostgreSQL without NATS (docs/deploying-at-scale.md): the live
 * stream and the failed-authentication limiter go between them through PostgreSQL
 * LISTEN/NOTIFY, as they go through core NATS in scale-out mode.
 */
export interface PgSharing {
  close(): Promise<void>;
}

export async function openPgSharing(databaseUrl: string, prefix: string, o: { bus: EventBus; limiter: FailureLimiter }): Promise<PgSharing> {
  const pipe = await PgPipe.open(databaseUrl, `serve ${process.pid}`);
  const bridge = BusBridge.start(pipe, `${prefix}.live`, o.bus);
  const unshare = shareFailures(pipe, `${prefix}.authfail`, o.limiter);
  return {
    close: async () => {
      unshare();
      bridge.stop();
      await pipe.close();
    },
  };
}
