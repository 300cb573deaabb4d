/**
 * CSAF 2.0 advisories of the members: imported (VEX too) as records whose release comes from
 * `document.distribution.tlp` (or the member's default when the document has none), linked to
 * the importing organisation's exposures they explain, closing those their VEX statements clear
 * (known_not_affected → false_positive, fixed → mitigated, with the statement in the history);
 * exported as CSAF 2.0; published to the alliance as CSAF (the record's release) and as STIX
 * (vulnerability + course-of-action + `mitigates` relationships) through IntelService.
 */
import { AppError } from '../../core/errors.js';
import type { Tlp } from '../../core/policy.js';
import type { IntelService } from '../../intel/index.js';
import type { RecordRow } from '../../store/index.js';
import { mayRelease } from '../../access/index.js';
import { requirePermission, type AuthedActor } from '../../respond/index.js';
import { cpeMatches, cpeMatchesExceptVersion } from '../cpe/match.js';
import { attr, tryParseCpe } from '../cpe/name.js';
import { compareVersions } from '../cpe/versions.js';
import { CsafError, exportCsaf, parseCsaf, type CsafAdvisory, type CsafProduct } from '../csaf/csaf.js';
import { ADVISORY, type ExposureDoc, type ExposureStatus } from './model.js';
import { stableId } from './records.js';
import type { ExposureService } from './service.js';

export interface AdvisoryDoc {
  summary: CsafAdvisory;
  csaf: Record<string, unknown>;
}

export interface AdvisoryView {
  id: string;
  orgId: string;
  tlp: Tlp | null;
  recipients: string[];
  rev: number;
  trackingId: string;
  title: string;
  category: string;
  publisher: string;
  version: string;
  currentReleaseDate: string;
  cves: string[];
  products: number;
}

export interface VexOutcome {
  exposure: string;
  cve: string;
  status: string;
  action: 'linked' | 'cleared';
}

const TLPS: readonly Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];
const META_DEFAULT_TLP = 'readiness.csaf-default-tlp:';

/** A `product_version_range` in vers (`vers:generic/>=2.9|<=4.1`, `vers:all/*`) or vls (`<=1.14.0`): each constraint must hold. */
export function inVersRange(v: string, range: string): boolean {
  let body = range.trim();
  if (body.startsWith('vers:')) {
    const slash = body.indexOf('/');
    body = slash === -1 ? '' : body.slice(slash + 1);
  }
  if (body === '*' || body === '') return true;
  return body.split('|').every((c) => {
    const m = /^(>=|<=|!=|<|>|=)?\s*(.+)$/.exec(c.trim());
    if (!m) return false;
    const cmp = compareVersions(v, m[2]!);
    switch (m[1] ?? '=') {
      case '>=': return cmp >= 0;
      case '<=': return cmp <= 0;
      case '<': return cmp < 0;
      case '>': return cmp > 0;
      case '!=': return cmp !== 0;
      default: return cmp === 0;
    }
  });
}

/** Whether a CSAF product names an inventory product (the CSAF CPE as the pattern, its version range applied). */
export function productCovers(p: CsafProduct, inventoryCpe: string): boolean {
  const t = tryParseCpe(inventoryCpe);
  const s = p.cpe ? tryParseCpe(p.cpe) : null;
  if (!t || !s) return false;
  if (!p.versionRange) return cpeMatches(s, t);
  if (!cpeMatchesExceptVersion(s, t)) return false;
  const v = attr(t, 'version');
  return v.kind === 'str' && v.pre.kind === 'none' && v.post.kind === 'none' && inVersRange(v.mid, p.versionRange);
}

export class AdvisoryService {
  constructor(private readonly exposures: ExposureService, private readonly intel: IntelService) {}

  get #deps() {
    return this.exposures.deps;
  }

  #visible(actor: AuthedActor, row: RecordRow): boolean {
    return mayRelease({ tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode }, this.#deps.access.audienceOf(actor.principal), 'read');
  }

  async #audit(actor: AuthedActor, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    const p = actor.principal;
    await this.#deps.store.appendAudit({ atUs: this.#deps.clock.now() * 1000, userId: p.userId, orgId: p.orgId, tokenId: p.tokenId, source: actor.source, action, target, detail: JSON.stringify(detail).slice(0, 8000) });
  }

  /** The organisation's TLP for CSAF documents without one (never silently CLEAR). */
  async defaultTlp(orgId: string): Promise<Tlp> {
    const v = await this.#deps.store.getMeta(`${META_DEFAULT_TLP}${orgId}`);
    return TLPS.includes(v as Tlp) ? (v as Tlp) : 'amber';
  }

  async setDefaultTlp(actor: AuthedActor, tlp: string): Promise<{ tlp: Tlp }> {
    requirePermission(actor, 'advisory.write');
    if (!TLPS.includes(tlp as Tlp)) throw new AppError('BAD_REQUEST', `tlp must be one of ${TLPS.join(', ')}`);
    await this.#deps.store.setMeta(`${META_DEFAULT_TLP}${actor.principal.orgId}`, tlp);
    await this.#audit(actor, 'advisory.default-tlp', actor.principal.orgId, { tlp });
    return { tlp: tlp as Tlp };
  }

  #view(row: RecordRow): AdvisoryView {
    const s = (JSON.parse(row.json) as AdvisoryDoc).summary;
    return {
      id: row.id, orgId: row.creatorOrg, tlp: row.tlp, recipients: row.recipients, rev: row.rev, trackingId: s.trackingId, title: s.title, category: s.category,
      publisher: s.publisher, version: s.version, currentReleaseDate: s.currentReleaseDate, cves: [...new Set(s.vulnerabilities.flatMap((v) => (v.cve ? [v.cve] : [])))], products: s.products.length,
    };
  }

  async import(actor: AuthedActor, csaf: unknown, o: { recipients?: string[]; defaultTlp?: Tlp } = {}): Promise<{ advisory: AdvisoryView; outcomes: VexOutcome[] }> {
    requirePermission(actor, 'advisory.write');
    let summary: CsafAdvisory;
    try {
      summary = parseCsaf(csaf);
    } catch (e) {
      throw new AppError('BAD_REQUEST', e instanceof CsafError ? e.message : `not a CSAF document: ${String(e)}`);
    }
    if (o.defaultTlp !== undefined && !TLPS.includes(o.defaultTlp)) throw new AppError('BAD_REQUEST', `defaultTlp must be one of ${TLPS.join(', ')}`);
    const org = actor.principal.orgId;
    const tlp = summary.tlp ?? o.defaultTlp ?? (await this.defaultTlp(org));
    const recipients = [...new Set(o.recipients ?? [])];
    const orgs = new Set((await this.#deps.store.listOrganisations()).map((x) => x.id));
    for (const r of recipients) if (!orgs.has(r) && !/^identity--[0-9a-f-]{36}$/.test(r)) throw new AppError('BAD_REQUEST', `unknown recipient ${r}`);
    const id = stableId(ADVISORY, org, summary.trackingId);
    const nowUs = this.#deps.clock.now() * 1000;
    const doc: AdvisoryDoc = { summary, csaf: csaf as Record<string, unknown> };
    let row!: RecordRow;
    await this.#deps.store.transaction(async (tx) => {
      const prev = await tx.getRecord(id);
      if (prev && prev.creatorOrg !== org) throw new AppError('CONFLICT', `${id} exists`);
      row = prev
        ? { ...prev, json: JSON.stringify(doc), tlp, recipients, updatedUs: nowUs, rev: prev.rev + 1 }
        : { id, kind: ADVISORY, parentId: null, creatorOrg: org, tlp, recipients, originNode: null, exerciseId: null, state: 'imported', createdUs: nowUs, updatedUs: nowUs, rev: 1, json: JSON.stringify(doc) };
      if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `${id} was changed by someone else; retry`);
      await tx.appendRecordEvent({ recordId: id, atUs: nowUs, kind: prev ? `${ADVISORY}.updated` : `${ADVISORY}.imported`, orgId: org, userId: actor.principal.userId, json: JSON.stringify({ trackingId: summary.trackingId, version: summary.version }) });
      await tx.appendAudit({ atUs: nowUs, userId: actor.principal.userId, orgId: org, tokenId: actor.principal.tokenId, source: actor.source, action: 'advisory.import', target: id, detail: JSON.stringify({ trackingId: summary.trackingId, tlp, fromDocument: summary.tlp !== null }) });
    });
    const outcomes = await this.#apply(actor, row.id, summary);
    return { advisory: this.#view(row), outcomes };
  }

  /** Links the organisation's exposures to the advisory's statements, closing the ones VEX clears. */
  async #apply(actor: AuthedActor, advisoryId: string, s: CsafAdvisory): Promise<VexOutcome[]> {
    const out: VexOutcome[] = [];
    for (const v of s.vulnerabilities) {
      if (!v.cve) continue;
      const rows = await this.exposures.ownExposuresOf(actor, v.cve);
      for (const row of rows) {
        const e = JSON.parse(row.json) as ExposureDoc;
        const covering = s.products.filter((p) => productCovers(p, e.product)).map((p) => p.id);
        if (covering.length === 0) continue;
        const inBucket = (b: keyof typeof v.status) => covering.find((pid) => v.status[b]?.includes(pid));
        const notAffected = inBucket('known_not_affected');
        const fixed = inBucket('fixed') ?? inBucket('first_fixed');
        let target: ExposureStatus | null = null;
        let note = '';
        if (notAffected) {
          target = 'false_positive';
          note = `VEX ${s.trackingId}: known_not_affected (${v.flags[notAffected] ?? (v.impacts[notAffected] ? 'impact statement' : 'no justification')})`;
        } else if (fixed) {
          target = 'mitigated';
          note = `VEX ${s.trackingId}: fixed in ${s.products.find((p) => p.id === fixed)?.name ?? fixed}`;
        }
        if (target && row.state === 'open') {
          await this.exposures.applyVex(actor, row, { status: target, note, advisory: advisoryId });
          out.push({ exposure: row.id, cve: v.cve, status: target, action: 'cleared' });
        } else {
          await this.exposures.linkAdvisory(actor, row, advisoryId);
          out.push({ exposure: row.id, cve: v.cve, status: row.state, action: 'linked' });
        }
      }
    }
    return out;
  }

  async list(actor: AuthedActor, limit = 200): Promise<AdvisoryView[]> {
    const rows = await this.#deps.store.listRecords({ kind: ADVISORY, audience: this.#deps.access.audienceOf(actor.principal), purpose: 'read', limit: Math.min(Math.max(limit, 1), 1000) });
    return rows.map((r) => this.#view(r));
  }

  async #load(actor: AuthedActor, id: string): Promise<RecordRow> {
    const row = await this.#deps.store.getRecord(id);
    if (!row || row.kind !== ADVISORY || !this.#visible(actor, row)) throw new AppError('NOT_FOUND', `no advisory ${id}`);
    return row;
  }

  async get(actor: AuthedActor, id: string): Promise<AdvisoryView & { vulnerabilities: CsafAdvisory['vulnerabilities']; productList: CsafAdvisory['products'] }> {
    const row = await this.#load(actor, id);
    const s = (JSON.parse(row.json) as AdvisoryDoc).summary;
    return { ...this.#view(row), vulnerabilities: s.vulnerabilities, productList: s.products };
  }

  /** The advisory as CSAF 2.0, its distribution set from the record's release. */
  async exportCsaf(actor: AuthedActor, id: string): Promise<Record<string, unknown>> {
    const row = await this.#load(actor, id);
    return exportCsaf((JSON.parse(row.json) as AdvisoryDoc).csaf, row.tlp);
  }

  /**
   * Publishes to the alliance: the advisory's release becomes `tlp` / `recipients` (CSAF readers
   * get it through the advisory routes), and its vulnerabilities and remediations go into the
   * collection as STIX. Ids are stable per (organisation, advisory, CVE, remediation) and
   * `modified` is the advisory's current release date, so a re-publication of the same
   * version is the same STIX content.
   */
  async publish(actor: AuthedActor, id: string, o: { collection: string; tlp?: Tlp; recipients?: string[] }): Promise<{ advisory: AdvisoryView; stix: { id: string; status: string }[] }> {
    requirePermission(actor, 'advisory.write');
    const row = await this.#load(actor, id);
    if (row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the importing organisation publishes its advisory');
    const tlp = o.tlp ?? row.tlp ?? 'amber';
    if (!TLPS.includes(tlp)) throw new AppError('BAD_REQUEST', `tlp must be one of ${TLPS.join(', ')}`);
    const s = (JSON.parse(row.json) as AdvisoryDoc).summary;
    const objects = advisoryToStix(row.creatorOrg, s);
    const results = await this.intel.submit(actor, o.collection, objects, { defaultTlp: tlp, recipients: o.recipients ?? [] });
    const next: RecordRow = { ...row, tlp, recipients: [...new Set(o.recipients ?? row.recipients)], state: 'published', updatedUs: this.#deps.clock.now() * 1000, rev: row.rev + 1 };
    await this.#deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(next))) throw new AppError('CONFLICT', `${id} was changed by someone else; retry`);
      await tx.appendRecordEvent({ recordId: id, atUs: next.updatedUs, kind: `${ADVISORY}.published`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify({ collection: o.collection, tlp }) });
    });
    await this.#audit(actor, 'advisory.publish', id, { collection: o.collection, tlp, objects: objects.length });
    return { advisory: this.#view(next), stix: results.map((r) => ({ id: String((r as { id?: unknown }).id ?? ''), status: String((r as { status?: unknown }).status ?? '') })) };
  }
}

function stixTime(s: string): string {
  const t = Date.parse(s);
  return new Date(Number.isFinite(t) ? t : 0).toISOString();
}

/** STIX 2.1: one vulnerability per CVE, one course-of-action per remediation, `mitigates` relationships. */
export function advisoryToStix(org: string, s: CsafAdvisory): Record<string, unknown>[] {
  const at = stixTime(s.currentReleaseDate);
  const sid = (type: string, ...parts: string[]) => stableId(type, org, s.trackingId, ...parts);
  const out: Record<string, unknown>[] = [];
  for (const v of s.vulnerabilities) {
    if (!v.cve) continue;
    const vid = sid('vulnerability', v.cve);
    out.push({
      type: 'vulnerability', spec_version: '2.1', id: vid, created: at, modified: at, name: v.cve,
      ...(v.title ? { description: v.title } : {}),
      external_references: [{ source_name: 'cve', external_id: v.cve }, { source_name: 'csaf', external_id: s.trackingId, description: `${s.publisher}: ${s.title}` }],
    });
    v.remediations.forEach((r, i) => {
      const cid = sid('course-of-action', v.cve!, String(i));
      out.push({ type: 'course-of-action', spec_version: '2.1', id: cid, created: at, modified: at, name: `${r.category.replace(/_/g, ' ')}: ${v.cve}`, description: r.details || r.category });
      out.push({ type: 'relationship', spec_version: '2.1', id: sid('relationship', v.cve!, String(i)), created: at, modified: at, relationship_type: 'mitigates', source_ref: cid, target_ref: vid });
    });
  }
  return out;
}
