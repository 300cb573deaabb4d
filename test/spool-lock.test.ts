/**
 * A detection worker opens its event source while the API process may hold SQLite's write lock
 * for a long import (back-to-back transactions can starve another process's writer past
 * busy_timeout). Opening must then not need the lock: initMeta of an existing key only reads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/index.js';
import { SpoolSource, SPOOL_CURSOR_KEY } from '../src/detect/pipeline/source.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('SQLite write lock held by another process', () => {
  it('opens the spool source without waiting for the lock when its cursor exists', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-lock-'));
    dirs.push(dir);
    const file = path.join(dir, 'store.db');
    const store = await openSqliteStore(file);
    try {
      expect(await store.initMeta(SPOOL_CURSOR_KEY, '0')).toBe('0');
      await store.setMeta(SPOOL_CURSOR_KEY, '42');
      const other = new Database(file);
      other.pragma('busy_timeout = 0');
      other.exec('begin immediate');
      try {
        const t0 = performance.now();
        const source = await SpoolSource.open(store);
        expect(source.position).toBe(42);
        expect(await store.initMeta(SPOOL_CURSOR_KEY, '0')).toBe('42');
        expect(performance.now() - t0).toBeLessThan(2_000);
      } finally {
        if (other.inTransaction) other.exec('rollback');
        other.close();
      }
    } finally {
      await store.close();
    }
  });
});
