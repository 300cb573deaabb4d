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

/**
 * Lines a stream message may hold (2^17): an event's seq is `stream sequence × LINE_SLOTS + line
 * index`, unique per event in the stream (dead letters name one event of a message) and ordered
 * like the stream. 2^53 / 2^17 leaves 2^36 stream sequences.
 */
export const LINE_SLOTS = 131_072;
