/**
 * REST routes of correlation and warninglists (docs/correlation.md). Reads need any role;
 * exclusions and warninglists are node-wide settings, so writing them needs the admin role.
 * Every write is audited by the domain services.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Actor } from '../../access/index.js';
import { EXCLUSION_TYPES, OBSERVABLE_KINDS, type ObservableKind } from '../../intel/index.js';
import type { Platform } from '../platform.js';
import { principalOf, requireAuth } from './auth.js';
import { Body } from './body.js';
import { parseStixId, queryOf } from './parse.js';

const ID = /^[A-Za-z0-9._:-]{1,120}$/;

export async function correlationRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { correlations, warninglists, access, store } = platform;
  app.addHook('onRequest', requireAuth(platform));
  const actor = (req: FastifyRequest): Actor => ({ principal: principalOf(req), source: req.ip });
  // admin.settings is checked for these routes by the route hook (api/route-permissions.ts).
  const admin = actor;
  const idParam = (req: FastifyRequest): string => {
    const v = (req.params as { id?: string }).id ?? '';
    if (!ID.test(v)) throw new AppError('NOT_FOUND', `no such item ${v.slice(0, 80)}`);
    return v;
  };

  app.get('/objects/:id/correlations', async (req) => {
    const p = principalOf(req);
    queryOf(req.query, []);
    const id = parseStixId('id', (req.params as { id: string }).id);
    const rights = await access.rights(p);
    const collectionIds = [...rights].filter(([, r]) => r.canRead).map(([c]) => c);
    const result = await correlations.linksOf({ audience: access.audienceOf(p), collectionIds }, id);
    const names = new Map((await store.listOrganisations()).map((o) => [o.id, o.name]));
    return {
      ...result,
      cap: correlations.cap,
      values: result.values.map((v) => ({ ...v, links: v.links.map((l) => ({ ...l, creatorName: l.creatorOrg ? names.get(l.creatorOrg) ?? null : null })) })),
    };
  });

  app.get('/correlation/frequent', async (req) => {
    const p = principalOf(req);
    queryOf(req.query, []);
    const rights = await access.rights(p);
    const collectionIds = [...rights].filter(([, r]) => r.canRead).map(([c]) => c);
    const items = await correlations.frequentValues(200, { audience: access.audienceOf(p), collectionIds });
    return { cap: correlations.cap, items: items.map((f) => ({ kind: f.kind, value: f.value, since: new Date(f.sinceUs / 1000).toISOString() })) };
  });

  app.get('/correlation/exclusions', async (req) => {
    queryOf(req.query, []);
    return { items: (await correlations.listExclusions()).map(exclusionView) };
  });

  app.post('/correlation/exclusions', async (req, reply) => {
    const a = admin(req);
    const b = Body.of(req.body);
    const row = await correlations.addExclusion(a, {
      type: b.has('type') ? b.oneOf('type', EXCLUSION_TYPES) : 'value', pattern: b.str('pattern', { max: 1024 }),
      kind: b.has('kind') ? b.oneOf('kind', OBSERVABLE_KINDS) : null, comment: b.optStr('comment', { max: 1000 }) ?? '',
    });
    return reply.code(201).send(exclusionView(row));
  });

  // A full re-index (admin): the index is emptied and rebuilt in the background.
  app.post('/correlation/reindex', async (req, reply) => {
    const a = admin(req);
    Body.of(req.body ?? {});
    const cleared = await correlations.reindex(a);
    return reply.code(202).send({ started: true, cleared });
  });

  app.delete('/correlation/exclusions/:id', async (req) => {
    const a = admin(req);
    await correlations.removeExclusion(a, idParam(req));
    return { ok: true };
  });

  app.get('/warninglists', async (req) => {
    queryOf(req.query, []);
    return { items: (await warninglists.list()).map(warninglistView) };
  });

  app.get('/warninglists/match', async (req) => {
    const q = queryOf(req.query, ['kind', 'value']);
    const kind = q.kind;
    if (typeof kind !== 'string' || !(OBSERVABLE_KINDS as readonly string[]).includes(kind)) throw new AppError('BAD_REQUEST', `kind must be one of ${OBSERVABLE_KINDS.join(', ')}`);
    if (typeof q.value !== 'string' || q.value.length === 0 || q.value.length > 4096) throw new AppError('BAD_REQUEST', 'value must be a string of 1-4096 characters');
    await warninglists.refresh();
    return { kind, value: q.value, match: warninglists.match(kind as ObservableKind, q.value) };
  });

  app.post('/warninglists', async (req, reply) => {
    const a = admin(req);
    const { list, skipped } = await warninglists.importMisp(a, req.body);
    return reply.code(201).send({ ...warninglistView(list), skipped });
  });

  app.patch('/warninglists/:id', async (req) => {
    const a = admin(req);
    const id = idParam(req);
    const enabled = Body.of(req.body).bool('enabled');
    if (enabled === undefined) throw new AppError('BAD_REQUEST', 'enabled: required boolean', { details: { field: 'enabled' } });
    return warninglistView(await warninglists.setEnabled(a, id, enabled));
  });

  app.delete('/warninglists/:id', async (req) => {
    const a = admin(req);
    await warninglists.delete(a, idParam(req));
    return { ok: true };
  });
}

function exclusionView(r: { id: string; type: string; kind: string | null; pattern: string; comment: string; createdUs: number; createdBy: string | null }) {
  return { id: r.id, type: r.type, kind: r.kind, pattern: r.pattern, comment: r.comment, createdAt: new Date(r.createdUs / 1000).toISOString(), createdBy: r.createdBy };
}

function warninglistView(w: { id: string; name: string; version: number; description: string; type: string; matchingAttributes: string[]; enabled: boolean; builtin: boolean; entryCount: number; updatedUs: number }) {
  return {
    id: w.id, name: w.name, version: w.version, description: w.description, type: w.type, matchingAttributes: w.matchingAttributes,
    enabled: w.enabled, builtin: w.builtin, entryCount: w.entryCount, updatedAt: new Date(w.updatedUs / 1000).toISOString(),
  };
}
