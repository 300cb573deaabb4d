/**
 * REST routes of readiness exposure (docs/readiness-exposure.md): inventory and assets,
 * vulnerability intelligence (KEV, CVE 5, EPSS), exposures and their summary, CSAF advisories.
 * Handlers parse, call the domain, and return its view; every read is filtered by the release
 * policy in the domain (404 for what the reader may not see).
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { Body, IDENTITY_ID } from './body.js';
import type { AuthedActor } from '../../respond/index.js';
import { CVE_ID, EXPOSURE_STATUSES, feedName, parseInventory, parseInventoryCsv, type ExposureStatus } from '../../readiness/exposure/index.js';

const ID = /^readiness-(asset|exposure|advisory)--[0-9a-f-]{36}$/;
const TLP_ENUM = { type: 'string', enum: [...TLP_LEVELS] };
const SHARE = { tlp: { ...TLP_ENUM, description: 'TLP 2.0 of the records (default amber: the own organisation only).' }, recipients: { type: 'array', items: { type: 'string', pattern: '^identity--' }, maxItems: 100 } };
const ASSET_SCHEMA = {
  type: 'object', required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 200 }, vitalFunction: { type: 'string' }, criticality: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] }, owner: { type: 'string' },
    products: { type: 'array', maxItems: 200, items: { anyOf: [{ type: 'string', description: 'CPE 2.3 or 2.2 URI' }, { type: 'object', properties: { vendor: { type: 'string' }, product: { type: 'string' }, version: { type: 'string' } } }] } },
  },
};

function doc(summary: string, extra: Partial<Record<'body' | 'querystring', object>> = {}): FastifySchema {
  return { summary, description: `${summary} See docs/readiness-exposure.md.`, tags: ['readiness'], ...extra } as FastifySchema;
}

function opt<K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, V>);
}

export async function readinessExposureRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { exposures, advisories, feeds } = platform.exposure;
  const actor = (req: FastifyRequest): AuthedActor => ({ principal: principalOf(req), source: req.ip });
  const id = (req: FastifyRequest): string => {
    const v = (req.params as Record<string, string>).id ?? '';
    if (!ID.test(v)) throw new AppError('NOT_FOUND', `no such record ${v.slice(0, 80)}`);
    return v;
  };
  const q = (req: FastifyRequest) => req.query as Record<string, unknown>;
  const qs = (req: FastifyRequest, k: string): string | undefined => {
    const raw = q(req)[k];
    if (raw === undefined) return undefined;
    // The route schema may have coerced the value (kev → boolean, limit → integer).
    const v = typeof raw === 'boolean' || typeof raw === 'number' ? String(raw) : raw;
    if (typeof v !== 'string' || v.length > 200) throw new AppError('INVALID_FILTER', `${k}: one value of at most 200 characters`);
    return v;
  };
  const qbool = (req: FastifyRequest, k: string): boolean | undefined => {
    const v = qs(req, k);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw new AppError('INVALID_FILTER', `${k} must be true or false`);
    return v === 'true';
  };
  const qlimit = (req: FastifyRequest, def: number, max: number): number => {
    const v = qs(req, 'limit');
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new AppError('INVALID_FILTER', `limit must be an integer in 1..${max}`);
    return n;
  };
  const share = (b: Body): { tlp?: Tlp; recipients?: string[] } => ({
    ...opt('tlp', b.optOneOf('tlp', TLP_LEVELS)), ...opt('recipients', b.optStrings('recipients', { max: 100, re: IDENTITY_ID })),
  });
  const rawOf = (req: FastifyRequest) => req.body as Record<string, unknown> | undefined;

  // ---- inventory ----
  app.get('/readiness/assets', { schema: doc('Assets the reader may see (own organisation, and those shared with it).', { querystring: { type: 'object', properties: { org: { type: 'string' }, limit: { type: 'integer' } } } }) }, async (req) => ({
    items: await exposures.listAssets(actor(req), { ...opt('orgId', qs(req, 'org')), limit: qlimit(req, 500, 1000) }),
  }));
  app.post('/readiness/assets', { schema: doc('Create or update assets of the own organisation (upsert by name); matched against vulnerability intelligence at once.', { body: { type: 'object', required: ['assets'], properties: { assets: { type: 'array', items: ASSET_SCHEMA }, ...SHARE } } }) }, async (req, reply) => {
    const b = Body.of(req.body);
    const items = rawOf(req)?.assets;
    if (!Array.isArray(items)) throw new AppError('BAD_REQUEST', 'assets: required array', { details: { field: 'assets' } });
    return reply.code(201).send(await exposures.importAssets(actor(req), items, share(b)));
  });
  app.post('/readiness/inventory/import', { schema: doc('Import an inventory file: CSV (header name, vital_function, criticality, owner, products with `;`-separated CPEs) or JSON.', { body: { type: 'object', required: ['content'], properties: { content: { type: 'string' }, format: { type: 'string', enum: ['csv', 'json'] }, ...SHARE } } }) }, async (req, reply) => {
    const b = Body.of(req.body);
    const content = rawOf(req)?.content;
    if (typeof content !== 'string' || content.length === 0) throw new AppError('BAD_REQUEST', 'content: required string (the CSV or JSON text)', { details: { field: 'content' } });
    const format = b.optOneOf('format', ['csv', 'json'] as const);
    let items: unknown[];
    try {
      items = format === 'csv' ? parseInventoryCsv(content) : parseInventory(content);
    } catch (e) {
      throw new AppError('BAD_REQUEST', `inventory: ${e instanceof Error ? e.message : String(e)}`);
    }
    return reply.code(201).send(await exposures.importAssets(actor(req), items, share(b)));
  });
  app.get('/readiness/assets/:id', { schema: doc('One asset.') }, async (req) => exposures.getAsset(actor(req), id(req)));
  app.patch('/readiness/assets/:id', { schema: doc('Change an asset of the own organisation (not its name).', { body: { type: 'object', properties: { ...ASSET_SCHEMA.properties, ...SHARE } } }) }, async (req) => {
    Body.of(req.body);
    return exposures.updateAsset(actor(req), id(req), rawOf(req) ?? {});
  });
  app.delete('/readiness/assets/:id', { schema: doc('Retire an asset of the own organisation.') }, async (req, reply) => {
    await exposures.retireAsset(actor(req), id(req));
    return reply.code(204).send();
  });

  // ---- vulnerability intelligence ----
  app.get('/readiness/vulnerabilities', { schema: doc('Vulnerability intelligence of the node (KEV, CVE 5, EPSS).', { querystring: { type: 'object', properties: { kev: { type: 'boolean' }, q: { type: 'string' }, limit: { type: 'integer' } } } }) }, async (req) => ({
    items: await exposures.listVulns({ ...opt('kev', qbool(req, 'kev')), ...opt('q', qs(req, 'q')), limit: qlimit(req, 200, 5000) }),
  }));
  app.get('/readiness/vulnerabilities/:cve', { schema: doc('One vulnerability by CVE id.') }, async (req) => {
    const cve = (req.params as { cve: string }).cve;
    const v = CVE_ID.test(cve) ? await exposures.vuln(cve) : null;
    if (!v) throw new AppError('NOT_FOUND', `no vulnerability ${cve.slice(0, 40)}`);
    return v;
  });
  app.post('/readiness/vulnerabilities/import', { schema: doc('Import CVE JSON 5 records; each is imported or refused with a reason.', { body: { type: 'object', required: ['records'], properties: { records: { type: 'array' } } } }) }, async (req) => {
    const records = rawOf(req)?.records;
    if (!Array.isArray(records)) throw new AppError('BAD_REQUEST', 'records: required array of CVE JSON 5 records', { details: { field: 'records' } });
    return exposures.importCves(actor(req), records);
  });
  app.post('/readiness/kev/import', { schema: doc('Import a CISA KEV catalog snapshot (the feed JSON): new entries are matched and raise alerts; absent ones are marked removed.', { body: { type: 'object', required: ['vulnerabilities'], properties: { catalogVersion: { type: 'string' }, vulnerabilities: { type: 'array' } } } }) }, async (req) => exposures.importKev(actor(req), req.body));
  app.post('/readiness/epss/import', { schema: doc('Import EPSS scores (CSV text: FIRST layout or the CVE,CVSS3,EPSS,EPSS Percentile extract).', { body: { type: 'object', required: ['csv'], properties: { csv: { type: 'string' } } } }) }, async (req) => {
    const csv = rawOf(req)?.csv;
    if (typeof csv !== 'string') throw new AppError('BAD_REQUEST', 'csv: required string', { details: { field: 'csv' } });
    return exposures.importEpss(actor(req), csv);
  });
  // ---- scheduled feeds (KEV, EPSS from a URL) ----
  const feedOf = (req: FastifyRequest) => feedName((req.params as { name: string }).name);
  app.get('/readiness/feeds', { schema: doc('The KEV and EPSS feeds: URL, interval, last attempt / success / error, next run.') }, async (req) => ({ items: await feeds.list(actor(req)) }));
  app.get('/readiness/feeds/:name', { schema: doc('One feed (kev or epss).') }, async (req) => feeds.get(actor(req), feedOf(req)));
  app.put('/readiness/feeds/:name', { schema: doc('Configure a feed: its URL (null: none) and interval in seconds (0: manual only, else 300..2592000); run by the leader process.', { body: { type: 'object', required: ['url', 'intervalS'], properties: { url: { type: ['string', 'null'], maxLength: 2000 }, intervalS: { type: 'integer' } } } }) }, async (req) => {
    const name = feedOf(req);
    const b = Body.of(req.body);
    const raw = rawOf(req)?.url;
    if (raw !== null && typeof raw !== 'string') throw new AppError('BAD_REQUEST', 'url: a string or null', { details: { field: 'url' } });
    return feeds.configure(actor(req), name, { url: raw, intervalS: b.int('intervalS', 0, 1e9) });
  });
  app.post('/readiness/feeds/:name/run', { schema: doc('Fetch and import a feed now; the outcome is recorded in its status (a failed fetch answers 503 with the reason).') }, async (req) => feeds.run(actor(req), feedOf(req)));
  app.get('/readiness/epss/:cve', { schema: doc('The EPSS score of one CVE.') }, async (req) => {
    const cve = (req.params as { cve: string }).cve;
    const v = CVE_ID.test(cve) ? await exposures.vuln(cve) : null;
    if (!v?.epss) throw new AppError('NOT_FOUND', `no EPSS score for ${cve.slice(0, 40)}`);
    return v.epss;
  });

  // ---- exposures ----
  app.get('/readiness/exposures', { schema: doc('Exposures (asset × CVE) the reader may see, highest priority first.', { querystring: { type: 'object', properties: { status: { type: 'string' }, kev: { type: 'boolean' }, cve: { type: 'string' }, asset: { type: 'string' }, org: { type: 'string' }, limit: { type: 'integer' } } } }) }, async (req) => {
    const statuses = qs(req, 'status')?.split(',');
    if (statuses?.some((s) => !(EXPOSURE_STATUSES as readonly string[]).includes(s))) throw new AppError('INVALID_FILTER', `status must be among ${EXPOSURE_STATUSES.join(', ')}`);
    return {
      items: await exposures.listExposures(actor(req), {
        ...opt('statuses', statuses as ExposureStatus[] | undefined), ...opt('kev', qbool(req, 'kev')), ...opt('cve', qs(req, 'cve')), ...opt('assetId', qs(req, 'asset')),
        ...opt('orgId', qs(req, 'org')), limit: qlimit(req, 200, 1000),
      }),
    };
  });
  app.get('/readiness/exposures/summary', { schema: doc('Own open / KEV / overdue exposures, and for each KEV entry how many members are exposed (counts only).') }, async (req) => exposures.summary(actor(req)));
  app.get('/readiness/exposures/trend', { schema: doc('KEV exposure per day: the own organisation\'s open / KEV exposures, and alliance-wide how many members were exposed to KEV entries (counts only).', { querystring: { type: 'object', properties: { days: { type: 'integer' } } } }) }, async (req) => {
    const raw = qs(req, 'days');
    const days = raw === undefined ? 90 : Number(raw);
    return platform.exposure.trend.trend(actor(req), days);
  });
  app.get('/readiness/exposures/:id', { schema: doc('One exposure with its history.') }, async (req) => exposures.getExposure(actor(req), id(req)));
  app.post('/readiness/exposures/:id/status', { schema: doc('Change the status of an exposure of the own organisation (open, mitigated, accepted, false_positive).', { body: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: [...EXPOSURE_STATUSES] }, note: { type: 'string', maxLength: 2000 }, rev: { type: 'integer' } } } }) }, async (req) => {
    const b = Body.of(req.body);
    return exposures.setStatus(actor(req), id(req), { status: b.oneOf('status', EXPOSURE_STATUSES), ...opt('note', b.optStr('note', { max: 2000 })), ...(b.has('rev') ? { rev: b.int('rev', 1, 1e9) } : {}) });
  });

  // ---- advisories ----
  app.get('/readiness/advisories', { schema: doc('CSAF advisories the reader may see.') }, async (req) => ({ items: await advisories.list(actor(req), qlimit(req, 200, 1000)) }));
  app.post('/readiness/advisories/import', { schema: doc('Import a CSAF 2.0 advisory (VEX too): TLP from document.distribution.tlp, else defaultTlp or the member default; VEX statements clear matching exposures.', { body: { type: 'object', required: ['csaf'], properties: { csaf: { type: 'object' }, defaultTlp: TLP_ENUM, recipients: SHARE.recipients } } }) }, async (req, reply) => {
    const b = Body.of(req.body);
    const csaf = rawOf(req)?.csaf;
    if (typeof csaf !== 'object' || csaf === null) throw new AppError('BAD_REQUEST', 'csaf: required CSAF 2.0 document', { details: { field: 'csaf' } });
    return reply.code(201).send(await advisories.import(actor(req), csaf, { ...opt('defaultTlp', b.optOneOf('defaultTlp', TLP_LEVELS)), ...opt('recipients', b.optStrings('recipients', { max: 100, re: IDENTITY_ID })) }));
  });
  app.post('/readiness/advisories/default-tlp', { schema: doc('The own organisation\'s TLP for CSAF documents that carry none.', { body: { type: 'object', required: ['tlp'], properties: { tlp: TLP_ENUM } } }) }, async (req) => advisories.setDefaultTlp(actor(req), Body.of(req.body).oneOf('tlp', TLP_LEVELS)));
  app.get('/readiness/advisories/:id', { schema: doc('One advisory: its products and statements.') }, async (req) => advisories.get(actor(req), id(req)));
  app.get('/readiness/advisories/:id/csaf', { schema: doc('The advisory as a CSAF 2.0 document (AMBER+STRICT exported as RED with a note).') }, async (req, reply) => {
    const out = await advisories.exportCsaf(actor(req), id(req));
    return reply.type('application/json').send(out);
  });
  app.post('/readiness/advisories/:id/publish', { schema: doc('Publish an advisory to the alliance: its release becomes tlp/recipients, and STIX vulnerability + course-of-action + relationships go to the collection.', { body: { type: 'object', required: ['collection'], properties: { collection: { type: 'string' }, ...SHARE } } }) }, async (req) => {
    const b = Body.of(req.body);
    const a = actor(req);
    const want = b.str('collection', { max: 200 });
    // As collectionFor (context.ts): no right at all → 404, read-only → 403.
    const c = (await platform.store.getCollection(want)) ?? (await platform.store.listCollections()).find((x) => x.alias === want) ?? null;
    const r = c ? (await platform.access.rights(a.principal)).get(c.id) : undefined;
    if (!c || !r || (!r.canRead && !r.canWrite)) throw new AppError('NOT_FOUND', `no collection ${want}`);
    if (!r.canWrite) throw new AppError('FORBIDDEN', 'no write access to this collection');
    return advisories.publish(a, id(req), { collection: c.id, ...share(b) });
  });
}
