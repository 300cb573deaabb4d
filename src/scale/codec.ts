/**
 * One JetStream message per ingest chunk (shared/reference/scale-out.md §1.4: the per-message
 * cost dominates, so events travel in batches). Headers carry what the spool row carries beside
 * the line; the body is one `format<TAB>raw line` per event, newline-separated. Raw lines never
 * hold a newline (ingestion split them on it), and format names never hold a tab.
 */
import type { IngestRow } from '../store/index.js';

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

/** Spool-shaped rows of a chunk; every row carries the message's stream sequence as its seq. */
export function decodeChunk(meta: ChunkMeta, body: string, seq: number): IngestRow[] {
  const rows: IngestRow[] = [];
  if (body === '') return rows;
  for (const part of body.split('\n')) {
    const tab = part.indexOf('\t');
    if (tab < 0) continue;
    const format = part.slice(0, tab);
    rows.push({ seq, orgId: meta.orgId, sensorId: meta.sensorId, receivedUs: meta.receivedUs, exerciseId: meta.exerciseId, event: part.slice(tab + 1), format: format === '' ? null : format });
  }
  return rows;
}

/**
 * Splits lines into chunks of at most `maxBytes` body bytes (a line longer than that travels
 * alone; the stream's max_payload must admit the longest accepted line).
 */
export function chunkLines(lines: readonly ChunkLine[], maxBytes: number): ChunkLine[][] {
  const out: ChunkLine[][] = [];
  let cur: ChunkLine[] = [];
  let size = 0;
  for (const l of lines) {
    const n = Buffer.byteLength(l.event) + (l.format?.length ?? 0) + 2;
    if (cur.length > 0 && size + n > maxBytes) {
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
