/**
 * The pure and I/O parts of `shieldwall ingest` that need no server: reading a file (or stdin,
 * gzip or not, or tailed like `tail -F`) as numbered lines, cutting them into request-sized
 * batches, mapping the server's batch line numbers back to the file's, and the retry timing.
 */
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One line of the input, numbered from 1 as in the file, without its line break. */
export interface Line {
  no: number;
  data: Buffer;
}

/** A line longer than the byte cap: its content was dropped while reading (memory stays bounded). */
export interface LongLine {
  no: number;
  tooLong: number;
}

export type InputLine = Line | LongLine;

export const isLongLine = (l: InputLine): l is LongLine => 'tooLong' in l;

/**
 * Splits byte chunks into numbered lines (LF or CRLF). Lines are kept as bytes: nothing is
 * decoded and re-encoded, and the byte counts of the batches are exact. A line that grows past
 * `maxLineBytes` is dropped up to its end and reported as a LongLine.
 */
export class LineSplitter {
  readonly #max: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #skipping = 0;
  #no = 0;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  /** The number of the last complete line handed out. */
  get lineNo(): number {
    return this.#no;
  }

  push(chunk: Buffer): InputLine[] {
    const out: InputLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.#take(chunk.subarray(start, nl));
      this.#finishLine(out);
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
    return out;
  }

  /** The last line, when the input does not end with a line break. */
  end(): InputLine[] {
    const out: InputLine[] = [];
    if (this.#partBytes > 0 || this.#skipping > 0) this.#finishLine(out);
    return out;
  }

  #reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#skipping = 0;
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#skipping > 0) {
      this.#skipping += piece.length;
      return;
    }
    if (this.#partBytes + piece.length > this.#max) {
      this.#skipping = this.#partBytes + piece.length;
      this.#parts = [];
      this.#partBytes = 0;
      return;
    }
    // Copy: the chunk's memory may be reused by the stream that produced it.
    this.#parts.push(Buffer.from(piece));
    this.#partBytes += piece.length;
  }

  #finishLine(out: InputLine[]): void {
    this.#no += 1;
    if (this.#skipping > 0) {
      out.push({ no: this.#no, tooLong: this.#skipping });
    } else {
      let data = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#partBytes);
      if (data.length > 0 && data[data.length - 1] === 0x0d) data = data.subarray(0, data.length - 1);
      out.push({ no: this.#no, data });
    }
    this.#reset();
  }
}

/** True when a line holds nothing but blanks: the server skips those, so they are not sent. */
export function isBlank(data: Buffer): boolean {
  for (const b of data) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** One request body: NDJSON lines and, for each, its line number in the input file. */
export interface Batch {
  seq: number;
  lineNos: number[];
  body: Buffer;
}

export interface BatchLimits {
  maxLines: number;
  /** Cap of a request body in bytes (uncompressed: the server's limit applies after decompression). */
  maxBytes: number;
}

/** Collects lines into batches of at most maxLines lines and maxBytes bytes (newlines included). */
export class Batcher {
  readonly #limits: BatchLimits;
  #parts: Buffer[] = [];
  #lineNos: number[] = [];
  #bytes = 0;
  #seq = 0;
  #since: number | null = null;

  constructor(limits: BatchLimits) {
    this.#limits = limits;
  }

  get pendingLines(): number {
    return this.#lineNos.length;
  }

  /** When the first pending line was added (ms), or null when nothing is pending. */
  get pendingSince(): number | null {
    return this.#since;
  }

  /** Whether a line of `bytes` bytes can ever be sent (with its line break) under the byte cap. */
  fits(bytes: number): boolean {
    return bytes + 1 <= this.#limits.maxBytes;
  }

  /**
   * Adds a line; answers the batch completed by it, if any: the pending batch when this line
   * would overflow it (the line then starts the next), or the batch this line fills up.
   */
  add(line: Line, nowMs: number): Batch | null {
    const size = line.data.length + 1;
    if (!this.fits(line.data.length)) throw new RangeError(`line ${line.no} is longer than the batch byte cap`);
    let done: Batch | null = null;
    if (this.#lineNos.length > 0 && this.#bytes + size > this.#limits.maxBytes) done = this.take();
    this.#parts.push(line.data, NEWLINE);
    this.#lineNos.push(line.no);
    this.#bytes += size;
    this.#since ??= nowMs;
    if (!done && this.#lineNos.length >= this.#limits.maxLines) done = this.take();
    return done;
  }

  /** The pending lines as a batch (null when none), emptying the batcher. */
  take(): Batch | null {
    if (this.#lineNos.length === 0) return null;
    this.#seq += 1;
    const batch = { seq: this.#seq, lineNos: this.#lineNos, body: Buffer.concat(this.#parts, this.#bytes) };
    this.#parts = [];
    this.#lineNos = [];
    this.#bytes = 0;
    this.#since = null;
    return batch;
  }
}

const NEWLINE = Buffer.from('\n');

export interface LineError {
  /** Line number in the input file; null when the server named a line outside the batch. */
  line: number | null;
  batchLine: number;
  reason: string;
}

/** The server numbers lines from 1 within the request body; this maps them to the file's numbers. */
export function mapLineErrors(batch: Pick<Batch, 'lineNos'>, errors: readonly { line: number; reason: string }[]): LineError[] {
  return errors.map((e) => {
    const fileLine = Number.isInteger(e.line) && e.line >= 1 ? batch.lineNos[e.line - 1] : undefined;
    return { line: fileLine ?? null, batchLine: e.line, reason: e.reason };
  });
}

export { parseRetryAfter } from '../core/retry-after.js';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0 ≤ random() < 1; injected by tests. */
  random?: () => number;
}

/** Exponential backoff with jitter: attempt 1 waits about baseMs, doubling up to maxMs. */
export function backoffMs(attempt: number, o: BackoffOptions): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: many senders retrying after one outage do not all come back at once.
  return Math.round(ceiling / 2 + (ceiling / 2) * (o.random ?? Math.random)());
}

export const IDLE: unique symbol = Symbol('idle');

/**
 * The items of `source`, with IDLE in between whenever nothing arrived for `ms`: the consumer
 * gets a chance to flush a partial batch or to notice a stop request while input is quiet.
 * A pending read is carried over to the next round, so nothing is lost or read twice.
 */
export async function* withIdle<T>(source: AsyncIterable<T>, ms: number): AsyncGenerator<T | typeof IDLE> {
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = null;
  try {
    for (;;) {
      pending ??= it.next();
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<typeof IDLE>((resolve) => { timer = setTimeout(() => resolve(IDLE), ms); });
      const r = await Promise.race([pending, idle]);
      clearTimeout(timer);
      if (r === IDLE) {
        yield IDLE;
        continue;
      }
      pending = null;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // Not awaited: the source may be blocked in a read that never ends (a quiet stdin).
    if (pending) void pending.catch(() => undefined);
    void it.return?.()?.catch?.(() => undefined);
  }
}

/**
 * Numbered lines of a chunk stream, handed out per chunk: one await per chunk instead of per
 * line keeps the per-line cost of reading a large file low.
 */
export async function* linesOf(chunks: AsyncIterable<Buffer>, splitter: LineSplitter): AsyncGenerator<InputLine[]> {
  for await (const chunk of chunks) {
    const lines = splitter.push(chunk);
    if (lines.length) yield lines;
  }
  const last = splitter.end();
  if (last.length) yield last;
}

/** An input of byte chunks, and how many bytes of the file (compressed, for .gz) were read. */
export interface ChunkSource {
  chunks: AsyncIterable<Buffer>;
  /** Size of the file when known up front (not stdin, not a followed file). */
  size: number | null;
  bytesRead: () => number;
  close: () => void;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * A file (or stdin for "-") read as a stream; gzip input (by its magic bytes, whatever the
 * name) is decompressed on the way.
 */
export async function openInput(file: string): Promise<ChunkSource> {
  // stat first: a missing file is a clear ENOENT here, not an unhandled stream error.
  const size = file === '-' ? null : (await stat(file)).size;
  const raw: Readable = file === '-' ? process.stdin : createReadStream(file);
  let read = 0;
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const c of raw) {
      const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
      read += b.length;
      yield b;
    }
  };
  async function* chunks(): AsyncGenerator<Buffer> {
    const it = counted();
    const first = await it.next();
    if (first.done) return;
    const head = first.value;
    const gz = head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
    if (!gz) {
      yield head;
      yield* it;
      return;
    }
    const gunzip = createGunzip();
    const feed = (async () => {
      try {
        if (!gunzip.write(head)) await new Promise((r) => gunzip.once('drain', r));
        for await (const c of it) if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e as Error);
      }
    })();
    for await (const c of gunzip) yield c as Buffer;
    await feed;
  }
  return { chunks: chunks(), size, bytesRead: () => read, close: () => raw.destroy() };
}

export interface FollowOptions {
  signal: AbortSignal;
  /** Longest line kept (bytes); longer ones come out as LongLine. */
  maxLineBytes: number;
  /** How often to look for new data, truncation and rotation (ms). */
  pollMs?: number;
  /** Told when the file was truncated or replaced: line numbers start again at 1. */
  onReset?: (why: 'truncated' | 'rotated') => void;
}

/**
 * `tail -F` for ingest: the lines (per read) of the whole file, then of whatever is appended, until the
 * signal aborts. Truncation (the size drops below what was read) reads again from the start;
 * rotation (the name now points to another file) finishes the old file, its last unterminated
 * line included, then reads the new one from its start. Line numbers are the current file's.
 * While the name points nowhere (between a rename and the new file), it is waited for.
 */
export async function* followLines(file: string, o: FollowOptions): AsyncGenerator<InputLine[]> {
  const pollMs = o.pollMs ?? 250;
  const buf = Buffer.alloc(256 * 1024);
  let splitter = new LineSplitter(o.maxLineBytes);
  let fh: FileHandle | null = null;
  let ino = -1;
  let pos = 0;
  const readAll = async function* (h: FileHandle): AsyncGenerator<InputLine[]> {
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      const lines = splitter.push(buf.subarray(0, bytesRead));
      if (lines.length) yield lines;
      if (o.signal.aborted) return;
    }
  };
  try {
    while (!o.signal.aborted) {
      if (!fh) {
        try {
          fh = await open(file, 'r');
          ino = (await fh.stat()).ino;
          pos = 0;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          await sleep(pollMs, o.signal);
          continue;
        }
      }
      yield* readAll(fh);
      if (o.signal.aborted) break;
      if ((await fh.stat()).size < pos) {
        splitter = new LineSplitter(o.maxLineBytes);
        o.onReset?.('truncated');
        pos = 0;
        continue;
      }
      let replaced = false;
      try {
        replaced = (await stat(file)).ino !== ino;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        replaced = true; // moved away, the new one not there yet
      }
      if (replaced) {
        // What the writer appended to the old file before it let go of it, to its very end.
        yield* readAll(fh);
        const last = splitter.end();
        if (last.length) yield last;
        await fh.close();
        fh = null;
        splitter = new LineSplitter(o.maxLineBytes);
        o.onReset?.('rotated');
        continue;
      }
      await sleep(pollMs, o.signal);
    }
    // Stopped: a last line the writer has not terminated yet is still a line that was read.
    const last = splitter.end();
    if (last.length) yield last;
  } finally {
    await fh?.close();
  }
}

/** Resolves after ms, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
