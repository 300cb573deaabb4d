/**
 * A store that cannot be reached (PostgreSQL restarting, failing over, refusing connections) is
 * the server's passing condition, not a bug: the HTTP edge answers 503 with `Retry-After`, so a
 * sensor or client resends, instead of a 500 that says the request itself broke something.
 * Without dependencies: the embedded node never loads the PostgreSQL driver.
 */
import { AppError } from '../core/errors.js';

/** Socket errors of a connection that could not be made or was cut. */
const SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * PostgreSQL SQLSTATEs of a server that is not there for now (Appendix A of its manual): 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down),
 * 53300 too_many_connections; class 08 is connection_exception.
 */
const SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres and pg-pool errors that carry no code. */
const DRIVER_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

function unreachable(e: unknown, depth: number): boolean {
  if (typeof e !== 'object' || e === null || depth > 4) return false;
  const err = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const message = typeof err.message === 'string' ? err.message : '';
  if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')) return true;
  // 55000 object_not_in_prerequisite_state is also the database closed to connections
  // (ALTER DATABASE … ALLOW_CONNECTIONS false, during maintenance); only that case.
  if (code === '55000' && message.includes('not currently accepting connections')) return true;
  if (DRIVER_MESSAGES.test(message)) return true;
  // Node reports a refused connection to every address of a host as an AggregateError.
  if (Array.isArray(err.errors) && err.errors.length > 0 && err.errors.every((x) => unreachable(x, depth + 1))) return true;
  return unreachable(err.cause, depth + 1);
}

/** 503 UNAVAILABLE with `Retry-After` when `e` (or its cause) says the store cannot be reached now; else null. */
export function storeUnavailable(e: unknown): AppError | null {
  if (!unreachable(e, 0)) return null;
  return new AppError('UNAVAILABLE', 'the node\'s database cannot be reached for now; retry later', { headers: { 'Retry-After': '5' }, cause: e });
}
