/** The audit log's reads (Store.listAudit, Store.searchAudit), on both dialects. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from './schema.js';
import type { AuditQuery, AuditRow } from './types.js';

function auditRow(r: Selectable<DB['audit']>): AuditRow {
  return {
    id: Number(r.id), atUs: Number(r.at_us), userId: r.user_id, orgId: r.org_id, tokenId: r.token_id, source: r.source,
    action: r.action, target: r.target, detail: r.detail,
  };
}

/**
 * Entries newest first. With a `scanLimit`, the filters apply within the newest `scanLimit`
 * entries below the cursor (the window, an index range on (org_id, id) or the key): `scannedTo`
 * is the window's lowest id when it was read whole without `limit` matches. Without one (null),
 * the whole log below the cursor.
 */
export async function searchAudit(db: Kysely<DB>, q: Omit<AuditQuery, 'scanLimit'> & { scanLimit: number | null }): Promise<{ rows: AuditRow[]; scannedTo: number | null }> {
  let floor: number | null = null;
  if (q.scanLimit !== null) {
    let w = db.selectFrom('audit').select('id').orderBy('id', 'desc').limit(q.scanLimit);
    if (q.orgId) w = w.where('org_id', '=', q.orgId);
    if (q.beforeId !== undefined) w = w.where('id', '<', q.beforeId);
    const window = await w.execute();
    if (window.length === 0) return { rows: [], scannedTo: null };
    if (window.length === q.scanLimit) floor = Number(window[window.length - 1]!.id);
  }
  let f = db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.orgId) f = f.where('org_id', '=', q.orgId);
  if (q.beforeId !== undefined) f = f.where('id', '<', q.beforeId);
  if (floor !== null) f = f.where('id', '>=', floor);
  if (q.actionPrefix) f = f.where(sql<string>`substr(action, 1, ${q.actionPrefix.length})`, '=', q.actionPrefix);
  if (q.userId) f = f.where('user_id', '=', q.userId);
  if (q.sinceUs !== undefined) f = f.where('at_us', '>=', q.sinceUs);
  if (q.untilUs !== undefined) f = f.where('at_us', '<=', q.untilUs);
  const rows = (await f.execute()).map(auditRow);
  return { rows, scannedTo: rows.length < q.limit ? floor : null };
}
