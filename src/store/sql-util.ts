/** Small SQL helpers shared by the store's modules. */
import { CompiledQuery, type Kysely } from 'kysely';
import type { Dialect } from './dialect.js';
import type { DB } from './schema.js';
import type { StoredVersion } from './types.js';

export const b = (v: boolean) => (v ? 1 : 0);
/** Statement texts built once per (table or statement, row count). */
export const INSERT_SQL = new Map<string, string>();
export const OBSERVABLE_COLUMNS = ['seq', 'collection_id', 'object_id', 'version', 'kind', 'value', 'ip_key', 'ip_prefix', 'creator_org', 'date_added'] as const;

export /**
 * `insert into <table> (<columns>) values (…), … <suffix>` for n rows in the dialect's
 * placeholders, built once per (table, n). Bulk inserts are built directly (parameters in one
 * flat array) rather than through the query builder: for a batch of 1,000 rows the builder's
 * value nodes cost more CPU and garbage than the insert itself.
 */
function valuesInsertSql(d: Dialect, n: number, st: { table: string; cols: readonly string[]; suffix: string }): string {
  const key = `${st.table}:${d.capabilities.dialect}:${n}`;
  let text = INSERT_SQL.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    for (let r = 0, k = 0; r < n; r++) tuples.push(`(${st.cols.map(() => d.placeholder(k++)).join(', ')})`);
    text = `insert into "${st.table}" (${st.cols.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}${st.suffix}`;
    if (INSERT_SQL.size > 64) INSERT_SQL.clear();
    INSERT_SQL.set(key, text);
  }
  return text;
}

/**
 * An IN list padded to the next power of two by repeating its last value (same rows: a repeated
 * value changes no IN). A statement's text depends on its list's length; with lengths from a
 * ladder, the few texts stay in the prepared-statement cache (store/sqlite.ts) instead of each
 * batch preparing its own (about a millisecond for a few hundred parameters).
 */
export function padded<T>(values: readonly T[]): T[] {
  const out = [...values];
  if (out.length === 0) return out;
  let n = 1;
  while (n < out.length) n *= 2;
  const last = out[out.length - 1]!;
  while (out.length < n) out.push(last);
  return out;
}

/** Splits n rows into runs whose lengths are powers of two (largest first, at most `max`): multi-row statements from a few texts. */
export function ladderRuns(n: number, max: number): number[] {
  const runs: number[] = [];
  let top = 1;
  while (top * 2 <= max) top *= 2;
  for (let left = n, size = top; left > 0;) {
    while (size > left) size /= 2;
    runs.push(size);
    left -= size;
  }
  return runs;
}

/** Values grouped by kind (one statement per kind). */
export function byKindOf(keys: readonly { kind: string; value: string }[]): Map<string, string[]> {
  const byKind = new Map<string, string[]>();
  for (const k of keys) {
    const list = byKind.get(k.kind);
    if (list) list.push(k.value);
    else byKind.set(k.kind, [k.value]);
  }
  return byKind;
}

/** The shapes of key lookups joined to the unique (collection_id, id, version) index of objects. */
export type KeysQuery = 'top' | 'latest' | 'bottom' | 'revoked' | 'exact';

/**
 * objectHeads' and storedVersions' statements for n keys, in the dialect's placeholders (cached
 * by shape). Each joins a VALUES list of keys to probes of the unique (collection_id, id, version)
 * index, so its cost follows the keys, never how many versions an object has: `top` the latest
 * version of each id in each collection, `latest` / `bottom` the latest / earliest of each (id,
 * collection) pair,
 * `revoked` its earliest revoked version (the partial index objects_revoked), `exact` the stored
 * copies of each (id, version) pair. `cross join` fixes SQLite's join order (keys, then
 * collections, then the index), where it would otherwise build an index of objects.
 */
export function keysSql(d: Dialect, kind: KeysQuery, n: number): string {
  const key = `${kind}:${d.capabilities.dialect}:${n}`;
  let text = INSERT_SQL.get(key);
  if (text === undefined) {
    const ph = d.placeholder;
    const width = kind === 'top' ? 1 : 2;
    const list: string[] = [];
    for (let k = 0; k < n; k++) list.push(`(${Array.from({ length: width }, (_, j) => ph(k * width + j)).join(', ')})`);
    const values = `(values ${list.join(', ')}) as "v"`;
    const cols = 'o."seq", o."collection_id", o."id", o."version", o."date_added", o."creator_org", o."revoked"';
    const coll = kind === 'top' || kind === 'exact' ? 'c."id"' : 'v."column2"';
    const collections = kind === 'top' || kind === 'exact' ? ' cross join "collections" as c' : '';
    const where = (o: string) => `${o}."collection_id" = ${coll} and ${o}."id" = v."column1"`
      + `${kind === 'exact' ? ` and ${o}."version" = v."column2"` : ''}${kind === 'revoked' ? ` and ${o}."revoked" = 1` : ''}`;
    const order = kind === 'exact' ? '' : ` order by o."version" ${kind === 'top' || kind === 'latest' ? 'desc' : 'asc'} limit 1`;
    if (d.capabilities.dialect === 'postgres') {
      // A lateral probe per key: PostgreSQL otherwise hashes the whole objects table to join the
      // probes' seq back to it (a scan of every stored version per lookup).
      text = `select o.* from ${values}${collections} cross join lateral (select ${cols} from "objects" as o where ${where('o')}${order}) as o`;
    } else {
      const probe = `(select o2."seq" from "objects" as o2 where ${where('o2')}${order.replaceAll('o."version"', 'o2."version"')})`;
      text = kind === 'exact'
        ? `select ${cols} from ${values}${collections} cross join "objects" as o where ${where('o')}`
        : `select ${cols} from ${values}${collections} cross join "objects" as o where o."seq" = ${probe}`;
    }
    if (INSERT_SQL.size > 64) INSERT_SQL.clear();
    INSERT_SQL.set(key, text);
  }
  return text;
}

/** A stored version's row as the key lookups read it (no JSON). */
export type KeyedVersion = Omit<StoredVersion, 'json'> & { seq: number };

/** Runs a key lookup (keysSql) for any number of keys, 512 a statement; each version once. */
export async function rowsByKeys(db: Kysely<DB>, d: Dialect, kind: KeysQuery, keys: readonly (readonly string[])[]): Promise<KeyedVersion[]> {
  const out: KeyedVersion[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < keys.length; i += 512) {
    // Padded to a power of two (the last key repeated): a few statement texts stay prepared.
    const chunk = padded(keys.slice(i, i + 512));
    const q = CompiledQuery.raw(keysSql(d, kind, chunk.length), chunk.flat());
    const rows = (await db.executeQuery<{ seq: number | string; collection_id: string; id: string; version: string; date_added: number | string; creator_org: string | null; revoked: number }>(q)).rows;
    for (const r of rows) {
      if (seen.has(Number(r.seq))) continue;
      seen.add(Number(r.seq));
      out.push({ seq: Number(r.seq), collectionId: r.collection_id, id: r.id, version: r.version, dateAdded: Number(r.date_added), creatorOrg: r.creator_org, revoked: Number(r.revoked) === 1 });
    }
  }
  return out;
}

