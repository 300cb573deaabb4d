/**
 * REST bundle import and export. Import goes through IntelService.submit (validation,
 * provenance, versioning rules) in one transaction; export streams through intel's
 * exportBundle, a bulk release, so the policy runs with purpose `bulk` and RED never leaves
 * (DESIGN §2.1). Both are audited (DESIGN §2.5).
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { Tlp } from '../../core/policy.js';
import { exportBundle } from '../../intel/index.js';
import { importMisp, isMispDocument } from '../../misp/index.js';
import { STIX_MEDIA } from '../../taxii/index.js';
import { principalOf } from './auth.js';
import { collectionFor, type RestDeps } from './context.js';
import { queryScope } from './intel.js';
import { badParam, FILTER_PARAMS, many, one, parseCollectionId, parseIntelFilter, parseTlp, queryOf, STIX_ID } from './parse.js';
import type { ImportResult } from './views.js';

const MAX_RECIPIENTS = 100;

export interface ImportParams {
  collection: string;
  tlp: Tlp | null;
  recipients: string[];
  /** Accept objects of creators outside the alliance, kept as published (admin only). */
  preserveProvenance: boolean;
}

export function parseImportQuery(raw: unknown): ImportParams {
  const q = queryOf(raw, ['collection', 'tlp', 'recipients', 'preserve_provenance']);
  const collection = one(q, 'collection', 128);
  if (collection === undefined) throw badParam('collection', 'required: the id of a collection you may write to');
  const tlp = one(q, 'tlp', 32);
  const recipients = many(q, 'recipients', { comma: true, max: MAX_RECIPIENTS }) ?? [];
  for (const r of recipients) if (!STIX_ID.test(r) || !r.startsWith('identity--')) throw badParam('recipients', `"${r.slice(0, 80)}" is not an identity id`);
  const preserve = one(q, 'preserve_provenance', 8);
  if (preserve !== undefined && preserve !== 'true' && preserve !== 'false') throw badParam('preserve_provenance', 'must be true or false');
  return { collection: parseCollectionId('collection', collection), tlp: tlp === undefined ? null : parseTlp('tlp', tlp), recipients, preserveProvenance: preserve === 'true' };
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
    const params = parseImportQuery(req.query);
    if (params.preserveProvenance && !p.roles.includes('admin')) throw new AppError('FORBIDDEN', 'preserve_provenance needs the admin role');
    const c = await collectionFor(deps, p, params.collection, 'write');
    if (params.recipients.length) {
      const known = new Set([...(await store.listOrganisations()).map((o) => o.id), ...(await store.listGroups()).map((g) => g.id)]);
      const unknown = params.recipients.filter((r) => !known.has(r));
      if (unknown.length) throw badParam('recipients', `not an organisation or sharing group: ${unknown.slice(0, 5).join(', ')}`);
    }
    const actor = { principal: p, source: req.ip };
    // Format detection: a MISP event goes through the MISP importer (docs/misp.md); it carries
    // its own release (TLP tags, distribution, sharing group), so tlp/recipients do not apply.
    if (isMispDocument(req.body)) {
      if (params.tlp || params.recipients.length) throw badParam(params.tlp ? 'tlp' : 'recipients', 'a MISP event carries its own release (TLP tags, distribution, sharing group)');
      const s = await importMisp(intel, { actor, collectionId: c.id, document: req.body });
      return {
        total: s.total, added: s.added, duplicates: s.duplicates, rejected: s.rejected,
        errors: [
          ...s.errors.map((e, index) => ({ index, id: e.id, message: e.message })),
          // Skipped MISP attributes are reported too, with index -1 and the attribute uuid.
          ...s.attributes.filter((a) => a.status === 'skipped').map((a) => ({ index: -1, id: `misp-attribute:${a.uuid}`, message: `skipped ${a.type}: ${a.reason ?? ''}` })),
        ],
      };
    }
    const objects = bundleObjects(req.body);
    const results = objects.length ? await intel.submit(actor, c.id, objects, { defaultTlp: params.tlp, recipients: params.recipients, preserveProvenance: params.preserveProvenance }) : [];
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

  // Streams the bundle page by page through intel's exportBundle (purpose `bulk`, audited there).
  app.get('/intel/export', async (req, reply) => {
    const p = principalOf(req);
    const f = parseIntelFilter(queryOf(req.query, FILTER_PARAMS));
    if (!f.collection) throw badParam('collection', 'required for an export');
    const { collectionIds, audience, ...filters } = await queryScope(deps, p, f);
    const out = new PassThrough();
    const day = new Date(deps.platform.clock.now()).toISOString().slice(0, 10);
    reply.header('content-type', STIX_MEDIA).header('content-disposition', `attachment; filename="shieldwall-export-${day}.json"`);
    // Once the first byte is sent the status is fixed: a failure now can only cut the stream short.
    exportBundle(access, { actor: { principal: p, source: req.ip }, collectionIds, audience, filters: { ...filters, version: { kind: 'last' } } }, out)
      .then(() => out.end(), (e: unknown) => {
        req.log.error({ err: e }, 'export failed mid-stream');
        out.destroy(e instanceof Error ? e : new Error(String(e)));
      });
    return reply.send(out);
  });
}
