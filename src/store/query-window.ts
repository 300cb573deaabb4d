/**
 * The read window of a query with a scan limit (ObjectQuery.scanLimit): the date_added of the
 * `scanLimit`-th object version after `addedAfter` in the query's collections (and types), read
 * from the date_added index without touching the rows; null when fewer remain (the window
 * reaches the end of the store).
 */
import type { Kysely } from 'kysely';
import type { DB } from './schema.js';
import type { ObjectQuery } from './types.js';

export async function scanWindowEnd(db: Kysely<DB>, q: ObjectQuery & { scanLimit: number }): Promise<number | null> {
  let w = db.selectFrom('objects').select('date_added').where('collection_id', 'in', [...q.collectionIds]);
  if (q.types?.length) w = w.where('type', 'in', [...q.types]);
  if (q.addedAfter !== undefined) w = w.where('date_added', '>', q.addedAfter);
  const row = await w.orderBy('date_added').limit(1).offset(q.scanLimit - 1).executeTakeFirst();
  return row ? Number(row.date_added) : null;
}
