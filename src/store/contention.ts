/**
 * Database errors that a concurrent writer caused, not the request or a bug: the HTTP edge answers
 * them as such instead of a 500. Two requests inserting one key at once (a uniqueness the code
 * checked by a read first: both read "absent") is a 409; a write that lost a lock conflict
 * (deadlock, serialization failure, SQLite busy past its timeout) is a 503 with `Retry-After`,
 * since the same request succeeds when sent again. Without dependencies, like unreachable.ts.
 */
import { AppError } from '../core/errors.js';

/**
 * PostgreSQL SQLSTATEs (Appendix A): 23505 unique_violation; 40001 serialization_failure, 40P01
 * deadlock_detected, 55P03 lock_not_available. better-sqlite3 codes: a unique or primary key
 * constraint; the database busy or locked (another connection's write outlasted busy_timeout).
 */
const DUPLICATE: ReadonlySet<string> = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
const LOST_LOCK: ReadonlySet<string> = new Set(['40001', '40P01', '55P03', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED']);

function codeOf(e: unknown, depth = 0): string | null {
  if (typeof e !== 'object' || e === null || depth > 4) return null;
  const err = e as { code?: unknown; cause?: unknown };
  if (typeof err.code === 'string' && (DUPLICATE.has(err.code) || LOST_LOCK.has(err.code))) return err.code;
  return codeOf(err.cause, depth + 1);
}

/** 409 CONFLICT for a duplicate key, 503 UNAVAILABLE with `Retry-After` for a lost lock conflict; else null. */
export function storeContention(e: unknown): AppError | null {
  const code = codeOf(e);
  if (code === null) return null;
  if (DUPLICATE.has(code)) return new AppError('CONFLICT', 'the same record was written by another request at the same time; reload and retry', { cause: e });
  return new AppError('UNAVAILABLE', 'the database was busy with a conflicting write; retry', { headers: { 'Retry-After': '1' }, cause: e });
}
