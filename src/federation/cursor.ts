/**
 * The durable cursor of a pull (DESIGN §2.2 "federation resumes from a durable cursor after
 * any failure"), kept in store meta and written in the same transaction as the page it
 * follows, so a crash leaves either the page and its cursor or neither.
 *
 * A walk is one run of TAXII pagination with fixed filters (§3.4: `next` is only valid with
 * the filters it was issued for): `since` is the walk's added_after, `next` the token for its
 * following page. `last` is the date_added of the last object committed; a new walk starts
 * after it (§3.5 fallback), which is lossless because date_added is unique and monotonic on a
 * Shieldwall peer, and at worst re-reads a page (idempotent) on another server.
 */
import crypto from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { formatMicros, parseTimestampMicros } from '../core/time.js';
import type { Store } from '../store/index.js';
import { TaxiiClientError, type TaxiiQuery } from '../taxii/index.js';

export interface PullCursor {
  /** added_after of the current walk (absent: from the oldest object). */
  since?: string;
  /** `next` token for the following page of the current walk. */
  next?: string;
  /** date_added of the last object committed. */
  last?: string;
}

export interface CursorScope {
  url: string;
  apiRoot: string;
  collectionId: string;
  intoCollectionId: string;
  asOrgId: string;
}

/** One meta key per (peer collection, local collection, organisation). */
export function cursorKey(s: CursorScope): string {
  const h = crypto.createHash('sha256').update(JSON.stringify([s.url.replace(/\/+$/, ''), s.apiRoot, s.collectionId, s.intoCollectionId, s.asOrgId])).digest('hex');
  return `federation.pull.${h.slice(0, 32)}`;
}

export async function loadCursor(store: Store, key: string): Promise<PullCursor> {
  const raw = await store.getMeta(key);
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    const out: PullCursor = {};
    for (const k of ['since', 'next', 'last'] as const) if (typeof v[k] === 'string') out[k] = v[k];
    return out;
  } catch {
    return {};
  }
}

export async function saveCursor(store: Store, key: string, c: PullCursor): Promise<void> {
  await store.setMeta(key, JSON.stringify(c));
}

/** The TAXII query of the page at `cursor` (same filters for the whole walk: `base`). */
export function pageQuery(base: TaxiiQuery, cursor: PullCursor): TaxiiQuery {
  return cursor.next
    ? { ...base, ...(cursor.since ? { addedAfter: cursor.since } : {}), next: cursor.next }
    : { ...base, ...(cursor.last ? { addedAfter: cursor.last } : {}) };
}

/**
 * The added_after of a new walk of a third-party TAXII server: a microsecond before `last`. There,
 * date_added need not be unique (a collection loaded at once shares one, often to the second) and
 * added_after is exclusive (§3.4): asking after `last` itself skips those sharing it that were not
 * read yet, when a page ended among them (§3.5 fallback) or when they came in after the walk
 * ended. What is read again is a duplicate (idempotent). A `last` that is not an RFC 3339 UTC
 * timestamp is sent as it came.
 */
export function justBefore(last: string): string {
  const us = parseTimestampMicros(last);
  return us === null ? last : formatMicros(us - 1);
}

/** Whether two TAXII timestamps are the same instant (a server may write one in several ways). */
export function sameInstant(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = parseTimestampMicros(a);
  return x !== null ? x === parseTimestampMicros(b) : a === b;
}

/**
 * The cursor after a page was committed. Throws when the server says `more` without moving on
 * (the same `next`, nothing newer): following it would loop for ever.
 */
export function followingCursor(cursor: PullCursor, page: { more: boolean; next?: string | undefined; dateAddedLast?: string | undefined }): PullCursor {
  const walkSince = cursor.next ? cursor.since : cursor.last;
  const last = page.dateAddedLast ?? cursor.last;
  const following: PullCursor = page.more && page.next
    ? { ...(walkSince ? { since: walkSince } : {}), next: page.next, ...(last ? { last } : {}) }
    : { ...(last ? { last } : {}) };
  if (page.more && following.next === cursor.next && following.last === cursor.last) {
    throw new Error(page.next !== undefined || page.dateAddedLast !== undefined
      ? 'the server answered more:true without advancing (same next token, no newer object)'
      // Neither way of asking for the following page (TAXII 2.1 §3.5): not "the same token".
      : 'the server answered more:true with neither a next token nor an X-TAXII-Date-Added-Last header: the following page cannot be asked for (TAXII 2.1 §3.5)');
  }
  return following;
}

/**
 * Reads the page at `cursor` with `get`. A `next` token the server refuses (400: it expired, or
 * the server restarted with another key) starts a new walk after the last object committed,
 * once: nothing is lost, at worst a page is read again (idempotent). Returns the page and the
 * cursor it was read at.
 */
export async function fetchResuming<P>(cursor: PullCursor, get: (c: PullCursor) => Promise<P>): Promise<{ page: P; cursor: PullCursor }> {
  try {
    return { page: await get(cursor), cursor };
  } catch (e) {
    if (!(e instanceof TaxiiClientError && e.status === 400 && cursor.next)) throw e;
    const fresh: PullCursor = cursor.last ? { last: cursor.last } : {};
    return { page: await get(fresh), cursor: fresh };
  }
}

/**
 * Whether the stored cursor is still the one a run last read or wrote. A reset (`sync reset`,
 * `taxii-feed reset`) or another run that moved it since is not undone by this run's next page:
 * the run stops and the next one starts from the stored cursor.
 */
export function sameCursor(stored: object, expected: object): boolean {
  return canonicalJson(stored) === canonicalJson(expected);
}
