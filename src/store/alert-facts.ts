/** Alert facts: the columns of each alert that grouping, the operational picture and the alert list read (migration 0005). */
import type { Kysely } from 'kysely';
import type { DB } from './schema.js';
import type { AlertFactsRow } from './types.js';

type Db = Kysely<DB>;

export async function putAlertFacts(db: Db, f: AlertFactsRow): Promise<void> {
  const v = {
    id: f.id, org_id: f.orgId, group_key: f.groupKey, source: f.source, severity: f.severity, status: f.status,
    techniques: f.techniques.join(' '), count: f.count, first_us: f.firstUs, last_us: f.lastUs, exercise_id: f.exerciseId,
  };
  const { id: _id, ...rest } = v;
  await db.insertInto('alert_facts').values(v).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
}

/** One statement on the status column: a worker's update of the same row's counts meanwhile is kept. */
export async function setAlertFactsStatus(db: Db, id: string, status: string): Promise<void> {
  await db.updateTable('alert_facts').set({ status }).where('id', '=', id).execute();
}

export async function getAlertFacts(db: Db, id: string): Promise<AlertFactsRow | null> {
  const r = await db.selectFrom('alert_facts').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? alertFactsRow(r) : null;
}

export async function listAlertFacts(db: Db, q: { sinceUs: number; exerciseId: string | null | '*'; limit: number; writtenSinceUs?: number }): Promise<AlertFactsRow[]> {
  const written = q.writtenSinceUs;
  let query = db.selectFrom('alert_facts').selectAll().where((eb) => (written === undefined ? eb('last_us', '>=', q.sinceUs)
    : eb.or([eb('last_us', '>=', q.sinceUs), eb('id', 'in', eb.selectFrom('records').select('records.id').where('records.kind', '=', 'alert').where('records.updated_us', '>=', written))])));
  if (q.exerciseId !== '*') query = q.exerciseId ? query.where('exercise_id', '=', q.exerciseId) : query.where('exercise_id', 'is', null);
  const rows = await query.orderBy('last_us', 'desc').orderBy('id').limit(q.limit).execute();
  return rows.map(alertFactsRow);
}

const alertFactsRow = (r: DB['alert_facts']): AlertFactsRow => ({
  id: r.id, orgId: r.org_id, groupKey: r.group_key, source: r.source, severity: r.severity, status: r.status,
  techniques: r.techniques === '' ? [] : r.techniques.split(' '), count: Number(r.count), firstUs: Number(r.first_us), lastUs: Number(r.last_us),
  exerciseId: r.exercise_id,
});
