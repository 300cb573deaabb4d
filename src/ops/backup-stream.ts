/**
 * The telemetry a scale-out node acknowledged but had not processed when it was backed up
 * (docs/deploying.md "Backup and restore"). Ingestion answers 202 once NATS JetStream stored the
 * chunk; until a worker commits its alerts, the chunk is in the stream only, after its
 * partition's mark. A backup of the database alone would lose it with the NATS server, so the
 * backup keeps, beside the snapshot, every chunk after the marks that snapshot holds.
 *
 * On restore, per partition: when the target's stream is the one the marks count in (same
 * creation time) and still holds the first chunk after the mark, the workers will read on from
 * the mark as they would have (and also read what arrived after the backup); otherwise the
 * partition's saved chunks are published again and its mark set to just before them, in the
 * stream as it is now.
 */
import fs from 'node:fs';
import path from 'node:path';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { AppError } from '../core/errors.js';
import type { Store } from '../store/index.js';
import { hwmKey, lineCount, marksInStream, readPartitionRange, streamKey } from '../scale/jetstream-source.js';
import { openNats, type NatsLink, type NatsSettings } from '../scale/nats.js';

export const STREAM_EVENTS_FILE = 'telemetry-pending.ndjson';

/** What the manifest says of the stream (absent: an embedded node, whose spool is in the store). */
export interface StreamBackup {
  stream: string;
  /** Creation time of the stream the chunks were read from. */
  created: string;
  partitions: number;
  /** Each partition's mark in the snapshot (the last stream sequence whose alerts it holds). */
  marks: Record<string, number>;
  /** Chunks (messages) and events (lines) kept. */
  chunks: number;
  events: number;
}

interface SavedChunk {
  partition: number;
  seq: number;
  subject: string;
  headers: Record<string, string>;
  /** The message body, base64. */
  data: string;
}

/** `scale.<prefix>.hwm.<p>` and `scale.<prefix>.stream.<p>` of a snapshot's meta rows. */
export function scaleMetaSql(prefix: string): string {
  return `select key, value from meta where key like 'scale.${prefix.replace(/'/g, "''")}.%'`;
}

/**
 * Writes into `dir` every chunk of the stream after the marks of the snapshot (its meta rows of
 * the scale prefix), up to the stream's last sequence now. Null when the stream holds none.
 */
export async function saveStreamEvents(settings: NatsSettings, snapshotMeta: readonly { key: string; value: string }[], dir: string): Promise<StreamBackup | null> {
  const link = await openNats(settings);
  try {
    const info = await link.jsm.streams.info(link.names.stream);
    const meta = new Map(snapshotMeta.map((r) => [r.key, r.value]));
    const counting = await marksInStream(link, async () => meta, Array.from({ length: settings.partitions }, (_, p) => p));
    const marks: Record<string, number> = {};
    const file = path.join(dir, STREAM_EVENTS_FILE);
    const fd = fs.openSync(file, 'wx', 0o600);
    let chunks = 0;
    let events = 0;
    try {
      for (let p = 0; p < settings.partitions; p++) {
        // A mark of another stream (one made anew since) counts nothing of this one.
        const mark = counting.get(p)!;
        marks[String(p)] = mark;
        await readPartitionRange(link, p, { from: { seq: Math.max(mark + 1, info.state.first_seq) }, through: info.state.last_seq }, (m) => {
          const headers: Record<string, string> = {};
          for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
          const c: SavedChunk = { partition: p, seq: m.seq, subject: m.subject, headers, data: Buffer.from(m.data).toString('base64') };
          fs.writeSync(fd, `${JSON.stringify(c)}\n`);
          chunks++;
          events += lineCount(m.data);
        });
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (chunks === 0) {
      fs.rmSync(file);
      return null;
    }
    return { stream: link.names.stream, created: info.created, partitions: settings.partitions, marks, chunks, events };
  } finally {
    await link.close();
  }
}

/** What became of the saved chunks on restore. */
export interface StreamRestore {
  /** Chunks still in the target's stream after their restored mark: the workers read on from it. */
  inStream: number;
  /** Chunks published again (their partitions' marks set just before them). */
  republished: number;
}

/**
 * Puts the saved chunks of a backup back where workers will process them (see the module
 * comment), with the restored store's marks set to match. The node must not be running.
 */
export async function restoreStreamEvents(settings: NatsSettings, b: StreamBackup, dir: string, store: Store): Promise<StreamRestore> {
  if (b.partitions !== settings.partitions) {
    throw new AppError('CONFLICT', `the backup's stream had ${b.partitions} partitions and SHIELDWALL_NATS_PARTITIONS is ${settings.partitions}: events are partitioned by organisation, restore with the same number`);
  }
  const saved = fs.readFileSync(path.join(dir, STREAM_EVENTS_FILE), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SavedChunk);
  const link = await openNats(settings);
  try {
    const info = await link.jsm.streams.info(link.names.stream);
    const result: StreamRestore = { inStream: 0, republished: 0 };
    for (let p = 0; p < b.partitions; p++) {
      const mine = saved.filter((c) => c.partition === p);
      if (mine.length === 0) continue;
      // The same stream, still holding every saved chunk of p (those after the restored mark).
      const still = info.created === b.created && info.state.first_seq <= mine[0]!.seq && info.state.last_seq >= mine[mine.length - 1]!.seq;
      if (still) {
        result.inStream += mine.length;
        continue;
      }
      const now = await link.jsm.streams.info(link.names.stream);
      await store.transaction(async (tx) => {
        await tx.setMeta(hwmKey(link.names.prefix, p), String(now.state.last_seq));
        await tx.setMeta(streamKey(link.names.prefix, p), now.created);
      });
      for (const c of mine) {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(c.headers)) h.set(k, v);
        // Under this node's prefix (the backup's may differ); the partition is the same (checked above).
        await link.js.publish(c.subject.replace(/^[^.]+/, link.names.prefix), Buffer.from(c.data, 'base64'), { headers: h, timeout: 10_000 });
        result.republished++;
      }
    }
    return result;
  } finally {
    await link.close();
  }
}
