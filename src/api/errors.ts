/**
 * The one error boundary of the HTTP edge. Everything thrown becomes an AppError (unknown
 * errors become INTERNAL and are logged with their cause); the TAXII API answers with a TAXII
 * error message (§3.6.1), the REST API with `{error: {code, message}}`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorShape, toAppError } from '../core/errors.js';
import { TAXII_MEDIA } from '../taxii/index.js';
import { storeContention, storeUnavailable } from '../store/index.js';

/** Maps Fastify's own errors (body parsing, limits) to our codes. */
function fromFastify(e: FastifyError): AppError | null {
  if (!e.statusCode || e.statusCode >= 500) return null;
  switch (e.statusCode) {
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE', 'request body exceeds max_content_length');
    case 415:
      return new AppError('UNSUPPORTED_MEDIA_TYPE', e.message);
    case 404:
      return new AppError('NOT_FOUND', 'not found');
    case 400:
      return new AppError(e instanceof SyntaxError || /JSON/i.test(e.message) ? 'MALFORMED_JSON' : 'BAD_REQUEST', e.message);
    default:
      return new AppError('BAD_REQUEST', e.message);
  }
}

/** A store error that is no bug: unreachable (503), or a concurrent writer's (409, or 503 to retry). */
export function storeError(err: unknown): AppError | null {
  return storeUnavailable(err) ?? storeContention(err);
}

/**
 * Anything thrown as an AppError: ours as they are, Fastify's by status, a store that cannot be
 * reached (PostgreSQL restarting) as 503 with Retry-After, a concurrent writer's key or lock as
 * 409 or 503 (store/contention.ts), the rest INTERNAL.
 */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err.code === 'INTERNAL' ? (storeError(err.cause) ?? err) : err;
  return fromFastify(err as FastifyError) ?? storeError(err) ?? toAppError(err);
}

export function isTaxiiPath(url: string, apiRoots: readonly string[]): boolean {
  const first = url.split('?')[0]!.split('/')[1] ?? '';
  return first === 'taxii2' || apiRoots.includes(first);
}

export function makeErrorHandler(apiRoots: readonly string[]) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = asAppError(err);
    if (e.code === 'INTERNAL') req.log.error({ err: e.cause ?? err }, 'unhandled error');
    else if ((e.code === 'UNAVAILABLE' || e.code === 'CONFLICT') && e.cause !== undefined) req.log.warn({ err: e.cause }, 'store unreachable or contended');
    const taxii = isTaxiiPath(req.url, apiRoots);
    for (const [k, v] of Object.entries(e.headers ?? {})) reply.header(k, v);
    // A Basic challenge makes browsers open a sign-in dialog and hold the request: the REST API
    // (used by the web app) challenges with Bearer only; TAXII keeps Basic (§8.2.2).
    if (!taxii && e.code === 'UNAUTHENTICATED') reply.header('WWW-Authenticate', 'Bearer realm="shieldwall"');
    reply.code(e.http);
    if (taxii) {
      // A Buffer, so Fastify keeps the TAXII media type verbatim (see taxii/routes.ts send).
      return reply.header('content-type', TAXII_MEDIA).send(Buffer.from(JSON.stringify(errorShape(e))));
    }
    const body: { code: string; message: string; details?: Record<string, unknown> } = { code: e.code, message: e.code === 'INTERNAL' ? 'internal server error' : e.message };
    if (e.details) body.details = { ...e.details };
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: body }));
  };
}
