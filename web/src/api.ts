/**
 * The one HTTP client of the dashboard. Every call goes through {@link request}, which adds the
 * bearer token and turns the API error body `{error: {code, message}}` into an {@link ApiError}
 * so pages can show the server's message as it is.
 */
import type {
  Collection, Group, ImportResult, IntelDetail, IntelSummary, LoginAnswer, MeAnswer, OrgSummary, Page, Tlp, Correlations, SightingSummary,
} from './types.js';

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The error's `details` (e.g. the rows an import refused), when the server gave some. */
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Called when the server answers 401 to an authenticated call (expired or revoked session). */
let onUnauthenticated: (() => void) | undefined;
export function setUnauthenticatedHandler(fn: (() => void) | undefined): void {
  onUnauthenticated = fn;
}

type Query = Record<string, string | number | undefined | null>;

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: string;
  token?: string | null;
  signal?: AbortSignal;
  accept?: string;
}

export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function errorFrom(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `Request failed with status ${res.status}`;
  let details: Record<string, unknown> | undefined;
  try {
    const body: unknown = await res.json();
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    if (err && typeof err.code === 'string') code = err.code;
    if (err && typeof err.message === 'string') message = err.message;
    if (err && typeof err.details === 'object' && err.details !== null) details = err.details as Record<string, unknown>;
  } catch {
    // Not JSON (e.g. a proxy error page): keep the status line.
  }
  return new ApiError(res.status, code, message, details);
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}${buildQuery(opts.query)}`, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body,
      signal: opts.signal,
      // The API authenticates with the bearer token only. Omitting credentials also stops the
      // browser from raising its own sign-in dialog when a 401 carries a Basic challenge
      // (Fetch standard, HTTP-network-or-cache fetch: prompts only for credentials mode "include").
      credentials: 'omit',
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && opts.token && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  return res;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  return (await (await send(path, opts)).json()) as T;
}

/** The body as bytes, for binary downloads (attachments). */
export async function requestBlob(path: string, opts: RequestOptions = {}): Promise<Blob> {
  return (await send(path, opts)).blob();
}

/** The body as text, for downloads that are saved as they came. */
export async function requestText(path: string, opts: RequestOptions = {}): Promise<string> {
  return (await send(path, opts)).text();
}

export interface IntelFilter {
  type?: string;
  q?: string;
  label?: string;
  tlp?: Tlp[];
  creator?: string;
  collection?: string;
}

export interface ImportOptions { collection: string; tlp: Tlp | ''; recipients: string[] }

/** Typed endpoints bound to one session token. */
export function client(token: string) {
  const get = <T,>(path: string, query?: Query, signal?: AbortSignal) => request<T>(path, { token, query, signal });
  return {
    me: (signal?: AbortSignal) => get<MeAnswer>('/me', undefined, signal),
    organisations: (signal?: AbortSignal) => get<Page<OrgSummary>>('/organisations', undefined, signal),
    sharingGroups: (signal?: AbortSignal) => get<Page<Group>>('/sharing-groups', undefined, signal),
    collections: (signal?: AbortSignal) => get<Page<Collection>>('/collections', undefined, signal),
    intel: (f: IntelFilter & { cursor?: string; limit?: number }, signal?: AbortSignal) =>
      get<Page<IntelSummary>>('/intel', { ...f, tlp: f.tlp?.join(','), limit: f.limit ?? 50 }, signal),
    intelDetail: (id: string, signal?: AbortSignal) => get<IntelDetail>(`/intel/${encodeURIComponent(id)}`, undefined, signal),
    sightings: (id: string, signal?: AbortSignal) => get<SightingSummary>(`/intel/${encodeURIComponent(id)}/sightings`, undefined, signal),
    correlations: (id: string, signal?: AbortSignal) => get<Correlations>(`/objects/${encodeURIComponent(id)}/correlations`, undefined, signal),
    importBundle: (bundle: string, o: ImportOptions) =>
      request<ImportResult>('/intel/import', {
        method: 'POST',
        token,
        body: bundle,
        query: { collection: o.collection, tlp: o.tlp, recipients: o.recipients.join(',') },
      }),
    /** A STIX bundle of the filtered objects of one collection (bulk release: RED never leaves). */
    exportBundle: (f: IntelFilter & { collection: string }) =>
      requestText('/intel/export', { token, accept: 'application/stix+json;version=2.1', query: { ...f, tlp: f.tlp?.join(',') } }),
    logout: () => request<{ ok: true }>('/auth/logout', { method: 'POST', token, body: '{}' }),
    changePassword: (currentPassword: string, newPassword: string) =>
      request<{ ok: true; sessionsRevoked: number }>('/me/password', { method: 'POST', token, body: JSON.stringify({ currentPassword, newPassword }) }),
  };
}
export type Client = ReturnType<typeof client>;

export function login(username: string, password: string): Promise<LoginAnswer> {
  return request<LoginAnswer>('/auth/login', { method: 'POST', body: JSON.stringify({ username, password }) });
}
