/**
 * The embedded default: one SQLite file under the data directory, WAL journal, and
 * synchronous=FULL so that an acknowledged commit survives a crash of the process or machine
 * (DESIGN §2.2 "durable before acknowledged").
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, sql, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase } from 'kysely';
import type { Dialect } from './dialect.js';
import type { DB } from './schema.js';

export function sqliteDialect(file: string): Dialect {
  return {
    capabilities: { dialect: 'sqlite', multiProcess: true },
    bigint: 'integer',
    serial: 'integer',
    serialModifier: (c) => c.primaryKey().autoIncrement(),
    blob: 'blob',
    greatest: 'max',
    position: 'instr',
    // A TEXT value cast to BLOB is its stored UTF-8 bytes; better-sqlite3 returns it as a Buffer.
    textBytes: (c) => `cast(${c} as blob)`,
    // 18 columns × 1,000 rows = 18,000 parameters, under SQLite's 32,766: a TAXII envelope or
    // an import chunk of 1,000 is one statement.
    insertBatch: 1000,
    // In WAL mode a NORMAL commit writes the WAL without fsync; the next FULL commit's fsync
    // covers it. A machine crash may roll back to before it, whole (never part of it). FULL is
    // restored before the connection serves anything else.
    relaxedCommit: { before: 'pragma synchronous = normal', after: 'pragma synchronous = full' },
    placeholder: () => '?',
    open() {
      if (file !== ':memory:') {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        // Created owner-only before SQLite opens it; SQLite gives -wal and -shm the database
        // file's mode. An older database created 0644 is tightened here (docs/security.md).
        fs.closeSync(fs.openSync(file, 'a', 0o600));
      }
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      if (file !== ':memory:') for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 10000');
      db.pragma('cache_size = -65536');
      // Checkpoint every ~80 MB of WAL instead of 4 MB. An import batch dirties pages all over
      // the (collection_id, id, version) index; checkpointing less often writes each such page
      // to the database file once for many commits (−15 % wall, −7 % CPU on a 100,000-object
      // import). Durability is unchanged: every commit still fsyncs the WAL (synchronous=FULL).
      db.pragma('wal_autocheckpoint = 20000');
      // Integers above 2^53 never occur (µs timestamps are ~2^51), so plain numbers are exact.
      return new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(db) }) });
    },
    withMigrationLock: (_db, fn) => fn(),
    async advanceSerial(db, table, value) {
      // AUTOINCREMENT keeps the largest key ever given here.
      await sql`delete from sqlite_sequence where name = ${table}`.execute(db);
      await sql`insert into sqlite_sequence (name, seq) values (${table}, ${value})`.execute(db);
    },
  };
}

/**
 * The data directory holds the database and credentials: owner-only (0700), created so or
 * tightened when it already exists with a wider mode.
 */
export function privateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(dir).mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

/**
 * Transactions begin IMMEDIATE: the write lock is taken (waiting up to busy_timeout) when the
 * transaction starts. With the detection worker in its own process, a DEFERRED transaction
 * that reads and then writes would fail at once with SQLITE_BUSY_SNAPSHOT whenever the other
 * process committed in between (https://www.sqlite.org/lang_transaction.html, "BEGIN IMMEDIATE";
 * the busy handler is not called for a stale snapshot). Every transaction of the Store writes.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/**
 * Kysely's SQLite driver prepares every query it runs; compiling a 400-row INSERT is a few
 * percent of an import. Reusing prepared statements by SQL text avoids it (a bounded LRU).
 * Safe because the driver runs one statement at a time on its single connection, and SQLite
 * re-prepares a cached statement itself after a schema change.
 */
function withStatementCache(db: Database.Database, max = 100): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (stmt) cache.delete(sqlText);
      else {
        stmt = db.prepare(sqlText);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}
