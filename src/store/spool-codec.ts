/**
 * How accepted telemetry is kept, one chunk per ingest request.
 *
 * The SQL spool (`ingest_chunks`, one row per chunk) keeps the accepted lines' bytes as the sensor
 * sent them, newline-separated (a trailing CR of a line is not part of it), compressed, with the
 * format each line was recognised as: one name when all share it, else one per line. Telemetry is
 * repetitive JSON, and with synchronous commits the bytes written are most of what a durable
 * ingest costs (stored raw, the spool took half the events per second it takes compressed); the
 * bytes are never decoded into one large string and encoded again (docs/benchmarks.md).
 *
 * A chunk body is `0x02`, the inflated size (u32, little-endian), then a Brotli stream (quality 1).
 * On real telemetry (1 MB of Zeek DNS NDJSON, of Windows OTRF events) Brotli 1 compresses 2.5 to
 * 3.5 times faster than gzip 1, inflates 2.4 to 5.5 times faster, and is 17 to 37 % smaller.
 * Chunks written before (a gzip stream, first byte 0x1f) are still read.
 *
 * The scale-out stream (one JetStream message per chunk) carries text: one `format<TAB>raw line`
 * per event, newline-separated. Raw lines never hold a newline (ingestion split them on it) and
 * format names never hold a tab; an empty format is null (a normalised event as JSON, spooled
 * before migration 0007).
 *
 * An event's seq is `chunk seq × LINE_SLOTS + line index`: unique per event (dead letters name one
 * event of a chunk), ordered like the chunks, so a cursor may stop inside a chunk.
 */
import zlib from 'node:zlib';
import type { IngestRow } from './types.js';

/** Lines a chunk may hold (2^17). 2^53 / 2^17 leaves 2^36 chunk seqs. */
export const LINE_SLOTS = 131_072;

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

export function encodeLines(lines: readonly ChunkLine[]): string {
  return lines.map((l) => `${l.format ?? ''}\t${l.event}`).join('\n');
}

/** One request's accepted lines for the spool: `body` holds `formats.length` lines, newline-separated. */
export interface SpoolLines {
  readonly body: Buffer;
  readonly formats: readonly (string | null)[];
}

/**
 * Where the line [start, end) of a body ends without its trailing CR: ingestion and the spool's
 * reader must cut lines alike.
 */
export function lineStop(buf: Uint8Array, start: number, end: number): number {
  return end > start && buf[end - 1] === 13 ? end - 1 : end;
}

/** The spool form of lines given as text (a dead letter sent again, tests). */
export function spoolLinesOf(lines: readonly ChunkLine[]): SpoolLines {
  return { body: Buffer.from(lines.map((l) => l.event).join('\n')), formats: lines.map((l) => l.format) };
}

/**
 * Builds a chunk's body from ranges [start, end) of a request body, without copying when they are
 * the request's lines one after the other (the usual batch: every line accepted).
 */
export function spoolBody(raw: Buffer, ranges: readonly number[]): Buffer {
  const n = ranges.length / 2;
  if (n === 0) return Buffer.alloc(0);
  let contiguous = true;
  for (let i = 1; i < n && contiguous; i++) contiguous = ranges[2 * i]! === ranges[2 * i - 1]! + 1 && raw[ranges[2 * i - 1]!] === 10;
  if (contiguous) return raw.subarray(ranges[0]!, ranges[2 * n - 1]!);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) parts.push(NEWLINE);
    parts.push(raw.subarray(ranges[2 * i]!, ranges[2 * i + 1]!));
  }
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

/** Splits lines into parts of at most `slots` lines (a chunk holds at most LINE_SLOTS). */
export function splitSpoolLines(l: SpoolLines, slots = LINE_SLOTS): SpoolLines[] {
  if (l.formats.length <= slots) return [l];
  const out: SpoolLines[] = [];
  let start = 0;
  for (let i = 0; i < l.formats.length; i += slots) {
    const n = Math.min(slots, l.formats.length - i);
    let end = start;
    for (let k = 0; k < n; k++) {
      const nl = l.body.indexOf(10, end);
      end = nl < 0 ? l.body.length : nl + 1;
    }
    const piece = l.body.subarray(start, end);
    out.push({ body: piece[piece.length - 1] === 10 ? piece.subarray(0, piece.length - 1) : piece, formats: l.formats.slice(i, i + n) });
    start = end;
  }
  return out;
}

/** First byte of a Brotli chunk body; a gzip one (written before) starts with 0x1f. */
const BROTLI_TAG = 0x02;
const BROTLI_HEADER = 5;
const BROTLI_WRITE: zlib.BrotliOptions = {
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
};
/** Largest output buffer allocated up front when inflating (a chunk is bounded by the request size). */
const MAX_INFLATE_BUFFER = 64 << 20;

/** A chunk's bytes as stored: tag, inflated size, Brotli stream. */
function compressChunk(body: Uint8Array): Buffer {
  const z = zlib.brotliCompressSync(body, BROTLI_WRITE);
  const out = Buffer.allocUnsafe(BROTLI_HEADER + z.length);
  out[0] = BROTLI_TAG;
  out.writeUInt32LE(body.length, 1);
  z.copy(out, BROTLI_HEADER);
  return out;
}

/**
 * A stored chunk's lines, inflated in one output buffer of the known size (zlib's default 16 KB
 * steps cost three times the inflation itself on a 1 MB chunk).
 */
function inflateChunk(stored: Uint8Array): Buffer {
  if (stored.length === 0) return Buffer.alloc(0);
  const z = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const output = (size: number) => ({ chunkSize: Math.min(Math.max(size + 64, 1024), MAX_INFLATE_BUFFER) });
  if (z[0] === BROTLI_TAG) {
    if (z.length < BROTLI_HEADER) throw new Error('spool chunk: truncated header');
    return zlib.brotliDecompressSync(z.subarray(BROTLI_HEADER), output(z.readUInt32LE(1)));
  }
  // gzip (chunks written before Brotli): the trailer gives the size.
  return zlib.gunzipSync(z, output(z.length >= 18 ? z.readUInt32LE(z.length - 4) : 0));
}

/** The stored form of a chunk: compressed body, and its formats (one name, or a JSON list). */
export function packSpool(l: SpoolLines): { body: Buffer; formats: string; lines: number } {
  const f = l.formats;
  const uniform = f.every((x) => x === f[0]);
  return { body: compressChunk(l.body), formats: uniform ? (f[0] ?? '') : JSON.stringify(f.map((x) => x ?? '')), lines: f.length };
}

/**
 * Spool-shaped rows of a stored chunk (packSpool), each line decoded on its own (never the whole
 * body as one string); lines at or before `afterSeq` are skipped undecoded; at most `max` rows.
 */
export function unpackSpool(meta: ChunkMeta, stored: { body: Uint8Array; formats: string; seq: number }, o: { afterSeq?: number; max?: number } = {}): IngestRow[] {
  const { formats, seq: chunkSeq } = stored;
  const afterSeq = o.afterSeq ?? -1;
  const max = o.max ?? Infinity;
  const body = inflateChunk(stored.body);
  const list = formats.startsWith('[') ? (JSON.parse(formats) as string[]) : null;
  const rows: IngestRow[] = [];
  if (body.length === 0) return rows;
  const base = chunkSeq * LINE_SLOTS;
  let line = 0;
  let start = 0;
  while (start <= body.length && rows.length < max) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    const seq = base + line;
    if (seq > afterSeq) {
      const stop = lineStop(body, start, end);
      const format = list ? list[line] ?? '' : formats;
      rows.push(new SpooledRow(meta, { seq, format: format === '' ? null : format }, { body, start, stop }));
    }
    line++;
    start = end + 1;
  }
  return rows;
}

/**
 * A row whose `event` is decoded from the inflated chunk each time it is read, not held: a worker
 * reads thousands of rows per batch and reads each line once, so decoding them all up front kept
 * megabytes of strings alive through the batch, which the young-generation collector copied and
 * promoted (a sixth of the worker's time went to garbage collection; docs/benchmarks.md).
 * `event` is an accessor on the prototype, so a spread of a row drops it: spread `plainRow(row)`.
 */
class SpooledRow implements IngestRow {
  readonly seq: number;
  readonly orgId: string;
  readonly sensorId: string;
  readonly receivedUs: number;
  readonly exerciseId: string | null;
  readonly format: string | null;
  readonly #body: Buffer;
  readonly #start: number;
  readonly #stop: number;

  constructor(meta: ChunkMeta, r: { seq: number; format: string | null }, at: { body: Buffer; start: number; stop: number }) {
    this.seq = r.seq;
    this.orgId = meta.orgId;
    this.sensorId = meta.sensorId;
    this.receivedUs = meta.receivedUs;
    this.exerciseId = meta.exerciseId;
    this.format = r.format;
    this.#body = at.body;
    this.#start = at.start;
    this.#stop = at.stop;
  }

  get event(): string {
    return this.#body.toString('utf8', this.#start, this.#stop);
  }
}

/** A row's fields as plain values, `event` decoded (a spooled row's `event` is an accessor). */
export function plainRow(r: IngestRow): IngestRow {
  return { seq: r.seq, orgId: r.orgId, sensorId: r.sensorId, receivedUs: r.receivedUs, exerciseId: r.exerciseId, event: r.event, format: r.format };
}

/** The event seq of line `line` of the chunk `chunkSeq`. */
export function eventSeq(chunkSeq: number, line: number): number {
  return chunkSeq * LINE_SLOTS + line;
}

/** The chunk seq and line index of an event seq. */
export function splitEventSeq(seq: number): { streamSeq: number; line: number } {
  return { streamSeq: Math.floor(seq / LINE_SLOTS), line: seq % LINE_SLOTS };
}

/**
 * Spool-shaped rows of a stream message; each row's seq is eventSeq(stream sequence, its line).
 */
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
 * Splits lines into chunks of at most `maxBytes` body bytes and LINE_SLOTS lines (a line longer
 * than that travels alone).
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
