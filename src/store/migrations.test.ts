/**
 * Migration 0010 (below): the spool's per-line rows become one-line chunks. Migration 0011:
 * the correlation index keyed by the indexed version's seq.
 *
 * Migration 0009: SCO rows stored before unversioned objects were held per organisation carry
 * the bare constant version key; the migration appends their creator, so the submitting
 * organisation's later re-post is a duplicate of its own copy (docs/stix-versioning.md).
 */
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';
import { KyselyStore } from './kysely-store.js';
import { sqliteDialect } from './sqlite.js';
import { postgresDialect } from './postgres.js';
import type { Dialect } from './dialect.js';
import { LINE_SLOTS, spoolLinesOf } from './spool-codec.js';
import { freshPostgresDb, pgAvailable } from '../../test/helpers/pg.js';

const BARE = '1970-01-01T00:00:00.000000Z';
const ORG = 'identity--aaaaaaaa-0000-4000-8000-000000000001';

describe('migration 0009-unversioned-per-organisation', () => {
  it('rekeys stored unversioned rows by their creator and leaves versioned rows alone', async () => {
    const d = sqliteDialect(':memory:');
    const db = d.open();
    const i = MIGRATIONS.findIndex((m) => m.id === '0009-unversioned-per-organisation');
    expect(i).toBeGreaterThan(0);
    for (const m of MIGRATIONS.slice(0, i)) await m.up(db, d);
    const row = (id: string, version: string) => ({
      collection_id: 'c1', id, type: id.split('--')[0]!, spec_version: '2.1', version, created: null, modified: null, date_added: 1, creator_org: ORG,
      tlp: 'red', origin_node: null, revoked: 0, name: null, labels: '[]', search_text: '', json: '{}',
    });
    await db.insertInto('objects').values([row('ipv4-addr--1', BARE), row('indicator--2', '2026-01-01T00:00:00.000000Z')]).execute();
    await MIGRATIONS[i]!.up(db, d);
    const got = await db.selectFrom('objects').select(['id', 'version']).orderBy('id').execute();
    expect(got).toEqual([{ id: 'indicator--2', version: '2026-01-01T00:00:00.000000Z' }, { id: 'ipv4-addr--1', version: `${BARE} ${ORG}` }]);
    await db.destroy();
  });
});

const dialects: { name: string; open: () => Promise<{ d: Dialect; done: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-mig-'));
      return { d: sqliteDialect(path.join(dir, 'store.db')), done: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
  ...((await pgAvailable()) ? [{
    name: 'postgres',
    open: async () => {
      const { url, drop } = await freshPostgresDb();
      return { d: postgresDialect(url), done: drop };
    },
  }] : []),
];

/** Applies, and records as applied, every migration before `id` (which must exist). */
async function migrateUpTo(db: Kysely<DB>, d: Dialect, id: string): Promise<void> {
  await db.schema.createTable('meta').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
  const i = MIGRATIONS.findIndex((m) => m.id === id);
  expect(i).toBeGreaterThan(0);
  for (const m of MIGRATIONS.slice(0, i)) {
    await m.up(db, d);
    await db.insertInto('meta').values({ key: `migration:${m.id}`, value: 'test' }).execute();
  }
}

/**
 * Fills a database migrated up to (not including) `id` with `seed`, then opens the store on it
 * (which applies `id` and what follows) and runs `check`.
 */
async function afterMigration(dialect: (typeof dialects)[number], id: string, seed: (db: Kysely<DB>) => Promise<void>, check: (store: KyselyStore) => Promise<void>): Promise<void> {
  const { d, done } = await dialect.open();
  const db = d.open();
  let store: KyselyStore | null = null;
  try {
    await migrateUpTo(db, d, id);
    await seed(db);
    await db.destroy();
    store = await KyselyStore.open(d);
    await check(store);
  } finally {
    await store?.close();
    await db.destroy().catch(() => undefined);
    await done();
  }
}

describe.each(dialects)('migration 0010-ingest-chunks: $name', (dialect) => {
  it('moves spooled lines into one-line chunks under their seq, moves the cursor and dead letters with them, and numbers new chunks after every old seq', async () => {
    await afterMigration(dialect, '0010-ingest-chunks', async (db) => {
      const old = (n: number, format: string | null) => sql`insert into ingest_events (org_id, sensor_id, received_us, exercise_id, event, format) values (${ORG}, 's1', ${n}, null, ${`{"n":${n}}`}, ${format})`.execute(db);
      for (let n = 1; n <= 5; n++) await old(n, n === 5 ? null : 'ecs');
      // Seqs 1–2 consumed and pruned, and a later one given and pruned: new chunks go after all of them.
      await sql`insert into ingest_events (org_id, sensor_id, received_us, exercise_id, event, format) values (${ORG}, 's1', 9, null, 'x', 'ecs')`.execute(db);
      await sql`delete from ingest_events where seq in (1, 2, 6)`.execute(db);
      await db.insertInto('meta').values({ key: 'detect.cursor', value: '3' }).execute();
      await db.insertInto('dead_letters').values({ seq: 4, org_id: ORG, sensor_id: 's1', received_us: 4, exercise_id: null, event: '{"n":4}', format: 'ecs', reason: 'hung', rule_ref: null, attempts: 2, created_us: 7 }).execute();
    }, async (store) => {
      const cursor = Number((await store.getMeta('detect.cursor'))!);
      expect(cursor).toBe(3 * LINE_SLOTS);
      const left = await store.readIngest(cursor, 100);
      expect(left.map((r) => [r.seq, r.event, r.format])).toEqual([[4 * LINE_SLOTS, '{"n":4}', 'ecs'], [5 * LINE_SLOTS, '{"n":5}', null]]);
      expect(await store.countIngestAfter(cursor)).toBe(2);
      expect((await store.getDeadLetter(4 * LINE_SLOTS))?.event).toBe('{"n":4}');
      expect(await store.getDeadLetter(4)).toBeNull();
      const next = (await store.appendIngest({ orgId: ORG, sensorId: 's1', receivedUs: 10, exerciseId: null, ...spoolLinesOf([{ event: '{"n":10}', format: 'ecs' }]) }))!;
      expect(next.firstSeq).toBeGreaterThan(6 * LINE_SLOTS);
    });
  });
});

describe.each(dialects)('migration 0011-observable-values-by-seq: $name', (dialect) => {
  it('keeps every correlation row, keyed by seq, and the index still finds, replaces and caps them', async () => {
    const a = 'indicator--00000000-0000-4000-8000-00000000000a';
    const b = 'indicator--00000000-0000-4000-8000-00000000000b';
    await afterMigration(dialect, '0011-observable-values-by-seq', async (db) => {
      const ov = (seq: number, objectId: string, value: string) => ({
        seq, collection_id: 'c1', object_id: objectId, version: '2024-01-01T00:00:00.000000Z', kind: 'domain', value, ip_key: null, ip_prefix: null, creator_org: ORG, date_added: seq,
      });
      await db.insertInto('observable_values').values([ov(1, a, 'one.example'), ov(1, a, 'two.example'), ov(2, b, 'one.example')]).execute();
    }, async (store) => {
      expect((await store.observableStats()).rows).toBe(3);
      // The stored versions behind those rows: seq 1 (a) and 2 (b) in this fresh store.
      const row = (id: string, version: string) => ({
        collectionId: 'c1', id, type: 'indicator', specVersion: '2.1', version, created: version, modified: version, creatorOrg: ORG, tlp: 'green' as const,
        recipients: [], originNode: null, revoked: false, name: null, labels: [], searchText: '', json: JSON.stringify({ id, modified: version }),
      });
      await store.putObjects([row(a, '2024-01-01T00:00:00.000000Z'), row(b, '2024-01-01T00:00:00.000000Z')], 10);
      const links = async (value: string) => (await store.observableLinks({
        lookups: [{ kind: 'domain', value }], excludeObjectId: 'none', collectionIds: ['c1'], audience: { hop: 'local', orgId: ORG, groupIds: [] }, limit: 10,
      })).map((l) => `${l.objectId} ${l.version}`).sort();
      expect(await links('one.example')).toEqual([`${a} 2024-01-01T00:00:00.000000Z`, `${b} 2024-01-01T00:00:00.000000Z`]);
      // A new version of a replaces what its first version indexed; b keeps its row.
      await store.putObjects([row(a, '2024-02-01T00:00:00.000000Z')], 20);
      const v2 = { collectionId: 'c1', objectId: a, version: '2024-02-01T00:00:00.000000Z', values: [{ kind: 'domain' as const, value: 'nine.example', ipKey: null, ipPrefix: null }] };
      await store.indexObservables([v2], { cap: 100, nowUs: 1 });
      await store.indexObservables([v2], { cap: 100, nowUs: 2 }); // read again (a rolled-back cursor): nothing doubles
      expect(await links('one.example')).toEqual([`${b} 2024-01-01T00:00:00.000000Z`]);
      expect(await links('two.example')).toEqual([]);
      expect(await links('nine.example')).toEqual([`${a} 2024-02-01T00:00:00.000000Z`]);
      expect((await store.observableStats()).rows).toBe(2);
    });
  });
});

describe.each(dialects)('migration 0012-object-provenance: $name', (dialect) => {
  it('keeps the versions stored before it (without provenance, which can then be filled) and stores new ones with theirs', async () => {
    const id = 'indicator--00000000-0000-4000-8000-0000000000c1';
    await afterMigration(dialect, '0012-object-provenance', async (db) => {
      await db.insertInto('collections').values({ id: 'c1', api_root: 'api1', alias: null, title: 'c1', description: '', created_us: 1 }).execute();
      await sql`insert into objects (collection_id, id, type, spec_version, version, created, modified, date_added, creator_org, tlp, origin_node, revoked, name, labels, search_text, json)
        values ('c1', ${id}, 'indicator', '2.1', 'v1', null, null, 1, ${ORG}, 'green', 'dk', 0, null, '[]', '', '{}')`.execute(db);
    }, async (store) => {
      const audience = { hop: 'local' as const, orgId: ORG, groupIds: [] };
      const read = async () => (await store.queryObjects({ collectionIds: ['c1'], audience, purpose: 'read', version: { kind: 'all' }, limit: 10, lean: 'with-recipients' })).rows.map((r) => [r.version, r.provenance ?? null]);
      expect(await read()).toEqual([['v1', null]]);
      await store.fillProvenance('c1', [{ id, version: 'v1', provenance: '{"p":1}' }]);
      await store.putObjects([{
        collectionId: 'c1', id, type: 'indicator', specVersion: '2.1', version: 'v2', created: null, modified: null, creatorOrg: ORG, tlp: 'green',
        recipients: [], originNode: 'dk', revoked: false, name: null, labels: [], searchText: '', json: '{}', provenance: '{"p":2}',
      }], 10);
      expect(await read()).toEqual([['v1', '{"p":1}'], ['v2', '{"p":2}']]);
    });
  });
});
