/**
 * What every REST handler shares: the platform, the cursor codec, and the
 * collection scope of a request (which collections a caller may read or write).
 */
import { AppError } from '../../core/errors.js';
import type { Principal } from '../../access/index.js';
import type { CollectionRow, ObjectQuery, ObjectRow } from '../../store/index.js';
import type { CursorCodec } from '../../taxii/cursor.js';
import type { Platform } from '../platform.js';

export interface RestDeps {
  platform: Platform;
  cursors: CursorCodec;
}

/** Ids of every collection (all API roots) the principal may read. */
export async function readableCollectionIds(deps: RestDeps, p: Principal): Promise<string[]> {
  const rights = await deps.platform.access.rights(p);
  return [...rights].filter(([, r]) => r.canRead).map(([id]) => id);
}

/**
 * One collection by id (or alias) with the needed right. As in TAXII §5.1/§5.2: no right at
 * all → 404, so a collection's existence is not disclosed; the needed right missing → 403.
 */
export async function collectionFor(deps: RestDeps, p: Principal, idOrAlias: string, need: 'read' | 'write'): Promise<CollectionRow> {
  const { store, access } = deps.platform;
  const c = (await store.getCollection(idOrAlias)) ?? (await store.listCollections()).find((x) => x.alias === idOrAlias) ?? null;
  const r = c ? (await access.rights(p)).get(c.id) : undefined;
  if (!c || !r || (!r.canRead && !r.canWrite)) throw new AppError('NOT_FOUND', `no collection ${idOrAlias}`);
  if (need === 'read' && !r.canRead) throw new AppError('FORBIDDEN', 'no read access to this collection');
  if (need === 'write' && !r.canWrite) throw new AppError('FORBIDDEN', 'no write access to this collection');
  return c;
}

export async function orgNames(deps: RestDeps): Promise<Map<string, string>> {
  return new Map((await deps.platform.store.listOrganisations()).map((o) => [o.id, o.name]));
}

/**
 * Runs a query page by page (date_added is unique and monotonic across the store, so it is a
 * stable resume point) until it is exhausted or `max` rows were seen. Returns whether it stopped early.
 */
export async function scanObjects(deps: RestDeps, q: Omit<ObjectQuery, 'limit'>, opts: { max: number; onPage: (rows: ObjectRow[]) => void }): Promise<boolean> {
  const limit = deps.platform.config.maxPageSize;
  let addedAfter = q.addedAfter;
  let seen = 0;
  for (;;) {
    const page = await deps.platform.store.queryObjects({ ...q, limit, ...(addedAfter !== undefined ? { addedAfter } : {}) });
    opts.onPage(page.rows);
    seen += page.rows.length;
    const last = page.rows[page.rows.length - 1];
    if (!page.more || !last) return false;
    if (seen >= opts.max) return true;
    addedAfter = last.dateAdded;
  }
}

/** Decodes a REST cursor; a forged, foreign or stale one is a 400 naming the `cursor` parameter. */
export function decodeCursor(deps: RestDeps, cursor: string, fingerprint: string, p: Principal): number {
  try {
    return deps.cursors.decode(cursor, fingerprint, p.orgId);
  } catch (e) {
    if (e instanceof AppError) throw new AppError('INVALID_CURSOR', e.message.replace('next cursor', 'cursor'), { details: { parameter: 'cursor' } });
    throw e;
  }
}
