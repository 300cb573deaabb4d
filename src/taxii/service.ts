/**
 * TAXII 2.1 semantics (§4, §5), independent of HTTP: the routes parse, call these, and
 * serialise. Visibility comes from the release policy inside the store query, so pages are
 * exact; collections add their can_read / can_write gate on top.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { formatMicros, isStixTimestamp } from '../core/time.js';
import type { AccessService, Actor, Principal } from '../access/index.js';
import type { IntelService, ItemResult } from '../intel/index.js';
import { isUnversionedKey } from '../intel/index.js';
import type { CollectionRow, ObjectPage, ObjectRow, Store } from '../store/index.js';
import { CursorCodec } from './cursor.js';
import { filterFingerprint, type TaxiiFilter } from './filters.js';

export const TAXII_MEDIA = 'application/taxii+json;version=2.1';
export const STIX_MEDIA = 'application/stix+json;version=2.1';

export interface TaxiiOptions {
  title: string;
  description: string;
  contact?: string;
  apiRoots: readonly { name: string; title: string; description: string }[];
  maxContentLength: number;
  maxPageSize: number;
  /**
   * Object versions one page reads at most (at least twice the page size; SHIELDWALL_SEARCH_SCAN_ROWS):
   * a reader who may see little of a large collection gets short pages with `more` and a `next`
   * where the read stopped, instead of a read of the whole collection per request.
   */
  scanRows?: number;
  /**
   * The node's public address (SHIELDWALL_PUBLIC_URL, no trailing slash). When it is HTTPS,
   * discovery names the API roots as absolute URLs under it (§4.1.1 allows HTTPS absolute or
   * relative URLs), so a client behind a proxy that mounts the node under a path finds them.
   */
  publicUrl?: string;
}

/** Request header by which a federated peer asks for the envelopes in a Get Objects page (value `1`). */
export const ENVELOPES_HEADER = 'x-shieldwall-envelopes';

/**
 * A page of results with the date_added of its first and last entries (§3.2 headers). The body
 * is the envelope already serialised, as UTF-8 bytes: object pages splice the stored JSON of
 * each object into it as the bytes the store holds — never parsed, decoded or re-encoded (a
 * STIX (id, modified) names one content forever, so the stored bytes are the object).
 */
export interface TaxiiPage {
  body: Buffer;
  first: string | null;
  last: string | null;
}

export interface StatusResource {
  id: string;
  status: 'complete' | 'pending';
  request_timestamp: string;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes?: { id: string; version: string; message?: string }[];
  failures?: { id: string; version: string; message: string }[];
}

/** Where an object lives: API root, collection (id or alias) and object id. */
export interface ObjectRef {
  root: string;
  collectionId: string;
  objectId: string;
}

interface TaxiiDeps {
  store: Store;
  access: AccessService;
  intel: IntelService;
  clock: Clock;
}

export class TaxiiService {
  private readonly store: Store;
  private readonly access: AccessService;
  private readonly intel: IntelService;
  private readonly clock: Clock;

  /** Set by the platform: stores a peer's push with its provenance envelopes (federation/sync.ts `receive`). */
  peerReceiver: ((p: Principal, collectionId: string, objects: unknown[], envelopes: unknown[]) => Promise<ItemResult[]>) | null = null;
  /**
   * Set by the platform: the provenance envelopes of a page's rows (federation/envelope.ts
   * `envelopesOfRows`), which a peer node's pull asks to receive in the page itself.
   */
  peerEnvelopes: ((rows: readonly ObjectRow[]) => Promise<unknown[]>) | null = null;

  private constructor(deps: TaxiiDeps, readonly opts: TaxiiOptions, private readonly cursors: CursorCodec) {
    ({ store: this.store, access: this.access, intel: this.intel, clock: this.clock } = deps);
  }

  static async create(deps: TaxiiDeps, opts: TaxiiOptions): Promise<TaxiiService> {
    return new TaxiiService(deps, opts, await CursorCodec.load(deps.store));
  }

  discovery(): Record<string, unknown> {
    const base = this.opts.publicUrl?.startsWith('https://') ? this.opts.publicUrl : '';
    const roots = this.opts.apiRoots.map((r) => `${base}/${r.name}/`);
    return {
      title: this.opts.title,
      description: this.opts.description,
      ...(this.opts.contact ? { contact: this.opts.contact } : {}),
      default: roots[0],
      api_roots: roots,
    };
  }

  apiRoot(name: string): Record<string, unknown> {
    const r = this.#root(name);
    return { title: r.title, description: r.description, versions: [TAXII_MEDIA], max_content_length: this.opts.maxContentLength };
  }

  #root(name: string) {
    const r = this.opts.apiRoots.find((x) => x.name === name);
    if (!r) throw new AppError('NOT_FOUND', 'no such API root');
    return r;
  }

  async collections(p: Principal, root: string): Promise<Record<string, unknown>> {
    this.#root(root);
    const rights = await this.access.rights(p);
    const list = (await this.store.listCollections(root))
      .map((c) => ({ c, r: rights.get(c.id) }))
      .filter(({ r }) => r && (r.canRead || r.canWrite))
      .map(({ c, r }) => collectionResource(c, r!.canRead, r!.canWrite));
    return list.length ? { collections: list } : {};
  }

  async collection(p: Principal, root: string, id: string): Promise<Record<string, unknown>> {
    const { c, canRead, canWrite } = await this.#collection(p, root, id);
    return collectionResource(c, canRead, canWrite);
  }

  /** §5.1/§5.2: neither right → 404 (existence is not disclosed); the needed one missing → 403. */
  async #collection(p: Principal, root: string, id: string, need?: 'read' | 'write') {
    this.#root(root);
    const all = await this.store.listCollections(root);
    const c = all.find((x) => x.id === id) ?? all.find((x) => x.alias === id);
    const r = c ? (await this.access.rights(p)).get(c.id) : undefined;
    if (!c || !r || (!r.canRead && !r.canWrite)) throw new AppError('NOT_FOUND', 'no such collection');
    if (need === 'read' && !r.canRead) throw new AppError('FORBIDDEN', 'no read access to this collection');
    if (need === 'write' && !r.canWrite) throw new AppError('FORBIDDEN', 'no write access to this collection');
    return { c, canRead: r.canRead, canWrite: r.canWrite };
  }

  async #page(p: Principal, c: CollectionRow, f: TaxiiFilter, { scope, jsonBytes = false, withRecipients = false }: { scope: string; jsonBytes?: boolean; withRecipients?: boolean }): Promise<{ page: ObjectPage; next?: string }> {
    const limit = Math.min(f.limit ?? this.opts.maxPageSize, this.opts.maxPageSize);
    const fp = filterFingerprint(f, `${c.id}|${scope}`);
    let addedAfter = f.addedAfter;
    if (f.next !== undefined) {
      const after = this.cursors.decode(f.next, fp, p.orgId);
      addedAfter = Math.max(addedAfter ?? 0, after);
    }
    // A federated peer node is never sent back the copies of its own objects (it is their
    // origin; it would skip them as loops): the node a peer principal stands for is its identity's.
    const peerNode = p.kind === 'peer' ? (await this.store.getOrganisation(p.orgId))?.node ?? undefined : undefined;
    const page = await this.store.queryObjects({
      collectionIds: [c.id], audience: this.access.audienceOf(p), purpose: 'read',
      ...(peerNode ? { excludeOriginNode: peerNode } : {}),
      ...(f.ids ? { ids: f.ids } : {}), ...(f.types ? { types: f.types } : {}), ...(f.specVersions ? { specVersions: f.specVersions } : {}),
      ...(addedAfter !== undefined ? { addedAfter } : {}), version: f.version, limit,
      ...(this.opts.scanRows !== undefined && !f.ids ? { scanLimit: Math.max(2 * limit, this.opts.scanRows) } : {}),
      // No TAXII response shows recipients, labels (outside the stored JSON) or the REST search text.
      lean: withRecipients ? 'with-recipients' : true, jsonBytes,
    });
    const lastRow = page.rows[page.rows.length - 1];
    const resume = page.more && lastRow ? lastRow.dateAdded : page.scannedTo;
    return resume !== undefined ? { page: { ...page, more: true }, next: this.cursors.encode(resume, fp, p.orgId) } : { page };
  }

  async manifest(p: Principal, root: string, collectionId: string, f: TaxiiFilter): Promise<TaxiiPage> {
    const { c } = await this.#collection(p, root, collectionId, 'read');
    const { page, next } = await this.#page(p, c, f, { scope: 'manifest' });
    const objects = page.rows.map((r) => Buffer.from(JSON.stringify({ id: r.id, date_added: formatMicros(r.dateAdded), version: versionString(r), media_type: STIX_MEDIA })));
    return envelope(page, { next, key: 'objects' }, objects);
  }

  /**
   * Get Objects (§5.3). `o.envelopes`: a federated peer node asks for the provenance envelopes
   * of the page's versions in the page itself (`x_shieldwall_envelopes`, docs/federation.md):
   * one request and one read of the rows instead of a page and an envelopes request naming its
   * ids. Only a peer principal gets them; any other caller gets the plain TAXII envelope.
   */
  async objects(p: Principal, coll: { root: string; collectionId: string }, f: TaxiiFilter, o: { envelopes?: boolean } = {}): Promise<TaxiiPage> {
    const { c } = await this.#collection(p, coll.root, coll.collectionId, 'read');
    const withEnvelopes = o.envelopes === true && p.kind === 'peer' && this.peerEnvelopes !== null;
    const { page, next } = await this.#page(p, c, f, { scope: 'objects', jsonBytes: true, withRecipients: withEnvelopes });
    const custom = withEnvelopes ? { x_shieldwall_envelopes: await this.peerEnvelopes!(page.rows) } : undefined;
    return envelope(page, { next, key: 'objects', custom }, page.rows.map(storedBytes));
  }

  async object(p: Principal, { root, collectionId, objectId }: ObjectRef, f: TaxiiFilter): Promise<TaxiiPage> {
    const { c } = await this.#collection(p, root, collectionId, 'read');
    const { page, next } = await this.#page(p, c, { ...f, ids: [objectId] }, { scope: 'object', jsonBytes: true });
    if (page.rows.length === 0 && f.next === undefined && f.addedAfter === undefined) throw new AppError('NOT_FOUND', 'no such object');
    return envelope(page, { next, key: 'objects' }, page.rows.map(storedBytes));
  }

  async versions(p: Principal, { root, collectionId, objectId }: ObjectRef, f: TaxiiFilter): Promise<TaxiiPage> {
    const { c } = await this.#collection(p, root, collectionId, 'read');
    const { page, next } = await this.#page(p, c, { ...f, ids: [objectId], version: { kind: 'all' } }, { scope: 'versions' });
    if (page.rows.length === 0 && f.next === undefined && f.addedAfter === undefined) throw new AppError('NOT_FOUND', 'no such object');
    return envelope(page, { next, key: 'versions' }, page.rows.map((r) => Buffer.from(JSON.stringify(versionString(r)))));
  }

  async addObjects(actor: Actor & { principal: Principal }, root: string, collectionId: string, envelopeBody: unknown): Promise<StatusResource> {
    const { c } = await this.#collection(actor.principal, root, collectionId, 'write');
    if (!envelopeBody || typeof envelopeBody !== 'object' || Array.isArray(envelopeBody)) {
      throw new AppError('UNPROCESSABLE', 'the body must be a TAXII envelope object');
    }
    const objects = (envelopeBody as { objects?: unknown }).objects;
    if (!Array.isArray(objects) || objects.length === 0) throw new AppError('UNPROCESSABLE', 'the envelope must carry a non-empty "objects" list');
    const requestUs = this.clock.now() * 1000;
    const envelopes = (envelopeBody as { x_shieldwall_envelopes?: unknown }).x_shieldwall_envelopes;
    // A federation push (docs/federation.md): the objects come with their signed provenance.
    const results = actor.principal.kind === 'peer' && this.peerReceiver && Array.isArray(envelopes)
      ? await this.peerReceiver(actor.principal, c.id, objects, envelopes)
      : await this.intel.submit(actor, c.id, objects);
    // §4.3.1: every status detail names the version, echoed as the object carries it (never
    // reformatted); an SCO's version is its date_added, and an item with no version at all (not
    // an object, an SCO that was refused, or a `modified` that is no timestamp: `version` is one)
    // is reported at the request timestamp.
    const requestTime = formatMicros(requestUs);
    const successes = results.flatMap((r) => (r.status === 'rejected' ? [] : [{
      id: r.id, version: r.versionText ?? formatMicros(r.dateAdded),
      ...(r.status === 'duplicate' ? { message: 'duplicate of a stored version' } : r.note ? { message: r.note } : {}),
    }]));
    const failures = results.flatMap((r) => (r.status === 'rejected'
      ? [{ id: r.id ?? '', version: r.versionText !== null && isStixTimestamp(r.versionText) ? r.versionText : requestTime, message: r.message }] : []));
    const status: StatusResource = {
      id: crypto.randomUUID(), status: 'complete', request_timestamp: requestTime, total_count: results.length,
      success_count: successes.length, failure_count: failures.length, pending_count: 0,
      ...(successes.length ? { successes } : {}), ...(failures.length ? { failures } : {}),
    };
    await this.store.putStatus({ id: status.id, apiRoot: root, createdUs: requestUs, json: JSON.stringify({ ...status, _org: actor.principal.orgId }) });
    await this.access.audit(actor, 'taxii.add-objects', c.id, { status: status.id, total: status.total_count, failures: status.failure_count });
    return status;
  }

  async status(p: Principal, root: string, statusId: string): Promise<StatusResource> {
    this.#root(root);
    const row = await this.store.getStatus(statusId);
    const parsed = row && row.apiRoot === root ? (JSON.parse(row.json) as StatusResource & { _org?: string }) : null;
    // A status is visible to the organisation that posted, and nobody else (not disclosed).
    if (!parsed || parsed._org !== p.orgId) throw new AppError('NOT_FOUND', 'no such status');
    const { _org: _, ...status } = parsed;
    return status;
  }

  async deleteObject(actor: Actor & { principal: Principal }, { root, collectionId, objectId }: ObjectRef, f: TaxiiFilter): Promise<void> {
    const p = actor.principal;
    const { c, canRead, canWrite } = await this.#collection(p, root, collectionId);
    if (!canRead || !canWrite) throw new AppError('FORBIDDEN', 'deleting needs both read and write access (§5.7)');
    const page = await this.store.queryObjects({
      collectionIds: [c.id], audience: this.access.audienceOf(p), purpose: 'read', ids: [objectId], version: f.version,
      ...(f.specVersions ? { specVersions: f.specVersions } : {}), limit: 10_000,
    });
    if (page.rows.length === 0) throw new AppError('NOT_FOUND', 'no such object');
    // An SCO is held per organisation: deleting it deletes the caller's own copy, never another
    // organisation's copy it can read.
    const rows = page.rows.some((r) => isUnversionedKey(r.version) && r.creatorOrg === p.orgId)
      ? page.rows.filter((r) => !isUnversionedKey(r.version) || r.creatorOrg === p.orgId) : page.rows;
    if (rows.some((r) => r.creatorOrg !== p.orgId)) throw new AppError('FORBIDDEN', 'only the creating organisation may delete an object');
    // Through intel: a deleted version leaves a tombstone, so the (id, version) never comes back with another content.
    const n = await this.intel.deleteVersions(c.id, objectId, rows.map((r) => r.version));
    await this.access.audit(actor, 'taxii.delete-object', objectId, { collection: c.id, versions: rows.map((r) => r.version), deleted: n });
  }
}

/** The version shown in manifests and versions lists: modified, else created, else date_added (SCOs). */
function versionString(r: ObjectRow): string {
  return r.modified ?? r.created ?? formatMicros(r.dateAdded);
}

function collectionResource(c: CollectionRow, canRead: boolean, canWrite: boolean): Record<string, unknown> {
  return {
    id: c.id, title: c.title, ...(c.description ? { description: c.description } : {}), ...(c.alias ? { alias: c.alias } : {}),
    can_read: canRead, can_write: canWrite, media_types: [STIX_MEDIA],
  };
}

/** The stored JSON of a row as bytes (the store returns them undecoded when asked). */
function storedBytes(r: ObjectRow): Buffer {
  return r.jsonBytes ?? Buffer.from(r.json);
}

const COMMA = Buffer.from(',');

/**
 * §3.7: an empty result is `{}`; lists are never empty; `more` and `next` only when there is
 * more. `items` are serialised JSON values as UTF-8 bytes (stored objects are spliced in as
 * stored): one copy into the response buffer, no string building.
 */
/** The TAXII envelope of a page; `custom` properties (`x_…`) go before the items. */
function envelope(page: ObjectPage, o: { next: string | undefined; key: 'objects' | 'versions'; custom?: Record<string, unknown> | undefined }, items: readonly Buffer[]): TaxiiPage {
  const { next, key } = o;
  const head: string[] = [];
  if (page.more) head.push('"more":true');
  if (next) head.push(`"next":${JSON.stringify(next)}`);
  for (const [k, v] of Object.entries(o.custom ?? {})) head.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  const parts: Buffer[] = [];
  if (items.length) {
    head.push(`"${key}":[`);
    parts.push(Buffer.from(`{${head.join(',')}`));
    items.forEach((b, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(b);
    });
    parts.push(Buffer.from(']}'));
  } else parts.push(Buffer.from(`{${head.join(',')}}`));
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  return { body: Buffer.concat(parts), first: first ? formatMicros(first.dateAdded) : null, last: last ? formatMicros(last.dateAdded) : null };
}
