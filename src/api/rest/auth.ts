/** Authentication for the REST API: sign-in (session tokens) and the bearer-token hook. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { authenticateHeader, permissionsOf, type Principal } from '../../access/index.js';
import type { Platform } from '../platform.js';
import { orgView } from './views.js';

const SESSION_TTL_MS = 12 * 3600 * 1000;

/** The principal of an authenticated REST request (set by `requireAuth`). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED', 'authentication required');
  return req.principal;
}

export function requireAuth(platform: Platform) {
  return async (req: FastifyRequest) => {
    req.principal = await authenticateHeader(platform.access, req.headers.authorization, req.ip);
  };
}

export async function authRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { access, store } = platform;
  app.post('/auth/login', async (req) => {
    const body = req.body as { username?: unknown; password?: unknown } | undefined;
    if (!body || typeof body.username !== 'string' || typeof body.password !== 'string' || body.username.length > 128 || body.password.length > 1024) {
      throw new AppError('BAD_REQUEST', 'body must be {"username": string, "password": string}');
    }
    const p = await access.authenticatePassword(body.username, body.password, req.ip);
    const issued = await access.createToken({ principal: p, source: req.ip }, { orgId: p.orgId, userId: p.userId, kind: 'session', name: 'web session', ttlMs: SESSION_TTL_MS });
    const user = (await store.getUser(p.userId!))!;
    return {
      token: issued.token,
      expiresAt: new Date(issued.row.expiresUs! / 1000).toISOString(),
      user: { id: user.id, username: user.username, displayName: user.displayName, orgId: user.orgId, roles: user.roles },
    };
  });

  app.post('/auth/logout', { onRequest: requireAuth(platform) }, async (req) => {
    const p = principalOf(req);
    if (p.tokenId) await access.revokeToken({ principal: p, source: req.ip }, p.tokenId);
    return { ok: true };
  });

  app.post('/me/password', { onRequest: requireAuth(platform) }, async (req) => {
    const body = req.body as { currentPassword?: unknown; newPassword?: unknown } | undefined;
    if (!body || typeof body.currentPassword !== 'string' || typeof body.newPassword !== 'string' || body.currentPassword.length > 1024 || body.newPassword.length > 4096) {
      throw new AppError('BAD_REQUEST', 'body must be {"currentPassword": string, "newPassword": string}');
    }
    const r = await access.changeOwnPassword({ principal: principalOf(req), source: req.ip }, body.currentPassword, body.newPassword);
    return { ok: true, sessionsRevoked: r.sessionsRevoked };
  });

  app.get('/me', { onRequest: requireAuth(platform) }, async (req) => {
    const p = principalOf(req);
    const org = (await store.getOrganisation(p.orgId))!;
    const user = p.userId ? await store.getUser(p.userId) : null;
    return {
      user: user ? { id: user.id, username: user.username, displayName: user.displayName, orgId: user.orgId, roles: user.roles } : null,
      organisation: orgView(org),
      // What the reader may do (docs/security.md "Permissions"), so the web app shows only that.
      permissions: permissionsOf(p),
    };
  });
}
