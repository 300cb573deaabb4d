/**
 * PostgreSQL for larger nodes (SHIELDWALL_DATABASE_URL). Several API processes may share it.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { AppError } from '../core/errors.js';
import type { Dialect } from './dialect.js';
import type { DB } from './schema.js';

// int8 → number: every bigint we store (µs timestamps, sequence numbers) is below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * PostgreSQL text cannot hold U+0000 (SQLite's can): a parameter with one would fail its whole
 * statement with a server error. Such a value (a NUL inside a STIX name, a search, a title) is
 * refused as bad input instead, before it is sent. Stored JSON is unaffected: JSON.stringify
 * writes the character as the escape `\u0000`.
 */
function refuseNul(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...a: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const values = Array.isArray(args[1]) ? args[1] : (args[0] as { values?: unknown[] } | null)?.values;
    if (values?.some((v) => typeof v === 'string' && v.includes('\u0000'))) {
      const e = new AppError('BAD_REQUEST', 'a text value holds the NUL character (U+0000), which this node\'s PostgreSQL store cannot keep');
      const cb = args.find((a) => typeof a === 'function') as ((err: Error) => void) | undefined;
      if (cb) return void cb(e);
      return Promise.reject(e);
    }
    return query(...args);
  };
}

export function postgresDialect(url: string): Dialect {
  return {
    capabilities: { dialect: 'postgres', multiProcess: true },
    bigint: 'bigint',
    serial: 'bigserial',
    serialModifier: (c) => c.primaryKey(),
    blob: 'bytea',
    greatest: 'greatest',
    position: 'strpos',
    // bytea, which node-postgres returns as a Buffer.
    textBytes: (c) => `convert_to(${c}, 'UTF8')`,
    insertBatch: 1000,
    // SET LOCAL: this transaction only. A crash may lose its commit, never half of it.
    relaxedCommit: { inside: 'set local synchronous_commit to off' },
    placeholder: (i) => `$${i + 1}`,
    open() {
      // JIT compilation off for this node's connections: its statements are short index probes,
      // and on a table whose statistics are not gathered yet the planner's estimates (a VALUES
      // list of keys × a default 410 collections) cross jit_above_cost, so that each key lookup
      // spent ~65 ms compiling for 3 ms of work (docs/benchmarks.md, sixteenth session).
      const pool = new pg.Pool({ connectionString: url, max: 10, options: '-c jit=off' });
      pool.on('connect', (client) => {
        refuseNul(client);
        // A connection the server ends while it is checked out but between two statements (a
        // transaction doing its own work) emits `error` on the client, and the pool listens to
        // its clients only while they are idle: unhandled, that event ended the process on a
        // PostgreSQL restart. The transaction's next statement fails on its own, and the pool
        // drops the broken client when it is released.
        client.on('error', () => undefined);
      });
      // An idle connection that the server ends (a restart, an administrator terminating
      // backends, a failover) is reported on the pool; unhandled, that event would end the
      // process. The pool has already dropped that connection and opens a new one when asked;
      // a query in progress fails on its own connection and reports there.
      pool.on('error', () => undefined);
      return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    },
    async advanceSerial(db, table, value) {
      if (value >= 1) await sql`select setval(pg_get_serial_sequence(${table}, 'seq'), ${value})`.execute(db);
    },
    async withMigrationLock(db, fn) {
      // A session-level advisory lock on a fixed key: a second process waits for the first.
      return db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(727101)`.execute(conn);
        try {
          return await fn();
        } finally {
          await sql`select pg_advisory_unlock(727101)`.execute(conn);
        }
      });
    },
  };
}
