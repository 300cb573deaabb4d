/**
 * The NATS side of a scale-out node: one connection per process, the telemetry stream, and the
 * names of a deployment (docs/deploying-at-scale.md).
 *
 * Stream (nats-server 2.9 features only; shared/reference/scale-out.md §0):
 * - `limits` retention with `max_age` = the spool retention (raw evidence kept as long as the
 *   embedded spool keeps it) — so a worker taking over a partition can replay its recent events
 *   to rebuild correlation windows (docs/architecture.md "Scale-out");
 * - `discard: new` + `max_bytes`: a full stream refuses a publish ("maximum bytes exceeded"),
 *   which ingestion answers with 429 + Retry-After (back-pressure, §1.2);
 * - `duplicate_window` 2 min: a chunk re-published with the same msgID is stored once (§1.2).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { AppError } from '../core/errors.js';
import { scaleNames, type ScaleNames } from './partition.js';

export interface NatsSettings {
  readonly url: string;
  readonly prefix: string;
  readonly partitions: number;
  /** Stream size cap in bytes (back-pressure). */
  readonly maxBytes: number;
  /** How long events stay in the stream (ms). */
  readonly maxAgeMs: number;
  /** Name of this process in NATS (monitoring). */
  readonly name: string;
}

export interface NatsLink {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: ScaleNames;
  readonly settings: NatsSettings;
  /** False from a lost connection until it is back (the client reconnects for ever). */
  connected(): boolean;
  close(): Promise<void>;
}

/** Connects (retrying while the server comes up) and makes sure the telemetry stream exists. */
export async function openNats(s: NatsSettings): Promise<NatsLink> {
  const servers = s.url.split(',').map((u) => u.trim()).filter(Boolean);
  // Reconnects are retried for ever once connected; the first connection is not: a node started
  // against a NATS that does not answer says so and stops (the operator fixes the URL or starts it).
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name: s.name, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5_000 });
  } catch (e) {
    throw new AppError('UNAVAILABLE', `cannot reach NATS at ${redactUrl(s.url)} (SHIELDWALL_NATS_URL): ${reason(e)}; is nats-server running there, with JetStream (-js)?`);
  }
  const names = scaleNames(s.prefix);
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
    await ensureStream(jsm, names, s);
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw new AppError('UNAVAILABLE', `NATS at ${redactUrl(s.url)} (SHIELDWALL_NATS_URL) answered, but its JetStream stream "${names.stream}" could not be opened: ${reason(e)}`);
  }
  const js = jetstream(nc);
  let up = true;
  void (async () => {
    for await (const st of nc.status()) {
      if (st.type === 'disconnect') up = false;
      else if (st.type === 'reconnect') up = true;
    }
  })().catch(() => undefined);
  return {
    nc, js, jsm, names, settings: s,
    connected: () => up && !nc.isClosed(),
    close: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
}

async function ensureStream(jsm: JetStreamManager, names: ScaleNames, s: NatsSettings): Promise<void> {
  const cfg = {
    name: names.stream, subjects: [`${names.prefix}.events.>`], retention: RetentionPolicy.Limits, storage: StorageType.File,
    discard: DiscardPolicy.New, max_bytes: s.maxBytes, max_age: s.maxAgeMs * 1_000_000, duplicate_window: 120 * 1_000_000_000,
  };
  try {
    const info = await jsm.streams.info(names.stream);
    if (info.config.max_bytes !== s.maxBytes || info.config.max_age !== cfg.max_age) await jsm.streams.update(names.stream, { max_bytes: s.maxBytes, max_age: cfg.max_age });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    try {
      await jsm.streams.add(cfg);
    } catch (e2) {
      // Another process created it at the same moment.
      await jsm.streams.info(names.stream).catch(() => {
        throw e2;
      });
    }
  }
}

function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 200);
}

/** The URL(s) as the operator wrote them, without credentials (nats://user:password@host). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@,]*@/g, '//***@');
}

/**
 * Whether the NATS of a node answers: connects once and closes (no stream is touched). Throws
 * the same UNAVAILABLE error as openNats, naming NATS and the URL.
 */
export async function checkNats(url: string): Promise<void> {
  const servers = url.split(',').map((u) => u.trim()).filter(Boolean);
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name: `shieldwall-check ${process.pid}`, timeout: 5_000, maxReconnectAttempts: 0 });
  } catch (e) {
    throw new AppError('UNAVAILABLE', `cannot reach NATS at ${redactUrl(url)} (SHIELDWALL_NATS_URL): ${reason(e)}; is nats-server running there, with JetStream (-js)?`);
  }
  await nc.close();
}

function isNotFound(e: unknown): boolean {
  return e instanceof Error && /not found/i.test(e.message);
}
