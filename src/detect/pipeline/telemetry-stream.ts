/**
 * Where accepted telemetry goes on a scale-out node: a durable stream (NATS JetStream, in
 * scale/) instead of the SQL spool. `append` resolves only when the stream has stored every line
 * (DESIGN §2.2: durable before acknowledged), and refuses a full stream with RATE_LIMITED.
 */
export interface TelemetryStream {
  append(
    meta: { readonly orgId: string; readonly sensorId: string; readonly receivedUs: number; readonly exerciseId: string | null },
    lines: readonly { readonly format: string | null; readonly event: string }[],
    requestKey: string,
  ): Promise<{ readonly firstEventSeq: number | null; readonly lastEventSeq: number | null }>;
  /** Messages no worker has processed yet (0: every accepted line went through detection). */
  pending(): Promise<number>;
}

/** Lines a chunk may hold: an event's seq is chunk (or stream) seq × LINE_SLOTS + line (store/spool-codec.ts). */
export { LINE_SLOTS } from '../../store/spool-codec.js';
