/**
 * The respond world (members A, B, C, D) plus an alliance body (X, kind alliance-body) and an
 * administrator of A, for the readiness tests; calls go through the real Fastify app.
 */
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { respondWorld, type RespondWorld } from './respond-fixtures.js';

export interface ReadinessWorld extends RespondWorld {
  body: string;
  /** Like `call`, for the extra users: 'X-analyst' (alliance body) and 'A-admin'. */
  as(who: 'X-analyst' | 'A-admin', method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<{ status: number; json: any; headers: Record<string, unknown>; raw: Buffer }>;
}

export async function readinessWorld(): Promise<ReadinessWorld> {
  const w = await respondWorld();
  const { access } = w.platform;
  const body = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Alliance CSIRT', shortName: 'X', kind: 'alliance-body' })).id;
  const extra: Record<string, string> = {};
  const xu = await access.createUser(SYSTEM_ACTOR, { orgId: body, username: 'x-analyst', password: 'long enough password', roles: ['analyst'] });
  extra['X-analyst'] = (await access.createToken(SYSTEM_ACTOR, { orgId: body, userId: xu.id, kind: 'api', name: 't' })).token;
  const au = await access.createUser(SYSTEM_ACTOR, { orgId: w.orgs.A, username: 'a-admin', password: 'long enough password', roles: ['admin'] });
  extra['A-admin'] = (await access.createToken(SYSTEM_ACTOR, { orgId: w.orgs.A, userId: au.id, kind: 'api', name: 't' })).token;
  return {
    ...w, body,
    async as(who, method, url, payload) {
      const r = await w.app.inject({
        method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${extra[who]}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
      });
      let json: unknown = null;
      try {
        json = JSON.parse(r.body);
      } catch {
        json = r.body;
      }
      return { status: r.statusCode, json, headers: r.headers as Record<string, unknown>, raw: r.rawPayload };
    },
  };
}
