/**
 * REST audit log: the caller's own organisation only, admins only, newest first (DESIGN §2.5),
 * filtered by action (or its start, `token.`), user, and time. A page reads at most
 * SEARCH_SCAN_ROWS entries of the log: a rare action over a long log gets a short page with a
 * `next` where the read stopped, instead of a scan of everything.
 */
import type { FastifyInstance } from 'fastify';
import { parseTimestampMicros } from '../../core/time.js';
import { principalOf } from './auth.js';
import { decodeCursor, type RestDeps } from './context.js';
import { badParam, one, parseCursor, parseLimit, queryOf } from './parse.js';
import { auditEntry, type AuditEntry, type Page } from './views.js';

const ACTION = /^[a-z][a-z0-9_.-]{0,99}$/;

/** A time parameter: an RFC 3339 time, or a date (its midnight UTC). */
function timeParam(q: Record<string, unknown>, key: string): number | undefined {
  const v = one(q as never, key, 40);
  if (v === undefined) return undefined;
  const us = parseTimestampMicros(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (us === null) throw badParam(key, 'must be an RFC 3339 time (2026-12-01T08:00:00Z) or a date (2026-12-01)');
  return us;
}

export async function auditRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { store, config } = deps.platform;
  app.get('/audit', async (req): Promise<Page<AuditEntry>> => {
    const p = principalOf(req);
    const q = queryOf(req.query, ['limit', 'cursor', 'action', 'user', 'since', 'until']);
    const limit = parseLimit(q, 50, config.maxPageSize);
    const action = one(q, 'action', 100);
    if (action !== undefined && !ACTION.test(action)) throw badParam('action', 'an action (token.create) or its start (token.): lower-case letters, digits and . _ -');
    const username = one(q, 'user', 200);
    const sinceUs = timeParam(q, 'since');
    const untilUs = timeParam(q, 'until');
    // A user of the caller's organisation, by name or id; another organisation's user matches nothing here.
    let userId: string | undefined;
    if (username !== undefined) {
      const u = (await store.getUserByUsername(username)) ?? (await store.getUser(username));
      userId = u && u.orgId === p.orgId ? u.id : 'user--none';
    }
    // The cursor names the filters it was issued for: the next page of another search is refused.
    const fingerprint = `rest:audit:${JSON.stringify([action ?? '', userId ?? '', sinceUs ?? '', untilUs ?? ''])}`;
    const cursor = parseCursor(q);
    const beforeId = cursor !== undefined ? decodeCursor(deps, cursor, fingerprint, p) : undefined;
    const r = await store.searchAudit({
      orgId: p.orgId, limit: limit + 1, scanLimit: config.searchScanRows,
      ...(beforeId !== undefined ? { beforeId } : {}), ...(action !== undefined ? { actionPrefix: action } : {}), ...(userId !== undefined ? { userId } : {}),
      ...(sinceUs !== undefined ? { sinceUs } : {}), ...(untilUs !== undefined ? { untilUs } : {}),
    });
    const page = r.rows.slice(0, limit);
    // The users' names (of the caller's organisation, whose entries these are), for people.
    const names = new Map<string, string | null>();
    for (const a of page) if (a.userId && !names.has(a.userId)) names.set(a.userId, (await store.getUser(a.userId))?.username ?? null);
    const items = page.map((a) => ({ ...auditEntry(a), username: a.userId ? names.get(a.userId) ?? null : null }));
    const last = page[page.length - 1];
    // More matches than the page, or the read window ended before the log did: go on below.
    const below = r.rows.length > limit && last ? last.id : r.scannedTo;
    // Entries only grow at the top: an older page never shifts.
    return below === null ? { items } : { items, next: deps.cursors.encode(below, fingerprint, p.orgId) };
  });
}
