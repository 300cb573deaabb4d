/** REST audit log: the caller's own organisation only, admins only, newest first (DESIGN §2.5). */
import type { FastifyInstance } from 'fastify';
import { principalOf } from './auth.js';
import { decodeCursor, type RestDeps } from './context.js';
import { parseCursor, parseLimit, queryOf } from './parse.js';
import { auditEntry, type AuditEntry, type Page } from './views.js';

const FINGERPRINT = 'rest:audit';

export async function auditRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { store, config } = deps.platform;
  app.get('/audit', async (req): Promise<Page<AuditEntry>> => {
    const p = principalOf(req);
    const q = queryOf(req.query, ['limit', 'cursor']);
    const limit = parseLimit(q, 50, config.maxPageSize);
    const cursor = parseCursor(q);
    // The cursor carries the last id seen; entries only grow, so older pages never shift.
    const beforeId = cursor !== undefined ? decodeCursor(deps, cursor, FINGERPRINT, p) : undefined;
    const rows = await store.listAudit({ orgId: p.orgId, limit: limit + 1, ...(beforeId !== undefined ? { beforeId } : {}) });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const items = page.map(auditEntry);
    return rows.length > limit && last ? { items, next: deps.cursors.encode(last.id, FINGERPRINT, p.orgId) } : { items };
  });
}
