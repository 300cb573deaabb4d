/**
 * `shieldwall ingest FILE|-`: sends telemetry lines (one event per line) to a node's
 * `POST /api/v1/ingest` with a sensor token, in batches, as a sensor's shipper would.
 * Delivery is at least once: a batch is resent until the server answers for it (429 with
 * Retry-After, 5xx and network errors are retried), and one that finally fails stops the run
 * with its file line range on stderr: nothing is dropped without saying so.
 */
import { open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import type { Agent } from 'undici';
import { AppError } from '../../core/errors.js';
import { EXIT, ExitRequest, stdio, type Io } from '../context.js';
import {
  Batcher, IDLE, LineSplitter, backoffMs, followLines, isBlank, isLongLine, linesOf, mapLineErrors, openInput,
  parseRetryAfter, sleep, withIdle, type Batch, type ChunkSource, type InputLine, type LineError,
} from '../ingest-lines.js';

const gzip = promisify(gzipCb);

export const INGEST_FORMATS = ['auto', 'suricata-eve', 'ecs', 'windows', 'zeek', 'syslog', 'cef'] as const;

interface IngestOpts {
  server?: string;
  token?: string;
  tokenFile?: string;
  format: string;
  sensor?: string;
  batchLines: string;
  batchBytes: string;
  gzip?: boolean;
  follow?: boolean;
  flushMs: string;
  ca?: string;
  timeout: string;
  retries: string;
  maxErrors: string;
  progress?: boolean;
  json?: boolean;
  quiet?: boolean;
}

interface Settings {
  url: string;
  token: string;
  batchLines: number;
  batchBytes: number;
  gzip: boolean;
  follow: boolean;
  flushMs: number;
  timeoutMs: number;
  retries: number;
  maxErrors: number;
  quiet: boolean;
}

/** The run's figures; `--json` prints this object. */
export interface IngestSummary {
  file: string;
  server: string;
  /** Lines read from the input, blank ones included. */
  lines: number;
  blank: number;
  sent: number;
  accepted: number;
  /** Rejected by the server, plus lines over the byte cap that were never sent. */
  rejected: number;
  batches: number;
  retries: number;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Every line read was answered for (false when stopped by an error or an interruption). */
  complete: boolean;
  /** The batch that could not be delivered, when a run stopped on one. */
  undelivered: { fromLine: number; toLine: number; lines: number; reason: string } | null;
  /** The first rejected lines (--max-errors), by line number in the file. */
  errors: LineError[];
}

/** Sizes like 4MB, 512k, 1048576 (binary units: 1k = 1024 bytes). */
export function parseSize(flag: string, raw: string): number {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(raw.trim());
  if (!m) throw new AppError('BAD_REQUEST', `${flag} must be a size like 4MB, 512k or 1048576, got ${raw}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1;
  return Number(m[1]) * mult;
}

function integer(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new AppError('BAD_REQUEST', `${flag} must be an integer ≥ ${min}, got ${raw}`);
  return n;
}

async function tokenOf(o: IngestOpts): Promise<string> {
  if (o.tokenFile) {
    const t = (await readFile(o.tokenFile, 'utf8')).split(/\r?\n/)[0]?.trim() ?? '';
    if (!t) throw new AppError('BAD_REQUEST', `--token-file ${o.tokenFile} holds no token`);
    return t;
  }
  if (o.token) return o.token.trim();
  throw new AppError('BAD_REQUEST', 'no token: give --token-file FILE, set SHIELDWALL_TOKEN, or give --token (visible to other local users)');
}

function ingestUrl(server: string | undefined, o: IngestOpts): string {
  if (!server) throw new AppError('BAD_REQUEST', 'no server: give --server URL or set SHIELDWALL_SERVER');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new AppError('BAD_REQUEST', `--server must be a URL, got ${server}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('BAD_REQUEST', '--server must be an http(s) URL');
  if (!(INGEST_FORMATS as readonly string[]).includes(o.format)) throw new AppError('BAD_REQUEST', `--format must be one of ${INGEST_FORMATS.join(', ')}, got ${o.format}`);
  const q = new URLSearchParams();
  if (o.format !== 'auto') q.set('format', o.format);
  if (o.sensor) q.set('sensor', o.sensor);
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/v1/ingest`;
  return q.size ? `${base}?${q.toString()}` : base;
}

/** Whether a regular file starts with the gzip magic bytes. */
async function isGzipFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** A progress bar on stderr that messages can be written above without breaking it. */
interface Progress {
  update: (s: IngestSummary, bytes: number) => void;
  log: (line: string) => void;
  stop: () => void;
}

function progressBar(size: number | null): Progress {
  const multi = new cliProgress.MultiBar({
    stream: process.stderr, hideCursor: true, etaBuffer: 20, noTTYOutput: true, notTTYSchedule: 1000, gracefulExit: false,
    format: size
      ? 'ingest |{bar}| {percentage}% | {lines} lines | {accepted} accepted | {rejected} rejected | ETA {eta_formatted}'
      : 'ingest | {lines} lines | {accepted} accepted | {rejected} rejected | {rate} lines/s',
  }, cliProgress.Presets.shades_classic);
  const started = Date.now();
  const bar = multi.create(size ?? 1, 0, { lines: 0, accepted: 0, rejected: 0, rate: 0 });
  return {
    update: (s, bytes) => bar.update(size ? bytes : 0, {
      lines: s.lines, accepted: s.accepted, rejected: s.rejected, rate: Math.round(s.lines / Math.max(0.001, (Date.now() - started) / 1000)),
    }),
    log: (line) => multi.log(`${line}\n`),
    stop: () => {
      multi.update(); // writes out what log() queued
      multi.stop();
    },
  };
}

type Outcome =
  | { ok: true; accepted: number; rejected: number; errors: { line: number; reason: string }[] }
  | { ok: false; exit: number; reason: string };

interface SendContext {
  s: Settings;
  agent: Agent;
  /** Aborted by a second Ctrl-C: give up the batch in flight too. */
  hard: AbortSignal;
  /** True once the run is asked to stop: retries become bounded even with --follow. */
  stopping: () => boolean;
  onRetry: (batch: Batch, attempt: number, why: string, waitMs: number) => void;
}

function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown; title?: unknown } };
    const m = j.error?.message ?? j.error?.title;
    if (typeof m === 'string' && m) return m;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200).trim();
}

/** The queue figures of a 429 answer (`error.details`), when the server sent them. */
function queueOf(text: string): { depth: number; capacity: number } | null {
  try {
    const d = (JSON.parse(text) as { error?: { details?: { depth?: unknown; capacity?: unknown } } }).error?.details;
    if (typeof d?.depth === 'number' && typeof d.capacity === 'number') return { depth: d.depth, capacity: d.capacity };
  } catch {
    // no figures
  }
  return null;
}

/** Sends one batch until the server answers for it, or a final failure. */
async function deliver(batch: Batch, ctx: SendContext): Promise<Outcome> {
  const { s } = ctx;
  const body = s.gzip ? await gzip(batch.body) : batch.body;
  const headers: Record<string, string> = {
    authorization: `Bearer ${s.token}`, 'content-type': 'application/x-ndjson', accept: 'application/json', 'user-agent': 'shieldwall-ingest/0.1',
    ...(s.gzip ? { 'content-encoding': 'gzip' } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    let why: string;
    let waitMs: number | null = null;
    try {
      const { request } = await import('undici');
      const res = await request(s.url, {
        method: 'POST', headers, body, dispatcher: ctx.agent, signal: AbortSignal.any([ctx.hard, AbortSignal.timeout(s.timeoutMs)]),
      });
      const text = await res.body.text();
      const status = res.statusCode;
      if (status === 200 || status === 202) {
        const j = JSON.parse(text) as { accepted?: unknown; rejected?: unknown; errors?: unknown };
        if (typeof j.accepted !== 'number' || typeof j.rejected !== 'number') throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
        const errors = Array.isArray(j.errors) ? (j.errors as { line: number; reason: string }[]) : [];
        return { ok: true, accepted: j.accepted, rejected: j.rejected, errors };
      }
      const msg = serverMessage(text);
      if (status === 429) {
        const q = queueOf(text);
        // An empty queue that still refuses: this batch alone is more than it holds, forever.
        if (q && q.depth === 0) {
          return { ok: false, exit: EXIT.USAGE, reason: `the batch of ${batch.lineNos.length} lines is more than the server's ingest queue holds (${q.capacity} events); use --batch-lines ${q.capacity} or less` };
        }
        why = 'server busy (HTTP 429)';
        waitMs = parseRetryAfter(res.headers['retry-after'], Date.now());
      } else if (status >= 500) {
        why = `HTTP ${status}${msg ? ` ${msg}` : ''}`;
      } else if (status === 401 || status === 403) {
        return { ok: false, exit: EXIT.INTERNAL, reason: `the server refused the token (HTTP ${status}${msg ? `: ${msg}` : ''}); it must be a valid sensor token (shieldwall token create --kind sensor), or an admin's API token` };
      } else if (status === 413) {
        return { ok: false, exit: EXIT.USAGE, reason: `the server refused a batch of ${batch.body.length} bytes as too large (HTTP 413${msg ? `: ${msg}` : ''}); use a smaller --batch-bytes` };
      } else {
        return { ok: false, exit: EXIT.USAGE, reason: `the server refused the batch (HTTP ${status}${msg ? `: ${msg}` : ''})` };
      }
    } catch (e) {
      if (ctx.hard.aborted) return { ok: false, exit: EXIT.PARTIAL, reason: 'interrupted' };
      const err = e as Error & { cause?: { message?: string }; code?: string };
      why = err.name === 'TimeoutError' ? `no answer from ${new URL(s.url).origin} within ${s.timeoutMs} ms` : `cannot reach ${new URL(s.url).origin} (${err.cause?.message ?? err.code ?? err.message})`;
    }
    const limitless = s.follow && !ctx.stopping();
    if (!limitless && attempt > s.retries) return { ok: false, exit: EXIT.INTERNAL, reason: `gave up after ${s.retries} retries: ${why}` };
    // Retry-After is honoured as asked, but not for more than 5 minutes at a time.
    const wait = Math.min(waitMs ?? backoffMs(attempt, { baseMs: 500, maxMs: 30_000 }), 300_000);
    ctx.onRetry(batch, attempt, why, wait);
    await sleep(wait, ctx.hard);
    if (ctx.hard.aborted) return { ok: false, exit: EXIT.PARTIAL, reason: 'interrupted' };
  }
}

function describe(s: IngestSummary): string {
  const secs = (s.elapsedMs / 1000).toFixed(1);
  return `ingested ${s.lines} lines from ${s.file}: ${s.accepted} accepted, ${s.rejected} rejected${s.blank ? `, ${s.blank} blank` : ''}; `
    + `${s.batches} ${s.batches === 1 ? 'batch' : 'batches'}, ${s.retries} retries, ${secs} s, ${s.eventsPerSecond} events/s`;
}

export function registerIngest(program: Command, io: Io = stdio): void {
  program.command('ingest <file>')
    .description('send telemetry lines (NDJSON / syslog, one event per line; "-" reads stdin; .gz read transparently) to a node\'s ingest API')
    .addOption(new Option('--server <url>', 'the node, e.g. https://node-a.example:8443').env('SHIELDWALL_SERVER'))
    .addOption(new Option('--token <token>', 'sensor token (prefer SHIELDWALL_TOKEN or --token-file: the command line is visible to other users)').env('SHIELDWALL_TOKEN'))
    .option('--token-file <file>', 'read the token from the first line of this file')
    .option('--format <format>', `line format: ${INGEST_FORMATS.join(', ')}`, 'auto')
    .option('--sensor <name>', 'sensor name, for an admin\'s API token (a sensor token names its sensor)')
    .option('--batch-lines <n>', 'lines per request', '1000')
    .option('--batch-bytes <size>', 'bytes per request at most (uncompressed); longer lines are rejected unsent', '4MB')
    .option('--gzip', 'compress requests (Content-Encoding: gzip)')
    .option('-f, --follow', 'keep reading lines appended to FILE, like tail -F (truncation and rotation included) until SIGINT/SIGTERM')
    .option('--flush-ms <ms>', 'send a partial batch once its first line is this old', '1000')
    .option('--ca <file>', 'PEM CA certificate to trust for the server')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '60000')
    .option('--retries <n>', 'retries of one batch (429, 5xx, network) before giving up; unbounded with --follow', '20')
    .option('--max-errors <n>', 'rejected lines to print', '20')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress bar, no retry notices, no text summary (errors still go to stderr)')
    .action(async (file: string, o: IngestOpts) => {
      const url = ingestUrl(o.server, o);
      const batchBytes = parseSize('--batch-bytes', o.batchBytes);
      if (batchBytes < 1024) throw new AppError('BAD_REQUEST', '--batch-bytes must be at least 1k');
      const s: Settings = {
        url, token: await tokenOf(o), batchBytes, gzip: o.gzip === true, follow: o.follow === true, quiet: o.quiet === true,
        batchLines: integer('--batch-lines', o.batchLines, 1), flushMs: integer('--flush-ms', o.flushMs, 0),
        timeoutMs: integer('--timeout', o.timeout, 1), retries: integer('--retries', o.retries, 0), maxErrors: integer('--max-errors', o.maxErrors, 0),
      };
      if (s.follow && file === '-') throw new AppError('BAD_REQUEST', '--follow needs a file; stdin is read to its end anyway');
      if (s.follow && (await isGzipFile(file))) throw new AppError('BAD_REQUEST', '--follow cannot tail a gzip file');
      // Loaded here, not at start: `shieldwall serve` shares this module graph and never sends.
      const { Agent } = await import('undici');
      const agent = new Agent({ connect: { ...(o.ca ? { ca: await readFile(o.ca) } : {}), rejectUnauthorized: true, minVersion: 'TLSv1.2' } });
      try {
        await runIngest({ file, s, io, agent, progress: !s.quiet && (o.progress === true || process.stderr.isTTY === true), json: o.json === true });
      } finally {
        await agent.close();
      }
    });
}

interface RunArgs {
  file: string;
  s: Settings;
  io: Io;
  agent: Agent;
  progress: boolean;
  json: boolean;
}

async function runIngest({ file, s, io, agent, progress, json }: RunArgs): Promise<void> {
  const started = Date.now();
  const summary: IngestSummary = {
    file, server: new URL(s.url).origin, lines: 0, blank: 0, sent: 0, accepted: 0, rejected: 0, batches: 0, retries: 0,
    elapsedMs: 0, eventsPerSecond: 0, complete: false, undelivered: null, errors: [],
  };
  // First Ctrl-C / SIGTERM: stop reading, send what was read. Second: give up the batch in flight.
  const stopRead = new AbortController();
  const hard = new AbortController();
  const onSignal = () => {
    if (stopRead.signal.aborted) hard.abort();
    else stopRead.abort();
  };

  let input: ChunkSource | null = null;
  let lines: AsyncIterable<InputLine[]>;
  let bytes = () => 0;
  let size: number | null = null;
  if (s.follow) {
    lines = followLines(file, {
      signal: stopRead.signal, maxLineBytes: s.batchBytes - 1,
      onReset: (why) => say(`${file} ${why === 'truncated' ? 'was truncated' : 'was replaced (rotated)'}: reading it from line 1`),
    });
  } else {
    input = await openInput(file);
    lines = linesOf(input.chunks, new LineSplitter(s.batchBytes - 1));
    bytes = input.bytesRead;
    size = input.size;
  }
  // Installed once the input is open: an unreadable file must not leave them behind.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const bar = progress ? progressBar(size) : null;
  let printed = 0;
  let elided = 0;
  function say(line: string): void {
    if (s.quiet) return;
    if (bar) bar.log(line);
    else io.err(line);
  }
  function reject(errs: LineError[]): void {
    for (const e of errs) {
      if (summary.errors.length < s.maxErrors) summary.errors.push(e);
      if (printed < s.maxErrors) {
        printed += 1;
        const where = e.line === null ? `line ${e.batchLine} of a batch` : `line ${e.line}`;
        if (bar) bar.log(`  rejected ${where}: ${e.reason}`);
        else io.err(`  rejected ${where}: ${e.reason}`);
      }
    }
  }
  const ctx: SendContext = {
    s, agent, hard: hard.signal, stopping: () => stopRead.signal.aborted,
    onRetry: (batch, attempt, why, waitMs) => {
      summary.retries += 1;
      // One notice when a batch starts retrying, then every 10th: a busy server can mean many.
      if (attempt === 1 || attempt % 10 === 0) say(`${why}: retrying batch ${batch.seq} (lines ${batch.lineNos[0]}-${batch.lineNos.at(-1)}) in ${(waitMs / 1000).toFixed(1)} s (retry ${attempt})`);
    },
  };
  let failed: Extract<Outcome, { ok: false }> | null = null;
  const send = async (batch: Batch | null): Promise<void> => {
    if (!batch) return;
    summary.batches += 1;
    const out = await deliver(batch, ctx);
    if (!out.ok) {
      failed = out;
      summary.undelivered = { fromLine: batch.lineNos[0]!, toLine: batch.lineNos.at(-1)!, lines: batch.lineNos.length, reason: out.reason };
      return;
    }
    summary.sent += batch.lineNos.length;
    summary.accepted += out.accepted;
    summary.rejected += out.rejected;
    const mapped = mapLineErrors(batch, out.errors);
    reject(mapped);
    elided += Math.max(0, out.rejected - mapped.length);
    bar?.update(summary, bytes());
  };

  const batcher = new Batcher({ maxLines: s.batchLines, maxBytes: s.batchBytes });
  let readError: unknown = null;
  let inputEnded = false;
  try {
    // Idle ticks let a partial batch go out while the input is quiet, and let a stop be noticed.
    for await (const item of withIdle(lines, Math.max(50, Math.min(250, s.flushMs || 250)))) {
      if (item === IDLE) bar?.update(summary, bytes());
      else {
        for (const l of item) {
          summary.lines += 1;
          if (isLongLine(l)) {
            summary.rejected += 1;
            reject([{ line: l.no, batchLine: 0, reason: `${l.tooLong} bytes, longer than --batch-bytes: not sent` }]);
          } else if (isBlank(l.data)) {
            summary.blank += 1;
          } else {
            await send(batcher.add(l, Date.now()));
            if (failed) break;
          }
        }
      }
      // A followed file ends by itself on the signal, after handing out all it read; other input
      // stops here (the summary says up to which line).
      if (failed || (!s.follow && stopRead.signal.aborted)) break;
      const since = batcher.pendingSince;
      if (since !== null && Date.now() - since >= s.flushMs) await send(batcher.take());
      if (failed) break;
    }
    // A followed file only ends on the stop signal, after handing out everything it read.
    inputEnded = !failed && (s.follow || !stopRead.signal.aborted);
  } catch (e) {
    readError = e;
  } finally {
    input?.close();
  }
  // What was read goes out, whatever stopped the reading (a read error, a signal, the end).
  try {
    if (!failed) await send(batcher.take());
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar?.update(summary, bytes());
    bar?.stop();
  }
  summary.elapsedMs = Date.now() - started;
  summary.eventsPerSecond = Math.round(summary.accepted / Math.max(0.001, summary.elapsedMs / 1000));
  const interrupted = stopRead.signal.aborted && !s.follow;
  summary.complete = !failed && !readError && !interrupted;

  if (elided > 0 || summary.rejected > printed) {
    const more = summary.rejected - printed;
    if (more > 0) io.err(`  ... and ${more} more rejected lines${elided ? ' (the server details the first 20 of each batch)' : ''}`);
  }
  const f = failed as Extract<Outcome, { ok: false }> | null;
  // A run that stopped on an undelivered batch prints no "ingested … accepted" success line on
  // stdout: a script reading it would take a refused token for a quiet file. --json still prints
  // the summary (it says complete: false and which lines were not delivered).
  if (json) io.out(JSON.stringify(summary, null, 2));
  else if (!s.quiet && !f) io.out(describe(summary));

  if (f) {
    const u = summary.undelivered!;
    io.err(`shieldwall: ${f.reason}; lines ${u.fromLine}-${u.toLine} were not delivered${!inputEnded || summary.lines > u.toLine ? ', nor any line after them' : ''}; `
      + `the first line to send again is ${u.fromLine}`);
    throw new ExitRequest(f.exit);
  }
  if (readError) {
    const e = readError as Error;
    io.err(`shieldwall: reading ${file} failed after line ${summary.lines}: ${e.message}; what was read before was sent`);
    throw new ExitRequest(EXIT.USAGE);
  }
  if (interrupted) {
    io.err(`shieldwall: interrupted after line ${summary.lines}; what was read was sent`);
    throw new ExitRequest(EXIT.PARTIAL);
  }
  if (summary.rejected > 0) throw new ExitRequest(EXIT.PARTIAL);
}
