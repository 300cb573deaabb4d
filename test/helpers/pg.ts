/**
 * Fresh PostgreSQL databases for tests: one database per call, dropped by the returned
 * cleanup. Uses SHIELDWALL_TEST_PG (default postgres://postgres@127.0.0.1:5432/test).
 */
import pg from 'pg';
import crypto from 'node:crypto';

export const PG_ADMIN_URL = process.env.SHIELDWALL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function freshPostgresDb(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sw_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
