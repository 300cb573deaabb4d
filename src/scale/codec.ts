/**
 * One JetStream message per ingest chunk (shared/reference/scale-out.md §1.4: the per-message
 * cost dominates, so events travel in batches). Headers carry what the spool row carries beside
 * the line; the body is one `format<TAB>raw line` per event, newline-separated. Raw lines never
 * hold a newline (ingestion split them on it), and format names never hold a tab.
 */
import type { IngestRow } from '../store/index.js';
import { LINE_SLOTS } from '../detect/pipeline/telemetry-stream.js';

export interface ChunkMeta {
  readonly orgId: string;
  readonly sensorId: string;
  readonly receivedUs: number;
  readonly exerciseId: string | null;
}

export interface ChunkLine {
  readonly format: string | null;
  readonly event: string;
}

export const H_ORG = 'Shieldwall-Org';
export const H_SENSOR = 'Shieldwall-Sensor';
export const H_RECEIVED = 'Shieldwall-Received-Us';
export const H_EXERCISE = 'Shieldwall-Exercise';

export function encodeLines(lines: readonly ChunkLine[]): string {
  return lines.map((l) => `${l.format ?? ''}\t${l.event}`).join('\n');
}

export { LINE_SLOTS };

/** The event seq of line `line` of the message at stream sequence `streamSeq`. */
export function eventSeq(streamSeq: number, line: number): number {
  return streamSeq * LINE_SLOTS + line;
}

/** The stream sequence and line index of an event seq. */
export function splitEventSeq(seq: number): { streamSeq: number; line: number } {
  return { streamSeq: Math.floor(seq / LINE_SLOTS), line: seq % LINE_SLOTS };
}

/** Spool-shaped rows of a chunk; each row's seq is eventSeq(message's stream sequence, its line). */
export function decodeChunk(meta: ChunkMeta, body: string, streamSeq: number): IngestRow[] {
  const rows: IngestRow[] = [];
  if (body === '') return rows;
  let line = 0;
  for (const part of body.split('\n')) {
    const tab = part.indexOf('\t');
    const i = line++;
    if (tab < 0) continue;
    const format = part.slice(0, tab);
    rows.push({ seq: eventSeq(streamSeq, i), orgId: meta.orgId, sensorId: meta.sensorId, receivedUs: meta.receivedUs, exerciseId: meta.exerciseId, event: part.slice(tab + 1), format: format === '' ? null : format });
  }
  return rows;
}

/**
 * Splits lines into chunks of at most `maxBytes` body bytes and LINE_SLOTS lines (a line longer than that travels
 * alone; the stream's max_payload must admit the longest accepted line).
 */
export function chunkLines(lines: readonly ChunkLine[], maxBytes: number): ChunkLine[][] {
  const out: ChunkLine[][] = [];
  let cur: ChunkLine[] = [];
  let size = 0;
  for (const l of lines) {
    const n = Buffer.byteLength(l.event) + (l.format?.length ?? 0) + 2;
    if (cur.length > 0 && (size + n > maxBytes || cur.length >= LINE_SLOTS)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(l);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
