/**
 * TAXII 2.1 HTTP binding as a Fastify plugin: content negotiation (§1.6.8, §3.1), the
 * custom headers (§3.2), status codes (§5) and error messages (§3.6.1). The handlers only
 * parse, call TaxiiService and serialise.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { authenticateHeader, type AccessService, type Principal } from '../access/index.js';
import { parseTaxiiQuery, type TaxiiFilter } from './filters.js';
import { ENVELOPES_HEADER, TAXII_MEDIA, type TaxiiPage, type TaxiiService } from './service.js';

const LIST_PARAMS = ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'];
const OBJECT_PARAMS = ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'];
const VERSIONS_PARAMS = ['added_after', 'limit', 'next', 'match[spec_version]'];
const DELETE_PARAMS = ['match[version]', 'match[spec_version]'];

/**
 * Is this media type TAXII 2.1? `application/taxii+json` with no version means the latest, i.e.
 * 2.1 (§1.6.8). Parameter values may be quoted strings (RFC 9110 §5.6.6): `version="2.1"`.
 */
function isTaxii21(mediaType: string): boolean {
  const [type, ...params] = mediaType.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/taxii+json') return false;
  const v = params.map((p) => p.replace(/\s*=\s*/, '=')).find((p) => p.startsWith('version='));
  return v === undefined || v.slice('version='.length).replace(/^"(.*)"$/, '$1') === '2.1';
}

/** Does an Accept header include a media range for TAXII 2.1? */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some(isTaxii21);
}

function isTaxiiContentType(ct: string | undefined): boolean {
  return ct !== undefined && isTaxii21(ct);
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface TaxiiRouteDeps {
  taxii: TaxiiService;
  access: AccessService;
}

export async function taxiiRoutes(app: FastifyInstance, deps: TaxiiRouteDeps): Promise<void> {
  const { taxii, access } = deps;

  // TAXII POST bodies: parse JSON ourselves so malformed JSON is a 400 and other types a 415.
  app.addContentTypeParser('application/taxii+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(new AppError('MALFORMED_JSON', `request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });

  app.addHook('onRequest', async (req: FastifyRequest) => {
    req.principal = await authenticateHeader(access, req.headers.authorization, req.ip);
    if (!acceptsTaxii(req.headers.accept)) {
      throw new AppError('NOT_ACCEPTABLE', `Accept must include ${TAXII_MEDIA}`);
    }
    if (req.method === 'POST' && !isTaxiiContentType(req.headers['content-type'])) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${TAXII_MEDIA}`);
    }
  });

  // A Buffer keeps the Content-Type exactly as set: with a string body Fastify rewrites it to
  // `application/taxii+json; version="2.1"; charset=utf-8`, which clients comparing the media
  // type literally (§1.6.8) do not recognise.
  const sendJson = (reply: FastifyReply, status: number, json: string | Buffer) =>
    reply.code(status).header('content-type', TAXII_MEDIA).send(typeof json === 'string' ? Buffer.from(json) : json);
  const send = (reply: FastifyReply, status: number, body: unknown) => sendJson(reply, status, JSON.stringify(body));
  const sendPage = (reply: FastifyReply, page: TaxiiPage) => {
    // §3.2: on every 200 of manifest/objects/object/versions; an empty page has no dates to give.
    if (page.first) reply.header('X-TAXII-Date-Added-First', page.first);
    if (page.last) reply.header('X-TAXII-Date-Added-Last', page.last);
    // The page body is already serialised (stored object JSON spliced into the envelope).
    return sendJson(reply, 200, page.body);
  };
  const who = (req: FastifyRequest): Principal => req.principal!;
  const actor = (req: FastifyRequest) => ({ principal: who(req), source: req.ip });
  const q = (req: FastifyRequest, allowed: string[]): TaxiiFilter => parseTaxiiQuery(req.query as Record<string, unknown>, allowed);
  type P = { cid: string; oid: string; sid: string };
  const params = (req: FastifyRequest) => req.params as P;
  const ref = (req: FastifyRequest, root: string) => ({ root, collectionId: params(req).cid, objectId: params(req).oid });

  app.get('/taxii2/', async (_req, reply) => send(reply, 200, taxii.discovery()));
  // API roots are fixed at boot, so each gets literal paths: no clash with /api/v1 or the web app.
  for (const { name: root } of taxii.opts.apiRoots) {
    const r = `/${root}`;
    app.get(`${r}/`, async (_req, reply) => send(reply, 200, taxii.apiRoot(root)));
    app.get(`${r}/status/:sid/`, async (req, reply) => send(reply, 200, await taxii.status(who(req), root, params(req).sid)));
    app.get(`${r}/collections/`, async (req, reply) => send(reply, 200, await taxii.collections(who(req), root)));
    app.get(`${r}/collections/:cid/`, async (req, reply) => send(reply, 200, await taxii.collection(who(req), root, params(req).cid)));
    app.get(`${r}/collections/:cid/manifest/`, async (req, reply) =>
      sendPage(reply, await taxii.manifest(who(req), root, params(req).cid, q(req, LIST_PARAMS))));
    app.get(`${r}/collections/:cid/objects/`, async (req, reply) =>
      sendPage(reply, await taxii.objects(who(req), { root, collectionId: params(req).cid }, q(req, LIST_PARAMS), { envelopes: req.headers[ENVELOPES_HEADER] === '1' })));
    app.post(`${r}/collections/:cid/objects/`, async (req, reply) =>
      send(reply, 202, await taxii.addObjects(actor(req), root, params(req).cid, req.body)));
    app.get(`${r}/collections/:cid/objects/:oid/`, async (req, reply) =>
      sendPage(reply, await taxii.object(who(req), ref(req, root), q(req, OBJECT_PARAMS))));
    app.delete(`${r}/collections/:cid/objects/:oid/`, async (req, reply) => {
      // §5.7: afterwards the object must not be retrievable; without match[version] that means every version.
      const f = q(req, DELETE_PARAMS);
      const versioned = (req.query as Record<string, unknown>)['match[version]'] !== undefined;
      await taxii.deleteObject(actor(req), ref(req, root), versioned ? f : { ...f, version: { kind: 'all' } });
      return send(reply, 200, {});
    });
    app.get(`${r}/collections/:cid/objects/:oid/versions/`, async (req, reply) =>
      sendPage(reply, await taxii.versions(who(req), ref(req, root), q(req, VERSIONS_PARAMS))));
  }
}
