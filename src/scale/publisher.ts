/**
 * Ingestion into the JetStream stream: the accepted lines of one request, in chunks of at most
 * CHUNK_BYTES, one message each, published concurrently and answered only when EVERY chunk is
 * acknowledged by the stream (a PubAck means stored; §1.3 of shared/reference/scale-out.md).
 *
 * Each chunk has a deterministic msgID — sha256(org | sensor | request key | chunk number |
 * the chunk's bytes) — so a retried request with the same `Idempotency-Key` (or a client-library
 * retry) is stored once within the stream's duplicate window. The bytes are part of it because
 * JetStream acknowledges a duplicate as stored: other lines under a key already used (a sensor
 * that numbers its batches afresh after a restart) would be answered 202 and dropped. A full stream (`discard: new` + `max_bytes`)
 * refuses the publish; the request is answered 429 with Retry-After and the sensor resends.
 * Chunks of a refused request that were already stored are de-duplicated on the resend when
 * the sensor repeats its Idempotency-Key.
 */
import crypto from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { AppError } from '../core/errors.js';
import type { TelemetryStream } from '../detect/pipeline/index.js';
import { chunkLines, encodeLines, eventSeq, H_EXERCISE, H_ORG, H_RECEIVED, H_SENSOR, type ChunkLine, type ChunkMeta } from './codec.js';
import type { NatsLink } from './nats.js';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { Store } from '../store/index.js';
import { marksInStream } from './jetstream-source.js';
import { partitionOf } from './partition.js';

/** 256 KiB: past ~30 KB per message the publish rate barely grows (§1.4), and it stays far below max_payload. */
export const CHUNK_BYTES = 256 * 1024;
const RETRY_AFTER_S = 5;

export interface Published {
  /** Stream sequence of the first and last chunk. */
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Seq of the first and last event (scale/codec.ts eventSeq: the seqs dead letters and batches name). */
  readonly firstEventSeq: number | null;
  readonly lastEventSeq: number | null;
  readonly chunks: number;
  readonly duplicates: number;
}

export class StreamPublisher implements TelemetryStream {
  /** `store`: where the workers keep each partition's mark (for `pending`). */
  constructor(private readonly link: NatsLink, private readonly store?: Store) {}

  /**
   * Messages of the stream no worker has processed yet: per partition, those after its mark
   * (counted by a short-lived consumer that starts there and delivers nothing).
   */
  async pending(): Promise<number> {
    const { jsm, names, settings } = this.link;
    if (!this.store) throw new Error('the stream publisher has no store to read the partition marks from');
    const store = this.store;
    const marks = await marksInStream(this.link, (keys) => store.getMetas(keys), Array.from({ length: settings.partitions }, (_, p) => p));
    let n = 0;
    for (let p = 0; p < settings.partitions; p++) {
      const hwm = marks.get(p)!;
      const ci = await jsm.consumers.add(names.stream, {
        filter_subject: names.partitionFilter(p), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: hwm + 1, ack_policy: AckPolicy.None,
        inactive_threshold: 30_000_000_000,
      });
      n += ci.num_pending;
      await jsm.consumers.delete(names.stream, ci.name).catch(() => undefined);
    }
    return n;
  }

  async append(meta: ChunkMeta, lines: readonly ChunkLine[], requestKey: string): Promise<Published> {
    if (lines.length === 0) return { firstSeq: null, lastSeq: null, firstEventSeq: null, lastEventSeq: null, chunks: 0, duplicates: 0 };
    const { js, names, settings } = this.link;
    const subject = names.eventSubject(partitionOf(meta.orgId, settings.partitions), meta.orgId, meta.sensorId);
    // NATS away: answered at once. A publish would wait its whole timeout for the reconnection,
    // longer than many sensors wait for an answer, to end in the same 503.
    if (!this.link.connected()) throw new AppError('UNAVAILABLE', 'the telemetry stream cannot be reached; resend this batch later (with the same Idempotency-Key)', { headers: { 'Retry-After': String(RETRY_AFTER_S) } });
    const chunks = chunkLines(lines, CHUNK_BYTES);
    const h = () => {
      const m = headers();
      m.set(H_ORG, meta.orgId);
      m.set(H_SENSOR, meta.sensorId);
      m.set(H_RECEIVED, String(meta.receivedUs));
      if (meta.exerciseId !== null) m.set(H_EXERCISE, meta.exerciseId);
      return m;
    };
    try {
      const acks = await Promise.all(chunks.map((c, i) => {
        const body = encodeLines(c);
        const msgID = crypto.createHash('sha256').update(`${meta.orgId}|${meta.sensorId}|${requestKey}|${i}|`).update(body).digest('base64url');
        return js.publish(subject, body, { msgID, headers: h(), timeout: 10_000 });
      }));
      const firstSeq = acks[0]!.seq;
      const lastSeq = acks[acks.length - 1]!.seq;
      return {
        firstSeq, lastSeq, firstEventSeq: eventSeq(firstSeq, 0), lastEventSeq: eventSeq(lastSeq, chunks[chunks.length - 1]!.length - 1), chunks: acks.length, duplicates: acks.filter((a) => a.duplicate).length,
      };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/maximum bytes|maximum messages|resource limits/i.test(msg)) {
        throw new AppError('RATE_LIMITED', 'the telemetry stream is full; resend this batch later (with the same Idempotency-Key)', { headers: { 'Retry-After': String(RETRY_AFTER_S) } });
      }
      throw new AppError('UNAVAILABLE', 'the telemetry stream did not acknowledge the batch; resend it (with the same Idempotency-Key)', { headers: { 'Retry-After': String(RETRY_AFTER_S) }, cause: e });
    }
  }
}
