/**
 * Correlation index (observable values, frequent values, exclusions) and warninglists: the SQL of
 * the store's correlation section (DESIGN §2.4), on either dialect. KyselyStore delegates here.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { Dialect } from './dialect.js';
import type { DB } from './schema.js';
import { b, byKindOf, ladderRuns, OBSERVABLE_COLUMNS, padded, rowsByKeys, valuesInsertSql } from './sql-util.js';
import type { CorrelationExclusionRow, FrequentValueRow, ObservableEntry, ObservableKind, ObservableValue, WarninglistRow, WarninglistType } from './types.js';

type Db = Kysely<DB>;
type Head = { seq: number; version: string; creator_org: string | null; date_added: number };

/** Indexes the observable values of stored object versions (inside the caller's transaction). */
export async function indexObservablesTx(db: Db, d: Dialect, entries: readonly ObservableEntry[], opts: { cap: number; nowUs: number }): Promise<{ indexed: number; newlyFrequent: FrequentValueRow[] }> {
  let indexed = 0;
  const touched = new Map<string, { kind: ObservableKind; value: string }>();
  const key = (kind: string, value: string) => `${kind}\u0000${value}`;
  // A handful of statements per chunk of objects, whatever its size: heads, delete, frequent, insert.
  for (let i = 0; i < entries.length; i += 500) {
    const chunk = entries.slice(i, i + 500);
    const heads = new Map<string, Head>();
    // The seqs that may key each object's rows in the index (rows are keyed by the seq of the version indexed).
    const seqs = new Map<string, number[]>();
    // An object whose only stored version is the entry's own is its own head (most of a bulk
    // load or a federation pull); the others are looked up here.
    for (const e of chunk) {
      if (!e.sole) continue;
      const k = `${e.collectionId} ${e.objectId}`;
      heads.set(k, { seq: e.sole.seq, version: e.version, creator_org: e.sole.creatorOrg, date_added: e.sole.dateAdded });
      seqs.set(k, [e.sole.seq]);
    }
    const looked = chunk.filter((e) => !e.sole);
    const idsIn = (es: readonly ObservableEntry[], coll: string) => [...new Set(es.filter((e) => e.collectionId === coll).map((e) => e.objectId))];
    // Their latest stored versions: a descending probe of the unique (collection_id, id, version)
    // index per object, however many versions it has.
    const pairs = new Map(looked.map((e) => [`${e.collectionId} ${e.objectId}`, [e.objectId, e.collectionId]]));
    for (const r of await rowsByKeys(db, d, 'latest', [...pairs.values()])) {
      heads.set(`${r.collectionId} ${r.id}`, { seq: r.seq, version: r.version, creator_org: r.creatorOrg, date_added: r.dateAdded });
    }
    // Only the latest stored version speaks for the object; a late older version changes nothing.
    const current = chunk.filter((e) => heads.get(`${e.collectionId} ${e.objectId}`)?.version === e.version);
    // Where the rows of the multi-version objects indexed now are: only theirs are looked up (an
    // earlier version of an object met before its latest costs the probe of its head alone).
    const currentLooked = current.filter((e) => !e.sole);
    for (const coll of new Set(currentLooked.map((e) => e.collectionId))) await indexedSeqs(db, coll, idsIn(currentLooked, coll), seqs);
    // What any version of these objects indexed before goes (probes of the seq key: a new
    // object's seq finds nothing at the end of the index).
    const stale = [...new Set(current.map((e) => `${e.collectionId} ${e.objectId}`))].flatMap((k) => seqs.get(k)!);
    for (let k = 0; k < stale.length; k += 500) {
      await db.deleteFrom('observable_values').where('seq', 'in', padded(stale.slice(k, k + 500))).execute();
    }
    indexed += current.length;
    // The seq now keying the rows of each multi-version object indexed here (the next lookup of
    // the object reads this row instead of its versions).
    const marks = new Map<string, { collection_id: string; object_id: string; seq: number }>();
    for (const e of current) {
      if (!e.sole) marks.set(`${e.collectionId} ${e.objectId}`, { collection_id: e.collectionId, object_id: e.objectId, seq: heads.get(`${e.collectionId} ${e.objectId}`)!.seq });
    }
    const markRows = [...marks.values()];
    for (let k = 0; k < markRows.length; k += 300) {
      await db.insertInto('observable_heads').values(markRows.slice(k, k + 300))
        .onConflict((oc) => oc.columns(['collection_id', 'object_id']).doUpdateSet({ seq: (eb) => eb.ref('excluded.seq') })).execute();
    }
    const unique = new Map<string, ObservableValue>();
    for (const e of current) for (const v of e.values) unique.set(key(v.kind, v.value), v);
    const frequent = new Set<string>();
    const keys = [...unique.values()];
    for (let k = 0; k < keys.length; k += 500) {
      for (const f of await frequentValues(db, { keys: keys.slice(k, k + 500), limit: 500 })) frequent.add(key(f.kind, f.value));
    }
    // Rows each value may still get: up to cap + 1 in all (the one that crosses the cap marks
    // it), however many objects of one batch hold it (the indexer reads the store in batches).
    const room = new Map<string, number>();
    const values = [...unique.values()].filter((v) => !frequent.has(key(v.kind, v.value)));
    for (let k = 0; k < values.length; k += 500) {
      for (const [kind, vs] of byKindOf(values.slice(k, k + 500))) {
        const counts = await db.selectFrom('observable_values').select(['value', (eb) => eb.fn.countAll<number>().as('n')])
          .where('kind', '=', kind).where('value', 'in', padded(vs)).groupBy('value').execute();
        for (const c of counts) room.set(key(kind, c.value), opts.cap + 1 - Number(c.n));
      }
    }
    const rows: DB['observable_values'][] = [];
    const seen = new Set<string>();
    for (const e of current) {
      const head = heads.get(`${e.collectionId} ${e.objectId}`)!;
      for (const v of e.values) {
        const k = key(v.kind, v.value);
        const rowKey = `${e.collectionId} ${e.objectId} ${k}`;
        if (frequent.has(k) || seen.has(rowKey)) continue;
        const left = room.get(k) ?? opts.cap + 1;
        if (left <= 0) continue;
        room.set(k, left - 1);
        seen.add(rowKey);
        rows.push({
          seq: head.seq, collection_id: e.collectionId, object_id: e.objectId, version: e.version, kind: v.kind, value: v.value,
          ip_key: v.ipKey, ip_prefix: v.ipPrefix, creator_org: head.creator_org, date_added: head.date_added,
        });
        // Counted again after the insert only when the rows so far may have crossed the cap.
        if (left - 1 <= 0) touched.set(k, { kind: v.kind, value: v.value });
      }
    }
    // Built directly, like the object insert: the query builder's value nodes cost more than the insert.
    let from = 0;
    for (const size of ladderRuns(rows.length, 512)) {
      const slice = rows.slice(from, (from += size));
      const params: unknown[] = [];
      for (const r of slice) params.push(r.seq, r.collection_id, r.object_id, r.version, r.kind, r.value, r.ip_key, r.ip_prefix, r.creator_org, r.date_added);
      await db.executeQuery(CompiledQuery.raw(valuesInsertSql(d, slice.length, { table: 'observable_values', cols: OBSERVABLE_COLUMNS, suffix: ' on conflict do nothing' }), params));
    }
  }
  // Values that crossed the cap (counted before the insert plus the rows inserted reach cap + 1;
  // a row that hit a conflict was not added, so they are counted): each has at most cap + 1
  // rows, as no row is added once marked.
  const newlyFrequent: FrequentValueRow[] = [];
  const keys = [...touched.values()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const counts: { kind: string; value: string; n: number }[] = [];
    for (const [kind, values] of byKindOf(chunk)) {
      counts.push(...await db.selectFrom('observable_values').select(['kind', 'value', (eb) => eb.fn.countAll<number>().as('n')])
        .where('kind', '=', kind).where('value', 'in', padded(values)).groupBy(['kind', 'value']).execute());
    }
    for (const c of counts) {
      if (Number(c.n) <= opts.cap) continue;
      const ins = await db.insertInto('correlation_frequent').values({ kind: c.kind, value: c.value, since_us: opts.nowUs })
        .onConflict((oc) => oc.doNothing()).executeTakeFirst();
      if (Number(ins.numInsertedOrUpdatedRows ?? 0) > 0) newlyFrequent.push({ kind: c.kind as ObservableKind, value: c.value, sinceUs: opts.nowUs });
    }
  }
  return { indexed, newlyFrequent };
}

export async function frequentValues(db: Db, q: { keys?: readonly { kind: ObservableKind; value: string }[]; limit: number }): Promise<FrequentValueRow[]> {
  if (q.keys && q.keys.length === 0) return [];
  const map = (r: DB['correlation_frequent']): FrequentValueRow => ({ kind: r.kind as ObservableKind, value: r.value, sinceUs: Number(r.since_us) });
  if (!q.keys) {
    return (await db.selectFrom('correlation_frequent').selectAll().orderBy('since_us', 'desc').orderBy('kind').orderBy('value').limit(q.limit).execute()).map(map);
  }
  // Per kind, so each statement is a primary-key lookup.
  const out: FrequentValueRow[] = [];
  for (const [kind, values] of byKindOf(q.keys)) {
    for (let i = 0; i < values.length && out.length < q.limit; i += 500) {
      out.push(...(await db.selectFrom('correlation_frequent').selectAll().where('kind', '=', kind).where('value', 'in', padded(values.slice(i, i + 500))).execute()).map(map));
    }
  }
  return out.sort((a, b) => b.sinceUs - a.sinceUs || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0)).slice(0, q.limit);
}

/**
 * The seqs that may key the index rows of these multi-version objects of one collection: the one
 * recorded in observable_heads when the object was last indexed with several versions stored,
 * else every stored version's (once per object: the record is written when it is indexed).
 */
async function indexedSeqs(db: Db, coll: string, ids: readonly string[], out: Map<string, number[]>): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const marked = await db.selectFrom('observable_heads').select(['object_id', 'seq'])
      .where('collection_id', '=', coll).where('object_id', 'in', padded(part)).execute();
    for (const r of marked) out.set(`${coll} ${r.object_id}`, [Number(r.seq)]);
    const unmarked = part.filter((id) => !out.has(`${coll} ${id}`));
    if (unmarked.length === 0) continue;
    const rows = await db.selectFrom('objects').select(['seq', 'id']).where('collection_id', '=', coll).where('id', 'in', padded(unmarked)).execute();
    for (const r of rows) {
      const k = `${coll} ${r.id}`;
      const s = out.get(k);
      if (s) s.push(Number(r.seq));
      else out.set(k, [Number(r.seq)]);
    }
  }
}

/** Empties the correlation index: every (object, value) row and every frequent mark. */
export async function clearObservables(db: Db): Promise<{ rows: number; frequent: number }> {
  await db.deleteFrom('observable_heads').execute();
  const a = await db.deleteFrom('observable_values').executeTakeFirst();
  const f = await db.deleteFrom('correlation_frequent').executeTakeFirst();
  return { rows: Number(a.numDeletedRows), frequent: Number(f.numDeletedRows) };
}

export async function observableStats(db: Db): Promise<{ rows: number; frequent: number }> {
  const a = await db.selectFrom('observable_values').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const f = await db.selectFrom('correlation_frequent').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return { rows: Number(a?.n ?? 0), frequent: Number(f?.n ?? 0) };
}

export async function putCorrelationExclusion(db: Db, e: CorrelationExclusionRow): Promise<void> {
  await db.insertInto('correlation_exclusions').values({
    id: e.id, type: e.type, kind: e.kind, pattern: e.pattern, comment: e.comment, created_us: e.createdUs, created_by: e.createdBy,
  }).execute();
}

export async function listCorrelationExclusions(db: Db): Promise<CorrelationExclusionRow[]> {
  const rows = await db.selectFrom('correlation_exclusions').selectAll().orderBy('created_us').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id, type: r.type as CorrelationExclusionRow['type'], kind: r.kind as ObservableKind | null, pattern: r.pattern, comment: r.comment,
    createdUs: Number(r.created_us), createdBy: r.created_by,
  }));
}

export async function deleteCorrelationExclusion(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom('correlation_exclusions').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Stores a warninglist and its entries (inside the caller's transaction). */
export async function putWarninglistTx(db: Db, w: WarninglistRow, entries: readonly string[]): Promise<void> {
{
    const v = {
      id: w.id, name: w.name, version: w.version, description: w.description, type: w.type, matching_attributes: JSON.stringify(w.matchingAttributes),
      enabled: b(w.enabled), builtin: b(w.builtin), created_us: w.createdUs, updated_us: w.updatedUs,
    };
    const { id: _id, created_us: _c, ...rest } = v;
    await db.insertInto('warninglists').values(v).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
    await db.deleteFrom('warninglist_entries').where('list_id', '=', w.id).execute();
    const rows = [...new Set(entries)].map((value) => ({ list_id: w.id, value }));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('warninglist_entries').values(rows.slice(i, i + 500)).execute();
  }
}

export async function listWarninglists(db: Db): Promise<(WarninglistRow & { entryCount: number })[]> {
  const counts = await db.selectFrom('warninglist_entries').select(['list_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('list_id').execute();
  const n = new Map(counts.map((c) => [c.list_id, Number(c.n)]));
  const rows = await db.selectFrom('warninglists').selectAll().orderBy('builtin', 'desc').orderBy('name').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id, name: r.name, version: Number(r.version), description: r.description, type: r.type as WarninglistType,
    matchingAttributes: JSON.parse(r.matching_attributes) as string[], enabled: r.enabled === 1, builtin: r.builtin === 1,
    createdUs: Number(r.created_us), updatedUs: Number(r.updated_us), entryCount: n.get(r.id) ?? 0,
  }));
}

export async function warninglistEntries(db: Db, listId: string): Promise<string[]> {
  const rows = await db.selectFrom('warninglist_entries').select('value').where('list_id', '=', listId).orderBy('value').execute();
  return rows.map((r) => r.value);
}

export async function setWarninglistEnabled(db: Db, id: string, enabled: boolean, atUs: number): Promise<boolean> {
  const r = await db.updateTable('warninglists').set({ enabled: b(enabled), updated_us: atUs }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Deletes a warninglist and its entries (inside the caller's transaction). */
export async function deleteWarninglistTx(db: Db, id: string): Promise<boolean> {
{
    await db.deleteFrom('warninglist_entries').where('list_id', '=', id).execute();
    const r = await db.deleteFrom('warninglists').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
