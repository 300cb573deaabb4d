/**
 * The errors of a concurrent writer, produced for real by each database, are told apart from bugs:
 * a duplicate key is a 409, a lost lock conflict a 503 to retry; anything else stays unmapped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { freshPostgresDb, pgAvailable } from '../../test/helpers/pg.js';
import { storeContention } from './contention.js';

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

function expectMapped(e: unknown, http: number): void {
  const a = storeContention(e);
  expect(a, String(e)).toBeInstanceOf(AppError);
  expect(a!.http).toBe(http);
  expect(a!.headers).toEqual(http === 503 ? { 'Retry-After': '1' } : undefined);
  // Wrapped (a transaction helper rethrowing with a cause) alike.
  expect(storeContention(new Error('wrapped', { cause: e }))?.http).toBe(http);
}

describe('storeContention on SQLite', () => {
  it('maps a duplicate key to 409 and a database locked by another connection to 503', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-contention-'));
    const a = new Database(path.join(dir, 'db'));
    const b = new Database(path.join(dir, 'db'), { timeout: 0 });
    try {
      a.exec(`create table t (k text primary key, u text unique, n text not null default 'n')`);
      a.prepare('insert into t (k, u) values (?, ?)').run('1', 'x');
      expectMapped(await caught(() => a.prepare('insert into t (k, u) values (?, ?)').run('1', 'y')), 409);
      expectMapped(await caught(() => a.prepare('insert into t (k, u) values (?, ?)').run('2', 'x')), 409);
      a.exec('begin immediate');
      expectMapped(await caught(() => b.exec('begin immediate')), 503);
      a.exec('rollback');
      // Other constraints and mistakes stay bugs.
      expect(storeContention(await caught(() => a.exec('insert into nope values (1)')))).toBeNull();
      expect(storeContention(await caught(() => a.prepare('insert into t (k, n) values (?, null)').run('3')))).toBeNull();
    } finally {
      a.close();
      b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(await pgAvailable())('storeContention on PostgreSQL', () => {
  it('maps a duplicate key to 409 and a deadlock or a lock not granted to 503', async () => {
    const db = await freshPostgresDb();
    const a = new pg.Client({ connectionString: db.url });
    const b = new pg.Client({ connectionString: db.url });
    await a.connect();
    await b.connect();
    try {
      await a.query('create table t (k text primary key, v int)');
      await a.query(`insert into t values ('1', 0), ('2', 0)`);
      expectMapped(await caught(() => a.query(`insert into t values ('1', 1)`)), 409);
      // A lock asked for without waiting.
      await a.query('begin');
      await a.query(`update t set v = 1 where k = '1'`);
      expectMapped(await caught(() => b.query(`select * from t where k = '1' for update nowait`)), 503);
      // A deadlock: each holds the row the other wants.
      await b.query('begin');
      await b.query(`update t set v = 2 where k = '2'`);
      const first = a.query(`update t set v = 1 where k = '2'`).then(() => null, (e: unknown) => e);
      const second = b.query(`update t set v = 2 where k = '1'`).then(() => null, (e: unknown) => e);
      const deadlock = (await first) ?? (await second);
      expect((deadlock as { code?: string }).code).toBe('40P01');
      expectMapped(deadlock, 503);
      expect(storeContention(await caught(() => b.query('select * from nope')))).toBeNull();
    } finally {
      await a.end();
      await b.end();
      await db.drop();
    }
  });
});
