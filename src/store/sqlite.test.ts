/**
 * The embedded store's durability setting: a relaxed transaction (TransactionOptions.durable
 * false) lowers `synchronous` for its own commit only (that it does is measured: the
 * federation bench, docs/benchmarks.md). Every later statement on the store's
 * connection, autocommit writes included, commits with synchronous=FULL again, after a commit
 * and after a rollback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { sqliteDialect } from './sqlite.js';
import { KyselyStore } from './kysely-store.js';
import type { DB } from './schema.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-sqlite-sync-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const FULL = 2;

describe('SQLite relaxed commits', () => {
  it('commit with synchronous=NORMAL and restore FULL after the commit or the rollback', async () => {
    const d = sqliteDialect(path.join(dir, 'sync.db'));
    let db: Kysely<DB> | null = null;
    // The store's own (single) connection, to read its setting.
    const store = await KyselyStore.open({ ...d, open: () => (db = d.open()) });
    const level = async () => Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(db!)).rows[0]!.synchronous);
    try {
      expect(await level()).toBe(FULL);
      await store.transaction(async (tx) => tx.setMeta('k', '1'), { durable: false });
      expect(await store.getMeta('k')).toBe('1');
      expect(await level()).toBe(FULL);
      await expect(store.transaction(async () => { throw new Error('boom'); }, { durable: false })).rejects.toThrow('boom');
      expect(await level()).toBe(FULL);
      await store.transaction(async (tx) => tx.setMeta('k', '2'));
      expect(await level()).toBe(FULL);
    } finally {
      await store.close();
    }
  });
});
