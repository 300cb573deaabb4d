/**
 * The Store implementation shared by both dialects. SQL that differs between SQLite and
 * PostgreSQL comes from the Dialect; everything else is one Kysely code path.
 */
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Dialect } from './dialect.js';
import * as audit from './audit-sql.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { DB } from './schema.js';
import { migrate } from './migrations.js';
import * as af from './alert-facts.js';
import * as dl from './dead-letters.js';
import * as spool from './spool-sql.js';
import * as cs from './correlation-sql.js';
import { pgGrowth, type TableGrowth } from './growth.js';
import { b, INSERT_SQL, rowsByKeys, type KeyedVersion, type KeysQuery, valuesInsertSql } from './sql-util.js';
import { visibleExtremeSeqs, visibilitySql } from './visibility.js';
import { scanWindowEnd } from './query-window.js';
import { headsOf, INSERT_COLUMNS, LEAN_COLUMNS, LEAN_NO_JSON, leanObjectRow, toObjectRow, type ObjRecord } from './object-rows.js';
import type {
  AddedVersion, AlertFactsRow, AuditQuery, AuditRow, CollectionAccessRow, DeadLetterRow, CollectionRow, GroupRow, IngestRow, NewAuditRow, NewIngestChunk, NewObjectRow, ObjectHead, ObjectPage, ObjectQuery,
  ObjectRow, OrgKind, OrgRow, PutOutcome, RateRow, RecordEventRow, RecordQuery, RecordRow, Role, StatusRow, Store, StoreCapabilities, StoredVersion, TokenKind, TokenRow, TransactionOptions, UserRow,
} from './types.js';
import type { Tlp } from '../core/policy.js';
// correlation & warninglists
import type { Audience } from '../core/policy.js';
import type {
  CorrelationExclusionRow, FrequentValueRow, ObservableEntry, ObservableKind, ObservableLinkRow, ObservableLookup, ObservableValue, WarninglistRow, WarninglistType,
} from './types.js';

type Db = Kysely<DB> | Transaction<DB>;

type InsertedObject = { seq: number; date_added: number };

/** Rows per multi-row statement of the record batch methods (12 columns × 400 stays under every dialect's parameter limit). */
const RECORD_CHUNK = 400;

export class KyselyStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly #db: Db;
  readonly #d: Dialect;
  readonly #root: Kysely<DB> | null;
  /** PostgreSQL: statistics kept up with the rows this store adds (growth.ts). */
  readonly #growth: TableGrowth | null;

  private constructor(db: Db, d: Dialect, root: Kysely<DB> | null, growth: TableGrowth | null) {
    this.#db = db;
    this.#d = d;
    this.#root = root;
    this.#growth = growth;
    this.capabilities = d.capabilities;
  }

  /** Opens the database and applies pending migrations. */
  static async open(d: Dialect): Promise<KyselyStore> {
    const db = d.open();
    await d.withMigrationLock(db, () => migrate(db, d));
    return new KyselyStore(db, d, db, d.capabilities.dialect === 'postgres' ? pgGrowth(db) : null);
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    if (this.#root === null) return fn(this); // already inside a transaction: join it
    const out = await this.#transaction(fn, opts);
    this.#growth?.settle();
    return out;
  }

  async #transaction<T>(fn: (tx: Store) => Promise<T>, opts: TransactionOptions): Promise<T> {
    const root = this.#root!;
    const body = (trx: Db) => fn(new KyselyStore(trx, this.#d, null, this.#growth));
    if (opts.durable !== false) return root.transaction().execute(body);
    const { before, inside, after } = this.#d.relaxedCommit;
    // One held connection: nothing else runs on it between `before` and `after`.
    return root.connection().execute(async (conn) => {
      if (before) await conn.executeQuery(CompiledQuery.raw(before));
      try {
        return await conn.transaction().execute(async (trx) => {
          if (inside) await trx.executeQuery(CompiledQuery.raw(inside));
          return body(trx);
        });
      } finally {
        if (after) await conn.executeQuery(CompiledQuery.raw(after));
      }
    });
  }

  async close(): Promise<void> {
    await this.#growth?.close();
    await this.#root?.destroy();
  }

  // ---- meta ----
  async getMeta(key: string): Promise<string | null> {
    const r = await this.#db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return r?.value ?? null;
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.#db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }
  async listMeta(prefix: string, limit = 100_000): Promise<{ key: string; value: string }[]> {
    // A range on the primary key (not LIKE: prefixes may hold '_' or '%').
    return this.#db.selectFrom('meta').select(['key', 'value']).where('key', '>=', prefix).where('key', '<', `${prefix}\uffff`)
      .orderBy('key').limit(limit).execute();
  }
  async countMeta(prefix: string, upTo = 1_000_000): Promise<number> {
    const inRange = this.#db.selectFrom('meta').select('key').where('key', '>=', prefix).where('key', '<', `${prefix}\uffff`).limit(upTo);
    return Number((await this.#db.selectFrom(inRange.as('m')).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst())?.n ?? 0);
  }
  async getMetas(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.#db.selectFrom('meta').select(['key', 'value']).where('key', 'in', keys.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.key, r.value);
    }
    return out;
  }
  async addMetas(entries: readonly { key: string; value: string }[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 400) {
      await this.#db.insertInto('meta').values(entries.slice(i, i + 400).map((e) => ({ key: e.key, value: e.value })))
        .onConflict((oc) => oc.column('key').doNothing()).execute();
    }
  }
  async deleteMeta(key: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('meta').where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async initMeta(key: string, value: string): Promise<string> {
    // Read first: a key that exists needs no write, so a process starting while another holds
    // the write lock for long (a bulk import on SQLite) does not wait for it.
    const have = await this.getMeta(key);
    if (have !== null) return have;
    await this.#db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
    return (await this.getMeta(key)) ?? value;
  }
  async createMeta(key: string, value: string): Promise<boolean> {
    const r = await this.#db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  async casMeta(key: string, expected: string, value: string): Promise<boolean> {
    // One conditional UPDATE: under PostgreSQL READ COMMITTED a concurrent writer blocks on the
    // row and re-checks the condition, so only one of two racing writers moves the key.
    const r = await this.#db.updateTable('meta').set({ value }).where('key', '=', key).where('value', '=', expected).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- organisations ----
  async putOrganisation(o: OrgRow): Promise<void> {
    const v = { id: o.id, name: o.name, short_name: o.shortName, country: o.country, kind: o.kind, node: o.node, relayed: o.node !== null && o.relayed === true ? 1 : 0, created_us: o.createdUs };
    await this.#db.insertInto('organisations').values(v)
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: v.name, short_name: v.short_name, country: v.country, kind: v.kind, node: v.node, relayed: v.relayed }))
      .execute();
  }
  async getOrganisation(id: string): Promise<OrgRow | null> {
    const r = await this.#db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? orgRow(r) : null;
  }
  async listOrganisations(): Promise<OrgRow[]> {
    return (await this.#db.selectFrom('organisations').selectAll().orderBy('name').execute()).map(orgRow);
  }

  // ---- users ----
  async putUser(u: UserRow): Promise<void> {
    const v = {
      id: u.id, org_id: u.orgId, username: u.username, display_name: u.displayName, password_hash: u.passwordHash,
      roles: JSON.stringify(u.roles), disabled: b(u.disabled), created_us: u.createdUs,
    };
    await this.#db.insertInto('users').values(v)
      .onConflict((oc) => oc.column('id').doUpdateSet({ display_name: v.display_name, password_hash: v.password_hash, roles: v.roles, disabled: v.disabled }))
      .execute();
  }
  async getUser(id: string): Promise<UserRow | null> {
    const r = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? userRow(r) : null;
  }
  async getUserByUsername(username: string): Promise<UserRow | null> {
    const r = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return r ? userRow(r) : null;
  }
  async listUsers(orgId?: string): Promise<UserRow[]> {
    let q = this.#db.selectFrom('users').selectAll().orderBy('username');
    if (orgId) q = q.where('org_id', '=', orgId);
    return (await q.execute()).map(userRow);
  }

  // ---- tokens ----
  async putToken(t: TokenRow): Promise<void> {
    await this.#db.insertInto('tokens').values({
      id: t.id, hash: t.hash, user_id: t.userId, org_id: t.orgId, kind: t.kind, name: t.name, created_us: t.createdUs,
      expires_us: t.expiresUs, revoked_us: t.revokedUs, last_used_us: t.lastUsedUs,
    }).execute();
  }
  async getTokenByHash(hash: string): Promise<TokenRow | null> {
    const r = await this.#db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return r ? tokenRow(r) : null;
  }
  async getToken(id: string): Promise<TokenRow | null> {
    const r = await this.#db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? tokenRow(r) : null;
  }
  async listTokens(filter: { orgId?: string; userId?: string }): Promise<TokenRow[]> {
    let q = this.#db.selectFrom('tokens').selectAll().orderBy('created_us');
    if (filter.orgId) q = q.where('org_id', '=', filter.orgId);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    return (await q.execute()).map(tokenRow);
  }
  async revokeToken(id: string, atUs: number): Promise<boolean> {
    const r = await this.#db.updateTable('tokens').set({ revoked_us: atUs }).where('id', '=', id).where('revoked_us', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async touchToken(id: string, atUs: number): Promise<void> {
    await this.#db.updateTable('tokens').set({ last_used_us: atUs }).where('id', '=', id).execute();
  }

  // ---- sharing groups ----
  async putGroup(g: GroupRow): Promise<void> {
    const v = { id: g.id, name: g.name, description: g.description, owner_org: g.ownerOrg, created_us: g.createdUs };
    await this.#db.insertInto('sharing_groups').values(v)
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: v.name, description: v.description })).execute();
  }
  async getGroup(id: string): Promise<GroupRow | null> {
    const r = await this.#db.selectFrom('sharing_groups').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? groupRow(r) : null;
  }
  async listGroups(): Promise<GroupRow[]> {
    return (await this.#db.selectFrom('sharing_groups').selectAll().orderBy('name').execute()).map(groupRow);
  }
  async setGroupMembers(groupId: string, orgIds: readonly string[]): Promise<void> {
    await this.transaction(async (tx) => {
      const db = (tx as KyselyStore).#db;
      await db.deleteFrom('group_members').where('group_id', '=', groupId).execute();
      if (orgIds.length) await db.insertInto('group_members').values([...new Set(orgIds)].map((org_id) => ({ group_id: groupId, org_id }))).execute();
    });
  }
  async groupMembers(groupId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('group_members').select('org_id').where('group_id', '=', groupId).orderBy('org_id').execute();
    return rows.map((r) => r.org_id);
  }
  async groupsOfOrg(orgId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('group_members').select('group_id').where('org_id', '=', orgId).orderBy('group_id').execute();
    return rows.map((r) => r.group_id);
  }

  // ---- collections ----
  async putCollection(c: CollectionRow): Promise<void> {
    const v = { id: c.id, api_root: c.apiRoot, alias: c.alias, title: c.title, description: c.description, created_us: c.createdUs };
    await this.#db.insertInto('collections').values(v)
      .onConflict((oc) => oc.column('id').doUpdateSet({ alias: v.alias, title: v.title, description: v.description })).execute();
  }
  async getCollection(id: string): Promise<CollectionRow | null> {
    const r = await this.#db.selectFrom('collections').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? collectionRow(r) : null;
  }
  async listCollections(apiRoot?: string): Promise<CollectionRow[]> {
    // TAXII §5.1: the list must have a stable order.
    let q = this.#db.selectFrom('collections').selectAll().orderBy('created_us').orderBy('id');
    if (apiRoot) q = q.where('api_root', '=', apiRoot);
    return (await q.execute()).map(collectionRow);
  }
  async setCollectionAccess(rows: readonly CollectionAccessRow[]): Promise<void> {
    for (const r of rows) {
      const v = { collection_id: r.collectionId, principal: r.principal, can_read: b(r.canRead), can_write: b(r.canWrite) };
      await this.#db.insertInto('collection_access').values(v)
        .onConflict((oc) => oc.columns(['collection_id', 'principal']).doUpdateSet({ can_read: v.can_read, can_write: v.can_write }))
        .execute();
    }
  }
  async collectionAccess(collectionId?: string): Promise<CollectionAccessRow[]> {
    let q = this.#db.selectFrom('collection_access').selectAll().orderBy('collection_id').orderBy('principal');
    if (collectionId) q = q.where('collection_id', '=', collectionId);
    return (await q.execute()).map((r) => ({ collectionId: r.collection_id, principal: r.principal, canRead: r.can_read === 1, canWrite: r.can_write === 1 }));
  }

  // ---- objects ----
  async putObjects(rows: readonly NewObjectRow[], nowUs: number): Promise<PutOutcome[]> {
    if (rows.length === 0) return [];
    return this.transaction(async (tx) => (tx as KyselyStore).#putObjectsTx(rows, nowUs));
  }

  async lockObjectWrites(): Promise<void> {
    // Changes nothing; PostgreSQL keeps the row locked until the transaction ends (SQLite takes its write lock).
    await sql`update clock set last = last where name = 'date_added'`.execute(this.#db);
  }

  async allocateTime(nowUs: number): Promise<number> {
    const g = sql.raw(this.#d.greatest);
    const res = await sql<{ last: number }>`update clock set last = ${g}(last + 1, ${nowUs}) where name = 'date_added' returning last`.execute(this.#db);
    return Number(res.rows[0]?.last);
  }

  async #putObjectsTx(rows: readonly NewObjectRow[], nowUs: number): Promise<PutOutcome[]> {
    const db = this.#db;
    const out: PutOutcome[] = new Array(rows.length);
    // Allocate a block of unique, monotonic date_added values. The clock row stays locked until
    // commit (PostgreSQL), so allocation order is commit order and readers paging by date_added
    // never miss a row that commits later with a smaller value.
    const n = rows.length;
    const g = sql.raw(this.#d.greatest);
    const res = await sql<{ last: number }>`update clock set last = ${g}(last + ${n}, ${nowUs + n - 1}) where name = 'date_added' returning last`.execute(db);
    const last = Number(res.rows[0]?.last);
    let next = last - n + 1;
    const batch = this.#d.insertBatch;
    this.#growth?.add('objects', n);
    for (let i = 0; i < n; i += batch) {
      const slice = rows.slice(i, i + batch);
      // The statement is built directly (text cached per row count, parameters in one flat
      // array) rather than through the query builder: for a batch of 1,000 rows the builder's
      // 18,000 value nodes cost more CPU and garbage than the insert itself.
      const params: unknown[] = [];
      const firstDate = next;
      for (const r of slice) {
        params.push(r.collectionId, r.id, r.type, r.specVersion, r.version, r.created, r.modified, next++, r.creatorOrg, r.tlp,
          r.originNode, b(r.revoked), r.name, JSON.stringify(r.labels), r.searchText, r.json, r.sourceRef ?? null, r.targetRef ?? null, r.provenance ?? null);
      }
      const inserted = (await db.executeQuery<InsertedObject>(CompiledQuery.raw(this.#insertSql(slice.length), params))).rows;
      // Each row was given its own date_added, so the returned date_added says which rows went
      // in; a row left out hit the unique key (stored before, or an earlier copy in this batch).
      const seqOf = new Map<number, number>();
      for (const r of inserted) seqOf.set(Number(r.date_added), Number(r.seq));
      const recipients: { seq: number; principal: string }[] = [];
      const missing: number[] = [];
      slice.forEach((r, j) => {
        const dateAdded = firstDate + j;
        const seq = seqOf.get(dateAdded);
        if (seq !== undefined) {
          out[i + j] = { status: 'added', dateAdded };
          if (r.recipients.length > 0) for (const p of new Set(r.recipients)) recipients.push({ seq, principal: p });
        } else missing.push(j);
      });
      for (let k = 0; k < recipients.length; k += 2000) {
        await db.insertInto('object_recipients').values(recipients.slice(k, k + 2000)).onConflict((oc) => oc.doNothing()).execute();
      }
      for (const j of missing) {
        const r = slice[j]!;
        const existing = await db.selectFrom('objects').select(['json', 'date_added'])
          .where('collection_id', '=', r.collectionId).where('id', '=', r.id).where('version', '=', r.version).executeTakeFirst();
        out[i + j] = existing && sameJson(existing.json, r.json)
          ? { status: 'duplicate', dateAdded: Number(existing.date_added) }
          : { status: 'conflict', message: `a different object with id ${r.id} and version ${r.version} is already stored` };
      }
    }
    return out;
  }

  /** `insert into objects ... on conflict do nothing returning ...` for n rows, in the dialect's placeholders. */
  #insertSql(n: number): string {
    return valuesInsertSql(this.#d, n, { table: 'objects', cols: INSERT_COLUMNS, suffix: ' on conflict ("collection_id", "id", "version") do nothing returning "seq", "date_added"' });
  }

  #byKeys(kind: KeysQuery, keys: readonly (readonly string[])[]): Promise<KeyedVersion[]> {
    return rowsByKeys(this.#db, this.#d, kind, keys);
  }

  async queryObjects(q: ObjectQuery): Promise<ObjectPage> {
    if (q.collectionIds.length === 0) return { rows: [], more: false };
    if (q.specVersions && !q.specVersions.includes('2.1')) return { rows: [], more: false };
    const v = q.version ?? { kind: 'last' };
    // The first or last visible version of a few named objects: each (collection, id) probes the
    // unique index from that end and stops at the first visible version, and the rows are read by
    // seq (cross join: SQLite keeps that order). Testing every version of the ids against the
    // first/last condition below read each of them (an object with 500,000 versions, a sighting
    // seen for a year, cost ~0.5 s a read).
    const extremeOfIds = (v.kind === 'first' || v.kind === 'last') && q.ids !== undefined && q.ids.length > 0 && q.ids.length <= 500;
    const base = extremeOfIds
      ? this.#db.selectFrom(visibleExtremeSeqs({ ...q, ids: q.ids! }, v.kind === 'last' ? 'desc' : 'asc').as('pick')).crossJoin('objects as o').whereRef('o.seq', '=', 'pick.seq')
      : this.#db.selectFrom('objects as o');
    const lean = q.lean !== undefined && q.lean !== false;
    const bytes = lean && q.jsonBytes === true;
    const withRecipients = q.lean === 'with-recipients';
    // Lean: every column but search_text and labels; the JSON as text, or as bytes (json_bytes,
    // read back by name); with recipients, the provenance too. Typed as the plain lean selection
    // (the filters below are the same).
    const json = bytes ? sql<Buffer>`${sql.raw(this.#d.textBytes('o.json'))}`.as('json_bytes') : 'o.json' as const;
    const typed = () => base.select(LEAN_COLUMNS);
    const leanSelect = () => base.select([...LEAN_NO_JSON, ...(withRecipients ? ['o.provenance' as const] : []), json]) as unknown as ReturnType<typeof typed>;
    let query = (lean ? leanSelect() : base.selectAll('o'))
      .where('o.collection_id', 'in', [...q.collectionIds])
      .where(visibilitySql('o', q.audience, q.purpose));
    if (q.ids?.length) query = query.where('o.id', 'in', [...q.ids]);
    if (q.types?.length) query = query.where('o.type', 'in', [...q.types]);
    if (q.addedAfter !== undefined) query = query.where('o.date_added', '>', q.addedAfter);
    const windowEnd = q.scanLimit !== undefined && !q.ids?.length ? await scanWindowEnd(this.#db, { ...q, scanLimit: q.scanLimit }) : null;
    if (windowEnd !== null) query = query.where('o.date_added', '<=', windowEnd);
    if (q.excludeOriginNode !== undefined) {
      const node = q.excludeOriginNode;
      query = query.where((eb) => eb.or([eb('o.origin_node', 'is', null), eb('o.origin_node', '!=', node)]));
    }
    if (q.creators?.length) query = query.where('o.creator_org', 'in', [...q.creators]);
    if (q.relatedTo) {
      const rel = q.relatedTo;
      query = query.where((eb) => eb.or([eb('o.source_ref', '=', rel), eb('o.target_ref', '=', rel)]));
    }
    // A literal substring (Dialect.position), not LIKE: a search for `evil_corp`, `100%` or
    // `C:\Windows` finds exactly that, on both dialects. Labels are stored as a JSON array, so
    // a label in its JSON quotes matches one whole label, case included.
    const contains = (column: 'o.search_text' | 'o.labels', needle: string) => sql<boolean>`${sql.raw(this.#d.position)}(${sql.ref(column)}, ${needle}) > 0`;
    if (q.text) query = query.where(contains('o.search_text', q.text.toLowerCase()));
    for (const l of q.labels ?? []) query = query.where(contains('o.labels', JSON.stringify(l)));
    if (q.tlps?.length) {
      const levels = q.tlps.filter((t): t is Tlp => t !== 'none');
      const none = q.tlps.includes('none');
      query = query.where((eb) => eb.or([
        ...(levels.length ? [eb('o.tlp', 'in', levels)] : []),
        ...(none ? [eb('o.tlp', 'is', null)] : []),
      ]));
    }
    if (!extremeOfIds) switch (v.kind) {
      case 'all':
        break;
      case 'exact':
        query = query.where('o.version', 'in', v.versions.length ? v.versions : ['']);
        break;
      case 'first':
      case 'last':
      case 'union': {
        const sel = v.kind === 'union' ? v : { first: v.kind === 'first', last: v.kind === 'last', versions: [] as string[] };
        // o (itself visible) is the last visible version when no visible version of the same
        // object is later. NOT EXISTS seeks the unique (collection_id, id, version) index past
        // o.version and usually finds nothing, reading no other row; a max() subquery would
        // read every version's row, o's own included, to test its visibility.
        const extreme = (cmp: '>' | '<') => sql<boolean>`not exists (select 1 from objects o2
          where o2.collection_id = o.collection_id and o2.id = o.id and o2.version ${sql.raw(cmp)} o.version
          and ${visibilitySql('o2', q.audience, q.purpose)})`;
        const conds = [
          ...(sel.last ? [extreme('>')] : []),
          ...(sel.first ? [extreme('<')] : []),
          ...(sel.versions.length ? [sql<boolean>`o.version in (${sql.join(sel.versions)})`] : []),
        ];
        query = query.where(conds.length ? sql<boolean>`(${sql.join(conds, sql` or `)})` : sql<boolean>`1 = 0`);
        break;
      }
    }
    // With ids, the unique (collection_id, id, version) index finds the rows; ordering by the bare
    // column would let SQLite pick objects_added to skip the sort and scan the whole collection in
    // date order (a page of 1,000 ids cost O(collection), 25 ms at 30,000 objects). `+` keeps the
    // order and leaves the index choice to the ids.
    const order = q.ids?.length ? sql`+${sql.ref('o.date_added')}` : sql.ref('o.date_added');
    const ordered = q.latestVersionsFirst ? query.orderBy('o.version', 'desc').orderBy('o.date_added', 'desc') : query.orderBy(order);
    const rows = (await ordered.limit(q.limit + 1).execute()) as ObjRecord[];
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const done = (out: ObjectRow[]): ObjectPage => (!more && windowEnd !== null ? { rows: out, more, scannedTo: windowEnd } : { rows: out, more });
    const bytesOf = (r: ObjRecord) => (r as unknown as { json_bytes: Buffer }).json_bytes;
    if (withRecipients) return done(await this.#leanWithRecipients(page, bytes ? bytesOf : undefined));
    if (bytes) return done(page.map((r) => leanObjectRow(r, bytesOf(r))));
    if (q.lean === true) return done(page.map((r) => leanObjectRow(r)));
    const recips = await this.#recipientsOf(page.map((r) => r.seq));
    return done(page.map((r) => toObjectRow(r, recips.get(Number(r.seq)) ?? [])));
  }

  async objectHeads(ids: readonly string[]): Promise<Map<string, ObjectHead>> {
    // The latest, the earliest and the earliest revoked version of each id in each collection
    // that holds it: a few index probes per id, however many versions it has (reading every
    // version cost O(V) per submitted version, O(V²) to build an object of V versions, e.g. a
    // sighting that gets a version a minute). Only the owner adds versions, so the versions
    // between them speak for nothing they do not: the owner is the creator of the earliest stored
    // of them (in a store written before versioning held across collections, where another
    // organisation's row may sit between them, the earliest of these rows).
    const unique = [...new Set(ids)];
    const top = await this.#byKeys('top', unique.map((id) => [id]));
    const pairs = top.map((r) => [r.id, r.collectionId]);
    const bottom = pairs.length ? await this.#byKeys('bottom', pairs) : [];
    const revoked = pairs.length ? await this.#byKeys('revoked', pairs) : [];
    return headsOf([...top, ...bottom, ...revoked]);
  }

  async fillProvenance(collectionId: string, items: readonly { id: string; version: string; provenance: string }[]): Promise<void> {
    for (const it of items) {
      await this.#db.updateTable('objects').set({ provenance: it.provenance })
        .where('collection_id', '=', collectionId).where('id', '=', it.id).where('version', '=', it.version).where('provenance', 'is', null).execute();
    }
  }

  async provenanceOf(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 500) {
      // `collection_id in (collections)`: the unique (collection_id, id, version) index answers.
      const rows = await this.#db.selectFrom('objects').select(['id', 'provenance'])
        .where('collection_id', 'in', (eb) => eb.selectFrom('collections').select('id')).where('id', 'in', unique.slice(i, i + 500))
        .where('provenance', 'is not', null).orderBy('seq').execute();
      for (const r of rows) if (r.provenance !== null && !out.has(r.id)) out.set(r.id, r.provenance);
    }
    return out;
  }

  async storedVersions(keys: readonly { id: string; version: string }[], o: { release?: boolean } = {}): Promise<StoredVersion[]> {
    // Each (id, version) pair probed in each collection: the cost follows the keys, not how many
    // versions the objects have.
    const pairs = new Map<string, [string, string]>();
    for (const k of keys) pairs.set(`${k.id} ${k.version}`, [k.id, k.version]);
    const found = await this.#byKeys('exact', [...pairs.values()]);
    // Then the JSON of the matching copies only, by primary key.
    const json = new Map<number, string>();
    const release = new Map<number, NonNullable<StoredVersion['release']>>();
    for (let i = 0; i < found.length; i += 500) {
      const seqs = found.slice(i, i + 500).map((f) => f.seq);
      // The release columns (and the provenance, ~700 bytes a federated row) only when asked.
      const rows = await this.#db.selectFrom('objects').select(['seq', 'json', ...(o.release ? ['tlp', 'origin_node', 'provenance'] as const : [])]).where('seq', 'in', seqs).execute();
      const recips = o.release ? await this.#recipientsOf(seqs) : null;
      for (const r of rows) {
        json.set(Number(r.seq), r.json);
        if (recips) release.set(Number(r.seq), { tlp: r.tlp as Tlp | null, recipients: recips.get(Number(r.seq)) ?? [], originNode: r.origin_node, provenance: r.provenance });
      }
    }
    return found.map(({ seq, ...f }) => {
      const r = release.get(seq);
      return { ...f, json: json.get(seq) ?? '', ...(r ? { release: r } : {}) };
    }).sort((a, b) => a.dateAdded - b.dateAdded);
  }

  async #recipientsOf(seqs: number[]): Promise<Map<number, string[]>> {
    const m = new Map<number, string[]>();
    for (let i = 0; i < seqs.length; i += 1000) {
      const chunk = seqs.slice(i, i + 1000);
      if (!chunk.length) continue;
      const rows = await this.#db.selectFrom('object_recipients').select(['seq', 'principal']).where('seq', 'in', chunk).orderBy('principal').execute();
      for (const r of rows) {
        const k = Number(r.seq);
        const list = m.get(k) ?? [];
        list.push(r.principal);
        m.set(k, list);
      }
    }
    return m;
  }

  async scanObjects(q: { types: readonly string[]; addedAfter: number; limit: number; ids?: readonly string[] }): Promise<ObjectRow[]> {
    // Lean rows (no labels or search text, which no consumer of a scan reads): the detection
    // worker's indicator feed follows every import with it.
    let query = this.#db.selectFrom('objects as o').select(LEAN_COLUMNS).where('o.type', 'in', [...q.types]).where('o.date_added', '>', q.addedAfter);
    if (q.ids) query = query.where('o.id', 'in', q.ids.length ? [...q.ids] : ['']);
    const page = await query.orderBy('o.date_added').limit(q.limit).execute();
    return this.#leanWithRecipients(page as ObjRecord[]);
  }

  /** Lean rows (leanObjectRow) with their recipients read. */
  async #leanWithRecipients(page: readonly ObjRecord[], bytesOf?: (r: ObjRecord) => Buffer): Promise<ObjectRow[]> {
    const recips = await this.#recipientsOf(page.map((r) => r.seq));
    return page.map((r) => {
      const row = leanObjectRow(r, bytesOf?.(r));
      row.recipients = recips.get(Number(r.seq)) ?? [];
      return row;
    });
  }

  async countObjects(collectionId: string): Promise<number> {
    const r = await this.#db.selectFrom('objects').select((eb) => eb.fn.countAll<number>().as('n')).where('collection_id', '=', collectionId).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async countVisibleByCreator(q: Pick<ObjectQuery, 'collectionIds' | 'audience' | 'purpose'>) {
    if (q.collectionIds.length === 0) return [];
    const rows = await this.#db.selectFrom('objects as o')
      .select(['o.creator_org', 'o.tlp', (eb) => eb.fn.count<number>(sql`distinct o.id`).as('n')])
      .where('o.collection_id', 'in', [...q.collectionIds])
      .where(visibilitySql('o', q.audience, q.purpose))
      .groupBy(['o.creator_org', 'o.tlp']).execute();
    return rows.map((r) => ({ creatorOrg: r.creator_org, tlp: r.tlp as Tlp | null, n: Number(r.n) }));
  }

  async deleteObject(collectionId: string, id: string, versions: readonly string[] | 'all'): Promise<number> {
    return this.transaction(async (tx) => {
      const db = (tx as KyselyStore).#db;
      let sel = db.selectFrom('objects').select('seq').where('collection_id', '=', collectionId).where('id', '=', id);
      if (versions !== 'all') sel = sel.where('version', 'in', versions.length ? [...versions] : ['']);
      const seqs = (await sel.execute()).map((r) => Number(r.seq));
      if (!seqs.length) return 0;
      await db.deleteFrom('object_recipients').where('seq', 'in', seqs).execute();
      // What the correlation index holds of these versions goes with them (keyed by their seq),
      // and so does the record that one of them keys the object's rows.
      await db.deleteFrom('observable_values').where('seq', 'in', seqs).execute();
      await db.deleteFrom('observable_heads').where('collection_id', '=', collectionId).where('object_id', '=', id).where('seq', 'in', seqs).execute();
      await db.deleteFrom('objects').where('seq', 'in', seqs).execute();
      return seqs.length;
    });
  }

  // ---- records ----
  async putRecord(r: RecordRow, o: { sameRecipients?: boolean } = {}): Promise<boolean> {
    return this.transaction(async (tx) => {
      const db = (tx as KyselyStore).#db;
      const v = {
        id: r.id, kind: r.kind, parent_id: r.parentId, creator_org: r.creatorOrg, tlp: r.tlp, origin_node: r.originNode,
        exercise_id: r.exerciseId, state: r.state, created_us: r.createdUs, updated_us: r.updatedUs, rev: r.rev, json: r.json,
      };
      if (r.rev === 1) {
        const ins = await db.insertInto('records').values(v).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      } else {
        const up = await db.updateTable('records').set(v).where('id', '=', r.id).where('rev', '=', r.rev - 1).executeTakeFirst();
        if (Number(up.numUpdatedRows) === 0) return false;
        if (o.sameRecipients === true) return true;
        await db.deleteFrom('record_recipients').where('record_id', '=', r.id).execute();
      }
      if (r.recipients.length) await db.insertInto('record_recipients').values([...new Set(r.recipients)].map((principal) => ({ record_id: r.id, principal }))).execute();
      return true;
    });
  }

  async getRecords(ids: readonly string[]): Promise<RecordRow[]> {
    const out: RecordRow[] = [];
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += RECORD_CHUNK) {
      const part = unique.slice(i, i + RECORD_CHUNK);
      for (const { raw: _, ...r } of await this.#withRecipients(await this.#db.selectFrom('records').selectAll().where('id', 'in', part).execute())) out.push(r);
    }
    return out;
  }

  /** Record rows with their recipients (one read of record_recipients). */
  async #withRecipients<R extends DB['records']>(rows: readonly R[]): Promise<(RecordRow & { raw: R })[]> {
    const by = new Map<string, string[]>();
    const recips = rows.length ? await this.#db.selectFrom('record_recipients').selectAll().where('record_id', 'in', rows.map((r) => r.id)).orderBy('principal').execute() : [];
    for (const x of recips) {
      const l = by.get(x.record_id);
      if (l) l.push(x.principal);
      else by.set(x.record_id, [x.principal]);
    }
    return rows.map((r) => ({ ...recordRow(r, by.get(r.id) ?? []), raw: r }));
  }

  async scanRecords(q: { kind: string; afterUs: number; afterId?: string; limit: number; lean?: boolean }): Promise<RecordRow[]> {
    const from = q.lean
      ? this.#db.selectFrom('records').select(['id', 'kind', 'parent_id', 'creator_org', 'tlp', 'origin_node', 'exercise_id', 'state', 'created_us', 'updated_us', 'rev', sql<string>`''`.as('json')])
      : this.#db.selectFrom('records').selectAll();
    const rows = await (q.afterId === undefined ? from.where('updated_us', '>', q.afterUs)
      : from.where((eb) => eb.or([eb('updated_us', '>', q.afterUs), eb.and([eb('updated_us', '=', q.afterUs), eb('id', '>', q.afterId!)])])))
      .where('kind', '=', q.kind).orderBy('updated_us').orderBy('id').limit(q.limit).execute();
    return (await this.#withRecipients(rows)).map(({ raw: _, ...r }) => r);
  }

  async insertRecords(rows: readonly RecordRow[]): Promise<string[]> {
    if (rows.some((r) => r.rev !== 1)) throw new Error('insertRecords: new records only (rev 1)');
    return this.transaction(async (tx) => {
      const db = (tx as KyselyStore).#db;
      const inserted: string[] = [];
      for (let i = 0; i < rows.length; i += RECORD_CHUNK) {
        const part = rows.slice(i, i + RECORD_CHUNK);
        const values = part.map((r) => ({
          id: r.id, kind: r.kind, parent_id: r.parentId, creator_org: r.creatorOrg, tlp: r.tlp, origin_node: r.originNode,
          exercise_id: r.exerciseId, state: r.state, created_us: r.createdUs, updated_us: r.updatedUs, rev: r.rev, json: r.json,
        }));
        const got = new Set((await db.insertInto('records').values(values).onConflict((oc) => oc.column('id').doNothing()).returning('id').execute()).map((x) => x.id));
        const recips = part.filter((r) => got.has(r.id)).flatMap((r) => [...new Set(r.recipients)].map((principal) => ({ record_id: r.id, principal })));
        for (let j = 0; j < recips.length; j += RECORD_CHUNK) await db.insertInto('record_recipients').values(recips.slice(j, j + RECORD_CHUNK)).execute();
        for (const r of part) if (got.has(r.id)) inserted.push(r.id);
      }
      return inserted;
    });
  }

  async appendRecordEvents(events: readonly Omit<RecordEventRow, 'seq'>[]): Promise<void> {
    for (let i = 0; i < events.length; i += RECORD_CHUNK) {
      const values = events.slice(i, i + RECORD_CHUNK).map((e) => ({ record_id: e.recordId, at_us: e.atUs, kind: e.kind, org_id: e.orgId, user_id: e.userId, json: e.json }));
      await this.#db.insertInto('record_events').values(values).execute();
    }
  }

  async recordsByParent(kind: string, parentIds: readonly string[]): Promise<RecordRow[]> {
    const out: RecordRow[] = [];
    const unique = [...new Set(parentIds)];
    for (let i = 0; i < unique.length; i += 500) {
      // records_parent (parent_id, kind) answers it: one probe per id.
      const rows = await this.#db.selectFrom('records').selectAll().where('parent_id', 'in', unique.slice(i, i + 500)).where('kind', '=', kind).execute();
      out.push(...rows.map((r) => recordRow(r, [])));
    }
    return out;
  }

  async getRecord(id: string): Promise<RecordRow | null> {
    const r = await this.#db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    const recips = await this.#db.selectFrom('record_recipients').select('principal').where('record_id', '=', id).orderBy('principal').execute();
    return recordRow(r, recips.map((x) => x.principal));
  }

  async countRecordsByCreator(q: { kind: string; exceptStates: readonly string[]; exerciseId: string | null }): Promise<{ creatorOrg: string; n: number }[]> {
    let query = this.#db.selectFrom('records').select(['creator_org', (eb) => eb.fn.countAll<number>().as('n')]).where('kind', '=', q.kind);
    if (q.exceptStates.length) query = query.where('state', 'not in', [...q.exceptStates]);
    query = q.exerciseId ? query.where('exercise_id', '=', q.exerciseId) : query.where('exercise_id', 'is', null);
    const rows = await query.groupBy('creator_org').orderBy('creator_org').execute();
    return rows.map((r) => ({ creatorOrg: r.creator_org, n: Number(r.n) }));
  }

  async listRecords(q: RecordQuery): Promise<RecordRow[]> {
    let query = this.#db.selectFrom('records as o').selectAll('o').where('o.kind', '=', q.kind)
      .where(visibilitySql('o', q.audience, q.purpose, { table: 'record_recipients', key: 'id' }));
    if (q.parentId !== undefined) query = query.where('o.parent_id', '=', q.parentId);
    if (q.states?.length) query = query.where('o.state', 'in', [...q.states]);
    query = q.exerciseId ? query.where('o.exercise_id', '=', q.exerciseId) : query.where('o.exercise_id', 'is', null);
    if (q.updatedBefore !== undefined) query = query.where('o.updated_us', '<', q.updatedBefore);
    const after = q.after;
    if (after) query = query.where((eb) => eb.or([eb('o.updated_us', '>', after.us), eb.and([eb('o.updated_us', '=', after.us), eb('o.id', '>', after.id)])]));
    const rows = await (after ? query.orderBy('o.updated_us').orderBy('o.id') : query.orderBy('o.updated_us', 'desc').orderBy('o.id')).limit(q.limit).execute();
    return (await this.#withRecipients(rows)).map(({ raw: _, ...r }) => r);
  }

  async listAlertRecords(q: Omit<RecordQuery, 'kind' | 'updatedBefore' | 'parentId'> & { before?: { lastUs: number; id: string } }): Promise<(RecordRow & { lastUs: number })[]> {
    let query = this.#db.selectFrom('records as o').innerJoin('alert_facts as f', 'f.id', 'o.id').selectAll('o').select('f.last_us')
      .where('o.kind', '=', 'alert')
      .where(visibilitySql('o', q.audience, q.purpose, { table: 'record_recipients', key: 'id' }));
    if (q.states?.length) query = query.where('o.state', 'in', [...q.states]);
    query = q.exerciseId ? query.where('o.exercise_id', '=', q.exerciseId) : query.where('o.exercise_id', 'is', null);
    const b = q.before;
    if (b) query = query.where((eb) => eb.or([eb('f.last_us', '<', b.lastUs), eb.and([eb('f.last_us', '=', b.lastUs), eb('o.id', '<', b.id)])]));
    const rows = await query.orderBy('f.last_us', 'desc').orderBy('o.id', 'desc').limit(q.limit).execute();
    return (await this.#withRecipients(rows)).map(({ raw, ...r }) => ({ ...r, lastUs: Number(raw.last_us) }));
  }

  async appendRecordEvent(e: Omit<RecordEventRow, 'seq'>): Promise<number> {
    const r = await this.#db.insertInto('record_events')
      .values({ record_id: e.recordId, at_us: e.atUs, kind: e.kind, org_id: e.orgId, user_id: e.userId, json: e.json })
      .returning('seq').executeTakeFirstOrThrow();
    return Number(r.seq);
  }

  async listRecordEvents(recordId: string | { afterSeq: number; limit: number }): Promise<RecordEventRow[]> {
    const all = this.#db.selectFrom('record_events').selectAll();
    const rows = await (typeof recordId === 'string' ? all.where('record_id', '=', recordId) : all.where('seq', '>', recordId.afterSeq).limit(recordId.limit)).orderBy('seq').execute();
    return rows.map((r) => ({ seq: Number(r.seq), recordId: r.record_id, atUs: Number(r.at_us), kind: r.kind, orgId: r.org_id, userId: r.user_id, json: r.json }));
  }

  // ---- status ----
  async putStatus(s: StatusRow): Promise<void> {
    await this.#db.insertInto('statuses').values({ id: s.id, api_root: s.apiRoot, created_us: s.createdUs, json: s.json })
      .onConflict((oc) => oc.column('id').doUpdateSet({ json: s.json })).execute();
  }
  async getStatus(id: string): Promise<StatusRow | null> {
    const r = await this.#db.selectFrom('statuses').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { id: r.id, apiRoot: r.api_root, createdUs: Number(r.created_us), json: r.json } : null;
  }
  async pruneStatuses(olderThanUs: number): Promise<number> {
    const r = await this.#db.deleteFrom('statuses').where('created_us', '<', olderThanUs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
  async pruneSessions(olderThanUs: number): Promise<number> {
    const r = await this.#db.deleteFrom('tokens').where('kind', '=', 'session')
      .where((eb) => eb.or([eb('revoked_us', '<', olderThanUs), eb('expires_us', '<', olderThanUs)])).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- detection: ingest spool, rates, alert facts ----
  // The telemetry spool (src/store/spool-sql.ts).
  appendIngest(c: NewIngestChunk): Promise<{ firstSeq: number; lastSeq: number } | null> {
    // PostgreSQL: in a transaction, seqs made visible in order (spool-sql.ts appendIngest).
    if (this.capabilities.dialect !== 'postgres') return spool.appendIngest(this.#db, c);
    return this.transaction((tx) => spool.appendIngest((tx as KyselyStore).#db, c, { inOrder: true }));
  }
  readIngest(afterSeq: number, limit: number, o: { wholeChunks?: boolean } = {}): Promise<IngestRow[]> { return spool.readIngest(this.#db, { afterSeq, limit, ...o }); }
  countIngestAfter(afterSeq: number): Promise<number> { return spool.countIngestAfter(this.#db, afterSeq); }
  lastIngestSeq(): Promise<number> { return spool.lastIngestSeq(this.#db); }
  ingestSeqBefore(receivedUs: number): Promise<number> { return spool.ingestSeqBefore(this.#db, receivedUs); }
  pruneIngest(q: { throughSeq: number; receivedBeforeUs: number }): Promise<number> { return spool.pruneIngest(this.#db, q); }
  // Dead letters (src/store/dead-letters.ts).
  putDeadLetter(d: DeadLetterRow): Promise<void> { return dl.putDeadLetter(this.#db, d); }
  getDeadLetter(seq: number): Promise<DeadLetterRow | null> { return dl.getDeadLetter(this.#db, seq); }
  listDeadLetters(q: { orgId?: string; beforeSeq?: number; limit: number }): Promise<DeadLetterRow[]> { return dl.listDeadLetters(this.#db, q); }
  countDeadLetters(q: { orgId?: string } = {}): Promise<number> { return dl.countDeadLetters(this.#db, q); }
  deleteDeadLetter(seq: number): Promise<boolean> { return dl.deleteDeadLetter(this.#db, seq); }
  settleDeadLetter(seq: number): Promise<boolean> { return dl.settleDeadLetter(this.#db, seq); }
  deadLetterSeqs(fromSeq: number, toSeq: number): Promise<number[]> { return dl.deadLetterSeqs(this.#db, fromSeq, toSeq); }
  async addRates(rows: readonly RateRow[]): Promise<void> {
    for (const r of rows) {
      const v = { org_id: r.orgId, sensor_id: r.sensorId, bucket_us: r.bucketUs, exercise_id: r.exerciseId ?? '', events: r.events, alerts: r.alerts };
      await this.#db.insertInto('telemetry_rates').values(v).onConflict((oc) => oc.columns(['bucket_us', 'org_id', 'sensor_id', 'exercise_id']).doUpdateSet({
        events: (eb) => eb('telemetry_rates.events', '+', eb.ref('excluded.events')),
        alerts: (eb) => eb('telemetry_rates.alerts', '+', eb.ref('excluded.alerts')),
      })).execute();
    }
  }
  async listRates(q: { sinceUs: number; exerciseId: string | null }): Promise<RateRow[]> {
    const rows = await this.#db.selectFrom('telemetry_rates').selectAll().where('bucket_us', '>=', q.sinceUs)
      .where('exercise_id', '=', q.exerciseId ?? '').orderBy('bucket_us').execute();
    return rows.map((r) => ({
      orgId: r.org_id, sensorId: r.sensor_id, bucketUs: Number(r.bucket_us), exerciseId: r.exercise_id === '' ? null : r.exercise_id,
      events: Number(r.events), alerts: Number(r.alerts),
    }));
  }
  // Alert facts (src/store/alert-facts.ts).
  putAlertFacts(f: AlertFactsRow): Promise<void> { return af.putAlertFacts(this.#db, f); }
  setAlertFactsStatus(id: string, status: string): Promise<void> { return af.setAlertFactsStatus(this.#db, id, status); }
  getAlertFacts(id: string): Promise<AlertFactsRow | null> { return af.getAlertFacts(this.#db, id); }
  listAlertFacts(q: { sinceUs: number; exerciseId: string | null | '*'; limit: number; writtenSinceUs?: number }): Promise<AlertFactsRow[]> { return af.listAlertFacts(this.#db, q); }
  async purgeExercise(exerciseId: string): Promise<number> {
    let n = 0;
    // The run's own record (id = exercise id) goes too.
    const ids = this.#db.selectFrom('records').select('id').where((eb) => eb.or([eb('exercise_id', '=', exerciseId), eb('id', '=', exerciseId)]));
    n += Number((await this.#db.deleteFrom('record_recipients').where('record_id', 'in', ids).executeTakeFirst()).numDeletedRows);
    n += Number((await this.#db.deleteFrom('record_events').where('record_id', 'in', ids).executeTakeFirst()).numDeletedRows);
    n += Number((await this.#db.deleteFrom('records').where('id', '=', exerciseId).executeTakeFirst()).numDeletedRows);
    for (const t of ['records', 'alert_facts', 'ingest_chunks', 'dead_letters', 'telemetry_rates'] as const) {
      n += Number((await this.#db.deleteFrom(t).where('exercise_id', '=', exerciseId).executeTakeFirst()).numDeletedRows);
    }
    return n;
  }
  async countExerciseRows(exerciseId: string): Promise<number> {
    let n = 0;
    for (const t of ['records', 'alert_facts', 'ingest_chunks', 'dead_letters', 'telemetry_rates'] as const) {
      const r = await this.#db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).where('exercise_id', '=', exerciseId).executeTakeFirst();
      n += Number(r?.n ?? 0);
    }
    return n;
  }

  // ---- audit ----
  async appendAudit(a: NewAuditRow): Promise<void> {
    await this.#db.insertInto('audit').values({
      at_us: a.atUs, user_id: a.userId, org_id: a.orgId, token_id: a.tokenId, source: a.source, action: a.action, target: a.target, detail: a.detail,
    }).execute();
  }
  // The audit log (src/store/audit-sql.ts).
  async listAudit(filter: { orgId?: string; beforeId?: number; limit: number }): Promise<AuditRow[]> {
    return (await audit.searchAudit(this.#db, { ...filter, scanLimit: null })).rows;
  }

  async searchAudit(q: AuditQuery): Promise<{ rows: AuditRow[]; scannedTo: number | null }> {
    return audit.searchAudit(this.#db, q);
  }

  // Correlation & warninglists (src/store/correlation-sql.ts).
  async indexObservables(entries: readonly ObservableEntry[], opts: { cap: number; nowUs: number }): Promise<{ indexed: number; newlyFrequent: FrequentValueRow[] }> {
    if (entries.length === 0) return { indexed: 0, newlyFrequent: [] };
    this.#growth?.add('observable_values', entries.reduce((n, e) => n + e.values.length, 0));
    return this.transaction(async (tx) => cs.indexObservablesTx((tx as KyselyStore).#db, this.#d, entries, opts));
  }
  async objectsAddedAfter(afterUs: number, limit: number): Promise<AddedVersion[]> {
    // Only the columns the indexer uses (a lean row costs twice as much to read), and whether the
    // object has another stored version: a probe of the unique (collection_id, id, version) index
    // that stops at the first other row (a count would read every version: O(V) per version of an
    // object with V versions). It spares the indexer a lookup of the object when it has one version.
    const rows = await this.#db.selectFrom('objects as o')
      .select(['o.seq', 'o.collection_id', 'o.id', 'o.version', 'o.date_added', 'o.creator_org', 'o.revoked', 'o.json'])
      .select((eb) => eb.exists(eb.selectFrom('objects as o2').select(eb.lit(1).as('one'))
        .whereRef('o2.collection_id', '=', 'o.collection_id').whereRef('o2.id', '=', 'o.id').whereRef('o2.seq', '<>', 'o.seq')).as('others'))
      .where('o.date_added', '>', afterUs).orderBy('o.date_added').limit(limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq), collectionId: r.collection_id, id: r.id, version: r.version, dateAdded: Number(r.date_added),
      creatorOrg: r.creator_org, revoked: r.revoked === 1, json: r.json, others: Boolean(Number(r.others)),
    }));
  }

  async backlog(q: { afterUs: number; types?: readonly string[] }): Promise<{ count: number; oldestUs: number | null }> {
    let query = this.#db.selectFrom('objects').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('date_added').as('oldest')])
      .where('date_added', '>', q.afterUs);
    if (q.types) query = query.where('type', 'in', q.types.length ? [...q.types] : ['']);
    const r = await query.executeTakeFirst();
    return { count: Number(r?.n ?? 0), oldestUs: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest) };
  }

  async observableLinks(q: { lookups: readonly ObservableLookup[]; excludeObjectId: string; collectionIds: readonly string[]; audience: Audience; limit: number }): Promise<ObservableLinkRow[]> {
    if (q.lookups.length === 0 || q.collectionIds.length === 0) return [];
    const byKind = new Map<string, string[]>();
    const ranges: { keyFrom: string; keyTo: string; prefixAbove: number }[] = [];
    for (const l of q.lookups) {
      if ('value' in l) byKind.set(l.kind, [...(byKind.get(l.kind) ?? []), l.value]);
      else ranges.push(l);
    }
    // One plain statement per kind and per IP range, each served by its index ((kind, value) or
    // the partial ip_key index); an OR of them all lets the planner fall back to a scan.
    const base = () => this.#db.selectFrom('observable_values as ov').innerJoin('objects as o', 'o.seq', 'ov.seq')
      .select(['ov.kind', 'ov.value', 'ov.collection_id', 'ov.object_id', 'ov.version', 'o.type', 'o.name', 'o.creator_org', 'o.tlp', 'o.date_added'])
      .where('ov.collection_id', 'in', [...q.collectionIds])
      .where('ov.object_id', '<>', q.excludeObjectId)
      // The other side is released exactly as the object itself would be (store/visibility.ts).
      .where(visibilitySql('o', q.audience, 'read'));
    const found: Awaited<ReturnType<ReturnType<typeof base>['execute']>> = [];
    for (const [kind, values] of byKind) {
      for (let i = 0; i < values.length; i += 500) {
        found.push(...await base().where('ov.kind', '=', kind).where('ov.value', 'in', values.slice(i, i + 500)).orderBy('o.date_added').limit(q.limit).execute());
      }
    }
    for (const r of ranges) {
      // Only IP values have an ip_key; naming the kind would steer the planner to the (kind, value) index.
      found.push(...await base().where('ov.ip_key', '>=', r.keyFrom).where('ov.ip_key', '<=', r.keyTo)
        .where('ov.ip_prefix', '>', r.prefixAbove).orderBy('o.date_added').limit(q.limit).execute());
    }
    const rows = new Map(found.map((r) => [`${r.collection_id} ${r.object_id} ${r.kind} ${r.value}`, r]));
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const sorted = [...rows.values()].sort((a, b) => cmp(a.kind, b.kind) || cmp(a.value, b.value) || Number(a.date_added) - Number(b.date_added));
    return sorted.slice(0, q.limit).map((r) => ({
      kind: r.kind as ObservableKind, value: r.value, collectionId: r.collection_id, objectId: r.object_id, type: r.type, name: r.name,
      version: r.version, creatorOrg: r.creator_org, tlp: r.tlp as Tlp | null, dateAdded: Number(r.date_added),
    }));
  }

  frequentValues(q: { keys?: readonly { kind: ObservableKind; value: string }[]; limit: number }): Promise<FrequentValueRow[]> { return cs.frequentValues(this.#db, q); }
  observableStats(): Promise<{ rows: number; frequent: number }> { return cs.observableStats(this.#db); }
  clearObservables(): Promise<{ rows: number; frequent: number }> { return cs.clearObservables(this.#db); }
  putCorrelationExclusion(e: CorrelationExclusionRow): Promise<void> { return cs.putCorrelationExclusion(this.#db, e); }
  listCorrelationExclusions(): Promise<CorrelationExclusionRow[]> { return cs.listCorrelationExclusions(this.#db); }
  deleteCorrelationExclusion(id: string): Promise<boolean> { return cs.deleteCorrelationExclusion(this.#db, id); }
  putWarninglist(w: WarninglistRow, entries: readonly string[]): Promise<void> { return this.transaction(async (tx) => cs.putWarninglistTx((tx as KyselyStore).#db, w, entries)); }
  listWarninglists(): Promise<(WarninglistRow & { entryCount: number })[]> { return cs.listWarninglists(this.#db); }
  warninglistEntries(listId: string): Promise<string[]> { return cs.warninglistEntries(this.#db, listId); }
  setWarninglistEnabled(id: string, enabled: boolean, atUs: number): Promise<boolean> { return cs.setWarninglistEnabled(this.#db, id, enabled, atUs); }
  deleteWarninglist(id: string): Promise<boolean> { return this.transaction(async (tx) => cs.deleteWarninglistTx((tx as KyselyStore).#db, id)); }
}

/** The same JSON content, whatever the key order and spelling (RFC 8785 forms compared). */
function sameJson(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

const orgRow = (r: Selectable<DB['organisations']>): OrgRow => ({
  id: r.id, name: r.name, shortName: r.short_name, country: r.country, kind: r.kind as OrgKind, node: r.node, relayed: Number(r.relayed) === 1, createdUs: Number(r.created_us),
});
const userRow = (r: DB['users']): UserRow => ({
  id: r.id, orgId: r.org_id, username: r.username, displayName: r.display_name, passwordHash: r.password_hash,
  roles: JSON.parse(r.roles) as Role[], disabled: r.disabled === 1, createdUs: Number(r.created_us),
});
const tokenRow = (r: DB['tokens']): TokenRow => ({
  id: r.id, hash: r.hash, userId: r.user_id, orgId: r.org_id, kind: r.kind as TokenKind, name: r.name, createdUs: Number(r.created_us),
  expiresUs: r.expires_us === null ? null : Number(r.expires_us), revokedUs: r.revoked_us === null ? null : Number(r.revoked_us),
  lastUsedUs: r.last_used_us === null ? null : Number(r.last_used_us),
});
const groupRow = (r: DB['sharing_groups']): GroupRow => ({
  id: r.id, name: r.name, description: r.description, ownerOrg: r.owner_org, createdUs: Number(r.created_us),
});
const collectionRow = (r: DB['collections']): CollectionRow => ({
  id: r.id, apiRoot: r.api_root, alias: r.alias, title: r.title, description: r.description, createdUs: Number(r.created_us),
});
const recordRow = (r: DB['records'], recipients: string[]): RecordRow => ({
  id: r.id, kind: r.kind, parentId: r.parent_id, creatorOrg: r.creator_org, tlp: r.tlp as Tlp | null, recipients, originNode: r.origin_node,
  exerciseId: r.exercise_id, state: r.state, createdUs: Number(r.created_us), updatedUs: Number(r.updated_us), rev: Number(r.rev), json: r.json,
});
