/**
 * The telemetry spool (migration 0010): one row per ingest request, its accepted lines packed by
 * store/spool-codec.ts; events are named by chunk seq × LINE_SLOTS + line, so a reader's cursor
 * may stop inside a chunk.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';
import type { IngestRow, NewIngestChunk } from './types.js';
import { eventSeq, packSpool, splitEventSeq, splitSpoolLines, unpackSpool } from './spool-codec.js';

type Db = Kysely<DB>;

/** Chunk sizes per SELECT when reading events (a chunk holds one request's lines). */
const CHUNK_READ = 256;

/** PostgreSQL advisory lock key of spool appends (a fixed number no other lock of the node uses). */
const APPEND_LOCK = 727102;

/**
 * Appends a request's chunks. `inOrder` (PostgreSQL, inside a transaction): PostgreSQL hands out
 * seqs when rows are inserted, not when they commit, so a request that took seq 10 and committed
 * after one that took 11 would be passed by a worker that had read 11 (its cursor moves past what
 * it sees) and never processed. Appends then hold one lock until their commit, so seqs become
 * visible in order across every process on the database. SQLite has one writer at a time.
 */
export async function appendIngest(db: Db, c: NewIngestChunk, o: { inOrder?: boolean } = {}): Promise<{ firstSeq: number; lastSeq: number } | null> {
  if (o.inOrder) await sql`select pg_advisory_xact_lock(${APPEND_LOCK})`.execute(db);
  let first: number | null = null;
  let last = 0;
  for (const part of c.formats.length === 0 ? [] : splitSpoolLines(c)) {
    const packed = packSpool(part);
    const r = await db.insertInto('ingest_chunks')
      .values({ org_id: c.orgId, sensor_id: c.sensorId, received_us: c.receivedUs, exercise_id: c.exerciseId, lines: packed.lines, formats: packed.formats, body: packed.body })
      .returning('seq').executeTakeFirstOrThrow();
    first ??= eventSeq(Number(r.seq), 0);
    last = eventSeq(Number(r.seq), packed.lines - 1);
  }
  return first === null ? null : { firstSeq: first, lastSeq: last };
}

export async function readIngest(db: Db, o: { afterSeq: number; limit: number; wholeChunks?: boolean }): Promise<IngestRow[]> {
  const { afterSeq, limit } = o;
  const out: IngestRow[] = [];
  const after = splitEventSeq(Math.max(0, afterSeq));
  let from = after.streamSeq;
  while (out.length < limit) {
    // Sizes first (no bodies), then the bodies of just the chunks that the batch needs.
    const sizes = await db.selectFrom('ingest_chunks').select(['seq', 'lines']).where('seq', '>=', from).orderBy('seq').limit(CHUNK_READ).execute();
    if (sizes.length === 0) break;
    let need = out.length;
    let through = Number(sizes[0]!.seq);
    for (const c of sizes) {
      through = Number(c.seq);
      need += c.lines - (through === after.streamSeq ? after.line + 1 : 0);
      if (need >= limit) break;
    }
    const chunks = await db.selectFrom('ingest_chunks').selectAll().where('seq', '>=', from).where('seq', '<=', through).orderBy('seq').execute();
    for (const r of chunks) {
      const rows = unpackSpool({ orgId: r.org_id, sensorId: r.sensor_id, receivedUs: Number(r.received_us), exerciseId: r.exercise_id }, { body: r.body, formats: r.formats, seq: Number(r.seq) }, { afterSeq, max: o.wholeChunks ? Infinity : limit - out.length });
      for (const row of rows) out.push(row);
      if (out.length >= limit) return out;
    }
    if (sizes.length < CHUNK_READ && through === Number(sizes[sizes.length - 1]!.seq)) break;
    from = through + 1;
  }
  return out;
}

export async function countIngestAfter(db: Db, afterSeq: number): Promise<number> {
  const { streamSeq: chunk, line } = splitEventSeq(Math.max(0, afterSeq));
  const r = await db.selectFrom('ingest_chunks').select((eb) => eb.fn.sum<number | string | null>('lines').as('n')).where('seq', '>', chunk).executeTakeFirst();
  const at = await db.selectFrom('ingest_chunks').select('lines').where('seq', '=', chunk).executeTakeFirst();
  return Number(r?.n ?? 0) + (at ? Math.max(0, at.lines - line - 1) : 0);
}

/**
 * The event seq just before the first chunk received at or after `receivedUs` (what `readIngest`
 * takes as `afterSeq` to start there); the last event's seq when every chunk is older, 0 when the
 * spool is empty. Chunks are numbered in the order they were received, so this is a binary search
 * over chunk seqs: a few index probes whatever the spool holds (no index on the reception time).
 */
export async function ingestSeqBefore(db: Db, receivedUs: number): Promise<number> {
  const firstAtOrAfter = (seq: number) => db.selectFrom('ingest_chunks').select(['seq', 'received_us']).where('seq', '>=', seq).orderBy('seq').limit(1).executeTakeFirst();
  const first = await firstAtOrAfter(0);
  if (!first) return 0;
  const before = (chunk: number) => Math.max(0, eventSeq(chunk, 0) - 1);
  if (Number(first.received_us) >= receivedUs) return before(Number(first.seq));
  const last = await db.selectFrom('ingest_chunks').select(['seq', 'received_us', 'lines']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
  if (Number(last.received_us) < receivedUs) return eventSeq(Number(last.seq), last.lines - 1);
  // The first chunk at or after lo was received before the time; the first at or after hi, not.
  let lo = Number(first.seq);
  let hi = Number(last.seq);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const r = (await firstAtOrAfter(mid))!;
    if (Number(r.received_us) < receivedUs) lo = Math.max(mid, Number(r.seq));
    else hi = mid;
  }
  return before(Number((await firstAtOrAfter(hi))!.seq));
}

export async function lastIngestSeq(db: Db): Promise<number> {
  const r = await db.selectFrom('ingest_chunks').select(['seq', 'lines']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return r ? eventSeq(Number(r.seq), r.lines - 1) : 0;
}

export async function pruneIngest(db: Db, q: { throughSeq: number; receivedBeforeUs: number }): Promise<number> {
  const { streamSeq: chunk, line } = splitEventSeq(Math.max(0, q.throughSeq));
  const r = await db.deleteFrom('ingest_chunks').where('received_us', '<', q.receivedBeforeUs)
    .where((eb) => eb.or([eb('seq', '<', chunk), eb.and([eb('seq', '=', chunk), eb('lines', '<=', line + 1)])])).executeTakeFirst();
  return Number(r.numDeletedRows);
}
