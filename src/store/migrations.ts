/**
 * Schema migrations, shared by both dialects. Each migration runs once, in order, inside a
 * transaction where the dialect supports transactional DDL; applied ids are kept in `meta`.
 * Never edit a released migration: add a new one.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';
import type { Dialect } from './dialect.js';
import { LINE_SLOTS, packSpool, spoolLinesOf } from './spool-codec.js';

export interface Migration {
  id: string;
  up(db: Kysely<DB>, d: Dialect): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '0001-foundation',
    async up(db, d) {
      const big = d.bigint;
      await db.schema.createTable('clock').addColumn('name', 'text', (c) => c.primaryKey()).addColumn('last', big, (c) => c.notNull()).execute();
      await db.schema
        .createTable('organisations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('short_name', 'text', (c) => c.notNull().unique())
        .addColumn('country', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('node', 'text')
        .addColumn('created_us', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.references('users.id'))
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .addColumn('expires_us', big)
        .addColumn('revoked_us', big)
        .addColumn('last_used_us', big)
        .execute();
      await db.schema
        .createTable('sharing_groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('owner_org', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('created_us', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'text', (c) => c.notNull().references('sharing_groups.id'))
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'org_id'])
        .execute();
      await db.schema.createIndex('group_members_org').on('group_members').column('org_id').execute();
      await db.schema
        .createTable('collections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('api_root', 'text', (c) => c.notNull())
        .addColumn('alias', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .addUniqueConstraint('collections_alias', ['api_root', 'alias'])
        .execute();
      await db.schema
        .createTable('collection_access')
        .addColumn('collection_id', 'text', (c) => c.notNull().references('collections.id'))
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('can_read', 'integer', (c) => c.notNull())
        .addColumn('can_write', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('collection_access_pk', ['collection_id', 'principal'])
        .execute();
      await db.schema
        .createTable('objects')
        .addColumn('seq', d.serial, (c) => d.serialModifier(c))
        .addColumn('collection_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('spec_version', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('created', 'text')
        .addColumn('modified', 'text')
        .addColumn('date_added', big, (c) => c.notNull())
        .addColumn('creator_org', 'text')
        .addColumn('tlp', 'text')
        .addColumn('origin_node', 'text')
        .addColumn('revoked', 'integer', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('search_text', 'text', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .addUniqueConstraint('objects_version', ['collection_id', 'id', 'version'])
        .execute();
      await db.schema.createIndex('objects_added').on('objects').columns(['collection_id', 'date_added']).execute();
      await db.schema.createIndex('objects_date').on('objects').column('date_added').execute();
      await db.schema.createIndex('objects_id').on('objects').columns(['id', 'version']).execute();
      await db.schema.createIndex('objects_type').on('objects').columns(['type', 'date_added']).execute();
      await db.schema
        .createTable('object_recipients')
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('object_recipients_pk', ['seq', 'principal'])
        .execute();
      await db.schema
        .createTable('statuses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('api_root', 'text', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit')
        .addColumn('id', d.serial, (c) => d.serialModifier(c))
        .addColumn('at_us', big, (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('org_id', 'text')
        .addColumn('token_id', 'text')
        .addColumn('source', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_org').on('audit').columns(['org_id', 'id']).execute();
      await db.insertInto('clock').values({ name: 'date_added', last: 0 }).execute();
      await sql`select 1`.execute(db);
    },
  },
  {
    id: '0002-records',
    // Domain records (incidents, assistance requests, offers, decisions, assessments...): a JSON
    // document with the release-policy columns, optimistic revision, and append-only events.
    async up(db, d) {
      const big = d.bigint;
      await db.schema
        .createTable('records')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text')
        .addColumn('creator_org', 'text', (c) => c.notNull())
        .addColumn('tlp', 'text')
        .addColumn('origin_node', 'text')
        .addColumn('exercise_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .addColumn('updated_us', big, (c) => c.notNull())
        .addColumn('rev', 'integer', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('records_kind').on('records').columns(['kind', 'updated_us']).execute();
      await db.schema.createIndex('records_parent').on('records').columns(['parent_id', 'kind']).execute();
      await db.schema
        .createTable('record_recipients')
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('record_recipients_pk', ['record_id', 'principal'])
        .execute();
      await db.schema
        .createTable('record_events')
        .addColumn('seq', d.serial, (c) => d.serialModifier(c))
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('at_us', big, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text')
        .addColumn('user_id', 'text')
        .addColumn('json', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('record_events_record').on('record_events').columns(['record_id', 'seq']).execute();
    },
  },
  {
    id: '0003-relationship-refs',
    // source_ref / target_ref of relationships (immutable in STIX: a changed end is a new
    // relationship), indexed so an object's relationships are found without a scan.
    async up(db) {
      await db.schema.alterTable('objects').addColumn('source_ref', 'text').execute();
      await db.schema.alterTable('objects').addColumn('target_ref', 'text').execute();
      await db.schema.createIndex('objects_source_ref').on('objects').column('source_ref').execute();
      await db.schema.createIndex('objects_target_ref').on('objects').column('target_ref').execute();
    },
  },
  {
    id: '0004-leaner-object-indexes',
    // Fewer B-trees to update per stored version (docs/benchmarks.md: index maintenance is most
    // of the insert cost). `objects_id (id, version)` serves no query: every object query also
    // constrains collection_id, which the unique (collection_id, id, version) index serves.
    // The relationship-end indexes only ever look up non-null ends (`source_ref = ?`), which a
    // partial index answers in both dialects; rows of other types (nearly all) leave them alone.
    async up(db) {
      await db.schema.dropIndex('objects_id').execute();
      await db.schema.dropIndex('objects_source_ref').execute();
      await db.schema.dropIndex('objects_target_ref').execute();
      await db.schema.createIndex('objects_source_ref').on('objects').column('source_ref').where(sql.ref('source_ref'), 'is not', null).execute();
      await db.schema.createIndex('objects_target_ref').on('objects').column('target_ref').where(sql.ref('target_ref'), 'is not', null).execute();
    },
  },
  {
    id: '0005-detection',
    // Telemetry spool (an acknowledged event is committed here before the sensor gets its answer;
    // the detection worker consumes it by seq with its cursor in `meta`), event/alert rates per
    // sensor and time bucket (operational picture), and the queryable facts of each alert record.
    async up(db, d) {
      const big = d.bigint;
      await db.schema
        .createTable('ingest_events')
        .addColumn('seq', d.serial, (c) => d.serialModifier(c))
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('received_us', big, (c) => c.notNull())
        .addColumn('exercise_id', 'text')
        .addColumn('event', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('telemetry_rates')
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('bucket_us', big, (c) => c.notNull())
        .addColumn('exercise_id', 'text', (c) => c.notNull())
        .addColumn('events', big, (c) => c.notNull())
        .addColumn('alerts', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('telemetry_rates_pk', ['bucket_us', 'org_id', 'sensor_id', 'exercise_id'])
        .execute();
      await db.schema
        .createTable('alert_facts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('group_key', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('techniques', 'text', (c) => c.notNull())
        .addColumn('count', big, (c) => c.notNull())
        .addColumn('first_us', big, (c) => c.notNull())
        .addColumn('last_us', big, (c) => c.notNull())
        .addColumn('exercise_id', 'text')
        .execute();
      await db.schema.createIndex('alert_facts_last').on('alert_facts').columns(['last_us']).execute();
      await db.schema.createIndex('alert_facts_group').on('alert_facts').columns(['group_key', 'last_us']).execute();
    },
  },
  // correlation & warninglists ----
  {
    id: '0006-correlation',
    // Observable values of the latest version of each object (one row per object and value, so
    // the table grows with the intel, never with the square of it: links are joined at read
    // time under the release policy), values over the per-value cap, admin exclusions, and
    // warninglists of known-benign values. Values are bounded (1,024 characters) by the indexer.
    async up(db, d) {
      const big = d.bigint;
      await db.schema
        .createTable('observable_values')
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('collection_id', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('ip_key', 'text')
        .addColumn('ip_prefix', 'integer')
        .addColumn('creator_org', 'text')
        .addColumn('date_added', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('observable_values_pk', ['collection_id', 'object_id', 'kind', 'value'])
        .execute();
      await db.schema.createIndex('observable_values_value').on('observable_values').columns(['kind', 'value']).execute();
      await db.schema.createIndex('observable_values_ip').on('observable_values').columns(['ip_key', 'ip_prefix']).where(sql.ref('ip_key'), 'is not', null).execute();
      await db.schema
        .createTable('correlation_frequent')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('since_us', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('correlation_frequent_pk', ['kind', 'value'])
        .execute();
      await db.schema
        .createTable('correlation_exclusions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('kind', 'text')
        .addColumn('pattern', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema
        .createTable('warninglists')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', big, (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('matching_attributes', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('builtin', 'integer', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .addColumn('updated_us', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('warninglist_entries')
        .addColumn('list_id', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('warninglist_entries_pk', ['list_id', 'value'])
        .execute();
    },
  },
  // ---- end correlation & warninglists
  {
    id: '0007-spool-raw-lines',
    // The spool keeps each event as the sensor sent it (half the bytes of the normalised form:
    // the spool write bounds ingestion on SQLite) with the format it was recognised as; the
    // worker normalises it again, knowing the format.
    async up(db) {
      await db.schema.alterTable('ingest_events').addColumn('format', 'text').execute();
    },
  },
  {
    id: '0008-dead-letters',
    // Telemetry events quarantined by the worker supervisor (DESIGN §2.7: a runaway job is killed
    // and its input quarantined, never retried forever). The row is a copy of the spool row, so it
    // survives spool pruning, with why it was quarantined and the rule it hung on.
    async up(db, d) {
      const big = d.bigint;
      await db.schema
        .createTable('dead_letters')
        .addColumn('seq', big, (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('received_us', big, (c) => c.notNull())
        .addColumn('exercise_id', 'text')
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('format', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('rule_ref', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_us', big, (c) => c.notNull())
        .execute();
    },
  },
  {
    id: '0009-unversioned-per-organisation',
    // Unversioned objects (SCOs) are held per submitting organisation (issue #11 item 3, docs/
    // stix-versioning.md "Unversioned objects"): their version key names the organisation. Rows
    // stored before carry the bare constant key; one row per (collection, id) had it, so the
    // rewrite cannot collide. (A tombstone of an SCO deleted before keeps the bare key: it no
    // longer binds that content, which for an SCO carries no version to protect.)
    async up(db) {
      await sql`update objects set version = version || ' ' || coalesce(creator_org, '') where version = '1970-01-01T00:00:00.000000Z'`.execute(db);
    },
  },
  {
    id: '0010-ingest-chunks',
    // The spool keeps one row per ingest request instead of one per line, its body compressed
    // (store/spool-codec.ts): the per-row cost and the bytes written bounded ingestion on both
    // sides of the spool (issue #8). An event's seq becomes chunk seq × LINE_SLOTS + line. Rows
    // spooled before become chunks of one line under their own seq, so the detection cursor and
    // the dead letters move to seq × LINE_SLOTS; new chunks are numbered after every seq the old
    // spool ever gave.
    async up(db, d) {
      const big = d.bigint;
      await db.schema
        .createTable('ingest_chunks')
        .addColumn('seq', d.serial, (c) => d.serialModifier(c))
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('received_us', big, (c) => c.notNull())
        .addColumn('exercise_id', 'text')
        .addColumn('lines', 'integer', (c) => c.notNull())
        .addColumn('formats', 'text', (c) => c.notNull())
        .addColumn('body', d.blob, (c) => c.notNull())
        .execute();
      type Old = { seq: number | string; org_id: string; sensor_id: string; received_us: number | string; exercise_id: string | null; event: string; format: string | null };
      for (let after = -1; ;) {
        const rows = (await sql<Old>`select seq, org_id, sensor_id, received_us, exercise_id, event, format from ingest_events where seq > ${after} order by seq limit 1000`.execute(db)).rows;
        if (rows.length === 0) break;
        for (const r of rows) {
          const packed = packSpool(spoolLinesOf([{ format: r.format, event: r.event }]));
          await db.insertInto('ingest_chunks').values({
            seq: Number(r.seq), org_id: r.org_id, sensor_id: r.sensor_id, received_us: Number(r.received_us), exercise_id: r.exercise_id, ...packed,
          }).execute();
        }
        after = Number(rows[rows.length - 1]!.seq);
      }
      // The next seq the old spool would have given (AUTOINCREMENT / its sequence): above every seq ever used.
      const probe = await sql<{ seq: number | string }>`insert into ingest_events (org_id, sensor_id, received_us, event) values ('', '', 0, '') returning seq`.execute(db);
      await d.advanceSerial(db, 'ingest_chunks', Number(probe.rows[0]!.seq));
      await sql`drop table ingest_events`.execute(db);
      const cursor = await db.selectFrom('meta').select('value').where('key', '=', 'detect.cursor').executeTakeFirst();
      if (cursor) await db.updateTable('meta').set({ value: String(Number(cursor.value) * LINE_SLOTS) }).where('key', '=', 'detect.cursor').execute();
      const dead = await db.selectFrom('dead_letters').selectAll().execute();
      if (dead.length > 0) {
        await db.deleteFrom('dead_letters').execute();
        for (const r of dead) await db.insertInto('dead_letters').values({ ...r, seq: Number(r.seq) * LINE_SLOTS }).execute();
      }
    },
  },
  {
    id: '0011-observable-values-by-seq',
    // The correlation index is keyed by the indexed object version's seq, which grows with every
    // store: its rows are appended at the end of that key instead of all over a (collection,
    // object id) key. Each index commit writes every page it touched, so the random key cost
    // about as many page writes as rows: indexing cost more than storing the object (issue #8,
    // docs/benchmarks.md sixth session). The rows of an object are found through its versions'
    // seqs. Same rows, same columns; the table is rebuilt because SQLite cannot drop a primary key.
    async up(db, d) {
      const big = d.bigint;
      await sql`alter table observable_values rename to observable_values_old`.execute(db);
      await db.schema
        .createTable('observable_values')
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('collection_id', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('ip_key', 'text')
        .addColumn('ip_prefix', 'integer')
        .addColumn('creator_org', 'text')
        .addColumn('date_added', big, (c) => c.notNull())
        .execute();
      await sql`insert into observable_values (seq, collection_id, object_id, version, kind, value, ip_key, ip_prefix, creator_org, date_added)
        select seq, collection_id, object_id, version, kind, value, ip_key, ip_prefix, creator_org, date_added from observable_values_old order by seq`.execute(db);
      // Its indexes go with it, freeing their names.
      await sql`drop table observable_values_old`.execute(db);
      await db.schema.createIndex('observable_values_row').on('observable_values').columns(['seq', 'kind', 'value']).unique().execute();
      await db.schema.createIndex('observable_values_value').on('observable_values').columns(['kind', 'value']).execute();
      await db.schema.createIndex('observable_values_ip').on('observable_values').columns(['ip_key', 'ip_prefix']).where(sql.ref('ip_key'), 'is not', null).execute();
    },
  },
  {
    id: '0012-object-provenance',
    // The signed provenance of a federated version is written with its row instead of as a meta
    // row keyed by (id, version): the meta key is random, so each pulled version dirtied one more
    // index page per commit, which doubled the cost of storing a pulled page (docs/benchmarks.md,
    // ninth session). Adding a nullable column rewrites nothing; provenance stored before stays
    // in meta, where the envelope code still finds it.
    async up(db) {
      await db.schema.alterTable('objects').addColumn('provenance', 'text').execute();
    },
  },
  {
    id: '0013-observable-heads',
    // Which version's seq keys the correlation rows of an object indexed while it had more than
    // one version stored. Without it the indexer read every stored version of such an object each
    // time it met one of them: an object with V versions cost O(V) per version, O(V²) in all (a
    // bundle of 64,000 versions of one indicator held the API's loop for minutes; a sighting gets
    // a version a minute for as long as it is seen). One row per multi-version object, written only
    // when one is indexed: a bulk load of new objects writes none. Empty at first: an object with
    // no row has its versions read once, then gets one.
    async up(db, d) {
      await db.schema
        .createTable('observable_heads')
        .addColumn('collection_id', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('seq', d.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('observable_heads_pk', ['collection_id', 'object_id'])
        .execute();
    },
  },
  {
    id: '0014-objects-revoked',
    // The revoked versions of an object found by a probe (Store.objectHeads) instead of by
    // reading every version of it. Partial: only revoked rows are in it, so storing the others
    // costs it nothing.
    async up(db) {
      await db.schema.createIndex('objects_revoked').on('objects').columns(['collection_id', 'id', 'version']).where(sql.ref('revoked'), '=', 1).execute();
    },
  },
  {
    id: '0015-organisations-relayed',
    // A remote organisation reached through its peer (a hub) but living on another node: the
    // peer relays for it, so it is served AMBER there, never AMBER+STRICT or RED, which no node
    // relays (docs/federation.md "What travels"). Organisations registered before count as
    // living on their peer, as they did.
    async up(db) {
      await db.schema.alterTable('organisations').addColumn('relayed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
];

/** Applies pending migrations; returns the ids applied in this call. */
export async function migrate(db: Kysely<DB>, d: Dialect): Promise<string[]> {
  await db.schema
    .createTable('meta')
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    const key = `migration:${m.id}`;
    const done = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    if (done) continue;
    await db.transaction().execute(async (trx) => {
      await m.up(trx, d);
      await trx.insertInto('meta').values({ key, value: new Date().toISOString() }).execute();
    });
    applied.push(m.id);
  }
  return applied;
}
