/** The one Store interface and how to open it: SQLite under the data directory by default, PostgreSQL when a URL is given. */
import path from 'node:path';
import { KyselyStore } from './kysely-store.js';
import { privateDir, sqliteDialect } from './sqlite.js';
import type { Store } from './types.js';

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
}

/** The PostgreSQL driver is loaded only when a URL is given: the embedded default starts without it. */
async function postgresDialect(url: string) {
  return (await import('./postgres.js')).postgresDialect(url);
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (!opts.databaseUrl) privateDir(opts.dataDir);
  const d = opts.databaseUrl ? await postgresDialect(opts.databaseUrl) : sqliteDialect(path.join(opts.dataDir, 'shieldwall.db'));
  return KyselyStore.open(d);
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
  AlertFactsRow, AuditRow, DeadLetterRow, IngestRow, NewIngestRow, RateRow, CollectionAccessRow, CollectionRow, GroupRow, NewAuditRow, NewObjectRow, ObjectHead, ObjectPage, ObjectQuery, ObjectRow,
  OrgKind, OrgRow, PutOutcome, RecordEventRow, RecordQuery, RecordRow, Role, StatusRow, Store, StoreCapabilities, TokenKind, TokenRow, UserRow, VersionSelector,
} from './types.js';
// correlation & warninglists
export type {
  CorrelationExclusionRow, FrequentValueRow, ObservableEntry, ObservableKind, ObservableLinkRow, ObservableLookup, ObservableValue, WarninglistRow, WarninglistType,
} from './types.js';
