/** The one Store interface and how to open it: SQLite under the data directory by default, PostgreSQL when a URL is given. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors.js';
import { KyselyStore } from './kysely-store.js';
import { privateDir, sqliteDialect } from './sqlite.js';
import type { Store } from './types.js';

export { storeUnavailable } from './unreachable.js';
export { storeContention } from './contention.js';
export { updateMeta } from './update-meta.js';

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Refuse to create an SQLite store that is not there yet (every command but init and serve). */
  mustExist?: boolean;
}

/** The PostgreSQL driver is loaded only when a URL is given: the embedded default starts without it. */
async function postgresDialect(url: string) {
  return (await import('./postgres.js')).postgresDialect(url);
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (!opts.databaseUrl) {
    const file = path.join(opts.dataDir, 'shieldwall.db');
    // Only `init` and `serve` create a node; any other command on a missing store is a wrong
    // directory, and leaves no empty data directory behind.
    if (opts.mustExist && !existsSync(file)) {
      throw new AppError('NOT_FOUND', `no Shieldwall store at ${file}: set SHIELDWALL_DATA_DIR to the node's data directory (or SHIELDWALL_DATABASE_URL), or create a store here with \`shieldwall init\``);
    }
    privateDir(opts.dataDir);
    return KyselyStore.open(sqliteDialect(file));
  }
  try {
    return await KyselyStore.open(await postgresDialect(opts.databaseUrl));
  } catch (e) {
    throw postgresOpenError(opts.databaseUrl, e);
  }
}

/** A failed PostgreSQL connection as one clear sentence (no password: only host, port and database). */
function postgresOpenError(url: string, e: unknown): AppError {
  let where = 'the configured server';
  let db = '';
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '5432'}`;
    db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  } catch {
    // an unparsable URL: say so below with the driver's reason
  }
  const err = e as { code?: string; message?: string };
  // PostgreSQL SQLSTATE 3D000 invalid_catalog_name; 28P01/28000 authentication; ECONNREFUSED etc. from the socket.
  if (err.code === '3D000') return new AppError('UNAVAILABLE', `PostgreSQL database "${db}" does not exist on ${where}: create it (createdb ${db}) or fix SHIELDWALL_DATABASE_URL`);
  if (err.code === '28P01' || err.code === '28000') return new AppError('UNAVAILABLE', `PostgreSQL on ${where} refused the credentials in SHIELDWALL_DATABASE_URL`);
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'ETIMEDOUT' || err.code === 'EHOSTUNREACH') {
    return new AppError('UNAVAILABLE', `cannot reach PostgreSQL on ${where} (${err.code}): is it running, and is SHIELDWALL_DATABASE_URL right?`);
  }
  return new AppError('UNAVAILABLE', `cannot open the PostgreSQL database "${db}" on ${where}: ${(err.message ?? String(e)).slice(0, 200)}`);
}

/** An SQLite store in a given file (or ':memory:'), for tests and tools. */
export async function openSqliteStore(file: string): Promise<Store> {
  return KyselyStore.open(sqliteDialect(file));
}

export async function openPostgresStore(url: string): Promise<Store> {
  return KyselyStore.open(await postgresDialect(url));
}

export { ROLES } from './types.js';
export { privateDir } from './sqlite.js';
export type {
  AlertFactsRow, AuditRow, DeadLetterRow, IngestRow, NewIngestChunk, RateRow, CollectionAccessRow, CollectionRow, GroupRow, NewAuditRow, NewObjectRow, ObjectHead, StoredVersion, ObjectPage, ObjectQuery, ObjectRow,
  OrgKind, OrgRow, PutOutcome, RecordEventRow, RecordQuery, RecordRow, Role, StatusRow, Store, StoreCapabilities, TokenKind, TokenRow, TransactionOptions, UserRow, VersionSelector,
} from './types.js';
// correlation & warninglists
export type {
  AddedVersion, CorrelationExclusionRow, FrequentValueRow, ObservableEntry, ObservableKind, ObservableLinkRow, ObservableLookup, ObservableValue, WarninglistRow, WarninglistType,
} from './types.js';
