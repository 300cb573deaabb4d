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
  ): Promise<{ readonly firstSeq: number | null; readonly lastSeq: number | null }>;
}
