/**
 * The store dialects every store suite runs on (STYLE habit 4): SQLite always; PostgreSQL when
 * SHIELDWALL_TEST_PG answers — and CI insists that it does.
 */
import { openPostgresStore, openSqliteStore, type Store } from '../../src/store/index.js';
import { freshPostgresDb, pgAvailable } from './pg.js';

export interface DialectFactory {
  name: string;
  /** A fresh store; `database` names its PostgreSQL database (for a test that watches its sessions). */
  open: () => Promise<{ store: Store; cleanup: () => Promise<void>; database?: string }>;
}

export async function storeDialects(): Promise<DialectFactory[]> {
  const factories: DialectFactory[] = [
    { name: 'sqlite', open: async () => { const store = await openSqliteStore(':memory:'); return { store, cleanup: () => store.close() }; } },
  ];
  if (await pgAvailable()) {
    factories.push({
      name: 'postgres',
      open: async () => {
        const db = await freshPostgresDb();
        const store = await openPostgresStore(db.url);
        return { store, cleanup: async () => { await store.close(); await db.drop(); }, database: new URL(db.url).pathname.slice(1) };
      },
    });
  } else if (process.env.CI) {
    throw new Error('CI requires PostgreSQL at SHIELDWALL_TEST_PG for the store tests');
  }
  return factories;
}
