/**
 * One error type with a closed set of codes, and one table from code to HTTP status and
 * TAXII error title. Every transport maps errors through {@link errorShape}; nothing else
 * decides a status code.
 */
export const ERROR_TABLE = {
  BAD_REQUEST: { http: 400, title: 'Bad request' },
  INVALID_FILTER: { http: 400, title: 'Invalid query parameter' },
  INVALID_CURSOR: { http: 400, title: 'Invalid or foreign pagination cursor' },
  MALFORMED_JSON: { http: 400, title: 'Malformed JSON body' },
  UNAUTHENTICATED: { http: 401, title: 'Authentication required' },
  FORBIDDEN: { http: 403, title: 'Forbidden' },
  NOT_FOUND: { http: 404, title: 'Not found' },
  NOT_ACCEPTABLE: { http: 406, title: 'Not acceptable' },
  REQUEST_TIMEOUT: { http: 408, title: 'Request timeout' },
  CONFLICT: { http: 409, title: 'Conflict' },
  PAYLOAD_TOO_LARGE: { http: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, title: 'Unsupported media type' },
  INVALID_STIX: { http: 422, title: 'Invalid STIX content' },
  UNPROCESSABLE: { http: 422, title: 'Unprocessable content' },
  RATE_LIMITED: { http: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { http: 431, title: 'Request header fields too large' },
  INTERNAL: { http: 500, title: 'Internal server error' },
  UNAVAILABLE: { http: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { http: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = opts.details;
    this.headers = opts.headers;
  }

  get http(): number {
    return ERROR_TABLE[this.code].http;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Wraps anything unknown as INTERNAL, keeping the cause. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  return new AppError('INTERNAL', 'Internal server error', { cause: e });
}

/** The TAXII 2.1 error message resource (§3.6.1); `http_status` is a string that matches the status. */
export interface TaxiiErrorBody {
  title: string;
  description?: string;
  error_code?: string;
  http_status: string;
  details?: Record<string, unknown>;
}

export function errorShape(e: AppError): TaxiiErrorBody {
  const body: TaxiiErrorBody = {
    title: ERROR_TABLE[e.code].title,
    description: e.message,
    error_code: e.code,
    http_status: String(e.http),
  };
  if (e.details) body.details = { ...e.details };
  return body;
}
