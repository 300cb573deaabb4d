/** Dead letters: spool events the worker supervisor quarantined (migration 0008, DESIGN §2.7). */
import type { Kysely } from 'kysely';
import type { DB } from './schema.js';
import type { DeadLetterRow } from './types.js';

type Db = Kysely<DB>;

export async function putDeadLetter(db: Db, d: DeadLetterRow): Promise<void> {
  const v = {
    seq: d.seq, org_id: d.orgId, sensor_id: d.sensorId, received_us: d.receivedUs, exercise_id: d.exerciseId, event: d.event, format: d.format,
    reason: d.reason, rule_ref: d.ruleRef, attempts: d.attempts, created_us: d.createdUs,
  };
  // A settled one (retried or discarded) stays settled: a late quarantine of the same event (a
  // redelivered stream message) must not bring it back.
  await db.insertInto('dead_letters').values(v).onConflict((oc) => oc.column('seq')
    .doUpdateSet({ reason: v.reason, rule_ref: v.rule_ref, attempts: v.attempts, created_us: v.created_us })
    .where('dead_letters.attempts', '>=', 0)).execute();
}
export async function getDeadLetter(db: Db, seq: number): Promise<DeadLetterRow | null> {
  const r = await db.selectFrom('dead_letters').selectAll().where('seq', '=', seq).where('attempts', '>=', 0).executeTakeFirst();
  return r ? deadLetterOf(r) : null;
}
export async function listDeadLetters(db: Db, q: { orgId?: string; beforeSeq?: number; limit: number }): Promise<DeadLetterRow[]> {
  let query = db.selectFrom('dead_letters').selectAll().where('attempts', '>=', 0).orderBy('seq', 'desc').limit(q.limit);
  if (q.beforeSeq !== undefined) query = query.where('seq', '<', q.beforeSeq);
  if (q.orgId !== undefined) query = query.where('org_id', '=', q.orgId);
  return (await query.execute()).map(deadLetterOf);
}
export async function countDeadLetters(db: Db, q: { orgId?: string }): Promise<number> {
  let query = db.selectFrom('dead_letters').select((eb) => eb.fn.countAll().as('n')).where('attempts', '>=', 0);
  if (q.orgId !== undefined) query = query.where('org_id', '=', q.orgId);
  const r = await query.executeTakeFirst();
  return Number(r?.n ?? 0);
}
export async function deleteDeadLetter(db: Db, seq: number): Promise<boolean> {
  const r = await db.deleteFrom('dead_letters').where('seq', '=', seq).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}
/**
 * Settles a dead letter (retried as a new event, or discarded): it is no longer listed, but its
 * event stays skipped, so a copy of it still in flight (a stream message not yet acknowledged
 * when its worker was killed) is never processed, nor quarantined, again.
 */
export async function settleDeadLetter(db: Db, seq: number): Promise<boolean> {
  const r = await db.updateTable('dead_letters').set({ attempts: -1 }).where('seq', '=', seq).where('attempts', '>=', 0).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
export async function deadLetterSeqs(db: Db, fromSeq: number, toSeq: number): Promise<number[]> {
  const rows = await db.selectFrom('dead_letters').select('seq').where('seq', '>=', fromSeq).where('seq', '<=', toSeq).orderBy('seq').execute();
  return rows.map((r) => Number(r.seq));
}

function deadLetterOf(r: DB['dead_letters']): DeadLetterRow {
  return {
    seq: Number(r.seq), orgId: r.org_id, sensorId: r.sensor_id, receivedUs: Number(r.received_us), exerciseId: r.exercise_id, event: r.event, format: r.format,
    reason: r.reason, ruleRef: r.rule_ref, attempts: Number(r.attempts), createdUs: Number(r.created_us),
  };
}
