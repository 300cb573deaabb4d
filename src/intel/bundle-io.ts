/**
 * Streaming STIX bundle import and export, for bundles of any size.
 *
 * Import splits the bundle with BundleScanner (bundle-scan.ts) and parses one `objects` item
 * at a time with JSON.parse, so a 1 GB bundle never needs 1 GB of heap. Items go through IntelService.submit in batches, but
 * every batch of one bundle commits in ONE store transaction: a crash or a malformed tail
 * leaves the whole bundle or nothing (DESIGN §2.2).
 *
 * Export pages the store with purpose `bulk` (the release policy is applied in the query, so
 * RED never leaves in bulk, DESIGN §2.1) and writes the bundle incrementally.
 */
import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { AppError } from '../core/errors.js';
import type { Audience } from '../core/policy.js';
import { AccessService, type Actor } from '../access/index.js';
import type { ObjectQuery, Store } from '../store/index.js';
import { IntelService, type SubmitOptions } from './service.js';
import { BundleScanner } from './bundle-scan.js';
import { isUnversionedKey } from './facts.js';

export interface ImportProgress {
  /** Objects read from the bundle so far. */
  objects: number;
  /** Bytes of the bundle read so far. */
  bytes: number;
}

export interface ImportOptions extends SubmitOptions {
  /** Objects per IntelService.submit call (default 1000). */
  batchSize?: number;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

export interface ImportRequest {
  actor: Actor;
  collectionId: string;
  /** The bundle as bytes or text (a file stream, an HTTP body...). */
  readable: Readable | AsyncIterable<Buffer | string>;
}

export interface ImportError {
  /** Position of the object in the bundle's `objects` array. */
  index: number;
  id: string | null;
  message: string;
}

export interface ImportSummary {
  total: number;
  added: number;
  duplicates: number;
  rejected: number;
  /** The first {@link MAX_REPORTED_ERRORS} rejects. */
  errors: ImportError[];
}

export const MAX_REPORTED_ERRORS = 100;

/**
 * Deepest nesting accepted (bundle and objects list included). Real STIX objects stay far
 * below this; hostile input could otherwise make the assembler and validator recurse deeply.
 */
export const MAX_NESTING = 64;

/**
 * Imports one STIX bundle from a stream. All of it commits in one transaction; rejected
 * objects (invalid, or versions only their creator may add) are reported, not stored.
 * Throws AppError MALFORMED_JSON / INVALID_STIX when the document is not a bundle, and then
 * nothing is stored.
 */
export async function importBundleStream(intel: IntelService, req: ImportRequest, opts: ImportOptions = {}): Promise<ImportSummary> {
  const { batchSize = 1000, onProgress, signal, ...submitOpts } = opts;
  if (!(await intel.store.getCollection(req.collectionId))) throw new AppError('NOT_FOUND', `no collection ${req.collectionId}`);
  const summary: ImportSummary = { total: 0, added: 0, duplicates: 0, rejected: 0, errors: [] };
  const progress: ImportProgress = { objects: 0, bytes: 0 };
  const committed = { count: 0, types: new Set<string>() };
  await intel.store.transaction(async (tx) => {
    const svc = new IntelService(tx, intel.clock, (c) => {
      committed.count += c.count;
      for (const t of c.types) committed.types.add(t);
    });
    const scanner = new BundleScanner(MAX_NESTING);
    const decoder = new StringDecoder('utf8');
    let batch: unknown[] = [];
    let batchStart = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const results = await svc.submit(req.actor, req.collectionId, batch, submitOpts);
      for (const r of results) {
        if (r.status === 'rejected') {
          summary.rejected++;
          if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ index: batchStart + r.index, id: r.id, message: r.message });
        } else if (r.status === 'added') summary.added++;
        else summary.duplicates++;
      }
      batchStart += batch.length;
      batch = [];
      onProgress?.({ ...progress });
    };
    const take = async (items: unknown[]) => {
      for (const item of items) {
        batch.push(item);
        summary.total++;
        progress.objects++;
        if (batch.length >= batchSize) await flush();
      }
    };
    for await (const chunk of req.readable) {
      signal?.throwIfAborted();
      progress.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      await take(scanner.feed(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    }
    await take(scanner.feed(decoder.end()));
    scanner.end();
    // STIX 2.1 §8: a bundle's type is "bundle" (checked at the end: members may come in any order).
    const type = scanner.envelope.type;
    if (type !== 'bundle') {
      throw new AppError('INVALID_STIX', `not a STIX bundle: "type" is ${type === undefined ? 'missing' : JSON.stringify(type)}, expected "bundle"`);
    }
    await flush();
    await new AccessService(tx, intel.clock).audit(req.actor, 'intel.import', req.collectionId, {
      total: summary.total, added: summary.added, duplicates: summary.duplicates, rejected: summary.rejected,
      asOrg: submitOpts.asOrg ?? null, tlp: submitOpts.defaultTlp ?? null, recipients: submitOpts.recipients ?? [],
    });
  });
  intel.announce({ collectionId: req.collectionId, ...committed });
  return summary;
}

export interface ExportRequest {
  actor: Actor;
  collectionIds: readonly string[];
  /** Who the export is for; the release policy decides per object with purpose `bulk`. */
  audience: Audience;
  /** Optional filters; `version` defaults to the latest visible version of each object. */
  filters?: Pick<ObjectQuery, 'types' | 'ids' | 'labels' | 'tlps' | 'creators' | 'text' | 'version' | 'addedAfter'>;
  /** Rows per store query (default 1000). */
  pageSize?: number;
}

/** Writes with backpressure; a destination that errors or closes (a reader gone away) ends the export. */
async function write(out: Writable, chunk: string): Promise<void> {
  const closed = () => new AppError('UNAVAILABLE', 'the export destination was closed before the bundle was complete');
  if (out.destroyed || out.writableEnded) throw closed();
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (e?: unknown) => {
      out.off('drain', onDrain).off('error', onError).off('close', onClose);
      if (e) reject(e instanceof Error ? e : closed());
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    const onClose = () => done(closed());
    out.on('drain', onDrain).on('error', onError).on('close', onClose);
  });
}

/**
 * Writes `{"type":"bundle","id":"bundle--<uuid>","objects":[...]}` to `out`, page by page, with
 * only the objects the audience may receive in bulk. Audited as an export. Does not end `out`.
 */
export async function exportBundle(access: AccessService, req: ExportRequest, out: Writable): Promise<{ id: string; count: number }> {
  const store: Store = access.store;
  const id = `bundle--${randomUUID()}`;
  const limit = req.pageSize ?? 1000;
  // With several collections the same version may be stored twice; emit it once.
  const seen = req.collectionIds.length > 1 ? new Set<string>() : null;
  let count = 0;
  let addedAfter = req.filters?.addedAfter;
  await write(out, `{"type":"bundle","id":"${id}","objects":[`);
  for (;;) {
    const page = await store.queryObjects({
      ...req.filters, collectionIds: req.collectionIds, audience: req.audience, purpose: 'bulk', limit,
      ...(addedAfter === undefined ? {} : { addedAfter }),
    });
    const parts: string[] = [];
    for (const row of page.rows) {
      if (seen) {
        // Two organisations' copies of one SCO (docs/stix-versioning.md): each content once.
        const k = isUnversionedKey(row.version) ? `${row.id}\u0000${row.json}` : `${row.id}\u0000${row.version}`;
        if (seen.has(k)) continue;
        seen.add(k);
      }
      parts.push(row.json);
    }
    if (parts.length) {
      await write(out, `${count > 0 ? ',' : ''}${parts.join(',')}`);
      count += parts.length;
    }
    const last = page.rows.at(-1);
    if (!page.more || !last) break;
    addedAfter = last.dateAdded;
  }
  await write(out, ']}\n');
  await access.audit(req.actor, 'intel.export', req.collectionIds.join(','), {
    bundle: id, count, audience: req.audience.hop === 'public' ? 'public' : req.audience.orgId, filters: req.filters ?? {},
  });
  return { id, count };
}
