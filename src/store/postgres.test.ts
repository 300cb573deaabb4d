/**
 * A PostgreSQL node survives its server ending idle connections (a restart, an administrator
 * terminating backends, a failover): the pool's error event is handled, the next query opens
 * a new connection. Unhandled, that event ended the whole process.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgresStore } from './index.js';
import { spoolLinesOf } from './spool-codec.js';
import { heldTransaction } from '../../test/helpers/held-transaction.js';
import { freshPostgresDb, PG_ADMIN_URL, pgAvailable } from '../../test/helpers/pg.js';

describe.runIf(await pgAvailable())('PostgreSQL store', () => {
  it('answers again after the server terminated its idle connections', async () => {
    const db = await freshPostgresDb();
    const store = await openPostgresStore(db.url);
    try {
      await store.setMeta('k', 'v');
      expect(await store.getMeta('k')).toBe('v');
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const name = new URL(db.url).pathname.slice(1);
      const killed = await admin.query('select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
      await admin.end();
      expect(killed.rowCount).toBeGreaterThan(0);
      // Let the termination reach the idle clients (their error event fires now).
      await new Promise((r) => setTimeout(r, 200));
      expect(await store.getMeta('k')).toBe('v');
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

describe.runIf(await pgAvailable())('PostgreSQL store, a connection ended while a transaction holds it', () => {
  it('fails that transaction, never the process (a checked-out client has no pool listener)', async () => {
    const db = await freshPostgresDb();
    const store = await openPostgresStore(db.url);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await store.setMeta('k', 'v');
      const name = new URL(db.url).pathname.slice(1);
      const failed = await store.transaction(async (tx) => {
        await tx.getMeta('k');
        // The connection is checked out and idle between two statements (the transaction's
        // own work in JS) when the server ends it, as a restart or a failover does.
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
        await admin.end();
        await new Promise((r) => setTimeout(r, 300));
        await tx.setMeta('k', 'w');
      }).then(() => null, (e: unknown) => e);
      expect(failed).not.toBeNull();
      expect(uncaught).toEqual([]);
      expect(await store.getMeta('k')).toBe('v');
    } finally {
      process.off('uncaughtException', onUncaught);
      await store.close();
      await db.drop();
    }
  });
});

describe.runIf(await pgAvailable())('PostgreSQL statistics follow the node\'s writes', () => {
  it('a table that grew past the threshold is analysed after the commit; its plans use the indexes', async () => {
    const db = await freshPostgresDb();
    const store = await openPostgresStore(db.url);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await store.transaction(async (tx) => {
        await tx.putObjects(Array.from({ length: 6000 }, (_, i) => ({
          collectionId: 'c1', id: `indicator--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, type: 'indicator', specVersion: '2.1',
          version: '20260101000000000000', created: null, modified: null, creatorOrg: null, tlp: 'green', recipients: [], originNode: null, revoked: false,
          name: null, labels: [], searchText: '', json: '{}', sourceRef: null, targetRef: null,
        })), 1_000_000);
      });
      // The analysis runs in the background after the commit; the store's close waits for it.
      let analysed = 0;
      for (let i = 0; i < 100 && analysed === 0; i++) {
        analysed = Number((await c.query('select analyze_count + autoanalyze_count as n from pg_stat_user_tables where relname = $1', ['objects'])).rows[0]?.n ?? 0);
        if (analysed === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(analysed).toBeGreaterThan(0);
      expect(Number((await c.query('select reltuples as n from pg_class where relname = $1', ['objects'])).rows[0]?.n)).toBeGreaterThan(5000);
      // Every row was added at 1,000,000: the query reads all 6,000 of them, so an ordered index scan
      // that stops after 100 rows is the only sensible plan. (A range that matches no row let the
      // planner pick a bitmap scan and a sort of its estimated ten rows: a valid plan, a flaky test.)
      const plan = (await c.query("explain select seq from objects where type = 'indicator' and date_added >= 1000000 order by date_added limit 100")).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan/);
      expect(plan).not.toMatch(/Sort|Seq Scan/);
    } finally {
      await c.end();
      await store.close();
      await db.drop();
    }
  });
});

describe.runIf(await pgAvailable())('PostgreSQL store, the SQL spool under concurrent appends', () => {
  it('a chunk is never visible before one appended earlier that has not committed yet (the reader would pass its seq for good)', async () => {
    const db = await freshPostgresDb();
    const store = await openPostgresStore(db.url);
    const chunk = (event: string) => ({ orgId: 'o', sensorId: 's', receivedUs: 1, exerciseId: null, ...spoolLinesOf([{ event, format: 'ecs' }]) });
    let first: ReturnType<typeof heldTransaction<{ firstSeq: number; lastSeq: number } | null>> | null = null;
    try {
      // Two ingest requests on two connections (two API processes, or one process's pool): the
      // first takes its seq and is still writing its audit row when the second commits.
      first = heldTransaction(store, (tx) => tx.appendIngest(chunk('first')));
      await first.inside;
      const second = store.transaction((tx) => tx.appendIngest(chunk('second')));
      await new Promise((r) => setTimeout(r, 300));
      // A detection worker reading now moves its cursor past what it sees.
      const seen = await store.readIngest(0, 100);
      expect(seen.map((r) => r.event)).toEqual([]);
      first.release();
      const [a, b] = await Promise.all([first.done, second]);
      expect(a!.firstSeq).toBeLessThan(b!.firstSeq);
      expect((await store.readIngest(0, 100)).map((r) => r.event)).toEqual(['first', 'second']);
    } finally {
      first?.release();
      await store.close();
      await db.drop();
    }
  });
});
