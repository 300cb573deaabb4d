/**
 * REST bundle import and export. Import goes through IntelService.submit (validation,
 * provenance, versioning rules) in one transaction; export is a bulk release, so the policy
 * runs with purpose `bulk` and RED never leaves (DESIGN §2.1). Both are audited.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Tlp } from '../../core/policy.js';
import { STIX_MEDIA } from '../../taxii/index.js';
import { principalOf } from './auth.js';
import { collectionFor, requireRole, scanObjects, type RestDeps } from './context.js';
import { queryScope } from './intel.js';
import { badParam, FILTER_PARAMS, many, one, parseCollectionId, parseIntelFilter, parseTlp, queryOf, STIX_ID } from './parse.js';
import { parseStored, type ImportResult } from './views.js';

/** Upper bound of one export; a larger one must be narrowed with filters (or use TAXII paging). */
export const MAX_EXPORT_OBJECTS = 100_000;
const MAX_RECIPIENTS = 100;

export interface ImportParams {
  collection: string;
  tlp: Tlp | null;
  recipients: string[];
}

export function parseImportQuery(raw: unknown): ImportParams {
  const q = queryOf(raw, ['collection', 'tlp', 'recipients']);
  const collection = one(q, 'collection', 128);
  if (collection === undefined) throw badParam('collection', 'required: the id of a collection you may write to');
  const tlp = one(q, 'tlp', 32);
  const recipients = many(q, 'recipients', { comma: true, max: MAX_RECIPIENTS }) ?? [];
  for (const r of recipients) if (!STIX_ID.test(r) || !r.startsWith('identity--')) throw badParam('recipients', `"${r.slice(0, 80)}" is not an identity id`);
  return { collection: parseCollectionId('collection', collection), tlp: tlp === undefined ? null : parseTlp('tlp', tlp), recipients };
}

/** The body must be a STIX 2.1 bundle envelope (§8); its members are validated one by one by submit. */
export function bundleObjects(body: unknown): unknown[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('INVALID_STIX', 'the body must be a STIX bundle: {"type": "bundle", "id": ..., "objects": [...]}');
  const b = body as { type?: unknown; id?: unknown; objects?: unknown };
  if (b.type !== 'bundle') throw new AppError('INVALID_STIX', 'the body must be a STIX bundle: "type" must be "bundle"');
  if (b.id !== undefined && (typeof b.id !== 'string' || !b.id.startsWith('bundle--'))) throw new AppError('INVALID_STIX', 'bundle "id" must be bundle--UUID');
  if (b.objects === undefined) return [];
  if (!Array.isArray(b.objects)) throw new AppError('INVALID_STIX', 'bundle "objects" must be a list');
  return b.objects;
}

export async function ioRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { store, access, intel } = deps.platform;

  // Body size: Fastify's bodyLimit is config.maxContentLength (api/app.ts), answered 413.
  app.post('/intel/import', async (req): Promise<ImportResult> => {
    const p = principalOf(req);
    requireRole(p, ['analyst', 'admin']);
    const params = parseImportQuery(req.query);
    const c = await collectionFor(deps, p, params.collection, 'write');
    if (params.recipients.length) {
      const known = new Set([...(await store.listOrganisations()).map((o) => o.id), ...(await store.listGroups()).map((g) => g.id)]);
      const unknown = params.recipients.filter((r) => !known.has(r));
      if (unknown.length) throw badParam('recipients', `not an organisation or sharing group: ${unknown.slice(0, 5).join(', ')}`);
    }
    const objects = bundleObjects(req.body);
    const actor = { principal: p, source: req.ip };
    const results = objects.length ? await intel.submit(actor, c.id, objects, { defaultTlp: params.tlp, recipients: params.recipients }) : [];
    const answer: ImportResult = { total: results.length, added: 0, duplicates: 0, rejected: 0, errors: [] };
    for (const r of results) {
      if (r.status === 'added') answer.added++;
      else if (r.status === 'duplicate') answer.duplicates++;
      else if (r.status === 'rejected') {
        answer.rejected++;
        answer.errors.push({ index: r.index, id: r.id, message: r.message });
      }
    }
    await access.audit(actor, 'intel.import', c.id, {
      total: answer.total, added: answer.added, duplicates: answer.duplicates, rejected: answer.rejected, tlp: params.tlp, recipients: params.recipients,
    });
    return answer;
  });

  app.get('/intel/export', async (req, reply) => {
    const p = principalOf(req);
    requireRole(p, 'any');
    const f = parseIntelFilter(queryOf(req.query, FILTER_PARAMS));
    if (!f.collection) throw badParam('collection', 'required for an export');
    const scope = await queryScope(deps, p, f);
    const objects: unknown[] = [];
    const truncated = await scanObjects(deps, { ...scope, purpose: 'bulk', version: { kind: 'last' } }, {
      max: MAX_EXPORT_OBJECTS + 1,
      onPage: (rows) => {
        for (const r of rows) objects.push(parseStored(r.json));
      },
    });
    if (truncated || objects.length > MAX_EXPORT_OBJECTS) {
      throw new AppError('UNPROCESSABLE', `the export matches more than ${MAX_EXPORT_OBJECTS} objects; narrow it with filters or page through TAXII`);
    }
    const id = `bundle--${crypto.randomUUID()}`;
    await access.audit({ principal: p, source: req.ip }, 'intel.export', scope.collectionIds[0] ?? null, { bundle: id, objects: objects.length, filters: f });
    const day = new Date(deps.platform.clock.now()).toISOString().slice(0, 10);
    return reply
      .header('content-type', STIX_MEDIA)
      .header('content-disposition', `attachment; filename="shieldwall-export-${day}.json"`)
      .send(JSON.stringify({ type: 'bundle', id, objects }));
  });
}
