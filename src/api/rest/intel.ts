/**
 * REST intel reads: search and object detail. Visibility is the one release policy applied
 * inside the store query (DESIGN §2.1), over the collections the caller may read; pages are
 * resumed from an HMAC-signed cursor bound to the filters and the caller's organisation.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { formatMicros } from '../../core/time.js';
import type { Principal } from '../../access/index.js';
import type { ObjectQuery, ObjectRow } from '../../store/index.js';
import { principalOf } from './auth.js';
import { collectionFor, decodeCursor, orgNames, readableCollectionIds, scanObjects, type RestDeps } from './context.js';
import { badParam, FILTER_PARAMS, parseCursor, parseIntelFilter, parseLimit, parseStixId, queryOf, type IntelFilter } from './parse.js';
import { parseStored, summaryOf, versionString, type IntelDetail, type IntelSummary, type Page, type RelatedRef, type RelationshipView } from './views.js';
import { isUnversionedKey, ownerHeads } from '../../intel/index.js';

/** At most this many relationships scanned per detail view. */
const MAX_VERSIONS = 10_000;
/**
 * The detail view lists an object's newest versions, at most this many (a sighting gets a version
 * a minute: listing all of them, each with its content, grows without bound); the latest is always
 * among them. The TAXII versions endpoint lists every version.
 */
const DETAIL_VERSIONS = 100;
/** Rows read for them per collection, latest first (other organisations' rows under the id included). */
const DETAIL_ROWS = 300;
const MAX_RELATIONSHIP_SCAN = 200_000;

/**
 * Turns parsed filters into store query terms for a principal: the collections to search
 * (all readable ones, or the one named, which must be readable) and creators as identity ids.
 */
export async function queryScope(deps: RestDeps, p: Principal, f: IntelFilter): Promise<Omit<ObjectQuery, 'limit' | 'purpose' | 'version'>> {
  const collectionIds = f.collection ? [(await collectionFor(deps, p, f.collection, 'read')).id] : await readableCollectionIds(deps, p);
  let creators: string[] | undefined;
  if (f.creators) {
    const orgs = await deps.platform.store.listOrganisations();
    creators = f.creators.map((c) => {
      if (c.includes('--')) return c;
      const o = orgs.find((x) => x.shortName === c);
      if (!o) throw badParam('creator', `no organisation with short name ${c}`);
      return o.id;
    });
  }
  return {
    collectionIds, audience: deps.platform.access.audienceOf(p),
    ...(f.types ? { types: f.types } : {}), ...(f.text ? { text: f.text } : {}), ...(f.labels ? { labels: f.labels } : {}),
    ...(f.tlps ? { tlps: f.tlps } : {}), ...(creators ? { creators } : {}),
  };
}

export async function intelRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { store, config } = deps.platform;

  app.get('/intel', async (req): Promise<Page<IntelSummary>> => {
    const p = principalOf(req);
    const q = queryOf(req.query, [...FILTER_PARAMS, 'limit', 'cursor']);
    const f = parseIntelFilter(q);
    const limit = parseLimit(q, 50, config.maxPageSize);
    const cursor = parseCursor(q);
    // The fingerprint covers every filter but the page size, so a cursor only resumes its own search.
    const fingerprint = JSON.stringify(['rest:intel', f.types ?? null, f.text ?? null, f.labels ?? null, f.tlps ?? null, f.creators ?? null, f.collection ?? null]);
    const addedAfter = cursor !== undefined ? decodeCursor(deps, cursor, fingerprint, p) : undefined;
    const scope = await queryScope(deps, p, f);
    // At most searchScanRows versions read per request: a rare term, or a reader who may see
    // little, over a large store gives a short page and a cursor where the read stopped.
    const page = await store.queryObjects({
      ...scope, purpose: 'read', version: { kind: 'last' }, limit, scanLimit: deps.platform.config.searchScanRows, ...(addedAfter !== undefined ? { addedAfter } : {}),
    });
    const names = await orgNames(deps);
    const items = page.rows.map((r) => summaryOf(r, names));
    const last = page.rows[page.rows.length - 1];
    const resume = page.more && last ? last.dateAdded : page.scannedTo;
    return resume !== undefined ? { items, next: deps.cursors.encode(resume, fingerprint, p.orgId) } : { items };
  });

  app.get('/intel/:id', async (req): Promise<IntelDetail> => {
    const p = principalOf(req);
    queryOf(req.query, []);
    const id = parseStixId('id', (req.params as { id: string }).id);
    const collectionIds = await readableCollectionIds(deps, p);
    const audience = deps.platform.access.audienceOf(p);
    const read = { audience, purpose: 'read' as const, ids: [id] };
    // The collections that hold a visible version (a probe per collection), then the latest
    // versions of each, read from the unique index in version order: bounded work however many
    // versions the object has.
    const holders = [...new Set((await store.queryObjects({ ...read, collectionIds, version: { kind: 'last' }, limit: DETAIL_ROWS })).rows.map((r) => r.collectionId))];
    let rows: ObjectRow[] = [];
    let more = false;
    for (const c of holders) {
      const page = await store.queryObjects({ ...read, collectionIds: [c], version: { kind: 'all' }, latestVersionsFirst: true, limit: DETAIL_ROWS });
      rows.push(...page.rows);
      more ||= page.more;
    }
    rows.sort((a, b) => a.dateAdded - b.dateAdded);
    // Only the owner's versions (the creator of the first stored version, in any collection):
    // another organisation's copy or version under this id is never served as the object.
    // An unversioned object (SCO) has no owner: each organisation holds its own copy; the
    // reader's own copy is shown, else the first visible one (docs/stix-versioning.md).
    if (rows.length && rows.every((r) => isUnversionedKey(r.version))) {
      const pick = rows.find((r) => r.creatorOrg === p.orgId) ?? [...rows].sort((a, b) => a.dateAdded - b.dateAdded)[0]!;
      rows = rows.filter((r) => r.creatorOrg === pick.creatorOrg);
    } else {
      // Deleted versions count: the owner stays the owner once its own rows are deleted.
      const owner = rows.length ? (await ownerHeads(deps.platform.store, [id])).get(id)?.creatorOrg : undefined;
      rows = rows.filter((r) => r.creatorOrg === owner);
    }
    if (rows.length === 0) throw new AppError('NOT_FOUND', `no visible object ${id}`);
    // The same version may sit in several collections: keep its first arrival.
    const byVersion = new Map<string, ObjectRow>();
    for (const r of rows) if (!byVersion.has(r.version)) byVersion.set(r.version, r);
    const all = [...byVersion.values()].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : a.dateAdded - b.dateAdded));
    const latest = all[all.length - 1]!;
    const versions = all.slice(-DETAIL_VERSIONS);
    const names = await orgNames(deps);
    return {
      object: parseStored(latest.json),
      summary: summaryOf(latest, names),
      versions: versions.map((v) => ({ version: versionString(v), dateAdded: formatMicros(v.dateAdded), object: parseStored(v.json) })),
      versionsTruncated: more || all.length > versions.length,
      relationships: await relationshipsOf(deps, { id, collectionIds, audience, self: latest }),
    };
  });
}

/**
 * Visible relationships (latest versions, not revoked) whose source or target is `id`, with
 * the other end named only when the caller may see it — an invisible end is null, never a
 * name or type read from a version the caller may not see.
 */
async function relationshipsOf(
  deps: RestDeps,
  ctx: { id: string; collectionIds: string[]; audience: ObjectQuery['audience']; self: ObjectRow },
): Promise<RelationshipView[]> {
  // Indexed by source_ref / target_ref (store migration 0003). Relationship ends are immutable
  // in STIX, so the latest visible version of each relationship naming the object is the one.
  const found = new Map<string, { row: ObjectRow; o: Record<string, unknown> }>();
  await scanObjects(deps, { collectionIds: ctx.collectionIds, audience: ctx.audience, purpose: 'read', types: ['relationship'], relatedTo: ctx.id, version: { kind: 'last' } }, {
    max: MAX_RELATIONSHIP_SCAN,
    onPage: (rows) => {
      for (const row of rows) {
        const prev = found.get(row.id);
        if (!prev || prev.row.version < row.version) found.set(row.id, { row, o: parseStored(row.json) });
      }
    },
  });
  for (const [id, f] of found) if (f.row.revoked) found.delete(id);
  const ends = new Set<string>();
  for (const { o } of found.values()) for (const k of ['source_ref', 'target_ref']) if (typeof o[k] === 'string' && o[k] !== ctx.id) ends.add(o[k]);
  const refs = new Map<string, RelatedRef>([[ctx.id, { id: ctx.id, type: ctx.self.type, name: ctx.self.name }]]);
  const endIds = [...ends];
  for (let i = 0; i < endIds.length; i += 500) {
    await scanObjects(deps, { collectionIds: ctx.collectionIds, audience: ctx.audience, purpose: 'read', ids: endIds.slice(i, i + 500), version: { kind: 'last' } }, {
      max: MAX_VERSIONS,
      onPage: (rows) => {
        for (const r of rows) refs.set(r.id, { id: r.id, type: r.type, name: r.name });
      },
    });
  }
  const out = [...found.values()].map(({ row, o }): RelationshipView => {
    const src = String(o.source_ref);
    const tgt = String(o.target_ref);
    return {
      id: row.id, relationship_type: String(o.relationship_type), source_ref: src, target_ref: tgt,
      source: refs.get(src) ?? null, target: refs.get(tgt) ?? null,
    };
  });
  return out.sort((a, b) => a.relationship_type.localeCompare(b.relationship_type) || a.id.localeCompare(b.id));
}
