/**
 * What differs between SQLite and PostgreSQL, in one place. Nothing outside store/ may ask
 * which database it runs on; it reads StoreCapabilities instead.
 */
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DB } from './schema.js';
import type { StoreCapabilities } from './types.js';

export interface Dialect {
  readonly capabilities: StoreCapabilities;
  /** Column type for 64-bit integers. */
  readonly bigint: 'integer' | 'bigint';
  /** Column type for auto-increment keys. */
  readonly serial: 'integer' | 'bigserial';
  serialModifier(c: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Column type for bytes. */
  readonly blob: 'blob' | 'bytea';
  /** Name of the two-argument maximum function (SQLite `max`, PostgreSQL `greatest`). */
  readonly greatest: 'max' | 'greatest';
  /**
   * Name of the function giving the 1-based position of a substring in a text, 0 when absent
   * (SQLite `instr`, PostgreSQL `strpos`): a literal, case-sensitive substring test alike on both.
   * LIKE is not: `%` and `_` are wildcards, PostgreSQL reads `\` as its escape, and SQLite
   * compares ASCII letters without case.
   */
  readonly position: 'instr' | 'strpos';
  /** SQL function turning a text column into its UTF-8 bytes as a blob (read without decoding). */
  readonly textBytes: (column: string) => string;
  /** Rows per multi-row INSERT, under the bound-parameter limit of the database. */
  readonly insertBatch: number;
  /** The i-th (from 0) bound-parameter placeholder in SQL text (SQLite `?`, PostgreSQL `$1`...). */
  placeholder(i: number): string;
  open(): Kysely<DB>;
  /** Makes the next generated `seq` of a table (serial key) greater than `value` (migrations). */
  advanceSerial(db: Kysely<DB>, table: string, value: number): Promise<void>;
  /**
   * Statements that make one transaction's commit return before it reaches the disk
   * (TransactionOptions.durable false), run on the connection that holds the transaction:
   * `before` its BEGIN and `after` its end (SQLite: `synchronous` may not change inside a
   * transaction), or `inside` it (PostgreSQL: SET LOCAL lasts one transaction).
   */
  readonly relaxedCommit: { readonly before?: string; readonly inside?: string; readonly after?: string };
  /** Serialises migrations across processes (PostgreSQL advisory lock); no-op on SQLite. */
  withMigrationLock<T>(db: Kysely<DB>, fn: () => Promise<T>): Promise<T>;
}
