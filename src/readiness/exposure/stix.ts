/**
 * STIX 2.1 `vulnerability` objects of the intel store as a source of vulnerability intelligence.
 * The source follows the store by its date_added cursor (core/follow.ts, like the correlation
 * index and the indicator feed): commits only nudge it, it catches up in slices off the commit
 * path. For each object (its owner's latest version, as the indicator feed reads them) it keeps
 * the CVEs its `external_references` name (`source_name: cve`) and the CPE names they name
 * (`source_name: cpe`, a CPE 2.3 or 2.2 name as `external_id`), with its release facts.
 *
 * - An object with CVEs and CPEs is matched against the inventories of the organisations that
 *   may read it (release policy and collection grants), never others (ExposureService.matchStix:
 *   the exposure is released no wider than the object, and says `via: stix`, not the object's id).
 * - {@link StixVulnSource.objectsFor} answers which objects about a CVE a set of organisations
 *   may all read: an exposure's view lists only those its owner and its reader may both read.
 * A revoked object (or a version that drops the references) stops counting; exposures it created
 * stay with their history (the member closes them).
 */
import { mayRelease } from '../../access/index.js';
import type { Audience, ReleaseFacts } from '../../core/policy.js';
import { Follower, type FollowSlice, type IndexStatus } from '../../core/follow.js';
import type { IntelService } from '../../intel/index.js';
import type { ObjectRow, Store } from '../../store/index.js';
import { formatCpe, tryParseCpe } from '../cpe/name.js';
import { CVE_ID } from './intel.js';
import type { ExposureService } from './service.js';

interface StixVuln {
  id: string;
  version: string;
  owner: string | null;
  name: string | null;
  cves: string[];
  cpes: string[];
  facts: ReleaseFacts;
  collectionId: string;
}

const POLICY_MAX_AGE_MS = 5_000;
const POLL_MS = 2_000;

/** Sharing groups per organisation and read grants per collection, as of `atMs`. */
interface Policy {
  groups: Map<string, string[]>;
  readers: Map<string, Set<string>>;
  atMs: number;
}

/** The CVEs and CPE names an object's external references name. */
export function referencesOf(obj: Record<string, unknown>): { cves: string[]; cpes: string[] } {
  const refs = Array.isArray(obj['external_references']) ? (obj['external_references'] as Record<string, unknown>[]) : [];
  const cves = new Set<string>();
  const cpes = new Set<string>();
  for (const r of refs) {
    if (typeof r !== 'object' || r === null) continue;
    const src = typeof r['source_name'] === 'string' ? r['source_name'].toLowerCase() : '';
    const ext = typeof r['external_id'] === 'string' ? r['external_id'].trim() : '';
    if (src === 'cve' && CVE_ID.test(ext.toUpperCase())) cves.add(ext.toUpperCase());
    else if (src === 'cpe') {
      const w = tryParseCpe(ext);
      if (w) cpes.add(formatCpe(w));
    }
  }
  // A vulnerability named by its CVE id (as advisories publish them) names that CVE too.
  if (typeof obj['name'] === 'string' && CVE_ID.test(obj['name'].trim().toUpperCase())) cves.add(obj['name'].trim().toUpperCase());
  return { cves: [...cves].sort(), cpes: [...cpes].sort() };
}

export class StixVulnSource {
  #cursor = 0;
  readonly #objects = new Map<string, StixVuln>();
  /** Ids whose owner's versions were dropped (revoked / no CVE): later versions of others never count. */
  readonly #ownerOfDropped = new Map<string, string | null>();
  readonly #byCve = new Map<string, Set<string>>();
  #policy: Policy | null = null;
  readonly #follower = new Follower((limit) => this.#slice(limit), { minRows: 100, maxRows: 2000 });
  #unsubscribe: (() => void) | null = null;
  #matched = 0;

  constructor(private readonly exposures: ExposureService, private readonly deps: { store: Store; intel: IntelService }) {}

  /**
   * Follows the store: nudged by every intel commit of this process, polled for other processes'
   * writes (several API processes on one PostgreSQL each keep the source; the exposures they
   * create have stable ids, so a second process's insert of the same one is a no-op).
   */
  start(): void {
    this.#unsubscribe ??= this.deps.intel.onCommitted(() => this.#follower.nudge());
    this.#follower.poll(POLL_MS);
    this.#follower.nudge();
  }

  /** Catches up now (a read depending on it, or a test). */
  sync(): Promise<number> {
    return this.#follower.sync();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#follower.stop();
    await this.#follower.idle();
  }

  /** Exposures created from STIX objects since the process started. */
  get matched(): number {
    return this.#matched;
  }

  async status(nowMs: number): Promise<IndexStatus> {
    const b = await this.deps.store.backlog({ afterUs: this.#cursor, types: ['vulnerability'] });
    const e = this.#follower.lastError;
    return {
      name: 'stix-vulnerabilities', cursorUs: this.#cursor, behind: b.count, lagMs: b.oldestUs !== null ? Math.max(0, nowMs - Math.floor(b.oldestUs / 1000)) : 0,
      ready: b.count === 0, error: e ? (e instanceof Error ? e.message : String(e)).slice(0, 300) : null,
    };
  }

  async #refreshPolicy(force: boolean): Promise<Policy> {
    if (!force && this.#policy && Date.now() - this.#policy.atMs < POLICY_MAX_AGE_MS) return this.#policy;
    const groups = new Map<string, string[]>();
    for (const o of await this.deps.store.listOrganisations()) groups.set(o.id, await this.deps.store.groupsOfOrg(o.id));
    const readers = new Map<string, Set<string>>();
    for (const a of await this.deps.store.collectionAccess()) {
      if (!a.canRead) continue;
      const s = readers.get(a.collectionId) ?? new Set<string>();
      s.add(a.principal);
      readers.set(a.collectionId, s);
    }
    this.#policy = { groups, readers, atMs: Date.now() };
    return this.#policy;
  }

  /** Whether an organisation of this node may read the object (release facts and the collection's read grants). */
  #mayRead(o: StixVuln, orgId: string, policy: Policy): boolean {
    const groupIds = policy.groups.get(orgId);
    if (!groupIds) return false; // not an organisation of this node
    const audience: Audience = { hop: 'local', orgId, groupIds };
    if (!mayRelease(o.facts, audience, 'read')) return false;
    const readers = policy.readers.get(o.collectionId);
    return !!readers && (readers.has('*') || readers.has(orgId) || groupIds.some((g) => readers.has(g)));
  }

  /** The objects about a CVE that every one of the organisations may read (id and name). */
  async objectsFor(cve: string, orgIds: readonly string[]): Promise<{ id: string; name: string | null }[]> {
    const ids = this.#byCve.get(cve);
    if (!ids?.size) return [];
    const policy = await this.#refreshPolicy(false);
    const out: { id: string; name: string | null }[] = [];
    for (const id of ids) {
      const o = this.#objects.get(id);
      if (o && orgIds.every((org) => this.#mayRead(o, org, policy))) out.push({ id: o.id, name: o.name });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async #slice(limit: number): Promise<FollowSlice> {
    const rows = await this.deps.store.scanObjects({ types: ['vulnerability'], addedAfter: this.#cursor, limit });
    const changed: StixVuln[] = [];
    for (const row of rows) {
      const o = this.#apply(row);
      if (o) changed.push(o);
    }
    if (rows.length) this.#cursor = rows[rows.length - 1]!.dateAdded;
    const matchable = changed.filter((o) => o.cpes.length > 0 && this.#objects.get(o.id) === o);
    if (matchable.length) {
      const policy = await this.#refreshPolicy(true);
      this.#matched += await this.exposures.matchStix(matchable.map((o) => ({ cves: o.cves, cpes: o.cpes, tlp: o.facts.tlp, mayRead: (org: string) => this.#mayRead(o, org, policy) })));
    }
    return { read: rows.length, more: rows.length === limit };
  }

  /** Applies one stored version; returns the object when it now counts (new or changed). */
  #apply(row: ObjectRow): StixVuln | null {
    const cur = this.#objects.get(row.id);
    // As the indicator feed: only the owner's (first stored) versions of an id count.
    const owner = cur ? cur.owner : this.#ownerOfDropped.has(row.id) ? this.#ownerOfDropped.get(row.id) ?? null : row.creatorOrg;
    if (row.creatorOrg !== owner) return null;
    if (cur && cur.version > row.version) return null;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(row.json) as Record<string, unknown>;
    } catch {
      return null;
    }
    const { cves, cpes } = referencesOf(obj);
    if (cur) this.#unindex(cur);
    if (row.revoked || cves.length === 0) {
      this.#objects.delete(row.id);
      this.#ownerOfDropped.set(row.id, owner);
      return null;
    }
    const o: StixVuln = {
      id: row.id, version: row.version, owner, name: typeof obj['name'] === 'string' ? obj['name'].slice(0, 300) : null, cves, cpes,
      facts: { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode }, collectionId: row.collectionId,
    };
    this.#objects.set(row.id, o);
    for (const c of cves) {
      let s = this.#byCve.get(c);
      if (!s) this.#byCve.set(c, (s = new Set()));
      s.add(row.id);
    }
    return o;
  }

  #unindex(o: StixVuln): void {
    for (const c of o.cves) {
      const s = this.#byCve.get(c);
      s?.delete(o.id);
      if (s && !s.size) this.#byCve.delete(c);
    }
  }
}
