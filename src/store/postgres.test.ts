/**
 * A PostgreSQL node survives its server ending idle connections (a restart, an administrator
 * terminating backends, a failover): the pool's error event is handled, the next query opens
 * a new connection. Unhandled, that event ended the whole process.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgresStore } from './index.js';
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
