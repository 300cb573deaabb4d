/**
 * Inventory, vulnerability intelligence and exposures of the members (issue #12, part 2).
 *
 * Assets are records of their organisation (AMBER to itself by default, or the recipients it
 * names); vulnerability intelligence (KEV, CVE 5, EPSS) is node-wide public data (CLEAR
 * records); an exposure (asset × CVE) carries its asset's release facts, its status is the
 * record state and its history the record's events. The matcher keeps an in-memory index of
 * every vulnerability's rules, so a new KEV entry is matched against the inventories without
 * scanning every vulnerability, and only the new entries are matched.
 */
import { AppError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { EventBus } from '../../core/bus.js';
import type { Tlp } from '../../core/policy.js';
import { mayRelease, type AccessService } from '../../access/index.js';
import type { RecordEventRow, RecordRow, Store } from '../../store/index.js';
import { requirePermission, type AuthedActor } from '../../respond/index.js';
import { formatCpe, fromProduct, parseCpe, CpeError, type Wfn } from '../cpe/name.js';
import { VulnIndex, productKey, type ProductHit } from './engine.js';
import { parseCve5, parseEpss, parseKev, type AffectedRule, type Refused } from './intel.js';
import {
  ASSET, CRITICALITIES, DEFAULT_DUE_POLICY, EXPOSURE, EXPOSURE_STATUSES, VULN, bestCvss, dueDateOf, priorityOf,
  type AssetDoc, type Criticality, type DuePolicy, type ExposureDoc, type ExposureStatus, type VulnDoc,
} from './model.js';
import { scanOwned, scanRecords, stableId } from './records.js';
import { raiseKevAlerts } from './alerts.js';

export interface ExposureDeps {
  readonly store: Store;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly bus: EventBus;
}

export interface Share {
  tlp?: Tlp | null;
  recipients?: string[];
}

export interface AssetView extends AssetDoc {
  id: string;
  orgId: string;
  tlp: Tlp | null;
  recipients: string[];
  rev: number;
}

export interface ExposureView extends ExposureDoc {
  id: string;
  status: ExposureStatus;
  rev: number;
}

export interface ImportReport {
  imported: number;
  refused: Refused[];
}

const MAX_ASSETS = 100_000;
const MAX_PRODUCTS = 200;
/** Assets matched per {@link VulnIndex.matchMany} call. */
const MATCH_BATCH = 5000;
const TLPS: readonly Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];

const bad = (m: string, details?: Record<string, unknown>) => new AppError('BAD_REQUEST', m, details ? { details } : {});
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Normalises one product of an asset: a CPE (2.3 or 2.2) or `{vendor, product, version}` (or "vendor product version" text is refused). */
export function productOf(p: unknown): Wfn {
  if (typeof p === 'string') return parseCpe(p);
  if (isObj(p) && typeof p.cpe === 'string') return parseCpe(p.cpe);
  if (isObj(p) && typeof p.vendor === 'string' && typeof p.product === 'string' && p.vendor.trim() && p.product.trim()) {
    return fromProduct({ vendor: p.vendor, product: p.product, version: typeof p.version === 'string' ? p.version : null });
  }
  throw new CpeError('a product is a CPE name or {vendor, product, version}');
}

/** Parses an asset from JSON / a CSV row (`products` may be a `;`-separated list of CPEs). */
export function assetOf(x: unknown): AssetDoc {
  if (!isObj(x)) throw bad('an asset is an object');
  const name = typeof x.name === 'string' ? x.name.trim() : '';
  if (!name || name.length > 200) throw bad('asset name: 1–200 characters');
  const crit = (typeof x.criticality === 'string' ? x.criticality.trim().toLowerCase() : 'medium') || 'medium';
  if (!CRITICALITIES.includes(crit as Criticality)) throw bad(`criticality must be one of ${CRITICALITIES.join(', ')}`);
  let raw: unknown[] = [];
  if (Array.isArray(x.products)) raw = x.products;
  else if (typeof x.products === 'string') raw = x.products.split(/[;\n]/).map((s) => s.trim()).filter(Boolean);
  if (typeof x.cpe === 'string' && x.cpe.trim()) raw.push(x.cpe.trim());
  if (typeof x.vendor === 'string' && typeof x.product === 'string' && x.vendor.trim()) raw.push({ vendor: x.vendor, product: x.product, version: x.version });
  if (raw.length > MAX_PRODUCTS) throw bad(`at most ${MAX_PRODUCTS} products per asset`);
  const products: string[] = [];
  for (const p of raw) {
    try {
      products.push(formatCpe(productOf(p)));
    } catch (e) {
      throw bad(`asset ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const text = (k: string, max: number) => (typeof x[k] === 'string' && (x[k] as string).trim() ? (x[k] as string).trim().slice(0, max) : null);
  return { name, vitalFunction: text('vitalFunction', 200) ?? text('vital_function', 200), criticality: crit as Criticality, owner: text('owner', 200), products: [...new Set(products)], retired: false };
}

interface MatchOptions {
  alert: boolean;
  only?: ReadonlySet<string>;
  via?: { index: VulnIndex; release: (a: RecordRow) => { tlp: Tlp | null; recipients: string[] }; createOnly: boolean };
}

export class ExposureService {
  #index: VulnIndex | null = null;
  #vulns = new Map<string, VulnDoc>();
  #loading: Promise<void> | null = null;
  policy: DuePolicy = DEFAULT_DUE_POLICY;

  constructor(readonly deps: ExposureDeps) {}

  #nowUs(): number {
    return this.deps.clock.now() * 1000;
  }

  #visible(actor: AuthedActor, row: RecordRow): boolean {
    return mayRelease({ tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode }, this.deps.access.audienceOf(actor.principal), 'read');
  }

  async #audit(tx: Store, actor: AuthedActor, what: { action: string; target: string; detail: Record<string, unknown> }): Promise<void> {
    const { action, target, detail } = what;
    const p = actor.principal;
    await tx.appendAudit({ atUs: this.#nowUs(), userId: p.userId, orgId: p.orgId, tokenId: p.tokenId, source: actor.source, action, target, detail: JSON.stringify(detail).slice(0, 8000) });
  }

  async #recipients(share: Share): Promise<{ tlp: Tlp | null; recipients: string[] }> {
    const tlp = share.tlp === undefined ? 'amber' : share.tlp;
    if (tlp !== null && !TLPS.includes(tlp)) throw bad(`tlp must be one of ${TLPS.join(', ')}`);
    const recipients = [...new Set(share.recipients ?? [])];
    if (recipients.length > 100) throw bad('at most 100 recipients');
    const orgs = new Set((await this.deps.store.listOrganisations()).map((o) => o.id));
    for (const r of recipients) if (!orgs.has(r) && !r.startsWith('identity--')) throw bad(`unknown recipient ${r}`);
    return { tlp, recipients };
  }

  // ---------------------------------------------------------------- vulnerability index

  /** Loads every vulnerability into the matcher (once per process). */
  async index(): Promise<VulnIndex> {
    if (this.#index) return this.#index;
    this.#loading ??= (async () => {
      const index = new VulnIndex();
      const rows = await scanRecords(this.deps.store, VULN, { hop: 'public' });
      for (const r of rows) {
        const doc = JSON.parse(r.json) as VulnDoc;
        this.#vulns.set(doc.cve, doc);
        index.put({ cve: doc.cve, rules: rulesOf(doc) });
      }
      this.#index = index;
    })();
    await this.#loading;
    return this.#index!;
  }

  async vuln(cve: string): Promise<VulnDoc | null> {
    await this.index();
    return this.#vulns.get(cve) ?? null;
  }

  async listVulns(f: { kev?: boolean; q?: string; limit?: number }): Promise<VulnDoc[]> {
    await this.index();
    const q = f.q?.toLowerCase();
    const out: VulnDoc[] = [];
    for (const v of this.#vulns.values()) {
      if (f.kev !== undefined && (v.kev !== null && v.kev.removedAt === null) !== f.kev) continue;
      if (q && !v.cve.toLowerCase().includes(q) && !(v.title ?? v.kev?.vulnerabilityName ?? '').toLowerCase().includes(q)) continue;
      out.push(v);
    }
    out.sort((a, b) => (b.kev?.dateAdded ?? '').localeCompare(a.kev?.dateAdded ?? '') || b.cve.localeCompare(a.cve));
    return out.slice(0, Math.min(Math.max(f.limit ?? 200, 1), 5000));
  }

  /** Writes vulnerability documents (CLEAR, node-wide) and refreshes the index. */
  async #putVulns(tx: Store, actor: AuthedActor, docs: VulnDoc[], baseUs: number): Promise<void> {
    let i = 0;
    for (const doc of docs) {
      const id = `${VULN}--${doc.cve.toLowerCase()}`;
      const prev = await tx.getRecord(id);
      const now = baseUs + i++;
      const row: RecordRow = prev
        ? { ...prev, json: JSON.stringify(doc), updatedUs: now, rev: prev.rev + 1 }
        : { id, kind: VULN, parentId: null, creatorOrg: actor.principal.orgId, tlp: 'clear', recipients: [], originNode: null, exerciseId: null, state: doc.kev && !doc.kev.removedAt ? 'kev' : 'known', createdUs: now, updatedUs: now, rev: 1, json: JSON.stringify(doc) };
      row.state = doc.kev && !doc.kev.removedAt ? 'kev' : 'known';
      if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `${doc.cve} changed during the import; retry`);
    }
  }

  /** The CVEs currently in a KEV catalog (not removed). */
  async currentKev(): Promise<Set<string>> {
    await this.index();
    const out = new Set<string>();
    for (const v of this.#vulns.values()) if (v.kev && v.kev.removedAt === null) out.add(v.cve);
    return out;
  }

  #merge(cve: string): VulnDoc {
    return this.#vulns.get(cve) ?? { cve, title: null, description: null, cvss: [], epss: null, kev: null, affected: [], cwes: [], sources: [] };
  }

  #commitIndex(docs: VulnDoc[]): void {
    for (const d of docs) {
      this.#vulns.set(d.cve, d);
      this.#index!.put({ cve: d.cve, rules: rulesOf(d) });
    }
  }

  /**
   * A KEV catalog snapshot. New CVEs get first-seen now; CVEs of this catalog absent from the
   * snapshot are marked removed (CISA removes entries without saying so); CVEs that return are
   * restored. New entries are matched against every inventory and raise alerts.
   */
  async importKev(actor: AuthedActor, doc: unknown): Promise<{ catalogVersion: string; entries: number; added: string[]; removed: string[]; refused: Refused[]; exposures: number; alerts: number }> {
    requirePermission(actor, 'vuln-intel.write');
    return this.ingestKev(actor, doc);
  }

  /** {@link importKev} without the permission check: the scheduled feed (feeds.ts), configured by a holder of vuln-intel.write. */
  async ingestKev(actor: AuthedActor, doc: unknown): Promise<{ catalogVersion: string; entries: number; added: string[]; removed: string[]; refused: Refused[]; exposures: number; alerts: number }> {
    let parsed: ReturnType<typeof parseKev>;
    try {
      parsed = parseKev(doc);
    } catch (e) {
      throw bad(e instanceof Error ? e.message : String(e));
    }
    // A snapshot none of whose entries could be read (a changed format, a broken download) is not
    // a catalog that removed everything: importing it marked every KEV entry of the node removed.
    if (parsed.entries.length === 0 && parsed.refused.length > 0) {
      throw bad(`no entry of the catalog could be read (${parsed.refused.length} refused, first: ${parsed.refused[0]!.reason}); nothing imported`, { refused: parsed.refused.slice(0, 20) });
    }
    await this.index();
    const now = new Date(this.deps.clock.now()).toISOString();
    // A refused entry is still in the catalog (its cveID is its ref): not a removal.
    const inSnapshot = new Set([...parsed.entries.map((e) => e.cve), ...parsed.refused.map((r) => r.ref.trim())]);
    const changed: VulnDoc[] = [];
    const added: string[] = [];
    for (const e of parsed.entries) {
      const prev = this.#merge(e.cve);
      const isNew = !prev.kev || prev.kev.removedAt !== null;
      if (isNew) added.push(e.cve);
      const kev = { ...e, firstSeen: prev.kev?.firstSeen ?? now, lastSeen: now, catalogVersion: parsed.meta.catalogVersion, removedAt: null };
      changed.push({ ...prev, kev, title: prev.title ?? e.vulnerabilityName, description: prev.description ?? e.shortDescription, sources: [...new Set([...prev.sources, `kev:${e.catalog}`])] });
    }
    const removed: string[] = [];
    for (const v of this.#vulns.values()) {
      if (v.kev && v.kev.catalog === parsed.meta.catalog && v.kev.removedAt === null && !inSnapshot.has(v.cve)) {
        removed.push(v.cve);
        changed.push({ ...v, kev: { ...v.kev, removedAt: now } });
      }
    }
    await this.deps.store.transaction(async (tx) => {
      await this.#putVulns(tx, actor, changed, this.#nowUs());
      await this.#audit(tx, actor, { action: 'vuln-intel.kev.import', target: `kev:${parsed.meta.catalog}`, detail: { catalogVersion: parsed.meta.catalogVersion, entries: parsed.entries.length, added: added.length, removed, refused: parsed.refused.length } });
    });
    this.#commitIndex(changed);
    // Only the new entries can raise new KEV exposures; the rest keep their exposures (priority refreshed on the next match).
    const res = added.length ? await this.matchAll(actor, new Set(added), { alert: true }) : { exposures: 0, alerts: 0 };
    return { catalogVersion: parsed.meta.catalogVersion, entries: parsed.entries.length, added, removed, refused: parsed.refused, ...res };
  }

  /** CVE JSON 5 records; each one imported or refused with its reason. */
  async importCves(actor: AuthedActor, docs: unknown[]): Promise<ImportReport & { exposures: number }> {
    requirePermission(actor, 'vuln-intel.write');
    if (docs.length > 200_000) throw bad('at most 200,000 records per import');
    await this.index();
    const refused: Refused[] = [];
    const changed: VulnDoc[] = [];
    docs.forEach((d, i) => {
      try {
        const c = parseCve5(d);
        if (c.state === 'REJECTED') {
          refused.push({ ref: c.cve, reason: 'the record is REJECTED' });
          return;
        }
        const prev = this.#merge(c.cve);
        changed.push({ ...prev, title: c.title ?? prev.title, description: c.description ?? prev.description, cvss: c.cvss, affected: c.affected, cwes: c.cwes, sources: [...new Set([...prev.sources, 'cve5'])] });
      } catch (e) {
        refused.push({ ref: isObj(d) && isObj(d.cveMetadata) && typeof d.cveMetadata.cveId === 'string' ? d.cveMetadata.cveId : `#${i}`, reason: e instanceof Error ? e.message : String(e) });
      }
    });
    await this.deps.store.transaction(async (tx) => {
      await this.#putVulns(tx, actor, changed, this.#nowUs());
      await this.#audit(tx, actor, { action: 'vuln-intel.cve.import', target: 'cve', detail: { imported: changed.length, refused: refused.length } });
    });
    this.#commitIndex(changed);
    const res = changed.length ? await this.matchAll(actor, new Set(changed.map((c) => c.cve)), { alert: false }) : { exposures: 0 };
    return { imported: changed.length, refused, exposures: res.exposures };
  }

  async importEpss(actor: AuthedActor, text: string): Promise<ImportReport> {
    requirePermission(actor, 'vuln-intel.write');
    return this.ingestEpss(actor, text);
  }

  /** {@link importEpss} without the permission check (the scheduled feed). */
  async ingestEpss(actor: AuthedActor, text: string): Promise<ImportReport> {
    await this.index();
    let parsed: ReturnType<typeof parseEpss>;
    try {
      parsed = parseEpss(text);
    } catch (e) {
      throw bad(`EPSS CSV: ${e instanceof Error ? e.message : String(e)}`);
    }
    const changed: VulnDoc[] = parsed.entries.map((e) => {
      const prev = this.#merge(e.cve);
      const cvss = prev.cvss.length || e.cvss3 === null ? prev.cvss : [{ version: '3.x', score: e.cvss3, vector: null, source: 'nvd (epss extract)' }];
      return { ...prev, epss: e, cvss, sources: [...new Set([...prev.sources, 'epss'])] };
    });
    await this.deps.store.transaction(async (tx) => {
      await this.#putVulns(tx, actor, changed, this.#nowUs());
      await this.#audit(tx, actor, { action: 'vuln-intel.epss.import', target: 'epss', detail: { imported: changed.length, refused: parsed.refused.length } });
    });
    this.#commitIndex(changed);
    return { imported: changed.length, refused: parsed.refused };
  }

  // ---------------------------------------------------------------- inventory

  async importAssets(actor: AuthedActor, items: unknown[], share: Share = {}): Promise<ImportReport & { created: number; updated: number; exposures: number }> {
    requirePermission(actor, 'inventory.write');
    if (items.length > MAX_ASSETS) throw bad(`at most ${MAX_ASSETS} assets per import`);
    const facts = await this.#recipients(share);
    const refused: Refused[] = [];
    // Rows naming the same asset (names compare case-insensitively, as the asset's id does) are one
    // asset: inventories list a host once per product (the cpe / vendor + product columns), and
    // writing each row over the previous kept only the host's last product.
    const byName = new Map<string, AssetDoc>();
    items.forEach((x, i) => {
      try {
        const doc = assetOf(x);
        const prev = byName.get(doc.name.toLowerCase());
        if (!prev) {
          byName.set(doc.name.toLowerCase(), doc);
          return;
        }
        const products = [...new Set([...prev.products, ...doc.products])];
        if (products.length > MAX_PRODUCTS) throw bad(`asset ${doc.name}: at most ${MAX_PRODUCTS} products per asset`);
        byName.set(doc.name.toLowerCase(), {
          ...prev, products, vitalFunction: prev.vitalFunction ?? doc.vitalFunction, owner: prev.owner ?? doc.owner,
          criticality: CRITICALITIES.indexOf(doc.criticality) > CRITICALITIES.indexOf(prev.criticality) ? doc.criticality : prev.criticality,
        });
      } catch (e) {
        refused.push({ ref: isObj(x) && typeof x.name === 'string' && x.name.trim() ? x.name : `#${i + 1}`, reason: e instanceof Error ? e.message : String(e) });
      }
    });
    const docs = [...byName.values()];
    const org = actor.principal.orgId;
    let created = 0;
    let updated = 0;
    const rows: RecordRow[] = [];
    // This process's own writes drop the organisation's cached inventory (the newest-record check
    // alone misses a write with the same updated_us as the cached newest, e.g. a manual clock).
    this.#assets.delete(org);
    await this.deps.store.transaction(async (tx) => {
      const base = this.#nowUs();
      let i = 0;
      for (const doc of docs) {
        const id = stableId(ASSET, org, doc.name.toLowerCase());
        const prev = await tx.getRecord(id);
        const now = base + i++;
        const row: RecordRow = prev
          ? { ...prev, json: JSON.stringify(doc), state: 'active', tlp: facts.tlp, recipients: facts.recipients, updatedUs: now, rev: prev.rev + 1 }
          : { id, kind: ASSET, parentId: null, creatorOrg: org, tlp: facts.tlp, recipients: facts.recipients, originNode: null, exerciseId: null, state: 'active', createdUs: now, updatedUs: now, rev: 1, json: JSON.stringify(doc) };
        if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `asset ${doc.name} changed during the import; retry`);
        await tx.appendRecordEvent({ recordId: id, atUs: now, kind: prev ? `${ASSET}.updated` : `${ASSET}.created`, orgId: org, userId: actor.principal.userId, json: JSON.stringify({ products: doc.products.length }) });
        if (prev) updated++;
        else created++;
        rows.push(row);
      }
      await this.#audit(tx, actor, { action: 'inventory.import', target: org, detail: { created, updated, refused: refused.length } });
    });
    const exposures = await this.#matchAssets(actor, rows, { alert: false });
    return { imported: created + updated, created, updated, refused, exposures: exposures.exposures };
  }

  #assetView(row: RecordRow): AssetView {
    return { ...(JSON.parse(row.json) as AssetDoc), id: row.id, orgId: row.creatorOrg, tlp: row.tlp, recipients: row.recipients, rev: row.rev };
  }

  async listAssets(actor: AuthedActor, f: { orgId?: string; limit?: number } = {}): Promise<AssetView[]> {
    const limit = Math.min(Math.max(f.limit ?? 500, 1), 1000);
    const audience = this.deps.access.audienceOf(actor.principal);
    // An organisation filter reads every asset the reader may read (filtering the newest `limit`
    // rows, as this did, answered [] for a member whose assets were older than another's).
    const rows = f.orgId
      ? (await scanRecords(this.deps.store, ASSET, audience, { states: ['active'] })).filter((r) => r.creatorOrg === f.orgId).slice(0, limit)
      : await this.deps.store.listRecords({ kind: ASSET, audience, purpose: 'read', limit, states: ['active'] });
    return rows.map((r) => this.#assetView(r));
  }

  async #loadAsset(actor: AuthedActor, id: string): Promise<RecordRow> {
    const row = await this.deps.store.getRecord(id);
    if (!row || row.kind !== ASSET || row.state !== 'active' || !this.#visible(actor, row)) throw new AppError('NOT_FOUND', `no asset ${id}`);
    return row;
  }

  async getAsset(actor: AuthedActor, id: string): Promise<AssetView> {
    return this.#assetView(await this.#loadAsset(actor, id));
  }

  async updateAsset(actor: AuthedActor, id: string, patch: Record<string, unknown>): Promise<AssetView> {
    requirePermission(actor, 'inventory.write');
    const row = await this.#loadAsset(actor, id);
    if (row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owning organisation changes its assets');
    const prev = JSON.parse(row.json) as AssetDoc;
    const doc = assetOf({ ...prev, ...patch, name: prev.name });
    const facts = patch.tlp !== undefined || patch.recipients !== undefined ? await this.#recipients({ tlp: (patch.tlp as Tlp | null | undefined) ?? row.tlp, recipients: (patch.recipients as string[] | undefined) ?? row.recipients }) : { tlp: row.tlp, recipients: row.recipients };
    const next: RecordRow = { ...row, json: JSON.stringify(doc), tlp: facts.tlp, recipients: facts.recipients, updatedUs: this.#nowUs(), rev: row.rev + 1 };
    this.#assets.delete(row.creatorOrg);
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(next))) throw new AppError('CONFLICT', `asset ${id} was changed by someone else; reload and retry`);
      await tx.appendRecordEvent({ recordId: id, atUs: next.updatedUs, kind: `${ASSET}.updated`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify({ fields: Object.keys(patch) }) });
      await this.#audit(tx, actor, { action: 'inventory.update', target: id, detail: { fields: Object.keys(patch) } });
    });
    await this.#matchAssets(actor, [next], { alert: false });
    return this.#assetView(next);
  }

  async retireAsset(actor: AuthedActor, id: string): Promise<void> {
    requirePermission(actor, 'inventory.write');
    const row = await this.#loadAsset(actor, id);
    if (row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owning organisation retires its assets');
    const next: RecordRow = { ...row, state: 'retired', json: JSON.stringify({ ...(JSON.parse(row.json) as AssetDoc), retired: true }), updatedUs: this.#nowUs(), rev: row.rev + 1 };
    this.#assets.delete(row.creatorOrg);
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(next))) throw new AppError('CONFLICT', `asset ${id} was changed by someone else; reload and retry`);
      await tx.appendRecordEvent({ recordId: id, atUs: next.updatedUs, kind: `${ASSET}.retired`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: '{}' });
      await this.#audit(tx, actor, { action: 'inventory.retire', target: id, detail: {} });
    });
  }

  // ---------------------------------------------------------------- matching

  /** Matches every organisation's active assets against the given CVEs (all when omitted). */
  async matchAll(actor: AuthedActor, only?: ReadonlySet<string>, o: { alert: boolean } = { alert: false }): Promise<{ exposures: number; alerts: number }> {
    const cache = await this.#assetCache();
    let assets: RecordRow[];
    const index = await this.index();
    const keys = only ? [...only].map((c) => index.keysOf(c)) : [null];
    if (keys.some((k) => k === null)) assets = [...cache.values()].flatMap((c) => [...c.rows.values()]);
    else {
      const ids = new Map<string, RecordRow>();
      for (const c of cache.values()) for (const k of keys.flat() as string[]) for (const id of c.byKey.get(k) ?? []) ids.set(id, c.rows.get(id)!);
      assets = [...ids.values()];
    }
    return this.#matchAssets(actor, assets, { ...o, ...(only ? { only } : {}) });
  }

  /**
   * Every organisation's active assets, with a product-key index, cached per organisation and
   * re-read when its newest asset record changed (another process may write assets too).
   */
  readonly #assets = new Map<string, { newestUs: number; newestId: string; rows: Map<string, RecordRow>; byKey: Map<string, Set<string>> }>();
  async #assetCache(): Promise<Map<string, { rows: Map<string, RecordRow>; byKey: Map<string, Set<string>> }>> {
    const orgs = await this.deps.store.listOrganisations();
    for (const o of orgs) {
      const audience = { hop: 'local' as const, orgId: o.id, groupIds: [] };
      const [newest] = await this.deps.store.listRecords({ kind: ASSET, audience, purpose: 'read', limit: 1 });
      const cached = this.#assets.get(o.id);
      if (cached && newest && cached.newestUs === newest.updatedUs && cached.newestId === newest.id) continue;
      if (cached && !newest) continue;
      const rows = new Map<string, RecordRow>();
      const byKey = new Map<string, Set<string>>();
      for (const r of await scanRecords(this.deps.store, ASSET, audience)) {
        if (r.creatorOrg !== o.id || r.state !== 'active') continue;
        rows.set(r.id, r);
        for (const p of (JSON.parse(r.json) as AssetDoc).products) {
          const k = productKey(parseCpe(p));
          if (!k) continue;
          let set = byKey.get(k);
          if (!set) byKey.set(k, (set = new Set()));
          set.add(r.id);
        }
      }
      this.#assets.set(o.id, { newestUs: newest?.updatedUs ?? 0, newestId: newest?.id ?? '', rows, byKey });
    }
    return this.#assets;
  }

  /**
   * STIX `vulnerability` objects of the intel store with CPE references (stix.ts): matched against
   * the assets of the organisations that may read the object, creating exposures only (an
   * exposure another source already found stays as it is). An exposure found this way is never
   * released wider than the object: the stricter TLP of asset and object, and only the asset's
   * recipients that may read the object; its `via` is `stix`, never the object's id.
   */
  async matchStix(objs: readonly { cves: readonly string[]; cpes: readonly string[]; tlp: Tlp | null; mayRead: (orgId: string) => boolean }[]): Promise<number> {
    let created = 0;
    const cache = await this.#assetCache();
    for (const obj of objs) {
      if (!obj.cpes.length || !obj.cves.length) continue;
      const index = new VulnIndex();
      for (const cve of obj.cves) index.put({ cve, rules: [{ kind: 'cve5', source: 'stix', vendor: '', product: '', cpes: [...obj.cpes], versions: [], defaultStatus: 'affected' }] });
      // Only the assets whose product keys the object's CPEs can hit (all of them for a pattern CPE).
      const keys = index.keysOf(obj.cves[0]!);
      const assets: RecordRow[] = [];
      for (const [orgId, c] of cache) {
        if (!obj.mayRead(orgId)) continue;
        if (keys === null) for (const a of c.rows.values()) assets.push(a);
        else {
          const ids = new Set<string>();
          for (const k of keys) for (const id of c.byKey.get(k) ?? []) ids.add(id);
          for (const id of ids) assets.push(c.rows.get(id)!);
        }
      }
      if (!assets.length) continue;
      const actor: AuthedActor = { principal: { orgId: assets[0]!.creatorOrg, userId: null, username: 'stix', roles: [], tokenId: null, kind: 'api', groupIds: [] }, source: 'stix' };
      const release = (a: RecordRow) => ({ tlp: stricterTlp(a.tlp, obj.tlp), recipients: a.recipients.filter((r) => obj.mayRead(r)) });
      created += (await this.#matchAssets(actor, assets, { alert: false, via: { index, release, createOnly: true } })).exposures;
    }
    return created;
  }

  /** `only`: match these CVEs only; `via`: another index (STIX), the release of what it finds, and whether to create only. */
  async #matchAssets(actor: AuthedActor, assets: readonly RecordRow[], o: MatchOptions): Promise<{ exposures: number; alerts: number }> {
    const { only, via } = o;
    const index = via?.index ?? await this.index();
    const releaseOf = via?.release ?? ((a: RecordRow) => ({ tlp: a.tlp, recipients: a.recipients }));
    const hits: { asset: RecordRow; doc: AssetDoc; hit: ProductHit }[] = [];
    for (let i = 0; i < assets.length; i += MATCH_BATCH) {
      const batch = assets.slice(i, i + MATCH_BATCH).map((a) => ({ asset: a, doc: JSON.parse(a.json) as AssetDoc }));
      const found = index.matchMany(batch.map((b) => b.doc.products), only);
      for (const [j, b] of batch.entries()) for (const hit of found[j]!) hits.push({ asset: b.asset, doc: b.doc, hit });
    }
    if (hits.length === 0) return { exposures: 0, alerts: 0 };
    // Exposures already at their state are skipped; this counts the new ones.
    const created: { row: RecordRow; doc: ExposureDoc }[] = [];
    const escalated: { row: RecordRow; doc: ExposureDoc }[] = [];
    const nowMs = this.deps.clock.now();
    // One transaction: the existing exposures read in batches, new ones inserted and their
    // history appended with multi-row statements; only changed exposures are written one by one.
    await this.deps.store.transaction(async (tx) => {
      const base = this.#nowUs();
      let i = 0;
      const first = new Map<string, (typeof hits)[number]>();
      for (const h of hits) {
        const id = stableId(EXPOSURE, h.asset.id, h.hit.cve);
        if (!first.has(id)) first.set(id, h);
      }
      const prevs = new Map((await tx.getRecords([...first.keys()])).map((r) => [r.id, r]));
      const fresh: { row: RecordRow; doc: ExposureDoc; hit: ProductHit }[] = [];
      const events: Omit<RecordEventRow, 'seq'>[] = [];
      for (const [id, { asset, doc, hit }] of first) {
        const v = this.#vulns.get(hit.cve);
        const kev = !!v?.kev && v.kev.removedAt === null;
        const terms = { kev, ransomware: v?.kev?.ransomware === true, epss: v?.epss?.score ?? null, cvss: v ? bestCvss(v.cvss) : null, criticality: doc.criticality };
        const prev = prevs.get(id);
        const now = base + i++;
        const rel = releaseOf(asset);
        if (prev && via?.createOnly) continue;
        if (prev) {
          const pd = JSON.parse(prev.json) as ExposureDoc;
          // Newly known exploited: the KEV policy's (shorter) due date from now, and an alert.
          const becameKev = kev && !pd.kev;
          const dueDate = becameKev ? [pd.dueDate, dueDateOf(this.policy, terms, nowMs)].sort()[0]! : pd.dueDate;
          const next: ExposureDoc = { ...pd, ...terms, priority: priorityOf(terms), confidence: hit.confidence, via: hit.via, cisaDueDate: v?.kev?.dueDate ?? null, assetName: doc.name, dueDate };
          if (JSON.stringify(next) === prev.json && prev.tlp === rel.tlp && JSON.stringify(prev.recipients) === JSON.stringify(rel.recipients)) continue;
          const row: RecordRow = { ...prev, json: JSON.stringify(next), tlp: rel.tlp, recipients: rel.recipients, updatedUs: now, rev: prev.rev + 1 };
          if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `exposure ${id} changed during matching; retry`);
          if (becameKev) {
            events.push({ recordId: id, atUs: now, kind: `${EXPOSURE}.kev`, orgId: null, userId: null, json: JSON.stringify({ kev: true, dueDate, cisaDueDate: next.cisaDueDate }) });
            if (prev.state === 'open') escalated.push({ row, doc: next });
          }
          continue;
        }
        const ed: ExposureDoc = {
          orgId: asset.creatorOrg, assetId: asset.id, assetName: doc.name, cve: hit.cve, product: hit.product, confidence: hit.confidence, via: hit.via,
          ...terms, priority: priorityOf(terms), dueDate: dueDateOf(this.policy, terms, nowMs), cisaDueDate: v?.kev?.dueDate ?? null, advisories: [], firstSeen: new Date(nowMs).toISOString(),
        };
        const row: RecordRow = {
          id, kind: EXPOSURE, parentId: asset.id, creatorOrg: asset.creatorOrg, tlp: rel.tlp, recipients: rel.recipients, originNode: null, exerciseId: null,
          state: 'open', createdUs: now, updatedUs: now, rev: 1, json: JSON.stringify(ed),
        };
        fresh.push({ row, doc: ed, hit });
      }
      // A concurrent matcher may have created some meanwhile: those are its to announce.
      const inserted = new Set(await tx.insertRecords(fresh.map((f) => f.row)));
      for (const f of fresh) {
        if (!inserted.has(f.row.id)) continue;
        events.push({ recordId: f.row.id, atUs: f.row.createdUs, kind: `${EXPOSURE}.opened`, orgId: null, userId: null, json: JSON.stringify({ status: 'open', via: f.hit.via, confidence: f.hit.confidence }) });
        created.push({ row: f.row, doc: f.doc });
      }
      await tx.appendRecordEvents(events);
      if (created.length) await this.#audit(tx, actor, { action: 'exposure.match', target: 'exposures', detail: { created: created.length } });
    });
    for (const c of created) {
      this.deps.bus.publish({ type: `${EXPOSURE}.opened`, subject: c.row.id, atUs: c.row.updatedUs, exerciseId: null, facts: factsOf(c.row), data: { cve: c.doc.cve, assetId: c.doc.assetId, kev: c.doc.kev } });
    }
    const alerts = o.alert ? await raiseKevAlerts(this.deps, [...created.filter((c) => c.doc.kev), ...escalated], (cve) => this.#vulns.get(cve) ?? null) : 0;
    return { exposures: created.length, alerts };
  }

  // ---------------------------------------------------------------- exposures

  #exposureView(row: RecordRow): ExposureView {
    return { ...(JSON.parse(row.json) as ExposureDoc), id: row.id, status: row.state as ExposureStatus, rev: row.rev };
  }

  async listExposures(actor: AuthedActor, f: { statuses?: ExposureStatus[]; kev?: boolean; cve?: string; assetId?: string; orgId?: string; limit?: number } = {}): Promise<ExposureView[]> {
    // Every exposure the reader may read in those states: kev, cve and org are fields of the
    // document and priority is computed, so filtering and sorting the newest 1,000 rows (as this
    // did) lost older matches — the web page's KEV list was empty while the summary counted some.
    const rows = await scanRecords(this.deps.store, EXPOSURE, this.deps.access.audienceOf(actor.principal), {
      ...(f.statuses?.length ? { states: f.statuses } : {}), ...(f.assetId ? { parentId: f.assetId } : {}),
    });
    const out = rows.map((r) => this.#exposureView(r)).filter((e) => (f.kev === undefined || e.kev === f.kev) && (!f.cve || e.cve === f.cve) && (!f.orgId || e.orgId === f.orgId));
    out.sort((a, b) => b.priority - a.priority || a.dueDate.localeCompare(b.dueDate));
    return out.slice(0, Math.min(Math.max(f.limit ?? 200, 1), 1000));
  }

  async #loadExposure(actor: AuthedActor, id: string): Promise<RecordRow> {
    const row = await this.deps.store.getRecord(id);
    if (!row || row.kind !== EXPOSURE || !this.#visible(actor, row)) throw new AppError('NOT_FOUND', `no exposure ${id}`);
    return row;
  }

  /** STIX vulnerability objects about a CVE that all the given organisations may read (set by the module: stix.ts). */
  stixObjects: (cve: string, orgIds: readonly string[]) => Promise<{ id: string; name: string | null }[]> = async () => [];

  async getExposure(actor: AuthedActor, id: string): Promise<ExposureView & { history: { at: string; kind: string; orgId: string | null; data: Record<string, unknown> }[]; intel: { id: string; name: string | null }[] }> {
    const row = await this.#loadExposure(actor, id);
    const events = await this.deps.store.listRecordEvents(id);
    const view = this.#exposureView(row);
    // The intel store's objects about this CVE: only those both the exposure's owner and the reader may read.
    const intel = await this.stixObjects(view.cve, [...new Set([row.creatorOrg, actor.principal.orgId])]);
    return { ...view, intel, history: events.map((e) => ({ at: new Date(e.atUs / 1000).toISOString(), kind: e.kind, orgId: e.orgId, data: JSON.parse(e.json) as Record<string, unknown> })) };
  }

  async setStatus(actor: AuthedActor, id: string, p: { status: string; note?: string; rev?: number }): Promise<ExposureView> {
    requirePermission(actor, 'exposure.write');
    if (!EXPOSURE_STATUSES.includes(p.status as ExposureStatus)) throw bad(`status must be one of ${EXPOSURE_STATUSES.join(', ')}`);
    const row = await this.#loadExposure(actor, id);
    if (row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owning organisation changes the status of its exposures');
    if (p.rev !== undefined && p.rev !== row.rev) throw new AppError('CONFLICT', `exposure ${id} is at revision ${row.rev}, not ${p.rev}; reload and retry`);
    return this.#transition(actor, row, { status: p.status as ExposureStatus, note: (p.note ?? '').slice(0, 2000), by: 'user' });
  }

  /** Moves an exposure to a status with a history entry (also used by advisories' VEX statements). */
  async #transition(actor: AuthedActor, row: RecordRow, t: { status: ExposureStatus; note: string; by: string; advisory?: string }): Promise<ExposureView> {
    const doc = JSON.parse(row.json) as ExposureDoc;
    const nextDoc = t.advisory && !doc.advisories.includes(t.advisory) ? { ...doc, advisories: [...doc.advisories, t.advisory] } : doc;
    const next: RecordRow = { ...row, state: t.status, json: JSON.stringify(nextDoc), updatedUs: this.#nowUs(), rev: row.rev + 1 };
    const data = { from: row.state, to: t.status, note: t.note, by: t.by, ...(t.advisory ? { advisory: t.advisory } : {}) };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(next))) throw new AppError('CONFLICT', `exposure ${row.id} was changed by someone else; reload and retry`);
      await tx.appendRecordEvent({ recordId: row.id, atUs: next.updatedUs, kind: `${EXPOSURE}.status`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify(data) });
      await this.#audit(tx, actor, { action: 'exposure.status', target: row.id, detail: data });
    });
    this.deps.bus.publish({ type: `${EXPOSURE}.status`, subject: row.id, atUs: next.updatedUs, exerciseId: null, facts: factsOf(next), data: { cve: doc.cve, ...data } });
    return this.#exposureView(next);
  }

  /** Exposures of the actor's organisation to a CVE (for advisories): rows, not views. */
  async ownExposuresOf(actor: AuthedActor, cve: string): Promise<RecordRow[]> {
    const rows = await scanRecords(this.deps.store, EXPOSURE, { hop: 'local', orgId: actor.principal.orgId, groupIds: [] });
    return rows.filter((r) => r.creatorOrg === actor.principal.orgId && (JSON.parse(r.json) as ExposureDoc).cve === cve);
  }

  async applyVex(actor: AuthedActor, row: RecordRow, t: { status: ExposureStatus; note: string; advisory: string }): Promise<ExposureView> {
    return this.#transition(actor, row, { ...t, by: 'vex' });
  }

  async linkAdvisory(actor: AuthedActor, row: RecordRow, advisory: string): Promise<void> {
    const doc = JSON.parse(row.json) as ExposureDoc;
    if (doc.advisories.includes(advisory)) return;
    const next: RecordRow = { ...row, json: JSON.stringify({ ...doc, advisories: [...doc.advisories, advisory] }), updatedUs: this.#nowUs(), rev: row.rev + 1 };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(next))) throw new AppError('CONFLICT', `exposure ${row.id} changed; retry`);
      await tx.appendRecordEvent({ recordId: row.id, atUs: next.updatedUs, kind: `${EXPOSURE}.advisory`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify({ advisory }) });
    });
  }

  /**
   * The dashboard's figures. `own`: the reader's organisation's open exposures. `alliance`: for
   * each current KEV entry, how many organisations have an open exposure to it — counts only,
   * never which organisation or asset.
   */
  async summary(actor: AuthedActor): Promise<{ own: { open: number; kev: number; overdue: number; byStatus: Record<string, number> }; alliance: { members: number; kev: { cve: string; name: string; members: number }[] } }> {
    const nowDay = new Date(this.deps.clock.now()).toISOString().slice(0, 10);
    const own = await scanRecords(this.deps.store, EXPOSURE, { hop: 'local', orgId: actor.principal.orgId, groupIds: [] });
    const mine = own.filter((r) => r.creatorOrg === actor.principal.orgId).map((r) => this.#exposureView(r));
    const byStatus: Record<string, number> = Object.fromEntries(EXPOSURE_STATUSES.map((s) => [s, 0]));
    for (const e of mine) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    const open = mine.filter((e) => e.status === 'open');
    await this.index();
    const all = await scanOwned(this.deps.store, EXPOSURE);
    const orgsPer = new Map<string, Set<string>>();
    for (const r of all) {
      if (r.state !== 'open') continue;
      const d = JSON.parse(r.json) as ExposureDoc;
      const v = this.#vulns.get(d.cve);
      if (!v?.kev || v.kev.removedAt !== null) continue;
      let s = orgsPer.get(d.cve);
      if (!s) orgsPer.set(d.cve, (s = new Set()));
      s.add(r.creatorOrg);
    }
    const kev = [...orgsPer].map(([cve, s]) => ({ cve, name: this.#vulns.get(cve)?.kev?.vulnerabilityName ?? cve, members: s.size })).sort((a, b) => b.members - a.members || a.cve.localeCompare(b.cve));
    const members = new Set([...orgsPer.values()].flatMap((s) => [...s])).size;
    return { own: { open: open.length, kev: open.filter((e) => e.kev).length, overdue: open.filter((e) => e.dueDate < nowDay).length, byStatus }, alliance: { members, kev } };
  }
}

const TLP_RANK: Record<string, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };
/** The more restrictive of two TLP markings (no marking counts as the least). */
export function stricterTlp(a: Tlp | null, b: Tlp | null): Tlp | null {
  return (TLP_RANK[a ?? ''] ?? -1) >= (TLP_RANK[b ?? ''] ?? -1) ? a : b;
}

export function factsOf(row: RecordRow) {
  return { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode };
}

/** The matcher rules of a vulnerability: its CVE 5 / NVD rules, plus its KEV vendor and product while it is in the catalog. */
export function rulesOf(v: VulnDoc): AffectedRule[] {
  const rules = [...v.affected];
  if (v.kev && v.kev.removedAt === null) rules.push({ kind: 'product', source: `kev:${v.kev.catalog}`, vendor: v.kev.vendorProject, product: v.kev.product });
  return rules;
}
